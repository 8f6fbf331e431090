"""Your own pictures as a training set: uploaded image files -> train.npz + test.npz in a folder
that ``load_dataset`` (and so the image trainer's ``--data``) accepts.

    ds = build_image_upload(["a.jpg", "b.png", ...], size=32, dest=Path("runs/uploads/x"))
    ds.rejected   # files that were not usable, each with the reason

Each usable picture is a *source*: a large one gives ``crops_per_image`` random multi-scale crops
(the recipe of the bundled photo set, ``_photos.crops``); one no larger than 1.5x the target size
is resized whole. The test split holds out whole sources (every ``TEST_EVERY``-th, at least one)
when there are two or more, so test crops come from pictures training never saw; with one
picture the test crops come from it too, and ``disjoint`` says so.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InvalidInput
from ._photos import PhotoSource, crops
from .data import save_npz

SIZES = (32, 64)  # the sizes the image models train at
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")
MAX_FILES = 500  # pictures read from one upload
MAX_PIXELS = 40_000_000  # larger pictures are refused (decompression bombs)
MAX_BYTES = 50 << 20  # per file
CROPS_PER_IMAGE = 64  # crops drawn from each large picture
TEST_EVERY = 10  # every 10th picture (sorted by name) is held out for the test split


@dataclass
class Rejected:
    name: str
    reason: str


@dataclass
class UploadedImages:
    folder: Path  # holds train.npz and test.npz: pass it as the trainer's --data
    size: int
    train_images: int
    test_images: int
    sources: list[str]  # the usable pictures
    test_sources: list[str]
    disjoint: bool  # test crops come from pictures never trained on
    rejected: list[Rejected] = field(default_factory=list)


def _expand(files: Sequence[str | Path]) -> list[Path]:
    """Files, with the members of .zip archives extracted beside them."""
    out: list[Path] = []
    for f in files:
        p = Path(f)
        if p.suffix.lower() == ".zip" and zipfile.is_zipfile(p):
            dest = p.with_suffix("")
            with zipfile.ZipFile(p) as z:
                members = [m for m in z.infolist() if not m.is_dir() and Path(m.filename).suffix.lower() in EXTENSIONS]
                for m in members[:MAX_FILES]:
                    if m.file_size > MAX_BYTES:
                        continue
                    target = dest / f"{len(out):04d}-{Path(m.filename).name}"  # flat: no path from the archive
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(z.read(m))
                    out.append(target)
        else:
            out.append(p)
    return out


def _check(path: Path) -> str | None:
    """Why ``path`` is not a usable picture (None: it is)."""
    if path.suffix.lower() not in EXTENSIONS:
        return f"not an image file (allowed: {', '.join(EXTENSIONS)})"
    try:
        if path.stat().st_size > MAX_BYTES:
            return f"larger than {MAX_BYTES >> 20} MB"
        with Image.open(path) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                return f"{w}x{h} is more than {MAX_PIXELS // 1_000_000} million pixels"
            im.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        return f"cannot be read as an image ({type(e).__name__})"
    if min(w, h) < 8:
        return f"{w}x{h} is too small (at least 8 pixels a side)"
    return None


def _pictures(src: PhotoSource, size: int, n: int, seed: int) -> tuple[list[str], np.ndarray]:
    with Image.open(src.path) as im:
        w, h = im.size
        if min(w, h) <= 1.5 * size:  # small: the whole picture, centre-cropped square
            im = im.convert("RGB")
            s = min(w, h)
            box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
            arr = np.asarray(im.crop(box).resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)
            return [src.name], arr[None]  # (1, S, S, 3)
    names, arrays = crops(src, n, (size,), seed)
    return names, arrays[size]


def build_image_upload(files: Sequence[str | Path], size: int, dest: str | Path, *,
                       crops_per_image: int = CROPS_PER_IMAGE, seed: int = 0) -> UploadedImages:
    """Read the pictures, crop and split them, and write ``dest/train.npz`` and ``dest/test.npz``."""
    if size not in SIZES:
        raise InvalidInput(f"image size must be one of {', '.join(map(str, SIZES))}, not {size!r}")
    if not 1 <= crops_per_image <= 1000:
        raise InvalidInput(f"crops_per_image must be between 1 and 1000, not {crops_per_image}")
    paths = _expand(files or [])
    if not paths:
        raise InvalidInput("no files were uploaded; upload pictures (" + ", ".join(EXTENSIONS) + ") or a .zip of them")
    rejected: list[Rejected] = []
    usable: list[Path] = []
    for p in paths[:MAX_FILES]:
        why = _check(p)
        (rejected.append(Rejected(p.name, why)) if why else usable.append(p))
    rejected += [Rejected(p.name, f"more than {MAX_FILES} files; the rest were not read") for p in paths[MAX_FILES:]]
    if not usable:
        detail = "; ".join(f"{r.name}: {r.reason}" for r in rejected[:6])
        raise InvalidInput(f"none of the {len(paths)} uploaded files is a usable picture ({detail}). "
                           f"Upload {', '.join(EXTENSIONS)} files of at least 8x8 pixels, or a .zip of them")
    usable.sort(key=lambda p: p.name)
    names = [f"{i:03d}-{p.stem}"[:60] for i, p in enumerate(usable)]
    test_idx = set(range(0, len(usable), TEST_EVERY)) if len(usable) >= 2 else set()
    parts: dict[str, tuple[list[str], list[str], list[np.ndarray]]] = {"train": ([], [], []), "test": ([], [], [])}
    for i, (p, name) in enumerate(zip(usable, names)):
        n, arr = _pictures(PhotoSource(name, p), size, crops_per_image, seed + i)
        for split in (("test",) if i in test_idx else ("train",)) if test_idx else ("train", "test"):
            parts[split][0].extend(n)
            parts[split][1].extend([name] * len(n))
            parts[split][2].append(arr)
    folder = Path(dest).expanduser().resolve()
    meta = {"description": f"{len(usable)} uploaded pictures, {size}x{size}", "sources": names,
            "test_sources": [names[i] for i in sorted(test_idx)] or names, "crops_per_image": crops_per_image,
            "split": "by picture" if test_idx else "one picture: train and test crops come from it"}
    counts = {}
    for split, (crop_names, sources, arrays) in parts.items():
        images = np.concatenate(arrays)  # (N, S, S, 3)
        order = np.random.default_rng(seed).permutation(len(images))  # (N,)
        save_npz(folder / f"{split}.npz", np.ascontiguousarray(images[order]), [crop_names[j] for j in order],
                 [sources[j] for j in order], None, meta)
        counts[split] = len(images)
    return UploadedImages(folder=folder, size=size, train_images=counts["train"], test_images=counts["test"],
                          sources=names, test_sources=meta["test_sources"], disjoint=bool(test_idx),
                          rejected=rejected)


__all__ = ["UploadedImages", "Rejected", "build_image_upload", "EXTENSIONS", "SIZES", "MAX_FILES", "MAX_PIXELS"]
