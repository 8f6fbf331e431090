"""Text for the tokenizer tournament: corpora held out by document, encoded for a tiny model.

Every contestant (a tokenizer) sees the same documents; a model trained on the ``train`` split is
scored in bits per byte on the ``test`` split, so only lossless byte-level tokenizers may enter.

    from tokenworks.lm.tiny.data import load_text, encode_split
    import tokenworks as tw

    train = load_text("multilingual", "train", limit_bytes=2_000_000)   # TextSplit
    train.nbytes, train.data_hash, train.bytes_by_source()               # 364488, "cb0463ecc2f47426", {"udhr:hin": 20118, ...}
    enc = encode_split(tw.load("text/bytes"), train)                     # EncodedSplit
    enc.ids[:3], enc.sep_id, enc.vocab_size                              # [256, 78, 79], 256, 257
    enc.document(0)                                                      # (16,) ids of document 0 ("NORTHANGER ABBEY")

The corpora (``CORPORA``):

    english       Jane Austen (``load_corpus("austen")``): one document per chapter-sized block;
                  *Persuasion* is the test split. The novels are interleaved, so a capped split
                  still holds every train novel.
    multilingual  three thirds by bytes: the UDHR in ``UDHR_LANGUAGES`` (a document is one article
                  of one language; articles ``HELD_OUT_ARTICLES`` are the test split in every
                  language), Austen (split as above) and Python's documentation prose
                  (``load_corpus("pydocs")``, its own split), each English source capped at the
                  UDHR's bytes. The UDHR is small (~12 kB a language, 36 languages in 16 scripts), so the
                  whole train split is ~1.3 MB and the test split ~0.14 MB whatever ``limit_bytes`` says.

Splits are by whole documents, never cutting one in two. ``limit_bytes`` keeps documents in a
fixed order that interleaves the sources by bytes (next comes the source that will then have
given the fewest bytes), skipping a document that no longer fits, so a small cap keeps every source,
novel and language in about equal shares.

Symbols: D documents, N ids (tokens plus one separator per document).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ...errors import InvalidInput

CORPORA = ("english", "multilingual")
SPLITS = ("train", "test")
# the UDHR variants of the multilingual corpus (codes of tokenworks.text.udhr), twelve scripts and
# spelling systems: Latin (with and without diacritics), Cyrillic, Arabic, Devanagari, Han, kana, Hangul
UDHR_LANGUAGES = ("eng", "deu_1996", "fra", "spa", "tur", "vie", "rus", "arb", "hin", "cmn_hans", "jpn", "kor",
                  "por_PT", "ita", "nld", "pol", "ukr", "ell_monotonic", "heb", "pes_1", "tha", "ind", "swh", "tam",
                  "ben", "fin", "hun", "ces", "swe", "urd", "tel", "amh", "kat", "hye", "yor", "tgl")
HELD_OUT_ARTICLES = (3, 13, 23)  # UDHR articles in the test split, in every language (3 of 30)

_Doc = tuple[str, str, int]  # (source, text, UTF-8 bytes)


@dataclass
class TextSplit:
    """One split of a tournament corpus: whole documents and where each came from."""

    corpus: str  # one of CORPORA
    split: str  # "train" | "test"
    documents: list[str]
    sources: list[str]  # one per document: "udhr:deu_1996#12", "austen:emma#3", "pydocs:topic:assert"

    @property
    def nbytes(self) -> int:
        """UTF-8 bytes of all documents (what bits per byte divides by)."""
        return sum(len(d.encode("utf-8")) for d in self.documents)

    @property
    def data_hash(self) -> str:
        """sha256 over the documents (each followed by a NUL), 16 hex digits: for checkpoints."""
        h = hashlib.sha256()
        for d in self.documents:
            h.update(d.encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()[:16]

    def bytes_by_source(self) -> dict[str, int]:
        """UTF-8 bytes per source group: "udhr:<language>", "austen", "pydocs"."""
        out: dict[str, int] = {}
        for src, d in zip(self.sources, self.documents):
            key = src.split("#")[0] if src.startswith("udhr:") else src.split(":")[0]
            out[key] = out.get(key, 0) + len(d.encode("utf-8"))
        return out


# ---- reading the sources ----------------------------------------------------------------------


def _doc(source: str, text: str) -> _Doc:
    return source, text, len(text.encode("utf-8"))


@lru_cache(maxsize=4)
def _corpus_docs(name: str, split: str) -> tuple[_Doc, ...]:
    from ...text.corpora import load_corpus

    c = load_corpus(name, split)
    return tuple(_doc(f"{name}:{s}", d) for s, d in zip(c.sources, c.documents))


def _streams(docs: Sequence[_Doc], key) -> list[list[_Doc]]:
    """``docs`` grouped by ``key(source)``, groups in order of first appearance."""
    groups: dict[str, list[_Doc]] = {}
    for d in docs:
        groups.setdefault(key(d[0]), []).append(d)
    return list(groups.values())


def _interleave(streams: Sequence[Sequence[_Doc]]) -> list[_Doc]:
    """All documents, each stream in its own order; the next document comes from the stream that
    would have given the fewest bytes once it is taken (ties: the earlier stream), so shares stay
    even at any cap however large a stream's documents are."""
    pos = [0] * len(streams)
    given = [0] * len(streams)
    out = []
    while True:
        live = [i for i, s in enumerate(streams) if pos[i] < len(s)]
        if not live:
            return out
        i = min(live, key=lambda k: (given[k] + streams[k][pos[k]][2], k))
        d = streams[i][pos[i]]
        out.append(d)
        pos[i] += 1
        given[i] += d[2]


