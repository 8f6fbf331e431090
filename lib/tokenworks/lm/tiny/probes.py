"""What each trained contestant is probed with after the tournament scores it.

    r = probe(loaded, heldout_docs)      # -> ProbeReport

- **Robustness** (TokSuite-style): bits per byte on the held-out text after each perturbation of
  ``perturb`` (typos, case, diacritics removed or added, Unicode look-alikes, doubled spaces),
  beside the same text clean. Each perturbed text is scored against its own bytes, so a change
  that adds bytes (a look-alike takes 2 bytes for 1) is not counted as a loss by itself.
- **Spelling** (CharBench-style): for word occurrences in the held-out text, is the text with the
  word spelled right more likely than with one letter swapped, doubled, dropped or changed
  (``spelling.spelling_pairs``)? The headline is the share right among the misspellings that keep
  the length (swapped or changed letters): 0.5 is chance. A doubled or dropped letter changes the
  bytes to pay for, so those pairs are shown apart (``by_edit``), not in the headline.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .load import LoadedTiny
from .perturb import PERTURBATIONS, perturb
from .spelling import spelling_pairs

SAME_LENGTH = ("swap", "vowel")  # misspellings with as many letters as the word


@dataclass
class RobustnessRow:
    kind: str  # a perturbation of PERTURBATIONS
    bits_per_byte: float  # on the perturbed text
    clean_bits_per_byte: float  # on the same text unchanged
    changed: int  # places changed
    eligible: int  # places the kind could change

    @property
    def ratio(self) -> float:
        return self.bits_per_byte / self.clean_bits_per_byte


@dataclass
class SpellingScore:
    accuracy: float  # share of same-length pairs (swap, vowel) where the right spelling costs fewer bits
    pairs: int  # same-length pairs
    by_edit: dict[str, float] = field(default_factory=dict)  # accuracy per kind of misspelling


@dataclass
class ProbeReport:
    robustness: list[RobustnessRow]
    spelling: SpellingScore | None  # None when the text held too few words


def _bpb(m: LoadedTiny, docs: list[str]) -> float:
    return float(m.bits(docs).sum()) / sum(len(d.encode("utf-8")) for d in docs)


def robustness(m: LoadedTiny, docs: list[str], kinds: tuple[str, ...] = PERTURBATIONS, seed: int = 0) -> list[RobustnessRow]:
    clean = _bpb(m, docs)
    rows = []
    for kind in kinds:
        ps = [perturb(d, kind, seed=seed) for d in docs]
        rows.append(RobustnessRow(kind, _bpb(m, [p.text for p in ps]), clean, sum(p.changed for p in ps),
                                  sum(p.eligible for p in ps)))
    return rows


def spelling(m: LoadedTiny, docs: list[str], n: int = 200, seed: int = 0) -> SpellingScore | None:
    from ...errors import InvalidInput

    try:
        pairs = spelling_pairs(docs, n, seed)
    except InvalidInput:
        return None
    right = m.bits([p.context + p.correct + p.after for p in pairs])
    wrong = m.bits([p.context + p.corrupted + p.after for p in pairs])
    ok = right < wrong
    edits = sorted({p.edit for p in pairs})
    by_edit = {e: float(np.mean([o for o, p in zip(ok, pairs) if p.edit == e])) for e in edits}
    same = [o for o, p in zip(ok, pairs) if p.edit in SAME_LENGTH]
    return SpellingScore(float(np.mean(same)) if same else float("nan"), len(same), by_edit)


def probe(m: LoadedTiny, docs: list[str], spelling_pairs_n: int = 200, seed: int = 0) -> ProbeReport:
    return ProbeReport(robustness(m, docs, seed=seed), spelling(m, docs, spelling_pairs_n, seed))


__all__ = ["SAME_LENGTH", "ProbeReport", "RobustnessRow", "SpellingScore", "probe", "robustness", "spelling"]
