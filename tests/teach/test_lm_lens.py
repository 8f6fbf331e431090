"""Embedding outliers (notebook 07's glance at under-trained tokens) on a small fake model whose
never-trained tokens are planted, and the UTF-8 reachability they start from."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tokenworks.errors import InvalidInput
from tokenworks.teach.lm_lens import embedding_outliers, in_some_utf8, never_produced


@pytest.mark.parametrize("data, ok", [
    ("é".encode(), True), (b"\xe2\x80", True), (b"\x80", True), (b"\x80\x80\x80", True), (b"\xf0\x90", True),
    (b"\xff", False), (b"\xc0", False), (b"\xc1", False), (b"a\x80", False), (b"\xe0\x80", False),
    (b"\x80\x80\x80\x80", False), (b"\xf4\x90", False),
])
def test_in_some_utf8(data, ok):
    assert in_some_utf8(data) is ok


class FakeVocab:
    """Tokens 0-2 control (0 the document start, 1 a chat marker, 2 unused); 3 the byte 0xFF;
    4 "ab", which the tokenizer writes as "a" + "b"; then ordinary tokens."""

    def __init__(self, words: list[str]):
        self.token_bytes = [b"", b"", b"", b"\xff", b"ab"] + [w.encode() for w in words]
        self.special = np.zeros(len(self.token_bytes), dtype=bool)  # (V,)
        self.special[:3] = True
        self.special_names = {0: "<|endoftext|>", 1: "<|im_start|>", 2: "<unused_marker>"}
        self._ids = {b: i for i, b in enumerate(self.token_bytes) if b and b != b"ab"}

    def encode_many(self, texts):
        return [[self._ids[t.encode()]] if t.encode() in self._ids else [self._ids[bytes([c])] for c in t.encode()]
                for t in texts]


def _fake_lm(planted: int, V: int = 40, D: int = 24, seed: int = 0):
    words = ["a", "b"] + [f"w{k}" for k in range(V - 7)]
    vocab = FakeVocab(words)
    g = torch.Generator().manual_seed(seed)
    unused = torch.randn(D, generator=g)  # the direction never-trained rows share
    shared = torch.randn(D, generator=g)  # a direction every row has, in varying amounts (the first PC)
    W = torch.randn(len(vocab.token_bytes), D, generator=g)  # (V, D)
    for i in (2, 3, 4, planted):
        W[i] = 3 * unused + 0.3 * torch.randn(D, generator=g)
    W += 8 * torch.randn(len(vocab.token_bytes), 1, generator=g) * shared  # (V, D)
    emb = torch.nn.Embedding.from_pretrained(W)
    net = SimpleNamespace(module=SimpleNamespace(get_input_embeddings=lambda: emb))
    return SimpleNamespace(name="fake", vocab=vocab, net=net, bos_id=0)


def test_never_produced():
    no_utf8, round_trip = never_produced(FakeVocab(["a", "b", "c"]))
    assert no_utf8.tolist() == [3] and round_trip.tolist() == [4]


def test_the_planted_token_ranks_with_the_never_produced_ones():
    planted = 20
    out = embedding_outliers(_fake_lm(planted), k=5)
    assert out.control_ids.tolist() == [2]  # not the document start, not the chat marker
    assert out.reference_ids.tolist() == [2, 3, 4]
    assert {t.id for t in out.top[:3]} == {3, 4, planted}
    assert [t.reference for t in out.top[:3] if t.id == planted] == [False]
    assert np.isnan(out.cosine[:3]).all()  # control tokens are not ranked
    assert out.top[0].cosine > 0.9 and np.nanmedian(out.cosine) < 0.5
    assert 0 < out.pc1_share < 1


def test_no_reference_set_is_an_error():
    lm = _fake_lm(20)
    lm.vocab.special[2] = False
    lm.vocab.token_bytes[2], lm.vocab.token_bytes[3], lm.vocab.token_bytes[4] = b"x", b"y", b"z"
    lm.vocab._ids.update({b"x": 2, b"y": 3, b"z": 4})
    with pytest.raises(InvalidInput, match="no reference set"):
        embedding_outliers(lm)
    with pytest.raises(InvalidInput, match="k must be"):
        embedding_outliers(_fake_lm(20), k=0)
