"""Honest text tokenizer metrics, per tokenizer and per language or domain slice.

    from tokenworks.metrics.text import text_metrics, metrics_table, to_csv
    m = text_metrics("text/o200k_base", documents, slice_name="en")
    m.bytes_per_token, m.fertility, m.flags
    rows = metrics_table(["text/o200k_base", "text/r50k_base"], {"en": en_docs, "zh": zh_docs})
    to_csv(rows, "metrics.csv")

What each number means (T tokens, V vocabulary size; byte counts are of the input's UTF-8):

- ``bytes_per_token``, ``chars_per_token``: input bytes (code points) / T. Higher: more text per token.
- ``fertility``: the mean number of tokens that touch a word; a word is a run of non-space
  characters. Scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan)
  make whole sentences one "word", so when more than half of a slice's letters are in such
  scripts the unit becomes the character (every non-space code point); ``word_unit`` says
  which was used ("word" or "character"; force one with ``word_unit=``).
- ``continued_word_ratio``: the share of those units touched by more than one token.
- ``round_trip_rate``: the share of documents with ``decode(encode(x)) == x``.
- ``unk_rate``: the share of tokens that are an UNK id.
- ``byte_fallback_rate``: the share of tokens that hold only part of a character (a span
  flagged ``partial``: a byte-level piece of a UTF-8 sequence) or that are a byte piece <0xNN>.
- ``vocab_utilisation``: distinct ids used / V.
- ``shannon_efficiency``, ``renyi_efficiency``: entropy of the unigram distribution of the
  slice's tokens / log V, Shannon and Renyi with alpha = 2.5 (Zouhar et al. 2023,
  "Tokenization and the Noiseless Channel"; see ``_text_dist``).
- ``zipf_slope``, ``zipf_r2``: least-squares line through log frequency vs log rank.
- ``token_length_hist``: input bytes each token covers -> occurrences; ``longest_tokens`` the
  distinct tokens covering the most bytes in this slice (UNK ids left out).
- ``vocab_lengths(tok)`` (not per slice): the byte-length distribution of the whole
  vocabulary and its longest tokens.
- ``unreachable``: ids ``i`` with ``encode(decode([i])) != [i]`` over the whole vocabulary,
  scanned once per tokenizer (see ``_text_vocab.UnreachableTokens``).

A lossy tokenization (a document that does not round-trip, or any UNK token) makes every
number above describe text the tokenizer did not keep: such a result has ``lossy = True`` and
``flags`` says why, and ``to_rows``/``to_csv`` carry both columns.
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import regex

from ..core import LazySpans, SpanTable, TokenSeq
from ..errors import InvalidInput
from ..text._common import utf8_offsets
from ._text_dist import RENYI_ALPHA, efficiency, renyi_entropy, shannon_entropy, zipf_fit
from ._text_vocab import (DEFAULT_MAX_SCAN, UnreachableTokens, VocabLengths, token_label, unreachable_tokens,
                          vocab_info, vocab_lengths)

__all__ = ["TextMetrics", "text_metrics", "metrics_table", "to_rows", "to_csv", "vocab_lengths", "VocabLengths",
           "unreachable_tokens", "UnreachableTokens", "WORD_UNITS"]

WORD_UNITS = ("auto", "word", "character")
SPACELESS_SHARE = 0.5  # above this share of letters in spaceless scripts, fertility counts characters
N_LONGEST = 10
_WORD = regex.compile(r"\S+")
_WORD_BYTES = regex.compile(rb"\S+")
_SPACELESS = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]")
_LETTER = regex.compile(r"\p{L}")


@dataclass
class TextMetrics:
    """One tokenizer on one slice of text. Rates are in [0, 1]; None where undefined."""

    tokenizer: str
    slice: str
    documents: int
    bytes: int  # UTF-8 bytes of the input
    characters: int  # code points of the input
    tokens: int  # T
    vocab_size: int  # V
    word_unit: str  # "word" (runs of non-space characters) or "character" (the fallback for spaceless scripts)
    words: int  # units counted for fertility
    bytes_per_token: float
    chars_per_token: float
    fertility: float | None  # tokens per unit
    continued_word_ratio: float | None  # share of units split over more than one token
    round_trip_rate: float  # share of documents with decode(encode(x)) == x
    unk_tokens: int
    unk_rate: float
    byte_fallback_tokens: int
    byte_fallback_rate: float
    distinct_tokens: int
    vocab_utilisation: float  # distinct ids used / V
    shannon_efficiency: float | None  # H_1 / log V
    renyi_efficiency: float | None  # H_alpha / log V
    renyi_alpha: float
    zipf_slope: float | None
    zipf_r2: float | None
    token_length_hist: dict[int, int]  # input bytes per token -> occurrences
    longest_tokens: list[tuple[int, str, int]]  # (id, label, bytes), longest first
    unreachable: UnreachableTokens | None = None  # over the whole vocabulary (None: not scanned)
    flags: list[str] = field(default_factory=list)  # why the numbers describe a lossy tokenization
    notes: list[str] = field(default_factory=list)  # how numbers were computed (fallbacks, skipped scans)

    @property
    def lossy(self) -> bool:
        return bool(self.flags)

    def to_row(self) -> dict[str, Any]:
        """Flat columns for a table or CSV (the histogram and lists as JSON)."""
        d = {k: v for k, v in asdict(self).items() if k not in ("unreachable", "token_length_hist", "longest_tokens",
                                                                   "flags", "notes")}
        d["lossy"] = self.lossy
        d["flags"] = "; ".join(self.flags)
        d["notes"] = "; ".join(self.notes)
        u = self.unreachable
        d["unreachable"] = None if u is None else u.count
        d["unreachable_probed"] = None if u is None else u.probed
        d["unreachable_examples"] = "" if u is None else " ".join(e.label for e in u.examples[:5])
        d["token_length_hist"] = json.dumps({str(k): v for k, v in sorted(self.token_length_hist.items())})
        d["longest_tokens"] = " ".join(label for _, label, _ in self.longest_tokens)
        return d


# ---- per document --------------------------------------------------------------------------


def _span_columns(seq: TokenSeq, off: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T,) byte start, byte end and partial flag of every token."""
    spans = seq.spans.spans if isinstance(seq.spans, LazySpans) else seq.spans
    if isinstance(spans, SpanTable):
        if spans.byte_start is not None:
            b0, b1 = spans.byte_start, spans.byte_end
        else:
            b0, b1 = off[spans.start], off[spans.end]
        partial = spans.partial if spans.partial is not None else np.zeros(len(spans), dtype=bool)
        return b0, b1, partial
    b0 = np.fromiter((s.byte_start if s.byte_start is not None else off[s.start] for s in spans), np.int64, len(spans))
    b1 = np.fromiter((s.byte_end if s.byte_end is not None else off[s.end] for s in spans), np.int64, len(spans))
    partial = np.fromiter((s.partial for s in spans), bool, len(spans))
    return b0, b1, partial


