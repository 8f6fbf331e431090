"""Music for the audio corpus: music21's bundled scores -> MIDI -> fluidsynth (TimGM6mb) at 16 kHz.

Scores are drawn evenly across music21's corpus collections (Bach chorales, Palestrina masses,
Monteverdi madrigals, folk tunes, string quartets, ...), each part given a General MIDI
instrument at random, and the first ``MUSIC_CLIP_SECONDS`` of sound are kept. Held-out clips
come from scores that no training clip uses (a fixed split by the score's path).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInput
from ._synth_speech import ToolMissing, require_tool

SOUNDFONT_CANDIDATES = ("/usr/share/sounds/sf2/TimGM6mb.sf2",)  # Debian timgm6mb-soundfont
MUSIC_CLIP_SECONDS = 15.0  # each score contributes its first 15 s of sound
MAX_SCORE_BYTES = 150_000  # skip the largest score files (slow to parse)
MAX_MEASURES = 16  # only the opening measures are converted (enough for MUSIC_CLIP_SECONDS)
MAX_QUARTERS = 400  # a score still longer than this (no measures) is skipped
HELDOUT_SHARE = 0.2  # fraction of scores reserved for the held-out split
SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn", ".abc")
# General MIDI programs that TimGM6mb renders well: pianos, guitars, strings, brass, reeds, pipes
RENDER_SLACK_SECONDS = 5.0  # rendered beyond the clip length, for leading silence
RENDER_TIMEOUT_S = 60.0  # a render still running after this is stopped
_RATE = 16000
PROGRAMS = (0, 4, 6, 11, 13, 19, 24, 25, 32, 40, 41, 42, 46, 48, 52, 56, 57, 60, 64, 68, 71, 73, 75)


@dataclass(frozen=True)
class MusicJob:
    score: str  # path of the music21 corpus file
    collection: str  # its folder, e.g. "bach"
    programs: tuple[int, ...]  # GM program for part 0, 1, ... (cycled)
    split: str


def soundfont() -> str:
    for p in SOUNDFONT_CANDIDATES:
        if os.path.isfile(p):
            return p
    raise ToolMissing(
        "the TimGM6mb sound font is not installed; it comes from the Debian package "
        "timgm6mb-soundfont (sudo apt-get install timgm6mb-soundfont, or `make audio-deps` as root)"
    )


def _split_of(path: str) -> str:
    h = int(hashlib.sha256(Path(path).name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "heldout" if h < HELDOUT_SHARE else "train"


def score_paths(split: str) -> dict[str, list[str]]:
    """Score files of music21's corpus for a split, by collection."""
    from music21 import corpus

    out: dict[str, list[str]] = {}
    for p in corpus.getPaths():
        if p.suffix not in SCORE_SUFFIXES or p.stat().st_size > MAX_SCORE_BYTES:
            continue
        if _split_of(str(p)) == split:
            out.setdefault(p.parent.name, []).append(str(p))
    return {k: sorted(v) for k, v in sorted(out.items())}


def plan_music(n: int, split: str = "train", seed: int = 0) -> list[MusicJob]:
    if split not in ("train", "heldout"):
        raise InvalidInput(f"split must be 'train' or 'heldout', got {split!r}")
    rng = np.random.default_rng([seed, 7, 0 if split == "train" else 1])
    by_coll = score_paths(split)
    colls = list(by_coll)
    jobs, used = [], set()
    for i in range(n):
        coll = colls[i % len(colls)] if i < len(colls) * 4 else colls[int(rng.integers(len(colls)))]
        cands = [p for p in by_coll[coll] if p not in used] or by_coll[coll]
        score = cands[int(rng.integers(len(cands)))]
        used.add(score)
        progs = tuple(int(x) for x in rng.choice(PROGRAMS, size=4))
        jobs.append(MusicJob(score, coll, progs, split))
    order = rng.permutation(len(jobs))
    return [jobs[i] for i in order]


