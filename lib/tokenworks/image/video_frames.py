"""Still frames from a video file, spaced apart so that no two are near-copies.

    from tokenworks.image.video_frames import spaced_frames
    sf = spaced_frames(path)
    sf.frames                             # [(frame index, (H, W, 3) uint8 RGB), ...]
    sf.examined                           # how many candidate frames were looked at

Decoding uses PyAV (PyPI ``av``, the ``video`` extra: its wheels carry their own FFmpeg, so
nothing is needed from the system). A ``.gz`` file is decompressed in memory first (opencv-doc
ships two of its clips gzipped). Frames are converted to RGB here, in numpy, rather than by
FFmpeg's swscale, whose SIMD paths may round differently on other CPUs: planar YUV 4:2:0 with
BT.601 limited-range coefficients, chroma repeated to full size. Decoding is single-threaded.

Spacing: a candidate every ``every_s`` seconds of video (by frame count and the stream's
average rate); a candidate is kept only when its perceptual hash differs from every frame kept
so far by more than ``near_bits`` bits (``tokenworks.image.near_duplicates``). Frames of one
camera share their scene, so the bar is higher than for two photos (``FRAME_NEAR_BITS`` = 16
rather than 10 of 64 bits): a still camera watching people walk by (opencv-doc's vtest.avi)
gives one frame, a hand turning a box in front of a camera three.
"""
from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AssetMissing
from .near_duplicates import hamming, perceptual_hash

EVERY_S = 1.0  # seconds of video between two candidate frames
FRAME_NEAR_BITS = 16  # a kept frame differs from every other kept frame in more bits (of 64)
AV_PIN = "av==18.1.1"


@dataclass
class SpacedFrames:
    frames: list[tuple[int, np.ndarray]]  # (frame index, (H, W, 3) uint8 RGB), in video order
    examined: int  # candidate frames looked at (one every ``every_s`` seconds)


def _av():
    try:
        import av
    except ImportError as e:
        raise AssetMissing(f"decoding video frames needs the PyPI package {AV_PIN} ({e}): "
                           f"`.venv/bin/pip install -e '.[video]'` or `pip install {AV_PIN}`"
                           ) from None
    return av


def yuv420p_to_rgb(planar: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H * 3 / 2, W) planar YUV 4:2:0 (PyAV's to_ndarray) -> (H, W, 3) uint8 RGB.

    BT.601, limited range (Y 16..235, Cb/Cr 16..240); chroma samples repeated 2x2."""
    y = planar[:height].astype(np.float64)  # (H, W)
    quarter = (height // 2) * (width // 2)
    chroma = planar[height:].reshape(-1)  # U plane then V plane, each (H/2, W/2)
    u = chroma[:quarter].reshape(height // 2, width // 2).astype(np.float64)
    v = chroma[quarter:2 * quarter].reshape(height // 2, width // 2).astype(np.float64)
    u = np.repeat(np.repeat(u, 2, axis=0), 2, axis=1)[:height, :width] - 128.0  # (H, W)
    v = np.repeat(np.repeat(v, 2, axis=0), 2, axis=1)[:height, :width] - 128.0  # (H, W)
    c = (y - 16.0) * (255.0 / 219.0)
    k = 255.0 / 224.0
    r = c + 1.402 * k * v
    g = c - 0.344136 * k * u - 0.714136 * k * v
    b = c + 1.772 * k * u
    rgb = np.stack([r, g, b], axis=-1)  # (H, W, 3)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _rgb(frame) -> np.ndarray:
    """(H, W, 3) uint8 RGB of one decoded PyAV frame."""
    name = frame.format.name
    if name == "rgb24":
        return np.ascontiguousarray(frame.to_ndarray())  # (H, W, 3), no conversion
    if name in ("yuv420p", "yuvj420p") and frame.width % 2 == 0 and frame.height % 2 == 0:
        return yuv420p_to_rgb(frame.to_ndarray(), frame.height, frame.width)
    return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))  # other formats: swscale


def _open(path: Path):
    av = _av()
    if path.suffix == ".gz":
        return av.open(io.BytesIO(gzip.decompress(path.read_bytes())))
    return av.open(str(path))


def spaced_frames(path: Path, every_s: float = EVERY_S, near_bits: int = FRAME_NEAR_BITS
                  ) -> SpacedFrames:
    """Candidate frames every ``every_s`` s; a candidate within ``near_bits`` of a kept one is dropped."""
    kept: list[tuple[int, np.ndarray]] = []
    hashes: list[int] = []
    examined = 0
    with _open(Path(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1  # modest CPU use; decoding is exact either way
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        step = max(1, round(rate * every_s))
        for index, frame in enumerate(container.decode(stream)):
            if index % step:
                continue
            examined += 1
            rgb = _rgb(frame)  # (H, W, 3)
            h = perceptual_hash(rgb)
            if all(hamming(h, o) > near_bits for o in hashes):
                kept.append((index, rgb))
                hashes.append(h)
    return SpacedFrames(kept, examined)


def frame_at(path: Path, index: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB of frame ``index`` (counted from 0 in decoding order)."""
    with _open(Path(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for i, frame in enumerate(container.decode(stream)):
            if i == index:
                return _rgb(frame)
    raise IndexError(f"{Path(path).name} has no frame {index}")
