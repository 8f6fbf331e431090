"""Verifying under-trained token candidates by prompting: does the model ever say the token?

Land & Bartolo 2024, "Fishing for Magikarp: Automatically Detecting Under-trained Tokens in Large
Language Models" (EMNLP 2024, arXiv:2405.05417), confirm each candidate that the weights point
to by asking the model to repeat it. A token the model was trained on comes back with a
sizeable probability; an under-trained one does not. Their criterion, used here: the largest
probability the model gives the token's id at the first ``STEPS`` positions of its (greedy)
reply, over all repeat prompts, is below ``THRESHOLD`` (1%).

    v = verify(lm, [48047, 278])        # Verification: max_prob (M,), verified (M,) ...

Two prompts, both written with the model's own chat template (the GGUF field
``tokenizer.chat_template``, rendered with jinja2's sandbox; a model without one gets ChatML,
``<|im_start|>role\\n...<|im_end|>\\n``, written directly):

- ``repeat``: the user asks "Please repeat the following string exactly: «X»"; the assistant's
  reply is pre-filled with "«", so the next position is where X should come back.
- ``two-shot``: the same request after two solved turns («hello world», «Mississippi»).

Why these: SmolLM2-135M is small. Asked plainly, it often answers "The string is ..." and
puts X later than three steps: 18 of 40 random ordinary tokens then fell under 1%. With the
reply pre-filled, or with two worked examples, ordinary English tokens come back at 4% to 70%.

The candidate goes in as its id, between the ids of the text before and after it (each encoded
on its own, the template's special tokens read as special), so a token whose text would merge
with its neighbours is still the token asked about.

Batching: the prompt up to "«" is a prefix shared by every candidate; ``TokenNet.branches``
keeps its key/value cache, and each candidate is a tail ``[id] + rest of the prompt + reply so
far`` run with the other tails of its chunk in one forward pass (a tree mask keeps them apart).
The whole verification holds ``lm.net.lock``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import InvalidInput
from .chat import ChatTemplate, render_messages

THRESHOLD = 0.01  # verified under-trained: max probability below this (the paper's 1%)
STEPS = 3  # reply positions looked at (greedy)
CHUNK = 32  # candidates per forward pass
ASK = "Please repeat the following string exactly: «{}»"
EXAMPLES = ("hello world", "Mississippi")  # the two-shot prompt's solved turns
PLACEHOLDER = "\ue000"  # a private-use character: stands for the candidate while the template renders


@dataclass(frozen=True)
class RepeatPrompt:
    """One verification prompt, split around the candidate token."""

    name: str  # "repeat" | "two-shot"
    before: tuple[int, ...]  # ids up to the candidate (the shared prefix)
    after: tuple[int, ...]  # ids after it, up to where the reply is read (a pre-filled "«" included)
    text: str  # the whole prompt as text, the candidate written {token}


@dataclass
class Verification:
    """Prompting results for M tokens."""

    ids: np.ndarray  # (M,) the token ids asked about
    max_prob: np.ndarray  # (M,) largest p(id) over prompts and reply positions
    prompt_prob: np.ndarray  # (P, M) the same per prompt
    replies: list[str]  # greedy reply to the first prompt, for people (U+FFFD where bytes are cut)
    threshold: float
    steps: int
    prompts: tuple[RepeatPrompt, ...]
    seconds: float
    template: str  # where the chat template came from
    notes: list[str] = field(default_factory=list)

    @property
    def verified(self) -> np.ndarray:
        """(M,) bool: under-trained by the paper's criterion (max_prob < threshold)."""
        return self.max_prob < self.threshold

    def of(self, token_id: int) -> tuple[bool, float] | None:
        """(verified, max_prob) of one token, or None if it was not asked about."""
        where = np.flatnonzero(self.ids == token_id)
        if not len(where):
            return None
        k = int(where[0])
        return bool(self.verified[k]), float(self.max_prob[k])


# ---- the chat template ---------------------------------------------------------------------

def chat_template(lm) -> tuple[ChatTemplate | None, str]:
    """(the model's chat template, or None, and where it came from) for ``lm``."""
    if getattr(lm, "info", None) is not None and lm.info.name == "lm/smollm2-135m":
        from .chat import chat_template as gguf_template

        try:
            tpl = gguf_template()  # SmolLM2's GGUF, read once
        except InvalidInput:  # the GGUF carries none
            tpl = None
        if tpl is not None:
            return tpl, f"{tpl.origin}, rendered with jinja2's sandbox"
    return None, "ChatML written directly (the model carries no chat template)"


