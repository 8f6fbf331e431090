"""The clips a codec trains and is evaluated on, and the random crops of a training batch.

    train = load_split("train", minutes=30.0, seed=0)    # AudioSet: the synthetic speech of tokenworks.audio.data
    mine = read_folder("recordings/")                    # any folder of .wav / .flac / .ogg, or a .twpack.npz
    x = crop_batch(train.waves, 16000, 8, rng)           # (8, 16000) float32: one batch of 1 s crops

``data_hash`` identifies the clips (a resumed run refuses other data). Every random choice of
``crop_batch`` comes from the generator it is given, so a resumed run draws the same crops.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InvalidInput


@dataclass
class AudioSet:
    waves: list[np.ndarray]  # float32 (N,) mono clips at 16 kHz
    names: list[str]
    texts: list[str | None]  # transcripts where known (for word error rate)
    data_hash: str


def _hash_waves(waves: Sequence[np.ndarray]) -> str:
    h = hashlib.sha256()
    for w in waves:
        h.update(np.ascontiguousarray(w, dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def read_folder(folder: str | Path, limit: int | None = None) -> AudioSet:
    """Every audio file in ``folder`` (sorted), as 16 kHz mono float32; or the clips of a pack
    file (``audio/pack.py``, ``*.twpack.npz``)."""
    from .io import read_audio
    from .pack import SUFFIX, unpack_clips

    if str(folder).endswith(SUFFIX):
        packed = unpack_clips(folder)
        if packed.sample_rate != 16000:
            raise InvalidInput(f"{folder} holds {packed.sample_rate} Hz clips; the codec trains on 16000 Hz")
        waves = packed.waves[:limit]
        return AudioSet(waves, packed.names[:limit], [None] * len(waves), _hash_waves(waves))

    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".wav", ".flac", ".ogg"))
    if not paths:
        raise InvalidInput(f"{folder} has no .wav, .flac or .ogg files to train or evaluate on")
    waves, names = [], []
    for p in paths[:limit]:
        clip = read_audio(p)
        waves.append(clip.wave)
        names.append(p.name)
    return AudioSet(waves, names, [None] * len(waves), _hash_waves(waves))


def load_split(split: str, minutes: float = 30.0, seed: int = 0) -> AudioSet:
    """The synthetic speech of a ``minutes`` long ``tokenworks.audio.data`` corpus: split "train" or
    "heldout" (held-out sentences, and voices never trained on). Music and samples are left out:
    this is a speech codec. Real recordings (split "real") are for the benchmarks only."""
    from . import data

    corpus = data.build_corpus(minutes=minutes, seed=seed)
    clips = [c for c in corpus.clips(split) if c.source in data.SPEECH_SOURCES]
    if split == "heldout":  # unseen voices first, so a short evaluation still covers them
        clips.sort(key=lambda c: (not c.unseen_voice, c.name))
    if not clips:
        raise InvalidInput(f"the audio corpus has no {split} speech; rebuild it with python -m tokenworks.audio.data")
    waves = [c.wave for c in clips]
    return AudioSet(waves, [c.name for c in clips], [c.text for c in clips], _hash_waves(waves))


def crop_batch(waves: list[np.ndarray], segment: int, batch: int, rng: np.random.Generator) -> np.ndarray:
    """One batch (B, segment) of random crops, clips drawn in proportion to their length, each
    with a random gain; near-silent crops are redrawn (up to 4 times) so batches hold speech.
    Every random choice comes from ``rng``, so a resumed run (whose rng state was saved) draws the same."""
    lengths = np.array([len(w) for w in waves], dtype=np.float64)  # (n clips,)
    p = lengths / lengths.sum()
    out = np.zeros((batch, segment), np.float32)  # (B, S)
    for b in range(batch):
        for _ in range(5):
            w = waves[rng.choice(len(waves), p=p)]
            if len(w) <= segment:
                seg = np.pad(w, (0, segment - len(w)))
            else:
                start = rng.integers(0, len(w) - segment)
                seg = w[start:start + segment]
            if np.sqrt(np.mean(seg**2)) > 1e-3:
                break
        peak = max(float(np.abs(seg).max()), 1e-4)
        out[b] = seg / peak * rng.uniform(0.3, 0.95)
    return out
