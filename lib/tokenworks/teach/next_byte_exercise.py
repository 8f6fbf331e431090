"""The next-byte exercise of notebook 07: a tokenized model's next-byte distribution, by hand.

The learner writes ``next_byte_probs(toy, prefix) -> {byte: probability}`` for the toy model of
``tokenworks.lm.toy`` (bytes ``a``, ``b``, space; six merges; a pre-tokenizer), using only

    toy.token_bytes             # list[bytes]: the bytes of each token id (id 0, the end of the document, is b"")
    toy.encode(text)            # the tokenizer's own (canonical) ids of a str or bytes
    toy.next_token_probs(ids)   # (V,) P(next token | document start + ids)

and ``check_next_bytes(next_byte_probs)`` compares it, prefix by prefix, with the library's exact
method (``tokenworks.lm.byte_probs.exact``, itself tested against brute force) on two toys: one
that puts all its mass on encodings the tokenizer produces, and a *leaky* one that, like a real
model, also gives some to encodings it never produces. When an answer differs, the checker names
the slip: encodings left out (the naive method counts only tokens that start at the end of the
prefix), encodings the tokenizer never produces, a missing weight P(E_i), the wrong byte of the
last token, or a distribution that does not sum to 1.

The answer (Phan et al. 2024, "Exact Byte-Level Probabilities from Tokenized Language Models",
the Byte-Token Representation Lemma): with n = len(prefix), for every start i in 0..n let
E_i = encode(prefix[:i]); every token t whose bytes start with prefix[i:] and run past its end
adds P(E_i) * P(t | E_i) to the byte t puts after the prefix, if the tokenizer itself would write
E_i + [t]. Normalise over the bytes. ``cover_walk`` lays those terms out for the notebook,
starting at the last pre-token (everything before it is a fixed part every term shares).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..errors import InvalidInput
from ..lm.byte_probs import exact
from ..lm.toy import EOS, ToyLM
from .bpe_exercises import ExerciseResult, _Case, _run

ATOL = 1e-6  # how close each probability must be
HINTS = (
    "P(next byte = c | prefix) is proportional to the total probability of the token sequences the "
    "tokenizer could produce whose bytes start with prefix + c. Cut each one after the token that covers "
    "the last byte of the prefix: it is E_i + [t], the encoding of prefix[:i] and one token t that starts at "
    "byte i and runs past the end of the prefix. Sum over every start i from 0 to n = len(prefix).",
    "For each i: E_i = toy.encode(prefix[:i]); P(E_i) is the product of toy.next_token_probs(E_i[:k])[E_i[k]] "
    "over its tokens. For each token t whose bytes start with prefix[i:] and are longer than it, add "
    "P(E_i) * toy.next_token_probs(E_i)[t] to the byte toy.token_bytes[t][n - i].",
    "Count E_i + [t] only if the tokenizer itself would write it: toy.encode(prefix[:i] + toy.token_bytes[t]) "
    "== E_i + [t] (the leaky toy puts mass on encodings that fail this). Then divide by the total, so the "
    "byte probabilities sum to 1 (the end of the document is not a byte).",
)


def hint(level: int = 1) -> str:
    """Hints 1 to 3, each a step further towards the answer."""
    if level not in (1, 2, 3):
        raise InvalidInput(f"hint level must be 1, 2 or 3 (got {level!r})")
    return HINTS[level - 1]


class ToyModel:
    """The toy language model as the exercise sees it. Frozen: copying returns the same object."""

    def __init__(self, name: str, lm: ToyLM):
        self.name = name
        self.lm = lm

    @property
    def token_bytes(self) -> list[bytes]:
        return list(self.lm.vocab.token_bytes)

    def encode(self, text: str | bytes) -> list[int]:
        """The tokenizer's canonical ids of ``text`` (bytes are read as ASCII)."""
        return self.lm.vocab.encode(text.decode("ascii") if isinstance(text, (bytes, bytearray)) else text)

    def next_token_probs(self, ids: Sequence[int]) -> np.ndarray:
        """(V,) probability of each next token after the document start and ``ids``."""
        ids = tuple(int(i) for i in ids)
        if EOS in ids:
            raise InvalidInput("next_token_probs takes the text's token ids; the document start (id 0) is added for you")
        return np.exp(self.lm.net.next_logprobs((EOS, *ids)))  # (V,) a fresh array

    def sequence_prob(self, ids: Sequence[int]) -> float:
        """P(ids) after the document start: the product of next-token probabilities."""
        return float(np.prod([self.next_token_probs(ids[:k])[t] for k, t in enumerate(ids)]))

    def label(self, ids: Iterable[int]) -> str:
        """Tokens as their text, e.g. ``['ab', ' a']``."""
        return "[" + ", ".join(repr(self.lm.vocab.token_bytes[i].decode("ascii")) for i in ids) + "]"

    def __deepcopy__(self, memo: dict) -> "ToyModel":
        return self

    def __repr__(self) -> str:
        return f"<{self.name}>"


