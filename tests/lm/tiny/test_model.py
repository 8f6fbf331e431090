"""The tiny models: each input side learns, the FLOPs count matches a hand count, the parameter
count is the same for every side, and real deletion equals the soft gate once it saturates."""
import types

import numpy as np
import pytest
import torch

from tokenworks.errors import InvalidInput
from tokenworks.lm.tiny.config import INPUTS, TinyConfig
from tokenworks.lm.tiny.flops import non_embedding_params, plain_forward, pooled_forward
from tokenworks.lm.tiny.model import TinyLM, check_params
from tokenworks.lm.tiny.pooled import last_kept_mixture
from tokenworks.lm.tiny.word_pool import word_starts

TEXT = ("It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
        "want of a wife. However little known the feelings or views of such a man may be on his first entering a "
        "neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is "
        "considered the rightful property of some one or other of their daughters. ") * 3  # about 1 KB


def small(inp: str, vocab: int = 257, **kw) -> TinyConfig:
    return TinyConfig(input=inp, vocab_size=vocab, seq_len=64, d_model=32, n_head=2, d_ff=64, n_layer=3, **kw)


@pytest.mark.parametrize("inp", INPUTS)
def test_every_input_side_overfits_one_kilobyte(inp):
    torch.manual_seed(0)
    data = np.frombuffer(TEXT.encode(), dtype=np.uint8).astype(np.int64)  # bytes; "tokens" reads them as ids too
    assert 900 < len(data) < 1200
    model = TinyLM(TinyConfig(input=inp, vocab_size=257, seq_len=64, d_model=64, n_head=2, d_ff=128, n_layer=3,
                              delete_target=0.3))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    rng = np.random.default_rng(0)
    first = None
    for step in range(800):
        s = rng.integers(0, len(data) - 65, size=16)
        w = torch.from_numpy(data[s[:, None] + np.arange(65)])  # (16, 65)
        model.set_progress(step / 800)  # as the trainer does: the delete gate's share ramps up
        out = model(w[:, :-1], w[:, 1:])
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        first = float(out.nll.detach()) if first is None else first
    model.eval()
    w = torch.from_numpy(data[np.arange(0, 640, 64)[:, None] + np.arange(65)])
    with torch.no_grad():
        final = float(model(w[:, :-1], w[:, 1:]).nll)  # with the hard gate
    assert first > 4.0  # about ln 257 at the start
    assert final < 0.8, f"{inp}: nll {first:.2f} -> {final:.2f}"  # far below the text's byte bigram entropy (~2.3)


def test_flops_match_a_hand_count():
    cfg = TinyConfig(input="tokens", vocab_size=10, seq_len=4, d_model=8, n_head=2, d_ff=16, n_layer=2)
    # per block and position: q,k,v,o 2*4*8*8 = 512; MLP 2*2*8*16 = 512; attention 2*2*4*8 = 128 -> 1152
    # 2 blocks x 4 positions x 1152 = 9216; output layer 4 positions x 2*8*10 = 640
    assert plain_forward(cfg, batch=1, T=4).total == 9216 + 640
    out = TinyLM(cfg)(torch.zeros(3, 4, dtype=torch.long))
    assert out.flops.total == 3 * (9216 + 640)
    # the pooled body: encoder and decoder blocks on 4 bytes, the middle block on the 2 kept
    p = TinyConfig(input="words", vocab_size=257, seq_len=4, d_model=8, n_head=2, d_ff=16, n_layer=3)
    middle = 2 * (512 + 512 + 2 * 2 * 2 * 8)  # 2 positions attending over 2
    assert pooled_forward(p, batch=1, T=4, middle=2, soft=False).total == 2 * 4 * 1152 + middle + 4 * 2 * 8 * 257
    x = torch.tensor([[104, 32, 105, 33]])  # "h i!": kept at 0 and at the space
    assert TinyLM(p).eval()(x).flops.total == 2 * 4 * 1152 + middle + 4 * 2 * 8 * 257


@pytest.mark.parametrize("inp", INPUTS)
def test_parameter_count_formula_and_equal_across_sides(inp):
    model = TinyLM(small(inp))
    check_params(model)
    base = non_embedding_params(small("bytes"))
    assert model.non_embedding_params() - base == (33 if inp == "delete" else 0)  # the gate: C + 1


def test_hard_deletion_equals_the_soft_gate():
    """The gate is straight-through: its forward pass is the hard decision, so the training path
    (every position, deleted keys masked by the attention bias, the last-kept mixture) and the
    inference path (the middle blocks on the kept positions only) compute the same thing."""
    torch.manual_seed(1)
    model = TinyLM(small("delete")).eval()
    x = torch.randint(0, 257, (3, 64))
    logits = torch.randn(3, 64)
    model.body.gate.logits = types.MethodType(lambda self, h: logits[: h.shape[0]], model.body.gate)
    hard, soft = model(x, hard=True), model(x, hard=False)
    assert torch.equal(hard.kept, soft.kept)
    assert 0.3 < float(hard.kept.float().mean()) < 0.7
    assert torch.allclose(hard.logits, soft.logits, atol=1e-4)
    assert hard.flops.total < soft.flops.total  # the middle blocks ran on fewer positions
    # the gate still learns: its gradient reaches the score layer through the sigmoid
    model = TinyLM(small("delete")).train()
    model(x, x).loss.backward()
    assert float(model.body.gate.score.weight.grad.abs().sum()) > 0


def test_last_kept_mixture_is_one_hot_for_a_binary_gate():
    keep = torch.tensor([[1, 0, 0, 1, 0, 1]], dtype=torch.bool)
    lk = torch.zeros(1, 6).masked_fill(~keep, -60.0)
    ld = torch.zeros(1, 6).masked_fill(keep, -60.0)
    w = last_kept_mixture(lk, ld)[0]
    assert w.argmax(1).tolist() == [0, 0, 0, 3, 3, 5]
    assert torch.allclose(w.sum(1), torch.ones(6), atol=1e-6)


def test_word_rule_is_causal_and_caps_word_length():
    x = np.frombuffer(b"ab cd\n" + "长" .encode() * 8, dtype=np.uint8).astype(np.int64)[None]
    keep = word_starts(x, max_word=6)[0]
    assert keep[0] and keep[2] and keep[5] and not keep[1]
    gaps = np.diff(np.flatnonzero(keep))
    assert gaps.max() <= 6  # Chinese (no spaces) is cut every 6 bytes
    # the rule at position t reads bytes up to t only
    y = x.copy()
    y[0, 10:] = 32
    assert (word_starts(y, 6)[0][:10] == keep[:10]).all()


def test_bad_configs_name_the_field():
    with pytest.raises(InvalidInput, match="input must be one of tokens, bytes, delete, words"):
        TinyLM(TinyConfig(input="chars"))
    with pytest.raises(InvalidInput, match="vocab_size must be 257"):
        TinyLM(TinyConfig(input="bytes", vocab_size=1000))
    with pytest.raises(InvalidInput, match="encoder, one middle and one decoder"):
        TinyLM(small("words", enc_layers=2, dec_layers=1))
    with pytest.raises(InvalidInput, match="multiple of n_head"):
        TinyLM(TinyConfig(d_model=30, n_head=4))
