"""Vocabularies in HF ``tokenizer.json`` form (Llama-3, Qwen3, BERT WordPiece) through HF tokenizers.

Byte-level BPE vocabularies store each token as text in GPT-2's byte-to-character alphabet;
mapping it back gives every token's exact bytes, so spans tile the input when nothing was
normalised. Otherwise (BERT lower-cases, strips accents and drops whitespace; Qwen3 applies NFC)
the spans are HF's character offsets into the original text, and ``meta`` says the encoding is
lossy and where.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..checkpoint import Checkpoint, config_from_dict, save_checkpoint
from ..core import Span, SpanTable, TokenSeq, check_ids, ids_of, keep_first
from ..errors import CorruptCheckpoint, InvalidIds
from ._common import SURROGATE_NOTE, as_output, as_text_input, bytes_label, printable_piece, utf8_offsets
from .spans import spans_from_lengths


KIND = "text/hf"  # checkpoint kind of tokenizers saved from this class


@dataclass
class HFConfig:
    name: str = "text/hf"  # what the tokenizer calls itself
    model: str = ""  # HF model type: "BPE", "WordPiece" or "Unigram"
    byte_level: bool = False  # tokens are byte strings in GPT-2's alphabet (exact spans, lossless)
    vocab_size: int = 0  # ids 0..vocab_size-1, special tokens included


def byte_alphabet() -> dict[str, int]:
    """GPT-2's reversible map from the 256 byte values to printable characters, inverted.

    Bytes that are printable Latin-1 characters stand for themselves; the other 68 are given
    the code points 256, 257, ... in byte order.
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = {}
    extra = 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