def _score_to_midi(job: MusicJob, out: str) -> None:
    from music21 import corpus, instrument, stream

    s = corpus.parse(job.score)
    if isinstance(s, stream.Opus):  # a file with many tunes: the first one
        s = s.scores[0]
    try:
        s = s.measures(1, MAX_MEASURES)
    except Exception:  # scores without measures keep their length, checked next
        pass
    if s.highestTime > MAX_QUARTERS:
        raise ValueError(f"{s.highestTime:g} quarter notes long after taking {MAX_MEASURES} measures")
    parts = list(s.parts) or [s]
    for i, part in enumerate(parts):
        for old in list(part.recurse().getElementsByClass(instrument.Instrument)):
            old.activeSite.remove(old)
        part.insert(0, instrument.instrumentFromMidiProgram(job.programs[i % len(job.programs)]))
    s.write("midi", fp=out)


def _fluidsynth(sf2: str, mid: str, raw: str, max_seconds: float) -> np.ndarray | str:
    """Render a MIDI file to (N, 2) float32 at 16 kHz, stopping after ``max_seconds`` of audio.

    fluidsynth's fast render never stops on some MIDI files (a held note with no end: it wrote
    over a gigabyte in 30 s), so it writes headerless 16-bit samples that are read up to the
    cap while the process is watched and killed once the cap is reached.
    """
    cap = int(max_seconds * _RATE) * 4  # bytes: 2 channels x 2 bytes per frame
    cmd = ["fluidsynth", "-ni", "-q", "-g", "0.5", "-T", "raw", "-O", "s16", "-E", "little",
           "-r", str(_RATE), "-F", raw, sf2, mid]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    try:
        while proc.poll() is None:
            if (os.path.isfile(raw) and os.path.getsize(raw) >= cap) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if not os.path.isfile(raw):
        return f"fluidsynth wrote nothing (exit {proc.returncode})"
    with open(raw, "rb") as fh:
        buf = fh.read(cap)
    os.unlink(raw)
    pcm = np.frombuffer(buf[: len(buf) // 4 * 4], dtype="<i2").reshape(-1, 2)  # (N, 2)
    return pcm.astype(np.float32) / 32768.0


def _render(job: MusicJob, tmp: str, idx: int, sf2: str, seconds: float) -> np.ndarray | str:
    """(N,) float32 16 kHz, or an error string."""
    from .io import prepare

    mid = os.path.join(tmp, f"m{idx}.mid")
    try:
        _score_to_midi(job, mid)
    except Exception as e:  # music21 raises many kinds on odd scores
        return f"music21 could not convert {Path(job.score).name}: {type(e).__name__}: {e}"
    data = _fluidsynth(sf2, mid, os.path.join(tmp, f"m{idx}.raw"), seconds + RENDER_SLACK_SECONDS)
    if isinstance(data, str):
        return data
    clip = prepare(data, _RATE, max_seconds=None, layout="NC")
    wave = clip.wave
    loud = np.flatnonzero(np.abs(wave) > 1e-3)
    if loud.size == 0:
        return "the rendering is silent"
    wave = wave[loud[0]: loud[0] + int(seconds * 16000)]  # skip leading silence, keep `seconds`
    peak, rms = float(np.abs(wave).max()), float(np.sqrt(np.mean(wave.astype(np.float64) ** 2)))
    gain = min(0.1 / max(rms, 1e-9), 0.9 / peak)  # RMS -20 dBFS, peak at most -1 dBFS
    return (wave * gain).astype(np.float32)  # (N,)


def render_music(jobs: list[MusicJob], seconds: float = MUSIC_CLIP_SECONDS,
                 workers: int | None = None) -> list[np.ndarray | str]:
    """Render each job (threads: music21 in Python, fluidsynth as subprocesses); order kept."""
    require_tool("fluidsynth")
    sf2 = soundfont()
    workers = workers or max(2, min(4, os.cpu_count() or 2))
    with tempfile.TemporaryDirectory(prefix="tokenworks-music-") as tmp, ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda ij: _render(ij[1], tmp, ij[0], sf2, seconds), enumerate(jobs)))
