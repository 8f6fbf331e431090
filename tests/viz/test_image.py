"""Image inspection (tokenworks.image.inspect) and its figures (tokenworks.viz.image), on tiny
untrained models: shapes, what the numbers mean, and which traces each figure holds."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from tokenworks.errors import InvalidIds, InvalidInput
from tokenworks.image import inspect as ins
from tokenworks.image.codecs import rd_curve
from tokenworks.image.flex1d import Flex1DConfig, bytes_for_tokens
from tokenworks.image.grid import GridConfig
from tokenworks.image.tokenizer import ImageTokenizer
from tokenworks.metrics.image import psnr
from tokenworks.viz import image as viz

FLEX = Flex1DConfig(width=64, heads=2, encoder_layers=1, decoder_layers=1, tokens=16, tokens_per_slot=2,
                    refine_channels=8, refine_features=4)
GRID = GridConfig(image_size=32, channels=(8, 16, 16), groups=4, code_dim=8, codebook_size=32, lookup_dim=0)


@pytest.fixture(scope="module")
def flex():
    torch.manual_seed(0)
    return ImageTokenizer.create("flex1d", FLEX)


@pytest.fixture(scope="module")
def grid():
    torch.manual_seed(0)
    return ImageTokenizer.create("grid", GRID)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:64]
    base = np.stack([x * 4, y * 4, (x + y) * 2], -1)  # (64, 64, 3) smooth gradients
    noise = rng.integers(0, 60, (6, 64, 64, 3))
    return np.clip(base[None] + noise, 0, 255).astype(np.uint8)  # (6, 64, 64, 3)


def image_traces(fig: go.Figure) -> list:
    return [t for t in fig.data if isinstance(t, go.Image)]


# ---- prefix strip -----------------------------------------------------------------------------


def test_prefix_strip_flex1d(flex, images):
    s = ins.prefix_strip(flex, images[0])
    assert s.ks == [1, 2, 4, 8, 16]
    assert s.images.shape == (5, 64, 64, 3) and s.images.dtype == np.uint8
    seq = flex.encode(images[0])
    for k, im, p, b in zip(s.ks, s.images, s.psnr, s.nbytes):
        assert np.array_equal(im, flex.decode(seq, keep=k))
        assert p == pytest.approx(psnr(im, s.original))
        assert b == bytes_for_tokens(k, flex.vocab_size)
    assert np.array_equal(s.original, flex.prepare(images[0]).array)
    assert ins.prefix_strip(flex, images[0], ks=[16, 3]).ks == [3, 16]
    with pytest.raises(InvalidInput, match="1..16"):
        ins.prefix_strip(flex, images[0], ks=[0, 4])
    fig = viz.strip_figure(s)
    assert len(image_traces(fig)) == 6  # the original + 5 prefixes


def test_prefix_strip_grid_is_one_full_decode(grid, images):
    s = ins.prefix_strip(grid, images[0])
    assert s.ks == [64] and s.images.shape == (1, 32, 32, 3)
    assert np.array_equal(s.images[0], grid.decode(grid.encode(images[0])))
    assert s.nbytes == [bytes_for_tokens(64, 32)]
    with pytest.raises(InvalidInput, match="grid"):
        ins.prefix_strip(grid, images[0], ks=[4])


# ---- attention, influence, faithfulness -------------------------------------------------------


def test_attention_maps(flex, grid, images):
    a = ins.attention_maps(flex, images[0])
    assert a.shape == (16, 64, 64)
    np.testing.assert_allclose(a.sum((1, 2)), 1.0, rtol=1e-4)
    att = flex.attention(images[0])
    np.testing.assert_allclose(a[3, :8, :8], att.maps(None)[3, 0, 0] / 64, rtol=1e-5)  # patch 0 spread over 8x8
    a0 = ins.attention_maps(flex, images[0], layer=0)
    np.testing.assert_allclose(a0.reshape(16, 8, 8, 8, 8)[:, :, 0, :, 0] * 64, att.per_layer[0].reshape(16, 8, 8), rtol=1e-5)
    with pytest.raises(InvalidInput, match="0..0"):
        ins.attention_maps(flex, images[0], layer=3)
    g = ins.attention_maps(grid, images[0])  # one-hot cells
    assert g.shape == (64, 32, 32)
    assert np.count_nonzero(g[9]) == 16 and g[9, 4:8, 4:8].sum() == pytest.approx(1.0)  # token 9 = row 1, col 1


def test_influence_maps(flex, grid, images):
    inf = ins.influence_maps(flex, images[0])
    assert inf.shape == (16, 64, 64) and inf.dtype == np.float32
    assert (inf.reshape(16, -1).max(1) > 0).all()  # every token changes something
    sub = ins.influence_maps(flex, images[0], tokens=[5, 2])
    np.testing.assert_allclose(sub, inf[[5, 2]], atol=1e-3)
    part = ins.influence_maps(flex, images[0], keep=5)  # only the first 5 tokens are decoded
    assert (part[:5].reshape(5, -1).max(1) > 0).all()
    assert np.all(part[5:] == 0)  # tokens past the prefix change nothing
    g = ins.influence_maps(grid, images[0])
    assert g.shape == (64, 32, 32) and g.reshape(64, -1).max(1).min() > 0
    with pytest.raises(InvalidIds, match="0..15"):
        ins.influence_maps(flex, images[0], tokens=[16])


def test_replacement_is_a_different_code(flex, grid, images):
    for tok in (flex, grid):
        ids = tok.encode(images[0]).ids.reshape(-1)
        new = ins.replacement_codes(tok, ids)
        assert new.shape == ids.shape and np.all(new != ids)
        cb = tok.codebook()
        d = np.linalg.norm(cb[ids][:, None] - cb[None], axis=-1)  # (T, V)
        np.testing.assert_allclose(d[np.arange(ids.size), new], d.max(1), rtol=1e-5)


def test_faithfulness():
    rng = np.random.default_rng(1)
    a = rng.random((4, 8, 8))
    f = ins.faithfulness(a, a)
    np.testing.assert_allclose(f.per_token, 1.0)
    assert f.mean == pytest.approx(1.0)
    assert ins.faithfulness(a, -a).mean == pytest.approx(-1.0)
    up = np.repeat(np.repeat(a, 4, 1), 4, 2)  # (4, 32, 32): the same maps at a finer resolution
    assert ins.faithfulness(up, a).mean == pytest.approx(1.0) and ins.faithfulness(up, a).resolution == (8, 8)
    const = ins.faithfulness(np.ones((2, 4, 4)), a[:2, :4, :4])
    assert np.isnan(const.per_token).all() and np.isnan(const.mean)
    with pytest.raises(InvalidInput):
        ins.faithfulness(a, a[:3])


# ---- edits --------------------------------------------------------------------------------


def test_edit_tokens(flex, grid, images):
    for tok in (flex, grid):
        ids = tok.encode(images[1]).ids
        flat = ids.reshape(-1)
        new = int(ins.replacement_codes(tok, flat[[2]])[0])
        e = ins.edit_tokens(tok, ids, {2: new, 4: int(flat[4])})  # the second edit is a no-op
        assert e.changed == [2]
        diff = e.ids_after.reshape(-1) != flat
        assert diff.sum() == 1 and e.ids_after.reshape(-1)[2] == new and e.ids_after.shape == ids.shape
        assert np.array_equal(e.before, tok.decode(ids)) and np.array_equal(e.after, tok.decode(e.ids_after))
        assert e.diff.shape == e.before.shape[:2] and e.diff.max() > 0
        assert np.array_equal(ids, tok.encode(images[1]).ids)  # the input is not modified
        fig = viz.edit_figure(e)
        assert len(image_traces(fig)) == 2 and sum(isinstance(t, go.Heatmap) for t in fig.data) == 1
    ids = flex.encode(images[1]).ids
    with pytest.raises(InvalidIds, match="0..15"):
        ins.edit_tokens(flex, ids, {16: 0})
    with pytest.raises(InvalidIds, match="0..999"):
        ins.edit_tokens(flex, ids, {0: 1000})
    e = ins.edit_tokens(flex, ids, {10: 7}, keep=4)  # an edit past the prefix changes no pixel
    assert e.changed == [10] and np.all(e.diff == 0)


# ---- usage and gallery ----------------------------------------------------------------------


def test_usage_counts(flex, grid, images):
    for tok in (flex, grid):
        c = ins.usage_counts(tok, images, batch=4)
        assert c.shape == (tok.vocab_size,) and c.sum() == len(images) * tok.num_tokens
        ids = tok.encode_batch(np.stack([tok.prepare(x).array for x in images]))
        assert np.array_equal(c, np.bincount(ids.reshape(-1), minlength=tok.vocab_size))
        rep = ins.usage_health(c)
        assert rep.levels[0].total == c.sum() and rep.dead == int((c == 0).sum())
        fig = viz.usage_figure(c)
        assert [type(t).__name__ for t in fig.data] == ["Bar", "Scatter"]
        assert fig.layout.xaxis2.type == "log" and fig.layout.yaxis2.type == "log"
        assert list(fig.data[1].y) == sorted(c[c > 0].tolist(), reverse=True)


def test_codebook_gallery_grid(grid, images):
    g = ins.codebook_gallery(grid, images, n=5, nearest=3)
    counts = ins.usage_counts(grid, images)
    assert list(g.counts) == sorted(counts, reverse=True)[:len(g.codes)]
    assert np.array_equal(g.counts, counts[g.codes]) and g.example_unit == "cells"
    for j, c in enumerate(g.codes):
        assert np.array_equal(g.renders[j], grid.render_token(int(c)))
        assert 1 <= len(g.examples[j]) <= 3
        for ex, (i, (x0, y0, x1, y1)) in zip(g.examples[j], g.sources[j]):
            assert ex.shape == (12, 12, 3)  # the 4 px cell with one cell of context around it
            ids = grid.encode(images[i]).ids
            assert ids[y0 // 4, x0 // 4] == c  # the cell really uses that code
    fig = viz.gallery_figure(g)
    assert len(image_traces(fig)) == 1 and list(fig.data[1].text) == [str(c) for c in g.codes]
    assert len(fig.data[2].text) == len(g.codes) + sum(map(len, g.examples))  # one hover per tile


def test_codebook_gallery_flex1d(flex, images):
    g = ins.codebook_gallery(flex, images, n=4, nearest=2)
    assert g.example_unit == "images" and g.renders.shape == (len(g.codes), 64, 64, 3)
    assert np.array_equal(g.renders[0], flex.render_token(int(g.codes[0])))
    per = [np.bincount(flex.encode(x).ids, minlength=flex.vocab_size) for x in images]
    for j, c in enumerate(g.codes):
        used = [per[i][c] for i, _ in g.sources[j]]
        assert used == sorted(used, reverse=True) and min(used) > 0
        assert max(used) == max(p[c] for p in per)
    plain = ins.codebook_gallery(flex, n=6)
    assert list(plain.codes) == list(range(6)) and plain.counts is None
    assert len(image_traces(viz.gallery_figure(plain))) == 1


# ---- figures ------------------------------------------------------------------------------------


def test_rd_figure(flex, images):
    strip = ins.prefix_strip(flex, images[0])
    curve = rd_curve(images[:2], "jpeg", [10, 50])
    fig = viz.rd_figure({"jpeg": curve, "webp": ([100, 300], [20.0, 25.0])}, {"flex1d": strip}, pixels=64 * 64)
    assert [t.name for t in fig.data] == ["jpeg", "webp", "flex1d"]
    assert list(fig.data[2].x) == strip.nbytes and list(fig.data[2].y) == strip.psnr
    assert list(fig.data[0].x) == list(curve.mean_bytes) and fig.layout.xaxis.type == "log"
    assert [t.name for t in viz.rd_figure([curve], strip).data] == ["jpeg", "tokens"]
    with pytest.raises(InvalidInput, match="RDCurve"):
        viz.rd_figure({"bad": 3})


def test_token_grid_figure(flex, grid, images):
    ids = grid.encode(images[0]).ids
    fig = viz.token_grid_figure(grid, images[0], ids)
    text = [t for t in fig.data if isinstance(t, go.Scatter) and t.mode == "text"][0]
    assert list(text.text) == [str(v) for v in ids.reshape(-1)]
    fids = flex.encode(images[0]).ids
    fig = viz.token_grid_figure(flex, images[0], fids)
    hm = [t for t in fig.data if isinstance(t, go.Heatmap)][0]
    assert np.array_equal(np.asarray(hm.z).reshape(-1)[:16], fids)


def test_attention_and_influence_figures(flex, images):
    img = flex.prepare(images[0]).array
    att = ins.attention_maps(flex, img)
    fig = viz.attention_figure(img, att, 3)
    hm = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert len(image_traces(fig)) == 2 and len(hm) == 1
    np.testing.assert_allclose(hm[0].z, att[3] * att[3].size, rtol=1e-5)  # shown as x uniform
    inf = ins.influence_maps(flex, img)
    fa = ins.faithfulness(att, inf)
    fig = viz.influence_figure(img, inf, 3, faithfulness=fa)
    assert "Spearman" in fig.layout.title.text
    assert np.array_equal([t for t in fig.data if isinstance(t, go.Heatmap)][0].z, inf[3])
    one = ins.influence_maps(flex, img, [7])
    fig = viz.influence_figure(img, one, 7, tokens=[7])
    assert np.array_equal([t for t in fig.data if isinstance(t, go.Heatmap)][0].z, one[0])
    with pytest.raises(InvalidInput, match="0..15"):
        viz.attention_figure(img, att, 16)


def test_view_timings(grid, images):
    t = viz.view_timings(grid, images[0])
    assert {"strip", "rd", "token_grid", "gallery", "usage", "attention", "influence", "edit"} <= set(t)
    assert all(v >= 0 for v in t.values())


def test_influence_figure_with_subset_faithfulness(flex, images):
    img = flex.prepare(images[0]).array
    tokens = [3, 9]
    inf = ins.influence_maps(flex, img, tokens)
    fa = ins.faithfulness(ins.attention_maps(flex, img)[tokens], inf)
    fig = viz.influence_figure(img, inf, 9, faithfulness=fa, tokens=tokens)
    assert f"Spearman {fa.per_token[1]:.2f}" in fig.layout.title.text
