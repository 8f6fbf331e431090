"""Training byte-level BPE with incremental pair counts (used by ``ByteBPE.train``).

The naive trainer recounts every adjacent pair of the whole corpus after each merge. This one
counts once and then updates only what a merge touches:

1. Pretokenize the corpus with the regex and count each distinct chunk once: ``words`` (each a
   list of ids, starting as its bytes) with their frequencies.
2. ``counts[pair]``: how often each adjacent pair occurs, weighted by word frequency;
   ``where[pair]``: the words that contain it; a heap of ``(-count, left, right)``.
3. Each step pops the best pair: the highest count, and among equal counts the smallest
   ``(left, right)`` (a straightforward reference trainer can reproduce this tie-break exactly:
   ``max(counts, key=lambda p: (counts[p], -p[0], -p[1]))``). Only the words in ``where[pair]``
   are rewritten, and only the pairs next to each merge change count: ``x a b y`` becomes
   ``x N y``, so ``(x, a)`` and ``(b, y)`` lose and ``(x, N)`` and ``(N, y)`` gain.

Heap entries go stale when counts change; a popped entry is used only if it still matches the
current count (an up-to-date entry was pushed at every change). ``where`` is also lazy: a word
that no longer holds a pair is simply found to have no occurrence.

Two optional extras serve curricula such as SuperBPE (``superbpe.py``): ``initial_merges``
starts from merges learned earlier (each chunk begins as its bytes with those merges applied,
exactly as the encoder would apply them), and ``allow`` vetoes merges by the bytes of the two
tokens (a vetoed pair is dropped for good; the next best pair is taken instead).
"""
from __future__ import annotations

import heapq
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import regex

from ..errors import InvalidInput
from .bpe_rule import bpe_merge, merge_table


@dataclass(frozen=True)
class TrainMerge:
    """One learned merge; also the event passed to ``progress``."""

    index: int  # 0-based merge number (counting initial merges, when training started from some)
    total: int  # how many merges were asked for (the same)
    pair: tuple[int, int]  # (left id, right id)
    new_id: int  # 256 + index
    count: int  # how often the pair occurred when it was merged


@dataclass
class TrainReport:
    requested_vocab_size: int
    vocab_size: int  # what was reached (smaller when the corpus ran out of pairs)
    merges: list[TrainMerge] = field(default_factory=list)
    stopped_early: bool = False
    reason: str = ""  # why it stopped early
    corpus_bytes: int = 0
    chunks: int = 0  # pretokenized chunks in the corpus
    unique_chunks: int = 0
    seconds: float = 0.0
    initial_merges: int = 0  # merges given to start from (ids 256 ...), not listed in merges

    def summary(self) -> dict[str, object]:
        """Everything but the merge list (which merges.txt holds), for checkpoint metrics."""
        return {k: v for k, v in self.__dict__.items() if k != "merges"}


def _documents(corpus: str | bytes | Iterable[str | bytes]) -> Iterable[str]:
    """Documents as str; bytes documents (binaries, any encoding) are read with
    ``surrogateescape`` so every byte that is not UTF-8 survives as itself."""
    if isinstance(corpus, (str, bytes, bytearray)):
        corpus = [corpus]
    for doc in corpus:
        yield doc.decode("utf-8", "surrogateescape") if isinstance(doc, (bytes, bytearray)) else doc


def chunk_bytes(chunk: str) -> bytes:
    """The bytes a chunk stands for: escaped raw bytes back as themselves, else UTF-8
    (lone surrogates written with ``surrogatepass``)."""
    try:
        return chunk.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return chunk.encode("utf-8", "surrogatepass")


def count_chunks(corpus: str | bytes | Iterable[str | bytes], pattern: str | None, special_tokens: Sequence[str] = ()) -> tuple[Counter, int]:
    """Distinct pretokenized chunks and their counts; special-token text is left out."""
    pat = regex.compile(pattern) if pattern else None
    split = regex.compile("|".join(regex.escape(s) for s in sorted(special_tokens, key=len, reverse=True))) \
        if special_tokens else None
    counts: Counter = Counter()
    nbytes = 0
    for doc in _documents(corpus):
        if not isinstance(doc, str):
            raise InvalidInput(f"training documents must be str or bytes, got {type(doc).__name__}")
        for piece in (split.split(doc) if split else [doc]):
            nbytes += len(chunk_bytes(piece))
            if pat is None:
                if piece:
                    counts[piece] += 1
            else:
                counts.update(pat.findall(piece))
    return counts, nbytes