def _char_offsets(text: str, from_bytes: bool) -> np.ndarray:
    """(N + 1,) byte offset of every character boundary; for bytes input the text was read with
    surrogateescape, so an invalid byte (U+DC80..U+DCFF) is one character of one byte."""
    if not from_bytes:
        return utf8_offsets(text)
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # (N,)
    width = np.where((cp >= 0xDC80) & (cp <= 0xDCFF), 1, 1 + (cp >= 0x80) + (cp >= 0x800).astype(np.int64) + (cp >= 0x10000))
    out = np.zeros(len(cp) + 1, dtype=np.int64)
    np.cumsum(width, out=out[1:])
    return out


def _on_boundary(b: np.ndarray, off: np.ndarray) -> np.ndarray:
    """(T,) whether each byte offset falls on a character boundary (off is sorted)."""
    k = np.minimum(np.searchsorted(off, b), len(off) - 1)
    return off[k] == b


def _units(doc: str | bytes, text: str, off: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """(U,) byte start and end of each word or non-space character."""
    if unit == "character":
        keep = np.fromiter((not c.isspace() for c in text), bool, len(text))  # (N,)
        idx = np.flatnonzero(keep)
        return off[idx], off[idx + 1]
    if isinstance(doc, bytes):
        m = [(a.start(), a.end()) for a in _WORD_BYTES.finditer(doc)]
        return np.asarray([a for a, _ in m], np.int64), np.asarray([b for _, b in m], np.int64)
    m = [(a.start(), a.end()) for a in _WORD.finditer(text)]
    return off[np.asarray([a for a, _ in m], np.int64)], off[np.asarray([b for _, b in m], np.int64)]


def _tokens_per_unit(b0: np.ndarray, b1: np.ndarray, u0: np.ndarray, u1: np.ndarray) -> np.ndarray:
    """(U,) how many tokens overlap each unit. A token covering no bytes (SentencePiece's dummy
    prefix) counts for the byte after it. #overlap = #(token start < unit end) - #(token end <= unit start)."""
    b1 = np.maximum(b1, b0 + 1)
    return np.searchsorted(np.sort(b0), u1, side="left") - np.searchsorted(np.sort(b1), u0, side="right")


def _as_text(doc: object, slice_name: str, k: int) -> tuple[str | bytes, str]:
    if isinstance(doc, str):
        return doc, doc
    if isinstance(doc, (bytes, bytearray, memoryview)):
        data = bytes(doc)
        return data, data.decode("utf-8", "surrogateescape")
    raise InvalidInput(f"slice {slice_name!r}: document {k} is a {type(doc).__name__}; documents are str or bytes")


def _pick_unit(texts: Sequence[str], word_unit: str) -> str:
    if word_unit not in WORD_UNITS:
        raise InvalidInput(f"word_unit must be one of {', '.join(WORD_UNITS)}, got {word_unit!r}")
    if word_unit != "auto":
        return word_unit
    letters = sum(len(_LETTER.findall(t)) for t in texts)
    spaceless = sum(len(_SPACELESS.findall(t)) for t in texts)
    return "character" if letters and spaceless / letters > SPACELESS_SHARE else "word"


# ---- the metrics -----------------------------------------------------------------------------


def _resolve(tok: Any) -> Any:
    if isinstance(tok, str):
        from ..registry import load_ref

        return load_ref(tok)
    if getattr(tok, "modality", None) != "text":
        raise InvalidInput(f"text metrics need a text tokenizer; got {getattr(tok, 'name', type(tok).__name__)!r} "
                           f"(modality {getattr(tok, 'modality', None)!r})")
    return tok


def text_metrics(tok: Any, documents: Iterable[str | bytes], slice_name: str = "all", *,
                 word_unit: str = "auto", unreachable: bool = True,
                 max_scan: int | None = DEFAULT_MAX_SCAN) -> TextMetrics:
    """Every metric of ``tok`` (a tokenizer or a registry name) on ``documents``.

    ``word_unit``: "auto" (words, or characters for spaceless scripts), "word" or "character".
    ``unreachable``: scan the vocabulary for unreachable ids (once per tokenizer instance;
    vocabularies over ``max_scan`` ids are not scanned, and ``notes`` says so).
    """
    tok = _resolve(tok)
    if isinstance(documents, (str, bytes)):
        raise InvalidInput(f"slice {slice_name!r}: give a list of documents, not one {type(documents).__name__}")
    docs = [_as_text(d, slice_name, k) for k, d in enumerate(documents)]
    if not docs or all(len(d) == 0 for d, _ in docs):
        raise InvalidInput(f"slice {slice_name!r} has no text ({len(docs)} document(s), all empty): "
                           "give at least one non-empty document")
    unit = _pick_unit([t for _, t in docs], word_unit)
    info = vocab_info(tok)
    V = info.vocab_size
    counts: Counter[int] = Counter()
    lengths: Counter[int] = Counter()
    longest: dict[int, int] = {}
    n_bytes = n_chars = n_tokens = n_unk = n_fallback = n_units = n_split = touches = 0
    failed: list[int] = []
    fail_note = ""
    for k, (doc, text) in enumerate(docs):
        data = doc if isinstance(doc, bytes) else text.encode("utf-8", "surrogatepass")
        n_bytes += len(data)
        n_chars += len(text)
        if not data:
            continue
        seq = tok.encode(doc)
        ids = seq.ids  # (T,)
        n_tokens += len(ids)
        if tok.decode(seq) != doc:
            failed.append(k)
            fail_note = fail_note or str(seq.meta.get("note") or "decode(encode(x)) differs from x")
        if len(ids) == 0:
            continue
        off = _char_offsets(text, isinstance(doc, bytes))  # (N + 1,) byte offset of each character boundary
        b0, b1, partial = _span_columns(seq, off)
        # part of a character: flagged by the tokenizer, or a byte span that cuts inside one
        partial = partial | ~_on_boundary(b0, off) | ~_on_boundary(b1, off)
        n_unk += int(np.isin(ids, info.unk_ids).sum())
        n_fallback += int((partial | np.isin(ids, info.byte_piece_ids)).sum())
        counts.update(ids.tolist())
        tlen = (b1 - b0).tolist()
        lengths.update(tlen)
        for i, n in zip(ids.tolist(), tlen):
            if n > longest.get(i, -1):
                longest[i] = n
        u0, u1 = _units(doc, text, off, unit)
        per = _tokens_per_unit(b0, b1, u0, u1)  # (U,)
        n_units += len(per)
        touches += int(per.sum())
        n_split += int((per > 1).sum())
    if n_tokens == 0:
        raise InvalidInput(f"{tok.name} made no tokens from slice {slice_name!r}: nothing to measure")
    c = np.fromiter(counts.values(), np.float64, len(counts))
    fit = zipf_fit(c)
    unk = set(info.unk_ids.tolist())  # an UNK "covers" whatever it replaced: not a long token
    top = sorted(((i, n) for i, n in longest.items() if i not in unk), key=lambda kv: (-kv[1], kv[0]))[:N_LONGEST]
    flags, notes = [], []
    if failed:
        flags.append(f"round trip fails on {len(failed)} of {len(docs)} document(s) (first: #{failed[0]}): {fail_note}")
    if n_unk:
        flags.append(f"{n_unk} UNK token(s) ({n_unk / n_tokens:.2%} of tokens): text outside the vocabulary is lost "
                     "and still counted in bytes/characters per token")
    if unit == "character" and word_unit == "auto":
        notes.append("fertility per character: most letters are in scripts written without spaces")
    scan = unreachable_tokens(tok, max_scan) if unreachable else None
    if unreachable and scan is None:
        notes.append(f"unreachable tokens not scanned: V = {V} > max_scan = {max_scan}")
    return TextMetrics(
        tokenizer=tok.name, slice=slice_name, documents=len(docs), bytes=n_bytes, characters=n_chars,
        tokens=n_tokens, vocab_size=V, word_unit=unit, words=n_units,
        bytes_per_token=n_bytes / n_tokens, chars_per_token=n_chars / n_tokens,
        fertility=touches / n_units if n_units else None,
        continued_word_ratio=n_split / n_units if n_units else None,
        round_trip_rate=1 - len(failed) / len(docs),
        unk_tokens=n_unk, unk_rate=n_unk / n_tokens,
        byte_fallback_tokens=n_fallback, byte_fallback_rate=n_fallback / n_tokens,
        distinct_tokens=len(counts), vocab_utilisation=len(counts) / V,
        shannon_efficiency=efficiency(shannon_entropy(c), V),
        renyi_efficiency=efficiency(renyi_entropy(c, RENYI_ALPHA), V), renyi_alpha=RENYI_ALPHA,
        zipf_slope=None if fit is None else fit.slope, zipf_r2=None if fit is None else fit.r2,
        token_length_hist=dict(sorted(lengths.items())),
        longest_tokens=[(i, token_label(tok, i), n) for i, n in top],
        unreachable=scan, flags=flags, notes=notes,
    )


def metrics_table(tokenizers: Sequence[Any], slices: Mapping[str, Iterable[str | bytes]], **kw: Any) -> list[TextMetrics]:
    """``text_metrics`` for every tokenizer (objects or registry names) x slice, tokenizer-major."""
    if isinstance(tokenizers, str):
        tokenizers = [tokenizers]
    if not tokenizers:
        raise InvalidInput("give at least one tokenizer (registry names: tw.available('text'))")
    if not isinstance(slices, Mapping) or not slices:
        raise InvalidInput("slices is a dict {slice name: [documents]} with at least one slice")
    slices = {name: list(docs) for name, docs in slices.items()}
    return [text_metrics(tok, docs, slice_name=name, **kw) for tok in (_resolve(t) for t in tokenizers)
            for name, docs in slices.items()]


def to_rows(metrics: Iterable[TextMetrics]) -> list[dict[str, Any]]:
    return [m.to_row() for m in metrics]


def to_csv(metrics: Iterable[TextMetrics], path: str | Path | None = None) -> str:
    """The table as CSV text (written to ``path`` too when given)."""
    rows = to_rows(metrics)
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = buf.getvalue()
    if path is not None:
        Path(path).write_text(out, encoding="utf-8")
    return out
