"""The exact engine that turns text into ids for an OpenAI vocabulary.

Two engines give the same ids as tiktoken's ``encode_ordinary``:

* ``bpe-openai``: GitHub's linear-time ``bpe`` crate through PyPI ``bpe-openai==0.1.4`` (its
  compiled binding, ``bpe_openai._bindings``, without the Python wrapper's per-call work). It
  ships cl100k_base and o200k_base. Its wrapper refuses texts of 1,000,000 characters or more
  ("Input too long to encode safely"); texts longer than ``CHUNK_CHARS`` are cut at exact
  pretokenization cuts (``pretoken_cuts``) and encoded piece by piece. (A cut-free text, e.g.
  one line of 2 MB, goes whole: the binding itself encoded 1,000,000 x "a" in 0.011 s and
  1,000,000 spaces in 0.007 s here, where tiktoken took 0.43 s and 0.77 s.) It gives a list,
  which costs ~25 ns a token to make int64.
* ``tiktoken``: tiktoken's Rust core, for every vocabulary; from 512 characters on its numpy
  buffer, with no list.

Measured here: 2 cores shared with other work (load 4-6), tiktoken 0.14.0; ``tok.encode(d).ids``
over 1.25 MB of held-out text (``hot_path_bench``) in documents of each size, as a ratio to
raw tiktoken ``encode_ordinary`` on the same documents; medians of 11 alternating rounds (o200k:
the range over three runs):

    documents      cl100k_base: tiktoken  bpe-openai    o200k_base: tiktoken  bpe-openai
    100 bytes                   0.86      1.10                      0.78-0.85 0.83-0.96
    1 kB                        1.00      1.35                      1.03-1.16 0.97-1.05
    10 kB                       1.07      1.54                      1.06-1.12 1.03-1.10
    whole (avg 15 kB)           1.09      1.50                      1.00-1.14 1.05-1.12

so ``auto`` is bpe-openai for every cl100k_base text; for o200k_base (where bpe-openai's lead,
~1.1-1.2x for the call alone, is about what making its list int64 costs) bpe-openai below 512
characters and tiktoken from there; tiktoken for r50k_base, and everywhere when bpe-openai is not
installed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import InvalidInput
from .pretoken_cuts import CUT_VOCABS, cut_text

ENGINES = ("auto", "bpe-openai", "tiktoken")
# longer texts go to bpe-openai in pieces of about this many characters (on one 1.25 MB text,
# pieces of 16K to 4M characters all ran at 1.56-1.82x tiktoken: within the noise)
CHUNK_CHARS = 1 << 18
_SHORT = 512  # below this many characters tiktoken's list beats its numpy buffer
# auto: texts shorter than this many characters go to bpe-openai, longer ones to tiktoken (None:
# every text to bpe-openai); see the table above
BPE_BELOW = {"cl100k_base": None, "o200k_base": _SHORT}


@dataclass(frozen=True)
class IdsEngine:
    name: str  # "bpe-openai", "tiktoken" or "bpe-openai+tiktoken" (by text length)
    encode: Callable[[str], np.ndarray]  # text (no lone surrogates: UnicodeEncodeError) -> (T,) int64 ids
    reason: str  # why this engine encodes this vocabulary


def as_int64(ids: list[int]) -> np.ndarray:
    """(T,) int64 from a list of ints: np.array for a few, np.fromiter (~20% faster) for many."""
    if len(ids) < 64:
        return np.array(ids, dtype=np.int64)
    return np.fromiter(ids, dtype=np.int64, count=len(ids))


def _bpe_openai_bindings() -> Any:
    """bpe-openai's compiled module, loaded without running its package ``__init__`` (which
    parses all three of its rank files in Python: 1.4 s and ~120 MB here, where the module alone
    takes 1 ms). Registered under its own name, so a later ``import bpe_openai`` shares it."""
    import importlib.machinery
    import importlib.util
    import sys

    name = "bpe_openai._bindings"
    if name in sys.modules:
        return sys.modules[name]
    package = importlib.util.find_spec("bpe_openai")  # finds the package without importing it
    if package is None or not package.submodule_search_locations:
        raise ImportError("No module named 'bpe_openai'")
    finder = importlib.machinery.FileFinder(package.submodule_search_locations[0],
                                            (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES))
    spec = finder.find_spec(name)
    if spec is None or spec.loader is None:  # not the compiled layout of 0.1.4: the ordinary import
        from bpe_openai import _bindings

        return _bindings
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def bpe_openai_backend(vocab: str) -> tuple[Any, str]:
    """(bpe-openai's tokenizer for ``vocab`` or None, why not)."""
    try:
        _bindings = _bpe_openai_bindings()
    except ImportError as e:
        return None, f"bpe-openai is not installed ({e}); pip install bpe-openai==0.1.4 for the faster engine"
    names = tuple(_bindings.supported_encodings())
    if vocab not in names or vocab not in CUT_VOCABS:
        return None, f"bpe-openai has no {vocab} (it has {', '.join(names)}; tokenworks uses {', '.join(CUT_VOCABS)})"
    return _bindings.tokenizer_for_encoding(vocab), ""


def _bpe_encoder(backend: Any, vocab: str) -> Callable[[str], np.ndarray]:
    def encode(text: str) -> np.ndarray:
        if len(text) <= CHUNK_CHARS:  # CHUNK_CHARS read per call: tests make it small
            return as_int64(backend.encode(text))  # (T,)
        parts = [as_int64(backend.encode(piece)) for piece in cut_text(text, CHUNK_CHARS, vocab)]
        return np.concatenate(parts)  # (T,)

    return encode


def _tiktoken_encoder(encoding: Any) -> Callable[[str], np.ndarray]:
    core = getattr(encoding, "_core_bpe", None)
    if not (hasattr(core, "encode_to_tiktoken_buffer") and hasattr(core, "encode_ordinary")):
        return lambda text: as_int64(encoding.encode_ordinary(text))  # another tiktoken version: its public API
    no_specials: set[str] = set()  # special-token text is ordinary text, as in encode_ordinary

    def encode(text: str) -> np.ndarray:
        if len(text) < _SHORT:
            return as_int64(core.encode_ordinary(text))  # (T,)
        return np.frombuffer(core.encode_to_tiktoken_buffer(text, no_specials), dtype=np.uint32).astype(np.int64)

    return encode


def _by_length(short: Callable[[str], np.ndarray], long: Callable[[str], np.ndarray],
               below: int) -> Callable[[str], np.ndarray]:
    def encode(text: str) -> np.ndarray:
        return short(text) if len(text) < below else long(text)

    return encode


def ids_engine(vocab: str, encoding: Any, choice: str = "auto") -> IdsEngine:
    """The engine for ``vocab`` (``encoding``: its tiktoken Encoding). ``choice``: "auto" (the
    fastest installed, by text length where that decides), "bpe-openai" (every text; an error
    if it cannot) or "tiktoken"."""
    if choice not in ENGINES:
        raise InvalidInput(f"unknown ids engine {choice!r}; choose one of {', '.join(ENGINES)}")
    if choice == "tiktoken":
        return IdsEngine("tiktoken", _tiktoken_encoder(encoding), "asked for")
    backend, why_not = bpe_openai_backend(vocab)
    if backend is None:
        if choice == "bpe-openai":
            raise InvalidInput(f"the bpe-openai engine cannot encode {vocab}: {why_not}; choose engine "
                               f"'tiktoken' or 'auto'")
        return IdsEngine("tiktoken", _tiktoken_encoder(encoding), why_not)
    bpe = _bpe_encoder(backend, vocab)
    below = BPE_BELOW.get(vocab)
    if choice == "bpe-openai" or below is None:
        return IdsEngine("bpe-openai", bpe, "asked for" if choice == "bpe-openai" else
                         "the fastest exact engine for this vocabulary")
    return IdsEngine("bpe-openai+tiktoken", _by_length(bpe, _tiktoken_encoder(encoding), below),
                     f"bpe-openai below {below} characters, tiktoken from there: the faster of the two at each length")
