"""Character-knowledge probe data for the tournament (CharBench-style): pure text, no models.

Spelling pairs: a word of the texts in its context, and a misspelling of it that is no word of
the texts; a scorer compares the model's likelihood of the two continuations of ``context``:

    texts = ["The river flows quietly past the old mill. Nobody remembers who built it."]
    [p] = spelling_pairs(texts, n=1, seed=0)
    p.context, p.correct, p.corrupted, p.edit  # ('The river flows quietly ', 'past', 'paast', 'double')
    texts[0].find(p.context + p.correct + p.after) >= 0   # True: the pair is cut from the text

Character items: "the character at position k of word w", for a probe trained on hidden states:

    char_position_items(spelling_words(texts, n=5), n=8, seed=0)  # [CharItem('quietly', 3, 'e'), ...]

Words are runs of letters (any script) not joined to digits, ``_``, apostrophes or hyphens, so
"don't" and "well-known" give none. Everything is deterministic for a given seed.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from ...errors import InvalidInput

EDITS = ("swap", "double", "drop", "vowel")  # the ways spelling_pairs misspells a word
CONTEXT_CHARS = 200  # at most this many characters of context before the word
AFTER_CHARS = 20     # characters kept after the word
_VOWELS = "aeiou"
# a whole word of letters: no letter, digit, underscore, apostrophe or hyphen on either side
_WORD = re.compile(r"(?<![\w'’-])[^\W\d_]+(?![\w'’-])")


@dataclass(frozen=True)
class SpellingPair:
    context: str    # the text before the word (up to CONTEXT_CHARS, from a word start), ending right before it
    correct: str    # the word as the text spells it
    corrupted: str  # a misspelling that is no word of the texts (compared case-insensitively)
    edit: str       # how it was misspelt: one of EDITS
    after: str      # the AFTER_CHARS characters after the word in the text (fewer at its end)


@dataclass(frozen=True)
class CharItem:
    word: str
    position: int  # 0-based index of the character in the word
    char: str      # word[position]


def _check_count(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput(f"{name} must be an integer >= {low}, not {value!r}")


def _check_texts(texts: list[str]) -> None:
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise InvalidInput("texts must be a list of strings (one per document), not a single string "
                           "or a list holding other things")


def _misspellings(word: str, rng: random.Random) -> list[tuple[str, str]]:
    """Every (misspelling, edit) of the word, shuffled; inner edits keep the first and last letter."""
    n, out = len(word), []
    for i in range(1, n - 2):  # swap two adjacent inner letters
        if word[i] != word[i + 1]:
            out.append((word[:i] + word[i + 1] + word[i] + word[i + 2:], "swap"))
    for i in range(n):
        out.append((word[:i + 1] + word[i:], "double"))
    for i in range(1, n - 1):
        out.append((word[:i] + word[i + 1:], "drop"))
    for i, c in enumerate(word):
        if c.lower() in _VOWELS:
            for v in _VOWELS.replace(c.lower(), ""):
                out.append((word[:i] + (v.upper() if c.isupper() else v) + word[i + 1:], "vowel"))
    rng.shuffle(out)
    return out


def _context(text: str, start: int) -> str:
    """Up to CONTEXT_CHARS before ``start``, beginning at a word start when cut."""
    cut = max(0, start - CONTEXT_CHARS)
    if cut > 0 and not text[cut - 1].isspace():
        space = re.search(r"\s", text[cut:start])
        cut = cut + space.end() if space else start
    return text[cut:start]


def spelling_pairs(texts: list[str], n: int, seed: int = 0, min_len: int = 4) -> list[SpellingPair]:
    """``n`` pairs for ``n`` distinct words of at least ``min_len`` letters, drawn uniformly from
    the texts' distinct words, each at a random occurrence (one with context before it when the
    word has one), with a misspelling that is no word of the texts."""
    _check_texts(texts)
    _check_count("n", n, 0)
    _check_count("min_len", min_len, 2)
    vocab = {m.group().lower() for t in texts for m in _WORD.finditer(t)}
    places: dict[str, list[tuple[int, int]]] = {}  # word -> (text index, start) of each occurrence
    for k, t in enumerate(texts):
        for m in _WORD.finditer(t):
            if len(m.group()) >= min_len:
                places.setdefault(m.group(), []).append((k, m.start()))
    rng = random.Random(seed)
    words = sorted(places)
    rng.shuffle(words)
    pairs: list[SpellingPair] = []
    for word in words:
        if len(pairs) == n:
            break
        bad = next(((w, e) for w, e in _misspellings(word, rng) if w.lower() not in vocab), None)
        if bad is None:
            continue
        where = [p for p in places[word] if p[1] > 0] or places[word]
        k, start = rng.choice(where)
        end = start + len(word)
        pairs.append(SpellingPair(_context(texts[k], start), word, bad[0], bad[1], texts[k][end:end + AFTER_CHARS]))
    if len(pairs) < n:
        raise InvalidInput(f"asked for {n} spelling pairs but the texts hold only {len(pairs)} usable words "
                           f"(letters only, at least min_len={min_len} long, with a misspelling that is no word "
                           f"of the texts); give more text, a smaller n or a smaller min_len")
    return pairs


def spelling_words(texts: list[str], n: int, seed: int = 0, min_len: int = 4) -> list[str]:
    """The ``n`` most frequent distinct words of at least ``min_len`` letters (exact spelling),
    most frequent first; ``seed`` orders words of equal count."""
    _check_texts(texts)
    _check_count("n", n, 0)
    _check_count("min_len", min_len, 1)
    counts = Counter(m.group() for t in texts for m in _WORD.finditer(t) if len(m.group()) >= min_len)
    if len(counts) < n:
        raise InvalidInput(f"asked for {n} words but the texts hold only {len(counts)} distinct words of "
                           f"letters at least min_len={min_len} long; give more text, a smaller n or a smaller min_len")
    words = sorted(counts)
    random.Random(seed).shuffle(words)
    words.sort(key=lambda w: -counts[w])  # stable: the shuffle orders ties
    return words[:n]


def char_position_items(words: list[str], n: int, seed: int = 0) -> list[CharItem]:
    """``n`` distinct (word, position) items drawn uniformly from every position of every
    distinct word, in the order drawn."""
    if isinstance(words, str) or not all(isinstance(w, str) and w for w in words):
        raise InvalidInput("words must be a list of non-empty strings, not a single string or a list holding other things")
    _check_count("n", n, 0)
    slots = [(w, i) for w in dict.fromkeys(words) for i in range(len(w))]
    if len(slots) < n:
        raise InvalidInput(f"asked for {n} character items but the words have only {len(slots)} "
                           f"(word, position) places; give more words or a smaller n")
    return [CharItem(w, i, w[i]) for w, i in random.Random(seed).sample(slots, n)]
