"""OpenAI's byte-level BPE vocabularies (the fast path), with exact spans.

Ids are exactly tiktoken's ``encode_ordinary`` (special-token text is encoded as ordinary
text, as ``disallowed_special=()`` does), made by the fastest exact engine installed
(``ids_engine``: bpe-openai for cl100k_base and o200k_base, tiktoken otherwise; bytes input
always goes through tiktoken). Spans are built when first read, from the byte length of each
token (``spans.spans_from_lengths``): the tokens tile the UTF-8 input.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core import LazySpans, SpanTable, TokenSeq, check_ids, ids_of, keep_first
from ..errors import InvalidIds
from ._common import SURROGATE_NOTE, as_output, as_text_input, bytes_label
from .ids_engine import ids_engine
from .openai_vocab import load_openai_vocab
from .spans import spans_from_lengths


class TiktokenTokenizer:
    """``text/r50k_base`` (alias ``text/gpt2``), ``text/cl100k_base``, ``text/o200k_base``.

    ``engine``: "auto" (default), "bpe-openai" or "tiktoken" (see ``ids_engine``); the ids are
    the same, ``engine_name`` and ``engine_reason`` say which one runs and why."""

    modality = "text"

    def __init__(self, vocab: str = "cl100k_base", engine: str = "auto"):
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
        engine = ids_engine(vocab, self.encoding, engine)
        self.engine_name, self.engine_reason = engine.name, engine.reason  # which engine makes the ids, and why
        self._encode_ids = engine.encode  # text without lone surrogates -> (T,) int64 ids

    @property
    def vocab_size(self) -> int:
        return self.encoding.n_vocab

    def encode(self, x: str | bytes) -> TokenSeq:
        if type(x) is str:  # the fast path: text straight into the ids engine, spans when first read
            try:
                ids = self._encode_ids(x)  # (T,)
            except UnicodeEncodeError:  # lone surrogates take the careful path below
                pass
            else:
                token_len = self.token_len
                return TokenSeq(ids, LazySpans(lambda: spans_from_lengths(x, token_len[ids], nonempty=True), len(ids)),
                                "text", self.name, {"input_type": "str", "lossless": True})
        inp = as_text_input(x, self.name)
        meta: dict[str, Any] = {"input_type": inp.input_type, "lossless": not inp.replaced}
        if inp.replaced:
            meta["replaced"] = list(inp.replaced)
            meta["note"] = SURROGATE_NOTE
        if inp.input_type == "bytes":
            ids = np.asarray(self.encoding._encode_bytes(inp.data), dtype=np.int64)  # (T,) any bytes, UTF-8 or not
            bend = np.cumsum(self.token_len[ids])  # (T,)
            bstart = bend - self.token_len[ids]
            spans: Any = SpanTable(bstart, bend, bstart, bend)
        else:
            ids = self._encode_ids(inp.text)  # (T,) surrogates joined or replaced: valid UTF-8
            text, token_len = inp.text, self.token_len
            spans = LazySpans(lambda: spans_from_lengths(text, token_len[ids], nonempty=True), len(ids))
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
