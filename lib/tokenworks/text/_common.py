"""Small helpers shared by the text tokenizers: input checks, offsets, lone surrogates."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

_SURROGATE = re.compile("[\ud800-\udfff]")


SURROGATE_NOTE = ("surrogates cannot be written in UTF-8: pairs written as two code units were joined, "
                  "lone ones replaced by U+FFFD (as tiktoken does)")


@dataclass(frozen=True)
class TextInput:
    """Text ready for a byte-level tokenizer, and what was done to get it."""

    text: str  # the text that is tokenized (surrogates joined or replaced)
    data: bytes  # its UTF-8 bytes (or the raw input bytes)
    input_type: str  # "str" or "bytes"
    replaced: tuple[int, ...]  # char offsets (in the input) of surrogates: lone ones became U+FFFD, pairs were joined


def as_text_input(x: object, tokenizer: str) -> TextInput:
    """Accept str or bytes; surrogates are treated as tiktoken treats them (pairs joined, lone
    ones replaced by U+FFFD), so the text differs from the input and ``replaced`` says where."""
    if isinstance(x, (bytes, bytearray, memoryview)):
        data = bytes(x)
        return TextInput(text=data.decode("utf-8", "replace"), data=data, input_type="bytes", replaced=())
    if not isinstance(x, str):
        raise InvalidInput(f"{tokenizer} encodes text: give a str or bytes, not {type(x).__name__}")
    try:
        return TextInput(text=x, data=x.encode("utf-8"), input_type="str", replaced=())
    except UnicodeEncodeError:  # only surrogates make UTF-8 encoding fail
        # as tiktoken does: a high + low surrogate written as two code units joins into the
        # character they encode; every other (lone) surrogate becomes U+FFFD
        replaced = tuple(m.start() for m in _SURROGATE.finditer(x))
        x = x.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return TextInput(text=x, data=x.encode("utf-8"), input_type="str", replaced=replaced)


def wants_bytes(seq: object) -> bool:
    """True when ``seq`` came from bytes input, so decode should give bytes back."""
    from ..core import TokenSeq

    return isinstance(seq, TokenSeq) and seq.meta.get("input_type") == "bytes"


def as_output(seq: object, data: bytes, errors: str = "replace") -> str | bytes:
    """What ``decode`` returns: the bytes themselves for bytes input, else UTF-8 text."""
    return data if wants_bytes(seq) else data.decode("utf-8", errors)


def utf8_offsets(text: str) -> np.ndarray:
    """Byte offset of every character boundary: (N + 1,) with offsets[i] = bytes before char i.

    Lone surrogates count 3 bytes, as UTF-8 with ``surrogatepass`` would write them.
    """
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # (N,)
    width = 1 + (cp >= 0x80).astype(np.int64) + (cp >= 0x800) + (cp >= 0x10000)  # (N,)
    out = np.zeros(len(cp) + 1, dtype=np.int64)
    np.cumsum(width, out=out[1:])
    return out


def bytes_label(b: bytes) -> str:
    """A token's bytes as text: valid UTF-8 shown as characters, stray bytes as ``<0xNN>``."""
    out = []
    for ch in b.decode("utf-8", "surrogateescape"):
        o = ord(ch)
        out.append(f"<0x{o - 0xDC00:02X}>" if 0xDC80 <= o <= 0xDCFF else printable_piece(ch))
    return "".join(out)


def printable_piece(s: str) -> str:
    """How a token's text is shown: control and invisible characters as escapes."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch == " ":
            out.append("␣")
        elif ch == "\n":
            out.append("↵")
        elif ch == "\t":
            out.append("⇥")
        elif o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0 or 0xD800 <= o <= 0xDFFF:
            out.append(f"<U+{o:04X}>")
        else:
            out.append(ch)
    return "".join(out)
