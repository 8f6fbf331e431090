"""Synthetic speech for the audio corpus: espeak-ng (many languages) and flite (English).

Planning and running are apart: ``plan_speech`` decides, without running anything, which
sentence each clip says, in which language and voice; ``run_jobs`` runs the synthesizers as
parallel subprocesses. So the held-out rules can be checked (and tested) cheaply:

- sentences: UDHR articles 1-24 feed the training split, articles 25-30 the held-out split
  (and a held-out sentence that also occurs in a training article is dropped);
- voices: held-out clips use the training voices *and* voices no training clip ever uses
  (espeak-ng variants in ``HELDOUT_VARIANTS``, flite's ``kal16``), marked ``unseen_voice``.

Sentences come from the project's own offline UDHR asset (``tokenworks.text.udhr``).
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InvalidInput, TokenworksError

# espeak-ng voice -> UDHR declaration code (languages espeak-ng speaks reasonably)
ESPEAK_LANGUAGES: dict[str, str] = {
    "en-us": "eng", "en-gb": "eng", "de": "deu_1996", "fr-fr": "fra", "es": "spa", "it": "ita",
    "pt": "por_PT", "pt-br": "por_BR", "nl": "nld", "sv": "swe", "da": "dan", "nb": "nob",
    "fi": "fin", "pl": "pol", "cs": "ces", "sk": "slk", "hu": "hun", "ro": "ron_2006",
    "hr": "hrv", "bg": "bul", "ru": "rus", "uk": "ukr", "el": "ell_monotonic", "tr": "tur",
    "ar": "arb", "he": "heb", "fa": "pes_1", "hi": "hin", "bn": "ben", "ta": "tam",
    "cmn": "cmn_hans", "ko": "kor", "vi": "vie", "id": "ind", "sw": "swh", "af": "afr",
    "ca": "cat", "eu": "eus", "is": "isl", "lt": "lit", "lv": "lav", "et": "est", "sl": "slv",
    "mk": "mkd", "cy": "cym", "ga": "gle", "ka": "kat", "hy": "hye", "ur": "urd", "mr": "mar",
    "gu": "guj", "te": "tel", "kn": "kan", "ml": "mal", "ne": "nep", "si": "sin", "am": "amh",
}
TRAIN_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3", "klatt", "klatt4")  # espeak-ng "+variant"
HELDOUT_VARIANTS = ("m7", "f4")  # never used for training clips
# "wide" training voices: every espeak-ng variant that sounds like a person, except the held-out
# ones (no robots, whisper, croak or effects), with wider pitch and speed ranges: more speakers for
# a codec that must generalise to voices it never heard. The held-out split never changes with it.
WIDE_TRAIN_VARIANTS = (
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene", "Gene2", "Henrique",
    "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen", "RicishayMax", "RicishayMax2",
    "RicishayMax3", "adam", "anika", "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb",
    "david", "ed", "edward", "edward2", "f1", "f2", "f3", "f5", "grandma", "grandpa", "gustave", "iven", "iven2",
    "iven3", "iven4", "john", "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "linda",
    "m1", "m2", "m3", "m4", "m5", "m6", "m8", "marcelo", "max", "michel", "miguel", "norbert", "pablo", "paul",
    "pedro", "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2", "steph3", "travis", "victor", "zac",
)
VOICE_SETS = ("classic", "wide")  # training voices: TRAIN_VARIANTS | WIDE_TRAIN_VARIANTS
FLITE_TRAIN_VOICES = ("slt", "awb", "rms")
FLITE_HELDOUT_VOICES = ("kal16",)  # never used for training clips
TRAIN_ARTICLES = range(1, 25)  # UDHR articles 1-24 -> train sentences; 25-30 -> held-out
FLITE_SHARE = 0.33  # fraction of speech clips made by flite (English); the rest espeak-ng
SPLITS = ("train", "heldout")
_SENTENCE_END = re.compile(r"(?<=[.!?;。！？؟।።])\s+|(?<=[。！？])")
_MIN_CHARS, _MAX_CHARS = 12, 140  # ~1-10 s of speech


@dataclass(frozen=True)
class SpeechJob:
    """One clip to synthesize."""

    engine: str  # "espeak" | "flite"
    voice: str  # espeak "<lang>+<variant>" or a flite voice name
    language: str  # BCP-47-ish tag of the text ("en-us", "de", ...)
    text: str
    split: str  # "train" | "heldout"
    unseen_voice: bool  # a voice no training clip uses
    speed: int = 0  # espeak words per minute (0: flite default)
    pitch: int = 0  # espeak pitch 0-99 (0: flite default)


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        for s in _SENTENCE_END.split(line.strip()):
            s = s.strip()
            if _MIN_CHARS <= len(s) <= _MAX_CHARS:
                out.append(s)
            elif len(s) > _MAX_CHARS:  # long legal sentences: cut at a comma near the middle
                parts = [p.strip() for p in re.split(r"(?<=[,،、，])\s*", s) if p.strip()]
                chunk = ""
                for p in parts:
                    if chunk and len(chunk) + len(p) > _MAX_CHARS:
                        if len(chunk) >= _MIN_CHARS:
                            out.append(chunk)
                        chunk = ""
                    chunk = (chunk + " " + p).strip()
                if _MIN_CHARS <= len(chunk) <= _MAX_CHARS:
                    out.append(chunk)
    return out


@lru_cache(maxsize=128)
def sentences(udhr_code: str, split: str) -> tuple[str, ...]:
    """UDHR sentences of one declaration for a split (train: articles 1-24; held-out: 25-30,
    minus any sentence also found in 1-24)."""
    if split not in SPLITS:
        raise InvalidInput(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    from ..text.udhr import load_udhr

    lang = load_udhr()[udhr_code]
    train = [s for a, t in sorted(lang.articles.items()) if a in TRAIN_ARTICLES for s in _sentences(t)]
    if split == "train":
        return tuple(dict.fromkeys(train))
    seen = set(train)
    held = [s for a, t in sorted(lang.articles.items()) if a not in TRAIN_ARTICLES for s in _sentences(t)]
    return tuple(s for s in dict.fromkeys(held) if s not in seen)


def plan_speech(n: int, split: str = "train", seed: int = 0, *, languages: tuple[str, ...] | None = None,
                engines: tuple[str, ...] = ("espeak", "flite"), voices: str = "classic") -> list[SpeechJob]:
    """``n`` clips for ``split``: which engine, voice, language and sentence each one uses.

    ``languages`` limits espeak-ng to some of ``ESPEAK_LANGUAGES`` (default: all of them).
    ``voices`` picks the espeak-ng training variants ("classic": ``TRAIN_VARIANTS``; "wide":
    ``WIDE_TRAIN_VARIANTS`` with wider pitch and speed ranges); it changes training clips only,
    so the held-out split is the same for both. Deterministic for a given seed.
    """
    if split not in SPLITS:
        raise InvalidInput(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if voices not in VOICE_SETS:
        raise InvalidInput(f"voices must be one of {', '.join(VOICE_SETS)}, got {voices!r}")
    bad = [e for e in engines if e not in ("espeak", "flite")]
    if bad or not engines:
        raise InvalidInput(f"engines must be some of 'espeak', 'flite', got {engines!r}")
    langs = tuple(languages) if languages else tuple(ESPEAK_LANGUAGES)
    unknown = [lg for lg in langs if lg not in ESPEAK_LANGUAGES]
    if unknown:
        raise InvalidInput(f"no espeak-ng language {unknown[0]!r}; choose from {', '.join(ESPEAK_LANGUAGES)}")
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    held = split == "heldout"
    jobs: list[SpeechJob] = []
    every = max(1, round(1 / FLITE_SHARE))  # flite makes clip 0, every-th, ...: both engines early
    count = {"espeak": 0, "flite": 0}
    for i in range(n):
        engine = engines[0] if len(engines) == 1 else ("flite" if i % every == 0 else "espeak")
        unseen = held and count[engine] % 2 == 1  # held-out: every other clip of an engine in an unseen voice
        count[engine] += 1
        if engine == "flite":
            pool = FLITE_HELDOUT_VOICES if unseen else FLITE_TRAIN_VOICES
            voice, lang, code, speed, pitch = str(rng.choice(pool)), "en-us", "eng", 0, 0
        else:
            lang = langs[int(rng.integers(len(langs)))]
            code = ESPEAK_LANGUAGES[lang]
            if held or voices == "classic":
                variant = str(rng.choice(HELDOUT_VARIANTS if unseen else TRAIN_VARIANTS))
                speed, pitch = int(rng.integers(130, 190)), int(rng.integers(25, 75))
            else:
                variant = str(rng.choice(WIDE_TRAIN_VARIANTS))
                speed, pitch = int(rng.integers(115, 205)), int(rng.integers(10, 90))
            voice = f"{lang}+{variant}"
        pool_s = sentences(code, split)
        text = pool_s[int(rng.integers(len(pool_s)))]
        jobs.append(SpeechJob(engine, voice, lang, text, split, bool(unseen), speed, pitch))
    return jobs


# ---- running --------------------------------------------------------------------------------


class ToolMissing(TokenworksError, FileNotFoundError):
    """A Debian command-line tool the corpus needs is not installed."""


def require_tool(name: str, package: str | None = None) -> str:
    path = shutil.which(name)
    if path is None:
        pkg = package or name
        raise ToolMissing(f"'{name}' is not installed; it comes from the Debian package {pkg} "
                          f"(sudo apt-get install {pkg}, or `make audio-deps` as root)")
    return path


@dataclass
class SpeechResult:
    job: SpeechJob
    wave: np.ndarray | None  # (N,) float32 at 16 kHz, None when the tool failed
    error: str = ""


def _read_wav_bytes(data: bytes) -> tuple[np.ndarray, int]:
    import soundfile as sf

    wave, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)  # (N, C)
    return wave, sr


def _run_one(job: SpeechJob, tmp: str, idx: int) -> SpeechResult:
    from .io import prepare

    try:
        if job.engine == "espeak":
            cmd = ["espeak-ng", "-v", job.voice, "-s", str(job.speed), "-p", str(job.pitch), "--stdout", job.text]
            r = subprocess.run(cmd, capture_output=True, timeout=60)
            if r.returncode != 0 or len(r.stdout) < 100:
                return SpeechResult(job, None, f"espeak-ng exit {r.returncode}: {r.stderr.decode(errors='replace')[-200:]}")
            wave, sr = _read_wav_bytes(r.stdout)
        else:
            out = os.path.join(tmp, f"flite-{idx}.wav")
            r = subprocess.run(["flite", "-voice", job.voice, "-t", job.text, "-o", out], capture_output=True, timeout=60)
            if r.returncode != 0 or not os.path.isfile(out):
                return SpeechResult(job, None, f"flite exit {r.returncode}: {r.stderr.decode(errors='replace')[-200:]}")
            with open(out, "rb") as fh:
                wave, sr = _read_wav_bytes(fh.read())
            os.unlink(out)
        clip = prepare(wave, sr, max_seconds=None, layout="NC")
        if clip.is_silent:
            return SpeechResult(job, None, "the synthesizer produced silence")
        return SpeechResult(job, clip.wave)
    except (subprocess.SubprocessError, OSError, RuntimeError, ValueError) as e:
        return SpeechResult(job, None, f"{type(e).__name__}: {e}")


def run_jobs(jobs: list[SpeechJob], workers: int | None = None) -> list[SpeechResult]:
    """Synthesize every job (parallel subprocesses, order kept)."""
    for engine in {j.engine for j in jobs}:
        require_tool("espeak-ng" if engine == "espeak" else "flite")
    workers = workers or max(2, min(8, (os.cpu_count() or 2) * 2))
    with tempfile.TemporaryDirectory(prefix="tokenworks-speech-") as tmp, ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda ij: _run_one(ij[1], tmp, ij[0]), enumerate(jobs)))
