"""Exact text spans from token byte lengths, with nothing per token in Python.

Byte-level tokens tile the UTF-8 bytes of the text in order, so one running sum of their byte
lengths gives every byte span. Character spans need a byte -> character map only when the text
is not ASCII (``str.isascii`` is free in CPython): a byte starts a character unless it is a
UTF-8 continuation byte (``10xxxxxx``, below -64 as int8), and the running count of character
starts maps any byte offset to the character that holds it.

Short texts are the hot path (a few dozen tokens, where each numpy call costs about as much as
its data), so the calls are few: ``np.add.accumulate`` (half the overhead of ``np.cumsum``) and
``SpanTable.of_columns`` (no re-checks of arrays made here).
"""
from __future__ import annotations

import numpy as np

from ..core import SpanTable

_SHORT_BYTES = 4096  # texts up to this many UTF-8 bytes count their characters in int64


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
    data = np.frombuffer((text + "\0").encode("utf-8", "surrogatepass"), dtype=np.int8)  # (B + 1,) a sentinel last
    n = len(data) - 1
    _check_tiling(bend, n)
    starts = data >= -64  # (B + 1,) a character starts at this byte (the sentinel: where the text ends)
    # (B + 1,) characters begun up to and with each byte. Short texts: int64 throughout (there
    # numpy's casts cost more than the data); long ones: int32, which accumulates from bool 7x faster
    if n < _SHORT_BYTES or n >= 2**31 - 1:
        count = np.add.accumulate(starts.astype(np.int64))
    else:
        count = np.add.accumulate(starts, dtype=np.int32)
    cstart = (count[bstart] - 1).astype(np.int64, copy=False)  # (T,) the character holding the first byte
    if nonempty:
        cend = count[bend - 1].astype(np.int64, copy=False)  # (T,) one past the character holding the last byte
    else:  # a token of no bytes names the character at its place
        cend = np.where(lengths > 0, count[bend - 1], cstart + 1).astype(np.int64, copy=False)  # (T,)
    partial = ~(starts[bstart] & starts[bend])  # (T,) an end inside a character
    return SpanTable.of_columns(cstart, cend, bstart, bend, partial)


def _check_tiling(bend: np.ndarray, nbytes: int) -> None:
    if len(bend) and bend[-1] != nbytes:
        raise ValueError(f"token bytes ({int(bend[-1])}) do not tile the text ({nbytes} bytes)")