def _fill(docs: Sequence[_Doc], limit: int | None) -> list[_Doc]:
    """Documents in order while they fit in ``limit`` bytes; one that does not fit is skipped."""
    if limit is None:
        return list(docs)
    out, size = [], 0
    for d in docs:
        if size + d[2] <= limit:
            out.append(d)
            size += d[2]
    return out


def _austen(split: str) -> list[_Doc]:
    return _interleave(_streams(_corpus_docs("austen", split), lambda s: s.split("#")[0]))  # a stream per novel


def _pydocs(split: str) -> list[_Doc]:
    # two streams: the reference's topics, the standard library's docstrings
    return _interleave(_streams(_corpus_docs("pydocs", split), lambda s: str(s.startswith("pydocs:topic:"))))


@lru_cache(maxsize=2)
def _udhr(split: str) -> tuple[_Doc, ...]:
    """Article-major (article 1 in every language, then article 2 ...), so a cap keeps every language."""
    from ...text.udhr import load_udhr

    udhr = load_udhr(families=False)
    missing = [c for c in UDHR_LANGUAGES if c not in udhr]
    if missing:
        raise InvalidInput(f"the UDHR asset has no declaration {missing}; UDHR_LANGUAGES must be codes of "
                           f"tokenworks.text.udhr.load_udhr(), e.g. eng, deu_1996, cmn_hans")
    numbers = sorted({n for c in UDHR_LANGUAGES for n in udhr[c].articles})
    out = []
    for n in numbers:
        if (n in HELD_OUT_ARTICLES) != (split == "test"):
            continue
        for c in UDHR_LANGUAGES:
            text = udhr[c].articles.get(n, "")
            if text.strip():
                out.append(_doc(f"udhr:{c}#{n}", text))
    return tuple(out)


def _ordered(corpus: str, split: str) -> list[_Doc]:
    """Every document of the split, in the order ``limit_bytes`` takes them."""
    if corpus == "english":
        return _austen(split)
    udhr = list(_udhr(split))
    third = sum(d[2] for d in udhr)  # each English source gets at most the UDHR's bytes
    return _interleave([udhr, _fill(_austen(split), third), _fill(_pydocs(split), third)])


