"""Text perturbations for the tournament's robustness probe (TokSuite-style).

Each kind finds the places in a text it could change (its *eligible* places), picks
``round(rate * eligible)`` of them with ``random.Random(seed)`` and changes exactly those, so
the same text, kind, rate and seed always give the same result:

    p = perturb("The quick brown fox jumps.", "typos", rate=0.4, seed=0)
    p.text                 # 'The quick brown fx jumsp.'
    p.changed, p.eligible  # (2, 5): words of 3+ Latin letters given one typo, out of all such words

Kinds (``PERTURBATIONS``):
    typos           one keyboard-neighbour substitution, adjacent swap, deletion or insertion in
                    each picked word (Latin-script words of 3+ letters; QWERTY neighbours)
    case            picked words become UPPER, Title, sWAPPED or lower (words with cased letters)
    no_diacritics   combining marks dropped (NFD, drop Mn, NFC) from picked Latin, Greek,
                    Cyrillic, Hebrew or Arabic letters that carry them; default rate 1.0
    add_diacritics  an accent added to picked ASCII letters that take one (a->á, c->ç, n->ñ...)
    lookalikes      picked ASCII letters swapped for a Cyrillic, Greek or fullwidth look-alike
    double_spaces   picked single spaces between two non-space characters doubled

No kind touches newlines or whitespace other than the spaces it doubles; text in scripts a kind
does not apply to (Chinese, Hindi...) passes through unchanged and adds no eligible places.
"""
from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from ...errors import InvalidInput

PERTURBATIONS = ("typos", "case", "no_diacritics", "add_diacritics", "lookalikes", "double_spaces")
DEFAULT_RATES = {"typos": 0.1, "case": 0.1, "no_diacritics": 1.0, "add_diacritics": 0.1,
                 "lookalikes": 0.1, "double_spaces": 0.1}


@dataclass(frozen=True)
class Perturbed:
    kind: str      # one of PERTURBATIONS
    text: str      # the perturbed text
    changed: int   # places changed
    eligible: int  # places that could have been changed


# --- tables -------------------------------------------------------------------------------

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _qwerty_neighbours() -> dict[str, str]:
    """Each lowercase letter -> the letters around it on a QWERTY keyboard: left and right on its
    row, and the touching keys of the staggered rows above (same and next column) and below (same
    and previous column)."""
    where = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
    out = {}
    for c, (r, i) in where.items():
        near = [d for d, (r2, i2) in where.items() if d != c and abs(r2 - r) <= 1 and i2 - i in (
            (-1, 1) if r2 == r else (0, 1) if r2 == r - 1 else (-1, 0))]
        out[c] = "".join(sorted(near))
    return out


KEYBOARD_NEIGHBOURS = _qwerty_neighbours()

# Accents (as combining marks) each ASCII letter may take; every letter + mark composes under
# NFC to one precomposed code point, in lower and upper case.
ACCENTS = {
    "a": "\u0301\u0300\u0308\u0302\u0303\u030a", "e": "\u0301\u0300\u0302\u0308",
    "i": "\u0301\u0300\u0302\u0308", "o": "\u0301\u0300\u0302\u0308\u0303", "u": "\u0301\u0300\u0302\u0308",
    "c": "\u0327\u0301\u030c", "n": "\u0303\u0301", "s": "\u030c\u0301", "z": "\u030c\u0301\u0307",
    "y": "\u0301\u0308",
}

_HOMOGLYPHS = {  # ASCII letter -> Cyrillic and Greek letters drawn alike in most fonts
    "a": "аα", "c": "с", "e": "е", "i": "і", "j": "ј", "o": "оο", "p": "р", "s": "ѕ", "v": "ν",
    "x": "х", "y": "у",
    "A": "АΑ", "B": "ВΒ", "C": "С", "E": "ЕΕ", "H": "НΗ", "I": "ІΙ", "J": "Ј", "K": "КΚ",
    "M": "МΜ", "N": "Ν", "O": "ОΟ", "P": "РΡ", "S": "Ѕ", "T": "ТΤ", "X": "ХΧ", "Y": "ҮΥ", "Z": "Ζ",
}
# Every ASCII letter -> its look-alikes, one code point each: the homoglyphs above and the
# fullwidth form (NFKC maps the fullwidth form back; nothing maps the homoglyphs back).
LOOKALIKES: dict[str, tuple[str, ...]] = {
    c: tuple(_HOMOGLYPHS.get(c, "")) + (chr(ord(c) + 0xFEE0),)
    for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
}

_WORD = re.compile(r"[^\W\d_]+")  # a run of letters (any script)
_STRIP_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC", "HEBREW", "ARABIC")


def _script(c: str) -> str:
    return unicodedata.name(c, "").split(" ", 1)[0]


def _pick(eligible: int, rate: float, rng: random.Random) -> set[int]:
    return set(rng.sample(range(eligible), math.floor(rate * eligible + 0.5)))


# --- kinds: each returns (text, changed, eligible) -------------------------------------------

