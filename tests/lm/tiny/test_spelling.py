"""The character-knowledge probe data: spelling pairs cut from the texts, words, character items."""
from __future__ import annotations

import re

import pytest
from tokenworks.errors import InvalidInput
from tokenworks.lm.tiny.spelling import (
    CONTEXT_CHARS,
    EDITS,
    CharItem,
    SpellingPair,
    char_position_items,
    spelling_pairs,
    spelling_words,
)

TEXTS = [
    "A tokenizer splits text into pieces, and a model learns which piece comes next. The model "
    "never sees letters directly; it sees pieces, so spelling questions are hard for it. " * 3
    + "Rivers carry water towards the distant ocean, where sailors watch the weather closely.",
    ("Bright lanterns flickered along the harbour while fishermen mended their heavy nets.\n"
     "Nobody remembered who had built the lighthouse, though everybody admired its stubborn shape. "
     "Children counted seagulls; grandmothers counted stitches; the evening counted nothing at all."),
    "Don't worry about well-known words like x2 or snake_case: they never become spelling pairs.",
]


def _vocab(texts):
    return {w.lower() for t in texts for w in re.findall(r"[^\W\d_]+", t)}


def test_pairs_are_cut_from_the_texts_and_misspelt():
    pairs = spelling_pairs(TEXTS, n=25, seed=0)
    assert len(pairs) == 25 and all(isinstance(p, SpellingPair) for p in pairs)
    assert len({p.correct for p in pairs}) == 25
    vocab = _vocab(TEXTS)
    for p in pairs:
        assert p.corrupted != p.correct and p.corrupted.lower() not in vocab
        assert p.edit in EDITS and len(p.correct) >= 4 and p.correct.isalpha()
        assert any(t.find(p.context + p.correct + p.after) >= 0 for t in TEXTS)
        assert p.context == "" or not p.context[-1].isalnum()  # the context stops right before the word
        assert len(p.context) <= CONTEXT_CHARS and len(p.after) <= 20


def test_edits_are_what_they_say():
    for p in spelling_pairs(TEXTS, n=30, seed=1):
        a, b = p.correct, p.corrupted
        if p.edit == "swap":
            i = next(i for i in range(len(a)) if a[i] != b[i])
            assert 0 < i and i + 1 < len(a) - 1 and b == a[:i] + a[i + 1] + a[i] + a[i + 2:]
        elif p.edit == "double":
            assert any(b == a[:i + 1] + a[i:] for i in range(len(a)))
        elif p.edit == "drop":
            assert any(b == a[:i] + a[i + 1:] for i in range(1, len(a) - 1))
        else:
            diff = [i for i in range(len(a)) if a[i] != b[i]]
            assert len(a) == len(b) and len(diff) == 1 and a[diff[0]].lower() in "aeiou" and b[diff[0]].lower() in "aeiou"


def test_contexts_are_cut_at_a_word_start_and_prefer_context():
    long = " ".join(f"word{chr(97 + i % 26)}" for i in range(100)) + " remarkable ending"
    long = re.sub(r"\d", "", long)
    [p] = [p for p in spelling_pairs([long], n=27, seed=2) if p.correct == "remarkable"]
    assert 0 < len(p.context) <= CONTEXT_CHARS and long[long.find(p.context) - 1] == " "
    assert p.context.endswith(" ") and p.after == " ending"


def test_pairs_skip_contractions_hyphens_digits_and_underscores():
    words = {p.correct for p in spelling_pairs([TEXTS[2]], n=6, seed=0)}
    assert words <= {"worry", "about", "words", "like", "they", "never", "become", "spelling", "pairs"}
    assert not words & {"well", "known", "snake", "case", "Don"}


def test_deterministic_and_seeded():
    assert spelling_pairs(TEXTS, n=10, seed=3) == spelling_pairs(TEXTS, n=10, seed=3)
    assert spelling_pairs(TEXTS, n=10, seed=3) != spelling_pairs(TEXTS, n=10, seed=4)
    assert char_position_items(["alpha", "beta"], 5, seed=1) == char_position_items(["alpha", "beta"], 5, seed=1)


def test_too_few_words_says_how_many():
    with pytest.raises(InvalidInput, match="only 2 usable words"):
        spelling_pairs(["Short texts, a cat."], n=3)
    with pytest.raises(InvalidInput, match="only 1 distinct"):
        spelling_words(["word word word"], n=2)
    with pytest.raises(InvalidInput, match="list of strings"):
        spelling_pairs("a whole string", n=1)


def test_spelling_words_most_frequent_first():
    words = spelling_words(TEXTS, n=5, seed=0)
    assert set(words[:3]) == {"pieces", "model", "sees"}  # six times each, more than any other word
    assert spelling_words(TEXTS, n=5, seed=0) == words and spelling_words(TEXTS, n=3, seed=2) != words[:3]
    assert len(set(words)) == 5 and all(len(w) >= 4 and w.isalpha() for w in words)
    counts = [sum(len(re.findall(rf"(?<!\w){w}(?!\w)", t)) for t in TEXTS) for w in words]
    assert counts == sorted(counts, reverse=True)


def test_char_items_are_distinct_and_right():
    items = char_position_items(["spell", "letters", "spell"], n=12, seed=0)
    assert len(items) == 12 and len({(i.word, i.position) for i in items}) == 12
    assert all(isinstance(i, CharItem) and i.word[i.position] == i.char for i in items)
    with pytest.raises(InvalidInput, match="only 12"):
        char_position_items(["spell", "letters"], n=13)
