"""The text hot path: the ids engine (bpe-openai or tiktoken), exact cuts of long texts, and
spans built from token byte lengths. Every check compares with tiktoken or a plain reference."""
from __future__ import annotations

import dataclasses
import random
from functools import lru_cache

import numpy as np
import pytest
import tiktoken
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokenworks as tw
from tokenworks.core import Span, span_row
from tokenworks.text import ids_engine
from tokenworks.text.openai_vocab import load_openai_vocab
from tokenworks.text.pretoken_cuts import CUT_VOCABS, cut_positions, cut_text
from tokenworks.text.spans import spans_from_lengths
from tokenworks.text.tiktoken_tok import TiktokenTokenizer

FAST = ["cl100k_base", "o200k_base"]  # the vocabularies bpe-openai has
# characters where the regexes decide: newlines, spaces, apostrophes, digits, letters of both
# cases, marks, punctuation, "/" (o200k), non-Latin letters, emoji
TRICKY = "\n\r \t'sSdLl19aZ.,!/-_\u00e9\u0301\u4e16\u0627\U0001F600\u00a0\u2028"
NEAR_CUTS = "\n\r \t'aA1./\u00e9"  # few characters, so the places near a cut come up often


@lru_cache(maxsize=None)
def reference(name: str) -> tiktoken.Encoding:
    v = load_openai_vocab(name)
    return tiktoken.Encoding(name, pat_str=v.pattern, mergeable_ranks=v.ranks, special_tokens=v.special_tokens)


# ---- engine choice -----------------------------------------------------------------------


def test_auto_picks_the_measured_engine():
    assert tw.load_shared("text/cl100k_base").engine_name == "bpe-openai"
    o200k = tw.load_shared("text/o200k_base")  # bpe-openai for short texts, tiktoken for long ones
    assert o200k.engine_name == "bpe-openai+tiktoken" and "below 512 characters" in o200k.engine_reason
    r50k = tw.load_shared("text/r50k_base")
    assert r50k.engine_name == "tiktoken" and "r50k_base" in r50k.engine_reason


def test_engine_choices_are_checked():
    with pytest.raises(tw.InvalidInput, match="auto, bpe-openai, tiktoken"):
        TiktokenTokenizer("cl100k_base", engine="fast")
    with pytest.raises(tw.InvalidInput, match="cannot encode r50k_base.*'tiktoken' or 'auto'"):
        TiktokenTokenizer("r50k_base", engine="bpe-openai")
    assert TiktokenTokenizer("cl100k_base", engine="tiktoken").engine_name == "tiktoken"


def test_without_bpe_openai_tiktoken_encodes(monkeypatch):
    def missing():
        raise ImportError("No module named 'bpe_openai'")

    monkeypatch.setattr(ids_engine, "_bpe_openai_bindings", missing)
    tok = TiktokenTokenizer("cl100k_base")
    assert tok.engine_name == "tiktoken" and "pip install bpe-openai==0.1.4" in tok.engine_reason
    text = "hello world 👋 " * 50
    assert tok.encode(text).tolist() == reference("cl100k_base").encode_ordinary(text)
    with pytest.raises(tw.InvalidInput, match="not installed"):
        TiktokenTokenizer("cl100k_base", engine="bpe-openai")


@pytest.mark.parametrize("vocab", FAST)
@settings(max_examples=100, deadline=None)
@given(text=st.text())
def test_every_engine_gives_the_same_ids_and_spans(vocab, text):
    a = tw.load_shared(f"text/{vocab}").encode(text)
    for engine in ("bpe-openai", "tiktoken"):
        b = engine_tokenizer(vocab, engine).encode(text)
        assert a.tolist() == b.tolist() and list(a.spans) == list(b.spans) and a.meta == b.meta


@lru_cache(maxsize=None)
def engine_tokenizer(vocab: str, engine: str) -> TiktokenTokenizer:
    return TiktokenTokenizer(vocab, engine=engine)


# ---- exact cuts --------------------------------------------------------------------------


def _cut_rule_positions(text: str) -> list[int]:
    return [p for p in range(1, len(text)) if text[p - 1] == "\n" and text[p].isascii() and text[p].isalnum()]


@pytest.mark.parametrize("vocab", FAST)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=NEAR_CUTS, max_size=40) | st.text(alphabet=TRICKY, max_size=60)
       | st.text(max_size=40).map(lambda t: t.replace("x", "\nA")))
def test_every_cut_splits_tiktoken_exactly(vocab, text):
    """The proof in pretoken_cuts, checked: at every "\\n" + ASCII letter/digit, the ids of the
    two sides are the ids of the whole."""
    ref = reference(vocab)
    whole = ref.encode_ordinary(text)
    for p in _cut_rule_positions(text):
        assert ref.encode_ordinary(text[:p]) + ref.encode_ordinary(text[p:]) == whole, (text, p)


