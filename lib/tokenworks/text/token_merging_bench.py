"""How far token merging moves MiniLM's sentence embedding: ToMe, PiToMe and random dropping,
on held-out English sentences, against tokens removed.

Sentences: Jane Austen's *Persuasion*, the held-out novel of the ``austen`` corpus
(``tokenworks.text.corpora``; asset ``janeaustenr``, in the minimal set): the text from its first
chapter on, cut into sentences, and the first ``n`` of 12 to 40 words, in the novel's order.
The set is fixed: the same sentences every run.

    curve = merge_curve(held_out_sentences(16), rs=(0, 1, 2, 4))
    curve.cosine[curve.methods.index("pitome")]     # (R,) mean cosine at each r
    rows = token_merging_rows(quick=True)           # bench rows (``make bench``)

FAST (``TOKENWORKS_FAST=1`` or a quick bench): 8 sentences, r in 1, 2, 4, 8 per layer.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..bench.harness import BenchContext, Row
from ..errors import AssetMissing
from .token_merging import LABELS, METHODS, SEED, embedding_of, load_minilm, reference_embedding, run_merged

SOURCE = "Persuasion (Jane Austen; the held-out novel of the austen corpus)"
MIN_WORDS, MAX_WORDS = 12, 40
FAST_SENTENCES, FULL_SENTENCES = 8, 48
FAST_RS, FULL_RS = (1, 2, 4, 8), (1, 2, 3, 4, 6, 8, 10)


@dataclass
class MergeCurve:
    """Mean cosine to the unmerged embedding, per method and merges per layer. M methods, R values of r."""

    methods: tuple[str, ...]
    rs: tuple[int, ...]  # merges asked per layer
    cosine: np.ndarray  # (M, R) mean over sentences
    removed: np.ndarray  # (M, R) mean tokens removed per sentence (the same for every method)
    tokens: float  # mean tokens per sentence ([CLS] and [SEP] included)
    sentences: int
    source: str = SOURCE
    seed: int = SEED

    def at(self, method: str, r: int) -> float:
        return float(self.cosine[self.methods.index(method), self.rs.index(r)])


def fast() -> bool:
    return os.environ.get("TOKENWORKS_FAST", "0") == "1"


@lru_cache(maxsize=4)
def held_out_sentences(n: int) -> tuple[str, ...]:
    """The first ``n`` sentences of 12 to 40 words of *Persuasion* (raises AssetMissing without it)."""
    from .corpora import load_corpus

    docs = load_corpus("austen", "test").documents
    start = next((i for i, d in enumerate(docs) if d.strip().startswith("Chapter 1")), 0)
    text = re.sub(r"\s+", " ", " ".join(docs[start + 1:]))
    out = []
    for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text):
        if MIN_WORDS <= len(s.split()) <= MAX_WORDS and "Chapter" not in s:
            out.append(s.strip())
            if len(out) == n:
                break
    return tuple(out)


def merge_curve(sentences, rs=FULL_RS, methods=METHODS, seed: int = SEED) -> MergeCurve:
    """Every method at every r over ``sentences`` (r = 0 is the unmerged model: cosine 1)."""
    from .attention import attention_map

    model = load_minilm()
    cos = np.zeros((len(methods), len(rs)))
    removed = np.zeros((len(methods), len(rs)))
    tokens = 0
    for s in sentences:
        ids = [t.id for t in attention_map(s).tokens]
        tokens += len(ids)
        ref = reference_embedding(model, ids)
        for i, method in enumerate(methods):
            for j, r in enumerate(rs):
                x, sizes, steps = run_merged(model, ids, method, r, seed)
                cos[i, j] += float(embedding_of(x, sizes) @ ref)
                removed[i, j] += sum(st.removed for st in steps)
    n = max(len(sentences), 1)
    return MergeCurve(methods=tuple(methods), rs=tuple(rs), cosine=cos / n, removed=removed / n,
                      tokens=tokens / n, sentences=len(sentences), seed=seed)


def token_merging_rows(quick: bool) -> list[Row]:
    """Bench rows: each method's mean cosine at each r, against random dropping at the same r."""
    small = quick or fast()
    try:
        sentences = held_out_sentences(FAST_SENTENCES if small else FULL_SENTENCES)
    except AssetMissing as e:
        return [Row("lm", "token merging in MiniLM", float("nan"), "cosine", "random dropping", float("nan"),
                    float("nan"), str(e))]
    c = merge_curve(sentences, FAST_RS if small else FULL_RS)
    rows = []
    for j, r in enumerate(c.rs):
        base = c.at("random", r)
        share = f"{c.removed[0, j]:.1f} of {c.tokens:.1f} tokens removed on average"
        for method in c.methods:
            value = c.at(method, r)
            anchor, anchor_value = ("unmerged model", 1.0) if method == "random" else ("random dropping, same r", base)
            rows.append(Row("lm", f"MiniLM {LABELS[method]}, r={r} per layer: cosine to the unmerged embedding",
                            value, "cosine", anchor, anchor_value, value / anchor_value,
                            f"{share}; {c.sentences} held-out sentences of {c.source}; seed {c.seed}"))
    return rows


def bench_token_merging(ctx: BenchContext) -> None:
    """ToMe / PiToMe / random dropping in MiniLM: the cosine table (see ``token_merging_rows``)."""
    ctx.rows.extend(token_merging_rows(ctx.quick))
