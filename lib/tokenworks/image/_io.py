"""Turn whatever a person hands an image tokenizer into a square RGB uint8 array.

``to_rgb_array(x, size)`` accepts a PIL image, a numpy array, encoded bytes or a file path and
returns a ``PreparedImage``: the ``(size, size, 3)`` uint8 array plus a ``meta`` dict that says
everything that was done to get there (mode conversion, alpha composited on white, EXIF
rotation, first frame of an animation, 16-bit reduced to 8, center crop or pad, resize filter).
Image tokenizers call this in ``encode`` and copy ``meta`` into ``TokenSeq.meta``.

Refused with ``InvalidInput`` (the message says what was wrong and what is allowed): files that
are not images, truncated files, arrays of the wrong shape or dtype, and images above
``max_pixels`` (checked from the header, before the pixels are decoded).
"""
from __future__ import annotations

import io
import os
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InvalidInput

MAX_PIXELS = 50_000_000  # refuse images above 50 megapixels (width * height)
FITS = ("crop", "pad")  # how a non-square image becomes square
PAD_VALUE = 255  # padding colour (white, the same white that alpha is composited on)


TINY = 16  # inputs with a side below this are upscaled so much that the notes say so
GREY_MODES = ("L", "1", "I", "I;16", "I;16L", "I;16B", "I;16N", "F", "LA", "La")


@dataclass
class PreparedImage:
    array: np.ndarray  # (S, S, 3) uint8, or (H, W, 3) when size is None
    meta: dict = field(default_factory=dict)  # what was done: see to_rgb_array

    def notes(self) -> list[str]:
        """What was done to the input, in words: one sentence per conversion, crop or resize."""
        meta, size = self.meta, self.array.shape[0]
        notes = []
        w, h = meta.get("original_size", (size, size))
        mode = str(meta.get("original_mode", "RGB"))
        if meta.get("frames"):
            notes.append(f"Animated image: {meta['frames']}.")
        if mode in GREY_MODES:
            notes.append(f"Greyscale image (mode {mode}) converted to RGB.")
        elif mode in ("P", "CMYK"):
            notes.append(f"{'Palette' if mode == 'P' else 'CMYK'} image converted to RGB.")
        elif meta.get("converted"):
            notes.append(f"Converted {meta['converted']}.")
        if meta.get("alpha"):
            notes.append("Transparent pixels composited on white.")
        elif mode in ("RGBA", "LA", "PA", "RGBa"):
            notes.append(f"{mode} image: its alpha channel is fully opaque and was dropped.")
        if meta.get("bit_depth"):
            notes.append(f"{str(meta['bit_depth'])[0].upper()}{str(meta['bit_depth'])[1:]}.")
        if meta.get("exif_transposed"):
            notes.append(f"{meta['exif_transposed']}.")
        if "crop_box" in meta:
            left, top, right, bottom = meta["crop_box"]
            notes.append(f"{w}x{h} is not square: the centred {right - left}x{bottom - top} square was kept.")
        if meta.get("resized"):
            notes.append(f"Resized {meta['resized']} ({meta.get('filter', '')}) to the tokenizer's image size.")
        if min(w, h) < TINY:
            notes.append(f"The image is only {w}x{h} pixels: scaled up to {size}x{size}, it holds almost nothing "
                         "to tokenize.")
        return notes


