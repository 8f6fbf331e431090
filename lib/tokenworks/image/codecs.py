"""Classical codec baselines at equal bytes: JPEG, WebP, and downscale -> WebP -> upscale.

    r = encode_at_budget(img, "webp", max_bytes=200)     # the best quality within 200 bytes
    r.nbytes, r.params["quality"], r.psnr, r.reconstruction   # (H, W, 3) uint8
    curve = rd_curve(images, "jpeg", qualities=[5, 10, 20, 40])

What is counted (``count``):

- ``"file"``: the whole file as Pillow writes it. JPEG: baseline, 4:2:0, ``optimize=True``
  (Huffman tables fitted to the image, which then sit in the file). WebP: lossy, method 6,
  the RIFF container included.
- ``"payload"``: only what a decoder that already knows the image size cannot rebuild.
  JPEG: the entropy-coded scan + 1 byte for the quality; encoded with the *standard* Huffman
  tables (``optimize=False``) so the header (JFIF, quantisation tables scaled from the
  quality, frame, standard Huffman tables, scan header) is a function of (size, quality) and
  is rebuilt from a template encoding. WebP: the VP8 bitstream without the 20-byte RIFF /
  chunk headers and without the 7 bytes of start code and dimensions. The reconstruction in
  this mode is decoded from the rebuilt file, so it proves the stripped bytes were redundant.

Codecs: ``jpeg`` (quality 1..95), ``webp`` (quality 0..100), ``webp-down2`` / ``webp-down4``
(Lanczos downscale by 2 or 4, WebP, bicubic upscale back; quality 0..100).
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image

from ..errors import InvalidInput
from ..metrics.image import psnr as _psnr
from ..metrics.image import ssim as _ssim


@dataclass(frozen=True)
class CodecSpec:
    name: str
    fmt: str  # "jpeg" | "webp"
    q_min: int  # lowest quality tried
    q_max: int  # highest quality tried
    down: int = 1  # downscale factor before encoding (upscaled back after decoding)


CODECS: dict[str, CodecSpec] = {c.name: c for c in (
    CodecSpec("jpeg", "jpeg", 1, 95),
    CodecSpec("webp", "webp", 0, 100),
    CodecSpec("webp-down2", "webp", 0, 100, down=2),
    CodecSpec("webp-down4", "webp", 0, 100, down=4),
)}
COUNTS = ("file", "payload")
JPEG_SUBSAMPLING = 2  # 4:2:0
WEBP_METHOD = 6  # slowest, smallest


@dataclass
class CodecResult:
    codec: str  # a CODECS name
    params: dict  # {"quality": q, "down": factor, "count": "file" | "payload", ...}
    nbytes: int  # the size that was counted (file_bytes or payload_bytes)
    file_bytes: int  # the whole file
    payload_bytes: int  # what a decoder knowing the image size needs (see module docs)
    reconstruction: np.ndarray  # (H, W, 3) uint8
    psnr: float  # dB against the input (metrics.image.psnr: 100 when exact)
    ssim: float  # mean SSIM over R, G, B
    max_bytes: int | None = None  # the budget asked for, if any
    fits: bool = True  # False: even the lowest quality is over max_bytes (this is that one)
    notes: list[str] = field(default_factory=list)


def codec_names() -> list[str]:
    return list(CODECS)


def encode(img: np.ndarray, codec: str, quality: int, count: str = "file") -> CodecResult:
    """Encode ``img`` (H, W, 3) uint8 with ``codec`` at ``quality`` and decode it back."""
    spec = _codec(codec)
    _check_count(count)
    img = _check_image(img, spec)
    if not spec.q_min <= int(quality) <= spec.q_max:
        raise InvalidInput(f"{codec} quality must be in {spec.q_min}..{spec.q_max}, not "
                           f"{quality}")
    q = int(quality)
    h, w = img.shape[:2]
    small = img
    if spec.down > 1:
        small = np.asarray(Image.fromarray(img).resize(
            (w // spec.down, h // spec.down), Image.Resampling.LANCZOS))  # (H/f, W/f, 3)
    if spec.fmt == "jpeg":
        data, payload, rebuilt = _jpeg(small, q, count)
    else:
        data, payload, rebuilt = _webp(small, q)
    decoded = _decode(rebuilt if count == "payload" else data)  # (h, w, 3)
    if spec.down > 1:
        decoded = np.asarray(Image.fromarray(decoded).resize((w, h), Image.Resampling.BICUBIC))
    nbytes = payload if count == "payload" else len(data)
    params = {"quality": q, "down": spec.down, "count": count}
    if spec.fmt == "jpeg":
        params.update(subsampling="4:2:0", optimize=count == "file")
    else:
        params.update(method=WEBP_METHOD)
    return CodecResult(codec=codec, params=params, nbytes=nbytes, file_bytes=len(data),
                       payload_bytes=payload, reconstruction=decoded,
                       psnr=float(_psnr(img, decoded)), ssim=float(_ssim(img, decoded)))


def encode_at_budget(img: np.ndarray, codec: str, max_bytes: int, count: str = "file"
                     ) -> CodecResult:
    """The highest quality whose size is <= ``max_bytes`` (binary search on quality).

    Size grows with quality almost everywhere; the search assumes it does and the result is
    always checked against the budget. When even the lowest quality is larger, the result at
    the lowest quality comes back with ``fits=False``.
    """
    spec = _codec(codec)
    if not isinstance(max_bytes, (int, np.integer)) or max_bytes < 1:
        raise InvalidInput(f"max_bytes must be a positive int, not {max_bytes!r}")
    lo, hi = spec.q_min, spec.q_max
    best = None
    tried: dict[int, CodecResult] = {}

    def at(q):
        if q not in tried:
            tried[q] = encode(img, codec, q, count)
        return tried[q]

    while lo <= hi:
        mid = (lo + hi) // 2
        r = at(mid)
        if r.nbytes <= max_bytes:
            best, lo = r, mid + 1
        else:
            hi = mid - 1
    if best is None:
        r = at(spec.q_min)
        r.fits = r.nbytes <= max_bytes
        r.max_bytes = int(max_bytes)
        r.notes.append(f"even quality {spec.q_min} takes {r.nbytes} bytes > {max_bytes}")
        return r
    best.max_bytes = int(max_bytes)
    best.notes.append(f"{len(tried)} qualities tried")
    return best


@dataclass
class RDCurve:
    codec: str
    count: str  # "file" | "payload"
    qualities: list[int]  # (Q,)
    nbytes: np.ndarray  # (N, Q) counted bytes per image and quality
    psnr: np.ndarray  # (N, Q) dB (100 where exact)
    ssim: np.ndarray  # (N, Q)

    @property
    def mean_bytes(self) -> np.ndarray:  # (Q,)
        return self.nbytes.mean(axis=0)

    @property
    def mean_psnr(self) -> np.ndarray:  # (Q,) identical images count as 100 dB
        return self.psnr.mean(axis=0)

    @property
    def mean_ssim(self) -> np.ndarray:  # (Q,)
        return self.ssim.mean(axis=0)

    def bpp(self, pixels: int) -> np.ndarray:  # (Q,) bits per pixel
        return self.mean_bytes * 8 / pixels


def rd_curve(images: np.ndarray, codec: str, qualities, count: str = "file") -> RDCurve:
    """Rate-distortion points: every image (N, H, W, 3) at every quality."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise InvalidInput(f"images must be (N, H, W, 3) uint8; got shape {images.shape}")
    qs = [int(q) for q in qualities]
    res = [[encode(im, codec, q, count) for q in qs] for im in images]
    return RDCurve(codec=codec, count=count, qualities=qs,
                   nbytes=np.array([[r.nbytes for r in row] for row in res]),
                   psnr=np.array([[r.psnr for r in row] for row in res]),
                   ssim=np.array([[r.ssim for r in row] for row in res]))


