"""The held-out English prose the language-model benches and pre-flight reports read.

``data/samples/lm_heldout_en.txt``: prose from tokenworks' own documentation, written in 2026,
after SmolLM2's training data was collected, and never used to tune anything here.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ..paths import data_dir

HELDOUT = "samples/lm_heldout_en.txt"


def heldout_paragraphs() -> list[str]:
    return [p for p in (data_dir() / HELDOUT).read_text(encoding="utf-8").splitlines() if p.strip()]


@dataclass(frozen=True)
class Cut:
    prefix: str  # the text up to a point inside a word
    target: str  # the character that follows


def mid_word_cuts(n: int, context: int, seed: int = 0) -> list[Cut]:
    """``n`` cuts of the held-out text inside words (a letter on each side of the cut, the word at
    least 2 letters before it), each prefix the ``context`` characters before the cut (fewer only
    at the start of the text)."""
    text = " ".join(heldout_paragraphs())
    spots = [i for i in range(2, len(text)) if text[i - 2].isalpha() and text[i - 1].isalpha() and text[i].isalpha()
             and text[i].isascii()]
    rng = random.Random(seed)
    picks = sorted(rng.sample(spots, n)) if n < len(spots) else spots
    return [Cut(text[max(0, i - context):i], text[i]) for i in picks]