def train_bpe(corpus: str | bytes | Iterable[str | bytes], vocab_size: int, pattern: str | None, special_tokens: Sequence[str] = (),
              progress: Callable[[TrainMerge], None] | None = None, *,
              initial_merges: Sequence[tuple[int, int]] = (),
              allow: Callable[[bytes, bytes], bool] | None = None) -> TrainReport:
    """Learn merges; new ids are 256, 257, ... in merge order (see the module docstring).

    ``initial_merges``: merges ``[(left, right), ...]`` already learned (new ids 256, 257, ...);
    training continues after them, so the first new merge gets id ``256 + len(initial_merges)``.
    ``allow(left_bytes, right_bytes)``: False forbids that merge (None: every merge is allowed).
    """
    t0 = time.perf_counter()
    minimum = 256 + len(special_tokens)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < minimum:
        raise InvalidInput(
            f"vocab_size must be an integer of at least {minimum} (256 byte tokens"
            f"{f' + {len(special_tokens)} special tokens' if special_tokens else ''}), got {vocab_size!r}"
        )
    if len(set(special_tokens)) != len(special_tokens) or any(not s for s in special_tokens):
        raise InvalidInput(f"special tokens must be distinct non-empty strings, got {list(special_tokens)}")
    chunk_counts, nbytes = count_chunks(corpus, pattern, special_tokens)
    if nbytes == 0:
        raise InvalidInput("the training corpus is empty: give some text to learn merges from")
    total = vocab_size - minimum
    start = len(initial_merges)
    if start > total:
        raise InvalidInput(f"{start} initial merges do not fit in vocab_size {vocab_size}: "
                           f"at most {total} merges fit (vocab_size - {minimum})")
    if not chunk_counts:
        raise InvalidInput(f"the pretokenization pattern matched nothing in the {nbytes:,}-byte corpus: "
                           f"give a regex that matches the text (e.g. bpe.GPT4_PATTERN) or None for no split")
    report = TrainReport(requested_vocab_size=vocab_size, vocab_size=minimum, corpus_bytes=nbytes,
                         chunks=sum(chunk_counts.values()), unique_chunks=len(chunk_counts), initial_merges=start)

    tokens = [bytes([i]) for i in range(256)]  # id -> bytes, for allow()
    words = [list(chunk_bytes(w)) for w in chunk_counts]  # each word: its ids
    if start:
        table = merge_table(initial_merges, tokens, what="initial merge")
        words = [bpe_merge(w, table) for w in words]
    freqs = list(chunk_counts.values())
    counts: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], set[int]] = {}
    for k, (w, f) in enumerate(zip(words, freqs)):
        for p in zip(w, w[1:]):
            counts[p] = counts.get(p, 0) + f
            where.setdefault(p, set()).add(k)
    heap = [(-c, a, b) for (a, b), c in counts.items()]
    heapq.heapify(heap)
    banned: set[tuple[int, int]] = set()  # pairs that allow() refused

    for index in range(start, total):
        while heap:
            neg, a, b = heap[0]
            if counts.get((a, b)) != -neg:
                heapq.heappop(heap)  # stale entry
            elif allow is not None and not allow(tokens[a], tokens[b]):
                heapq.heappop(heap)  # refused: never counted again
                del counts[(a, b)]
                banned.add((a, b))
            else:
                break
        if not heap:
            report.stopped_early = True
            report.reason = (f"the corpus has no adjacent pairs left{' that allow() permits' if banned else ''} "
                             f"after {index} merges; vocab_size {vocab_size} asked for {total}")
            break
        neg, a, b = heapq.heappop(heap)
        pair, new = (a, b), 256 + index
        delta: dict[tuple[int, int], int] = {}
        for k in where.pop(pair):
            _merge_word(words, k, a, b, new, freqs[k], delta, where)
        del counts[pair]
        for p, d in delta.items():
            if d == 0 or p == pair or p in banned:
                continue
            c = counts.get(p, 0) + d
            if c > 0:
                counts[p] = c
                heapq.heappush(heap, (-c, p[0], p[1]))
            else:
                counts.pop(p, None)
        tokens.append(tokens[a] + tokens[b])
        m = TrainMerge(index=index, total=total, pair=pair, new_id=new, count=-neg)
        report.merges.append(m)
        if progress is not None:
            progress(m)
    report.vocab_size = minimum + start + len(report.merges)
    report.seconds = time.perf_counter() - t0
    return report


def _merge_word(words: list[list[int]], k: int, a: int, b: int, new: int, f: int,
                delta: dict[tuple[int, int], int], where: dict[tuple[int, int], set[int]]) -> None:
    """Merge every ``a b`` in word ``k`` (left to right) and record the pair-count changes."""
    w = words[k]
    n = len(w)
    out: list[int] = []
    i = 0
    while i < n:
        if i + 1 < n and w[i] == a and w[i + 1] == b:
            if out:  # left neighbour x: (x, a) -> (x, new); after another merge x was new, a b
                x = out[-1]
                old_left = (b if x == new else x, a)
                delta[old_left] = delta.get(old_left, 0) - f
                delta[(x, new)] = delta.get((x, new), 0) + f
                where.setdefault((x, new), set()).add(k)
            if i + 2 < n and not (w[i + 2] == a and i + 3 < n and w[i + 3] == b):
                y = w[i + 2]  # right neighbour y that is not itself the start of a merge
                delta[(b, y)] = delta.get((b, y), 0) - f
                delta[(new, y)] = delta.get((new, y), 0) + f
                where.setdefault((new, y), set()).add(k)
            out.append(new)
            i += 2
        else:
            out.append(w[i])
            i += 1
    words[k] = out
