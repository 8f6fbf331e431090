"""The quantizer lab (notebook 03's library): collapse really happens, and each fix really helps."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tokenworks.errors import InvalidInput
from tokenworks.image._shapes import synthetic_shapes
from tokenworks.quantizers import CodebookHealth
from tokenworks.teach.quantizer_lab import (
    METHODS,
    LabConfig,
    LabModel,
    assign,
    compare,
    decoded_codebook,
    image_patches,
    make_points,
    patches_to_images,
    straight_through_demo,
    train_lab,
)

torch.set_num_threads(1)
FIXES = ("kmeans", "ema", "restart", "cosine", "all", "fsq")


@pytest.fixture(scope="module")
def point_runs():
    """Every method on the same uniform square, 600 steps (about a second each)."""
    return compare(list(METHODS), make_points("square", seed=0), LabConfig(steps=600, seed=0))


def test_plain_vq_collapses(point_runs):
    vq = point_runs["vq"]
    assert vq.final.usage < 0.3, vq.final
    assert vq.final.dead > 0.7 * 64
    assert vq.final.perplexity < 20
    # it starts collapsed and stays so: the bad init leaves most codes out from step 0
    assert max(vq.series("usage")[1]) < 0.35


@pytest.mark.parametrize("fix", FIXES)
def test_each_fix_raises_usage(point_runs, fix):
    base, run = point_runs["vq"].final, point_runs[fix].final
    assert run.usage >= base.usage + 0.4, (fix, run, base)
    assert run.perplexity > 2 * base.perplexity, (fix, run, base)
    assert run.dead < base.dead


def test_fixes_reconstruct_better_than_collapse(point_runs):
    base = point_runs["vq"].final.recon_mse
    for fix in ("kmeans", "ema", "restart", "all", "fsq"):
        assert point_runs[fix].final.recon_mse < base, fix


def test_restart_counts_restarts_and_plain_does_not(point_runs):
    assert point_runs["restart"].final.restarted > 0
    assert point_runs["vq"].final.restarted == 0


def test_history_agrees_with_codebook_health(point_runs):
    run = point_runs["ema"]
    steps, usage = run.series("usage")
    assert steps[0] == 0 and steps[-1] == 600 and steps == sorted(steps)
    codes = run.model.codes(make_points("square", seed=0).test)  # same test set, same model
    rep = CodebookHealth(64).update(codes).result()
    assert rep.usage == pytest.approx(run.final.usage)
    assert rep.dead == run.final.dead == run.health.dead
    for s in run.history:
        assert 0.0 <= s.usage <= 1.0 and 0.0 <= s.entropy <= 1.0 and 1.0 <= s.perplexity <= 64.0
        assert s.dead == round((1 - s.usage) * 64)


def test_snapshots_are_2d_and_match_counts(point_runs):
    run = point_runs["vq"]
    assert [s.step for s in run.snapshots][0] == 0 and run.snapshots[-1].step == 600
    last = run.snapshots[-1]
    assert last.table.shape == (64, 2) and last.latents.shape[1] == 2
    assert int((last.counts > 0).sum()) == round(run.final.usage * 64)
    # the snapshot's codes are the nearest codes of its latents
    assert np.array_equal(assign(last.latents, last.table).codes, last.codes)
    assert point_runs["lfq"].snapshots[-1].table is None  # 6-D codes: nothing to draw in 2-D


def test_assign_is_nearest_and_cosine_is_angular():
    table = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    pts = np.array([[0.1, 0.1], [9.0, 0.5], [0.2, 3.0], [4.0, 0.1]], dtype=np.float32)
    a = assign(pts, table)
    assert a.codes.tolist() == [0, 1, 2, 0] and a.counts.tolist() == [2, 1, 1]
    assert a.distances[0] == pytest.approx(0.02, abs=1e-5)
    b = assign(np.array([[5.0, 0.2], [0.1, 0.05]], dtype=np.float32), table[1:], cosine=True)
    assert b.codes.tolist() == [0, 0]  # direction, not distance: the far code at (10, 0) wins both


def test_straight_through_gradient():
    d = straight_through_demo(target=0.3)
    assert np.all(d.grad_plain == 0)
    assert np.allclose(d.forward, np.round(d.z))
    assert np.allclose(d.grad_ste, 2 * (np.round(d.z) - 0.3), atol=1e-5)


def test_patches_collapse_and_restart_fixes():
    images = synthetic_shapes(60, size=32, seed=1)
    assert images.shape == (60, 32, 32, 3) and images.dtype == np.uint8 and images.std() > 10
    data = image_patches(images, patch=4, n=4096, test=1024, seed=0, name="shapes")
    assert data.train.shape == (4096, 48) and data.test.shape == (1024, 48)
    assert float(data.train.min()) >= -1 and float(data.train.max()) <= 1
    runs = compare(["vq", "restart"], data, LabConfig(steps=300, seed=0))
    assert runs["vq"].final.usage < 0.3
    assert runs["restart"].final.usage > runs["vq"].final.usage + 0.4
    tiles = patches_to_images(decoded_codebook(runs["restart"]), 4)
    assert tiles.shape == (64, 4, 4, 3) and tiles.dtype == np.uint8


def test_bad_inputs_name_the_choices():
    data = make_points("square", n=256, test=64)
    with pytest.raises(InvalidInput, match="choose one of"):
        train_lab(LabConfig(method="vqq"), data)
    with pytest.raises(InvalidInput, match="L\\^2"):
        LabModel(2, LabConfig(method="fsq", codebook_size=50))
    with pytest.raises(InvalidInput, match="power of 2"):
        LabModel(2, LabConfig(method="lfq", codebook_size=50))
    with pytest.raises(InvalidInput, match="blobs"):
        make_points("moons")
    with pytest.raises(InvalidInput, match="uint8"):
        image_patches(np.zeros((4, 8, 8, 3), dtype=np.float32))


def test_without_assets_shapes_stand_in_and_say_so(tmp_path, monkeypatch):
    import tokenworks.image.data as image_data
    from tokenworks.teach.quantizer_lab import images_or_shapes, synthetic_dataset

    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path))  # an empty cache: no assets, no data sets
    monkeypatch.setattr(image_data, "_MEMO", {})
    s = images_or_shapes("emoji64", "test", fallback_n=12)
    assert s.synthetic and s.images.shape == (12, 64, 64, 3)
    assert "synthetic" in s.label and "noto-emoji" in s.note
    ds = synthetic_dataset("test", 8, size=32)
    assert ds.images.shape == (8, 32, 32, 3) and len(ds.names) == 8 and ds.name == "shapes32"
    assert not np.array_equal(ds.images, synthetic_dataset("train", 8, size=32).images)
