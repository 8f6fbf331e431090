"""What image tokens do: the computations behind the image views (no plotting here).

    strip = prefix_strip(tok, img)                    # flex1d: decodes of the first 1, 2, 4 .. T tokens
    att = attention_maps(tok, img)                    # (T, S, S) where each token looks
    inf = influence_maps(tok, img)                    # (T, S, S) what each token changes
    faithfulness(att, inf).mean                       # does attention predict influence?
    edit_tokens(tok, seq, {3: 17})                    # swap token 3 for code 17 and decode
    codebook_gallery(tok, images)                     # the most used codes and where they occur
    usage_counts(tok, images)                         # (V,) code counts over a data set

Every function takes a tokenizer from ``tokenworks.image.tokenizer`` (``GridTokenizer`` or
``Flex1DTokenizer``) and images in any form ``tok.encode`` accepts; results are typed
dataclasses or numpy arrays at the model's resolution S x S. ``tokenworks.viz.image`` draws them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from ..core import TokenSeq, ids_of
from ..errors import InvalidIds, InvalidInput
from ..metrics.image import psnr
from ..metrics.rate import doubling_ks
from ..quantizers.health import CodebookHealth, HealthReport
from .flex1d import bytes_for_tokens
from .tokenizer import Flex1DTokenizer, GridTokenizer, ImageTokenizer

INFLUENCE_BATCH = 32  # perturbed sequences decoded per model call


def is_flex1d(tok: ImageTokenizer) -> bool:
    return isinstance(tok, Flex1DTokenizer)


def _check_tok(tok: Any) -> ImageTokenizer:
    if not isinstance(tok, (GridTokenizer, Flex1DTokenizer)):
        raise InvalidInput(f"image inspection needs an image tokenizer (image/grid or image/flex1d), "
                           f"got {type(tok).__name__}")
    return tok


# ---- prefix strip -----------------------------------------------------------------------------


@dataclass
class PrefixStrip:
    """Decodes of the first k tokens for several k, with their quality and size."""

    ks: list[int]  # prefix lengths, ascending
    images: np.ndarray  # (n, S, S, 3) uint8: the decode of the first ks[i] tokens
    psnr: list[float]  # dB of each decode against ``original`` (identical images: PSNR_CAP_DB, 100)
    nbytes: list[int]  # bytes to store ks[i] tokens: ceil(k * log2(V) / 8)
    original: np.ndarray  # (S, S, 3) uint8: the image at the model's size, what PSNR compares to
    ids: np.ndarray  # (T,) or (H, W): the full encoding
    vocab_size: int  # V


def prefix_strip(tok: ImageTokenizer, image: Any, ks: Sequence[int] | None = None,
                 ids: np.ndarray | None = None) -> PrefixStrip:
    """Decode prefixes of ``image``'s tokens in one batched call (default k = 1, 2, 4, ..., T).

    A grid tokenizer has no prefixes: the strip is its one full decode (k = all H*W tokens).
    ``ids``: the image's tokens when they are already at hand (e.g. a refined encoding);
    otherwise the image is encoded here in one pass.
    """
    tok = _check_tok(tok)
    original = tok.prepare(image).array  # (S, S, 3)
    seq = tok.encode(original) if ids is None else np.asarray(ids)
    T, V = tok.num_tokens, tok.vocab_size
    if is_flex1d(tok):
        ks = doubling_ks(T) if ks is None else sorted({int(k) for k in ks})
        if not ks or ks[0] < 1 or ks[-1] > T:
            raise InvalidInput(f"{tok.name}: prefix lengths must lie in 1..{T}, got {list(ks)}")
        images = tok.decode_prefixes(seq, ks)  # (n, S, S, 3)
    else:
        if ks is not None and list(ks) != [T]:
            raise InvalidInput(f"{tok.name} is a grid tokenizer: it decodes all {T} tokens at once "
                               f"(ks=None or [{T}]); prefixes apply to image/flex1d tokenizers")
        ks = [T]
        images = tok.decode(seq)[None]  # (1, S, S, 3)
    p = np.atleast_1d(psnr(images, np.broadcast_to(original, images.shape)))  # (n,)
    return PrefixStrip(ks=list(ks), images=images, psnr=[float(v) for v in p],
                       nbytes=[bytes_for_tokens(k, V) for k in ks], original=original,
                       ids=np.asarray(ids_of(seq)), vocab_size=V)


# ---- attention --------------------------------------------------------------------------------


def attention_maps(tok: ImageTokenizer, image: Any, layer: int | None = None) -> np.ndarray:
    """(T, S, S) float32: each token's attention over the image's pixels; each map sums to 1.

    flex1d: ``tok.attention(image)`` (the slot's encoder attention to the patches), each patch
    weight spread evenly over its p x p pixels; ``layer`` None averages the encoder layers.
    grid: a grid token has no attention; its map is one-hot on its own cell (uniform over the
    cell's pixels, zero elsewhere), the box its span names (its receptive field is larger: see
    ``influence_maps``).
    """
    tok = _check_tok(tok)
    S = tok.image_size
    if not is_flex1d(tok):
        g = tok.model.grid
        cell = S // g
        maps = np.zeros((g * g, S, S), np.float32)  # (T, S, S)
        for t in range(g * g):
            r, c = divmod(t, g)
            maps[t, r * cell:(r + 1) * cell, c * cell:(c + 1) * cell] = 1.0 / cell**2
        return maps
    att = tok.attention(image)
    L = att.per_layer.shape[0]
    if layer is not None and not (isinstance(layer, (int, np.integer)) and -L <= layer < L):
        raise InvalidInput(f"{tok.name}: layer must be None (the mean) or 0..{L - 1}, got {layer!r}")
    m = att.maps(None if layer is None else int(layer))  # (T, h, w)
    p = att.patch_size
    return (np.repeat(np.repeat(m, p, axis=1), p, axis=2) / p**2).astype(np.float32)  # (T, S, S)


# ---- influence --------------------------------------------------------------------------------


def replacement_codes(tok: ImageTokenizer, ids: np.ndarray) -> np.ndarray:
    """For each id, the code farthest from it in the quantizer's code space (``tok.codebook()``,
    Euclidean; ties to the lowest id). When the codebook is too large to list: (id + V/2) mod V."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)  # (N,)
    V = tok.vocab_size
    try:
        cb = torch.as_tensor(tok.codebook())  # (V, D)
    except InvalidInput:
        return (ids + V // 2) % V
    d = torch.cdist(cb[torch.as_tensor(ids)], cb)  # (N, V)
    return d.argmax(dim=1).numpy().astype(np.int64)


@torch.inference_mode()
def _decode_float(tok: ImageTokenizer, codes: torch.Tensor, keep: int | None) -> torch.Tensor:
    """(B, T) ids -> (B, 3, S, S) float pixels on the 0..255 scale (clipped, not rounded)."""
    if is_flex1d(tok):
        x = tok.model.decode(codes, keep)  # (B, 3, S, S)
    else:
        x = tok.model.decode(codes.reshape(codes.shape[0], tok.model.grid, tok.model.grid))  # (B, 3, S, S)
    return (x.float().clamp(-1, 1) + 1.0) * 127.5  # (B, 3, S, S)


def influence_maps(tok: ImageTokenizer, image: Any = None, tokens: Sequence[int] | None = None, *,
                   ids: TokenSeq | np.ndarray | None = None, keep: int | None = None,
                   batch: int = INFLUENCE_BATCH) -> np.ndarray:
    """(n, S, S) float32: how much each token changes the decoded image, by perturbation.

    Token i is replaced by ``replacement_codes`` (the code farthest from it), the sequence is
    decoded, and the map is the mean over R, G, B of |perturbed - decode of the true ids| on the
    0..255 scale (the model's float output, clipped, before rounding). ``tokens`` picks which
    tokens (flat indices; None: all T, in order, giving (T, S, S)); the perturbed sequences are
    decoded ``batch`` at a time. Give ``ids`` instead of ``image`` to use a sequence directly.
    flex1d ``keep=k`` decodes the first k tokens only, so tokens k.. have exactly zero influence.
    """
    tok = _check_tok(tok)
    if (image is None) == (ids is None):
        raise InvalidInput("influence_maps needs an image or ids (one of them)")
    flat = (np.asarray(ids_of(ids)) if ids is not None else tok.encode(image).ids).reshape(-1)  # (T,)
    T = tok.num_tokens
    if flat.size != T:
        raise InvalidIds(f"{tok.name}: influence needs all {T} ids, got {flat.size}")
    if keep is not None and not is_flex1d(tok):
        raise InvalidInput(f"{tok.name} is a grid tokenizer: keep applies to image/flex1d tokenizers")
    if keep is not None and not 1 <= int(keep) <= T:
        raise InvalidIds(f"{tok.name}: keep must be between 1 and {T}, got {keep}")
    which = np.arange(T) if tokens is None else np.asarray(list(tokens), dtype=np.int64).reshape(-1)
    if which.size and (which.min() < 0 or which.max() >= T):
        raise InvalidIds(f"{tok.name}: token indices are 0..{T - 1}, got {which.tolist()}")
    new = replacement_codes(tok, flat[which])  # (n,)
    base = torch.as_tensor(flat, device=tok.device)[None]  # (1, T)
    ref = _decode_float(tok, base, keep)  # (1, 3, S, S)
    out = []
    for s in range(0, which.size, max(int(batch), 1)):
        idx = torch.as_tensor(which[s:s + batch], device=tok.device)  # (b,)
        codes = base.repeat(idx.numel(), 1)  # (b, T)
        codes[torch.arange(idx.numel(), device=tok.device), idx] = torch.as_tensor(new[s:s + batch], device=tok.device)
        out.append((_decode_float(tok, codes, keep) - ref).abs().mean(1).cpu())  # (b, S, S)
    S = tok.image_size
    return torch.cat(out).numpy().astype(np.float32) if out else np.zeros((0, S, S), np.float32)


# ---- faithfulness -----------------------------------------------------------------------------


@dataclass
class Faithfulness:
    """How well attention predicts influence: Spearman rank correlation per token."""

    per_token: np.ndarray  # (T,) float64 in [-1, 1]; nan where a map is constant (no ranking)
    mean: float  # mean over the tokens with a defined correlation (nan if none)
    resolution: tuple[int, int]  # (h, w) the maps were compared at


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share the mean of their ranks)."""
    n = x.shape[-1]
    order = np.argsort(x, axis=-1, kind="stable")  # (T, N)
    xs = np.take_along_axis(x, order, axis=-1)  # (T, N)
    ranks = np.empty_like(x, dtype=np.float64)
    for t in range(x.shape[0]):
        # runs of equal values: start index of each run
        starts = np.flatnonzero(np.r_[True, xs[t, 1:] != xs[t, :-1]])
        ends = np.r_[starts[1:], n]
        r = np.repeat((starts + ends - 1) / 2.0, ends - starts)  # (N,) mean rank of the run
        ranks[t, order[t]] = r
    return ranks


def _pool_to(m: np.ndarray, h: int, w: int) -> np.ndarray:
    """(T, H, W) -> (T, h, w) block means (H, W multiples of h, w)."""
    T, H, W = m.shape
    return m.reshape(T, h, H // h, w, W // w).mean(axis=(2, 4))


def faithfulness(attention: np.ndarray, influence: np.ndarray) -> Faithfulness:
    """Spearman correlation between each token's attention map and influence map.

    Both (T, H, W) (or (T, N) flat); when their resolutions differ the finer is block-averaged
    down to the coarser (the sizes must divide). Identical maps give 1.
    """
    a, b = np.asarray(attention, np.float64), np.asarray(influence, np.float64)
    if a.ndim == 2:
        a = a[:, None, :]
    if b.ndim == 2:
        b = b[:, None, :]
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise InvalidInput(f"faithfulness compares (T, H, W) maps with the same T; got {a.shape} and {b.shape}")
    h, w = min(a.shape[1], b.shape[1]), min(a.shape[2], b.shape[2])
    if any(s % t for s, t in ((a.shape[1], h), (b.shape[1], h), (a.shape[2], w), (b.shape[2], w))):
        raise InvalidInput(f"faithfulness: map sizes {a.shape[1:]} and {b.shape[1:]} do not divide each other")
    a, b = _pool_to(a, h, w).reshape(a.shape[0], -1), _pool_to(b, h, w).reshape(b.shape[0], -1)  # (T, N)
    ra, rb = _ranks(a), _ranks(b)  # (T, N)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    den = np.sqrt((ra**2).sum(1) * (rb**2).sum(1))  # (T,)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(den > 0, (ra * rb).sum(1) / np.where(den > 0, den, 1.0), np.nan)  # (T,)
    ok = np.isfinite(rho)
    return Faithfulness(per_token=rho, mean=float(rho[ok].mean()) if ok.any() else float("nan"), resolution=(h, w))


# ---- edits ------------------------------------------------------------------------------------


@dataclass
class EditResult:
    """An image before and after swapping some tokens for other codes."""

    ids_before: np.ndarray  # (T,) / (k,) or (H, W): the ids given
    ids_after: np.ndarray  # same shape: with the edits applied
    before: np.ndarray  # (S, S, 3) uint8 decode of ids_before
    after: np.ndarray  # (S, S, 3) uint8 decode of ids_after
    changed: list[int]  # flat positions whose id changed (edits to the same code are left out)
    diff: np.ndarray  # (S, S) float32: mean |after - before| over R, G, B (0..255)
    keep: int | None  # flex1d: the prefix decoded (None: all given)


def edit_tokens(tok: ImageTokenizer, ids: TokenSeq | np.ndarray | Sequence[int], edits: dict[int, int],
                keep: int | None = None) -> EditResult:
    """Swap token i (flat position; raster order on a grid) for code c for each ``i: c`` and decode.

    Raises InvalidIds naming the valid positions and codes.
    """
    tok = _check_tok(tok)
    arr = np.array(ids_of(ids), dtype=np.int64)  # copy
    flat = arr.reshape(-1)
    V, n = tok.vocab_size, flat.size
    if n == 0:
        raise InvalidIds(f"{tok.name}: no ids to edit")
    new = flat.copy()
    for i, c in dict(edits).items():
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n:
            raise InvalidIds(f"{tok.name}: token positions are 0..{n - 1}, got {i!r}")
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= int(c) < V:
            raise InvalidIds(f"{tok.name}: codes are 0..{V - 1}, got {c!r} for position {i}")
        new[int(i)] = int(c)
    after_ids = new.reshape(arr.shape)
    before = tok.decode(arr, keep=keep)  # (S, S, 3)
    after = tok.decode(after_ids, keep=keep)  # (S, S, 3)
    diff = np.abs(after.astype(np.float32) - before.astype(np.float32)).mean(-1)  # (S, S)
    return EditResult(ids_before=arr, ids_after=after_ids, before=before, after=after,
                      changed=[int(i) for i in np.flatnonzero(new != flat)], diff=diff, keep=keep)


# ---- usage and codebook gallery ---------------------------------------------------------------


def _image_batch(tok: ImageTokenizer, images: Any) -> np.ndarray:
    """A data set as (N, S, S, 3) uint8 at the model's size (a batch array or a list of images)."""
    S = tok.image_size
    if isinstance(images, np.ndarray) and images.ndim == 4 and images.shape[1:] == (S, S, 3) \
            and images.dtype == np.uint8:
        return images
    if isinstance(images, np.ndarray) and images.ndim == 3:
        images = [images]
    arrs = [tok.prepare(x).array for x in images]
    if not arrs:
        raise InvalidInput("no images given")
    return np.stack(arrs)  # (N, S, S, 3)


