"""Scoring with a language model (tokenworks.lm.score, LanguageModel.score / generate, load_lm)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tokenworks as tw
from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.lm.score import score_ids

TEXT = "The old lighthouse keeper climbed the stairs every evening to light the lamp for passing ships."


class BigramNet:
    """A fake network whose prediction depends only on the last token: windows cannot change it."""

    def __init__(self, V=50, seed=0):
        self.table = np.log(np.random.default_rng(seed).dirichlet(np.ones(V), size=V)).astype(np.float32)  # (V, V)
        self.calls = 0

    def window_logprobs(self, ids):
        import torch

        self.calls += 1
        return torch.from_numpy(self.table[np.asarray(ids)])  # (T, V)


def test_sliding_window_scores_every_token_once():
    net = BigramNet()
    ids = list(np.random.default_rng(1).integers(1, 50, 300))
    full = score_ids(net, 0, ids, window=1000, stride=500, k=5)
    net.calls = 0
    slid = score_ids(net, 0, ids, window=64, stride=16, k=5)
    np.testing.assert_allclose(slid[0], full[0], rtol=1e-6)  # logprobs (T,)
    np.testing.assert_array_equal(slid[2], full[2])  # top ids (T+1, k)
    assert net.calls == slid[4] == math.ceil((301 - 64) / 16) + 1
    want = [net.table[a, b] for a, b in zip([0] + ids[:-1], ids)]
    np.testing.assert_allclose(full[0], want, rtol=1e-6)


def test_stride_must_fit_the_window():
    with pytest.raises(ValueError, match="stride"):
        score_ids(BigramNet(), 0, [1, 2], window=8, stride=8, k=3)


def test_score_agrees_with_transformers_on_the_same_gguf(smollm2):
    """Bits per byte from a direct transformers computation (its own GGUF reader and tokenizer
    conversion) on the same file: within 0.5%."""
    pytest.importorskip("accelerate")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tokenworks.text.smollm2 import gguf_path

    path = gguf_path()
    tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name).eval()
    ids = [0] + tok(TEXT, add_special_tokens=False).input_ids
    with torch.inference_mode():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].double(), -1)  # (T+1, V)
    bits = -float(logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum()) / math.log(2)
    want = bits / len(TEXT.encode())
    r = smollm2.score(TEXT)
    assert r.tokens.ids.tolist() == ids[1:]
    assert abs(r.bits_per_byte - want) / want < 0.005
    del model


def test_score_result(smollm2):
    r = smollm2.score(TEXT)
    T = len(r.tokens.ids)
    assert r.logprobs.shape == r.entropy.shape == (T,) and r.top_ids.shape == (T, 10)
    assert (r.logprobs <= 0).all() and (r.entropy >= 0).all()
    assert r.bits_per_byte == pytest.approx(r.surprisal.sum() / len(TEXT.encode()))
    assert 0.3 < r.bits_per_byte < 2.0  # English prose: SmolLM2 measured ~1.16 on package descriptions
    # the top-k are sorted and the chosen token's probability is at most the top one's
    assert (np.diff(r.top_probs, axis=1) <= 1e-12).all()
    assert (np.exp(r.logprobs) <= r.top_probs[:, 0] + 1e-9).all()
    ids, probs, ent = r.after(T - 1)
    assert ids.shape == (10,) and probs[0] >= probs[-1] and ent == r.next_entropy
    np.testing.assert_array_equal(r.after(0)[0], r.top_ids[1])


def test_score_and_generate_refuse_bad_input(smollm2):
    with pytest.raises(InvalidInput, match="empty"):
        smollm2.score("")
    with pytest.raises(InvalidInput, match="at most"):
        smollm2.score("x" * 20_001)
    with pytest.raises(InvalidInput, match="1..400"):
        smollm2.generate("Hi", max_bytes=401)
    with pytest.raises(InvalidInput, match="exact, tokens"):
        smollm2.generate("Hi", method="beam")


def test_generate_tokens_and_bytes(smollm2):
    g = smollm2.generate("The capital of France is", max_bytes=12, method="tokens")
    assert g.method == "tokens" and len(g.data) >= 1 and g.text.strip()
    b = smollm2.generate("The capital of France is Par", max_bytes=4, method="exact")
    assert b.data.startswith(b"is") and len(b.data) <= 4 and len(b.probs) == len(b.data)


def test_load_lm_is_shared_and_names_its_asset(smollm2, tmp_path, monkeypatch):
    assert tw.load_lm("lm/smollm2-135m") is smollm2
    assert smollm2.info.layers == 30 and smollm2.info.vocab_size == 49152 and smollm2.info.heads == 9
    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path))
    with pytest.raises(AssetMissing, match="tokenworks assets fetch smollm2-135m"):
        tw.load_lm("lm/smollm2-135m")
    with pytest.raises(InvalidInput, match="lm/smollm2-135m"):
        tw.load_lm("lm/gpt-5")