def to_rgb_array(x, size: int | None, fit: str = "crop",
                 max_pixels: int = MAX_PIXELS) -> PreparedImage:
    """Decode, convert to RGB and make square at ``size`` (None: keep the size, no crop).

    ``x``: ``PIL.Image.Image``; numpy array (H, W) / (H, W, 1) / (H, W, 3) / (H, W, 4) of
    uint8, uint16, bool or float in [0, 1]; ``bytes``; or a path (``str`` / ``Path``).
    ``fit``: "crop" takes the centred square of the short side; "pad" fits the long side and
    pads with white. ``meta`` keys: source, original_size (W, H), original_mode, and any of
    exif_transposed, frames, alpha, bit_depth, crop_box, pad_box, resized, filter.
    """
    if fit not in FITS:
        raise InvalidInput(f"fit must be one of {', '.join(FITS)}, not {fit!r}")
    if size is not None and (not isinstance(size, (int, np.integer)) or size < 1):
        raise InvalidInput(f"size must be a positive int or None, not {size!r}")
    meta: dict = {}
    if isinstance(x, Image.Image):
        meta["source"] = "pil"
        _check_pixels(x.size, max_pixels)
        im = _load_pixels(x, meta)
    elif isinstance(x, np.ndarray):
        meta["source"] = "array"
        im = _from_array(x, meta, max_pixels)
    elif isinstance(x, (bytes, bytearray, memoryview)):
        meta["source"] = "bytes"
        im = _open(io.BytesIO(bytes(x)), "the bytes", meta, max_pixels)
    elif isinstance(x, (str, os.PathLike)):
        p = Path(x)
        if not p.is_file():
            raise InvalidInput(f"no image file at {p} (give a path to an existing file, a PIL "
                               "image, a numpy array or encoded bytes)")
        meta["source"] = "path"
        with open(p, "rb") as fh:
            im = _open(fh, str(p), meta, max_pixels)
    else:
        raise InvalidInput(f"cannot read an image from {type(x).__name__}; give a PIL image, "
                           "a numpy array (H, W[, C]), encoded bytes or a file path")
    rgb = _to_rgb(im, meta)  # PIL RGB
    arr = _square(rgb, size, fit, meta)  # (S, S, 3) uint8
    return PreparedImage(array=arr, meta=meta)


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def _check_pixels(wh: tuple[int, int], max_pixels: int) -> None:
    w, h = wh
    if w < 1 or h < 1:
        raise InvalidInput(f"the image is empty ({w}x{h} pixels); it needs at least 1x1")
    if w * h > max_pixels:
        raise InvalidInput(
            f"the image is {w}x{h} = {w * h / 1e6:.1f} megapixels, above the limit of "
            f"{max_pixels / 1e6:g} megapixels; downscale it first (the limit guards memory)")


def _open(fh, what: str, meta: dict, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fh)  # reads the header only
    except UnidentifiedImageError:
        raise InvalidInput(f"{what} is not an image Pillow can read (PNG, JPEG, GIF, WebP, "
                           "BMP, TIFF...)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InvalidInput(f"{what} is too large to decode safely ({e}); the limit is "
                           f"{max_pixels / 1e6:g} megapixels") from None
    except (OSError, SyntaxError, ValueError, struct.error) as e:  # a header cut short or corrupt
        raise InvalidInput(f"{what} could not be read ({e}); it may be truncated or corrupt") from None
    _check_pixels(im.size, max_pixels)  # before any pixel is decoded
    meta["format"] = im.format
    return _load_pixels(im, meta, what)


def _load_pixels(im: Image.Image, meta: dict, what: str = "the image") -> Image.Image:
    """First frame, EXIF orientation applied, pixels decoded (truncation raises here)."""
    meta["original_size"] = im.size
    meta["original_mode"] = im.mode
    n_frames = getattr(im, "n_frames", 1)
    if n_frames > 1:
        im.seek(0)
        meta["frames"] = f"{n_frames} frames (animated); the first frame was used"
    try:
        im.load()
        if n_frames > 1:
            im = im.copy()  # detach frame 0 from the animation
        orientation = _orientation(im)
        if orientation not in (0, 1):
            im = ImageOps.exif_transpose(im)
            meta["exif_transposed"] = f"EXIF orientation {orientation} applied"
    except (OSError, SyntaxError, ValueError) as e:
        raise InvalidInput(f"{what} could not be decoded ({e}); it may be truncated or "
                           "corrupt") from None
    return im


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block is not worth failing over
        return 1