def encode_all(tok: ImageTokenizer, images: Any, batch: int = 256) -> np.ndarray:
    """(N, T) or (N, H, W) ids of every image, encoded ``batch`` at a time."""
    x = _image_batch(tok, images)
    return np.concatenate([tok.encode_batch(x[s:s + batch]) for s in range(0, len(x), max(int(batch), 1))])


def usage_counts(tok: ImageTokenizer, images: Any, batch: int = 256) -> np.ndarray:
    """(V,) int64: how often each code occurs in the encodings of all ``images``."""
    tok = _check_tok(tok)
    health = CodebookHealth(tok.vocab_size)
    x = _image_batch(tok, images)
    for s in range(0, len(x), max(int(batch), 1)):
        health.update(tok.encode_batch(x[s:s + batch]))
    return health.counts[0].numpy().copy()


def usage_health(counts: np.ndarray) -> HealthReport:
    """Usage, dead codes, entropy and perplexity of a (V,) count vector (``CodebookHealth``)."""
    counts = np.asarray(counts, dtype=np.int64).reshape(-1)
    health = CodebookHealth(counts.size)
    health.counts[0] = torch.as_tensor(counts)
    return health.result()


@dataclass
class Gallery:
    """The most used codes: what each decodes to alone, and where it occurs in a data set."""

    codes: np.ndarray  # (n,) the codes shown, most used first (or 0..n-1 without images)
    counts: np.ndarray | None  # (n,) their counts in the data set (None without images)
    renders: np.ndarray  # (n, S, S, 3) uint8: tok.render_token(code)
    examples: list[list[np.ndarray]]  # per code up to ``nearest`` crops (h, w, 3) uint8 (see ``example_unit``)
    sources: list[list[tuple[int, tuple[int, int, int, int]]]]  # per example: (image index, box x0 y0 x1 y1)
    example_unit: str  # "cells": grid cells using the code | "images": the images that use the code most
    vocab_size: int  # V