def test_the_cut_rule_does_not_hold_for_r50k():
    """Why r50k_base has no cuts: its ``\\s+(?!\\S)`` sees the end of the string, so "\\n\\n"
    before a letter is two pieces but one at the end of a text."""
    ref, text = reference("r50k_base"), "\n\nA"
    assert ref.encode_ordinary(text[:2]) + ref.encode_ordinary(text[2:]) != ref.encode_ordinary(text)
    with pytest.raises(tw.InvalidInput, match="cl100k_base, o200k_base"):
        cut_positions(text, 1, "r50k_base")
    assert CUT_VOCABS == tuple(FAST)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=TRICKY, max_size=300), every=st.integers(1, 50))
def test_cut_positions_follow_the_rule_and_the_size(text, every):
    cuts = cut_positions(text, every)
    allowed = set(_cut_rule_positions(text))
    assert set(cuts) <= allowed and cuts == sorted(set(cuts))
    last = 0
    for p in cuts:  # each cut is the first allowed one at least `every` characters on
        assert p - last >= every and not any(last + every <= q < p for q in allowed)
        last = p
    assert not any(q >= last + every for q in allowed)  # no cut left out at the end
    assert "".join(cut_text(text, every)) == text


def test_cut_positions_refuse_a_non_positive_size():
    with pytest.raises(tw.InvalidInput, match="positive"):
        cut_positions("a\nb", 0)


# ---- long documents: chunked through bpe-openai, the same ids as tiktoken ----------------


