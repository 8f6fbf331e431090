"""Reconstruction previews during training: a few fixed test images and what the model makes of
them now, as one PNG beside the run's checkpoints (the Train tab and notebooks show it).

Rows: the originals, then the reconstruction from all T tokens; for an ordered 1D model also
from the first T/8 and T/2 tokens (coarse to fine). Written atomically (temp file, rename).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .tokenizer import Flex1DTokenizer, ImageTokenizer

PREVIEW_FILE = "preview.png"
PREVIEW_IMAGES = 8  # test images shown
SCALE = 2  # each pixel drawn as SCALE x SCALE (32x32 images are tiny on screen)
GAP = 2  # pixels between tiles (white)


@dataclass
class Preview:
    path: Path
    rows: list[str]  # what each row shows, e.g. ["original", "k=4", "k=16", "k=32"]


def preview_rows(tok: ImageTokenizer, images: np.ndarray) -> tuple[list[str], list[np.ndarray]]:
    """(row labels, rows of (N, S, S, 3) uint8): the originals and the reconstructions."""
    ids = tok.encode_batch(images)
    labels, rows = ["original"], [images]
    if isinstance(tok, Flex1DTokenizer):
        T = tok.num_tokens
        for k in sorted({max(1, T // 8), max(1, T // 2), T}):
            labels.append(f"k={k}")
            rows.append(tok.decode_batch(ids, keep=k))
    else:
        labels.append(f"{tok.num_tokens} tokens")
        rows.append(tok.decode_batch(ids))
    return labels, rows


def tile(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of (N, S, S, 3) uint8 as one (R*(S*SCALE+GAP), N*(S*SCALE+GAP), 3) picture."""
    n, s = rows[0].shape[0], rows[0].shape[1] * SCALE
    out = np.full((len(rows) * (s + GAP), n * (s + GAP), 3), 255, dtype=np.uint8)
    for r, row in enumerate(rows):
        big = row.repeat(SCALE, axis=1).repeat(SCALE, axis=2)  # (N, s, s, 3)
        for i in range(n):
            out[r * (s + GAP):r * (s + GAP) + s, i * (s + GAP):i * (s + GAP) + s] = big[i]
    return out


@torch.inference_mode()
def write_preview(tok: ImageTokenizer, images: np.ndarray, folder: str | Path) -> Preview:
    """Reconstruct ``images`` (N, S, S, 3) and write ``folder/preview.png`` atomically."""
    labels, rows = preview_rows(tok, images[:PREVIEW_IMAGES])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".preview-", suffix=".png", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            Image.fromarray(tile(rows)).save(fh, format="PNG")
        os.replace(tmp, folder / PREVIEW_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return Preview(path=folder / PREVIEW_FILE, rows=labels)


__all__ = ["Preview", "PREVIEW_FILE", "preview_rows", "tile", "write_preview"]