def budget_table(images: np.ndarray, codec: str, budgets, count: str = "file") -> dict:
    """{budget: (mean PSNR over the images that fit, share that fit, mean bytes)}."""
    out = {}
    for b in budgets:
        rs = [encode_at_budget(im, codec, int(b), count) for im in images]
        ok = [r for r in rs if r.fits]
        out[int(b)] = (float(np.mean([r.psnr for r in ok])) if ok else float("nan"),
                       len(ok) / len(rs),
                       float(np.mean([r.nbytes for r in ok])) if ok else float("nan"))
    return out


# --------------------------------------------------------------------------------------------
# JPEG
# --------------------------------------------------------------------------------------------


def _jpeg_bytes(img: np.ndarray, q: int, optimize: bool) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=q, optimize=optimize,
                              subsampling=JPEG_SUBSAMPLING, progressive=False)
    return buf.getvalue()


def _jpeg_split(data: bytes) -> tuple[bytes, bytes]:
    """(header up to the end of the SOS segment, entropy-coded scan without EOI)."""
    if data[:2] != b"\xff\xd8" or data[-2:] != b"\xff\xd9":
        raise InvalidInput("not a baseline JPEG (no SOI / EOI markers)")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise InvalidInput(f"malformed JPEG: expected a marker at byte {i}")
        marker = data[i + 1]
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        i += 2 + length
        if marker == 0xDA:  # start of scan: the entropy-coded data follows
            return data[:i], data[i:-2]
    raise InvalidInput("malformed JPEG: no start-of-scan marker")


