"""Synthetic coloured shapes: an image data set made from nothing but a seed (no assets)."""
from __future__ import annotations

import math

import numpy as np


def synthetic_shapes(n: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """(n, size, size, 3) uint8: coloured circles, squares and triangles on light backgrounds.

    Made from nothing but a seed, for when no image data set is at hand (CI without assets).
    They are not emoji and not photographs: label them as synthetic wherever they are shown.
    """
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size, 3), dtype=np.uint8)  # (n, S, S, 3)
    for i in range(n):
        bg = tuple(int(v) for v in rng.integers(200, 256, 3))
        im = Image.new("RGB", (size, size), bg)
        draw = ImageDraw.Draw(im)
        for _ in range(int(rng.integers(1, 4))):
            colour = tuple(int(v) for v in rng.integers(0, 230, 3))
            r = float(rng.uniform(0.12, 0.35)) * size
            cx, cy = (float(v) for v in rng.uniform(r, size - r, 2))
            shape = int(rng.integers(0, 3))
            if shape == 0:
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
            elif shape == 1:
                draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=colour)
            else:
                a = float(rng.uniform(0, 2 * math.pi))
                pts = [(cx + r * math.cos(a + k * 2 * math.pi / 3), cy + r * math.sin(a + k * 2 * math.pi / 3)) for k in range(3)]
                draw.polygon(pts, fill=colour)
        out[i] = np.asarray(im)
    return out


def smooth_gradients(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    """(n, size, size, 3) uint8: a colour gradient with one flat-coloured disc each, the easiest
    pictures to learn: a model trains on them in seconds (smoke tests, the trainers' own tests)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)  # (S, S) each, 0..1
    out = np.empty((n, size, size, 3), dtype=np.uint8)  # (n, S, S, 3)
    for i in range(n):
        a, b, c = rng.uniform(0, 1, (3, 3))
        img = a * xx[..., None] + b * yy[..., None] + c * (1 - xx[..., None]) * 0.5  # (S, S, 3)
        cx, cy, r = rng.uniform(0.3, 0.7, 3) * [1, 1, 0.5]
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r**2] = rng.uniform(0, 1, 3)
        out[i] = np.clip(img * 255, 0, 255).astype(np.uint8)
    return out
