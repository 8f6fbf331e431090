"""Ordered merge lists of byte-level BPE tokenizers, and replaying them on sample text.

``MergeList`` is what data-mixture inference (``mixture.py``) needs from a tokenizer: the
pretokenization regex, the id of each single byte, and the merges in the order they were
learned. ``extract_merges`` gets one from a trained ``ByteBPE`` or from a tiktoken vocabulary
("r50k_base", "cl100k_base", "o200k_base").

Recovering the merges of a tiktoken vocabulary: tiktoken ships only ranks (token bytes -> id),
and a lower rank is an earlier merge. ``bpe.py`` derives each token's merge by running BPE on
its bytes with the merges ranked below it: when that ends in exactly two tokens, they are its
(left, right). Tokens it cannot reach that way get no merge; they are skipped here and counted in
``MergeList.unreachable``. For r50k_base (GPT-2) the first merges come out as GPT-2's
``merges.txt`` has them: ``Ġ t``, ``Ġ a``, ``h e``, ``i n``, ``r e``, ``o n``, ``Ġt he`` ...

``PairCounter`` replays merges on the sample text of one category exactly as a BPE trainer
applies them (every occurrence, left to right), keeping adjacent-pair counts up to date
incrementally (the same bookkeeping as ``bpe_train.py``), so that the pair counts *at merge
step t* are available for every t without recounting.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..errors import InvalidInput, UnknownTokenizer
from .bpe import PRETRAINED, ByteBPE
from .bpe_train import _merge_word, chunk_bytes, count_chunks


@dataclass(frozen=True)
class MergeList:
    """A byte-level BPE's merges in training order (merge t makes token ``new_ids[t]``)."""

    name: str  # where it came from ("r50k_base", "text/bpe", ...)
    pattern: str | None  # pretokenization regex (merges never cross its chunks); None: no split
    byte_ids: tuple[int, ...]  # (256,) id of each single byte
    pairs: tuple[tuple[int, int], ...]  # (M,) (left id, right id) of each merge, in order
    new_ids: tuple[int, ...]  # (M,) the id each merge makes (increasing)
    tokens: dict[int, bytes]  # id -> bytes, for every byte and merged token
    unreachable: int = 0  # vocabulary tokens no merge produces (pretrained vocabularies), skipped

    def __len__(self) -> int:
        return len(self.pairs)

    def pair_bytes(self, t: int) -> tuple[bytes, bytes]:
        """The bytes of the two tokens merge ``t`` joins."""
        a, b = self.pairs[t]
        return self.tokens[a], self.tokens[b]

    def render(self, t: int) -> str:
        """Merge ``t`` written GPT-2 style: ``"Ġ t"`` (spaces as Ġ, newlines as Ċ, other bytes <0xNN>)."""
        return " ".join(_gpt2_style(x) for x in self.pair_bytes(t))


def _gpt2_style(data: bytes) -> str:
    text = data.decode("utf-8", "surrogateescape")
    out = []
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"<0x{o - 0xDC00:02X}>")
        elif ch == " ":
            out.append("Ġ")
        elif ch == "\n":
            out.append("Ċ")
        elif ch == "\t":
            out.append("ĉ")
        else:
            out.append(ch)
    return "".join(out)


def extract_merges(source: Any) -> MergeList:
    """The ordered merges of ``source``: a ``ByteBPE`` (trained or pretrained), a ``MergeList``
    (returned as is), or the name of a tiktoken vocabulary (one of PRETRAINED)."""
    if isinstance(source, MergeList):
        return source
    if isinstance(source, str):
        if source not in PRETRAINED:
            raise UnknownTokenizer(f"unknown BPE vocabulary {source!r}; choose one of {', '.join(PRETRAINED)} "
                                   "or pass a trained ByteBPE")
        tok = ByteBPE.from_pretrained(source)
        name = source
    elif isinstance(source, ByteBPE):
        tok = source
        name = tok.config.source or tok.name
    else:
        raise InvalidInput(f"extract_merges needs a ByteBPE, a MergeList or one of {', '.join(PRETRAINED)}; "
                           f"got {type(source).__name__}")
    merges = tok.merge_list()  # [(left, right, new id)] by new id
    tokens: dict[int, bytes] = {i: tok.token_bytes(i) for i in tok._byte_ids}
    for a, b, n in merges:
        tokens[n] = tokens[a] + tokens[b]
    specials = set(tok.special_tokens.values())
    have = sum(1 for i in range(tok.vocab_size) if tok._tokens[i] is not None and i not in specials)
    unreachable = have - len(set(tok._byte_ids)) - len(merges)
    return MergeList(name=name, pattern=tok.config.pattern, byte_ids=tuple(tok._byte_ids),
                     pairs=tuple((a, b) for a, b, _ in merges), new_ids=tuple(n for _, _, n in merges),
                     tokens=tokens, unreachable=max(unreachable, 0))


class PairCounter:
    """Adjacent-pair counts of one category's sample text while merges are applied in order."""

    def __init__(self, texts: str | Iterable[str], merges: MergeList):
        chunk_counts, nbytes = count_chunks(texts, merges.pattern)
        self.nbytes = nbytes  # bytes of sample text: the normaliser that makes counts frequencies
        byte_ids = merges.byte_ids
        self.words = [[byte_ids[b] for b in chunk_bytes(w)] for w in chunk_counts]
        self.freqs = list(chunk_counts.values())
        self.counts: dict[tuple[int, int], int] = {}
        self.where: dict[tuple[int, int], set[int]] = {}
        for k, (w, f) in enumerate(zip(self.words, self.freqs)):
            for p in zip(w, w[1:]):
                self.counts[p] = self.counts.get(p, 0) + f
                self.where.setdefault(p, set()).add(k)
        self._heap = [(-c, a, b) for (a, b), c in self.counts.items()]
        heapq.heapify(self._heap)

    def count(self, pair: tuple[int, int]) -> int:
        return self.counts.get(pair, 0)

    def top(self, k: int, exclude: tuple[int, int] | None = None) -> list[tuple[int, int]]:
        """The ``k`` most frequent pairs now (ties: smallest ids first), leaving out ``exclude``."""
        heap, counts = self._heap, self.counts
        found: list[tuple[int, tuple[int, int]]] = []
        seen: set[tuple[int, int]] = set()
        while heap and len(found) < k + 1:
            neg, a, b = heapq.heappop(heap)
            p = (a, b)
            if counts.get(p) != -neg or p in seen:
                continue  # stale (the count changed since) or a duplicate of a live entry
            seen.add(p)
            found.append((neg, p))
        for neg, p in found:
            heapq.heappush(heap, (neg, p[0], p[1]))
        return [p for _, p in found if p != exclude][:k]

    def apply(self, pair: tuple[int, int], new: int) -> None:
        """Merge every occurrence of ``pair`` into ``new`` and update the counts."""
        ks = self.where.pop(pair, None)
        if not ks:
            self.counts.pop(pair, None)
            return
        a, b = pair
        delta: dict[tuple[int, int], int] = {}
        for k in ks:
            _merge_word(self.words, k, a, b, new, self.freqs[k], delta, self.where)
        self.counts.pop(pair, None)
        for p, d in delta.items():
            if d == 0 or p == pair:
                continue
            c = self.counts.get(p, 0) + d
            if c > 0:
                self.counts[p] = c
                heapq.heappush(self._heap, (-c, p[0], p[1]))
            else:
                self.counts.pop(p, None)


def as_texts(sample: str | Sequence[str]) -> list[str]:
    return [sample] if isinstance(sample, str) else list(sample)