@torch.inference_mode()
def render_tokens(tok: ImageTokenizer, codes: Sequence[int]) -> np.ndarray:
    """(n, S, S, 3) uint8: ``tok.render_token(c)`` for each code, in batched model calls."""
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    V = tok.vocab_size
    if codes.size and (codes.min() < 0 or codes.max() >= V):
        raise InvalidIds(f"{tok.name}: token ids are 0..{V - 1}, got {codes.tolist()}")
    if is_flex1d(tok):
        return tok.decode_batch(codes[:, None])  # (n, S, S, 3)  the one-token sequences [c]
    g = tok.model.grid
    return tok.decode_batch(np.repeat(codes, g * g).reshape(-1, g, g))  # (n, S, S, 3) every cell holds c


def codebook_gallery(tok: ImageTokenizer, images: Any = None, n: int = 64, nearest: int = 4,
                     batch: int = 256) -> Gallery:
    """The ``n`` most used codes over ``images`` (without images: codes 0..n-1), each rendered.

    With images, ``examples`` holds up to ``nearest`` regions per code:
    grid: the cells that use the code whose encoder vector lies nearest the code vector, each
    cropped with one cell of context on every side (3 x 3 cells; the image is edge-padded);
    flex1d: a token has no place in the image, so the whole images whose encodings use the
    code most often (ties: the earlier image).
    """
    tok = _check_tok(tok)
    V, S = tok.vocab_size, tok.image_size
    n = max(1, min(int(n), V))
    if images is None:
        codes = np.arange(n)
        return Gallery(codes=codes, counts=None, renders=render_tokens(tok, codes), examples=[[] for _ in codes],
                       sources=[[] for _ in codes], example_unit="cells" if not is_flex1d(tok) else "images", vocab_size=V)
    x = _image_batch(tok, images)  # (N, S, S, 3)
    ids = encode_all(tok, x, batch)  # (N, T) or (N, H, W)
    N = len(x)
    flat = ids.reshape(N, -1)  # (N, T)
    counts = np.bincount(flat.reshape(-1), minlength=V)  # (V,)
    order = np.argsort(-counts, kind="stable")
    codes = order[:n][counts[order[:n]] > 0]
    examples: list[list[np.ndarray]] = []
    sources: list[list[tuple[int, tuple[int, int, int, int]]]] = []
    if is_flex1d(tok):
        per_image = np.stack([np.bincount(r, minlength=V) for r in flat])  # (N, V)
        for c in codes:
            top = np.argsort(-per_image[:, c], kind="stable")[:nearest]
            top = top[per_image[top, c] > 0]
            examples.append([x[i] for i in top])
            sources.append([(int(i), (0, 0, S, S)) for i in top])
        example_unit = "images"
    else:
        g = tok.model.grid
        cell = S // g
        dist = _cell_distances(tok, x, flat, batch)  # (N, T)
        padded = np.pad(x, ((0, 0), (cell, cell), (cell, cell), (0, 0)), mode="edge")  # (N, S+2c, S+2c, 3)
        for c in codes:
            im, pos = np.nonzero(flat == c)
            best = np.argsort(dist[im, pos], kind="stable")[:nearest]
            ex, src = [], []
            for b in best:
                i, t = int(im[b]), int(pos[b])
                r, col = divmod(t, g)
                ex.append(padded[i, r * cell:r * cell + 3 * cell, col * cell:col * cell + 3 * cell].copy())
                src.append((i, (col * cell, r * cell, (col + 1) * cell, (r + 1) * cell)))
            examples.append(ex)
            sources.append(src)
        example_unit = "cells"
    return Gallery(codes=codes, counts=counts[codes], renders=render_tokens(tok, codes), examples=examples,
                   sources=sources, example_unit=example_unit, vocab_size=V)


