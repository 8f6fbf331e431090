"""The Audio tab's input, analysed once: the tokenizers and samples on offer, reading an upload, a
recording or a sample, and the state a page keeps (``AudioState``: settings and a key into the
session cache, ``app/session_cache.py``) for the analysis the library computed
(``tokenworks.audio.inspect.analyze``: tokens, the codebook ladder, its metrics).

    view = analyze_input(None, "flite-slt.wav", "audio/rvq-speech16k")   # -> AudioView
    view.analysis          # AudioAnalysis
    view_of(view.state)    # the same view again, from the cache (or analysed again if it was let go)
"""
from __future__ import annotations

import os
from secrets import token_hex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tokenworks as tw
from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.paths import data_dir

from .session_cache import CACHE
from .widgets import load_tokenizer

SAMPLES_DIR = data_dir() / "samples" / "audio"
DEFAULT_SAMPLE = "flite-slt.wav"
DEFAULT_TOKENIZER = "audio/rvq-speech16k"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus")


@dataclass
class TokenizerChoices:
    """The audio tokenizers that load here, and the ones that do not (with how to get them)."""

    names: list[str]  # registry names that load, then trained runs (run:...)
    missing: dict[str, str] = field(default_factory=dict)  # name -> why not and the command that makes it


def tokenizer_choices() -> TokenizerChoices:
    names, missing = [], {}
    for ref in tw.available("audio") + tw.trained_runs("audio"):
        try:
            tw.load_ref(ref)
            names.append(ref)
        except TokenworksError as e:
            missing[ref] = str(e)
    return TokenizerChoices(names, missing)


def default_tokenizer(names: list[str]) -> str | None:
    """DEFAULT_TOKENIZER when it loads, else the first that does (None when none does)."""
    if DEFAULT_TOKENIZER in names:
        return DEFAULT_TOKENIZER
    return names[0] if names else None


def sample_names() -> list[str]:
    """The sample clips in data/samples/audio (file names)."""
    if not SAMPLES_DIR.is_dir():
        return []
    return sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)


def load_audio_tokenizer(ref: str):
    """The shared tokenizer for ``ref``; a text or image one is refused with the valid names."""
    return load_tokenizer(ref, "audio", lambda: tokenizer_choices().names)


@dataclass(frozen=True)
class AudioState:
    """What the page's gr.State holds: the settings, K, and a key into the session cache."""

    key: str  # session_cache.CACHE key of the AudioView
    ref: str  # the tokenizer asked for: a registry name or "run:<folder>"
    source: str  # "upload 'x.wav'" or "sample 'flite-slt.wav'"
    path: str  # the file read (to analyse again if the cache let the analysis go)
    num_codebooks: int  # K


@dataclass
class AudioView:
    """One clip through one tokenizer, as the cache keeps it."""

    state: AudioState
    analysis: Any  # tokenworks.audio.inspect.AudioAnalysis
    baselines: Any = None  # audio_views.Baselines once "Compare with classical codecs" ran on this clip

    @property
    def K(self) -> int:
        return self.analysis.num_codebooks


def _upload_path(upload: Any) -> Path | None:
    if upload is None or (isinstance(upload, str) and not upload):
        return None
    if isinstance(upload, dict):  # a FileData-like dict from the API
        upload = upload.get("path")
    if isinstance(upload, (str, os.PathLike)):
        return Path(upload)
    raise InvalidInput(f"the upload must be a file path, got {type(upload).__name__}")


def read_input(upload: Any, sample: str | None):
    """The uploaded or recorded file, else the sample, as a checked 16 kHz mono AudioClip: (clip, source, path)."""
    from tokenworks.audio.io import read_audio

    path = _upload_path(upload)
    if path is not None:
        if not path.is_file():
            raise InvalidInput(f"the uploaded file {path.name!r} is gone; upload it again")
        source = f"upload '{path.name}'"
    elif sample:
        names = sample_names()
        if sample not in names:
            raise InvalidInput(f"unknown sample {sample!r}; the samples are {', '.join(names) or 'missing'}")
        path, source = SAMPLES_DIR / sample, f"sample '{sample}'"
    else:
        raise InvalidInput("upload or record a clip, or choose a sample")
    try:
        clip = read_audio(path)
    except InvalidInput as e:  # messages name the file, not the server's temporary path
        raise InvalidInput(str(e).replace(str(path), repr(path.name))) from None
    return clip, source, path


def _analyze(clip: Any, source: str, path: Path, ref: str, replaces: str | None = None,
             key: str | None = None) -> AudioView:
    from tokenworks.audio.inspect import analyze

    analysis = analyze(load_audio_tokenizer(ref), clip)
    view = AudioView(AudioState(key or token_hex(8), ref, source, str(path), analysis.num_codebooks), analysis)
    CACHE.put(view, replaces=replaces, key=view.state.key)
    return view


def analyze_input(upload: Any, sample: str | None, ref: str, replaces: str | None = None) -> AudioView:
    """Read the input and analyse it with tokenizer ``ref`` (tokens, the ladder, its metrics)."""
    load_audio_tokenizer(ref)  # a bad tokenizer is named before the file is read
    clip, source, path = read_input(upload, sample)
    return _analyze(clip, source, path, ref, replaces)


def view_of(state: Any) -> AudioView:
    """The view of a state: its cached analysis, or the same analysis again when it was let go."""
    from tokenworks.audio.io import read_audio

    if not isinstance(state, AudioState):
        raise InvalidInput("tokenize a clip first (upload or record one, or choose a sample)")
    view = CACHE.get(state.key)
    if view is not None:
        return view
    path = Path(state.path)
    if not path.is_file():
        raise InvalidInput(f"the uploaded file {path.name!r} is gone; upload it again")
    return _analyze(read_audio(path), state.source, path, state.ref, key=state.key)  # the key the page holds


def check_k(view: AudioView, k: Any) -> int:
    K = view.K
    try:
        k = int(round(float(k)))
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"k must be a number of codebooks in 1..{K}, got {k!r}") from None
    return min(max(k, 1), K)