@lru_cache(maxsize=2)
def toy_model(leaky: bool = False) -> ToyModel:
    """The exercise's toy: strings of at most 7 bytes; ``leaky`` also gives mass to encodings the
    tokenizer never produces, as a real model does."""
    return ToyModel("leaky toy" if leaky else "toy", ToyLM(max_len=7, masked=not leaky))


@dataclass(frozen=True)
class CoverTerm:
    """One candidate E_i + [t]: the encoding of prefix[:i] and a last token t that starts at byte i."""

    start: int  # i
    head: tuple[int, ...]  # E_i = encode(prefix[:i])
    last: int  # t
    head_prob: float  # P(E_i)
    last_prob: float  # P(t | E_i)
    byte: int  # the byte t puts after the prefix: its byte n - i
    first_byte: int  # t's first byte (what a slip reads instead)
    valid: bool  # encode(prefix[:i] + bytes of t) == E_i + [t]

    @property
    def prob(self) -> float:
        return self.head_prob * self.last_prob


def _as_prefix(prefix: str | bytes) -> bytes:
    return prefix.encode("ascii") if isinstance(prefix, str) else bytes(prefix)


def cover_terms(toy: ToyModel, prefix: str | bytes, starts: Iterable[int] | None = None) -> list[CoverTerm]:
    """Every candidate E_i + [t] for the starts ``starts`` (default 0..n), valid or not."""
    x = _as_prefix(prefix)
    n = len(x)
    out = []
    for i in range(n + 1) if starts is None else starts:
        head = toy.encode(x[:i])
        head_prob = toy.sequence_prob(head)
        probs = toy.next_token_probs(head)  # (V,)
        for t, tb in enumerate(toy.token_bytes):
            if len(tb) <= n - i or not tb.startswith(x[i:]):  # must cover prefix[i:] and run past it
                continue
            valid = toy.encode(x[:i] + tb) == head + [t]
            out.append(CoverTerm(i, tuple(head), t, head_prob, float(probs[t]), tb[n - i], tb[0], valid))
    return out


def _sum_terms(terms: Iterable[CoverTerm], *, invalid_too: bool = False, weighted: bool = True,
               first_byte: bool = False) -> np.ndarray:
    """(256,) normalised byte distribution of ``terms`` (all zeros when they hold no mass)."""
    mass = np.zeros(256)
    for term in terms:
        if term.valid or invalid_too:
            mass[term.first_byte if first_byte else term.byte] += term.prob if weighted else term.last_prob
    total = mass.sum()
    return mass / total if total > 0 else mass


def reference_next_bytes(toy: ToyModel, prefix: bytes) -> dict[bytes, float]:
    """The reference answer: the valid cover encodings' mass on each next byte, normalised."""
    probs = _sum_terms(cover_terms(toy, prefix))
    return {bytes([b]): float(probs[b]) for b in np.flatnonzero(probs)}


