"""Who plays in the tokenizer tournament: one entry per model, each a way of reading text.

    CONTESTANTS["bpe-4k"]     # Contestant(name="bpe-4k", input="tokens", kind="bpe", vocab_size=4096)

Tokenizer contestants get their tokenizer trained on the tournament's own train split
(``tokenizers.train_contestant_tokenizer``), so no contestant has read the held-out text; a
contestant may instead name a fixed tokenizer (``tokenizer="text/cl100k_base"``).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import InvalidInput


@dataclass(frozen=True)
class Contestant:
    name: str  # how the leaderboard shows it
    input: str  # tokens | bytes | delete | words (TinyConfig.input)
    kind: str = ""  # tokens: the tokenizer trained for it (bpe | unigram | superbpe); "" for a fixed one
    vocab_size: int = 0  # tokens: the trained tokenizer's vocabulary
    tokenizer: str = ""  # tokens: a fixed tokenizer (registry name or folder) instead of a trained one
    about: str = ""  # one line for people


ALL = (
    Contestant("bytes", "bytes", about="UTF-8 bytes, one position each"),
    Contestant("bpe-1k", "tokens", "bpe", 1024, about="byte-level BPE, 1,024 tokens"),
    Contestant("bpe-4k", "tokens", "bpe", 4096, about="byte-level BPE, 4,096 tokens"),
    Contestant("bpe-16k", "tokens", "bpe", 16384, about="byte-level BPE, 16,384 tokens"),
    Contestant("unigram-4k", "tokens", "unigram", 4096, about="byte-level Unigram LM, 4,096 pieces"),
    Contestant("superbpe-4k", "tokens", "superbpe", 4096, about="SuperBPE, 4,096 tokens, superwords past 80%"),
    Contestant("delete", "delete", about="bytes; a learned gate deletes positions after the encoder (MrT5-style)"),
    Contestant("words", "words", about="bytes pooled into words inside the model (byte -> word -> byte)"),
)
CONTESTANTS = {c.name: c for c in ALL}


def pick(names: tuple[str, ...] | list[str]) -> list[Contestant]:
    """The contestants named (all of them for an empty list), in the leaderboard's order."""
    unknown = [n for n in names if n not in CONTESTANTS]
    if unknown:
        raise InvalidInput(f"unknown contestant {', '.join(unknown)}; choose from {', '.join(CONTESTANTS)}")
    return [c for c in ALL if not names or c.name in names]


__all__ = ["ALL", "CONTESTANTS", "Contestant", "pick"]
