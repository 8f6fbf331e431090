"""SentencePiece models (BPE with byte fallback, Unigram) with exact spans and honest losslessness.

    tok = tw.load("text/mistral-7b")       # or "text/llama2", "text/xlm-roberta"
    seq = tok.encode("héllo 👋")            # ids as sentencepiece gives them, no BOS/EOS
    seq.spans                               # char + byte offsets into the input, one per token
    seq.meta["lossless"]                    # False when decode(seq) != input, with the spans why

Spans come from sentencepiece's own alignment (``return_type="proto"``: each piece's
``begin``/``end`` are byte offsets into the input, through the normaliser). Two cases need care:

- byte fallback: a character outside the vocabulary becomes one ``<0xNN>`` piece per UTF-8
  byte; sentencepiece gives the whole character to the last of them. Here byte k of the
  character gets exactly byte k, the character as its char span, and ``partial=True``.
- the dummy prefix: SentencePiece reads "4" as " 4"; when the inserted "▁" is a token of its own
  it covers no input, so its span is empty (``start == end``); ``meta["zero_width"]`` lists them.

Losslessness is measured, not assumed: decode the ids and compare with the input. Where they
differ (normalisation such as NFKC, removed whitespace, unknown pieces, replaced invalid UTF-8),
``meta["lossy_spans"]`` holds the (char_start, char_end) ranges whose tokens do not decode back to
their input, and ``meta["note"]`` says why.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..checkpoint import Checkpoint, config_from_dict, save_checkpoint
from ..core import SpanTable, TokenSeq, check_ids, ids_of, keep_first
from ..errors import CorruptCheckpoint, InvalidInput
from ._common import SURROGATE_NOTE, as_text_input, wants_bytes

# SentencePiece piece types (ModelProto.SentencePiece.Type)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
SOURCES = ("model", "gguf", "proto")


@dataclass
class SentencePieceConfig:
    label: str = "text/sentencepiece"  # the registry name this tokenizer answers to
    asset: str = ""  # offline asset holding the model, e.g. "mistral-spm"; "" when given directly
    member: str = ""  # file inside the asset: a .model file or a vocab-only .gguf
    source: str = "model"  # "model" (serialized ModelProto), "gguf" (rebuilt by gguf_vocab) or "proto" (given in memory)


@lru_cache(maxsize=8)
def _asset_proto(asset: str, member: str, source: str) -> bytes:
    from ..assets import asset_path

    path = asset_path(asset, member)
    if source == "gguf":
        from .gguf_vocab import gguf_sentencepiece_proto

        return gguf_sentencepiece_proto(str(path))
    return Path(path).read_bytes()


_PROCESSORS: dict[str, Any] = {}


def _processor(proto: bytes):
    """One SentencePieceProcessor per distinct model (they are read-only once loaded)."""
    import sentencepiece as spm

    key = hashlib.sha256(proto).hexdigest()
    sp = _PROCESSORS.get(key)
    if sp is None:
        sp = spm.SentencePieceProcessor()
        try:
            sp.LoadFromSerializedProto(proto)
        except (RuntimeError, OSError) as e:
            raise InvalidInput(f"not a valid SentencePiece model: {e}") from e
        _PROCESSORS[key] = sp
    return sp


class SentencePieceTokenizer:
    """A SentencePiece model behind the tokenworks contract. Ids equal ``sp.encode(text)``."""

    modality = "text"
    kind = "text/sentencepiece"

    def __init__(self, config: SentencePieceConfig | None = None, *, model_proto: bytes | None = None, **fields: Any):
        if config is None:
            try:
                config = SentencePieceConfig(**fields)
            except TypeError as e:
                known = ", ".join(SentencePieceConfig.__dataclass_fields__)
                raise InvalidInput(f"SentencePieceTokenizer options are {known}: {e}") from e
        elif fields:
            raise InvalidInput("give either a SentencePieceConfig or its fields, not both")
        if config.source not in SOURCES:
            raise InvalidInput(f"source must be one of {', '.join(SOURCES)}, got {config.source!r}")
        if model_proto is None:
            if not config.asset or not config.member:
                raise InvalidInput("SentencePieceTokenizer needs model_proto=bytes, or asset= and member= naming a model file")
            model_proto = _asset_proto(config.asset, config.member, config.source)
        self.config = config
        self.name = config.label
        self.model_proto = bytes(model_proto)
        self.sp = _processor(self.model_proto)
        from sentencepiece import sentencepiece_model_pb2 as pb

        m = pb.ModelProto()
        m.ParseFromString(self.model_proto)
        self._types = np.asarray([p.type for p in m.pieces], dtype=np.int8)  # (V,)
        self._dummy_prefix = bool(m.normalizer_spec.add_dummy_prefix)
        self._unk_surface = m.trainer_spec.unk_surface if m.trainer_spec.HasField("unk_surface") else " \u2047 "

    @classmethod
    def from_file(cls, path: str | Path, label: str = "text/sentencepiece") -> "SentencePieceTokenizer":
        """A tokenizer from a ``.model`` file (the proto is kept in memory; save() stores it)."""
        return cls(SentencePieceConfig(label=label, source="proto"), model_proto=Path(path).read_bytes())

    @property
    def vocab_size(self) -> int:
        return int(self.sp.get_piece_size())

    # ---- encode ----------------------------------------------------------------------------

    def encode(self, x: str | bytes) -> TokenSeq:
        inp = as_text_input(x, self.name)
        if inp.input_type == "bytes":
            data = inp.data
            text = data.decode("utf-8", "surrogateescape")  # one char per invalid byte
            sp_input: str | bytes = data
        else:
            text, data = inp.text, inp.data
            sp_input = text
        pieces = self.sp.encode(sp_input, return_type="proto").pieces
        ids = np.fromiter((p.id for p in pieces), dtype=np.int64, count=len(pieces))  # (T,)
        bstart = np.fromiter((p.begin for p in pieces), dtype=np.int64, count=len(pieces))  # (T,)
        bend = np.fromiter((p.end for p in pieces), dtype=np.int64, count=len(pieces))  # (T,)
        types = self._types[ids] if len(ids) else np.zeros(0, np.int8)  # (T,)
        partial = self._split_byte_runs(types, bstart, bend)  # (T,)
        cstart, cend, cpartial = _char_spans(text, bstart, bend)
        spans = SpanTable(cstart, cend, bstart, bend, partial=partial | cpartial)

        meta: dict[str, Any] = {"input_type": inp.input_type}
        zero = np.flatnonzero(bend == bstart)
        if len(zero):
            meta["zero_width"] = zero.tolist()  # tokens that cover no input (the dummy-prefix "▁")
        # spans tile the input bytes when every token has bytes and each starts where the last ended
        meta["spans_tile"] = bool(
            not len(zero) and (len(ids) == 0 or (bstart[0] == 0 and bend[-1] == len(data)
                                                 and (bstart[1:] == bend[:-1]).all()))
        )
        if inp.input_type == "bytes":
            same = self._decode_bytes(ids) == data
        else:
            same = self.sp.decode(ids.tolist()) == x  # the real decode against the real input
        if same:
            meta["lossless"] = True
        else:
            meta["lossless"] = False
            lossy, reasons = self._lossy_spans(ids, types, bstart, bend, cstart, cend, data, text)
            for c in inp.replaced:
                lossy.append((c, c + 1))
            if inp.replaced:
                reasons.append(SURROGATE_NOTE)
            if not lossy:  # cannot localise: say so rather than guess
                lossy, reasons = [(0, len(text))], reasons + ["decoded text differs from the input"]
            meta["lossy_spans"] = _merge(lossy)
            meta["note"] = "; ".join(dict.fromkeys(reasons))
        return TokenSeq(ids=ids, spans=spans, modality="text", tokenizer=self.name, meta=meta)

    @staticmethod
    def _split_byte_runs(types: np.ndarray, bstart: np.ndarray, bend: np.ndarray) -> np.ndarray:
        """Give each <0xNN> piece of a byte-fallback character its own byte (in place).

        sentencepiece reports the first n-1 byte pieces of a character as empty at its start and
        the last one as the whole character.
        """
        partial = np.zeros(len(types), dtype=bool)
        if not (types == BYTE).any():
            return partial
        i, n = 0, len(types)
        while i < n:
            if types[i] == BYTE and bstart[i] == bend[i]:
                j = i
                while j < n and types[j] == BYTE and bstart[j] == bend[j] and bstart[j] == bstart[i]:
                    j += 1
                if j < n and types[j] == BYTE and bstart[j] == bstart[i]:
                    b0, b1 = int(bstart[j]), int(bend[j])
                    k = j - i + 1
                    if b1 - b0 == k:  # one piece per byte of the character
                        bstart[i : j + 1] = np.arange(b0, b1)
                        bend[i : j + 1] = np.arange(b0 + 1, b1 + 1)
                    else:  # normalised character: all share it
                        bstart[i : j + 1], bend[i : j + 1] = b0, b1
                    partial[i : j + 1] = True
                    i = j + 1
                    continue
            elif types[i] == BYTE and bend[i] - bstart[i] > 1:
                partial[i] = True
            i += 1
        return partial

    def _piece_bytes(self, ids: np.ndarray, types: np.ndarray) -> list[bytes]:
        """What each token contributes to the decoded text (as sentencepiece decodes it)."""
        out = []
        first = True
        for i, t in zip(ids.tolist(), types.tolist()):
            if t in (CONTROL, UNUSED):
                out.append(b"")
                continue
            if t == BYTE:
                b = bytes([int(self.sp.id_to_piece(i)[3:5], 16)])
            elif t == UNKNOWN:
                b = self._unk_surface.encode("utf-8")
            else:
                b = self.sp.id_to_piece(i).replace("\u2581", " ").encode("utf-8")
            if first and self._dummy_prefix and b.startswith(b" "):
                b = b[1:]
            first = False
            out.append(b)
        return out

    def _lossy_spans(self, ids, types, bstart, bend, cstart, cend, data: bytes, text: str):
        """Char ranges whose tokens do not decode to their own input bytes, and input no token covers."""
        lossy: list[tuple[int, int]] = []
        reasons: list[str] = []
        covered_to = 0
        off = None
        for k, got in enumerate(self._piece_bytes(ids, types)):
            b0, b1 = int(bstart[k]), int(bend[k])
            if b0 > covered_to:  # input bytes that no token covers (dropped whitespace)
                if off is None:
                    off = _offsets(text)
                lossy.append(_char_range(off, covered_to, b0))
                reasons.append("whitespace removed by the normaliser")
            covered_to = max(covered_to, b1)
            if got != data[b0:b1] and types[k] != BYTE:
                lossy.append((int(cstart[k]), int(cend[k])))
                if types[k] == UNKNOWN:
                    reasons.append(f"characters outside the vocabulary became <unk>, decoded as {self._unk_surface!r}")
                elif b"\xef\xbf\xbd" in got and b"\xef\xbf\xbd" not in data[b0:b1]:
                    reasons.append("invalid UTF-8 replaced by U+FFFD")
                else:
                    reasons.append("text rewritten by the normaliser (NFKC / whitespace)")
        if covered_to < len(data):
            if off is None:
                off = _offsets(text)
            lossy.append(_char_range(off, covered_to, len(data)))
            reasons.append("whitespace removed by the normaliser")
        return lossy, reasons

    # ---- decode ----------------------------------------------------------------------------

    def _decode_bytes(self, ids: np.ndarray) -> bytes:
        return b"".join(self._piece_bytes(ids, self._types[ids] if len(ids) else np.zeros(0, np.int8)))

    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> str | bytes:
        ids = keep_first(ids_of(seq), keep, self.name)
        check_ids(ids, self.vocab_size, self.name)
        if wants_bytes(seq):
            return self._decode_bytes(ids)
        return self.sp.decode(ids.tolist())

    def render_token(self, i: int) -> str:
        """The piece as the model stores it: "▁" for a space, "<0xNN>" for byte pieces."""
        check_ids(np.asarray([i]), self.vocab_size, self.name)
        return self.sp.id_to_piece(int(i))

    # ---- checkpoints -----------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        import torch

        proto = torch.from_numpy(np.frombuffer(self.model_proto, dtype=np.uint8).copy())  # (bytes,)
        vocab = "".join(
            f"{i}\t{self.sp.id_to_piece(i)}\t{self.sp.get_score(i):g}\t{int(self._types[i])}\n"
            for i in range(self.vocab_size)
        )
        return save_checkpoint(folder, kind=self.kind, name=self.name, config=self.config,
                               tensors={"model_proto": proto}, sidecars={"vocab.txt": vocab})

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> "SentencePieceTokenizer":
        config = config_from_dict(SentencePieceConfig, ckpt.config)
        t = ckpt.tensors.get("model_proto")
        if t is None:
            raise CorruptCheckpoint(f"{ckpt.folder} has no 'model_proto' tensor; tensors: {sorted(ckpt.tensors)}")
        return cls(config, model_proto=t.numpy().astype(np.uint8).tobytes())


# ---- offsets -------------------------------------------------------------------------------


def _offsets(text: str) -> np.ndarray:
    """(N + 1,) byte offset of each char boundary; surrogate-escaped bytes (U+DC80..U+DCFF) count 1."""
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # (N,)
    width = 1 + (cp >= 0x80).astype(np.int64) + (cp >= 0x800) + (cp >= 0x10000)  # (N,)
    width[(cp >= 0xDC80) & (cp <= 0xDCFF)] = 1
    out = np.zeros(len(cp) + 1, dtype=np.int64)
    np.cumsum(width, out=out[1:])
    return out


def _char_spans(text: str, bstart: np.ndarray, bend: np.ndarray):
    """Char spans of byte spans: the characters the bytes touch; partial when an end cuts one."""
    off = _offsets(text)  # (N + 1,)
    cstart = np.searchsorted(off, bstart, side="right") - 1  # (T,)
    cend = np.searchsorted(off, bend, side="left")  # (T,)
    cstart = np.clip(cstart, 0, len(off) - 1)
    cend = np.clip(cend, 0, len(off) - 1)
    partial = (off[cstart] != bstart) | (off[cend] != bend)  # (T,)
    cend = np.where(bend > bstart, np.maximum(cend, cstart + 1), cstart)
    return cstart, cend, partial


def _char_range(off: np.ndarray, b0: int, b1: int) -> tuple[int, int]:
    c0 = int(np.searchsorted(off, b0, side="right") - 1)
    c1 = int(np.searchsorted(off, b1, side="left"))
    return c0, max(c1, c0 + 1)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