@dataclass
class CoverWalk:
    """The exact computation laid out for one prefix, from its last pre-token on."""

    prefix: bytes
    pretoken_start: int  # b: where the last pre-token starts; encodings agree on everything before it
    fixed: list[int]  # F = encode(prefix[:b]), shared by every cover encoding
    fixed_prob: float  # P(F), common to every term (it cancels when normalising)
    terms: list[CoverTerm]  # starts b..n, valid or not
    probs: np.ndarray = field(repr=False)  # (256,) the valid terms' mass on each byte, normalised

    @property
    def starts(self) -> list[int]:
        return sorted({t.start for t in self.terms})


def cover_walk(toy: ToyModel, prefix: str | bytes) -> CoverWalk:
    x = _as_prefix(prefix)
    b = toy.lm.vocab.last_pretoken(x.decode("ascii")) if x else 0
    fixed = toy.encode(x[:b])
    terms = cover_terms(toy, x, range(b, len(x) + 1))
    return CoverWalk(x, b, fixed, toy.sequence_prob(fixed), terms, _sum_terms(terms))


# ---- the checker ---------------------------------------------------------------------------------


class _Answer:
    """The expected distribution of one case, shown rounded."""

    def __init__(self, probs: np.ndarray):
        self.probs = probs  # (256,)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{bytes([b])!r}: {self.probs[b]:.4f}" for b in np.flatnonzero(self.probs)) + "}"


CASES = (("toy", ""), ("toy", "a"), ("toy", "b"), ("toy", "ab"), ("toy", "ba"), ("toy", "aab"), ("toy", "b a"),
         ("toy", "ab ab"), ("leaky", "a"), ("leaky", "ab"), ("leaky", "bab"), ("leaky", " a"), ("leaky", "b ab"))


def _as_probs(got: Any) -> tuple[np.ndarray | None, str]:
    """The learner's answer as (256,) probabilities, or what is wrong with its form."""
    form = "a dict {next byte: probability}, e.g. {b'a': 0.2, b'b': 0.5, b' ': 0.3}"
    if got is None:
        return None, f"expected {form}, got None: is a `return` missing?"
    if isinstance(got, np.ndarray) and got.shape == (256,):
        got = dict(enumerate(got.tolist()))
    if not isinstance(got, dict):
        return None, f"expected {form}, got a {type(got).__name__}"
    out = np.zeros(256)
    for key, value in got.items():
        if isinstance(key, (bytes, bytearray)) and len(key) == 1:
            k = key[0]
        elif isinstance(key, str) and len(key) == 1 and ord(key) < 256:
            k = ord(key)
        elif isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < 256:
            k = int(key)
        else:
            return None, f"key {key!r}: keys are single bytes such as b'a' (or 'a', or 97)"
        try:
            v = float(value)
        except (TypeError, ValueError):
            return None, f"the probability of {key!r} is {value!r}, not a number"
        if not np.isfinite(v) or v < 0:
            return None, f"the probability of {key!r} is {v}: probabilities are finite and not negative"
        out[k] += v
    return out, ""


