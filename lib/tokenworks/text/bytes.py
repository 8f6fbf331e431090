"""``text/bytes``: one token per UTF-8 byte, ids 0..255. The baseline every BPE starts from."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..checkpoint import Checkpoint, config_from_dict, save_checkpoint
from ..core import SpanTable, TokenSeq, check_ids, ids_of, keep_first
from ._common import SURROGATE_NOTE, as_output, as_text_input, printable_piece, utf8_offsets


@dataclass
class ByteConfig:
    errors: str = "replace"  # how decode() treats invalid UTF-8: "replace" (U+FFFD) or "strict"


class ByteTokenizer:
    """UTF-8 bytes as tokens. Lossless on any str (lone surrogates aside) and on any bytes."""

    name = "text/bytes"
    modality = "text"
    kind = "text/bytes"

    def __init__(self, config: ByteConfig | None = None):
        self.config = config or ByteConfig()

    @property
    def vocab_size(self) -> int:
        return 256

    def encode(self, x: str | bytes) -> TokenSeq:
        inp = as_text_input(x, self.name)
        ids = np.frombuffer(inp.data, dtype=np.uint8).astype(np.int64)  # (T,)
        if inp.input_type == "bytes":
            pos = np.arange(len(ids), dtype=np.int64)  # (T,)
            spans = SpanTable(pos, pos + 1, pos, pos + 1)
        else:
            off = utf8_offsets(inp.text)  # (N + 1,)
            width = np.diff(off)  # (N,) bytes per character
            char = np.repeat(np.arange(len(width), dtype=np.int64), width)  # (T,) character of each byte
            pos = np.arange(len(ids), dtype=np.int64)  # (T,)
            spans = SpanTable(char, char + 1, pos, pos + 1, partial=np.repeat(width > 1, width))
        meta: dict[str, Any] = {"input_type": inp.input_type, "lossless": not inp.replaced}
        if inp.replaced:
            meta["replaced"] = list(inp.replaced)
            meta["note"] = SURROGATE_NOTE
        return TokenSeq(ids=ids, spans=spans, modality="text", tokenizer=self.name, meta=meta)

    def decode_bytes(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> bytes:
        ids = keep_first(ids_of(seq), keep, self.name)
        check_ids(ids, self.vocab_size, self.name)
        return ids.astype(np.uint8).tobytes()

    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> str | bytes:
        data = self.decode_bytes(seq, keep)
        return as_output(seq, data, self.config.errors)

    def render_token(self, i: int) -> str:
        check_ids(np.asarray([i]), self.vocab_size, self.name)
        return printable_piece(chr(i)) if i < 0x80 else f"<0x{i:02X}>"

    def save(self, folder: str | Path) -> Path:
        vocab = "\n".join(f"{i}\t{self.render_token(i)}" for i in range(256)) + "\n"
        return save_checkpoint(folder, kind=self.kind, name=self.name, config=self.config, sidecars={"vocab.txt": vocab})

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> "ByteTokenizer":
        return cls(config_from_dict(ByteConfig, ckpt.config))
