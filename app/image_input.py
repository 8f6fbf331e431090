"""The Image tab's input, analysed once: the tokenizers and samples on offer, reading an upload or
a sample, and the state a page keeps (``ImageState``: settings and a key into the session cache,
``app/session_cache.py``) for the analysis the library computed (``tokenworks.image.inspect.analyze``).

    view = analyze_input(None, "emoji-fox.png", "image/flex1d-emoji64")   # -> ImageView
    view.analysis          # ImageAnalysis: ids, prepared input, notes, the prefix strip, the codec curves
    view_of(view.state)    # the same view again, from the cache (or analysed again if it was let go)
    route_input(path, None).tokenizer   # the tokenizer trained for this kind of picture (tokenworks.image.route)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tokenworks as tw
from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.image import inspect as ins
from tokenworks.image.route import Route, route
from tokenworks.paths import data_dir

from .session_cache import CACHE
from .widgets import load_tokenizer, uploaded

SAMPLES_DIR = data_dir() / "samples" / "images"
DEFAULT_SAMPLE = "emoji-fox.png"
DEFAULT_TOKENIZER = "image/flex1d-emoji64"
MAX_FILE_BYTES = 30_000_000  # largest upload the tab reads (30 MB)
MAX_PIXELS = 40_000_000  # larger images are refused from their header, before decoding
ONE_PASS = "one pass"
REFINED = "refined"
ENCODERS = (ONE_PASS, REFINED)  # how the ids are found: the encoder alone, or refined (tokenworks.image.refine)
REFINE_STEPS = 30  # steps of the tab's refined encoding (every prefix on the strip together)


# ---- lists -----------------------------------------------------------------------------------

def image_tokenizers() -> list[str]:
    """Registered image tokenizers, then the ones trained here (``run:...``)."""
    return tw.available("image") + tw.trained_runs("image")


def sample_names() -> list[str]:
    """The sample images in data/samples/images (file names)."""
    if not SAMPLES_DIR.is_dir():
        return []
    return sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".gif"))


def load_image_tokenizer(ref: str):
    """The shared tokenizer for ``ref``; a text or audio one is refused with the valid names."""
    return load_tokenizer(ref, "image", image_tokenizers)


def default_tokenizer(names: list[str]) -> str:
    """DEFAULT_TOKENIZER when its checkpoint loads, else the first one that does."""
    for ref in [DEFAULT_TOKENIZER] + [n for n in names if n != DEFAULT_TOKENIZER]:
        try:
            load_image_tokenizer(ref)
            return ref
        except TokenworksError:
            continue
    return DEFAULT_TOKENIZER


# ---- one image, analysed once -------------------------------------------------------------------

@dataclass(frozen=True)
class ImageState:
    """What the page's gr.State holds: the settings, a few numbers, and a key into the session cache."""

    key: str  # session_cache.CACHE key of the ImageAnalysis
    ref: str  # the tokenizer asked for: a registry name or "run:<folder>"
    source: str  # "upload 'x.png'" or "sample 'emoji-fox.png'"
    path: str  # the file read (to analyse again if the cache let the analysis go)
    encoder: str  # one of ENCODERS
    num_tokens: int  # T
    ordered: bool  # an ordered 1D sequence (any prefix decodes), else a grid


@dataclass
class ImageView:
    state: ImageState
    analysis: ins.ImageAnalysis


def read_source(upload: Any, sample: str | None) -> tuple[str, str]:
    """(the file to read, how to name it) for an upload, else the sample; refused with a reason."""
    if uploaded(upload):
        if isinstance(upload, dict):  # a FileData-like dict from the API
            upload = upload.get("path")
        if not isinstance(upload, (str, os.PathLike)):
            raise InvalidInput(f"the upload must be a file path, got {type(upload).__name__}")
        p = Path(upload)
        if not p.is_file():
            raise InvalidInput(f"the uploaded file {p.name!r} is gone; upload it again")
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInput(f"{p.name!r} is {size / 1e6:.1f} MB; the tab reads files up to {MAX_FILE_BYTES / 1e6:g} MB")
        if size == 0:
            raise InvalidInput(f"{p.name!r} is an empty file, not an image")
        return str(p), f"upload {p.name!r}"
    if sample:
        names = sample_names()
        if sample not in names:
            raise InvalidInput(f"unknown sample {sample!r}; the samples are {', '.join(names) or 'missing'}")
        return str(SAMPLES_DIR / sample), f"sample {sample!r}"
    raise InvalidInput("upload an image or choose a sample")


def route_input(upload: Any, sample: str | None, names: list[str] | None = None) -> Route:
    """The tokenizer (among ``names``; None: the tab's list) trained on the kind of picture the
    upload (else the sample) is, and why (``tokenworks.image.route``); InvalidInput for a bad file."""
    path, _ = read_source(upload, sample)
    try:
        return route(path, image_tokenizers() if names is None else names, max_pixels=MAX_PIXELS)
    except InvalidInput as e:  # messages name the file, not the server's temporary path
        raise InvalidInput(str(e).replace(path, repr(Path(path).name))) from None


def check_encoder(encoder: Any) -> str:
    """The encoder choice, or InvalidInput naming the valid ones (None: one pass)."""
    if encoder is None:
        return ONE_PASS
    if encoder not in ENCODERS:
        raise InvalidInput(f"the encoder must be one of {', '.join(repr(e) for e in ENCODERS)}, got {encoder!r}")
    return encoder


def _analyze(path: str, source: str, ref: str, encoder: str, replaces: str | None = None,
             key: str | None = None) -> ImageView:
    from tokenworks.image.refine import RefineConfig

    tok = load_image_tokenizer(ref)
    refine = RefineConfig(steps=REFINE_STEPS) if encoder == REFINED else None
    try:
        analysis = ins.analyze(tok, path, refine, max_pixels=MAX_PIXELS)
    except InvalidInput as e:  # messages name the file, not the server's temporary path
        raise InvalidInput(str(e).replace(path, repr(Path(path).name))) from None
    key = CACHE.put(analysis, replaces=replaces, key=key)
    return ImageView(ImageState(key, ref, source, path, encoder, analysis.num_tokens, analysis.ordered), analysis)


def analyze_input(upload: Any, sample: str | None, ref: str, encoder: Any = ONE_PASS,
                  replaces: str | None = None) -> ImageView:
    """Tokenize the uploaded file (or the sample when there is no upload) with ``ref``, and compute
    every view's numbers once (``tokenworks.image.inspect.analyze``); REFINED searches ids that
    decode closer at every k (``tokenworks.image.refine``), the same bytes for any decoder."""
    encoder = check_encoder(encoder)
    path, source = read_source(upload, sample)
    return _analyze(path, source, ref, encoder, replaces)


def view_of(state: Any) -> ImageView:
    """The view of a state: its cached analysis, or the same analysis again when it was let go."""
    if not isinstance(state, ImageState):
        raise InvalidInput("tokenize an image first (upload one or choose a sample)")
    analysis = CACHE.get(state.key)
    if analysis is not None:
        return ImageView(state, analysis)
    if not Path(state.path).is_file():
        raise InvalidInput(f"the uploaded file {Path(state.path).name!r} is gone; upload it again")
    return _analyze(state.path, state.source, state.ref, state.encoder, key=state.key)  # the key the page holds