def _typo(word: str, rng: random.Random) -> str:
    n = len(word)

    def keep_case(new: str, like: str) -> str:
        return new.upper() if like.isupper() else new

    def delete() -> str:
        i = rng.randrange(n)
        return word[:i] + word[i + 1:]

    ops: list[Callable[[], str]] = [delete]
    keyed = [i for i, c in enumerate(word) if c.lower() in KEYBOARD_NEIGHBOURS]
    if keyed:
        def substitute() -> str:
            i = rng.choice(keyed)
            return word[:i] + keep_case(rng.choice(KEYBOARD_NEIGHBOURS[word[i].lower()]), word[i]) + word[i + 1:]

        def insert() -> str:  # a key next to a letter of the word, typed just before or after it
            i = rng.choice(keyed)
            at = i + rng.randrange(2)
            return word[:at] + keep_case(rng.choice(KEYBOARD_NEIGHBOURS[word[i].lower()]), word[i]) + word[at:]
        ops += [substitute, insert]
    swappable = [i for i in range(n - 1) if word[i] != word[i + 1]]
    if swappable:
        def swap() -> str:
            i = rng.choice(swappable)
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        ops.append(swap)
    return rng.choice(ops)()


def _typos(text: str, rate: float, rng: random.Random) -> tuple[str, int, int]:
    spots = [m for m in _WORD.finditer(text) if len(m.group()) >= 3 and all(_script(c) == "LATIN" for c in m.group())
             and not (m.end() < len(text) and unicodedata.category(text[m.end()]) == "Mn")]
    picks = _pick(len(spots), rate, rng)
    out, last = [], 0
    for k, m in enumerate(spots):
        if k in picks:
            out += [text[last:m.start()], _typo(m.group(), rng)]
            last = m.end()
    return "".join(out) + text[last:], len(picks), len(spots)


def _case_options(word: str) -> list[str]:
    seen = []
    for w in (word.upper(), word.title(), word.swapcase(), word.lower()):
        if w != word and w not in seen:
            seen.append(w)
    return seen


def _case(text: str, rate: float, rng: random.Random) -> tuple[str, int, int]:
    spots = [m for m in _WORD.finditer(text) if _case_options(m.group())]
    picks = _pick(len(spots), rate, rng)
    out, last = [], 0
    for k, m in enumerate(spots):
        if k in picks:
            out += [text[last:m.start()], rng.choice(_case_options(m.group()))]
            last = m.end()
    return "".join(out) + text[last:], len(picks), len(spots)


def _clusters(text: str) -> list[str]:
    """The text cut into a character and the combining marks (Mn) that follow it."""
    out: list[str] = []
    for c in text:
        if out and unicodedata.category(c) == "Mn":
            out[-1] += c
        else:
            out.append(c)
    return out


def _stripped(cluster: str) -> str | None:
    """The cluster without its combining marks, or None when it has none or is not a letter of a
    script whose marks are optional accents."""
    if not cluster[0].isalpha() or _script(cluster[0]) not in _STRIP_SCRIPTS:
        return None
    nfd = unicodedata.normalize("NFD", cluster)
    bare = "".join(c for c in nfd if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", bare) if bare != nfd else None


def _no_diacritics(text: str, rate: float, rng: random.Random) -> tuple[str, int, int]:
    clusters = _clusters(text)
    spots = [i for i, c in enumerate(clusters) if _stripped(c) is not None]
    picks = {spots[k] for k in _pick(len(spots), rate, rng)}
    return "".join(_stripped(c) if i in picks else c for i, c in enumerate(clusters)), len(picks), len(spots)


def _add_diacritics(text: str, rate: float, rng: random.Random) -> tuple[str, int, int]:
    spots = [i for i, c in enumerate(text) if c.lower() in ACCENTS and c.isascii()
             and not (i + 1 < len(text) and unicodedata.category(text[i + 1]) == "Mn")]
    picks = {spots[k] for k in _pick(len(spots), rate, rng)}
    chars = list(text)
    for i in sorted(picks):
        chars[i] = unicodedata.normalize("NFC", chars[i] + rng.choice(ACCENTS[chars[i].lower()]))
    return "".join(chars), len(picks), len(spots)


def _lookalikes(text: str, rate: float, rng: random.Random) -> tuple[str, int, int]:
    spots = [i for i, c in enumerate(text) if c in LOOKALIKES]
    picks = {spots[k] for k in _pick(len(spots), rate, rng)}
    chars = list(text)
    for i in sorted(picks):
        chars[i] = rng.choice(LOOKALIKES[chars[i]])
    return "".join(chars), len(picks), len(spots)


def _double_spaces(text: str, rate: float, rng: random.Random) -> tuple[str, int, int]:
    spots = [i for i in range(1, len(text) - 1)
             if text[i] == " " and not text[i - 1].isspace() and not text[i + 1].isspace()]
    picks = {spots[k] for k in _pick(len(spots), rate, rng)}
    return "".join("  " if i in picks else c for i, c in enumerate(text)), len(picks), len(spots)


_KINDS = {"typos": _typos, "case": _case, "no_diacritics": _no_diacritics,
          "add_diacritics": _add_diacritics, "lookalikes": _lookalikes, "double_spaces": _double_spaces}


def perturb(text: str, kind: str, rate: float | None = None, seed: int = 0) -> Perturbed:
    """``text`` with ``round(rate * eligible)`` of its eligible places changed the ``kind`` way
    (``rate`` defaults to ``DEFAULT_RATES[kind]``); deterministic for a given ``seed``."""
    if not isinstance(text, str):
        raise InvalidInput(f"text must be a str, not {type(text).__name__}")
    if kind not in _KINDS:
        raise InvalidInput(f"unknown perturbation {kind!r}; choose one of {', '.join(PERTURBATIONS)}")
    rate = DEFAULT_RATES[kind] if rate is None else rate
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
        raise InvalidInput(f"rate must be a number in [0, 1] (the fraction of eligible places to change), not {rate!r}")
    new, changed, eligible = _KINDS[kind](text, float(rate), random.Random(seed))
    return Perturbed(kind, new, changed, eligible)