def load_text(corpus: str, split: str, limit_bytes: int | None = None) -> TextSplit:
    """The ``split`` ("train" | "test") of tournament corpus ``corpus``, at most ``limit_bytes``
    UTF-8 bytes of whole documents (None: all of it)."""
    if corpus not in CORPORA:
        raise InvalidInput(f"unknown tournament corpus {corpus!r}; choose one of {', '.join(CORPORA)}")
    if split not in SPLITS:
        raise InvalidInput(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if limit_bytes is not None and (isinstance(limit_bytes, bool) or not isinstance(limit_bytes, int)
                                    or limit_bytes <= 0):
        raise InvalidInput(f"limit_bytes must be a positive integer or None (no cap), got {limit_bytes!r}")
    ordered = _ordered(corpus, split)
    docs = _fill(ordered, limit_bytes)
    if not docs:
        smallest = min(d[2] for d in ordered)
        raise InvalidInput(f"limit_bytes={limit_bytes} holds no whole document of {corpus} ({split}); "
                           f"its smallest document has {smallest} bytes")
    return TextSplit(corpus=corpus, split=split, documents=[d[1] for d in docs], sources=[d[0] for d in docs])


# ---- losslessness ----------------------------------------------------------------------------


def _require_byte_level(tokenizer: Any) -> None:
    """InvalidInput unless the tokenizer's tokens are exact bytes (text/bytes, byte-level BPE/Unigram)."""
    from ...lm.vocab import vocab_for
    from ...text.bytes import ByteTokenizer

    if isinstance(tokenizer, ByteTokenizer):
        return
    name = getattr(tokenizer, "name", type(tokenizer).__name__)
    try:
        vocab_for(tokenizer)
    except InvalidInput as e:
        why = ""
        if hasattr(tokenizer, "_lossy_reason"):  # HFTokenizer knows how it loses text
            why = f" ({tokenizer._lossy_reason(np.zeros(0, dtype=np.int64))})"
        raise InvalidInput(
            f"{name} cannot enter the tournament: its bits per byte are undefined{why}. {e}. "
            "Contestants must be lossless byte-level tokenizers: text/bytes, or kinds bpe, superbpe, unigram of "
            "tokenworks.lm.tiny.tokenizers.train_contestant_tokenizer") from None


def _mismatch(tokenizer: Any, text: str, ids: np.ndarray, index: int) -> str | None:
    """Why ``ids`` do not decode to ``text`` (None when they do)."""
    from ...errors import TokenworksError

    try:
        back = tokenizer.decode(ids)
    except TokenworksError as e:  # ids with no bytes (a token the vocabulary cannot spell)
        return f"document {index} does not decode: {e}"
    if isinstance(back, bytes):
        back = back.decode("utf-8", "replace")
    if back == text:
        return None
    k = next((i for i, (a, b) in enumerate(zip(text, back)) if a != b), min(len(text), len(back)))
    return (f"document {index}, character {k}: {text[k:k + 24]!r} comes back as {back[k:k + 24]!r}")


def _lossy(tokenizer: Any, where: str) -> InvalidInput:
    name = getattr(tokenizer, "name", type(tokenizer).__name__)
    return InvalidInput(
        f"{name} does not reproduce its input exactly ({where}), so its bits per byte are undefined: a model over "
        "it would be scored on different text than the bytes it is divided by. Contestants must round-trip every "
        "document: text/bytes, or kinds bpe, superbpe, unigram of tokenworks.lm.tiny.tokenizers")


def check_lossless(tokenizer: Any, texts: Sequence[str]) -> None:
    """Refuse (InvalidInput) a tokenizer that is not byte-level or whose decode(encode(x)) != x on ``texts``."""
    _require_byte_level(tokenizer)
    for i, t in enumerate(texts):
        where = _mismatch(tokenizer, t, np.asarray(tokenizer.encode(t).ids, dtype=np.int64), i)
        if where is not None:
            raise _lossy(tokenizer, where)


# ---- encoding --------------------------------------------------------------------------------


@dataclass
class EncodedSplit:
    """A split as one id stream: every document preceded by the separator ``sep_id``."""

    corpus: str
    split: str
    tokenizer: str  # the tokenizer's name
    data_hash: str  # TextSplit.data_hash of the documents
    ids: np.ndarray  # (N,) int64: [sep, doc 0 ..., sep, doc 1 ..., ...]
    doc_starts: np.ndarray  # (D,) int64: position in ids of each document's separator
    n_bytes: int  # UTF-8 bytes of the documents
    n_tokens: int  # tokens, separators not counted (N - D)
    vocab_size: int  # the model's vocabulary: the tokenizer's V plus the separator
    sep_id: int  # the tokenizer's V: an id no token uses

    @property
    def bytes_per_token(self) -> float:
        return self.n_bytes / max(self.n_tokens, 1)

    @property
    def n_documents(self) -> int:
        return len(self.doc_starts)

    def document(self, i: int) -> np.ndarray:
        """(T_i,) ids of document ``i``, its separator left out."""
        if not -self.n_documents <= i < self.n_documents:
            raise InvalidInput(f"document {i} does not exist; this split has {self.n_documents} (0..{self.n_documents - 1})")
        i %= self.n_documents
        end = self.doc_starts[i + 1] if i + 1 < self.n_documents else len(self.ids)
        return self.ids[self.doc_starts[i] + 1:end]


def _encode_all(tokenizer: Any, docs: list[str]) -> list[np.ndarray]:
    """Ids of every document, in a batch where the tokenizer has one."""
    from ...text.bytes import ByteTokenizer
    from ...text.hf import HFTokenizer

    if isinstance(tokenizer, ByteTokenizer):
        return [np.frombuffer(d.encode("utf-8"), dtype=np.uint8).astype(np.int64) for d in docs]
    if isinstance(tokenizer, HFTokenizer):  # Rust, in parallel
        return [np.asarray(e.ids, dtype=np.int64) for e in tokenizer.hf.encode_batch(docs, add_special_tokens=False)]
    return [np.asarray(tokenizer.encode(d).ids, dtype=np.int64) for d in docs]


def encode_split(tokenizer: Any, split: TextSplit) -> EncodedSplit:
    """Encode every document of ``split``; InvalidInput if the tokenizer is not lossless on them."""
    _require_byte_level(tokenizer)
    per_doc = _encode_all(tokenizer, split.documents)
    for i, (d, ids) in enumerate(zip(split.documents, per_doc)):
        where = _mismatch(tokenizer, d, ids, i)
        if where is not None:
            raise _lossy(tokenizer, where)
    v = int(tokenizer.vocab_size)
    lengths = np.array([len(x) + 1 for x in per_doc], dtype=np.int64)  # (D,) separator + tokens
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)  # (D,)
    ids = np.empty(int(lengths.sum()), dtype=np.int64)  # (N,)
    for s, x in zip(starts.tolist(), per_doc):
        ids[s] = v
        ids[s + 1:s + 1 + len(x)] = x
    return EncodedSplit(corpus=split.corpus, split=split.split, tokenizer=getattr(tokenizer, "name", ""),
                        data_hash=split.data_hash, ids=ids, doc_starts=starts, n_bytes=split.nbytes,
                        n_tokens=int(len(ids) - len(per_doc)), vocab_size=v + 1, sep_id=v)
