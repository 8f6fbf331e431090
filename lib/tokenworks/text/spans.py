"""Exact text spans from token byte lengths, with nothing per token in Python.

Byte-level tokens tile the UTF-8 bytes of the text in order, so one running sum of their byte
lengths gives every byte span. Character spans need a byte -> character map only when the text
is not ASCII (``str.isascii`` is free in CPython): a byte starts a character unless it is a
UTF-8 continuation byte (``10xxxxxx``, -64 > byte as int8), and the running count of character
starts maps any byte offset to the character that holds it.

Short texts are the hot path (a few dozen tokens, where each numpy call costs about as much as
its data), so the calls are few: ``np.add.accumulate`` (half the overhead of ``np.cumsum``) and
``SpanTable.of_columns`` (no re-checks of arrays made here).
"""
from __future__ import annotations

import numpy as np

from ..core import SpanTable


def spans_from_lengths(text: str, lengths: np.ndarray, nonempty: bool = False) -> SpanTable:
    """Exact spans for tokens that tile the UTF-8 bytes of ``text`` in order.

    ``lengths`` (T,) are the byte lengths of the tokens; their sum must be the byte length of
    ``text`` (lone surrogates count 3 bytes, as ``surrogatepass`` writes them). A token's
    characters are those its bytes touch; it is ``partial`` when either end falls inside a
    character; a token of no bytes names the character at its place. ``nonempty=True`` promises
    that every length is at least 1 (a vocabulary's tokens), which saves a step. Raises
    ValueError when the lengths (any) do not tile the text.
    """
    lengths = np.asarray(lengths, dtype=np.int64)  # (T,)
    bend = np.add.accumulate(lengths)  # (T,)
    bstart = bend - lengths  # (T,)
    if text.isascii():  # one byte per character: character spans are the byte spans
        _check_tiling(bend, len(text))
        cend = bend if nonempty else bstart + np.maximum(lengths, 1)  # (T,)
        return SpanTable.of_columns(bstart, cend, bstart, bend, np.zeros(len(bend), dtype=bool))
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.int8)  # (B,)
    n = len(data)
    _check_tiling(bend, n)
    starts = np.empty(n + 1, dtype=bool)  # (B + 1,) a character starts at this byte (or the text ends)
    np.greater_equal(data, -64, out=starts[:n])  # continuation bytes 0x80..0xBF are -128..-65
    starts[n] = True
    count = np.int32 if n < 2**31 - 1 else np.int64
    before = np.empty(n + 1, dtype=count)  # (B + 1,) characters that start before each byte offset
    before[0] = 0
    np.add.accumulate(starts[:n], dtype=count, out=before[1:])
    first = starts[bstart]  # (T,) the token starts a character
    cstart = (before[bstart] + first - 1).astype(np.int64)  # (T,) the character holding the first byte
    cend = before[bend].astype(np.int64)  # (T,) one past the character holding the last byte
    if not nonempty:
        np.maximum(cend, cstart + 1, out=cend)
    partial = ~(first & starts[bend])  # (T,) an end inside a character
    return SpanTable.of_columns(cstart, cend, bstart, bend, partial)


def _check_tiling(bend: np.ndarray, nbytes: int) -> None:
    if len(bend) and bend[-1] != nbytes:
        raise ValueError(f"token bytes ({int(bend[-1])}) do not tile the text ({nbytes} bytes)")
