"""Reading, checking and writing audio: every audio tokenizer, metric and view starts here.

    clip = read_audio("speech.flac")          # AudioClip at 16 kHz, mono, float32 in [-1, 1]
    clip = prepare(wave, 48000)               # the same checks for an array already in memory
    clip.wave, clip.sample_rate, clip.notes   # notes say what was done ("down-mixed 2 channels")
    write_wav("out.wav", clip.wave)           # 16-bit PCM, for players and command-line tools

The working format is ``SAMPLE_RATE`` (16 kHz) mono float32 ``(N,)`` in [-1, 1]. ``prepare``
accepts int16, int32, uint8 and float arrays, shaped ``(N,)``, ``(N, C)`` or ``(C, N)``:
several channels are averaged (down-mixed), other rates resampled with
``scipy.signal.resample_poly``, and values beyond [-1, 1] clipped; each of these adds a note.

Refused with ``InvalidInput`` (the message says what is allowed): no samples, NaN or infinite
samples (refused rather than silently zeroed, so a broken pipeline shows up where it breaks),
non-numeric arrays, more than ``MAX_CHANNELS`` channels, rates outside
``MIN_RATE..MAX_RATE``, and clips longer than ``MAX_SECONDS`` (a file's length is read from its
header, before anything is decoded). All-silent input is accepted; ``AudioClip.is_silent``
says so and a note is added.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput

SAMPLE_RATE = 16000  # Hz: the rate every audio tokenizer works at
MAX_SECONDS = 60.0  # longest clip read_audio / prepare accept by default (the UI states it)
MAX_FILE_BYTES = 200 * 1024 * 1024  # larger files are refused before they are opened
MAX_CHANNELS = 8  # (N, C) vs (C, N) is told apart by the short side, at most this many
MIN_RATE, MAX_RATE = 1000, 384000  # Hz accepted as input rates
SILENCE_PEAK = 1e-4  # peak amplitude (-80 dBFS) at or below which a clip counts as silent
ALLOWED_FORMATS = ("WAV", "FLAC", "OGG")  # what read_audio opens (libsndfile: WAV/WAVEX/RF64, FLAC, OGG Vorbis/Opus)
_SNDFILE_FORMATS = {"WAV", "WAVEX", "RF64", "FLAC", "OGG"}
_ALLOWED_TEXT = "WAV, FLAC or OGG (Vorbis/Opus)"


@dataclass
class AudioClip:
    """A checked clip in the working format, with what was done to get it there."""

    wave: np.ndarray  # (N,) float32 in [-1, 1] at sample_rate
    sample_rate: int = SAMPLE_RATE
    original_rate: int = SAMPLE_RATE  # Hz of the input before resampling
    original_channels: int = 1  # channels of the input before down-mixing
    notes: list[str] = field(default_factory=list)  # one line per change or remark, for the UI

    @property
    def n_samples(self) -> int:
        return int(self.wave.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_samples / float(self.sample_rate)

    @property
    def peak(self) -> float:
        return float(np.max(np.abs(self.wave))) if self.n_samples else 0.0

    @property
    def is_silent(self) -> bool:
        return self.peak <= SILENCE_PEAK

    @property
    def resampled(self) -> bool:
        return self.original_rate != self.sample_rate

    @property
    def downmixed(self) -> bool:
        return self.original_channels > 1

    def meta(self) -> dict[str, Any]:
        """What a tokenizer puts in ``TokenSeq.meta`` about its input."""
        return {
            "input_type": "audio",
            "sample_rate": self.sample_rate,
            "n_samples": self.n_samples,
            "duration_s": round(self.duration_s, 6),
            "resampled_from": self.original_rate if self.resampled else None,
            "downmixed": self.downmixed,
            "original_channels": self.original_channels,
            "silent": self.is_silent,
            "notes": list(self.notes),
        }


# ---- arrays -------------------------------------------------------------------------------


def _to_float(x: np.ndarray) -> np.ndarray:
    """Integer PCM or float samples as float64 in the [-1, 1] convention."""
    if x.dtype == np.int16:
        return x.astype(np.float64) / 32768.0
    if x.dtype == np.int32:
        return x.astype(np.float64) / 2147483648.0
    if x.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        return (x.astype(np.float64) - 128.0) / 128.0
    if np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float64)
    raise InvalidInput(
        f"audio samples of type {x.dtype} are not supported; give float32/float64 in [-1, 1] "
        "or integer PCM (int16, int32, uint8)"
    )


def _to_mono(x: np.ndarray, layout: str | None) -> tuple[np.ndarray, int]:
    """(N,), (N, C) or (C, N) -> ((N,), C)."""
    if x.ndim == 1:
        return x, 1
    if x.ndim != 2:
        raise InvalidInput(
            f"audio must be shaped (N,), (N, C) or (C, N) with C <= {MAX_CHANNELS} channels; "
            f"got an array of shape {x.shape}"
        )
    if layout is None:
        rows, cols = x.shape
        if cols <= MAX_CHANNELS and rows > cols:
            layout = "NC"
        elif rows <= MAX_CHANNELS and cols > rows:
            layout = "CN"
        else:
            raise InvalidInput(
                f"cannot tell samples from channels in an array of shape {x.shape}: give (N,), "
                f"(N, C) or (C, N) with at most {MAX_CHANNELS} channels and more samples than channels"
            )
    x = x if layout == "NC" else x.T  # (N, C)
    channels = int(x.shape[1])
    if channels > MAX_CHANNELS:
        raise InvalidInput(f"audio with {channels} channels is not supported; at most {MAX_CHANNELS}")
    return (x[:, 0] if channels == 1 else x.mean(axis=1)), channels


def resample(wave: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling (scipy.signal.resample_poly); (N,) -> (N * target / rate,)."""
    if rate == target:
        return wave
    from scipy.signal import resample_poly

    g = gcd(int(rate), int(target))
    return resample_poly(wave, target // g, rate // g)


def _check_rate(sr: Any) -> int:
    if (isinstance(sr, bool) or not isinstance(sr, (int, np.integer, float, np.floating))
            or not np.isfinite(sr) or sr != int(sr)):
        raise InvalidInput(f"the sample rate must be a whole number of Hz, got {sr!r}")
    sr = int(sr)
    if not MIN_RATE <= sr <= MAX_RATE:
        raise InvalidInput(f"a sample rate of {sr} Hz is not supported; allowed: {MIN_RATE} to {MAX_RATE} Hz")
    return sr


def _limit_message(seconds: float, limit: float) -> str:
    return (f"the clip is {seconds:.1f} s long; the limit is {limit:g} s "
            f"(tokenworks.audio.io.MAX_SECONDS): trim it first")


def prepare(wave: Any, sr: Any, *, max_seconds: float | None = MAX_SECONDS,
            layout: str | None = None, target_rate: int = SAMPLE_RATE) -> AudioClip:
    """Check an array and bring it to the working format (16 kHz mono float32 in [-1, 1]).

    ``layout`` forces ``"NC"`` (samples x channels) or ``"CN"``; by default the short side of a
    2D array is the channels. ``max_seconds=None`` lifts the length limit.
    """
    if layout not in (None, "NC", "CN"):
        raise InvalidInput(f"layout must be None, 'NC' or 'CN', got {layout!r}")
    try:
        x = np.asarray(wave)
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"audio must be a numeric array of samples: {e}") from None
    if x.dtype == object or x.dtype.kind in "USbc":
        raise InvalidInput(
            f"audio samples of type {x.dtype} are not supported; give float32/float64 in [-1, 1] "
            "or integer PCM (int16, int32, uint8)"
        )
    rate = _check_rate(sr)
    notes: list[str] = []
    x = _to_float(x)
    x, channels = _to_mono(x, layout)  # (N,)
    n = int(x.shape[0])
    if n == 0:
        raise InvalidInput("the audio has no samples; give at least one sample")
    if max_seconds is not None and n / rate > max_seconds:
        raise InvalidInput(_limit_message(n / rate, max_seconds))
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidInput(
            f"the audio has {int(bad.sum())} NaN or infinite sample(s) (first at sample {first}, "
            f"{first / rate:.3f} s); give finite samples in [-1, 1]"
        )
    if channels > 1:
        notes.append(f"down-mixed {channels} channels to mono (their average)")
    over = np.abs(x) > 1.0
    if over.any():
        notes.append(f"clipped {int(over.sum())} sample(s) beyond [-1, 1] (peak {float(np.abs(x).max()):.3g})")
        x = np.clip(x, -1.0, 1.0)
    if rate != target_rate:
        x = resample(x, rate, target_rate)
        notes.append(f"resampled from {rate} Hz to {target_rate} Hz")
        overshoot = np.abs(x) > 1.0
        if overshoot.any():  # resampling can ring slightly past full scale
            notes.append(f"clipped {int(overshoot.sum())} sample(s) that resampling pushed beyond [-1, 1]")
            x = np.clip(x, -1.0, 1.0)
    out = AudioClip(np.ascontiguousarray(x, dtype=np.float32), target_rate, rate, channels, notes)
    if out.is_silent:
        notes.append("the clip is silent (peak at or below -80 dBFS)")
    return out


