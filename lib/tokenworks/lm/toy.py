"""A toy tokenized language model small enough to list every tokenization by brute force.

The toy BPE has a pre-tokenizer (a space starts a word, runs of spaces stay together), three
bytes (``a``, ``b``, space) and six merges. The toy network gives every context a fixed
pseudo-random distribution over the next token, restricted to the tokens that keep the sequence
a prefix of some canonical encoding of a string of at most ``max_len`` bytes, and to the end of
the document when the sequence is itself a complete canonical encoding. So the model puts all of
its mass on canonical encodings, as the Byte-Token Representation Lemma assumes, and the byte
distribution it implies can be computed by summing over every string:

    toy = ToyLM()
    toy.brute_force_next_bytes(b"ab")      # (256,) by enumerating every string <= max_len bytes
    exact(toy, b"ab").probs                # the same, by cover encodings (tokenworks.lm.byte_probs)

``tokenworks.teach`` builds its next-byte exercise on this toy.
"""
from __future__ import annotations

import hashlib
import itertools
import re
from functools import cached_property, lru_cache

import numpy as np

from .net import Branches

EOS = 0  # the document-start / end-of-document token, as <|endoftext|> in SmolLM2
ALPHABET = (b"a", b"b", b" ")
MERGES = ((b"a", b"b"), (b" ", b"a"), (b"b", b"a"), (b"ab", b"a"), (b" a", b"b"), (b"b", b"b"))
PRETOKEN = re.compile(r" ?[a-z]+| +")


class ToyBPE:
    """A byte-level BPE with a regex pre-tokenizer: merges apply by rank inside each pre-token."""

    def __init__(self, alphabet=ALPHABET, merges=MERGES, pattern=PRETOKEN):
        self.pattern = pattern
        self.token_bytes: list[bytes] = [b""] + list(alphabet) + [a + b for a, b in merges]  # id 0 is EOS
        self.ranks = {pair: r for r, pair in enumerate(merges)}
        self.ids = {b: i for i, b in enumerate(self.token_bytes) if b}
        self.special = np.zeros(len(self.token_bytes), dtype=bool)  # (V,)
        self.special[EOS] = True

    def pretoken_spans(self, text: str) -> list[tuple[int, int]]:
        return self.pretokens(text)

    def pretokens(self, text: str) -> list[tuple[int, int]]:
        """(start, end) character offsets of the pre-tokens."""
        out, pos = [], 0
        for m in self.pattern.finditer(text):
            if m.start() != pos:
                raise ValueError(f"the toy pre-tokenizer cannot split {text!r}")
            out.append(m.span())
            pos = m.end()
        if pos != len(text):
            raise ValueError(f"the toy alphabet is 'a', 'b' and space; {text!r} has other characters")
        return out

    def _bpe(self, word: bytes) -> list[int]:
        parts = [bytes([c]) for c in word]
        while len(parts) > 1:
            ranked = [(self.ranks.get((parts[k], parts[k + 1]), 1 << 30), k) for k in range(len(parts) - 1)]
            rank, k = min(ranked)
            if rank == 1 << 30:
                break
            parts[k:k + 2] = [parts[k] + parts[k + 1]]
        return [self.ids[p] for p in parts]

    def encode(self, text: str) -> list[int]:
        data = text.encode()
        return [i for s, e in self.pretokens(text) for i in self._bpe(data[s:e])]

    def encode_many(self, texts) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def last_pretoken(self, text: str) -> int:
        spans = self.pretokens(text)
        return spans[-1][0] if spans else 0

    def decode(self, ids) -> bytes:
        return b"".join(self.token_bytes[i] for i in ids)


