"""How many tokens the training corpus takes after each merge of byte-level BPE, exactly.

A merge of two different tokens ``(a, b)`` replaces every occurrence of the pair, and the
trainer's count for it (``TrainMerge.count``, occurrences weighted by chunk frequency) is exactly
how many: the corpus loses that many tokens. A merge of a token with itself is different: the
trainer counts overlapping occurrences (``a a a`` holds the pair twice) but the merge rewrites
left to right (``a a a`` -> ``aa a``, one token fewer), so for runs of ``a`` the count overstates
the saving; indentation (runs of spaces) makes this large on code. For those merges the counter
looks at the chunks themselves: it brings each chunk that holds the bytes of ``a a`` up to date
with the merges so far (BPE in rank order from the chunk's last known state reaches the same
tokens as the trainer's merge-by-merge rewriting) and counts the pairs the left-to-right rewrite
takes.

    counter = TrainTokenCount(docs, GPT4_PATTERN)     # the same chunks train_bpe counts
    counter.tokens                                    # before any merge: the corpus bytes
    counter.add(merge)                                # a TrainMerge, in training order -> tokens after it

``initial_merges`` starts from merges learned earlier (SuperBPE's stage 2): every chunk begins
as its bytes with those merges applied, as ``train_bpe`` does.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from .bpe_rule import bpe_merge, merge_table
from .bpe_train import TrainMerge, chunk_bytes, count_chunks


class TrainTokenCount:
    """The token count of a training corpus as merges are learned (see the module docstring)."""

    def __init__(self, corpus: Iterable[str | bytes], pattern: str | None,
                 initial_merges: Sequence[tuple[int, int]] = ()):
        counts, self.nbytes = count_chunks(corpus, pattern)  # nbytes: the corpus bytes (UTF-8 or raw)
        self._chunks = [chunk_bytes(w) for w in counts]  # distinct pretokenized chunks
        self._freqs = list(counts.values())
        self._tokens: list[bytes] = [bytes([i]) for i in range(256)]  # id -> bytes
        self._table = merge_table(initial_merges, self._tokens)  # (left, right) -> new id; the id is the rank
        self._state: dict[int, list[int]] = {}  # chunk index -> its ids after the merges known when last looked at
        if initial_merges:
            self._state = {k: bpe_merge(list(c), self._table) for k, c in enumerate(self._chunks)}
            self.tokens = sum(f * len(self._state[k]) for k, f in enumerate(self._freqs))
        else:
            self.tokens = sum(f * len(c) for c, f in zip(self._chunks, self._freqs))
        self.initial_tokens = self.tokens  # before the first merge given to add()

    @property
    def bytes_per_token(self) -> float:
        return self.nbytes / max(self.tokens, 1)

    def add(self, merge: TrainMerge) -> int:
        """Account for the next merge (in training order); the corpus's token count after it."""
        a, b = merge.pair
        self.tokens -= merge.count if a != b else self._self_pairs(a)
        self._table[(a, b)] = merge.new_id
        self._tokens.append(self._tokens[a] + self._tokens[b])
        return self.tokens

    def _self_pairs(self, a: int) -> int:
        """How many ``a a`` pairs merging ``(a, a)`` now rewrites (left to right), frequency-weighted."""
        needle = self._tokens[a] * 2
        total = 0
        for k, chunk in enumerate(self._chunks):
            if needle not in chunk:
                continue
            ids = bpe_merge(self._state.get(k) or list(chunk), self._table)  # the chunk after every merge so far
            self._state[k] = ids
            pairs, i = 0, 0
            while i + 1 < len(ids):
                if ids[i] == a and ids[i + 1] == a:
                    pairs += 1
                    i += 2
                else:
                    i += 1
            total += pairs * self._freqs[k]
        return total
