"""PSNR, SSIM, rate, EfficientNet-Lite0 and its feature distance."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.metrics.image import PSNR_CAP_DB, mean_psnr, psnr, psnr_of_mean_mse, psnr_of_mse, ssim, ssim_details
from tokenworks.metrics.rate import (code_counts, doubling_ks, entropy_bytes, entropy_of, token_bytes,
                                     token_bytes_whole_bits, unigram_from_counts)


def _rand(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _noisy(a, sigma, seed=1):
    n = np.random.default_rng(seed).normal(0, sigma, a.shape)
    return np.clip(a.astype(float) + n, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# PSNR / SSIM
# --------------------------------------------------------------------------------------------


def test_psnr_values_and_identical_images():
    a = np.zeros((8, 8, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 255  # MSE = 255^2 / 192
    assert psnr(a, b) == pytest.approx(10 * math.log10(192))
    assert psnr(a, a) == PSNR_CAP_DB == 100.0  # identical images read the cap, not inf
    batch = np.stack([a, a, b])
    p = psnr(batch, np.stack([a, a, a]))  # (3,)
    assert p.shape == (3,) and (p[:2] == PSNR_CAP_DB).all() and np.isfinite(p).all()
    assert p[2] == pytest.approx(10 * math.log10(192))
    assert mean_psnr(batch, np.stack([a, a, a])) == pytest.approx((200 + 10 * math.log10(192)) / 3)
    assert psnr_of_mean_mse(batch, np.stack([a, a, a])) == pytest.approx(10 * math.log10(576))
    assert psnr_of_mean_mse(batch, batch) == PSNR_CAP_DB  # every image exact: the cap, not inf
    with pytest.raises(InvalidInput, match="same shape"):
        psnr(a, a[:4])
    with pytest.raises(InvalidInput, match="uint8"):
        psnr(a.astype(float), b.astype(float))


def test_psnr_is_capped_at_100_db_so_means_stay_finite():
    assert psnr_of_mse(0.0) == 100.0 and psnr_of_mse(1e-9) == 100.0  # the cap holds near-exact ones too
    assert psnr_of_mse(255.0 ** 2) == pytest.approx(0.0)
    np.testing.assert_allclose(psnr_of_mse(np.array([[0.0, 1.0], [4.0, 0.0]])),  # any shape in, the same out
                               [[100.0, 10 * math.log10(255 ** 2)], [10 * math.log10(255 ** 2 / 4), 100.0]])
    # one value off by one level: 89 dB in a 64x64 RGB image, below the cap
    a = np.zeros((64, 64, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 1
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 * a.size)) and psnr(a, b) < 90


def test_doubling_ks():
    assert doubling_ks(1) == [1]
    assert doubling_ks(2) == [1, 2]
    assert doubling_ks(256) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert doubling_ks(240) == [1, 2, 4, 8, 16, 32, 64, 128, 240]  # T itself ends the grid, once
    assert doubling_ks(np.int64(5)) == [1, 2, 4, 5] and all(type(k) is int for k in doubling_ks(np.int64(5)))
    for T in range(1, 300):
        ks = doubling_ks(T)
        assert ks[-1] == T and len(set(ks)) == len(ks) and ks == sorted(ks)
    for bad in (0, -1, 2.0, True, "8"):
        with pytest.raises(InvalidInput, match="T .the number of tokens. must be an int >= 1"):
            doubling_ks(bad)


def _ssim_reference(x, y, win=11, sigma=1.5):
    """Slow, direct SSIM of one grey image: every window explicitly."""
    g = np.exp(-0.5 * ((np.arange(win) - win // 2) / sigma) ** 2)
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for i in range(x.shape[0] - win + 1):
        for j in range(x.shape[1] - win + 1):
            px, py = x[i:i + win, j:j + win], y[i:i + win, j:j + win]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
            cxy = (w * (px - mx) * (py - my)).sum()
            vals.append(((2 * mx * my + c1) * (2 * cxy + c2))
                        / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))
    return float(np.mean(vals))


def test_ssim_matches_a_direct_computation():
    a = _rand((20, 24))
    b = _noisy(a, 20)
    assert ssim(a, b) == pytest.approx(_ssim_reference(a.astype(float), b.astype(float)),
                                       rel=1e-9)


def test_ssim_identical_is_one_and_noise_lowers_it():
    a = _rand((2, 32, 32, 3))
    assert np.allclose(ssim(a, a), 1.0)
    assert ssim(a[0], a[0], channels="y") == pytest.approx(1.0)
    s1, s2 = ssim(a, _noisy(a, 5)), ssim(a, _noisy(a, 40))
    assert (s1 > s2).all() and (s1 < 1).all()


def test_ssim_small_images_shrink_the_window_or_fail_clearly():
    a = _rand((6, 9, 3))
    d = ssim_details(a, _noisy(a, 10))
    assert d.window == 5 and d.sigma == pytest.approx(1.5 * 5 / 11)
    with pytest.raises(InvalidInput, match="at least 3x3"):
        ssim(_rand((2, 8, 3)), _rand((2, 8, 3)))
    with pytest.raises(InvalidInput, match="rgb, y"):
        ssim(a, a, channels="lab")


# --------------------------------------------------------------------------------------------
# Rate
# --------------------------------------------------------------------------------------------


def test_token_bytes():
    assert token_bytes(256, 1024) == 320  # 256 * 10 bits / 8
    assert token_bytes(1, 1024) == 2  # 10 bits -> 2 bytes
    assert token_bytes(3, 1000) == 4  # 3 * 9.97 = 29.9 bits -> 4 bytes
    assert token_bytes_whole_bits(3, 1000) == 4  # 30 bits
    assert token_bytes(64, 4096) == 96
    assert token_bytes(0, 8) == 0 and token_bytes(5, 1) == 0
    with pytest.raises(InvalidInput, match="vocabulary size"):
        token_bytes(4, 0)


def test_entropy_bytes():
    V = 16
    uniform = np.full(V, 1 / V)
    ids = np.arange(32) % V
    e = entropy_bytes(ids, uniform)
    assert e.bits == pytest.approx(32 * 4) and e.nbytes == 16 == e.fixed_bytes
    skew = unigram_from_counts(code_counts(np.zeros(100, int), V), alpha=0.5)
    e2 = entropy_bytes(np.zeros(32, int), skew)
    assert e2.nbytes < 4 and e2.model_bits == 0 and "model" in e2.note
    assert entropy_of(uniform) == pytest.approx(4)
    with pytest.raises(InvalidInput, match="probability 0"):
        entropy_bytes([1], np.eye(V)[0])
    with pytest.raises(InvalidInput, match=r"\[0, 15\]"):
        entropy_bytes([16], uniform)


# --------------------------------------------------------------------------------------------
# EfficientNet-Lite0 and the feature distance
# --------------------------------------------------------------------------------------------


def _net():
    from tokenworks.image.efficientnet_lite import load_efficientnet_lite0

    try:
        return load_efficientnet_lite0()
    except AssetMissing as e:
        pytest.skip(f"asset missing: {e}")


def test_efficientnet_loads_strictly_with_every_key():
    from tokenworks.image.efficientnet_lite import EfficientNetLite0, weights_path

    _net()
    sd = torch.load(weights_path(), map_location="cpu", weights_only=True)
    fresh = EfficientNetLite0()
    assert set(fresh.state_dict()) == set(sd)
    res = fresh.load_state_dict(sd, strict=True)
    assert not res.missing_keys and not res.unexpected_keys
    assert sum(p.numel() for p in fresh.parameters()) == 4_652_008


def test_efficientnet_recognises_a_ladybird():
    from tokenworks.assets import asset_path
    from tokenworks.image._io import to_rgb_array

    net = _net()
    try:
        photo = asset_path("mate-backgrounds") / "usr/share/backgrounds/mate/nature/LadyBird.jpg"
    except AssetMissing as e:
        pytest.skip(f"asset missing: {e}")
    x = torch.from_numpy(to_rgb_array(photo, 224).array).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        top5 = net(x)[0].topk(5).indices.tolist()
    assert 301 in top5  # ImageNet class 301: ladybug


def test_feature_distance_zero_for_identical_and_grows_with_noise():
    from tokenworks.metrics.perceptual import NAME, FeatureDistanceConfig, feature_distance

    _net()
    a = _rand((3, 32, 32, 3), seed=4)
    a = np.repeat(np.repeat(a[:, ::4, ::4], 4, 1), 4, 2)  # blocky, not pure noise
    cfg = FeatureDistanceConfig(input_size=64)
    d0 = feature_distance(a, a, cfg)
    assert np.all(d0.per_image == 0) and d0.name == NAME and "LPIPS" not in NAME
    d1 = feature_distance(a, _noisy(a, 8), cfg).per_image
    d2 = feature_distance(a, _noisy(a, 40), cfg).per_image
    assert (d1 > 0).all() and (d2 > d1).all()
    assert feature_distance(a[0], a[1], cfg).per_stage.shape == (1, len(cfg.stages))


def test_feature_distance_is_differentiable():
    from tokenworks.metrics.perceptual import FeatureDistanceConfig, feature_distance_t

    _net()
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    d = feature_distance_t(x, torch.rand(2, 3, 32, 32), FeatureDistanceConfig(input_size=64))
    d.sum().backward()
    assert d.shape == (2,) and x.grad is not None and x.grad.abs().sum() > 0
