"""Audio: reading and checking clips (io), the offline corpus (data), tokenizers (mulaw, ...).

Conventions every audio module follows: waveforms are float32 numpy arrays, mono, shaped (N,),
in [-1, 1], at ``SAMPLE_RATE`` (16 kHz); tokenizers take ``(wave, sample_rate)`` and return ids
shaped (K, T) (K codebooks x T frames) with one span (a sample range) per frame.
"""
from __future__ import annotations

from .io import (
    ALLOWED_FORMATS, MAX_SECONDS, SAMPLE_RATE, AudioClip, prepare, read_audio, resample, wav_bytes,
    write_wav,
)

__all__ = [
    "ALLOWED_FORMATS", "MAX_SECONDS", "SAMPLE_RATE", "AudioClip", "prepare", "read_audio", "resample",
    "wav_bytes", "write_wav",
]
