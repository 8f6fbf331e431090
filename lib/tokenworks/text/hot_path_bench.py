"""Bench rows for the text hot path: ``tok.encode(text)`` of an OpenAI vocabulary against raw
tiktoken, ids only and with the spans read, on long documents and on 100-byte documents.

Text: the held-out splits of the offline corpora (``tokenworks.text.corpora``: Shakespeare,
Austen, standard-library code), whole documents in that order until 1.25 MB (125 kB quick).
The 100-byte documents are the same text cut every 100 UTF-8 bytes (moved back to the start of
a character). Every candidate and the anchor run once per round, rounds alternate, and each
reports its median, so a busy shared machine slows them alike.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

from ..bench.harness import Row
from ..errors import AssetMissing, InvalidInput

HOT_PATH_BYTES = 1_250_000
SHORT_DOC_BYTES = 100
# (vocabulary, documents label) -> (ids only target, with spans target); ratios to raw tiktoken
TARGETS = {
    ("cl100k_base", "long documents"): (1.5, 1.0),
    ("cl100k_base", "100-byte documents"): (1.0, 0.8),
}


@dataclass(frozen=True)
class HotPathText:
    long: list[str]  # whole held-out documents
    short: list[str]  # the same text in 100-byte documents
    label: str  # where the text comes from


def held_out_documents(limit_bytes: int) -> tuple[list[str], str]:
    """Whole held-out documents of the text corpora, in a fixed order, until ``limit_bytes``
    (the last one cut to fit); corpora whose asset is not fetched are left out and named."""
    from .corpora import load_corpus

    docs: list[str] = []
    used, missing, size = [], [], 0
    for name in ("shakespeare", "austen", "stdlib"):
        if size >= limit_bytes:
            break
        try:
            corpus = load_corpus(name, "test")
        except (AssetMissing, InvalidInput):
            missing.append(name)
            continue
        used.append(name)
        for doc in corpus.documents:
            n = len(doc.encode("utf-8"))
            if size + n > limit_bytes:
                doc = doc.encode("utf-8")[: limit_bytes - size].decode("utf-8", "ignore")
                n = len(doc.encode("utf-8"))
            docs.append(doc)
            size += n
            if size >= limit_bytes:
                break
    label = f"{size / 1e6:.2f} MB held-out text ({', '.join(used)})"
    if missing:
        label += f"; not fetched: {', '.join(missing)}"
    return docs, label


def cut_every(text: str, nbytes: int) -> list[str]:
    """``text`` in pieces of ``nbytes`` UTF-8 bytes, each cut moved back to a character start."""
    data = text.encode("utf-8")
    out, start = [], 0
    while start < len(data):
        end = min(start + nbytes, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte: back to the character
            end -= 1
        out.append(data[start:end].decode("utf-8"))
        start = end
    return out


def hot_path_text(quick: bool) -> HotPathText:
    docs, label = held_out_documents(HOT_PATH_BYTES // (10 if quick else 1))
    return HotPathText(long=docs, short=cut_every("".join(docs), SHORT_DOC_BYTES), label=label)


def paired_medians(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median wall time (s) of each function; one warm-up each, then ``rounds`` rounds that run
    every function once, in turn."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _verdict(ratio: float, target: float | None) -> str:
    if target is None:
        return "no target"
    return f"target >= {target:g}x: {'met' if ratio >= target else 'missed'}"


def hot_path_rows(quick: bool, repeats: int, vocabs: tuple[str, ...] = ("cl100k_base", "o200k_base")) -> list[Row]:
    """Four rows per vocabulary: ids only / ids with spans read, long / 100-byte documents."""
    from .. import registry

    text = hot_path_text(quick)
    rows = []
    for vocab in vocabs:
        tok = registry.load_shared(f"text/{vocab}")
        raw = tok.encoding  # tiktoken's Encoding, called directly
        engine = getattr(tok, "engine_name", "tiktoken")
        for label, docs in (("long documents", text.long), ("100-byte documents", text.short)):
            mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6

            def spans_read(docs=docs) -> None:
                for d in docs:
                    seq = tok.encode(d)
                    seq.ids
                    seq.spans[0]

            t = paired_medians({
                "raw": lambda docs=docs: [raw.encode_ordinary(d) for d in docs],
                "ids": lambda docs=docs: [tok.encode(d).ids for d in docs],
                "spans": spans_read,
            }, max(3, 2 * repeats + 1))
            targets = TARGETS.get((vocab, label), (None, None))
            for what, key, target in (("ids only", "ids", targets[0]), ("ids with spans read", "spans", targets[1])):
                ratio = t["raw"] / t[key]
                rows.append(Row("text", f"hot path: text/{vocab} {what}, {label}", mb / t[key], "MB/s",
                                "tiktoken encode_ordinary", mb / t["raw"], ratio,
                                f"{_verdict(ratio, target)}; ids engine {engine}; {len(docs):,} documents of "
                                f"{text.label}; ids read as int64 numpy"
                                + ("; spans[0] read (the whole span table is built)" if key == "spans" else "")))
    return rows