# ---- files --------------------------------------------------------------------------------


def _describe(src: Any) -> str:
    if isinstance(src, (bytes, bytearray, memoryview)):
        return "the uploaded data"
    return f"'{Path(src).name}'" if isinstance(src, (str, os.PathLike)) else type(src).__name__


def read_audio(src: str | os.PathLike | bytes | bytearray, *, max_seconds: float | None = MAX_SECONDS,
               max_bytes: int = MAX_FILE_BYTES) -> AudioClip:
    """Read a WAV, FLAC or OGG file (a path or its bytes) into a checked 16 kHz mono clip.

    Refuses, with a message naming what is allowed: a missing or 0-byte file, a file over
    ``max_bytes``, anything libsndfile cannot read or that is not WAV/FLAC/OGG, a file with no
    samples, and a clip longer than ``max_seconds`` (from the header, before decoding).
    """
    import soundfile as sf

    what = _describe(src)
    if isinstance(src, (bytes, bytearray, memoryview)):
        size = len(src)
        opener: Any = lambda: io.BytesIO(bytes(src))  # noqa: E731
    elif isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.is_file():
            raise InvalidInput(f"no audio file at {path}; give the path of a {_ALLOWED_TEXT} file")
        size = path.stat().st_size
        opener = lambda: str(path)  # noqa: E731
    else:
        raise InvalidInput(f"read_audio takes a file path or the file's bytes, got {type(src).__name__}")
    if size == 0:
        raise InvalidInput(f"{what} is empty (0 bytes); give a {_ALLOWED_TEXT} file")
    if size > max_bytes:
        raise InvalidInput(f"{what} is {size / 2**20:.1f} MiB; files up to {max_bytes / 2**20:.0f} MiB are accepted")
    try:
        info = sf.info(opener())
    except Exception as e:  # libsndfile's error for anything it cannot parse
        raise InvalidInput(
            f"{what} is not a readable audio file ({_first_line(e)}); allowed formats: {_ALLOWED_TEXT}"
        ) from None
    if info.format not in _SNDFILE_FORMATS:
        raise InvalidInput(f"{what} is {info.format_info or info.format}; allowed formats: {_ALLOWED_TEXT}")
    if info.frames <= 0 or info.samplerate <= 0:
        raise InvalidInput(f"{what} holds no audio samples; give a {_ALLOWED_TEXT} file with sound in it")
    seconds = info.frames / float(info.samplerate)
    if max_seconds is not None and seconds > max_seconds:
        raise InvalidInput(_limit_message(seconds, max_seconds))
    try:
        data, rate = sf.read(opener(), dtype="float32", always_2d=True)  # (N, C)
    except Exception as e:
        raise InvalidInput(f"{what} could not be decoded ({_first_line(e)}); allowed formats: {_ALLOWED_TEXT}") from None
    return prepare(data, rate, max_seconds=max_seconds, layout="NC")


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    line = text[-1].strip() if text else type(e).__name__
    return line.rsplit(": ", 1)[-1] if line.startswith("Error opening") else line  # drop the file object


def wav_bytes(wave: np.ndarray, sr: int = SAMPLE_RATE) -> bytes:
    """A 16-bit PCM WAV file in memory (for the app's players)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, _pcm_ready(wave), int(sr), subtype="PCM_16", format="WAV")
    return buf.getvalue()


def write_wav(path: str | os.PathLike, wave: np.ndarray, sr: int = SAMPLE_RATE) -> Path:
    """Write ``wave`` (N,) as a 16-bit PCM WAV file (clipped to [-1, 1]); returns the path."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), _pcm_ready(wave), int(sr), subtype="PCM_16", format="WAV")
    return path


def _pcm_ready(wave: np.ndarray) -> np.ndarray:
    x = np.asarray(wave, dtype=np.float32)
    if x.ndim != 1:
        raise InvalidInput(f"write_wav takes a mono wave shaped (N,), got shape {x.shape}")
    return np.clip(np.nan_to_num(x), -1.0, 1.0)
