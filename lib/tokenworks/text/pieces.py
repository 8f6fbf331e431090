"""What each text token stands for: its exact bytes and a printable label."""
from __future__ import annotations

from dataclasses import dataclass

from ..core import TokenSeq
from ._common import as_text_input, bytes_label


@dataclass(frozen=True)
class Piece:
    index: int  # position in the sequence
    id: int
    text: str  # printable label: the characters, <0xNN> escapes for a partial character, or hex for binaries
    raw: bytes  # the exact input bytes the token covers
    char_start: int
    char_end: int
    byte_start: int
    byte_end: int
    partial: bool  # covers only part of a UTF-8 character


def token_pieces(seq: TokenSeq, source: str | bytes, limit: int | None = None) -> list[Piece]:
    """One Piece per token of a text TokenSeq (the first ``limit``), cut from ``source`` by the byte spans."""
    data = as_text_input(source, seq.tokenizer).data
    label = (lambda b: b.hex(" ")) if seq.meta.get("display") == "hex" else bytes_label
    n = len(seq) if limit is None else min(limit, len(seq))
    out = []
    for i, tid, sp in zip(range(n), seq.ids[:n].tolist(), seq.spans[:n]):
        b0 = sp.byte_start if sp.byte_start is not None else 0
        b1 = sp.byte_end if sp.byte_end is not None else 0
        raw = data[b0:b1]
        out.append(Piece(i, tid, label(raw), raw, sp.start, sp.end, b0, b1, sp.partial))
    return out
