"""Reading a corpus a person uploads, with a clear message for every way it can be wrong.

    from tokenworks.text.upload import read_corpus_upload, split_slices
    up = read_corpus_upload("corpus.txt")        # CorpusUpload: name, text, encoding, nbytes
    slices = split_slices(up.text, "lines", up.name)   # {"English": ["..."], "中文": ["..."]}

Accepted encodings (``ACCEPTED``): UTF-8 (with or without a byte-order mark), and UTF-16 or
UTF-32 *with* a byte-order mark. Anything else (Latin-1, cp1252, Shift-JIS, UTF-16 without a
BOM, a binary file) is refused with the byte offset where decoding failed; nothing is guessed,
so the numbers never describe text that was silently mangled.

Refused, each with an ``InvalidInput`` that says why and what is allowed:
- a file over ``max_bytes`` (50 MiB by default), checked from its size before it is read;
- an empty file, or one holding only whitespace;
- bytes that do not decode in an accepted encoding;
- (``split_slices``/``check_slices``) a slice with no text.
"""
from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import InvalidInput

MAX_UPLOAD_BYTES = 50 * 2**20  # 50 MiB
ACCEPTED = "UTF-8 (with or without a BOM), UTF-16 or UTF-32 with a BOM"
SPLITS = ("whole", "lines", "paragraphs")
_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32-LE (BOM)"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32-BE (BOM)"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 (BOM)"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16-LE (BOM)"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16-BE (BOM)"),
)


@dataclass
class CorpusUpload:
    name: str  # the file name without folders
    text: str  # decoded, BOM removed
    encoding: str  # "UTF-8", "UTF-8 (BOM)", "UTF-16-LE (BOM)", ...
    nbytes: int  # size of the file as uploaded


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def decode_corpus(data: bytes, name: str = "the file") -> tuple[str, str]:
    """(text, encoding label) of ``data``; InvalidInput naming the byte offset where decoding failed."""
    codec, label, skip = "utf-8", "UTF-8", 0
    for bom, c, lab in _BOMS:
        if data.startswith(bom):
            codec, label, skip = c, lab, len(bom)
            break
    body = data[skip:]
    nul = body.count(b"\x00") if skip == 0 else 0
    if nul > len(body) // 10:
        raise InvalidInput(f"{name} looks like UTF-16 or UTF-32 without a byte-order mark ({nul} NUL "
                           f"bytes in {len(body)}), or a binary file; accepted encodings: {ACCEPTED}. "
                           "Save it as UTF-8 and upload it again.")
    try:
        return body.decode(codec), label
    except UnicodeDecodeError as e:
        offset = skip + e.start
        bad = data[offset:offset + min(4, e.end - e.start)].hex(" ")
        line = data[:offset].count(b"\n") + 1
        raise InvalidInput(f"{name} is not valid {label}: decoding failed at byte offset {offset} (line {line}, "
                           f"bytes {bad}: {e.reason}). Accepted encodings: {ACCEPTED}. Convert it first, e.g. "
                           f"`iconv -f latin1 -t utf-8 in.txt > out.txt`.") from None


def read_corpus_upload(path: str | os.PathLike, max_bytes: int = MAX_UPLOAD_BYTES) -> CorpusUpload:
    """Read and decode an uploaded corpus file; the size is checked before a byte is read."""
    p = Path(path)
    name = p.name
    try:
        size = p.stat().st_size
    except OSError as e:
        raise InvalidInput(f"cannot read the upload {name}: {e.strerror or e}") from None
    if not p.is_file():
        raise InvalidInput(f"{name} is not a file; upload a text file")
    if size > max_bytes:
        raise InvalidInput(f"{name} is {_mb(size)} ({size:,} bytes); uploads are limited to {_mb(max_bytes)} "
                           f"({max_bytes:,} bytes). Upload a smaller sample of the corpus.")
    if size == 0:
        raise InvalidInput(f"{name} is empty (0 bytes): upload a text file with some text in it")
    with open(p, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we looked
        raise InvalidInput(f"{name} is over the upload limit of {_mb(max_bytes)} ({max_bytes:,} bytes)")
    text, encoding = decode_corpus(data, name)
    if not text.strip():
        raise InvalidInput(f"{name} holds no text ({size:,} bytes of whitespace only): the corpus is empty")
    return CorpusUpload(name=name, text=text, encoding=encoding, nbytes=size)


def _label(line: str) -> tuple[str, str] | None:
    """("English", "text ...") for a line "English: text ..." (ASCII or full-width colon)."""
    for sep in (":", "："):
        head, found, rest = line.partition(sep)
        if found and 0 < len(head.strip()) <= 40 and "\n" not in head:
            return head.strip(), rest.strip()
    return None


def split_slices(text: str, mode: str = "whole", name: str = "corpus") -> dict[str, list[str]]:
    """{slice name: [documents]} from a text.

    whole       one slice ``name``, one document
    lines       one slice per non-blank line; a line "Label: text" is the slice "Label" (the label
                is not measured), others are "line N"
    paragraphs  one slice ``name`` with one document per blank-line-separated paragraph
    Every slice must hold text (``check_slices``)."""
    if mode not in SPLITS:
        raise InvalidInput(f"split must be one of {', '.join(SPLITS)}, got {mode!r}")
    if mode == "whole":
        out = {name: [text]}
    elif mode == "paragraphs":
        out = {name: [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]}
    else:
        out = {}
        for k, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            lab = _label(line)
            key, body = lab if lab else (f"line {k}", line)
            if key in out:
                key = f"{key} (line {k})"
            out[key] = [body]
    return check_slices(out, where=name)


def check_slices(slices: Mapping[str, Iterable[str | bytes]], where: str = "the corpus") -> dict[str, list]:
    """The slices as lists; InvalidInput when there are none or one has no text."""
    out = {k: list(v) for k, v in slices.items()}
    if not out:
        raise InvalidInput(f"{where} has no text to measure: every line is blank")
    empty = [k for k, docs in out.items() if not any((d.strip() if isinstance(d, str) else d) for d in docs)]
    if empty:
        raise InvalidInput(f"{len(empty)} chosen slice(s) of {where} have no text: {', '.join(map(repr, empty[:10]))}"
                           ". Give each slice some text, or leave it out.")
    return out
