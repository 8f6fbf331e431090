"""What a text tokenizer's vocabulary holds: special, UNK and byte-piece ids, and which ids
``encode`` can never produce (unreachable tokens).

The tokenizer classes differ in how they say this, so the answers are read through the
attributes each family has (``special_ids`` of tiktoken, ``special_tokens`` of ByteBPE, the
added tokens and ``unk_id`` of HF tokenizers, the piece types of SentencePiece); a tokenizer
with none of them has no special, UNK or byte-piece ids. Results are cached per tokenizer
instance (``tw.load_shared`` and ``tw.load_ref`` hand out one instance per name, so a table
over many slices scans each vocabulary once).
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core import TokenSeq
from ..errors import InvalidIds

DEFAULT_MAX_SCAN = 300_000  # vocabularies larger than this (text/chars: 1.1M) are not scanned unless asked
N_EXAMPLES = 20
_BYTE_PIECE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")

_info_cache: "weakref.WeakKeyDictionary[Any, VocabInfo]" = weakref.WeakKeyDictionary()
_scan_cache: "weakref.WeakKeyDictionary[Any, UnreachableTokens]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class VocabInfo:
    """Ids of a vocabulary that are not ordinary text pieces."""

    vocab_size: int  # V
    special_ids: frozenset[int]  # control / added / special tokens (encode never makes them from text)
    unk_ids: np.ndarray  # (U,) ids that stand for "unknown"
    byte_piece_ids: np.ndarray  # (B,) byte-fallback pieces <0xNN>
    continuation_prefix: str | None = None  # WordPiece's "##": such pieces only occur inside a word


def _sp_ids(sp: Any, V: int, test: str) -> list[int]:
    f = getattr(sp, test)
    return [i for i in range(V) if f(i)]


def vocab_info(tok: Any) -> VocabInfo:
    """Special, UNK and byte-piece ids of ``tok`` (cached per instance)."""
    try:
        return _info_cache[tok]
    except (KeyError, TypeError):
        pass
    V = int(tok.vocab_size)
    special: set[int] = set(getattr(tok, "special_ids", ()) or ())
    st = getattr(tok, "special_tokens", None)
    if isinstance(st, dict):
        special |= {int(i) for i in st.values()}
    unk: list[int] = []
    byte_pieces: list[int] = []
    prefix = None
    sp = getattr(tok, "sp", None)
    hf = getattr(tok, "hf", None)
    if sp is not None and hasattr(sp, "is_byte"):  # SentencePiece: piece types
        special |= set(_sp_ids(sp, V, "is_control")) | set(_sp_ids(sp, V, "is_unused"))
        unk = _sp_ids(sp, V, "is_unknown")
        byte_pieces = _sp_ids(sp, V, "is_byte")
    elif hf is not None and hasattr(hf, "get_added_tokens_decoder"):  # HF tokenizers
        added = hf.get_added_tokens_decoder()
        unk_id = getattr(tok, "unk_id", None)
        special |= {int(i) for i, t in added.items() if getattr(t, "special", True) and i != unk_id}
        if unk_id is not None:
            unk = [int(unk_id)]
        if not getattr(tok, "byte_level", False):
            byte_pieces = [i for i in range(V) if _BYTE_PIECE.match(hf.id_to_token(i) or "")]
        if getattr(tok, "model_type", None) == "WordPiece":
            prefix = "##"
    info = VocabInfo(V, frozenset(special), np.asarray(sorted(unk), dtype=np.int64),
                     np.asarray(sorted(byte_pieces), dtype=np.int64), prefix)
    try:
        _info_cache[tok] = info
    except TypeError:  # not weak-referenceable: no cache
        pass
    return info


def token_label(tok: Any, i: int) -> str:
    """How token ``i`` is shown: ``render_token`` when the tokenizer has it, else its decoded text."""
    if hasattr(tok, "render_token"):
        return str(tok.render_token(int(i)))
    return repr(tok.decode([int(i)]))


@dataclass(frozen=True)
class Unreachable:
    id: int
    label: str  # the token as render_token shows it
    got: tuple[int, ...]  # what encode(decode([id])) gave instead


@dataclass
class UnreachableTokens:
    """Ids ``i`` with ``encode(decode([i])) != [i]``: tokens the encoder never produces for the
    text they stand for (Land & Bartolo 2024 call some of these "under-trained" tokens).

    The probe decodes to bytes where the tokenizer can (so tokens holding part of a UTF-8
    character are probed on their exact bytes) and ignores tokens that cover no input (the
    "▁" dummy prefix SentencePiece adds at the start). A SentencePiece piece that only occurs
    inside a word ("ing", no "▁") is probed a second time with the same model without the dummy
    prefix, i.e. where it would occur. Not probed, and counted in ``skipped``: special, control,
    unknown and unused ids, WordPiece continuation pieces ("##ing": no text encodes to it alone),
    and partial-UTF-8 tokens of an encoder that cannot take invalid UTF-8 (HF tokenizers read
    str, so a lone byte 0xA1 cannot even be asked for).
    """

    tokenizer: str
    vocab_size: int  # V
    probed: int  # ids probed
    count: int  # unreachable ids among them
    partial_utf8: int  # of which: tokens whose bytes are not valid UTF-8 (part of a character)
    ids: np.ndarray = field(repr=False)  # (count,) the unreachable ids
    examples: list[Unreachable] = field(default_factory=list)  # the first N_EXAMPLES
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> ids not probed

    @property
    def rate(self) -> float:
        return self.count / self.probed if self.probed else 0.0


def _probe_text(tok: Any, i: int) -> str | bytes | None:
    """decode([i]) as bytes where the tokenizer gives bytes back, else as text; None if unused."""
    try:
        return tok.decode(TokenSeq([i], [], "text", tok.name, {"input_type": "bytes"}))
    except InvalidIds:
        return None


def _mid_word_encoder(tok: Any) -> Any:
    """For a SentencePiece model that adds a "▁" dummy prefix: an encoder of the same model
    without it, so a piece that only occurs inside a word ("ing") is probed there. None otherwise."""
    proto = getattr(tok, "model_proto", None)
    if proto is None or getattr(tok, "sp", None) is None:
        return None
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    m.ParseFromString(proto)
    if not m.normalizer_spec.add_dummy_prefix:
        return None
    m.normalizer_spec.add_dummy_prefix = False
    sp = spm.SentencePieceProcessor()
    sp.LoadFromSerializedProto(m.SerializeToString())
    return sp


def _valid_utf8(x: str | bytes) -> bool:
    if isinstance(x, str):
        return True
    try:
        x.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def unreachable_tokens(tok: Any, max_scan: int | None = DEFAULT_MAX_SCAN) -> UnreachableTokens | None:
    """Scan every id of ``tok`` (cached per instance); None when V > ``max_scan`` (None: no limit)."""
    cached = _scan_cache.get(tok) if _weakrefable(tok) else None
    if cached is not None:
        return cached
    info = vocab_info(tok)
    V = info.vocab_size
    if max_scan is not None and V > max_scan:
        return None
    skipped = {"special": 0, "unknown": 0, "unused": 0, "empty": 0, "continuation": 0,
               "partial UTF-8 the encoder cannot take": 0}
    mid_word = _mid_word_encoder(tok)
    bad: list[int] = []
    examples: list[Unreachable] = []
    partial = probed = 0
    unk = set(info.unk_ids.tolist())
    for i in range(V):
        if i in info.special_ids:
            skipped["special"] += 1
            continue
        if i in unk:
            skipped["unknown"] += 1
            continue
        x = _probe_text(tok, i)
        if x is None:
            skipped["unused"] += 1
            continue
        if len(x) == 0:
            skipped["empty"] += 1
            continue
        if info.continuation_prefix and isinstance(x, str) and x.startswith(info.continuation_prefix):
            skipped["continuation"] += 1
            continue
        seq = tok.encode(x)
        valid = _valid_utf8(x)
        if not valid and tok.decode(seq) != x:  # the encoder cannot take these bytes alone (HF: str only)
            skipped["partial UTF-8 the encoder cannot take"] += 1
            continue
        probed += 1
        got = seq.tolist()
        zero = seq.meta.get("zero_width")
        if zero:
            drop = set(zero)
            got = [t for k, t in enumerate(got) if k not in drop]
        if got != [i] and mid_word is not None:
            got = mid_word.encode(x if isinstance(x, str) else x.decode("utf-8", "surrogateescape"))
        if got != [i]:
            bad.append(i)
            partial += not valid
            if len(examples) < N_EXAMPLES:
                examples.append(Unreachable(i, token_label(tok, i), tuple(got)))
    out = UnreachableTokens(tok.name, V, probed, len(bad), partial, np.asarray(bad, dtype=np.int64), examples,
                            {k: v for k, v in skipped.items() if v})
    if _weakrefable(tok):
        _scan_cache[tok] = out
    return out


def _weakrefable(x: Any) -> bool:
    try:
        weakref.ref(x)
        return True
    except TypeError:
        return False


_len_cache: "weakref.WeakKeyDictionary[Any, VocabLengths]" = weakref.WeakKeyDictionary()


@dataclass
class VocabLengths:
    """Byte lengths of the vocabulary's ordinary tokens (special, unknown and unused ids left out)."""

    tokenizer: str
    hist: dict[int, int]  # bytes -> number of tokens
    longest: list[tuple[int, str, int]]  # (id, label, bytes), longest first

    @property
    def mean(self) -> float:
        n = sum(self.hist.values())
        return sum(k * v for k, v in self.hist.items()) / n if n else 0.0


