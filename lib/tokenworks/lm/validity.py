"""Which candidate tokens after a tail need the tokenizer to decide if they are valid.

``byte_probs.exact`` must know, for tens of thousands of candidate tokens t after a tail r (the
text between the fixed part and the start of t), whether ``encode(r + bytes(t)) == encode(r) + [t]``.
Re-encoding every candidate costs ~0.2 s per prompt. Most candidates are settled without it:

- If the pre-tokenizer splits ``r + u`` (u = t's text) exactly where ``r`` ends, and splits ``r``
  the same way as alone, then ``encode(r + u) = encode(r) + encode(u)``; so t is valid exactly when
  t is the tokenizer's own encoding of its bytes (``self_canonical``, computed once per vocabulary).
- Whether the split happens depends on ``r`` and on the first two characters of ``u`` only: the
  regex match that starts in ``r`` stops at the end of ``r`` or runs into ``u``, and deciding which
  takes one character of lookahead (``\\s+(?!\\S)``, a letter run going on) or two (``'s``, ``'ll``
  after an apostrophe). After a split the pre-tokenizer restarts at the same character in ``r + u``
  as in ``u`` alone. So the split is computed once per distinct two-character head.

Candidates whose head continues ``r``'s pre-token (the interesting ones: ``wor`` + ``ld``), whose
bytes are not whole characters, or that hold characters of a special-token marker, are left to the
tokenizer. ``tests/lm/test_validity.py`` checks this shortcut against re-encoding on SmolLM2.
"""
from __future__ import annotations

import numpy as np

SPECIAL_CHARS = set("<|>")  # characters of special-token markers such as <|im_start|>


def self_canonical(vocab) -> np.ndarray:
    """(V,) bool: token i is the tokenizer's encoding of its own bytes (cached on the vocabulary)."""
    got = getattr(vocab, "_self_canonical", None)
    if got is not None:
        return got
    V = len(vocab.token_bytes)
    out = np.zeros(V, dtype=bool)
    ids, texts = [], []
    for i, b in enumerate(vocab.token_bytes):
        if not b or vocab.special[i]:
            continue
        try:
            texts.append(b.decode("utf-8"))
            ids.append(i)
        except UnicodeDecodeError:
            pass
    for i, enc in zip(ids, vocab.encode_many(texts)):
        out[i] = enc == [i]
    vocab._self_canonical = out
    return out


def heads(vocab) -> list[str | None]:
    """The first two characters of every token's text; None where the shortcut must not be used."""
    got = getattr(vocab, "_heads", None)
    if got is not None:
        return got
    out: list[str | None] = []
    for i, b in enumerate(vocab.token_bytes):
        try:
            text = b.decode("utf-8")
        except UnicodeDecodeError:
            out.append(None)
            continue
        out.append(None if not text or vocab.special[i] or SPECIAL_CHARS & set(text) else text[:2])
    vocab._heads = out
    return out


def _cuts(vocab, text: str) -> set[int]:
    return {e for _, e in vocab.pretoken_spans(text)}


def settled_by_split(vocab, tail: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For candidates ``ids`` after ``tail``: (settled (M,) bool, valid (M,) bool where settled)."""
    settled = np.zeros(len(ids), dtype=bool)
    valid = np.zeros(len(ids), dtype=bool)
    if SPECIAL_CHARS & set(tail):
        return settled, valid
    hd = heads(vocab)
    canon = self_canonical(vocab)
    n = len(tail)
    alone = {c for c in _cuts(vocab, tail) if c <= n} | {n} if tail else {0}
    verdict: dict[str, bool] = {}
    for k, t in enumerate(ids.tolist()):
        h = hd[t]
        if h is None:
            continue
        ok = verdict.get(h)
        if ok is None:
            ok = verdict[h] = {c for c in _cuts(vocab, tail + h) if c <= n} | ({0} if not tail else set()) == alone
        if ok:
            settled[k] = True
            valid[k] = canon[t]
    return settled, valid
