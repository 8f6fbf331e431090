"""Codebook refit (quantizers.refit): Lloyd with splitting spreads a lopsided codebook over the data."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tokenworks.errors import InvalidInput
from tokenworks.quantizers.refit import RefitConfig, refit_codebook
from tokenworks.quantizers.vq import VQ, VQConfig, nearest_codes


def lopsided(V: int = 32, C: int = 4, M: int = 4000, seed: int = 0) -> tuple[VQ, torch.Tensor]:
    """Data in 8 blobs; a codebook with most codes far from the data and a few near one blob."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(8, C, generator=g) * 4  # (8, C)
    x = centres[torch.randint(8, (M,), generator=g)] + 0.5 * torch.randn(M, C, generator=g)  # (M, C)
    vq = VQ(VQConfig(dim=C, codebook_size=V, kmeans_init=False))
    table = 20 + torch.randn(V, C, generator=g)  # (V, C) far away: unused
    table[:4] = centres[0] + 0.1 * torch.randn(4, C, generator=g)  # four codes on one blob
    vq._set_codes(torch.arange(V), table)
    return vq, x


def test_refit_uses_more_codes_more_evenly_and_lowers_distortion():
    vq, x = lopsided()
    r = refit_codebook(vq, x, RefitConfig(iters=12, split=8, final_lloyd=3))
    assert r.usage_before <= 4 / 32 + 1e-9 and r.usage_after == 1.0
    assert r.entropy_after > r.entropy_before + 0.3
    assert r.distortion_after < 0.2 * r.distortion_before
    assert r.moved > 0 and r.vectors == len(x)
    codes, dist = nearest_codes(x, vq._table(), False)  # the quantizer itself now holds the refitted codes
    assert torch.bincount(codes, minlength=32).gt(0).all()
    assert abs(float(dist.mean()) - r.distortion_after) < 1e-4
    assert torch.allclose(vq.ema_sum / vq.ema_count[:, None], vq.embed, atol=1e-5)  # EMA state agrees
    assert int(vq.unused_steps.sum()) == 0
    assert json.dumps(r.as_dict())  # goes into config.json


def test_refit_is_deterministic_and_plain_lloyd_never_moves_a_code_by_splitting():
    a, x = lopsided()
    b, _ = lopsided()
    ra, rb = refit_codebook(a, x, RefitConfig(seed=3)), refit_codebook(b, x, RefitConfig(seed=3))
    assert torch.equal(a.embed, b.embed) and ra.as_dict() == rb.as_dict()
    c, _ = lopsided()
    rc = refit_codebook(c, x, RefitConfig(iters=3, split=0, final_lloyd=0))
    assert rc.moved == 0 and rc.distortion_after <= rc.distortion_before


@pytest.mark.parametrize("cfg, words", [
    (RefitConfig(iters=0), "iters must be an int >= 1"),
    (RefitConfig(split=-1), "split must be an int >= 0"),
    (RefitConfig(iters=2, final_lloyd=3), "cannot exceed iters"),
    (RefitConfig(offset=0), "offset must be in (0, 1]"),
])
def test_bad_refit_configs_name_the_rule(cfg, words):
    vq, x = lopsided()
    with pytest.raises(InvalidInput) as e:
        refit_codebook(vq, x, cfg)
    assert words in str(e.value)


def test_refit_refuses_what_it_cannot_refit():
    vq, x = lopsided()
    with pytest.raises(InvalidInput, match=r"vectors \(M, 4\)"):
        refit_codebook(vq, x[:, :3])
    with pytest.raises(InvalidInput, match="at least V = 32 vectors"):
        refit_codebook(vq, x[:10])
    from tokenworks.quantizers import make_quantizer

    with pytest.raises(InvalidInput, match="works on a VQ quantizer"):
        refit_codebook(make_quantizer("fsq", levels=(8, 5, 5, 5)), x)


@pytest.fixture()
def synthetic(monkeypatch, synthetic_images):
    """The image trainer, reading synthetic16 from smooth synthetic images (tests/conftest.py)."""
    from tokenworks.image import train as T

    monkeypatch.setattr(T, "load_dataset", synthetic_images.load_dataset)
    return T, synthetic_images.fields


def _tiny(T, fields, tmp_path, name, model="grid", **kw):
    kw = {"data": "synthetic16", "steps": 30, "minutes": 0, "batch_size": 8, "device": "cpu", "threads": 1,
          "log_every": 1, "eval_limit": 8, "out": str(tmp_path / name), "model_config": fields[model], **kw}
    return T.train_image(T.preset_config(model, "cpu-tiny", **kw))


def test_the_image_trainer_refits_a_warm_started_grid_and_records_it(tmp_path, synthetic):
    T, fields = synthetic
    src = _tiny(T, fields, tmp_path, "src", warmup_steps=5).folder
    res = T.train_image(T.preset_config("grid", "cpu-tiny", init=str(src), data="synthetic16", steps=2, minutes=0,
                                        batch_size=8, device="cpu", threads=1, refit_codebook=3,
                                        out=str(tmp_path / "refit")))
    cfg = json.loads((res.folder / "config.json").read_text())
    r = cfg["metrics"]["codebook_refit"]
    assert r["config"]["iters"] == 3 and r["vectors"] == 64 * cfg["metrics"]["tokens"] and 0 < r["usage_after"] <= 1
    assert r["distortion_after"] <= r["distortion_before"] + 1e-6
    assert cfg["train"]["refit_codebook"] == 3


def test_the_image_trainer_refuses_a_refit_it_cannot_do(tmp_path, synthetic, capsys):
    T, fields = synthetic
    flex = _tiny(T, fields, tmp_path, "flex", model="flex1d", steps=2).folder
    assert T.main(["--init", str(flex), "--steps", "1", "--refit-codebook", "2", "--minutes", "0",
                   "--out", str(tmp_path / "x")]) == 2
    assert "needs a model with a VQ codebook" in capsys.readouterr().err
    assert T.main(["--model", "grid", "--data", "synthetic16", "--steps", "1", "--refit-codebook", "2",
                   "--minutes", "0", "--out", str(tmp_path / "y")]) == 2
    assert "use it with --init FOLDER" in capsys.readouterr().err
