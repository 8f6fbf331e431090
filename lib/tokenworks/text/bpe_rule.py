"""The byte-level BPE merge rule that the encoder (``bpe.py``) and the trainers (``bpe_train.py``,
``train_counts.py``) share: a merge table built from merges in the order they were learned
(``merge_table``), and that table applied to one chunk's ids (``bpe_merge``: lowest new id first,
leftmost on ties), optionally recording each application (``MergeStep``).

Symbols: n ids in the chunk.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Sequence

from ..errors import InvalidInput


@dataclass(frozen=True)
class MergeStep:
    """One merge applied while encoding a chunk."""

    index: int  # position of the left token in the chunk's token list just before the merge
    offset: int  # byte offset of the merged token inside the chunk
    left: int  # the two ids merged ...
    right: int
    new_id: int  # ... and the id they become


def merge_table(merges: Sequence[tuple[int, int]], tokens: list[bytes], error: type[Exception] = InvalidInput,
                what: str = "merge") -> dict[tuple[int, int], int]:
    """``(left, right) -> new id`` for merges given in order (new ids follow ``tokens``);
    extends ``tokens`` with their bytes. A merge using an id not yet defined raises ``error``."""
    table: dict[tuple[int, int], int] = {}
    for a, b in merges:
        a, b = int(a), int(b)
        if not (0 <= a < len(tokens) and 0 <= b < len(tokens)):
            raise error(f"{what} ({a}, {b}) #{len(table)} refers to an id not yet defined "
                        f"(ids so far: 0..{len(tokens) - 1})")
        table[(a, b)] = len(tokens)
        tokens.append(tokens[a] + tokens[b])
    return table


def bpe_merge(ids: list[int], merges: dict[tuple[int, int], int], steps: list[MergeStep] | None = None,
              lengths: Sequence[int] | None = None) -> list[int]:
    """Apply BPE merges to one chunk's ids: lowest new id first, leftmost on ties.

    A doubly linked list over the positions plus a heap of candidate pairs keyed by
    ``(new id, position)``: each merge costs O(log n), so a 100 000-byte chunk is O(n log n).
    Heap entries go stale when a neighbour merges; they are recognised and skipped on pop
    (a position's id only ever grows into a longer token, so an old ``(left, right)`` cannot
    come back). ``steps`` (if given) receives a MergeStep per merge; it needs ``lengths``, the
    byte length of every id, to report offsets.
    """
    n = len(ids)
    if n < 2:
        return list(ids)
    ids = list(ids)
    nxt = list(range(1, n + 1))  # position of the next live token (n: none)
    prv = list(range(-1, n - 1))  # position of the previous live token (-1: none)
    heap = []
    for i in range(n - 1):
        new = merges.get((ids[i], ids[i + 1]))
        if new is not None:
            heap.append((new, i, ids[i], ids[i + 1]))
    heapq.heapify(heap)
    while heap:
        new, i, a, b = heapq.heappop(heap)
        j = nxt[i]
        if ids[i] != a or j >= n or ids[j] != b:
            continue  # stale: one side has merged with something else since
        if steps is not None:
            steps.append(MergeStep(-1, i, a, b, new))  # offset/index filled in by the caller
        ids[i] = new
        ids[j] = -1
        k = nxt[j]
        nxt[i] = k
        if k < n:
            prv[k] = i
            m = merges.get((new, ids[k]))
            if m is not None:
                heapq.heappush(heap, (m, i, new, ids[k]))
        p = prv[i]
        if p >= 0:
            m = merges.get((ids[p], new))
            if m is not None:
                heapq.heappush(heap, (m, p, ids[p], new))
    return [t for t in ids if t >= 0]
