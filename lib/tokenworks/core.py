"""The contract every tokenizer honours.

    seq = tok.encode(x)          # TokenSeq: ids, spans, modality, meta
    y = tok.decode(seq)          # the same kind of thing as x
    y_k = tok.decode(seq, keep=k)  # only the first k tokens (text, 1D image) or k codebooks (RVQ)

``Tokenizer`` is a ``typing.Protocol``: any object with these attributes and methods is a
tokenizer. Optional capabilities (``codebook``, ``attention``, ``render_token``, ``train``) are
small protocols checked at run time with ``capabilities(tok)``; the app and notebooks show a
view only when the tokenizer has it.

Symbols: T tokens, K codebooks, V vocabulary size, D code dimension, H/W grid height/width.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from .errors import InvalidIds

MODALITIES = ("text", "image", "audio")


@dataclass(frozen=True)
class Span:
    """Where one token comes from in the input.

    text:  ``start``/``end`` are character (code point) offsets, ``byte_start``/``byte_end``
           UTF-8 byte offsets. A byte-level token that holds only part of a character has exact
           byte offsets, the character it belongs to as ``start``/``end``, and ``partial=True``.
    audio: ``start``/``end`` are sample offsets in the (resampled) input.
    image: ``box`` is the pixel box ``(x0, y0, x1, y1)`` in the input image; tokens with no box
           (1D tokenizers) expose where they look through ``attention(x)`` instead.
    """

    start: int = 0
    end: int = 0
    byte_start: int | None = None
    byte_end: int | None = None
    partial: bool = False
    box: tuple[int, int, int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.byte_start is not None:
            d["byte_start"], d["byte_end"] = self.byte_start, self.byte_end
        if self.partial:
            d["partial"] = True
        if self.box is not None:
            d["box"] = list(self.box)
        return d


def span_row(start: int, end: int, byte_start: int | None, byte_end: int | None, partial: bool) -> Span:
    """``Span(start, end, byte_start, byte_end, partial)`` in half the time, for the rows a
    SpanTable hands out: a frozen dataclass sets each field through ``object.__setattr__``;
    filling the new instance's ``__dict__`` at once gives the same object (fields, equality,
    hash, repr). tests/text/test_engine.py checks it against ``Span`` and its fields."""
    span = object.__new__(Span)
    span.__dict__.update(start=start, end=end, byte_start=byte_start, byte_end=byte_end, partial=partial, box=None)
    return span


class SpanTable(Sequence[Span]):
    """Spans held as numpy columns, one row per token; indexing yields ``Span`` objects.

    Tokenizers that make many tokens build this instead of a list of Span objects, so that
    encoding stays vectorised; it reads exactly like ``list[Span]``.
    """

    def __init__(self, start: np.ndarray, end: np.ndarray, byte_start: np.ndarray | None = None,
                 byte_end: np.ndarray | None = None, partial: np.ndarray | None = None):
        self.start = np.asarray(start, dtype=np.int64)  # (T,)
        self.end = np.asarray(end, dtype=np.int64)  # (T,)
        self.byte_start = None if byte_start is None else np.asarray(byte_start, dtype=np.int64)  # (T,)
        self.byte_end = None if byte_end is None else np.asarray(byte_end, dtype=np.int64)  # (T,)
        self.partial = None if partial is None else np.asarray(partial, dtype=bool)  # (T,)

    @classmethod
    def of_columns(cls, start: np.ndarray, end: np.ndarray, byte_start: np.ndarray | None,
                   byte_end: np.ndarray | None, partial: np.ndarray | None) -> "SpanTable":
        """A table over columns that already are (T,) int64 (``partial``: bool) numpy arrays,
        taken as they are: no checks, no copies (the hot path of short texts)."""
        table = cls.__new__(cls)
        table.start, table.end, table.byte_start, table.byte_end, table.partial = start, end, byte_start, byte_end, partial
        return table

    def __len__(self) -> int:
        return int(self.start.shape[0])

    def _row(self, i: int) -> Span:
        bs, be, p = self.byte_start, self.byte_end, self.partial
        return span_row(self.start.item(i), self.end.item(i), None if bs is None else bs.item(i),
                        None if be is None else be.item(i), False if p is None else p.item(i))

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        n = self.start.shape[0]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"span index {i} out of range for {n} tokens")
        return self._row(i)

    def __iter__(self) -> Iterator[Span]:
        for i in range(len(self)):
            yield self._row(i)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and all(a == b for a, b in zip(self, other))

    def __repr__(self) -> str:
        return f"SpanTable({len(self)} spans)"


class LazySpans(Sequence[Span]):
    """Spans computed on first use: fast paths return ids at full speed and pay for the
    alignment only when someone looks at it."""

    __slots__ = ("_make", "_spans", "_n")

    def __init__(self, make: "Callable[[], Sequence[Span]]", n: int):
        self._make: Callable[[], Sequence[Span]] | None = make
        self._spans: Sequence[Span] | None = None
        self._n = n

    @property
    def spans(self) -> Sequence[Span]:
        if self._spans is None:
            assert self._make is not None
            self._spans, self._make = self._make(), None
        return self._spans

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):  # type: ignore[override]
        spans = self._spans
        return (self.spans if spans is None else spans)[i]

    def __iter__(self) -> Iterator[Span]:
        return iter(self.spans)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(other) == len(self) and all(a == b for a, b in zip(self, other))

    def __repr__(self) -> str:
        return f"LazySpans({self._n} spans, {'computed' if self._spans is not None else 'not computed yet'})"


class TokenSeq:
    """The result of ``encode``.

    ids: text (T,), image (T,) or (H, W), audio (K, T) -- an int64 numpy array.
    spans: one Span per token, in ``ids.ravel()`` order (audio: one per frame, shared by the K
           codebooks of that frame); a list of Span or a SpanTable.
    meta: what the tokenizer did to the input (``input_type``, resizing, resampling,
          ``lossless`` and where it is not, ...).

    A fast path may hand over its ids as a plain list of ints; they become the int64 array on
    first use of ``ids`` (like ``LazySpans``, so short texts do not pay for arrays nobody reads).
    """

    __slots__ = ("_ids", "spans", "modality", "tokenizer", "meta")

    def __init__(self, ids: np.ndarray | list[int], spans: Sequence[Span], modality: str, tokenizer: str,
                 meta: dict[str, Any] | None = None):
        if type(ids) is not list and (type(ids) is not np.ndarray or ids.dtype != np.int64):
            ids = np.asarray(ids, dtype=np.int64)
        self._ids = ids
        self.spans = spans
        self.modality = modality
        self.tokenizer = tokenizer
        self.meta = {} if meta is None else meta

    @property
    def ids(self) -> np.ndarray:
        ids = self._ids
        if type(ids) is list:
            ids = self._ids = np.array(ids, dtype=np.int64)
        return ids

    @ids.setter
    def ids(self, value: np.ndarray) -> None:
        self._ids = np.asarray(value, dtype=np.int64)

    def __len__(self) -> int:
        ids = self._ids
        return len(ids) if type(ids) is list else int(ids.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenSeq):
            return NotImplemented
        return (self.modality == other.modality and self.tokenizer == other.tokenizer
                and np.array_equal(self.ids, other.ids) and list(self.spans) == list(other.spans)
                and self.meta == other.meta)

    def __repr__(self) -> str:
        return (f"TokenSeq(tokenizer={self.tokenizer!r}, modality={self.modality!r}, shape={tuple(self.ids.shape)}, "
                f"spans={len(self.spans)}, meta keys={sorted(self.meta)})")

    @property
    def lossless(self) -> bool:
        return bool(self.meta.get("lossless", True))

    def tolist(self) -> list:
        return list(self._ids) if type(self._ids) is list else self._ids.tolist()

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokenizer": self.tokenizer,
            "modality": self.modality,
            "shape": list(self.ids.shape),
            "ids": self.ids.tolist(),
            "spans": [s.to_dict() for s in self.spans],
            "meta": _jsonable(self.meta),
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return repr(x)


@runtime_checkable
class Tokenizer(Protocol):
    """What every tokenizer has."""

    name: str  # the registry name, e.g. "text/bytes"
    modality: str  # one of MODALITIES

    @property
    def vocab_size(self) -> int: ...

    def encode(self, x: Any) -> TokenSeq: ...

    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> Any: ...


# ---- optional capabilities ---------------------------------------------------------------


@runtime_checkable
class HasCodebook(Protocol):
    def codebook(self) -> np.ndarray:  # (V, D)
        ...


@runtime_checkable
class HasAttention(Protocol):
    def attention(self, x: Any) -> Any: ...


@runtime_checkable
class RendersTokens(Protocol):
    def render_token(self, i: int) -> Any:  # str for text, image patch, or a sound
        ...


@runtime_checkable
class Trainable(Protocol):
    def train(self, *args: Any, **kwargs: Any) -> Any: ...


@runtime_checkable
class Saveable(Protocol):
    def save(self, folder: Any) -> Any: ...


CAPABILITIES: dict[str, type] = {
    "codebook": HasCodebook,
    "attention": HasAttention,
    "render_token": RendersTokens,
    "train": Trainable,
    "save": Saveable,
}


def capabilities(tok: Any) -> set[str]:
    """The optional capabilities ``tok`` has, e.g. ``{"render_token", "save"}``."""
    return {name for name, proto in CAPABILITIES.items() if isinstance(tok, proto)}


# ---- helpers shared by tokenizers ---------------------------------------------------------


def ids_of(seq: TokenSeq | Sequence[int] | np.ndarray | Iterable[int]) -> np.ndarray:
    """The ids of a TokenSeq, list or array, as int64 (no copy when already int64)."""
    if isinstance(seq, TokenSeq):
        return seq.ids
    try:
        arr = np.asarray(list(seq) if not isinstance(seq, np.ndarray) else seq)
    except TypeError as e:
        raise InvalidIds(
            f"expected a TokenSeq or a sequence of integer ids, got {type(seq).__name__}"
        ) from e
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidIds(f"token ids must be integers, got values of type {arr.dtype}")
    return arr.astype(np.int64)


def check_ids(ids: np.ndarray, vocab_size: int, tokenizer: str) -> None:
    """Raise InvalidIds naming the first id outside ``[0, vocab_size)``."""
    if ids.size == 0:
        return
    bad = (ids < 0) | (ids >= vocab_size)
    if bad.any():
        pos = int(np.flatnonzero(bad.ravel())[0])
        raise InvalidIds(
            f"{tokenizer} cannot decode id {int(ids.ravel()[pos])} at position {pos}: "
            f"valid ids are 0..{vocab_size - 1} ({int(bad.sum())} invalid id(s) in all)"
        )


def keep_first(ids: np.ndarray, keep: int | None, tokenizer: str) -> np.ndarray:
    """Apply ``keep=k`` for 1D sequences: the first k tokens (k >= 0)."""
    if keep is None:
        return ids
    if isinstance(keep, bool) or not isinstance(keep, (int, np.integer)) or keep < 0:
        raise InvalidIds(f"{tokenizer}: keep must be a non-negative integer or None, got {keep!r}")
    return ids[: int(keep)]
