"""Dynamic tokenization (tokenworks.lm.dynamic): BPE-style merges on one document or batch, and
bits per byte before and after."""
from __future__ import annotations

import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm.dynamic import Merges, dynamic_merges, dynamic_score


def test_merges_take_the_most_frequent_pair_first():
    m = dynamic_merges([[1, 2, 3, 1, 2, 3, 1, 2]], rounds=5, base_vocab=10)
    assert m.pairs[0] == (1, 2) and m.parts[0] == [1, 2]
    assert m.pairs[1] == (10, 3) and m.parts[1] == [1, 2, 3]  # a merged token merges again
    assert m.apply([1, 2, 3, 1, 2, 3, 1, 2]) == [11, 11, 10]
    assert len(m.pairs) == 2  # nothing else occurs twice


def test_batches_specials_and_limits():
    m = dynamic_merges([[5, 6], [5, 6], [0, 5, 0, 5]], rounds=3, base_vocab=10, keep={0})
    assert m.pairs == [(5, 6)]  # counted over the batch; pairs with the special token 0 never merge
    assert dynamic_merges([[1, 2, 1, 2]], 0, 10).pairs == []
    with pytest.raises(InvalidInput, match="0..4096"):
        dynamic_merges([[1, 2]], -1, 10)


def test_expanding_merges_gives_back_the_tokens():
    ids = [3, 4, 3, 4, 5, 3, 4, 5, 9, 3, 4, 5]
    m = dynamic_merges([ids], 10, 100)
    flat = [p for t in m.apply(ids) for p in (m.parts[t - 100] if t >= 100 else [t])]
    assert flat == ids and len(m.apply(ids)) < len(ids)
    assert isinstance(Merges(1, []).apply([0]), list)


def test_dynamic_score_on_smollm2(smollm2):
    text = "The right to rest and leisure, the right to rest and leisure, and the right to work."
    zero = dynamic_score(smollm2, text, 0)
    assert zero.tokens_after == zero.tokens_before and zero.bpb_after == pytest.approx(zero.bpb_before, rel=1e-9)
    assert zero.bpb_before == pytest.approx(smollm2.score(text).bits_per_byte, rel=1e-5)
    s = dynamic_score(smollm2, text, 8)
    assert s.merges > 0 and s.tokens_after < s.tokens_before and 0 < s.reduction < 1
    assert s.bpb_after > 0 and s.n_bytes == len(text.encode())
    with pytest.raises(InvalidInput, match="at most"):
        dynamic_score(smollm2, "word " * 2000, 4)
