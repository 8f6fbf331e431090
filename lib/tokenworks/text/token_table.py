"""One row per token of a text tokenization: which tokenizer, where, which id, which text and bytes.
What the Text tab's export writes as CSV (and a notebook can hand to pandas).

    rows = token_rows(tw.load("text/cl100k_base").encode(text), text)
    rows[0]   # TokenRow(tokenizer='text/cl100k_base', position=0, id=..., text='Token', bytes_hex='546f6b656e', ...)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..core import TokenSeq
from ..errors import InvalidInput


@dataclass
class TokenRow:
    tokenizer: str  # the tokenizer's name
    position: int  # 0-based index of the token in the sequence
    id: int  # the token id
    text: str  # the token's bytes as UTF-8 text; a piece of a character shows as U+FFFD
    bytes_hex: str  # the token's exact UTF-8 bytes in hex (e.g. "c3a9" for é)
    char_start: int  # character offsets of the token (of its whole character when it holds part of one)
    char_end: int
    byte_start: int | None  # UTF-8 byte offsets; None when the tokenizer gives none
    byte_end: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def token_rows(seq: TokenSeq, source: str) -> list[TokenRow]:
    """The tokens of ``seq`` (a text TokenSeq that encoded ``source``), one row each."""
    if seq.modality != "text":
        raise InvalidInput(f"token rows are for text tokenizers; {seq.tokenizer} is a {seq.modality} tokenizer")
    data = source.encode("utf-8", "surrogatepass")
    rows = []
    for i, (tid, span) in enumerate(zip(seq.tolist(), seq.spans)):
        if span.byte_start is not None and span.byte_end is not None:
            piece = data[span.byte_start:span.byte_end]
        else:
            piece = source[span.start:span.end].encode("utf-8", "surrogatepass")
        rows.append(TokenRow(tokenizer=seq.tokenizer, position=i, id=int(tid),
                             text=piece.decode("utf-8", "replace"), bytes_hex=piece.hex(),
                             char_start=int(span.start), char_end=int(span.end),
                             byte_start=span.byte_start, byte_end=span.byte_end))
    return rows