class ToyNet:
    """Next-token distributions of the toy model: pseudo-random, masked to canonical prefixes.

    With ``masked=False`` every token is allowed everywhere, as in a real model, which puts some
    mass on tokenizations the tokenizer never produces.
    """

    def __init__(self, bpe: ToyBPE, max_len: int, seed: int = 0, masked: bool = True):
        self.bpe, self.max_len, self.seed, self.masked = bpe, max_len, seed, masked

    @cached_property
    def _prefixes(self) -> tuple[frozenset, frozenset]:
        """(every prefix of a canonical encoding, every complete encoding) of strings <= max_len bytes."""
        complete = frozenset(tuple(self.bpe.encode(s)) for s in all_strings(self.max_len))
        return _canonical_prefixes(self.bpe, self.max_len), complete

    @lru_cache(maxsize=None)
    def next_logprobs(self, context: tuple[int, ...]) -> np.ndarray:
        """(V,) log p(next | context); context starts with EOS (the document start)."""
        ids = context[1:]
        prefixes, complete = self._prefixes
        V = len(self.bpe.token_bytes)
        digest = hashlib.sha256(repr((self.seed, ids)).encode()).digest()
        logits = np.random.default_rng(int.from_bytes(digest[:8], "little")).normal(0, 1.5, V)  # (V,)
        if self.masked:
            allowed = np.array([t != EOS and ids + (t,) in prefixes for t in range(V)])
            allowed[EOS] = ids in complete
        else:
            allowed = np.ones(V, dtype=bool)
        logits = np.where(allowed, logits, -np.inf)
        return logits - np.logaddexp.reduce(logits[allowed])

    def branches(self, prefix: list[int], tails: list[list[int]]) -> Branches:
        tail_lp = np.zeros(len(tails))
        nxt = np.empty((len(tails), len(self.bpe.token_bytes)), dtype=np.float64)
        for j, tail in enumerate(tails):
            ctx = tuple(prefix)
            for t in tail:
                tail_lp[j] += self.next_logprobs(ctx)[t]
                ctx += (t,)
            nxt[j] = self.next_logprobs(ctx)
        return Branches(tail_lp, nxt, 0)


@lru_cache(maxsize=4)
def _canonical_prefixes(bpe: ToyBPE, max_len: int) -> frozenset:
    """Every prefix of the canonical encoding of every string of at most ``max_len`` bytes."""
    out = set()
    for s in all_strings(max_len):
        enc = tuple(bpe.encode(s))
        out.update(enc[:k] for k in range(len(enc) + 1))
    return frozenset(out)


def all_strings(max_len: int, alphabet=("a", "b", " ")) -> list[str]:
    return ["".join(p) for n in range(max_len + 1) for p in itertools.product(alphabet, repeat=n)]


class ToyLM:
    """The toy tokenizer and network behind the same interface as ``LanguageModel``."""

    def __init__(self, max_len: int = 7, seed: int = 0, masked: bool = True):
        self.vocab = ToyBPE()
        self.net = ToyNet(self.vocab, max_len, seed, masked)
        self.bos_id = EOS
        self.max_len = max_len

    def context_ids(self, ids: list[int]) -> list[int]:
        return [self.bos_id] + list(ids)

    def string_prob(self, s: str) -> float:
        """The model's probability of the whole document ``s`` (its canonical encoding, then EOS)."""
        ctx, lp = (EOS,), 0.0
        for t in self.vocab.encode(s) + [EOS]:
            lp += self.net.next_logprobs(ctx)[t]
            ctx += (t,)
        return float(np.exp(lp))

    @cached_property
    def _string_probs(self) -> dict[bytes, float]:
        return {s.encode(): self.string_prob(s) for s in all_strings(self.max_len)}

    def brute_force_next_bytes(self, prefix: bytes) -> tuple[np.ndarray, float]:
        """((256,) next-byte probabilities, end-of-document probability) by summing every string."""
        mass = np.zeros(256)
        end = 0.0
        for s, p in self._string_probs.items():
            if s == prefix:
                end += p
            elif s.startswith(prefix):
                mass[s[len(prefix)]] += p
        total = mass.sum()
        return mass / total, end / (end + total)


def cover_encodings_brute_force(toy: ToyLM, prefix: bytes) -> np.ndarray:
    """(256,) next-byte probabilities from an explicit list of every valid cover encoding.

    For each byte c, every token sequence whose bytes before its last token are a proper prefix
    of ``prefix + c`` and whose bytes start with ``prefix + c`` is listed by depth-first search;
    it counts if it is a prefix of the canonical encoding of some string (checked against every
    string up to ``len(prefix) + 1 +`` the longest token bytes, not by re-encoding). Independent of
    ``byte_probs.exact`` except for the network's probabilities.
    """
    bpe = toy.vocab
    longest = max(len(b) for b in bpe.token_bytes)
    valid = _canonical_prefixes(bpe, len(prefix) + 1 + longest)
    mass = np.zeros(256)
    for c in b"ab ":
        target = prefix + bytes([c])

        def walk(seq: tuple[int, ...], covered: bytes, logp: float) -> None:
            lp = toy.net.next_logprobs((EOS,) + seq)
            for t in range(1, len(bpe.token_bytes)):
                nb = covered + bpe.token_bytes[t]
                s2 = seq + (t,)
                if s2 not in valid:
                    continue
                if nb.startswith(target):
                    mass[c] += np.exp(logp + lp[t])
                elif target.startswith(nb):
                    walk(s2, nb, logp + lp[t])

        walk((), b"", 0.0)
    return mass / mass.sum()
