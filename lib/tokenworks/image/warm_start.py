"""Warm start of the image trainer (``--init FOLDER``): a saved image tokenizer's config and weights.

The architecture comes from the checkpoint; only the training-time fields of ``WARM_START_FIELDS``
may differ from it (``--set``, a preset's model config). The weights come back as float32 (the
shipped checkpoints store float16), codebooks and their EMA buffers included. ``refit_to_images``
(``--refit-codebook N``) then fits a VQ codebook to the training images' encoder outputs before
the first step (``quantizers.refit``: Lloyd iterations with splitting, LBG).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from ..checkpoint import config_from_dict, load_checkpoint
from ..errors import CheckpointNotFound, InvalidInput, UnsafePath
from ..train.common import float32_state, warm_start_config
from ._nn import to_pixels
from .tokenizer import ARCHITECTURES, MODELS

# Model-config fields that only shape training, so a warm start may change them:
# grid (VQ): the commitment weight and when unused codes restart; flex1d: how prefix lengths are sampled.
WARM_START_FIELDS: dict[str, tuple[str, ...]] = {
    "grid": ("commitment_weight", "dead_code_steps"),
    "flex1d": ("keep_power", "keep_log_prob", "keep_all_prob", "keep_grid_prob"),
}


@dataclass
class WarmStart:
    """What training starts from: the checkpoint's model (config with the allowed overrides) and weights."""

    folder: Path  # the checkpoint read
    model: str  # grid | flex1d
    config: Any  # GridConfig | Flex1DConfig: the checkpoint's, with the training-time overrides
    state: dict[str, torch.Tensor]  # the state dict; floating tensors as float32
    info: dict[str, Any]  # the checkpoint's config.json (name, train section, metrics)


@dataclass
class InitSource:
    """What an image checkpoint says about its training: the CLI's defaults for --model and --data."""

    model: str  # grid | flex1d
    data: str | None  # the data set it was trained on (None: its config.json does not say)


def init_source(folder: str | Path) -> InitSource:
    """The architecture and training data set of the image checkpoint in ``folder`` (InvalidInput if none is there)."""
    ckpt = _load(folder)
    data = (ckpt.info.get("train") or {}).get("data")
    return InitSource(model=_architecture(ckpt, folder), data=data if isinstance(data, str) else None)


def preset_fields_for_init(model: str, preset_model: Mapping[str, Any]) -> dict[str, Any]:
    """A preset's model config with only the training-time fields kept (the architecture comes from --init)."""
    return {k: v for k, v in preset_model.items() if k in WARM_START_FIELDS.get(model, ())}


def load_warm_start(folder: str | Path, model: str, overrides: Mapping[str, Any],
                    image_size: int | None = None) -> WarmStart:
    """Read ``folder`` for a warm start of a ``model`` (grid | flex1d) trained on ``image_size`` images.

    ``overrides`` (model-config fields) may differ from the checkpoint only in
    ``WARM_START_FIELDS[model]``; anything else is refused, as is another architecture or image size."""
    ckpt = _load(folder)
    architecture = _architecture(ckpt, folder)
    if architecture != model:
        raise InvalidInput(f"--init {folder} holds a {architecture} model, not {model}; give --model {architecture} "
                           f"(or leave --model out to take it from the checkpoint)")
    _, config_cls = MODELS[model]
    config = warm_start_config(config_from_dict(config_cls, ckpt.config), dict(overrides), WARM_START_FIELDS[model],
                               folder)
    if image_size is not None and config.image_size != image_size:
        raise InvalidInput(f"--init {folder} is a model of {config.image_size}x{config.image_size} images; the data "
                           f"set has {image_size}x{image_size} images: choose a data set of "
                           f"{config.image_size}x{config.image_size} images")
    return WarmStart(folder=ckpt.folder, model=model, config=config, state=float32_state(ckpt.tensors), info=ckpt.info)


def _load(folder: str | Path):
    try:
        return load_checkpoint(folder, allow_outside=True)
    except (CheckpointNotFound, UnsafePath) as e:
        raise InvalidInput(f"--init {folder}: no checkpoint folder there ({e})") from None


def _architecture(ckpt, folder: str | Path) -> str:
    """grid | flex1d: the model of an image checkpoint (InvalidInput for a checkpoint of another kind)."""
    if ckpt.kind not in ARCHITECTURES:
        raise InvalidInput(f"--init {folder} holds a {ckpt.kind!r} checkpoint; the image trainer starts from "
                           f"{' or '.join(ARCHITECTURES)} checkpoints")
    return ARCHITECTURES[ckpt.kind]


@torch.no_grad()
def refit_to_images(model: torch.nn.Module, images: np.ndarray, iters: int, device: torch.device) -> dict[str, Any]:
    """Refit a warm-started VQ codebook to the encoder outputs of all training ``images`` (N, S, S, 3)
    (no augmentation) with ``iters`` Lloyd iterations with splitting; returns the refit's report."""
    from ..quantizers.refit import RefitConfig, check_refit, refit_codebook
    from ..quantizers.vq import VQ

    q = getattr(model, "quantizer", None)
    if not isinstance(q, VQ):
        raise InvalidInput(f"refit_codebook needs a model with a VQ codebook (grid with quantizer vq); "
                           f"this {type(model).__name__.lower()} model has {type(q).__name__}")
    rcfg = RefitConfig(iters=iters, final_lloyd=max(0, min(RefitConfig.final_lloyd, iters - 1)))
    check_refit(rcfg)  # before encoding the whole training set
    model.eval()
    xs = []
    for i in range(0, len(images), 512):
        z = model.latents(to_pixels(images[i:i + 512], device))  # (b, N, D)
        xs.append(q.project_in(z).reshape(-1, q.embed.shape[1]).float().cpu())  # (b * N, C)
    return refit_codebook(q, torch.cat(xs), rcfg).as_dict()