def _from_array(x: np.ndarray, meta: dict, max_pixels: int) -> Image.Image:
    meta["original_mode"] = f"array {x.dtype} {tuple(x.shape)}"
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]  # (H, W)
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[2] not in (3, 4)):
        raise InvalidInput(f"an image array must be (H, W), (H, W, 1), (H, W, 3) or "
                           f"(H, W, 4); got shape {tuple(x.shape)}")
    _check_pixels((x.shape[1], x.shape[0]), max_pixels)
    meta["original_size"] = (int(x.shape[1]), int(x.shape[0]))
    if x.dtype == np.uint8:
        a = x
    elif x.dtype == np.bool_:
        a = x.astype(np.uint8) * 255
    elif x.dtype == np.uint16:
        a = _reduce_16(x, meta)
    elif np.issubdtype(x.dtype, np.floating):
        if not np.all(np.isfinite(x)):
            raise InvalidInput("the float image array holds NaN or inf; floats must be in "
                               "[0, 1]")
        lo, hi = float(x.min()), float(x.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise InvalidInput(f"float image arrays must hold values in [0, 1]; got "
                               f"[{lo:.3g}, {hi:.3g}] (use uint8 for 0..255)")
        a = np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)
    elif np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise InvalidInput(f"integer image arrays of dtype {x.dtype} must hold 0..255 "
                               f"(or be uint16); got {lo}..{hi}")
        a = x.astype(np.uint8)
    else:
        raise InvalidInput(f"image arrays must be uint8, uint16, bool or float in [0, 1]; "
                           f"got dtype {x.dtype}")
    a = np.ascontiguousarray(a)
    mode = "L" if a.ndim == 2 else ("RGB" if a.shape[2] == 3 else "RGBA")
    return Image.fromarray(a, mode=mode)


def _reduce_16(a: np.ndarray, meta: dict) -> np.ndarray:
    """16-bit values (0..65535) -> 8-bit by rounding v / 257."""
    meta["bit_depth"] = "16-bit reduced to 8-bit (v / 257, rounded)"
    return np.round(a.astype(np.float64) / 257.0).clip(0, 255).astype(np.uint8)


def _to_rgb(im: Image.Image, meta: dict) -> Image.Image:
    mode = im.mode
    if mode == "LAB":
        raise InvalidInput("CIE LAB images are not supported (Pillow cannot convert them to "
                           "RGB without a colour profile); convert to RGB first")
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        a = np.asarray(im)  # (H, W) integer
        if mode == "I" and (a.min() < 0 or a.max() > 65535):
            raise InvalidInput(f"32-bit integer images must hold 0..65535; got "
                               f"{a.min()}..{a.max()}")
        im = Image.fromarray(_reduce_16(a, meta), mode="L")
    elif mode == "F":
        a = np.asarray(im, dtype=np.float64)  # (H, W)
        scale = 1.0 if a.size and a.max() <= 1.0 else 1.0 / 255.0
        meta["bit_depth"] = "32-bit float " + ("[0, 1]" if scale == 1.0 else "clipped to 0..255")
        im = Image.fromarray(np.round(np.clip(a * scale, 0, 1) * 255).astype(np.uint8), "L")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("LA", "PA", "La", "RGBa"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        alpha = im.getchannel("A")
        if alpha.getextrema()[0] < 255:
            meta["alpha"] = "composited on white"
        white = Image.new("RGBA", im.size, (PAD_VALUE,) * 3 + (255,))
        im = Image.alpha_composite(white, im)
    if im.mode != "RGB":
        if im.mode not in ("RGB", "RGBA"):
            meta["converted"] = f"{im.mode} -> RGB"
        im = im.convert("RGB")
    return im


# --------------------------------------------------------------------------------------------
# Making it square
# --------------------------------------------------------------------------------------------


def _square(im: Image.Image, size: int | None, fit: str, meta: dict) -> np.ndarray:
    w, h = im.size
    if size is None:
        return np.asarray(im, dtype=np.uint8).copy()  # (H, W, 3)
    if w != h:
        if fit == "crop":
            s = min(w, h)
            box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
            im = im.crop(box)
            meta["crop_box"] = box  # (left, top, right, bottom) in the original pixels
        else:
            s = max(w, h)
            canvas = Image.new("RGB", (s, s), (PAD_VALUE,) * 3)
            off = ((s - w) // 2, (s - h) // 2)
            canvas.paste(im, off)
            im = canvas
            meta["pad_box"] = (off[0], off[1], off[0] + w, off[1] + h)  # where the image sits
    s = im.size[0]
    if s != size:
        resample = Image.Resampling.LANCZOS if s > size else Image.Resampling.BICUBIC
        im = im.resize((size, size), resample=resample, reducing_gap=3.0 if s > size else None)
        meta["resized"] = f"{s}x{s} -> {size}x{size}"
        meta["filter"] = "lanczos" if s > size else "bicubic"
    return np.asarray(im, dtype=np.uint8).copy()  # (S, S, 3)