@pytest.mark.parametrize("vocab", FAST)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=NEAR_CUTS, max_size=200) | st.text(alphabet=TRICKY, max_size=300) | st.text(max_size=300))
def test_chunked_ids_equal_tiktoken_with_small_chunks(vocab, text):
    """CHUNK_CHARS of 1: texts are cut at every allowed place, so every boundary is exercised."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ids_engine, "CHUNK_CHARS", 1)
        assert engine_tokenizer(vocab, "bpe-openai").encode(text).tolist() == reference(vocab).encode_ordinary(text)


LONG = ["random unicode lines", "runs of spaces, newlines, digits", "no cut at all", "1.25 MB of prose"]


@lru_cache(maxsize=None)
def _long_documents() -> dict[str, str]:
    rng = random.Random(19)
    size = ids_engine.CHUNK_CHARS * 3
    unicode_chars = [chr(c) for c in rng.sample(range(0x20, 0x30000), 4000) if not 0xD800 <= c <= 0xDFFF]
    lines = ["".join(rng.choice(unicode_chars) for _ in range(rng.randrange(0, 80))) for _ in range(size // 40)]
    return {
        "random unicode lines": "\n".join(f"{rng.choice('aZ9')}{line}" for line in lines),
        "runs of spaces, newlines, digits": "".join(
            rng.choice([" " * rng.randrange(1, 300), "\n" * rng.randrange(1, 50), "7" * rng.randrange(1, 200),
                        "\n \n\tx", "word ", "\r\n1"]) for _ in range(size // 40)),
        "no cut at all": "a" * (ids_engine.CHUNK_CHARS + 1000) + " " * 5000 + "1" * 3000,
        "1.25 MB of prose": (_prose() * 2000)[:1_250_000],
    }


def _prose() -> str:
    return ("It is a truth universally acknowledged, that a single man in possession of a good fortune,\n"
            "must be in want of a wife.  \n\n   Chapter 2\n12345 apples, 6.78 pears; naïve café — “quoted” 👋🏽\n"
            "def f(x):\n    return x ** 2  # code\n\r\nZ")


@pytest.mark.parametrize("vocab", FAST)
@pytest.mark.parametrize("label", LONG)
def test_long_documents_equal_tiktoken(vocab, label):
    text = _long_documents()[label]
    cuts = cut_positions(text, ids_engine.CHUNK_CHARS, vocab)
    assert len(text) > ids_engine.CHUNK_CHARS and (len(cuts) >= 1) == (label != "no cut at all")
    expected = reference(vocab).encode_ordinary(text)
    for tok in (engine_tokenizer(vocab, "bpe-openai"), tw.load_shared(f"text/{vocab}")):  # chunked; auto
        seq = tok.encode(text)
        assert seq.tolist() == expected
        assert seq.spans[-1].byte_end == len(text.encode("utf-8")) and seq.spans[-1].end == len(text)


@pytest.mark.parametrize("vocab", FAST)
def test_every_code_point_is_classed_as_tiktoken_classes_it(vocab):
    """bpe-openai's regex engine and tiktoken's agree on every assigned code point's class
    (upper/lower/other letter, mark, digit, space, other), seen between characters whose class
    decides the pieces. Code points unassigned in Unicode 17 (the ``regex`` module's), private
    use and surrogates are left out: they are "other" to both (all 1,112,064 in eight such
    templates agreed when this engine was chosen; that takes minutes)."""
    import regex

    skip = regex.compile(r"[\p{Cn}\p{Co}\p{Cs}]")
    chars = [chr(c) for c in range(0x110000) if not skip.match(chr(c))]
    text = "".join(f"x{c}/A{c}a {c}'s\n1{c}2 \n" for c in chars)
    assert engine_tokenizer(vocab, "bpe-openai").encode(text).tolist() == reference(vocab).encode_ordinary(text)


# ---- spans from token byte lengths -------------------------------------------------------


def naive_spans(text: str, lengths: list[int]) -> list[Span]:
    """The plain per-token reference: walk the characters, then the tokens."""
    char_of_byte, starts = [], set()
    for i, ch in enumerate(text):
        starts.add(len(char_of_byte))
        char_of_byte += [i] * len(ch.encode("utf-8", "surrogatepass"))
    n = len(char_of_byte)
    out, b = [], 0
    for length in lengths:
        e = b + length
        first = char_of_byte[b] if b < n else len(text)
        last = char_of_byte[e - 1] + 1 if e > b else first + 1
        partial = (b < n and b not in starts) or (e < n and e not in starts)
        out.append(Span(first, max(last, first + 1), b, e, bool(partial)))
        b = e
    return out


def _random_tiling(data_len: int, rng: random.Random, zeros: bool) -> list[int]:
    cuts = sorted(rng.sample(range(1, data_len), rng.randrange(0, data_len))) if data_len > 1 else []
    lengths = list(np.diff([0, *cuts, data_len])) if data_len else []
    if zeros:
        for _ in range(rng.randrange(0, 3)):
            lengths.insert(rng.randrange(len(lengths) + 1), 0)
    return [int(x) for x in lengths]


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=st.characters(codec=None, categories=None), max_size=40), seed=st.integers(0, 2**32))
def test_spans_from_lengths_equal_the_naive_reference(text, seed):
    rng = random.Random(seed)
    data_len = len(text.encode("utf-8", "surrogatepass"))
    for zeros in (False, True):
        lengths = _random_tiling(data_len, rng, zeros)
        table = spans_from_lengths(text, np.asarray(lengths, dtype=np.int64), nonempty=not zeros)
        assert list(table) == naive_spans(text, lengths)
        assert table.partial is not None and table.partial.dtype == bool


@pytest.mark.parametrize("zeros", [False, True])
def test_spans_of_a_long_text_equal_the_naive_reference(zeros):
    """Over 4096 bytes the character count runs in int32: the same spans."""
    rng = random.Random(7)
    text = "".join(rng.choice("ab \n1é世😀\u0301") for _ in range(6000)) + "\ud800x"
    lengths = _random_tiling(len(text.encode("utf-8", "surrogatepass")), rng, zeros)
    table = spans_from_lengths(text, np.asarray(lengths, dtype=np.int64), nonempty=not zeros)
    assert list(table) == naive_spans(text, lengths)


@given(text=st.text(min_size=1, max_size=40))
def test_spans_refuse_lengths_that_do_not_tile(text):
    n = len(text.encode("utf-8"))
    with pytest.raises(ValueError, match=f"do not tile the text \\({n} bytes\\)"):
        spans_from_lengths(text, np.asarray([n + 1]))


@pytest.mark.parametrize("vocab", ["r50k_base", *FAST])
@settings(max_examples=100, deadline=None)
@given(text=st.text())
def test_tokenizer_spans_equal_the_naive_reference(vocab, text):
    tok = tw.load_shared(f"text/{vocab}")
    seq = tok.encode(text)
    if seq.meta.get("replaced"):
        return  # lone surrogates: the spans are of the replaced text (test_text_pretrained covers it)
    assert list(seq.spans) == naive_spans(text, [len(tok.token_bytes(i)) for i in seq.tolist()])


def test_span_row_is_a_span():
    fields = [f.name for f in dataclasses.fields(Span)]
    assert fields == ["start", "end", "byte_start", "byte_end", "partial", "box"]
    a, b = span_row(1, 3, 2, 7, True), Span(1, 3, 2, 7, True)
    assert a == b and hash(a) == hash(b) and repr(a) == repr(b) and a.to_dict() == b.to_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.start = 0  # type: ignore[misc]