@lru_cache(maxsize=256)
def _jpeg_header(h: int, w: int, q: int) -> bytes:
    """The header every standard-table JPEG of this size and quality shares."""
    return _jpeg_split(_jpeg_bytes(np.full((h, w, 3), 128, np.uint8), q, optimize=False))[0]


def _jpeg(img: np.ndarray, q: int, count: str) -> tuple[bytes, int, bytes]:
    """(file as counted for "file", payload bytes, the file rebuilt from the payload)."""
    plain = _jpeg_bytes(img, q, optimize=False)
    header, scan = _jpeg_split(plain)
    template = _jpeg_header(img.shape[0], img.shape[1], q)
    if header != template:
        raise RuntimeError("JPEG header depends on the content; payload counting is invalid")
    rebuilt = template + scan + b"\xff\xd9"
    payload = len(scan) + 1  # + 1 byte: the quality, from which the tables are rebuilt
    data = _jpeg_bytes(img, q, optimize=True) if count == "file" else plain
    return data, payload, rebuilt


# --------------------------------------------------------------------------------------------
# WebP
# --------------------------------------------------------------------------------------------


def _webp(img: np.ndarray, q: int) -> tuple[bytes, int, bytes]:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="WEBP", quality=q, method=WEBP_METHOD, lossless=False)
    data = buf.getvalue()
    h, w = img.shape[:2]
    if data[:4] != b"RIFF" or data[8:16] != b"WEBPVP8 ":
        return data, len(data), data  # extended format: count the whole file
    (size,) = struct.unpack("<I", data[16:20])
    vp8 = data[20:20 + size]
    if vp8[3:6] != b"\x9d\x01\x2a" or struct.unpack("<HH", vp8[6:10]) != (w, h):
        return data, len(data), data  # unexpected frame header: count the whole file
    payload = vp8[:3] + vp8[10:]  # frame tag + bitstream; start code and size are known
    return data, len(payload), _webp_rebuild(payload, w, h)


def _webp_rebuild(payload: bytes, w: int, h: int) -> bytes:
    vp8 = payload[:3] + b"\x9d\x01\x2a" + struct.pack("<HH", w, h) + payload[3:]
    pad = b"\x00" if len(vp8) % 2 else b""
    body = b"WEBPVP8 " + struct.pack("<I", len(vp8)) + vp8 + pad
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()  # (H, W, 3)


def _codec(name: str) -> CodecSpec:
    if name not in CODECS:
        raise InvalidInput(f"unknown codec {name!r}; valid codecs: {', '.join(CODECS)}")
    return CODECS[name]


def _check_count(count: str) -> None:
    if count not in COUNTS:
        raise InvalidInput(f"count must be one of {', '.join(COUNTS)}, not {count!r}")


def _check_image(img, spec: CodecSpec) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise InvalidInput(f"codecs take one (H, W, 3) uint8 image; got {img.dtype} "
                           f"{img.shape} (use tokenworks.image.data.to_rgb_array first)")
    if min(img.shape[:2]) < spec.down:
        raise InvalidInput(f"{spec.name} downscales by {spec.down}: the image must be at "
                           f"least {spec.down}x{spec.down}; got {img.shape[1]}x{img.shape[0]}")
    return np.ascontiguousarray(img)


@dataclass
class BestAtBudget:
    """Per image, the best of several codecs within a byte budget."""

    budget: int  # bytes
    count: str  # "file" | "payload"
    psnr: np.ndarray  # (N,) dB (100 where exact); an image no codec fits gets its smallest encoding (over budget)
    codec: list[str]  # (N,) which codec won
    fits: np.ndarray  # (N,) bool: some codec fit the budget

    @property
    def mean_psnr(self) -> float:
        return float(self.psnr.mean())

    @property
    def fit_share(self) -> float:
        return float(self.fits.mean())


def best_at_budget(images: np.ndarray, budget: int, codecs=("jpeg", "webp", "webp-down2", "webp-down4"),
                   count: str = "file") -> BestAtBudget:
    """For each image the highest PSNR any of ``codecs`` reaches within ``budget`` bytes.

    When no codec fits an image, its lowest-quality encoding that comes closest to the budget
    is counted instead, which favours the codecs (they get more bytes than the budget).
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise InvalidInput(f"images must be (N, H, W, 3) uint8; got shape {images.shape}")
    psnr, won, fits = [], [], []
    for im in images:
        rs = [encode_at_budget(im, c, int(budget), count) for c in codecs]
        ok = [r for r in rs if r.fits]
        pick = max(ok, key=lambda r: r.psnr) if ok else min(rs, key=lambda r: r.nbytes)
        psnr.append(pick.psnr)
        won.append(pick.codec)
        fits.append(bool(ok))
    return BestAtBudget(int(budget), count, np.array(psnr), won, np.array(fits))
