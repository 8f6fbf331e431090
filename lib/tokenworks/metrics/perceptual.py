"""tokenworks EfficientNet-Lite0 feature distance: a perceptual distance, explicitly NOT LPIPS.

LPIPS learns per-channel weights from human judgements; this has no learned weights and is
not calibrated against people. It compares the activations of a frozen ImageNet
EfficientNet-Lite0 (``tokenworks.image.efficientnet_lite``, weights from the
efficientnet-lite0 asset) the way LPIPS does otherwise:

    both images resized to ``input_size`` (bilinear, antialiased when shrinking)
    for each stage s in ``stages``: f = features, unit-normalised over channels at each pixel
        d_s = mean over pixels of || f_a - f_b ||^2          (0 for identical, at most 4)
    distance = mean over stages of d_s

Report it by its full name (``NAME``) so nobody mistakes it for LPIPS numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InvalidInput

NAME = "tokenworks EfficientNet-Lite0 feature distance"


@dataclass(frozen=True)
class FeatureDistanceConfig:
    input_size: int = 128  # images are resized to this square size before the network
    stages: tuple[int, ...] = (0, 1, 2, 3, 5)  # of 7; strides 2, 4, 8, 16, 32; 16..192 channels
    batch_size: int = 32  # images per forward pass (numpy inputs)


@dataclass
class FeatureDistance:
    per_image: np.ndarray  # (N,) distance per image pair
    per_stage: np.ndarray  # (N, S) d_s per image pair and stage
    mean: float  # mean of per_image
    name: str = NAME
    config: FeatureDistanceConfig = field(default_factory=FeatureDistanceConfig)


def feature_distance_t(x: torch.Tensor, y: torch.Tensor,
                       config: FeatureDistanceConfig | None = None) -> torch.Tensor:
    """(B,) distances between (B, 3, H, W) float batches in [0, 1]; differentiable in x, y."""
    return _per_stage_t(x, y, config or FeatureDistanceConfig()).mean(dim=1)


def _per_stage_t(x: torch.Tensor, y: torch.Tensor, cfg: FeatureDistanceConfig) -> torch.Tensor:
    from ..image.efficientnet_lite import load_efficientnet_lite0

    if x.shape != y.shape or x.ndim != 4 or x.shape[1] != 3:
        raise InvalidInput(f"feature distance takes two (B, 3, H, W) batches of the same "
                           f"shape; got {tuple(x.shape)} and {tuple(y.shape)}")
    bad = [s for s in cfg.stages if not 0 <= s < 7]
    if bad or not cfg.stages:
        raise InvalidInput(f"stages must be a non-empty subset of 0..6; got {cfg.stages}")
    net = load_efficientnet_lite0(x.device)
    both = _resize(torch.cat([x, y]).float(), cfg.input_size)  # (2B, 3, S, S)
    feats = net.features(both)  # 7 x (2B, C_i, H_i, W_i)
    out = []
    for s in cfg.stages:
        f = F.normalize(feats[s], dim=1, eps=1e-10)  # unit length over channels
        fa, fb = f.chunk(2)  # (B, C, H, W) each
        out.append(((fa - fb) ** 2).sum(dim=1).mean(dim=(1, 2)))  # (B,)
    return torch.stack(out, dim=1)  # (B, S)


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-2:] == (size, size):
        return x
    shrink = min(x.shape[-2:]) > size
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=shrink)


def feature_distance(a, b, config: FeatureDistanceConfig | None = None,
                     device: str | torch.device | None = None) -> FeatureDistance:
    """Distance between uint8 images (H, W, 3) or batches (N, H, W, 3); 0 when identical."""
    cfg = config or FeatureDistanceConfig()
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise InvalidInput(f"the two image batches must have the same shape; got {a.shape} "
                           f"and {b.shape}")
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise InvalidInput(f"images must be uint8; got {a.dtype} and {b.dtype}")
    if a.ndim == 3:
        a, b = a[None], b[None]  # (1, H, W, 3)
    if a.ndim != 4 or a.shape[-1] != 3 or a.shape[0] == 0:
        raise InvalidInput(f"give (H, W, 3) or (N, H, W, 3) uint8 images; got {a.shape}")
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    rows = []
    with torch.no_grad():
        for i in range(0, len(a), cfg.batch_size):
            x = torch.from_numpy(a[i:i + cfg.batch_size]).to(dev).permute(0, 3, 1, 2)
            y = torch.from_numpy(b[i:i + cfg.batch_size]).to(dev).permute(0, 3, 1, 2)
            rows.append(_per_stage_t(x.float() / 255, y.float() / 255, cfg).cpu())  # (B, S)
    per_stage = torch.cat(rows).double().numpy()  # (N, S)
    same = np.all(a.reshape(len(a), -1) == b.reshape(len(b), -1), axis=1)  # (N,)
    per_stage[same] = 0.0  # exactly 0 for identical images (float noise aside)
    per_image = per_stage.mean(axis=1)  # (N,)
    return FeatureDistance(per_image=per_image, per_stage=per_stage,
                           mean=float(per_image.mean()), config=cfg)
