"""Random multi-scale crops of the KDE wallpapers and MATE background photos.

One *source* is one picture: the largest landscape file of a KDE wallpaper (its portrait and
dark variants are the same scene and are not used) or one MATE photo. The test split holds out
whole sources (``TEST_SOURCES``), so no test crop comes from a picture seen in training.

Each crop: a side drawn log-uniformly between ``max(size, short/20)`` and ``3/4 short`` pixels
of the source (``short`` is its shorter side), a uniform position, resized to ``size`` with
Lanczos. Wallpapers are full of sky, bokeh and flat shapes, so nearly flat crops (mean absolute
difference of neighbouring pixels < ``MIN_DETAIL`` on 0..255, measured after the resize) are
redrawn, up to ``ATTEMPTS`` times (the last draw is kept, so a flat picture still counts).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

MIN_DETAIL = 1.5  # crops flatter than this (mean |neighbour difference|, 0..255) are redrawn
ATTEMPTS = 30  # draws per crop before a flat one is kept
MIN_FRAC, MAX_FRAC = 1 / 20, 3 / 4  # crop side as a fraction of the source's short side
# held out for the test split: 4 KDE wallpapers (photos and illustrations) and 2 MATE photos
TEST_SOURCES = ("kde/BytheWater", "kde/ColdRipple", "kde/Kokkini", "kde/Shell",
                "mate/LadyBird", "mate/Storm")


@dataclass
class PhotoSource:
    name: str  # "kde/<wallpaper>" or "mate/<photo>" (real-photo sources: "<package>/<picture>")
    path: Path  # the image file (for a video frame: the video)
    image: np.ndarray | None = field(default=None, repr=False)  # (H, W, 3) uint8 pixels when
    # the picture is not a file of its own (a video frame); crops() then reads these, not path


def find_sources(kde_root: Path | None, mate_root: Path | None) -> list[PhotoSource]:
    """Sources from the asset folders that are present, sorted by name."""
    out = []
    if kde_root is not None:
        for d in sorted((kde_root / "usr/share/wallpapers").iterdir()):
            files = [p for p in (d / "contents" / "images").glob("*")
                     if p.suffix.lower() in (".jpg", ".jpeg", ".png") and not p.is_symlink()]
            sizes = [(_wh(p), p) for p in files]
            land = [(w * h, p) for (w, h), p in sizes if w >= h]
            if land:
                out.append(PhotoSource(f"kde/{d.name}", max(land)[1]))
    if mate_root is not None:
        for p in sorted((mate_root / "usr/share/backgrounds/mate/nature").glob("*.jpg")):
            out.append(PhotoSource(f"mate/{p.stem}", p))
    return sorted(out, key=lambda s: s.name)


def _wh(p: Path) -> tuple[int, int]:
    stem = p.stem.split("x")
    if len(stem) == 2 and all(s.isdigit() for s in stem):
        return int(stem[0]), int(stem[1])  # KDE names files by their resolution
    with Image.open(p) as im:
        return im.size


def crops(source: PhotoSource, n: int, sizes: tuple[int, ...], seed: int
          ) -> tuple[list[str], dict[int, np.ndarray]]:
    """(crop names, {size: (n, size, size, 3) uint8}); the same boxes for every size."""
    rng = np.random.default_rng(seed)
    if source.image is not None:
        im = Image.fromarray(np.asarray(source.image, dtype=np.uint8)).convert("RGB")
    else:
        with Image.open(source.path) as im:
            im = im.convert("RGB")
    w, h = im.size
    short = min(w, h)
    lo, hi = max(max(sizes), short * MIN_FRAC), short * MAX_FRAC
    names, out = [], {s: [] for s in sizes}
    for _ in range(n):
        for _attempt in range(ATTEMPTS):
            side = int(round(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
            x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            piece = im.crop((x, y, x + side, y + side))
            big = np.asarray(piece.resize((max(sizes),) * 2, Image.Resampling.LANCZOS,
                                          reducing_gap=3.0), dtype=np.uint8)  # (S, S, 3)
            if detail(big) >= MIN_DETAIL:
                break
        names.append(f"{source.name}@{x},{y}+{side}")
        for s in sizes:
            out[s].append(np.asarray(piece.resize((s, s), Image.Resampling.LANCZOS,
                                                  reducing_gap=3.0), dtype=np.uint8))
    return names, {s: np.stack(v) for s, v in out.items()}


def detail(img: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels of (H, W, 3) uint8, on 0..255."""
    a = img.astype(np.int16)
    return float((np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean()) / 2)
