"""Attention maps over MiniLM's WordPiece tokens: the library result and the figures (the tab's
handler: tests/app/test_attention_tab.py)."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.text import attention as attn

SENTENCE = "The cat sat on the mat, and the cat was happy: héllo 世界!"


needs_model = pytest.mark.usefixtures("minilm_model")  # skips without the asset (tests/conftest.py)


@pytest.fixture(scope="module")
def res(minilm_model):
    return attn.attention_map(SENTENCE)


# ---- the library result --------------------------------------------------------------------

@needs_model
def test_shapes_match_tokens_and_rows_sum_to_one(res):
    T = len(res.tokens)
    assert res.attentions.shape == (6, 12, T, T)
    assert res.attentions.dtype == np.float32
    assert np.allclose(res.attentions.sum(-1), 1.0, atol=1e-4)
    assert (res.attentions >= 0).all()
    assert [t.index for t in res.tokens] == list(range(T))
    assert res.total_tokens == T and not res.truncated and res.notes == []


@needs_model
def test_cls_sep_and_spans(res):
    assert res.labels[0] == "[CLS]" and res.labels[-1] == "[SEP]"
    assert res.tokens[0].special and res.tokens[-1].special
    assert not any(t.special for t in res.tokens[1:-1])
    raw = SENTENCE.encode("utf-8")
    for t in res.tokens[1:-1]:
        piece = SENTENCE[t.char_start:t.char_end]
        assert raw[t.byte_start:t.byte_end].decode("utf-8") == piece
        if t.text != "[UNK]":  # uncased WordPiece: lower case, accents stripped, "##" on continuations
            assert t.text.removeprefix("##") in (piece.lower(), "hello")
    assert res.labels.count("cat") == 2  # repeated words stay separate tokens
    cjk = [t for t in res.tokens if t.text == "世"][0]
    assert cjk.byte_end - cjk.byte_start == 3


@needs_model
def test_averages_are_means_of_heads(res):
    for layer in range(res.num_layers):
        assert np.allclose(res.view(layer, "average"), res.attentions[layer].mean(axis=0), atol=1e-6)
        assert np.allclose(res.layer_average(layer).sum(-1), 1.0, atol=1e-4)
    assert np.allclose(res.view("average", "average"), res.attentions.mean(axis=(0, 1)), atol=1e-6)
    assert np.array_equal(res.view(3, 7), res.attentions[3, 7])
    assert np.array_equal(res.view("3", "7"), res.attentions[3, 7])


@needs_model
def test_bad_choices_name_the_valid_ones(res):
    with pytest.raises(InvalidInput, match=r"0\.\.5"):
        res.view(6, 0)
    with pytest.raises(InvalidInput, match=r"0\.\.11 or 'average'"):
        res.view(0, "twelve")
    with pytest.raises(InvalidInput, match="choose a layer"):
        res.view("average", 3)


@needs_model
def test_long_input_is_truncated_and_said():
    r = attn.attention_map("word " * 300)
    assert len(r.tokens) == attn.MAX_TOKENS and r.attentions.shape[-1] == attn.MAX_TOKENS
    assert r.truncated and r.total_tokens == 302
    assert r.labels[-1] == "[SEP]"
    assert any("truncated" in n and "128" in n for n in r.notes)


@pytest.mark.parametrize("bad", ["", "   \n\t", None])
def test_empty_input_refused(bad):
    with pytest.raises(InvalidInput, match="empty"):
        attn.attention_map(bad)


def test_missing_asset_names_the_fetch_command(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path))  # an empty cache: the real lookup fails
    with pytest.raises(AssetMissing, match="tokenworks assets fetch minilm-model"):
        attn.attention_map("hello world")


# ---- the figures ----------------------------------------------------------------------------

@needs_model
def test_heatmap_has_token_labels_and_hover(res):
    from tokenworks.viz.attention import attention_heatmap

    fig = attention_heatmap(res, 2, 5)
    hm = fig.data[0]
    assert hm.type == "heatmap" and np.asarray(hm.z).shape == (len(res.tokens),) * 2
    assert list(fig.layout.xaxis.ticktext) == res.labels and list(fig.layout.yaxis.ticktext) == res.labels
    assert "->" in hm.hovertemplate and "%{z" in hm.hovertemplate
    assert hm.customdata[1][2][0].startswith("the (#1)") and hm.customdata[1][2][1].startswith("cat (#2)")
    assert "layer 2, head 5" in fig.layout.title.text


@needs_model
def test_linked_figure_strip_matches_the_row(res):
    from tokenworks.viz.attention import attention_figure

    fig = attention_figure(res, 1, "average", query=2)
    names = [t.name for t in fig.data]
    assert names == ["map", "strip", "tokens"]
    m = res.view(1, "average")
    assert np.allclose(np.asarray(fig.data[1].y), m[2], atol=1e-3)
    assert fig.layout.shapes[0].y0 == 1.5 and fig.layout.shapes[0].y1 == 2.5
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == res.labels
    assert np.allclose(steps[4].args[0]["y"][0], m[4], atol=1e-3)
    assert fig.layout.meta["tokens"] == res.labels
    assert list(fig.layout.xaxis2.ticktext) == res.labels