@torch.inference_mode()
def _cell_distances(tok: ImageTokenizer, x: np.ndarray, flat: np.ndarray, batch: int) -> np.ndarray:
    """(N, T): distance from each grid cell's encoder vector to the vector of the code it got."""
    from ._nn import to_pixels

    cb = torch.as_tensor(tok.codebook())  # (V, D)
    out = []
    for s in range(0, len(x), max(int(batch), 1)):
        z = tok.model.latents(to_pixels(x[s:s + batch], tok.device)).float().cpu()  # (b, T, D)
        q = cb[torch.as_tensor(flat[s:s + batch])]  # (b, T, D)
        out.append((z - q).norm(dim=-1))  # (b, T)
    return torch.cat(out).numpy()


# ---- one image, computed once for every view ------------------------------------------------

RD_CODECS = {  # codec -> qualities of the rate-distortion curve of one image
    "jpeg": (5, 10, 20, 40, 70, 90),
    "webp": (0, 10, 30, 60, 90),
    "webp-down2": (0, 10, 30, 60, 90),
}
RD_COUNT = "payload"  # codec bytes without headers a decoder could rebuild (tokens have none)


@dataclass
class RDPoint:
    nbytes: int  # tokens: ceil(k log2 V / 8); codecs: payload bytes
    psnr: float  # dB against the prepared input (identical images: metrics.image.PSNR_CAP_DB)
    label: str  # "k=4" (tokens) or "q=30" (a codec's quality)


