"""Warm start of the codec trainer (``--init FOLDER``): a saved codec's config and weights.

The architecture comes from the checkpoint; only the training-time fields of ``WARM_START_FIELDS``
may differ from it (``--set``, a preset's model config). The weights come back as float32,
codebooks and their EMA state included.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import config_from_dict, load_checkpoint
from ..train.common import float32_state, warm_start_config
from .codec import CodecConfig

# CodecConfig fields that only shape training, so a warm start may change them
WARM_START_FIELDS = ("quantizer_dropout", "commitment_weight", "vq_decay", "dead_code_steps")


@dataclass
class WarmStart:
    """What training starts from: the checkpoint's codec (config with the allowed overrides) and weights."""

    config: CodecConfig  # the checkpoint's, with the training-time overrides
    state: dict[str, torch.Tensor]  # the state dict (codebooks and their EMA state too); floating tensors as float32


def load_warm_start(folder: str | Path, overrides: dict[str, Any]) -> WarmStart:
    """Read the codec checkpoint in ``folder``; ``overrides`` (CodecConfig fields) may differ from it
    only in ``WARM_START_FIELDS`` (InvalidInput naming both lists otherwise)."""
    ckpt = load_checkpoint(folder, allow_outside=True)
    base = config_from_dict(CodecConfig, ckpt.config)
    return WarmStart(warm_start_config(base, overrides, WARM_START_FIELDS, folder), float32_state(ckpt.tensors))
