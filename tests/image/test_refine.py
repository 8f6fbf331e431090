"""Refined encoding (tokenworks.image.refine): better decodes from the same model and bytes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tokenworks.errors import InvalidInput
from tokenworks.image._nn import to_pixels
from tokenworks.image._shapes import smooth_gradients as smooth_images
from tokenworks.image.flex1d import Flex1DConfig
from tokenworks.image.grid import GridConfig
from tokenworks.image.refine import RefineConfig, refine_encode
from tokenworks.image.tokenizer import ImageTokenizer
from tokenworks.metrics.image import psnr

FLEX = Flex1DConfig(image_size=16, patch_size=4, width=32, heads=2, encoder_layers=2, decoder_layers=1, tokens=8,
                    tokens_per_slot=2)  # an untrained 8-token flex1d at 16x16
GRID = GridConfig(image_size=16, channels=(8, 16, 16), code_dim=8, codebook_size=16, lookup_dim=4)


@pytest.fixture(scope="module")
def flex():
    torch.manual_seed(0)
    return ImageTokenizer.create("flex1d", FLEX, name="image/flex1d-refine-test")


@pytest.fixture(scope="module")
def grid():
    torch.manual_seed(0)
    tok = ImageTokenizer.create("grid", GRID, name="image/grid-refine-test")
    tok.model.train()  # one pass initialises the VQ codebook (k-means)
    with torch.no_grad():
        tok.model(to_pixels(smooth_images(8)))
    tok.model.eval()
    return tok


@pytest.fixture(scope="module")
def images():
    return smooth_images(6, seed=3)


def test_budget_mode_beats_the_one_pass_ids_and_reports_what_decode_gives(flex, images):
    k = 5
    r = refine_encode(flex, images, RefineConfig(keep=k, steps=25, lr=0.1, batch=4))
    assert r.mode == "budget" and r.ks == [k] and r.codes.shape == (6, flex.num_tokens)
    assert np.array_equal(r.plain_codes, flex.encode_batch(images))
    plain = psnr(flex.decode_batch(r.plain_codes, keep=k), images)
    refined = psnr(flex.decode_batch(r.codes, keep=k), images)
    np.testing.assert_allclose(r.psnr_before[:, 0], plain, atol=1e-3)  # the result's numbers are decode()'s
    np.testing.assert_allclose(r.psnr_after[:, 0], refined, atol=1e-3)
    assert (refined >= plain - 0.05).all()  # the best step is kept; the plain ids are step 0
    assert refined.mean() > plain.mean() + 0.02  # an untrained decoder barely listens; the shipped one: below
    assert r.improved.any()
    assert ((r.codes >= 0) & (r.codes < flex.vocab_size)).all()
    assert np.array_equal(r.codes[:, k:], r.plain_codes[:, k:])  # the tokens after k: untouched


def test_strip_mode_scores_every_prefix_and_never_loses_monotonicity_or_objective(flex, images):
    r = refine_encode(flex, images, RefineConfig(steps=15, lr=0.1, batch=6))
    assert r.mode == "strip" and r.ks == [1, 2, 4, 8] and r.psnr_after.shape == (6, 4)
    assert r.gain_db.shape == (4,)
    log_mse = lambda p: -p * np.log(10) / 10  # noqa: E731 - PSNR in dB -> log MSE up to a constant
    for P in (r.psnr_before, r.psnr_after):
        assert np.isfinite(P).all()
    # the objective is the sum of log-MSE plus the monotone hinge; the refined ids score no worse
    def objective(P):
        lm = log_mse(P)
        return lm.sum(1) + 5.0 * np.maximum(np.diff(lm, axis=1) + 0.002, 0).sum(1)
    mono_before = (np.diff(r.psnr_before, axis=1) >= -0.05).all(1)  # PSNR rounding aside
    mono_after = (np.diff(r.psnr_after, axis=1) >= -0.05).all(1)
    # a step that never falls as k grows ranks first, then the objective: no image loses either way
    assert (mono_after | (objective(r.psnr_after) <= objective(r.psnr_before) + 0.05)).all()
    assert (mono_after | ~mono_before).all()


def test_zero_steps_returns_the_one_pass_ids_and_leaves_the_model_as_it_was(flex, images):
    before = {n: p.detach().clone() for n, p in flex.model.named_parameters()}
    flex.model.train()
    r = refine_encode(flex, images[:2], RefineConfig(keep=4, steps=0))
    assert np.array_equal(r.codes, r.plain_codes) and not r.improved.any()
    refine_encode(flex, images[:2], RefineConfig(keep=4, steps=3))
    assert flex.model.training  # the mode it came in with
    flex.model.eval()
    for n, p in flex.model.named_parameters():
        assert torch.equal(p, before[n]), n
        assert p.grad is None, n  # gradients went to the token vectors only


def test_grid_models_refine_the_whole_grid(grid, images):
    r = refine_encode(grid, images, RefineConfig(steps=20, lr=0.1))
    assert r.mode == "grid" and r.codes.shape == (6, grid.model.grid, grid.model.grid)
    plain = psnr(grid.decode_batch(r.plain_codes), images)
    refined = psnr(grid.decode_batch(r.codes), images)
    assert (refined >= plain - 0.05).all() and refined.mean() > plain.mean()


def test_single_image_encode_takes_refine_and_says_so(flex, grid, images):
    seq = flex.encode(images[0], refine=RefineConfig(keep=8, steps=5))
    info = seq.meta["refined"]
    assert info["mode"] == "budget" and info["ks"] == [8] and info["steps"] == 5
    assert info["psnr_refined"][0] >= info["psnr_one_pass"][0] - 0.05
    assert "refined" not in flex.encode(images[0]).meta
    gseq = grid.encode(images[0], refine=RefineConfig(steps=3))
    assert gseq.ids.shape == (grid.model.grid, grid.model.grid) and gseq.meta["refined"]["mode"] == "grid"


@pytest.mark.parametrize("cfg, words", [
    (RefineConfig(steps=-1), "steps must be an int in 0..10000"),
    (RefineConfig(steps=2.5), "steps must be an int"),
    (RefineConfig(lr=0), "lr must be a number in (0, 10]"),
    (RefineConfig(lr=float("nan")), "lr must be a number"),
    (RefineConfig(keep=0), "keep must be None (the whole strip) or an int in 1..8"),
    (RefineConfig(keep=9), "an int in 1..8"),
    (RefineConfig(keep=True), "keep must be None"),
    (RefineConfig(batch=0), "batch must be a positive int"),
    (RefineConfig(monotone_weight=-1), "monotone_weight must be >= 0"),
    ({"steps": 3}, "needs a RefineConfig"),
])
def test_bad_configs_name_what_is_allowed(flex, images, cfg, words):
    with pytest.raises(InvalidInput, match=None) as e:
        refine_encode(flex, images[:1], cfg)
    assert words in str(e.value)


def test_grid_refuses_a_prefix_and_bad_batches_are_refused(grid, flex, images):
    with pytest.raises(InvalidInput, match="decodes all of its tokens"):
        refine_encode(grid, images[:1], RefineConfig(keep=4))
    with pytest.raises(InvalidInput, match=r"batches of \(N, 16, 16, 3\)"):
        refine_encode(flex, images[:, :8], RefineConfig(steps=1))


def test_the_shipped_flex1d_gains_at_300_bytes_on_the_sample_images():
    """The number the bench reports, in small: refined ids of the shipped model decode clearly closer."""
    from tokenworks import registry
    from tokenworks.image.benchmarks import _sample_images

    tok = registry.load("image/flex1d-emoji64")
    imgs = _sample_images(tok.image_size, 4)  # (4, 64, 64, 3)
    r = refine_encode(tok, imgs, RefineConfig(keep=240, steps=10))
    assert r.gain_db[0] > 0.5, r.gain_db
    assert (r.psnr_after[:, 0] >= r.psnr_before[:, 0]).all()


def test_bench_rows_compare_refined_and_one_pass_ids_with_the_codecs(monkeypatch):
    from tokenworks.bench.harness import BenchContext
    from tokenworks.image import benchmarks

    monkeypatch.setattr(benchmarks, "_test_images", lambda data, limit: benchmarks._sample_images(64, 6))
    monkeypatch.setattr(benchmarks, "_BEST", {})
    ctx = BenchContext(quick=True, repeats=1)
    benchmarks.bench_refined(ctx)
    names = [r.name for r in ctx.rows]
    assert sum("made for" in n for n in names) == 6  # 3 budgets x (file, payload) bytes
    assert sum("every prefix at once): PSNR at" in n for n in names) == 3
    mono = next(r for r in ctx.rows if "never falls" in r.name)
    assert 0 <= mono.value <= 1 and "one-pass ids:" in mono.notes and "over every k evaluated" in mono.notes
    for r in ctx.rows:
        assert np.isfinite(r.value) and r.value > 0, r
    budget = [r for r in ctx.rows if "made for" in r.name]
    assert all("target >= +1 dB" in r.notes and "the one-pass ids" in r.notes for r in budget)


def test_strip_mode_takes_extra_prefix_lengths_and_refuses_bad_ones(flex, images):
    r = refine_encode(flex, images[:2], RefineConfig(steps=2, extra_ks=(3, 5), extra_weight=2.0))
    assert r.mode == "strip" and r.ks == [1, 2, 3, 4, 5, 8] and r.psnr_after.shape == (2, 6)
    for cfg in (RefineConfig(extra_ks=(0,)), RefineConfig(extra_ks=(9,)), RefineConfig(keep=4, extra_ks=(3,))):
        with pytest.raises(InvalidInput, match="extra_ks must be prefix lengths in 1..8 for the strip mode"):
            refine_encode(flex, images[:1], cfg)
    with pytest.raises(InvalidInput, match="extra_weight must be >= 0"):
        refine_encode(flex, images[:1], RefineConfig(extra_weight=-1.0))
