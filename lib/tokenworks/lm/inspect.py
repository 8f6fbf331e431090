"""What the app's LM tab (and a notebook) asks of a language model, with its limits checked.

    a = analyze(lm, "The capital of France is Paris.")        # LMAnalysis: surprisal, bits per byte
    a.next_tokens(3)                                           # NextTokens: the 10 likeliest after token 3
    a = analyze(lm, "What is 2 + 2?", chat=True)              # the chat template applied, its tokens counted
    m = midword(lm, "The capital of France is Par")           # MidwordAnalysis: naive / healing / exact
    m.next["exact"].char_probs(3), m.by_tokens.text, m.by_bytes.text

Every bad input raises ``InvalidInput`` saying what was wrong and what is allowed: empty text,
text over ``MAX_TEXT_CHARS``, a prefix over ``MAX_PREFIX_CHARS`` or made only of special tokens,
a generation over ``MAX_GENERATE_BYTES``; ``read_text_upload`` refuses a file that is not UTF-8
text, naming the byte offset where decoding failed. A missing model asset is ``AssetMissing``
from ``load_lm``, whose message names ``tokenworks assets fetch smollm2-135m``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput
from ..text._common import bytes_label
from .byte_probs import METHODS, NextBytes
from .chat import ChatTokens, apply_chat_template
from .model import Generation
from .score import ScoreResult

MAX_TEXT_CHARS = 4_000  # characters of text the tab scores (the message, in chat mode)
MAX_PREFIX_CHARS = 1_000  # characters of a mid-word prefix
MAX_GENERATE_BYTES = 48  # bytes a greedy continuation may add
DEFAULT_GENERATE_BYTES = 16  # exact runs once per byte: 0.3 to 0.8 s each here (1 torch thread, 2 shared cores)
MAX_UPLOAD_BYTES = 64 * 1024  # a .txt upload is read only up to this size (4,000 characters fit easily)
TOP_K = 10  # next tokens and next bytes shown


def check_text(text: Any, max_chars: int = MAX_TEXT_CHARS) -> str:
    """``text`` when it is a non-empty str of at most ``max_chars`` characters."""
    if not isinstance(text, str):
        raise InvalidInput(f"the text must be a string, not {type(text).__name__}")
    if not text:
        raise InvalidInput(f"the text is empty: type, paste or upload up to {max_chars:,} characters to score")
    if len(text) > max_chars:
        raise InvalidInput(f"the text has {len(text):,} characters; the LM tab scores at most {max_chars:,}. "
                           "Paste a shorter piece.")
    return text


def check_prefix(lm, prefix: Any) -> str:
    """A mid-word prefix: 1 to ``MAX_PREFIX_CHARS`` characters, with some text besides special tokens."""
    if not isinstance(prefix, str):
        raise InvalidInput(f"the prefix must be a string, not {type(prefix).__name__}")
    if not prefix:
        raise InvalidInput("the prefix is empty: give a prompt that ends inside a word, e.g. "
                           "'The capital of France is Par'")
    if len(prefix) > MAX_PREFIX_CHARS:
        raise InvalidInput(f"the prefix has {len(prefix):,} characters; the mid-word panel takes at most "
                           f"{MAX_PREFIX_CHARS:,}")
    ids = lm.vocab.encode(prefix)
    if ids and all(lm.vocab.special[i] for i in ids):
        names = ", ".join(dict.fromkeys(lm.vocab.special_names[int(i)] for i in ids))
        raise InvalidInput(f"the prefix is only special tokens ({names}); they stand for no bytes, so the "
                           "byte-level view needs some text after special tokens, e.g. "
                           f"{prefix + 'The capital of France is Par'!r}")
    return prefix


def check_length(max_bytes: Any) -> int:
    """A generation length in 1..``MAX_GENERATE_BYTES`` bytes."""
    try:
        n = float(max_bytes)
    except (TypeError, ValueError):
        n = float("nan")
    if not (np.isfinite(n) and n.is_integer() and 1 <= n <= MAX_GENERATE_BYTES):
        raise InvalidInput(f"the generation length is a whole number of bytes from 1 to {MAX_GENERATE_BYTES} "
                           f"(got {max_bytes!r})")
    return int(n)


def read_text_upload(path: str | os.PathLike, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """An uploaded .txt file as text: UTF-8 (a BOM is dropped), at most ``MAX_TEXT_CHARS`` characters;
    invalid UTF-8 is refused with the byte offset where decoding failed."""
    from ..text.upload import decode_corpus

    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"the upload {p.name!r} is gone or not a file; upload it again")
    size = p.stat().st_size
    if size > max_bytes:
        raise InvalidInput(f"{p.name} is {size:,} bytes; the LM tab reads text files up to {max_bytes:,} bytes "
                           f"and scores at most {MAX_TEXT_CHARS:,} characters")
    text, _ = decode_corpus(p.read_bytes(), p.name)
    try:
        return check_text(text)
    except InvalidInput as e:
        raise InvalidInput(f"{p.name}: {e}") from None


# ---- scoring ---------------------------------------------------------------------------------

@dataclass
class NextTokens:
    """The model's prediction after token ``index`` (k alternatives)."""

    index: int  # the token the prediction follows
    token: str  # its label
    labels: list[str]  # the k likeliest next tokens, likeliest first
    ids: np.ndarray  # (k,)
    probs: np.ndarray  # (k,)
    entropy: float  # bits, of the whole next-token distribution
    actual: str | None  # the token that does come next in the text (None after the last)
    actual_prob: float | None
    actual_rank: int | None  # 1-based among the k shown; None when it is not among them