@dataclass
class ImageAnalysis:
    """One image through one tokenizer: what the Image tab and notebook 04 show, computed once."""

    tokenizer: str  # the tokenizer's name
    ids: np.ndarray  # (T,) an ordered 1D sequence, or (H, W) a grid
    image: np.ndarray  # (S, S, 3) uint8: the input as the tokenizer sees it
    vocab_size: int  # V
    notes: list[str]  # what was done to the input, in words (PreparedImage.notes)
    meta: dict  # TokenSeq.meta, with what was done to the file (PreparedImage.meta)
    strip: PrefixStrip  # decodes of the first k = 1, 2, 4, ..., T tokens (a grid: its one full decode)
    codecs: dict[str, Any]  # codec -> image.codecs.RDCurve of this image (RD_COUNT bytes)
    seconds: dict[str, float]  # wall time of "encode", "decode" (the strip) and "codecs"

    @property
    def num_tokens(self) -> int:  # T
        return int(self.ids.size)

    @property
    def ordered(self) -> bool:
        """True for an ordered 1D sequence (any prefix decodes), False for a grid."""
        return self.ids.ndim == 1

    def rd_points(self) -> dict[str, list[RDPoint]]:
        """Bytes vs PSNR on this image: the tokenizer's prefixes, then each codec's qualities."""
        out = {self.tokenizer: [RDPoint(int(b), float(p), f"k={k}")
                                for k, b, p in zip(self.strip.ks, self.strip.nbytes, self.strip.psnr)]}
        for codec, curve in self.codecs.items():
            out[codec] = [RDPoint(int(b), float(p), f"q={q}")
                          for q, b, p in zip(curve.qualities, curve.nbytes[0], curve.psnr[0])]
        return out