def vocab_lengths(tok: Any, top: int = 20, max_scan: int | None = DEFAULT_MAX_SCAN) -> VocabLengths | None:
    """How many bytes each token of the vocabulary stands for (cached per instance; None when V > max_scan)."""
    cached = _len_cache.get(tok) if _weakrefable(tok) else None
    if cached is not None:
        return cached
    info = vocab_info(tok)
    if max_scan is not None and info.vocab_size > max_scan:
        return None
    unk = set(info.unk_ids.tolist())
    lens = np.full(info.vocab_size, -1, dtype=np.int64)  # (V,) -1: not an ordinary token
    for i in range(info.vocab_size):
        if i in info.special_ids or i in unk:
            continue
        x = _probe_text(tok, i)
        if x is not None:
            lens[i] = len(x if isinstance(x, bytes) else x.encode("utf-8", "surrogatepass"))
    ok = lens >= 0
    values, counts = np.unique(lens[ok], return_counts=True)
    order = np.argsort(-lens, kind="stable")[:top]
    out = VocabLengths(tok.name, {int(v): int(c) for v, c in zip(values, counts)},
                       [(int(i), token_label(tok, int(i)), int(lens[i])) for i in order if lens[i] >= 0])
    if _weakrefable(tok):
        _len_cache[tok] = out
    return out
