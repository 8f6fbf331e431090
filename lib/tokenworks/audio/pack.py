"""Pack a set of clips into one small file (and back), to carry a training corpus to a GPU machine.

    pack_clips(waves, names, "speech.twpack.npz", bits=12)     # about 0.4 of the 16-bit WAV size
    clips = unpack_clips("speech.twpack.npz")                   # PackedClips: waves, names

The samples are rounded to ``bits`` bits (12 bits: about 58 dB SNR on speech, far below what a
4 kbit/s codec can reproduce), differenced (speech is low-pass, so neighbouring samples are
close) and compressed with LZMA, low bytes and high bytes apart. It is a transport format for
training data, not a codec: nothing here is learnt, and bits=16 is exact up to 16-bit PCM.

    python -m tokenworks.audio.pack --minutes 50 --split train --out corpus.twpack.npz
"""
from __future__ import annotations

import argparse
import lzma
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InvalidInput

SUFFIX = ".twpack.npz"
SAMPLE_RATE = 16000


@dataclass
class PackedClips:
    waves: list[np.ndarray]  # float32 (N,) clips in [-1, 1]
    names: list[str]
    sample_rate: int
    bits: int  # bits per sample kept when packing


def _planes(d: np.ndarray) -> bytes:
    b = d.astype("<i2").view(np.uint8).reshape(-1, 2)  # (N, 2) little-endian bytes
    return lzma.compress(b[:, 0].tobytes() + b[:, 1].tobytes(), preset=9 | lzma.PRESET_EXTREME)


def pack_clips(waves: Sequence[np.ndarray], names: Sequence[str], path: str | Path, bits: int = 12,
               sample_rate: int = SAMPLE_RATE) -> Path:
    """Write the clips (float32 in [-1, 1]) to ``path`` (ends with .twpack.npz); returns the path."""
    if not 2 <= bits <= 16:
        raise InvalidInput(f"bits must be 2..16, got {bits}")
    if len(waves) != len(names) or not waves:
        raise InvalidInput(f"need one name per clip and at least one clip, got {len(waves)} clips, {len(names)} names")
    shift = 16 - bits
    pcm = [np.clip(np.round(np.asarray(w, np.float64) * 32767.0), -32768, 32767).astype(np.int32) for w in waves]
    q = np.concatenate([(p + ((1 << shift) >> 1)) >> shift for p in pcm]) if shift else np.concatenate(pcm)  # (N,)
    d = np.diff(q, prepend=0)  # (N,)
    if shift == 0:  # 16-bit differences can overflow int16: keep the high half in a second stream
        blob = _planes(d & 0xFFFF)  # low 16 bits, wrapped
        extra = np.frombuffer(lzma.compress(((d >> 16) & 0x3).astype(np.uint8).tobytes()), np.uint8)
    else:
        blob, extra = _planes(d), np.zeros(0, np.uint8)
    path = Path(path)
    if not path.name.endswith(SUFFIX):
        raise InvalidInput(f"a pack file's name ends with {SUFFIX}, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        np.savez(f, blob=np.frombuffer(blob, np.uint8), extra=extra, lengths=np.array([len(p) for p in pcm], np.int64),
                 names=np.array(list(names)), bits=np.int64(bits), sample_rate=np.int64(sample_rate))
    tmp.replace(path)
    return path


def unpack_clips(path: str | Path) -> PackedClips:
    """Read a file written by ``pack_clips``."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no pack file at {path}")
    with np.load(path, allow_pickle=False) as z:
        lengths, bits = z["lengths"], int(z["bits"])
        raw = np.frombuffer(lzma.decompress(z["blob"].tobytes()), np.uint8)
        n = int(lengths.sum())
        lo, hi = raw[:n], raw[n:2 * n]
        d = (lo.astype(np.int32) | (hi.astype(np.int32) << 8))  # (N,) 16-bit two's complement
        if bits == 16:
            top = np.frombuffer(lzma.decompress(z["extra"].tobytes()), np.uint8).astype(np.int32)
            d = d | (top << 16)
            d = np.where(d >= 1 << 17, d - (1 << 18), d)
        else:
            d = np.where(d >= 1 << 15, d - (1 << 16), d)
        q = np.cumsum(d)  # (N,)
        pcm = (q << (16 - bits)).astype(np.float32) / 32767.0  # (N,)
        names = [str(s) for s in z["names"]]
        sr = int(z["sample_rate"])
    waves = np.split(np.clip(pcm, -1.0, 1.0), np.cumsum(lengths)[:-1])
    return PackedClips(waves=[np.ascontiguousarray(w) for w in waves], names=names, sample_rate=sr, bits=bits)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tokenworks.audio.pack", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="minutes of the tokenworks.audio.data corpus")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", default="train", choices=["train", "heldout", "real"])
    ap.add_argument("--speech-only", action="store_true", help="leave out music and samples (what the codec trains on)")
    ap.add_argument("--voices", default="classic", choices=["classic", "wide"],
                    help="espeak-ng training voices of the corpus (wide: 81 variants; held-out is the same)")
    ap.add_argument("--speech-minutes", type=float, default=None,
                    help="instead of --minutes: a corpus of speech alone, this many synthetic minutes")
    ap.add_argument("--bits", type=int, default=12)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    from . import data

    if a.speech_minutes is not None:
        cfg = data.CorpusConfig(minutes=a.speech_minutes, seed=a.seed, music_share=0.0, sample_share=0.0,
                                voices=a.voices)
    else:
        cfg = data.CorpusConfig(minutes=a.minutes, seed=a.seed, voices=a.voices)
    corpus = data.build_corpus(config=cfg)
    clips = [c for c in corpus.clips(a.split) if not a.speech_only or c.source in data.SPEECH_SOURCES]
    out = pack_clips([c.wave for c in clips], [c.name for c in clips], a.out, bits=a.bits)
    seconds = sum(len(c.wave) for c in clips) / SAMPLE_RATE
    print(f"{out}: {len(clips)} clips, {seconds / 60:.1f} min, {out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
