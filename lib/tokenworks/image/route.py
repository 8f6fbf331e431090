"""The right model for the picture: a cheap look at an image that picks, among the image tokenizers
on offer, the one trained on that kind of picture (emoji and illustrations, or photos).

    r = route("data/samples/images/photo-flower.png", tw.available("image"))   # -> Route
    r.tokenizer     # 'image/flex1d-photo64'
    r.kind          # 'photo'
    r.reason        # 'photo: 3,931 of 4,096 colours distinct, 5% flat pixels, ...; distance to the
                    #  training sets: photo 2.0, emoji 13.8 -> image/flex1d-photo64'
    r.far           # None, or a note when the picture is far from every model's training set

How it decides. The picture is seen as a 64x64 tokenizer sees it (centre square, resized,
transparency composited on white: ``_io.to_rgb_array``), and six cues are measured (``Cues``):
distinct colours, the share of flat pixels (no step above 2 levels to the right or below), of
strong edges (a step of 64 levels or more), of near-white pixels (the emoji's background), the
texture (median |Laplacian| of the grey image) and the mean saturation. Each training set is
summarised by a Gaussian over those cues (``Profile``: mean and covariance of the transformed cues,
``Cues.vector``), and the picture goes to the nearest one (quadratic discriminant: squared
Mahalanobis distance plus log det of the covariance). ``far`` is set when the picture lies
further from every available training set than 99.5% of that set's own training pictures do.

A tokenizer's training set is read from its checkpoint's config.json (``data.name``, e.g.
"photo64"; ``training_data``), so a run trained here on emoji or photos is a candidate too;
tokenizers trained on other data (MNIST, shapes, a folder of your own) are not routed to, only
chosen by hand (``SOURCE_KINDS`` says which data sources serve which kind). Among the candidates
of one kind a registered name comes before a run, an ordered 1D tokenizer (flex1d) before a grid,
a larger image size before a smaller one.

Measured on the project's own data (``tokenworks.image.data``; ``fit_profiles`` fits the
profiles on the train splits, ``accuracy`` measures them; PROFILES below are what it gave):
held-out test splits: emoji64 382 of 382 (100.0%), photo64 498 of 500 (99.6%), 880 of 882
(99.8%) in all; train splits: emoji64 3,534 of 3,534 (100%), photo64 3,762 of 3,800 (99.0%).
Pictures beyond the ``far`` distance: emoji64 test 1.0%, photo64 test 5.6% (its 6 held-out
pictures differ from the 36 it was trained on), shapes64 test 100%. The cue definitions
(FLAT_STEP, EDGE_STEP, WHITE) are fixed; what decides (the profiles and their ``near``) is fitted.
Checked afterwards, never fitted, on scikit-image's 27 bundled sample images: the logo and the
horse silhouette (drawn, on white or transparent) go to emoji, the other 25 (photos, micrographs,
scans, textures) to photo, and 6 are noted as far: the grey textures brick, grass and gravel,
both chessboards and the retina's microaneurysms.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import TokenworksError
from ._io import MAX_PIXELS, to_rgb_array

ROUTE_SIZE = 64  # the cues are measured at this size, the size of the data sets they were fitted on
FLAT_STEP = 2  # a pixel is flat when no channel steps by more than this to its right or lower neighbour
EDGE_STEP = 64  # ... and on a strong edge when some channel steps by at least this much
WHITE = 250  # near-white: every channel at least this (the emoji data sets are drawn on white)
EPS = 1 / 64  # keeps the logits of shares of 0 and 1 finite
RIDGE = 1e-2  # added to each profile's covariance diagonal (a cue that hardly varies in one set)
NEAR_QUANTILE = 99.5  # far: further than this percentile of a training set's own pictures
KINDS = {"emoji": "emoji and illustrations", "photo": "photos"}  # the data sources with a profile
SOURCE_KINDS = {"emoji": "emoji", "photo": "photo", "realphoto": "photo"}  # a data set's source -> the kind it serves


@dataclass(frozen=True)
class Cues:
    """What the router measures on one picture (at ROUTE_SIZE x ROUTE_SIZE), and where it came from."""

    colours: int  # distinct RGB colours among the S*S pixels
    flat: float  # share of flat pixels (no channel steps by more than FLAT_STEP to the right or below)
    edge: float  # share of pixels on a strong edge (a step of EDGE_STEP levels or more)
    white: float  # share of near-white pixels (every channel >= WHITE)
    texture: float  # median |Laplacian| of the grey image (levels): fine detail, grain, noise
    saturation: float  # mean (max - min) / max over the channels, 0 (grey) .. 1
    alpha: str  # "none" (no alpha channel), "unused" (fully opaque) or "used" (composited on white)
    original_size: tuple[int, int]  # (W, H) of the input
    pixels: int  # S*S, what ``colours`` counts among

    def vector(self) -> np.ndarray:
        """(6,) the cues where the profiles' Gaussians live: log2 colours, logits of the shares,
        log(1 + texture), saturation."""
        return _vectors(np.array([[self.colours, self.flat, self.edge, self.white, self.texture,
                                   self.saturation]]))[0]

    def words(self) -> str:
        return (f"{self.colours:,} of {self.pixels:,} colours distinct, {self.flat:.0%} flat pixels, "
                f"{self.edge:.0%} strong edges, {self.white:.0%} white, texture {self.texture:.1f}, "
                f"saturation {self.saturation:.2f}, alpha {self.alpha}")


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log((p + EPS) / (1 - p + EPS))


def _vectors(raw: np.ndarray) -> np.ndarray:
    """(N, 6) raw cues (colours, flat, edge, white, texture, saturation) -> (N, 6) transformed."""
    c, f, e, w, t, s = raw.T.astype(np.float64)
    return np.stack([np.log2(np.maximum(c, 1)), _logit(f), _logit(e), _logit(w), np.log1p(t), s], axis=1)


def raw_cues(images: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) uint8 -> (N, 6) float64: colours, flat, edge, white, texture, saturation."""
    a = np.asarray(images)
    if a.ndim != 4 or a.shape[-1] != 3 or a.dtype != np.uint8:
        raise TokenworksError(f"raw_cues takes (N, S, S, 3) uint8 images, got {a.shape} {a.dtype}")
    x = a.astype(np.int16)  # (N, S, S, 3)
    packed = (x[..., 0].astype(np.int32) << 16) | (x[..., 1].astype(np.int32) << 8) | x[..., 2]  # (N, S, S)
    flat_packed = np.sort(packed.reshape(len(a), -1), axis=1)  # (N, S*S)
    colours = 1 + (np.diff(flat_packed, axis=1) != 0).sum(1)  # (N,)
    dx = np.abs(np.diff(x, axis=2)).max(-1)  # (N, S, S-1)
    dy = np.abs(np.diff(x, axis=1)).max(-1)  # (N, S-1, S)
    step = np.maximum(dx[:, :-1, :], dy[:, :, :-1])  # (N, S-1, S-1): the larger step of each pixel
    flat = (step <= FLAT_STEP).mean((1, 2))
    edge = (step >= EDGE_STEP).mean((1, 2))
    white = (x.min(-1) >= WHITE).mean((1, 2))
    g = x.astype(np.float32).mean(-1)  # (N, S, S) grey
    lap = np.abs(4 * g[:, 1:-1, 1:-1] - g[:, :-2, 1:-1] - g[:, 2:, 1:-1] - g[:, 1:-1, :-2] - g[:, 1:-1, 2:])
    texture = np.median(lap.reshape(len(a), -1), axis=1)
    hi, lo = x.max(-1), x.min(-1)  # (N, S, S)
    saturation = ((hi - lo) / np.maximum(hi, 1)).mean((1, 2))
    return np.stack([colours, flat, edge, white, texture, saturation], axis=1).astype(np.float64)