@dataclass
class Reconstruction:
    """The image decoded from the first k tokens, with its size and quality."""

    image: np.ndarray  # (S, S, 3) uint8
    k: int  # tokens kept
    num_tokens: int  # T
    vocab_size: int  # V
    nbytes: int  # ceil(k log2 V / 8)
    bits: float  # k log2 V
    psnr: float  # dB against the prepared input (identical: metrics.image.PSNR_CAP_DB)


def analyze(tok: ImageTokenizer, image: Any, refine: Any = None, *, codecs: dict[str, Sequence[int]] | None = None,
            max_pixels: int | None = None) -> ImageAnalysis:
    """Prepare ``image`` once, encode it (one pass, or refined with an ``image.refine.RefineConfig``),
    decode its prefixes k = 1, 2, 4, ..., T in one batched call, and run the codecs of ``codecs``
    (default RD_CODECS) on it: everything the views of one image need."""
    import time

    from . import codecs as image_codecs

    tok = _check_tok(tok)
    t0 = time.perf_counter()
    prepared = tok.prepare(image, max_pixels)
    seq = tok.encode_prepared(prepared, refine)
    t1 = time.perf_counter()
    strip = prefix_strip(tok, prepared.array, ids=seq.ids)
    t2 = time.perf_counter()
    curves = {c: image_codecs.rd_curve(prepared.array[None], c, qs, count=RD_COUNT)
              for c, qs in (RD_CODECS if codecs is None else codecs).items()}
    t3 = time.perf_counter()
    return ImageAnalysis(tokenizer=tok.name, ids=np.asarray(seq.ids), image=prepared.array,
                         vocab_size=int(tok.vocab_size), notes=prepared.notes(), meta={**seq.meta, **prepared.meta},
                         strip=strip, codecs=curves, seconds={"encode": t1 - t0, "decode": t2 - t1, "codecs": t3 - t2})


def reconstruct(tok: ImageTokenizer, analysis: ImageAnalysis, k: Any = None) -> Reconstruction:
    """The image from the first ``k`` tokens of ``analysis`` (None: all; a grid always decodes all;
    k is kept within 1..T); a k on the strip is not decoded again."""
    T, V = analysis.num_tokens, analysis.vocab_size
    if not analysis.ordered or k is None:
        k = T
    else:
        try:
            k = min(max(int(round(float(k))), 1), T)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInput(f"k must be a number of tokens in 1..{T}, got {k!r}") from None
    if k in analysis.strip.ks:
        image = analysis.strip.images[analysis.strip.ks.index(k)]  # (S, S, 3)
    else:
        image = _check_tok(tok).decode(analysis.ids, keep=k)  # (S, S, 3)
    return Reconstruction(image=image, k=k, num_tokens=T, vocab_size=V, nbytes=bytes_for_tokens(k, V),
                          bits=round(k * float(np.log2(V)), 1), psnr=float(psnr(analysis.image, image)))
