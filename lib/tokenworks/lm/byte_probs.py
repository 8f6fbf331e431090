"""Next-byte probabilities of a tokenized language model: naive, token healing, and exact.

A model over tokens implies a model over bytes. Phan et al. 2024 ("Exact Byte-Level Probabilities
from Tokenized Language Models for FIM-Tasks and Model Ensembles", the Byte-Token Representation
Lemma) compute it without training: the probability that the text starts with bytes ``x`` is the
sum, over every *cover encoding* of ``x``, of the model's probability of that token sequence. A
cover encoding is a token sequence the tokenizer could produce (pre-tokenizer included) whose
bytes start with ``x`` and whose last token reaches the end of ``x`` or runs past it.

How this module enumerates them (x has n bytes):

1. **The fixed part.** Pre-token boundaries before the start ``b`` of ``x``'s last pre-token
   cannot move whatever follows (each earlier match of the pre-tokenizer's regex ended because
   of a character inside ``x``), and canonical tokens never cross a pre-token boundary. So every
   cover encoding starts with ``F = encode(x[:b])``; the network runs ``F`` once and keeps its
   key/value cache (``TokenNet.branches``).
2. **The last token.** For BPE, every prefix of a canonical encoding is the canonical encoding
   of its own bytes. So a cover encoding is ``E_i + [t]``: ``E_i = encode(x[:i])`` for a start
   ``i`` in ``[b, n]``, and one token ``t`` whose bytes start with ``x[i:]``. There are at most
   (n - b + 1) prefixes ``E_i``, run together in one batched pass after the cache.
3. **Valid only.** ``E_i + [t]`` counts only if the tokenizer would produce it:
   ``encode(x[b:i] + bytes(t)) == encode(x[b:i]) + [t]``. Where the pre-tokenizer splits right
   after ``x[b:i]`` this reduces to a per-vocabulary table (``lm/validity.py``); the rest are
   re-encoded.
4. **The next byte.** ``P(x + c) = sum over i, t`` of ``P(E_i) P(t | E_i)`` for every valid
   ``t`` whose bytes start with ``x[i:] + c``. ``P(F)`` is common to every term and cancels.
   Special tokens (end of document, chat markers) stand for no bytes: their mass is reported as
   ``end_prob`` and the 256 byte probabilities are normalised to sum to 1.

Two bounded shortcuts, both reported in the result:
- Validity is checked in order of probability until the candidates left unchecked hold less than
  ``tolerance`` (default 1e-6) of the mass; those are counted as valid (``unchecked_mass``).
- Token boundaries inside a multi-byte UTF-8 character are not enumerated as starts ``i``, and a
  candidate token that ends inside a character is counted as valid unchecked (text cannot be
  re-encoded mid-character). Both are exact for ASCII text.

The naive and healing methods are the two common shortcuts the exact method corrects:
- naive: encode the prefix as it is and read the first byte of each next token;
- healing (token healing, as in guidance): drop the prefix's last token and require the next
  token to start with its bytes; where that token is the dropped one itself, the byte after it
  comes from the naive distribution.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInput
from .validity import settled_by_split
from .vocab import TokenVocab, index_of

METHODS = ("naive", "healing", "exact")
TOLERANCE = 1e-6


@dataclass
class NextBytes:
    """The distribution of the byte after ``prefix``."""

    prefix: bytes  # the prefix as UTF-8 bytes
    method: str  # "naive" | "healing" | "exact"
    probs: np.ndarray  # (256,) float64, sums to 1
    end_prob: float  # mass the model put on special tokens (end of document ...) before normalising
    encodings: int  # token sequences summed over (exact: valid cover encodings; others: tokens)
    unchecked_mass: float = 0.0  # exact: share of the mass counted as valid without a check
    fixed_tokens: int = 0  # tokens of the fixed part the cache covers
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def top(self, k: int = 10) -> list[tuple[bytes, float]]:
        """The k likeliest next bytes, as (byte, probability), most likely first."""
        order = np.argsort(-self.probs, kind="stable")[:k]
        return [(bytes([int(b)]), float(self.probs[b])) for b in order if self.probs[b] > 0]

    @property
    def best(self) -> bytes:
        return bytes([int(np.argmax(self.probs))])

    def char_probs(self, k: int = 10) -> list[tuple[str, float]]:
        """The top bytes as printable labels (``'a'``, ``'␣'``, ``'\\n'``, ``'0xE2'``)."""
        out = []
        for b, p in self.top(k):
            v = b[0]
            label = "␣" if v == 32 else repr(chr(v))[1:-1] if v < 128 else f"0x{v:02X}"
            out.append((label, p))
        return out


def split_utf8(x: bytes) -> tuple[str, bytes]:
    """``x`` as (complete text, the bytes of an unfinished last character); invalid UTF-8 raises."""
    for cut in range(0, min(3, len(x)) + 1):
        head, tail = (x[: len(x) - cut], x[len(x) - cut:]) if cut else (x, b"")
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if tail:
            try:  # the tail must be the start of some character
                tail.decode("utf-8")
                continue  # a complete character: the split above is not the right one
            except UnicodeDecodeError as e:
                if e.reason != "unexpected end of data":
                    break
        return text, tail
    raise InvalidInput("the prefix is not valid UTF-8 (only its last character may be unfinished)")


def _as_bytes(prefix: str | bytes) -> bytes:
    if isinstance(prefix, str):
        return prefix.encode("utf-8", errors="surrogatepass")
    if isinstance(prefix, (bytes, bytearray)):
        return bytes(prefix)
    raise InvalidInput(f"a prefix is text (str) or UTF-8 bytes, not {type(prefix).__name__}")


def first_byte_probs(vocab: TokenVocab, logp: np.ndarray, ids: np.ndarray | None = None,
                     offset: int = 0) -> tuple[np.ndarray, float]:
    """Sum the probability of tokens onto byte ``offset`` of their bytes: (256,) mass, special mass."""
    p = np.exp(logp.astype(np.float64))  # (V,)
    lengths = index_of(vocab).lengths
    if ids is None:
        ids = np.flatnonzero(lengths > offset)
    ids = ids[lengths[ids] > offset]
    byte = np.fromiter((vocab.token_bytes[i][offset] for i in ids.tolist()), dtype=np.int64, count=len(ids))
    out = np.bincount(byte, weights=p[ids], minlength=256)
    return out, float(p[vocab.special].sum())


def _normalised(mass: np.ndarray, method: str) -> np.ndarray:
    total = mass.sum()
    if not total > 0:
        raise InvalidInput(f"{method}: the model gives no probability to any byte after this prefix")
    return mass / total


def _whole_characters(prefix: str | bytes) -> tuple[bytes, str]:
    """The prefix as (bytes, text); naive and healing tokenize it, so it must end a character."""
    x = _as_bytes(prefix)
    text, partial = split_utf8(x)
    if partial:
        raise InvalidInput("naive and healing need a prefix of whole characters; the exact method takes any bytes")
    return x, text


def naive(model, prefix: str | bytes) -> NextBytes:
    """Encode the prefix as is; each next token votes for its first byte."""
    t0 = time.perf_counter()
    x, text = _whole_characters(prefix)
    ids = model.context_ids(model.vocab.encode(text))
    br = model.net.branches(ids, [[]])
    mass, special = first_byte_probs(model.vocab, br.next_logprobs[0])
    return NextBytes(x, "naive", _normalised(mass, "naive"), special / (special + mass.sum()),
                     encodings=int((mass > 0).sum()), seconds=time.perf_counter() - t0)


def healing(model, prefix: str | bytes) -> NextBytes:
    """Token healing: back up one token and let the next token re-cover its bytes."""
    t0 = time.perf_counter()
    x, text = _whole_characters(prefix)
    enc = model.vocab.encode(text)
    if not enc or model.vocab.special[enc[-1]]:
        res = naive(model, prefix)
        res.method = "healing"
        res.notes.append("nothing to heal: the prefix ends with no text token, so healing equals naive")
        return res
    last = model.vocab.token_bytes[enc[-1]]
    # one pass after the backed-up prefix, with two branches: nothing, and the removed token again
    br = model.net.branches(model.context_ids(enc[:-1]), [[], [enc[-1]]])
    cands = index_of(model.vocab).starting_with(last)  # the removed token and every token extending it
    mass, _ = first_byte_probs(model.vocab, br.next_logprobs[0], cands, offset=len(last))
    # choosing the removed token itself leaves the prompt as it was: its next byte is the naive one
    again, special = first_byte_probs(model.vocab, br.next_logprobs[1])
    p_again = float(np.exp(br.tail_logprob[1]))
    mass = mass + p_again * again
    return NextBytes(x, "healing", _normalised(mass, "healing"), p_again * special / (p_again * special + mass.sum()),
                     encodings=len(cands), fixed_tokens=len(enc) - 1, seconds=time.perf_counter() - t0)


def _valid(vocab: TokenVocab, tails: list[str], tail_ids: list[list[int]], pairs: list[tuple[int, int]],
           starts: list[bytes]) -> np.ndarray:
    """For each (start index j, token t): is tail_ids[j] + [t] the canonical encoding of its bytes?"""
    ok = np.ones(len(pairs), dtype=bool)
    texts, where = [], []
    for k, (j, t) in enumerate(pairs):
        joined = starts[j] + vocab.token_bytes[t]
        try:
            texts.append(joined.decode("utf-8"))
            where.append(k)
        except UnicodeDecodeError as e:
            # ends inside a character: cannot be re-encoded, counted as valid (see the module doc);
            # invalid in the middle: no text has these bytes, so no canonical encoding either
            if e.reason != "unexpected end of data" or e.end != len(joined):
                ok[k] = False
    for k, ids in zip(where, vocab.encode_many(texts)):
        j, t = pairs[k]
        ok[k] = ids == tail_ids[j] + [t]
    return ok


def exact(model, prefix: str | bytes, tolerance: float = TOLERANCE) -> NextBytes:
    """The next-byte distribution marginalised over every valid tokenization (see the module doc)."""
    t0 = time.perf_counter()
    vocab = model.vocab
    idx = index_of(vocab)
    x = _as_bytes(prefix)
    text, partial = split_utf8(x)
    n = len(x)
    b_char = vocab.last_pretoken(text) if text else 0
    b = len(text[:b_char].encode("utf-8"))
    fixed = vocab.encode(text[:b_char])
    tail_text = text[b_char:]
    # starts i in [b, n] at character boundaries (n itself only when the prefix ends a character)
    offsets = [b + len(tail_text[:c].encode("utf-8")) for c in range(len(tail_text) + 1)]
    longest = int(idx.lengths.max())
    starts = [i for i in offsets if i >= n - longest and (i < n or not partial)]
    if partial and not starts:
        raise InvalidInput("the prefix ends inside a character that no token can finish")
    tails = [x[b:i].decode("utf-8") for i in starts]
    tail_ids = vocab.encode_many(tails) if tails else []
    br = model.net.branches(model.context_ids(fixed), tail_ids)
    logw = br.tail_logprob - br.tail_logprob.max()  # (M,) log P(E_i) up to the common P(F)
    # every candidate (start j, token t) with its mass and the byte it puts after x
    pair_j, pair_t, pair_m, pair_b = [], [], [], []
    special_mass = 0.0
    for j, i in enumerate(starts):
        p_next = np.exp(br.next_logprobs[j].astype(np.float64) + logw[j])  # (V,)
        if i == n:
            ids = idx.starting_with(b"")
            special_mass += float(p_next[vocab.special].sum())
        else:
            ids = idx.starting_with(x[i:])
            ids = ids[idx.lengths[ids] > n - i]  # tokens ending exactly at n are counted in E_n
        if len(ids) == 0:
            continue
        pair_j.append(np.full(len(ids), j))
        pair_t.append(ids)
        pair_m.append(p_next[ids])
        pair_b.append(np.fromiter((vocab.token_bytes[t][n - i] for t in ids.tolist()), dtype=np.int64,
                                  count=len(ids)))
    if not pair_t:
        raise InvalidInput("no token can continue this prefix")
    J, T, Mass, B = (np.concatenate(a) for a in (pair_j, pair_t, pair_m, pair_b))
    total = Mass.sum()
    keep = np.ones(len(T), dtype=bool)
    # most candidates are settled by where the pre-tokenizer splits (lm/validity.py) ...
    settled = np.zeros(len(T), dtype=bool)
    for j in range(len(tails)):
        at = np.flatnonzero(J == j)
        s_j, v_j = settled_by_split(vocab, tails[j], T[at])
        settled[at], keep[at[s_j]] = s_j, v_j[s_j]
    # ... the others are re-encoded, likeliest first, until what is left is below the tolerance
    open_ = np.flatnonzero(~settled)
    order = open_[np.argsort(-Mass[open_], kind="stable")]
    tail_bytes = [s.encode("utf-8") for s in tails]
    checked, chunk = 0, 256
    remaining = float(Mass[open_].sum())
    while checked < len(order) and remaining > tolerance * total:
        sel = order[checked:checked + chunk]
        keep[sel] = _valid(vocab, tails, tail_ids, list(zip(J[sel].tolist(), T[sel].tolist())), tail_bytes)
        remaining -= Mass[sel].sum()
        checked += len(sel)
        chunk *= 2
    unchecked = float(Mass[order[checked:]].sum() / total) if checked < len(order) else 0.0
    mass = np.bincount(B[keep], weights=Mass[keep], minlength=256)
    probs = _normalised(mass, "exact")
    return NextBytes(x, "exact", probs, special_mass / (special_mass + mass.sum()), encodings=int(keep.sum()),
                     unchecked_mass=unchecked, fixed_tokens=len(fixed), seconds=time.perf_counter() - t0)


def next_bytes(model, prefix: str | bytes, method: str = "exact") -> NextBytes:
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    return {"naive": naive, "healing": healing, "exact": exact}[method](model, prefix)


def mix(dists: list[NextBytes], weights: list[float] | None = None) -> NextBytes:
    """A weighted mixture of next-byte distributions for the same prefix.

    Models with different vocabularies agree on one thing: bytes. That makes their byte-level
    distributions the place to ensemble them (Phan et al. 2024, section on model ensembles):
    ``mix([lm_a.next_bytes(p), lm_b.next_bytes(p)], [0.5, 0.5])``.
    """
    if not dists:
        raise InvalidInput("mix needs at least one distribution")
    if len({d.prefix for d in dists}) != 1:
        raise InvalidInput("mix combines distributions of the same prefix; these were computed for different prefixes")
    w = np.full(len(dists), 1.0 / len(dists)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(dists),) or (w < 0).any() or not w.sum() > 0:
        raise InvalidInput(f"weights must be {len(dists)} non-negative numbers with a positive sum (got {weights!r})")
    w = w / w.sum()
    probs = np.sum([wi * d.probs for wi, d in zip(w, dists)], axis=0)  # (256,)
    return NextBytes(dists[0].prefix, "mix(" + ", ".join(d.method for d in dists) + ")", probs / probs.sum(),
                     float(np.dot(w, [d.end_prob for d in dists])), sum(d.encodings for d in dists),
                     max(d.unchecked_mass for d in dists), seconds=sum(d.seconds for d in dists))