def cues(image: Any, max_pixels: int = MAX_PIXELS) -> Cues:
    """The cues of any image ``to_rgb_array`` reads (a path, PIL image, array or bytes), seen at
    ROUTE_SIZE as a tokenizer sees it; InvalidInput for what is not an image."""
    prepared = to_rgb_array(image, ROUTE_SIZE, max_pixels=max_pixels)
    meta = prepared.meta
    mode = str(meta.get("original_mode", ""))
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or mode.endswith(", 4)") or \
        (mode == "P" and meta.get("alpha") is not None)
    alpha = "used" if meta.get("alpha") else ("unused" if has_alpha else "none")
    c = raw_cues(prepared.array[None])[0]
    w, h = meta.get("original_size", (ROUTE_SIZE, ROUTE_SIZE))
    return Cues(int(c[0]), float(c[1]), float(c[2]), float(c[3]), float(c[4]), float(c[5]), alpha,
                (int(w), int(h)), ROUTE_SIZE * ROUTE_SIZE)


# ---- the training sets, summarised ----------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """One training set's cues as a Gaussian over ``Cues.vector()``."""

    kind: str  # the data source: a key of KINDS
    fitted_on: str  # e.g. "emoji64 train (3534 images)"
    mean: tuple[float, ...]  # (6,)
    cov: tuple[tuple[float, ...], ...]  # (6, 6), RIDGE included
    near: float  # NEAR_QUANTILE percentile of the training pictures' own distances

    def distance(self, v: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of (6,) or (N, 6) vectors from this set."""
        d = np.atleast_2d(v) - np.array(self.mean)  # (N, 6)
        d2 = np.einsum("ni,ij,nj->n", d, np.linalg.inv(np.array(self.cov)), d)
        out = np.sqrt(np.maximum(d2, 0))
        return out if np.ndim(v) == 2 else out[0]

    def score(self, v: np.ndarray) -> np.ndarray:
        """Quadratic discriminant: squared distance + log det covariance (smaller is nearer)."""
        return self.distance(v) ** 2 + float(np.linalg.slogdet(np.array(self.cov))[1])


# Fitted by fit_profiles() on the train splits of emoji64 and photo64 (python -m tokenworks.image.route --fit)
PROFILES: dict[str, Profile] = {
    'emoji': Profile('emoji', 'emoji64 train (3534 images)', near=6.184,
                   mean=(9.657, 0.3278, -1.9099, 0.0829, 1.0291, 0.2258),
                   cov=((0.5301, -0.2207, 0.20125, -0.09717, 0.25228, 0.02906),
                        (-0.2207, 0.2795, -0.1728, 0.24013, -0.37761, -0.0293),
                        (0.20125, -0.1728, 0.21345, -0.11645, 0.24657, 0.02651),
                        (-0.09717, 0.24013, -0.11645, 0.40277, -0.3528, -0.04797),
                        (0.25228, -0.37761, 0.24657, -0.3528, 0.66332, 0.02765),
                        (0.02906, -0.0293, 0.02651, -0.04797, 0.02765, 0.02838),)),
    'photo': Profile('photo', 'photo64 train (3800 images)', near=7.653,
                   mean=(10.9496, -0.886, -3.3909, -4.1259, 1.4195, 0.5561),
                   cov=((0.8841, -0.87459, -0.00665, -0.13318, 0.29034, 0.05995),
                        (-0.87459, 2.08694, -0.25927, 0.01723, -0.94145, -0.02992),
                        (-0.00665, -0.25927, 0.5951, 0.067, 0.24707, -0.01586),
                        (-0.13318, 0.01723, 0.067, 0.12322, 0.02817, -0.02461),
                        (0.29034, -0.94145, 0.24707, 0.02817, 0.62002, -0.01728),
                        (0.05995, -0.02992, -0.01586, -0.02461, -0.01728, 0.07039),)),
}


def fit_profile(kind: str, images: np.ndarray, fitted_on: str) -> Profile:
    """The Profile of (N, S, S, 3) uint8 training pictures (S = ROUTE_SIZE)."""
    v = _vectors(raw_cues(images))  # (N, 6)
    cov = np.cov(v.T) + RIDGE * np.eye(v.shape[1])
    p = Profile(kind, fitted_on, tuple(v.mean(0).round(4).tolist()), tuple(map(tuple, cov.round(5).tolist())), 0.0)
    near = float(np.percentile(p.distance(v), NEAR_QUANTILE))
    return Profile(kind, fitted_on, p.mean, p.cov, round(near, 3))


def fit_profiles(split: str = "train") -> dict[str, Profile]:
    """A Profile per kind from the project's data sets (emoji64, photo64; built from their assets)."""
    from .data import load_dataset

    out = {}
    for kind in KINDS:
        ds = load_dataset(f"{kind}{ROUTE_SIZE}", split)
        out[kind] = fit_profile(kind, ds.images, f"{ds.name} {split} ({len(ds)} images)")
    return out


def classify(v: np.ndarray, kinds: Sequence[str] | None = None,
             profiles: dict[str, Profile] | None = None) -> np.ndarray:
    """(N,) the nearest kind (quadratic discriminant) of (N, 6) vectors, among ``kinds`` (None: all)."""
    profiles = PROFILES if profiles is None else profiles
    kinds = list(profiles) if kinds is None else list(kinds)
    scores = np.stack([profiles[k].score(np.atleast_2d(v)) for k in kinds], axis=1)  # (N, kinds)
    return np.array(kinds)[scores.argmin(1)]


@dataclass(frozen=True)
class Accuracy:
    split: str
    correct: dict[str, int]  # kind -> pictures of that kind classified as it
    total: dict[str, int]  # kind -> pictures
    far: dict[str, float]  # kind -> share of its pictures beyond every profile's ``near``

    @property
    def overall(self) -> float:
        return sum(self.correct.values()) / max(1, sum(self.total.values()))

    def words(self) -> str:
        per = ", ".join(f"{k} {self.correct[k]:,} of {self.total[k]:,} ({self.correct[k] / self.total[k]:.1%})"
                        for k in self.total)
        return f"{self.split}: {per}; {self.overall:.1%} in all"


def accuracy(split: str = "test", profiles: dict[str, Profile] | None = None) -> Accuracy:
    """How often ``classify`` names the right kind on a split of the project's data sets."""
    from .data import load_dataset

    profiles = PROFILES if profiles is None else profiles
    correct, total, far = {}, {}, {}
    for kind in KINDS:
        v = _vectors(raw_cues(load_dataset(f"{kind}{ROUTE_SIZE}", split).images))
        correct[kind] = int((classify(v, profiles=profiles) == kind).sum())
        total[kind] = len(v)
        far[kind] = float(np.all([p.distance(v) > p.near for p in profiles.values()], axis=0).mean())
    return Accuracy(split, correct, total, far)


# ---- the tokenizers on offer ------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """An image tokenizer and what it was trained on (from its checkpoint's config.json)."""

    ref: str  # registry name or "run:<folder>"
    dataset: str  # data set name, e.g. "photo64"
    kind: str | None  # the kind it serves (SOURCE_KINDS), else its data set's source ("mnist"), None when unknown
    ordered: bool  # flex1d (any prefix decodes), else a grid
    size: int  # the data set's image size (0 when unknown)

    def rank(self) -> tuple:
        return (self.ref.startswith("run:"), not self.ordered, -self.size, self.ref)


def _config_of(ref: str) -> dict | None:
    from .. import registry
    from ..checkpoint import read_info, resolve_checkpoint

    if not isinstance(ref, str):
        return None
    try:
        if ref.startswith(registry.RUN_PREFIX):
            folder = resolve_checkpoint(ref[len(registry.RUN_PREFIX):])
        else:
            ckpt = registry.describe(ref).kwargs.get("checkpoint")
            if not ckpt:
                return None
            folder = resolve_checkpoint(ckpt)
        info = read_info(folder)
        files = info.get("files") if isinstance(info.get("files"), dict) else {}
        complete = all(Path(str(f)).name == f and (folder / f).is_file() for f in files)
        return {**info, "complete": complete}
    except (TokenworksError, OSError, KeyError, ValueError):
        return None


def _data_name(info: dict | None) -> str | None:
    if not info:
        return None
    data = info.get("data") if isinstance(info.get("data"), dict) else {}
    train = info.get("train") if isinstance(info.get("train"), dict) else {}
    name = data.get("name") or train.get("data")
    return str(name) if name else None


def training_data(ref: str) -> str | None:
    """The data set ``ref`` was trained on, from its config.json (no weights read); None when its
    checkpoint is absent or does not say."""
    return _data_name(_config_of(ref))


def candidate(ref: str) -> Candidate | None:
    """``ref`` with its training set, or None when its checkpoint cannot be read, lacks a file it
    lists or does not say what it was trained on."""
    from .data import DATASETS

    info = _config_of(ref)
    name = _data_name(info)
    if not info or not name or not info.get("complete"):
        return None
    spec = DATASETS.get(name)
    kind = SOURCE_KINDS.get(spec.source, spec.source) if spec else None
    return Candidate(ref, name, kind, str(info.get("kind", "")).endswith("flex1d"), spec.size if spec else 0)


# ---- the route ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    """The tokenizer chosen for one picture, and why."""

    tokenizer: str | None  # the ref chosen; None when no tokenizer on offer has a known training set
    kind: str | None  # what the picture looks like: a key of KINDS ("emoji", "photo")
    reason: str  # in plain words, with the measured numbers
    far: str | None  # a note when the picture is far from every available training set, else None
    cues: Cues
    distances: dict[str, float] = field(default_factory=dict)  # kind -> Mahalanobis distance
    candidates: tuple[Candidate, ...] = ()  # the tokenizers that could be routed to


def route(image: Any, tokenizers: Sequence[str], max_pixels: int = MAX_PIXELS) -> Route:
    """Pick, among ``tokenizers`` (refs), the one trained on the kind of picture ``image`` is.

    ``image``: what ``to_rgb_array`` reads (a path, PIL image, array, bytes); InvalidInput when it
    is not an image. Tokenizers whose checkpoint is absent, or whose training set is not an emoji
    or photo data set, are never chosen."""
    c = cues(image, max_pixels)
    v = c.vector()
    cands = tuple(x for x in (candidate(r) for r in dict.fromkeys(tokenizers)) if x is not None)
    usable = [x for x in cands if x.kind in PROFILES]
    distances = {k: round(float(p.distance(v)), 2) for k, p in PROFILES.items()}
    kind = str(classify(v)[0])
    dist = ", ".join(f"{k} {d:.1f}" for k, d in sorted(distances.items(), key=lambda kv: kv[1]))
    seen = f"{kind}: {c.words()}; distance to the training sets: {dist}"
    if not usable:
        return Route(None, kind, f"{seen}; no tokenizer here was trained on emoji or photos, so none was "
                                 "chosen", None, c, distances, cands)
    kinds_here = sorted({x.kind for x in usable})
    routed = kind if kind in kinds_here else str(classify(v, kinds_here)[0])
    best = min((x for x in usable if x.kind == routed), key=Candidate.rank)
    missing = "" if routed == kind else f" (no tokenizer here was trained on {KINDS[kind]}; the nearest is)"
    reason = f"{seen} -> {best.ref}{missing}"
    nearest = min(kinds_here, key=lambda k: distances[k] / PROFILES[k].near)
    far = None
    if all(distances[k] > PROFILES[k].near for k in kinds_here):
        p = PROFILES[nearest]
        far = (f"This picture is far from what every tokenizer here was trained on: the nearest training set, "
               f"{KINDS[nearest]} ({p.fitted_on}), is at distance {distances[nearest]:.1f}, while "
               f"{NEAR_QUANTILE:g}% of its own pictures lie within {p.near:.1f}. Expect a rough reconstruction.")
    return Route(best.ref, kind, reason, far, c, distances, cands)


def _main(argv: Sequence[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tokenworks.image.route",
                                 description="Route an image to a tokenizer, or fit and measure the profiles.")
    ap.add_argument("images", nargs="*", help="image files to route")
    ap.add_argument("--fit", action="store_true", help="fit the profiles on the train splits and print them")
    ap.add_argument("--accuracy", action="store_true", help="measure PROFILES on the train and test splits")
    args = ap.parse_args(argv)
    if args.fit:
        for k, p in fit_profiles().items():
            print(f"    {k!r}: {p!r},")
    if args.accuracy:
        for split in ("train", "test"):
            a = accuracy(split)
            print(a.words(), "| far:", json.dumps({k: round(f, 4) for k, f in a.far.items()}))
    if args.images:
        from ..registry import available, trained_runs

        refs = available("image") + trained_runs("image")
        for path in args.images:
            r = route(path, refs)
            print(f"{path}: {r.reason}" + (f"\n  far: {r.far}" if r.far else ""))


if __name__ == "__main__":
    _main()
