"""``text/chars``: one token per Unicode code point, ids 0..0x10FFFF."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..checkpoint import Checkpoint, config_from_dict, save_checkpoint
from ..core import SpanTable, TokenSeq, check_ids, ids_of, keep_first
from ..errors import InvalidIds, InvalidInput
from ._common import printable_piece, utf8_offsets, wants_bytes

MAX_CODE_POINT = 0x10FFFF


@dataclass
class CharConfig:
    bytes_errors: str = "surrogateescape"  # how bytes input is read: invalid UTF-8 bytes become U+DC80..U+DCFF, so it round-trips


class CharTokenizer:
    """Code points as tokens. Lossless on any str (lone surrogates included) and on any bytes."""

    name = "text/chars"
    modality = "text"
    kind = "text/chars"

    def __init__(self, config: CharConfig | None = None):
        self.config = config or CharConfig()

    @property
    def vocab_size(self) -> int:
        return MAX_CODE_POINT + 1

    def encode(self, x: str | bytes) -> TokenSeq:
        meta: dict[str, Any] = {"lossless": True}
        if isinstance(x, (bytes, bytearray, memoryview)):
            text = bytes(x).decode("utf-8", self.config.bytes_errors)
            meta["input_type"] = "bytes"
        elif isinstance(x, str):
            text = x
            meta["input_type"] = "str"
        else:
            raise InvalidInput(f"{self.name} encodes text: give a str or bytes, not {type(x).__name__}")
        ids = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)  # (T,)
        if meta["input_type"] == "bytes":
            # escaped invalid bytes (U+DC80..U+DCFF) stand for one byte each
            width = np.where((ids >= 0xDC80) & (ids <= 0xDCFF), 1, 1 + (ids >= 0x80) + (ids >= 0x800) + (ids >= 0x10000))
            off = np.concatenate([[0], np.cumsum(width)])
        else:
            off = utf8_offsets(text)  # (T + 1,)
        pos = np.arange(len(ids), dtype=np.int64)  # (T,)
        spans = SpanTable(pos, pos + 1, off[:-1], off[1:])
        return TokenSeq(ids=ids, spans=spans, modality="text", tokenizer=self.name, meta=meta)

    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> str | bytes:
        ids = keep_first(ids_of(seq), keep, self.name)
        check_ids(ids, self.vocab_size, self.name)
        text = ids.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
        if wants_bytes(seq):
            try:
                return text.encode("utf-8", self.config.bytes_errors)
            except UnicodeEncodeError as e:
                raise InvalidIds(f"{self.name}: ids {e.object[e.start:e.end]!r} have no byte form") from e
        return text

    def render_token(self, i: int) -> str:
        check_ids(np.asarray([i]), self.vocab_size, self.name)
        return printable_piece(chr(i))

    def save(self, folder: str | Path) -> Path:
        return save_checkpoint(folder, kind=self.kind, name=self.name, config=self.config)

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> "CharTokenizer":
        return cls(config_from_dict(CharConfig, ckpt.config))
