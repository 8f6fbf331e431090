"""OpenAI's tiktoken vocabularies (r50k_base = GPT-2 ids, cl100k_base, o200k_base), offline.

The rank files come from registry packages through the asset cache; the pretokenization
patterns and special tokens are tiktoken's own definitions (``tiktoken_ext.openai_public``),
read with its loader pointed at the local file instead of the network.
"""
from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import UnknownTokenizer

# name -> (asset, member inside the asset)
RANK_FILES = {
    "r50k_base": ("whisper-vocab", "openai_whisper-20250625/whisper/assets/gpt2.tiktoken"),
    "cl100k_base": ("bpe-openai", "bpe_openai/data/cl100k_base.tiktoken.gz"),
    "o200k_base": ("bpe-openai", "bpe_openai/data/o200k_base.tiktoken.gz"),
}


@dataclass(frozen=True)
class OpenAIVocab:
    name: str
    ranks: dict[bytes, int]  # token bytes -> rank (= id); ranks define the merge order
    pattern: str  # the pretokenization regex (``regex`` module syntax)
    special_tokens: dict[str, int]


def read_tiktoken_file(path: Path) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` (optionally gzipped) file: one ``base64(token) rank`` per line."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ranks: dict[bytes, int] = {}
    for line in raw.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@lru_cache(maxsize=None)
def load_openai_vocab(name: str) -> OpenAIVocab:
    """Ranks, pattern and special tokens of ``name`` from the local asset cache."""
    from .. import assets

    if name not in RANK_FILES:
        raise UnknownTokenizer(f"unknown OpenAI vocabulary {name!r}; choose one of {', '.join(RANK_FILES)}")
    asset, member = RANK_FILES[name]
    ranks = read_tiktoken_file(assets.asset_path(asset, member))

    import tiktoken_ext.openai_public as spec

    original = spec.load_tiktoken_bpe
    spec.load_tiktoken_bpe = lambda *a, **k: ranks  # serve the local ranks instead of a download
    try:
        d = getattr(spec, name)()
    finally:
        spec.load_tiktoken_bpe = original
    return OpenAIVocab(name=name, ranks=ranks, pattern=d["pat_str"], special_tokens=dict(d["special_tokens"]))