def token_label(vocab, i: int) -> str:
    """A vocabulary entry as text: a special token by its name, others by their bytes."""
    if vocab.special[i]:
        return vocab.special_names[int(i)]
    return bytes_label(vocab.token_bytes[i])


@dataclass
class LMAnalysis:
    """A text scored by a language model (T tokens); in chat mode, the templated text."""

    model: str
    text: str  # the text given (the message, in chat mode)
    scored: str  # the text the model scored: ``text``, or the chat template applied to it
    score: ScoreResult
    chat: ChatTokens | None
    vocab: Any = field(repr=False)  # the model's TokenVocab (labels of the next tokens)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    notes: list[str] = field(default_factory=list)

    @property
    def n_tokens(self) -> int:
        return len(self.score.logprobs)

    @property
    def bits_per_byte(self) -> float:
        return self.score.bits_per_byte

    @property
    def total_bits(self) -> float:
        return self.score.total_bits

    @cached_property
    def labels(self) -> list[str]:
        """(T,) each token's text (special tokens by name), as the views show it."""
        data = self.scored.encode("utf-8", "surrogatepass")
        return [bytes_label(data[s.byte_start:s.byte_end]) for s in self.score.tokens.spans]

    @property
    def special(self) -> np.ndarray:
        """(T,) bool: special tokens (chat markers)."""
        return np.asarray(self.vocab.special)[self.score.tokens.ids]

    def message_bits(self) -> tuple[float, int] | None:
        """Chat mode: (bits, UTF-8 bytes) of the message's own tokens inside the template; else None."""
        if self.chat is None or self.chat.message_span is None:
            return None
        a, b = self.chat.message_span
        return float(self.score.surprisal[a:b].sum()), len(self.text.encode("utf-8", "surrogatepass"))

    def check_index(self, i: Any) -> int:
        """A token position in 0..T-1 (a control's float too); InvalidInput otherwise."""
        try:
            n = float(i)
        except (TypeError, ValueError):
            n = float("nan")
        if not (np.isfinite(n) and n.is_integer() and 0 <= n < self.n_tokens):
            raise InvalidInput(f"token # is a whole number from 0 to {self.n_tokens - 1} (got {i!r})")
        return int(n)

    def next_tokens(self, i: Any, k: int = TOP_K) -> NextTokens:
        """The k likeliest tokens after token i, their probabilities and the entropy."""
        i = self.check_index(i)
        ids, probs, ent = self.score.after(i)
        ids, probs = ids[:k], probs[:k]
        actual = prob = rank = None
        if i + 1 < self.n_tokens:
            nxt = int(self.score.tokens.ids[i + 1])
            actual, prob = self.labels[i + 1], float(np.exp(self.score.logprobs[i + 1]))
            hit = np.flatnonzero(ids == nxt)
            rank = int(hit[0]) + 1 if len(hit) else None
        return NextTokens(index=i, token=self.labels[i], labels=[token_label(self.vocab, int(t)) for t in ids],
                          ids=ids, probs=probs, entropy=ent, actual=actual, actual_prob=prob, actual_rank=rank)


