"""Warm start of the codec trainer (``--init FOLDER``): a saved codec's config and weights.

The architecture comes from the checkpoint; only the training-time fields of ``WARM_START_FIELDS``
may differ from it (``--set``, a preset's model config). The weights come back as float32,
codebooks and their EMA state included.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..checkpoint import config_from_dict, load_checkpoint
from ..train.common import float32_state, warm_start_config
from .codec import CodecConfig

# CodecConfig fields that only shape training, so a warm start may change them
WARM_START_FIELDS = ("quantizer_dropout", "commitment_weight", "vq_decay", "dead_code_steps")


def load_warm_start(folder: str | Path, overrides: dict[str, Any]) -> tuple[CodecConfig, dict[str, torch.Tensor]]:
    """The config and state (parameters as float32, codebooks and their EMA state) of a saved codec."""
    ckpt = load_checkpoint(folder, allow_outside=True)
    base = config_from_dict(CodecConfig, ckpt.config)
    return warm_start_config(base, overrides, WARM_START_FIELDS, folder), float32_state(ckpt.tensors)
