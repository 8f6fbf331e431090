"""The pre-tokenizer shortcut of byte_probs.exact (tokenworks.lm.validity) against re-encoding every
candidate with the tokenizer, on SmolLM2's whole vocabulary after tails chosen to hit each rule of
its pre-tokenizer (letters, spaces before letters and digits, apostrophes, punctuation, newlines,
digits, non-ASCII, special-token markers)."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.lm.validity import self_canonical, settled_by_split

TAILS = ["", "wor", " wor", "don", "don'", "'", " ", "  ", "\n", " \n", "x.", "...", "12", "1", " 1", "é",
         "naï", "\t", "<|im", "a-b", "it'l"]


@pytest.mark.parametrize("tail", TAILS)
def test_shortcut_agrees_with_reencoding(smollm2, tail):
    vocab = smollm2.vocab
    ids = np.flatnonzero(~vocab.special & np.array([bool(b) for b in vocab.token_bytes]))
    settled, valid = settled_by_split(vocab, tail, ids)
    texts, where = [], []
    for k in np.flatnonzero(settled).tolist():
        texts.append(tail + vocab.token_bytes[ids[k]].decode("utf-8"))
        where.append(k)
    base = vocab.encode(tail)
    truth = np.array([enc == base + [int(ids[k])] for k, enc in zip(where, vocab.encode_many(texts))])
    assert (valid[where] == truth).all(), [vocab.token_bytes[ids[k]] for k in np.array(where)[valid[where] != truth][:5]]
    if tail in ("wor", "don'", "  "):
        assert 0 < settled.sum() < len(ids)  # the shortcut leaves the joining tokens to the tokenizer
    if "<" in tail:
        assert not settled.any()


def test_self_canonical_has_the_unreachable_tokens(smollm2):
    canon = self_canonical(smollm2.vocab)
    assert canon[smollm2.vocab.encode(" the")[0]]
    assert 0 < (~canon).sum() < 2000  # special tokens, partial-UTF-8 tokens and tokens BPE never makes
