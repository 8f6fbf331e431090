"""Your own recordings as a codec training set: uploaded audio files -> a folder of 16 kHz mono
WAV files that the codec trainer's ``--wav-dir`` reads.

    up = build_audio_upload(["a.wav", "b.flac"], dest=Path("runs/uploads/x"))
    up.rejected   # files that were not usable, each with the reason

Every file is read with ``audio.io.read_audio`` (WAV, FLAC or OGG; resampled to 16 kHz, mixed to
mono; silent, empty, unreadable or over-long files refused with the reason).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import InvalidInput, TokenworksError
from .io import _ALLOWED_TEXT, read_audio, write_wav

MAX_FILES = 500  # clips read from one upload
MAX_SECONDS_PER_FILE = 600.0  # longer files are refused
MIN_TOTAL_SECONDS = 2.0  # less than this is not enough to train on


@dataclass
class Rejected:
    name: str
    reason: str


@dataclass
class UploadedAudio:
    folder: Path  # 16 kHz mono WAV files: pass it as the codec trainer's --wav-dir
    clips: int
    seconds: float
    rejected: list[Rejected] = field(default_factory=list)


def build_audio_upload(files: Sequence[str | Path], dest: str | Path) -> UploadedAudio:
    paths = [Path(f) for f in files or []]
    if not paths:
        raise InvalidInput(f"no files were uploaded; upload {_ALLOWED_TEXT} clips")
    folder = Path(dest).expanduser().resolve()
    rejected = [Rejected(p.name, f"more than {MAX_FILES} files; the rest were not read") for p in paths[MAX_FILES:]]
    clips, seconds = 0, 0.0
    for i, p in enumerate(paths[:MAX_FILES]):
        try:
            clip = read_audio(p, max_seconds=MAX_SECONDS_PER_FILE)
        except TokenworksError as e:
            rejected.append(Rejected(p.name, str(e).split("\n")[0]))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        write_wav(folder / f"{i:04d}.wav", clip.wave)
        clips += 1
        seconds += len(clip.wave) / clip.sample_rate
    if clips == 0:
        detail = "; ".join(f"{r.name}: {r.reason}" for r in rejected[:6])
        raise InvalidInput(f"none of the {len(paths)} uploaded files is a usable recording ({detail}). "
                           f"Upload {_ALLOWED_TEXT} files of speech or music")
    if seconds < MIN_TOTAL_SECONDS:
        raise InvalidInput(f"the uploaded recordings last {seconds:.1f} s in all; at least {MIN_TOTAL_SECONDS:.0f} s "
                           "are needed to train a codec")
    return UploadedAudio(folder=folder, clips=clips, seconds=seconds, rejected=rejected)


__all__ = ["UploadedAudio", "Rejected", "build_audio_upload", "MAX_FILES", "MAX_SECONDS_PER_FILE"]
