"""The robustness probe's text perturbations: deterministic, counted, and confined to their places."""
from __future__ import annotations

import re
import unicodedata

import pytest
from tokenworks.errors import InvalidInput
from tokenworks.lm.tiny.perturb import (
    ACCENTS,
    KEYBOARD_NEIGHBOURS,
    LOOKALIKES,
    PERTURBATIONS,
    Perturbed,
    perturb,
)

EN = ("The quick brown fox jumps over the lazy dog. A tokenizer splits text into pieces,\n"
      "and a model learns which piece comes next.\n\nSecond paragraph: it is so, as we go on; "
      "several sentences make enough eligible places for every kind of change.")
MIXED = EN + "\nÉlève naïve, déjà vu — Москва, Ελληνικά. 北京欢迎你。 नमस्ते दुनिया।"
ZH = "今天天气很好。\n我们去公园散步吧！"


def test_kinds_are_named_exactly():
    assert PERTURBATIONS == ("typos", "case", "no_diacritics", "add_diacritics", "lookalikes", "double_spaces")


@pytest.mark.parametrize("kind", PERTURBATIONS)
def test_deterministic_per_seed_and_seed_matters(kind):
    text = MIXED if kind == "no_diacritics" else EN
    a, b = perturb(text, kind, 0.5, seed=1), perturb(text, kind, 0.5, seed=1)
    assert isinstance(a, Perturbed) and a == b and a.kind == kind
    assert perturb(text, kind, 0.5, seed=2).text != a.text
    assert a.text != text and 0 < a.changed <= a.eligible


@pytest.mark.parametrize("kind", PERTURBATIONS)
def test_rate_zero_changes_nothing(kind):
    p = perturb(MIXED, kind, 0.0, seed=3)
    assert p.text == MIXED and p.changed == 0 and p.eligible > 0


@pytest.mark.parametrize("kind", PERTURBATIONS)
@pytest.mark.parametrize("rate", [None, 0.3, 1.0])
def test_newlines_kept(kind, rate):
    p = perturb(MIXED, kind, rate, seed=4)
    assert p.text.count("\n") == MIXED.count("\n")
    assert [len(line) > 0 for line in p.text.split("\n")] == [len(line) > 0 for line in MIXED.split("\n")]


@pytest.mark.parametrize("kind", PERTURBATIONS)
def test_chinese_passes_through(kind):
    p = perturb(ZH, kind, 1.0, seed=0)
    assert p.text == ZH and p.changed == p.eligible == 0


def test_changed_counts_a_rounded_share_of_eligible():
    p = perturb(EN, "double_spaces", 0.5, seed=0)
    assert p.changed == int(p.eligible * 0.5 + 0.5)
    assert p.text.count("  ") == p.changed


def test_double_spaces_rate_one_doubles_every_single_space():
    text = "one two  three\nfour five \tsix seven"
    p = perturb(text, "double_spaces", 1.0)
    assert p.text == re.sub(r"(?<=\S) (?=\S)", "  ", text)
    assert p.text == "one  two  three\nfour  five \tsix  seven"
    assert p.changed == p.eligible == 3


def test_no_diacritics():
    assert perturb("Élève naïve", "no_diacritics").text == "Eleve naive"
    p = perturb("Ёлка й ά e\u0301cole", "no_diacritics")  # Cyrillic, Greek, a decomposed accent
    assert p.text == "Елка и α ecole" and p.changed == p.eligible == 4
    assert perturb("नमस्ते", "no_diacritics").text == "नमस्ते"  # a virama is spelling, not an accent


def test_add_diacritics_only_accents_and_stays_nfc():
    p = perturb(EN, "add_diacritics", 1.0, seed=5)
    assert len(p.text) == len(EN) and unicodedata.is_normalized("NFC", p.text)
    diffs = [(a, b) for a, b in zip(EN, p.text) if a != b]
    assert len(diffs) == p.changed == p.eligible > 0
    for a, b in diffs:
        base, *marks = unicodedata.normalize("NFD", b)
        assert base == a and len(marks) == 1 and marks[0] in ACCENTS[a.lower()]


def test_lookalikes_change_letters_for_table_entries_only():
    p = perturb(EN, "lookalikes", 0.6, seed=6)
    assert len(p.text) == len(EN)
    diffs = [(a, b) for a, b in zip(EN, p.text) if a != b]
    assert len(diffs) == p.changed > 0
    assert all(b in LOOKALIKES[a] and not b.isascii() for a, b in diffs)
    # fullwidth forms map back under NFKC; Cyrillic and Greek homoglyphs do not
    back = unicodedata.normalize("NFKC", p.text)
    assert all(b == a or unicodedata.name(b).startswith(("CYRILLIC", "GREEK")) for a, b in zip(EN, back))


def test_typos_skip_short_words_and_non_latin():
    short = "I am at an ox, we go. Я он.\nOk"
    p = perturb(short, "typos", 1.0, seed=0)
    assert p.text == short and p.eligible == 0
    p = perturb(MIXED, "typos", 1.0, seed=7)
    before, after = MIXED.split(), p.text.split()
    assert len(before) == len(after)  # typos never add or remove a space
    for a, b in zip(before, after):
        letters = re.sub(r"[^\w]", "", a)
        if len(letters) < 3 or not all(unicodedata.name(c).startswith("LATIN") for c in letters):
            assert a == b


def test_typos_are_single_keyboard_edits():
    words = ["keyboard", "language", "tokenizer", "robustness", "probe"] * 8
    text = " ".join(words)
    p = perturb(text, "typos", 1.0, seed=8)
    for a, b in zip(words, p.text.split(" ")):
        assert a != b
        if len(a) == len(b):
            diff = [i for i in range(len(a)) if a[i] != b[i]]
            swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            assert swapped or (len(diff) == 1 and b[diff[0]] in KEYBOARD_NEIGHBOURS[a[diff[0]]])
        else:
            assert abs(len(a) - len(b)) == 1
            long, short = (a, b) if len(a) > len(b) else (b, a)
            assert any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def test_case_changes_only_case():
    p = perturb(MIXED, "case", 1.0, seed=9)
    assert p.text != MIXED and p.changed == p.eligible
    assert p.text.casefold() == MIXED.casefold()


def test_bad_arguments_name_the_choices():
    with pytest.raises(InvalidInput, match="double_spaces"):
        perturb(EN, "typo")
    for rate in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidInput, match=r"\[0, 1\]"):
            perturb(EN, "case", rate)
    with pytest.raises(InvalidInput, match="str"):
        perturb(b"bytes", "case")
