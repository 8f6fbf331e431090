"""``audio/mulaw8``: one token per sample, mu-law companded (ITU G.711 style, mu = 255).

    tok = tw.load("audio/mulaw8")
    seq = tok.encode((wave, sr))        # ids (1, N): K=1 codebook, one frame per 16 kHz sample
    wave16k, sr = tok.decode(seq)       # exactly mulaw_quantize(16 kHz input)

Companding squeezes the amplitude logarithmically before uniform quantization, so quiet
samples get fine steps and loud ones coarse steps, as ears (and speech statistics) prefer:

    y = sign(x) * ln(1 + mu |x|) / ln(1 + mu)         x in [-1, 1]  ->  y in [-1, 1]

The code is sign-magnitude like G.711: with L = 2**bits levels, the magnitude
``m = round(|y| (L/2 - 1))`` is 0..L/2-1; non-negative samples take ids ``L/2 + m`` and
negative ones ``L/2 - 1 - m``. So ids grow with the amplitude, 0 is -1.0, L-1 is +1.0, and
0.0 is id L/2 (128 for 8 bits). As in G.711 there are two zeros: id L/2 - 1 is "-0" (a
negative sample too small for the first step), decoded as -0.0 so that ids round-trip.
This is the continuous mu-law curve, not G.711's 8-segment piecewise-linear table.

``mulaw_quantize(wave, bits)`` is encode-then-decode at 4, 6 or 8 bits: the mu-law baselines
(64, 96 and 128 kbit/s at 16 kHz).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from ..core import SpanTable, TokenSeq, check_ids, ids_of
from ..errors import InvalidIds, InvalidInput
from .io import SAMPLE_RATE, AudioClip, prepare

BITS_CHOICES = (4, 6, 8)


@dataclass(frozen=True)
class MuLawConfig:
    bits: int = 8  # bits per sample: 2**bits ids (4, 6 or 8)
    mu: float = 255.0  # companding strength; G.711 uses 255 at 8 bits


def _check_bits(bits: int) -> int:
    if bits not in BITS_CHOICES:
        raise InvalidInput(f"mu-law bits must be one of {', '.join(map(str, BITS_CHOICES))}, got {bits!r}")
    return int(bits)


def mulaw_encode(wave: np.ndarray, bits: int = 8, mu: float = 255.0) -> np.ndarray:
    """(N,) float in [-1, 1] -> (N,) int64 ids in [0, 2**bits)."""
    half = 1 << (_check_bits(bits) - 1)  # L/2
    x = np.clip(np.asarray(wave, dtype=np.float64), -1.0, 1.0)  # (N,)
    y = np.log1p(mu * np.abs(x)) / np.log1p(mu)  # (N,) companded magnitude in [0, 1]
    m = np.rint(y * (half - 1)).astype(np.int64)  # (N,) magnitude code 0..L/2-1
    negative = np.signbit(x)  # -0.0 counts as negative, so id L/2-1 round-trips
    return np.where(negative, half - 1 - m, half + m)


def mulaw_decode(ids: np.ndarray, bits: int = 8, mu: float = 255.0) -> np.ndarray:
    """(N,) ids in [0, 2**bits) -> (N,) float32 in [-1, 1] (the quantized amplitudes)."""
    half = 1 << (_check_bits(bits) - 1)
    ids = np.asarray(ids, dtype=np.int64)
    negative = ids < half
    m = np.where(negative, half - 1 - ids, ids - half)  # (N,)
    y = m / float(half - 1)
    mag = np.expm1(y * np.log1p(mu)) / mu  # (N,) inverse companding
    return np.where(negative, -mag, mag).astype(np.float32)


def mulaw_quantize(wave: np.ndarray, bits: int = 8, mu: float = 255.0) -> np.ndarray:
    """The mu-law baseline: ``wave`` (N,) quantized to ``bits`` bits per sample, (N,) float32."""
    return mulaw_decode(mulaw_encode(wave, bits, mu), bits, mu)


class MuLawTokenizer:
    """One token per 16 kHz sample: the mu-law code of its amplitude (K=1 codebook)."""

    modality = "audio"

    def __init__(self, bits: int = 8, mu: float = 255.0, name: str | None = None):
        self.config = MuLawConfig(_check_bits(bits), float(mu))
        self.name = name or f"audio/mulaw{bits}"

    @property
    def vocab_size(self) -> int:
        return 1 << self.config.bits

    @property
    def bits_per_second(self) -> int:
        return self.config.bits * SAMPLE_RATE

    def _clip(self, x: Any) -> AudioClip:
        if isinstance(x, AudioClip):
            return x
        if isinstance(x, (tuple, list)) and len(x) == 2:
            return prepare(x[0], x[1])
        raise InvalidInput(
            f"{self.name} encodes audio given as (waveform, sample_rate), e.g. (np.zeros(16000), 16000); "
            f"got {type(x).__name__}"
        )

    def encode(self, x: Any) -> TokenSeq:
        clip = self._clip(x)
        n = clip.n_samples
        ids = mulaw_encode(clip.wave, self.config.bits, self.config.mu)[None, :]  # (1, N)
        starts = np.arange(n, dtype=np.int64)  # (N,) one span per sample
        meta = clip.meta()
        meta.update({
            "frame_rate": SAMPLE_RATE,
            "codebooks": 1,
            "bits_per_second": self.bits_per_second,
            "config": asdict(self.config),
            "lossless": False,
            "note": f"mu-law quantization to {self.config.bits} bits per sample (mu={self.config.mu:g}); "
                    "decode gives the quantized amplitudes",
        })
        return TokenSeq(ids, SpanTable(starts, starts + 1), "audio", self.name, meta)

    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> tuple[np.ndarray, int]:
        """ids (1, N) or (N,) -> (wave float32 (N,), 16000). ``keep=0`` gives silence of the same
        length (no codebook kept); ``keep >= 1`` keeps the single codebook."""
        ids = ids_of(seq)
        if ids.ndim == 2:
            if ids.shape[0] != 1:
                raise InvalidIds(f"{self.name} has one codebook: ids must be shaped (1, N) or (N,), got {ids.shape}")
            ids = ids[0]
        elif ids.ndim != 1:
            raise InvalidIds(f"{self.name}: ids must be shaped (1, N) or (N,), got {ids.shape}")
        check_ids(ids, self.vocab_size, self.name)
        if keep is not None:
            if isinstance(keep, bool) or not isinstance(keep, (int, np.integer)) or keep < 0:
                raise InvalidIds(f"{self.name}: keep must be a non-negative number of codebooks or None, got {keep!r}")
            if keep == 0:
                return np.zeros(ids.shape[0], dtype=np.float32), SAMPLE_RATE
        return mulaw_decode(ids, self.config.bits, self.config.mu), SAMPLE_RATE

    def codebook(self) -> np.ndarray:
        """(V, 1): the amplitude each id stands for (the companding staircase)."""
        return mulaw_decode(np.arange(self.vocab_size), self.config.bits, self.config.mu)[:, None]

    def render_token(self, i: int) -> str:
        """The amplitude id ``i`` decodes to, e.g. ``'+0.0312'``."""
        check_ids(np.asarray([i]), self.vocab_size, self.name)
        return f"{float(mulaw_decode(np.asarray([i]), self.config.bits, self.config.mu)[0]):+.4f}"