def _explain(toy: ToyModel, prefix: bytes, got: np.ndarray) -> list[str]:
    """The fewest slips that turn the right computation into ``got`` (normalised), in words."""
    terms = cover_terms(toy, prefix)
    n = len(prefix)
    starts = sorted({t.start for t in terms})
    best: tuple | None = None
    for k in range(len(starts), 0, -1):
        for kept in itertools.combinations(starts, k):
            for invalid_too, weighted, first in itertools.product((False, True), (True, False), (False, True)):
                slips = (k < len(starts)) + invalid_too + (not weighted) + first
                if slips == 0 or (best is not None and slips >= best[0]):
                    continue
                sub = [t for t in terms if t.start in kept]
                if np.allclose(_sum_terms(sub, invalid_too=invalid_too, weighted=weighted, first_byte=first), got,
                               atol=ATOL):
                    best = (slips, set(starts) - set(kept), invalid_too, weighted, first)
    if best is None:
        return []
    _, missing, invalid_too, weighted, first = best
    out = []

    def heaviest(pick: Callable[[CoverTerm], bool]) -> CoverTerm | None:
        return max((t for t in terms if pick(t)), key=lambda t: t.prob, default=None)

    if missing:
        ex = heaviest(lambda t: t.valid and t.start in missing and t.start < n)
        whole = f"the encoding {toy.label(ex.head + (ex.last,))}, " if ex is not None and ex.head else ""
        like = "" if ex is None else f", like {toy.label([ex.last])} starting at {ex.start} ({whole}P = {ex.prob:.3g})"
        if set(starts) - missing == {n}:
            out.append("you counted only encodings whose last token starts at the end of the prefix (the naive "
                       f"method): did you count the encodings whose last token starts before the end of the prefix{like}?")
        else:
            out.append(f"you left out the encodings whose last token starts at i = {sorted(missing)}{like}")
    if invalid_too:
        ex = heaviest(lambda t: not t.valid)
        if ex is not None:
            data = prefix[:ex.start] + toy.token_bytes[ex.last]
            out.append(f"you counted an encoding the tokenizer never produces: {toy.label(ex.head + (ex.last,))} "
                       f"(encode({data!r}) is {toy.label(toy.encode(data))}); keep E_i + [t] only when "
                       f"toy.encode(prefix[:i] + bytes of t) == E_i + [t]")
    if not weighted:
        out.append("each encoding E_i + [t] counts with P(E_i) * P(t | E_i): you left out P(E_i), the probability "
                   "of the tokens before the last one (multiply next_token_probs along E_i)")
    if first:
        ex = heaviest(lambda t: t.valid and t.byte != t.first_byte)
        eg = "" if ex is None else (f" ({toy.label([ex.last])} starting at {ex.start} puts "
                                    f"{bytes([ex.byte])!r} after {prefix!r}, not {bytes([ex.first_byte])!r})")
        out.append(f"you read the first byte of each last token; the next byte is its byte n - i{eg}")
    return out


def _compare(case: _Case, got: Any) -> str:
    toy, prefix = case.args
    probs, problem = _as_probs(got)
    if problem:
        return problem
    want = case.expected.probs
    if np.allclose(probs, want, atol=ATOL):
        return ""
    c = int(np.argmax(np.abs(probs - want)))
    parts = [f"after {prefix!r} ({toy.name}) you gave P({bytes([c])!r}) = {probs[c]:.4f} but the answer is {want[c]:.4f}"]
    total = probs.sum()
    if abs(total - 1) > ATOL:
        parts.append(f"your distribution sums to {total:.4g}, not 1: divide by the total "
                     "(the end of the document is not a byte)")
    if total > 0 and not np.allclose(probs / total, want, atol=ATOL):
        parts += _explain(toy, prefix, probs / total) or [
            "no single slip explains it: compare with the terms ex.cover_walk(toy, prefix) lists"]
    return "; ".join(parts)


def _context_hint(cases: list[_Case], failed: list[_Case]) -> str:
    if failed and all(c.args[0].name == "leaky toy" for c in failed):
        return ("only the leaky toy fails: it gives some mass to encodings the tokenizer never produces, "
                "which must not be counted (ex.hint(3))")
    return "ex.hint(1), ex.hint(2) and ex.hint(3) lead to the answer step by step" if failed else ""


def check_next_bytes(fn: Callable, *, show: bool = True) -> ExerciseResult:
    """``next_byte_probs(toy, prefix) -> {byte: probability}`` against the exact method on the toys."""
    cases = []
    for which, text in CASES:
        toy, prefix = toy_model(which == "leaky"), text.encode("ascii")
        want = exact(toy.lm, prefix, tolerance=0.0).probs  # (256,)
        cases.append(_Case(f"{prefix!r} on the {toy.name}", (toy, prefix), _Answer(want)))
    return _run("next_byte_probs", ["toy", "prefix"], fn, cases, _compare, show, _context_hint)