def analyze(lm, text: str, chat: bool = False) -> LMAnalysis:
    """Score ``text`` (at most MAX_TEXT_CHARS characters); ``chat``: as one user turn of the model's
    chat template, whose special tokens and added text are counted."""
    text = check_text(text)
    timings, notes, ct = {}, [], None
    scored = text
    if chat:
        t0 = time.perf_counter()
        ct = apply_chat_template(lm, text)
        timings["chat template"] = time.perf_counter() - t0
        scored = ct.text
        notes += ct.notes
        notes.append("chat mode: the bits are over the whole templated text, template included")
    t0 = time.perf_counter()
    r = lm.score(scored)
    timings["score"] = time.perf_counter() - t0
    notes += r.notes
    return LMAnalysis(model=lm.name, text=text, scored=scored, score=r, chat=ct, vocab=lm.vocab,
                      timings=timings, notes=notes)


# ---- a prompt that ends mid-word ---------------------------------------------------------------

@dataclass
class MidwordAnalysis:
    """The byte after a prefix by three methods, and two greedy continuations of it."""

    prefix: str
    next: dict[str, NextBytes]  # "naive" | "healing" | "exact" -> its next-byte distribution
    by_tokens: Generation  # greedy, token by token (what a tokenized model does)
    by_bytes: Generation  # greedy, byte by byte from the exact distribution
    prefix_tokens: list[str]  # the prefix's tokens (labels); the last may be a word cut short
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def best(self, method: str) -> str:
        """The likeliest next byte of ``method`` as a label ('i', '␣', '0xC3')."""
        return self.next[method].char_probs(1)[0][0]


def midword(lm, prefix: str, max_bytes: Any = DEFAULT_GENERATE_BYTES) -> MidwordAnalysis:
    """Naive, healing and exact next bytes after ``prefix`` side by side, and its greedy
    continuations token by token (``generate(method="tokens")``) and byte by byte ("exact")."""
    prefix = check_prefix(lm, prefix)
    n = check_length(max_bytes)
    timings, notes = {}, []
    out: dict[str, NextBytes] = {}
    for method in METHODS:
        t0 = time.perf_counter()
        out[method] = lm.next_bytes(prefix, method)
        timings[method] = time.perf_counter() - t0
        notes += [f"{method}: {s}" for s in out[method].notes]
    gens = {}
    for method in ("tokens", "exact"):
        t0 = time.perf_counter()
        gens[method] = lm.generate(prefix, max_bytes=n, method=method)
        timings[f"generate ({method})"] = time.perf_counter() - t0
    ids = lm.vocab.encode(prefix)
    labels = [token_label(lm.vocab, i) for i in ids]
    if prefix[-1].isspace() or not prefix[-1].isalnum():
        notes.append("the prefix ends at a word boundary: naive and exact should agree here; cut it inside a "
                     "word to see them differ")
    res = MidwordAnalysis(prefix=prefix, next=out, by_tokens=gens["tokens"], by_bytes=gens["exact"],
                          prefix_tokens=labels, timings=timings, notes=notes)
    if res.best("naive") != res.best("exact"):
        notes.insert(0, f"naive predicts {res.best('naive')!r} next, exact {res.best('exact')!r}: the prefix's last "
                        f"token {labels[-1]!r} is where a tokenized model goes out of distribution")
    return res
