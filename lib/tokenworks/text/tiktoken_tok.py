"""OpenAI's byte-level BPE vocabularies through tiktoken (the fast path), with exact spans.

Ids are exactly tiktoken's ``encode_ordinary`` (special-token text is encoded as ordinary
text, as ``disallowed_special=()`` does). Spans come from the byte length of each token: the
tokens tile the UTF-8 input, so byte spans are a running sum and character spans follow.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core import LazySpans, SpanTable, TokenSeq, check_ids, ids_of, keep_first
from ..errors import InvalidIds
from ._common import as_output, as_text_input, bytes_label, spans_from_lengths
from .openai_vocab import load_openai_vocab


class TiktokenTokenizer:
    """``text/r50k_base`` (alias ``text/gpt2``), ``text/cl100k_base``, ``text/o200k_base``."""

    modality = "text"

    def __init__(self, vocab: str = "cl100k_base"):
        import tiktoken

        v = load_openai_vocab(vocab)
        self.vocab = vocab
        self.name = f"text/{vocab}"
        self.encoding = tiktoken.Encoding(vocab, pat_str=v.pattern, mergeable_ranks=v.ranks, special_tokens=v.special_tokens)
        n = self.encoding.n_vocab
        self._bytes: list[bytes | None] = [None] * n  # id -> token bytes (None: unused id)
        for tok, rank in v.ranks.items():
            self._bytes[rank] = tok
        for text, i in v.special_tokens.items():
            self._bytes[i] = text.encode("utf-8")
        self.token_len = np.array([len(b) if b is not None else 0 for b in self._bytes], dtype=np.int64)  # (V,)
        self.special_ids = frozenset(v.special_tokens.values())

    @property
    def vocab_size(self) -> int:
        return self.encoding.n_vocab

    def encode(self, x: str | bytes) -> TokenSeq:
        inp = as_text_input(x, self.name)
        meta: dict[str, Any] = {"input_type": inp.input_type, "lossless": not inp.replaced}
        if inp.replaced:
            meta["replaced"] = list(inp.replaced)
            meta["note"] = "lone surrogates cannot be written in UTF-8; replaced by U+FFFD as tiktoken does"
        if inp.input_type == "bytes":
            ids = np.asarray(self.encoding._encode_bytes(inp.data), dtype=np.int64)  # (T,) any bytes, UTF-8 or not
            bend = np.cumsum(self.token_len[ids])  # (T,)
            bstart = bend - self.token_len[ids]
            spans: Any = SpanTable(bstart, bend, bstart, bend)
        else:
            ids = np.asarray(self.encoding.encode_ordinary(inp.text), dtype=np.int64)  # (T,)
            text, token_len = inp.text, self.token_len
            spans = LazySpans(lambda: spans_from_lengths(text, token_len[ids]), len(ids))
        return TokenSeq(ids=ids, spans=spans, modality="text", tokenizer=self.name, meta=meta)

    def _check(self, ids: np.ndarray) -> None:
        check_ids(ids, self.vocab_size, self.name)
        unused = self.token_len[ids] == 0
        if unused.any():
            bad = int(ids[np.flatnonzero(unused)[0]])
            raise InvalidIds(f"{self.name} has no token with id {bad} (an unused id between the ranks and the special tokens)")

    def decode_bytes(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> bytes:
        ids = keep_first(ids_of(seq), keep, self.name)
        self._check(ids)
        return self.encoding.decode_bytes(ids.tolist())

    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> str | bytes:
        data = self.decode_bytes(seq, keep)
        return as_output(seq, data, "replace")

    def token_bytes(self, i: int) -> bytes:
        self._check(np.asarray([i]))
        return self._bytes[i]  # type: ignore[return-value]

    def render_token(self, i: int) -> str:
        return bytes_label(self.token_bytes(i))