class HFTokenizer:
    """A tokenizer.json read by HF tokenizers, with exact spans where the bytes allow."""

    modality = "text"

    def __init__(self, asset: str | None = None, member: str | None = None, label: str = "text/hf", *,
                 spec: str | None = None, info: dict[str, Any] | None = None):
        """Read ``member`` of the offline ``asset``, or a tokenizer.json given as text (``spec``)."""
        from tokenizers import Tokenizer

        if spec is None:
            from .. import assets

            if asset is None or member is None:
                raise TypeError("HFTokenizer needs asset and member, or spec (the tokenizer.json text)")
            spec = assets.asset_path(asset, member).read_text(encoding="utf-8")
        self.name = label
        self.spec = spec  # the tokenizer.json text (saved as is in checkpoints)
        self.info = dict(info or {})  # what training recorded (algorithm, corpus, report)
        self.hf = Tokenizer.from_str(spec)
        self.hf.no_padding()
        self.hf.no_truncation()
        parsed = json.loads(spec)
        self.byte_level = (parsed.get("decoder") or {}).get("type") == "ByteLevel"
        self.normalizer = (parsed.get("normalizer") or {}).get("type")
        self.model_type = (parsed.get("model") or {}).get("type")
        model = parsed.get("model") or {}
        self.unk_id = model.get("unk_id") if self.model_type == "Unigram" else self.hf.token_to_id(model.get("unk_token") or "[UNK]")
        n = self.hf.get_vocab_size(with_added_tokens=True)
        added = {i: t.content for i, t in self.hf.get_added_tokens_decoder().items()}
        self._bytes: list[bytes | None] = [None] * n  # id -> token bytes (byte-level vocabularies)
        if self.byte_level:
            alphabet = byte_alphabet()
            for i in range(n):
                tok = self.hf.id_to_token(i)
                if tok is None:
                    continue
                if i in added:
                    self._bytes[i] = added[i].encode("utf-8")
                elif all(c in alphabet for c in tok):
                    self._bytes[i] = bytes(alphabet[c] for c in tok)
            self.token_len = np.array([len(b) if b is not None else -1 for b in self._bytes], dtype=np.int64)  # (V,)

    @property
    def vocab_size(self) -> int:
        return self.hf.get_vocab_size(with_added_tokens=True)

    def encode(self, x: str | bytes) -> TokenSeq:
        inp = as_text_input(x, self.name)
        text = inp.text
        enc = self.hf.encode(text, add_special_tokens=False)
        ids = np.asarray(enc.ids, dtype=np.int64)  # (T,)
        meta: dict[str, Any] = {"input_type": inp.input_type}
        notes = []
        if inp.replaced:
            meta["replaced"] = list(inp.replaced)
            notes.append(SURROGATE_NOTE)
        if inp.input_type == "bytes" and inp.data != text.encode("utf-8"):
            notes.append("input bytes are not valid UTF-8; invalid bytes were read as U+FFFD")
        spans: Any = None
        exact = self.byte_level and bool((self.token_len[ids] >= 0).all()) and (
            b"".join(map(self._bytes.__getitem__, ids.tolist())) == text.encode("utf-8")  # type: ignore[arg-type]
        )
        if exact:  # the token bytes tile the input: exact byte spans
            spans = spans_from_lengths(text, self.token_len[ids])
            decoded = text
        else:
            off = utf8_offsets(text)  # (N + 1,)
            chars = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)  # (T, 2) HF's character offsets
            spans = SpanTable(chars[:, 0], chars[:, 1], off[chars[:, 0]], off[chars[:, 1]])
            decoded = self.decode(ids)
            meta["spans_tile"] = False  # spans are HF's character offsets; text between tokens (whitespace) has none
        lossless = decoded == text and not notes
        meta["lossless"] = lossless
        if not lossless:
            if decoded != text:
                notes.append(f"{self.name} " + self._lossy_reason(ids))
                meta["lossy_spans"] = self._lossy_spans(text, ids, spans)
            meta["note"] = "; ".join(notes)
        return TokenSeq(ids=ids, spans=spans, modality="text", tokenizer=self.name, meta=meta)

    def _lossy_reason(self, ids: np.ndarray) -> str:
        """Why decode(encode(x)) != x, in words."""
        reasons = []
        if self.normalizer == "BertNormalizer":
            reasons.append("lower-cases and strips accents")
        elif self.normalizer == "NFC":
            reasons.append("applies NFC normalisation")
        elif self.normalizer:
            reasons.append(f"normalises the text ({self.normalizer})")
        if self.model_type == "WordPiece":
            reasons.append("does not keep whitespace")
        if self.unk_id is not None and (ids == self.unk_id).any():
            reasons.append(f"unknown characters become {self.hf.id_to_token(self.unk_id)}")
        return ", ".join(reasons) or "does not reproduce the input exactly"

    def _lossy_spans(self, text: str, ids: np.ndarray, spans: Sequence[Span]) -> list[tuple[int, int]]:
        """Character ranges where the tokens do not reproduce the input: [UNK] tokens, tokens
        whose text differs from what they cover, and text no token covers."""
        out = []
        pos = 0
        for tid, sp in zip(ids.tolist(), spans):
            if sp.start > pos and text[pos:sp.start].strip():
                out.append((pos, sp.start))
            piece = self.hf.decode([tid]) if tid != self.unk_id else None
            if piece is None or piece.removeprefix("##").strip() != text[sp.start:sp.end].strip():
                out.append((sp.start, sp.end))
            pos = max(pos, sp.end)
        if text[pos:].strip():
            out.append((pos, len(text)))
        return out

    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> str | bytes:
        ids = keep_first(ids_of(seq), keep, self.name)
        check_ids(ids, self.vocab_size, self.name)
        if self.byte_level:
            if (self.token_len[ids] < 0).any():
                raise InvalidIds(f"{self.name} has no token with id {int(ids[self.token_len[ids] < 0][0])}")
            data = b"".join(self._bytes[i] for i in ids.tolist())  # type: ignore[misc]
            return as_output(seq, data)
        return self.hf.decode(ids.tolist(), skip_special_tokens=False)

    def render_token(self, i: int) -> str:
        check_ids(np.asarray([i]), self.vocab_size, self.name)
        if self.byte_level and self._bytes[i] is not None:
            return bytes_label(self._bytes[i])  # type: ignore[arg-type]
        return printable_piece(self.hf.id_to_token(i) or "")

    @property
    def config(self) -> HFConfig:
        return HFConfig(name=self.name, model=self.model_type or "", byte_level=self.byte_level,
                        vocab_size=self.vocab_size)

    # -- checkpoints (tokenizers trained with tokenworks.text.hf_train) -----------------------

    def save(self, folder: str | Path, data_hash: str | None = None, metrics: dict[str, Any] | None = None) -> Path:
        """A checkpoint folder: tokenizer.json as a sidecar (no weights), the training info."""
        return save_checkpoint(folder, kind=KIND, name=self.name, config=self.config,
                               sidecars={"tokenizer.json": self.spec, "vocab.txt": self._vocab_txt()},
                               data_hash=data_hash, metrics={**self.info.get("metrics", {}), **(metrics or {})},
                               extra={"training": {k: v for k, v in self.info.items() if k != "metrics"}})

    def _vocab_txt(self) -> str:
        return "".join(f"{i}\t{self.render_token(i)}\n" for i in range(self.vocab_size))

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> "HFTokenizer":
        config = config_from_dict(HFConfig, ckpt.config)
        path = ckpt.folder / "tokenizer.json"
        if not path.is_file():
            raise CorruptCheckpoint(f"{ckpt.folder}: a {KIND} checkpoint needs tokenizer.json")
        info = dict(ckpt.info.get("training") or {})
        info["metrics"] = ckpt.info.get("metrics", {})
        try:
            return cls(label=config.name, spec=path.read_text(encoding="utf-8"), info=info)
        except Exception as e:  # tokenizers raises its own Exception type for bad JSON
            raise CorruptCheckpoint(f"{ckpt.folder}/tokenizer.json is not a tokenizer HF tokenizers can read: {e}") from e
