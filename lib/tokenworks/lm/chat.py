"""A message as the model sees it in a chat: its own chat template applied, then tokenized.

    c = apply_chat_template(lm, "What is the capital of France?")
    c.n_tokens, c.message_tokens        # e.g. 37 tokens in all, 8 of them the message's
    c.special                           # {'<|im_start|>': 3, '<|im_end|>': 2}: special tokens the template added
    c.added_text                        # ['system\\nYou are a helpful AI assistant named SmolLM, ...', '\\n', 'user\\n', ...]
    c.system_prompt                     # the default system prompt the template inserted ('' when none)

Token counts differ between tools because of what a chat template adds (tiktokenizer's most
requested feature, dqbd/tiktokenizer#9 and #17): here every special token and every piece of text
the template wrapped around the message is listed. The template is the model's own, the GGUF
field ``tokenizer.chat_template`` (a Jinja template, as in HF tokenizers), rendered in Jinja's
sandbox with ``messages=[{"role": "user", "content": text}]`` and ``add_generation_prompt=True``.
The templated text is tokenized with special-token strings read as the special tokens.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..core import TokenSeq
from ..errors import InvalidInput

SENTINEL = "\ue000tokenworks-message\ue000"  # a private-use marker: where the message goes in the template


@dataclass(frozen=True)
class ChatTemplate:
    """The model's chat template and the special tokens it may name."""

    source: str  # the Jinja text
    bos_token: str  # the GGUF's bos/eos token strings, as templates may use them
    eos_token: str
    origin: str  # where it was read from


@dataclass
class ChatTokens:
    """A message with the chat template applied, tokenized (T tokens in all)."""

    message: str  # the text given
    text: str  # the templated text
    tokens: TokenSeq  # its T tokens, special tokens included
    n_tokens: int  # T
    message_tokens: int  # tokens of the message alone (tokenized without the template)
    special: dict[str, int]  # special token -> how many times the template added it
    added_text: list[str]  # the other text the template added around the message, in order
    system_prompt: str  # a default system prompt the template inserted ("" when it added none)
    message_span: tuple[int, int] | None  # token positions [start, end) of the message inside ``tokens``
    origin: str = ""  # where the template came from
    notes: list[str] = field(default_factory=list)

    @property
    def added_tokens(self) -> int:
        """Tokens the template added: T minus the message's own."""
        return self.n_tokens - self.message_tokens

    @property
    def special_total(self) -> int:
        return sum(self.special.values())


@lru_cache(maxsize=4)
def _read_template(path: str) -> ChatTemplate:
    import gguf

    reader = gguf.GGUFReader(path)

    def value(key: str):
        f = reader.fields.get(key)
        return None if f is None else f.contents()

    source = value("tokenizer.chat_template")
    if not source:
        raise InvalidInput(f"{Path(path).name} has no chat template (GGUF field tokenizer.chat_template)")
    tokens = value("tokenizer.ggml.tokens") or []

    def token(key: str) -> str:
        i = value(key)
        return tokens[int(i)] if i is not None and 0 <= int(i) < len(tokens) else ""

    return ChatTemplate(source=str(source), bos_token=token("tokenizer.ggml.bos_token_id"),
                        eos_token=token("tokenizer.ggml.eos_token_id"),
                        origin=f"{Path(path).name}: tokenizer.chat_template")


def chat_template(path: str | Path | None = None) -> ChatTemplate:
    """The chat template of a GGUF (default: SmolLM2's, asset ``smollm2-135m``), read once."""
    if path is None:
        from ..text.smollm2 import gguf_path

        path = gguf_path()  # AssetMissing names `tokenworks assets fetch smollm2-135m`
    return _read_template(str(path))


def _raise(message: str):
    raise InvalidInput(f"the chat template refused the message: {message}")


def render(template: ChatTemplate, message: str) -> str:
    """The template rendered for one user message, with the assistant's turn opened."""
    return render_messages(template, [{"role": "user", "content": message}])


def render_messages(template: ChatTemplate, messages: Sequence[dict]) -> str:
    """A conversation rendered with the template in Jinja's sandbox, ending where the assistant's
    reply starts; a template that fails (or reaches for Python's internals) raises InvalidInput."""
    from jinja2 import TemplateError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = _raise
    try:
        return env.from_string(template.source).render(
            messages=list(messages), add_generation_prompt=True,
            bos_token=template.bos_token, eos_token=template.eos_token)
    except TemplateError as e:
        raise InvalidInput(f"the chat template ({template.origin}) failed: {e}") from None


def _pieces(text: str, names: list[str]) -> list[str]:
    """``text`` cut at special-token strings, those left out, empty pieces dropped."""
    if not names:
        return [text] if text else []
    pattern = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    return [p for p in re.split(pattern, text) if p]


def _count_special(vocab, ids: list[int]) -> dict[str, int]:
    """Special token name -> how many times it is in ``ids``."""
    out: dict[str, int] = {}
    for i in ids:
        if vocab.special[i]:
            name = vocab.special_names[int(i)]
            out[name] = out.get(name, 0) + 1
    return out


def _find(ids: list[int], sub: list[int]) -> int | None:
    """First position of ``sub`` inside ``ids`` (None when it is not there)."""
    n = len(sub)
    if n == 0:
        return None
    for i in range(len(ids) - n + 1):
        if ids[i:i + n] == sub:
            return i
    return None


def apply_chat_template(lm, message: str, template: ChatTemplate | None = None) -> ChatTokens:
    """``message`` as one user turn in ``lm``'s chat template, tokenized with its special tokens."""
    if not isinstance(message, str):
        raise InvalidInput(f"a chat message is text (str), not {type(message).__name__}")
    template = template or chat_template()
    text = render(template, message)
    marked = render(template, SENTINEL)  # where the template puts the message
    before, found, after = marked.partition(SENTINEL)
    notes = []
    if not found or before + message + after != text:
        notes.append("the template changes the message as it inserts it; the added text is measured without it")
        before, after = text, ""
    seq = lm.tokenizer.encode(text)
    ids = seq.ids.tolist()
    msg_ids = lm.tokenizer.encode(message).ids.tolist() if message else []
    special = _count_special(lm.vocab, ids)
    own = _count_special(lm.vocab, msg_ids)
    if own:
        notes.append("the message itself holds special-token strings, read as special tokens: "
                     + ", ".join(f"{n} x{c}" for n, c in own.items()) + " (not counted as added)")
        special = {n: c - own.get(n, 0) for n, c in special.items() if c - own.get(n, 0) > 0}
    start = _find(ids, msg_ids)
    span = (start, start + len(msg_ids)) if start is not None else None
    if message and span is None:
        notes.append("the message's tokens merge with the template's text around it, so they are not a "
                     "contiguous run of the templated tokens")
    names = list(lm.vocab.special_names.values())
    added = _pieces(before, names) + _pieces(after, names)
    system = ""
    for piece in added:
        if piece.startswith("system\n"):  # ChatML (<|im_start|>system\n...): a system turn the template wrote
            system = piece[len("system\n"):].rstrip("\n")
            notes.append(f"the template inserts a default system prompt: {system!r}")
    return ChatTokens(message=message, text=text, tokens=seq, n_tokens=len(ids), message_tokens=len(msg_ids),
                      special=special, added_text=added, system_prompt=system, message_span=span,
                      origin=template.origin, notes=notes)