def render_chat(template: ChatTemplate | None, messages: Sequence[dict]) -> str:
    """The conversation as text, ending where the assistant's reply starts."""
    if template is None:
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n"
    return render_messages(template, messages)


def _split(lm, name: str, text: str, prefill: str) -> RepeatPrompt:
    head, found, tail = text.partition(PLACEHOLDER)
    if not found or PLACEHOLDER in tail:
        raise ValueError("the chat template must hold the candidate exactly once")
    enc = lm.vocab.encode
    return RepeatPrompt(name, tuple(enc(head)), tuple(enc(tail + prefill)),
                        head + "{token}" + tail + prefill)


def repeat_prompts(lm) -> tuple[tuple[RepeatPrompt, ...], str]:
    """(the verification prompts, where the chat template came from)."""
    tpl, where = chat_template(lm)
    ask = [{"role": "user", "content": ASK.format(PLACEHOLDER)}]
    shots: list[dict] = []
    for ex in EXAMPLES:
        shots += [{"role": "user", "content": ASK.format(ex)}, {"role": "assistant", "content": f"«{ex}»"}]
    return (_split(lm, "repeat", render_chat(tpl, ask), "«"),
            _split(lm, "two-shot", render_chat(tpl, shots + ask), "")), where


def template_special_ids(lm) -> set[int]:
    """Control tokens the chat template itself writes (``<|im_start|>``, ``<|im_end|>``)."""
    tpl, _ = chat_template(lm)
    text = render_chat(tpl, [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}])
    return {i for i in lm.vocab.encode(text) if lm.vocab.special[i]}


# ---- prompting -----------------------------------------------------------------------------

def _ask(lm, prompt: RepeatPrompt, ids: list[int], steps: int) -> tuple[np.ndarray, list[list[int]]]:
    """(max p(id) over ``steps`` reply positions (M,), greedy replies) for one prompt and chunk."""
    best = np.zeros(len(ids))  # (M,)
    replies: list[list[int]] = [[] for _ in ids]
    rows = np.arange(len(ids))
    for _ in range(steps):
        tails = [[i, *prompt.after, *r] for i, r in zip(ids, replies)]
        lp = lm.net.branches(list(prompt.before), tails).next_logprobs  # (M, V)
        best = np.maximum(best, np.exp(lp[rows, ids]))
        for r, t in zip(replies, lp.argmax(axis=1).tolist()):
            r.append(int(t))
    return best, replies


def verify(lm, ids: Sequence[int], threshold: float = THRESHOLD, steps: int = STEPS,
           chunk: int = CHUNK) -> Verification:
    """Ask ``lm`` to repeat each token of ``ids``; see the module docstring for the criterion."""
    ids = [int(i) for i in ids]
    V = len(lm.vocab.token_bytes)
    bad = [i for i in ids if not 0 <= i < V]
    if bad:
        raise InvalidInput(f"token ids must be in 0..{V - 1}; got {bad[:5]}")
    if not 0 < threshold < 1 or not 1 <= steps <= 16:
        raise InvalidInput(f"threshold must be in (0, 1) and steps in 1..16 (got {threshold}, {steps})")
    t0 = time.perf_counter()
    prompts, where = repeat_prompts(lm)
    prob = np.zeros((len(prompts), len(ids)))  # (P, M)
    first: list[list[int]] = []
    with lm.net.lock:
        for p, prompt in enumerate(prompts):
            for s in range(0, len(ids), chunk):
                best, replies = _ask(lm, prompt, ids[s:s + chunk], steps)
                prob[p, s:s + chunk] = best
                if p == 0:
                    first += replies
    tb = lm.vocab.token_bytes
    text = [b"".join(tb[t] for t in r).decode("utf-8", errors="replace") for r in first]
    return Verification(ids=np.asarray(ids, dtype=np.int64), max_prob=prob.max(axis=0) if ids else np.zeros(0),
                        prompt_prob=prob, replies=text, threshold=threshold, steps=steps, prompts=prompts,
                        seconds=time.perf_counter() - t0, template=where)
