"""SmolLM2's causal attention (tokenworks.lm.attention) and the information flow from the last
token (tokenworks.lm.flow): the rollout's algebra without a model, then one shared SmolLM2."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm import attention as la
from tokenworks.lm.flow import FLOW_METHODS, attention_rollout, information_flow

TEXT = "The cat sat on the mat. Then the cat saw a 🐟 and sat up."


def _causal_maps(L: int, H: int, T: int, seed: int = 0) -> np.ndarray:
    """(L, H, T, T) random row-stochastic, lower-triangular maps."""
    rng = np.random.default_rng(seed)
    a = rng.random((L, H, T, T)) * np.tril(np.ones((T, T)))
    return a / a.sum(-1, keepdims=True)


# ---- rollout, no model -----------------------------------------------------------------------

def test_rollout_rows_sum_to_one_and_nothing_flows_from_later_tokens():
    r = attention_rollout(_causal_maps(5, 3, 7))  # (L, T, T)
    assert r.shape == (5, 7, 7)
    assert np.allclose(r.sum(-1), 1.0, atol=1e-12)
    assert np.abs(np.triu(r, k=1)).max() == 0.0
    assert (r >= 0).all()


def test_rollout_by_hand():
    a = np.array([[[1.0, 0.0], [0.5, 0.5]]])  # (L=1, T, T)
    # 0.5 A + 0.5 I = [[1, 0], [0.25, 0.75]]; rows already sum to 1
    assert np.allclose(attention_rollout(a)[-1], [[1.0, 0.0], [0.25, 0.75]])
    two = attention_rollout(np.stack([a[0], a[0]]))[-1]  # the same layer twice: the product
    assert np.allclose(two, np.array([[1, 0], [0.25, 0.75]]) @ np.array([[1, 0], [0.25, 0.75]]))
    assert np.allclose(attention_rollout(a, residual=0.0)[-1], a[0])  # no residual: the map itself


def test_one_position_flows_only_to_itself():
    assert attention_rollout(np.ones((30, 9, 1, 1)))[-1].tolist() == [[1.0]]


def test_rollout_refuses_bad_shapes_and_residuals():
    with pytest.raises(InvalidInput, match=r"\(L, T, T\)"):
        attention_rollout(np.ones((3, 4)))
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        attention_rollout(np.ones((1, 2, 2)) / 2, residual=1.5)


def test_token_labels_show_spaces_and_cut_characters():
    assert la.token_label(b" cat") == "␣cat"
    assert la.token_label(b"\n") == "↵"
    assert la.token_label(b"\xf0\x9f") == "<0xF0><0x9F>"


@pytest.mark.parametrize("bad, says", [("", "empty"), ("  \n", "empty"), (None, "empty"), (b"x", "string"),
                                       ("a" * (la.MAX_CHARS + 1), "limit is 20,000")])
def test_bad_text_is_refused_before_the_model(bad, says):
    with pytest.raises(InvalidInput, match=says):
        la.check_text(bad)


# ---- SmolLM2 ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def res(smollm2):
    return la.causal_attention(smollm2, TEXT)


def test_shapes_rows_and_the_causal_mask(res, smollm2):
    T = len(res.tokens)
    assert res.attentions.shape == (30, 9, T, T) and res.attentions.dtype == np.float32
    assert np.allclose(res.attentions.sum(-1), 1.0, atol=1e-4)
    assert np.abs(np.triu(res.attentions, k=1)).max() < 1e-6  # a token never sees a later one
    assert res.total_tokens == T and not res.truncated and res.causal and res.bos_shown
    assert res.num_layers == 30 and res.num_heads == 9
    assert np.allclose(res.view(4, "average"), res.attentions[4].mean(0), atol=1e-6)
    assert res.describe("average", "average") == "average of all 270 heads (30 layers x 9)"


def test_document_start_first_then_the_text_tokens_with_their_spans(res, smollm2):
    first = res.tokens[0]
    assert first.special and first.id == smollm2.bos_id == 0 and first.text == "<|endoftext|>"
    ids = smollm2.tokenizer.encode(TEXT).ids.tolist()
    assert [t.id for t in res.tokens[1:]] == ids
    raw = TEXT.encode("utf-8")
    assert b"".join(raw[t.byte_start:t.byte_end] for t in res.tokens[1:]) == raw  # the spans tile the text
    assert "␣cat" in res.labels and any(lab.startswith("<0x") for lab in res.labels)  # the emoji is cut in bytes
    assert res.attentions[:, :, 1:, 0].mean() > 0.3  # the attention sink: the first position takes much of it


def test_value_norms_are_the_lengths_of_what_each_head_moves(res, smollm2):
    """Position 0 attends only to itself, so its value-norm equals the length of its attention
    output (o_proj of the heads' outputs), caught here with a hook."""
    import torch

    T = len(res.tokens)
    assert res.value_norms.shape == (30, T, T) and (res.value_norms >= 0).all()
    assert np.abs(np.triu(res.value_norms, k=1)).max() == 0.0
    outs = []
    hooks = [layer.self_attn.register_forward_hook(lambda _m, _i, out: outs.append(out[0][0, 0]))
             for layer in smollm2.net.module.model.layers]
    try:
        with smollm2.net.lock, torch.inference_mode():
            smollm2.net.module(torch.tensor([[t.id for t in res.tokens]]), use_cache=False)
    finally:
        for h in hooks:
            h.remove()
    direct = np.array([float(o.norm()) for o in outs])  # (L,)
    assert np.allclose(res.value_norms[:, 0, 0], direct, rtol=1e-4)


@pytest.mark.parametrize("method", FLOW_METHODS)
def test_flow_from_the_last_token(res, method):
    f = information_flow(res, method)
    T = len(res.tokens)
    assert f.rollout.shape == (T, T) and f.per_layer.shape == (30, T) and f.method == method
    assert np.allclose(f.rollout.sum(-1), 1.0, atol=1e-9)
    assert np.abs(np.triu(f.rollout, k=1)).max() == 0.0
    assert np.allclose(f.per_layer[-1], f.flow) and np.isclose(f.flow.sum(), 1.0)
    assert f.query == T - 1 and f.labels == res.labels and f.first_absorbs
    assert f.rest[0] == 0.0 and np.isclose(f.rest.sum(), 1.0)  # the rest, shared out
    assert np.allclose(f.rest[1:], f.flow[1:] / f.flow[1:].sum())
    assert np.allclose(f.rest_per_layer.sum(-1), 1.0)


def test_flow_of_a_one_token_text_is_trivial(smollm2):
    r = la.causal_attention(smollm2, "Hi")
    assert len(r.tokens) == 2  # the document start and "Hi"
    f = information_flow(r)
    assert f.rollout[0].tolist() == [1.0, 0.0]  # the first position has only itself
    assert np.isclose(f.flow.sum(), 1.0)
    stay = 0.5 * r.attentions[:, :, 1, 1].astype(np.float64).mean(1) + 0.5  # (L,) each layer's A'[1, 1]
    assert np.isclose(f.flow[1], np.prod(stay), rtol=1e-6)  # two positions: what stays home is the product


def test_long_text_is_cut_and_said(smollm2):
    r = la.causal_attention(smollm2, "word " * 400, value_norms=False)
    assert len(r.tokens) == la.MAX_TOKENS and r.truncated and r.value_norms is None
    assert any("truncated" in n and str(la.MAX_TOKENS) in n for n in r.notes)
    with pytest.raises(InvalidInput, match="value norms are measured for SmolLM2 only"):
        information_flow(r, "value-norm")
    with pytest.raises(InvalidInput, match="rollout, value-norm"):
        information_flow(r, "gradients")
