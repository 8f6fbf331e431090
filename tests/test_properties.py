"""Hypothesis: lossless round trips on arbitrary Unicode and arbitrary bytes."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import tokenworks as tw

BYTES = tw.load("text/bytes")
CHARS = tw.load("text/chars")
ANY_CHAR = st.characters(codec=None, categories=None)  # every code point, surrogates included


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_unicode_round_trips(text):
    for tok in (BYTES, CHARS):
        seq = tok.encode(text)
        assert seq.lossless
        assert tok.decode(seq) == text
        assert seq.spans[-1].byte_end == len(text.encode("utf-8")) if text else len(seq) == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_round_trip(data):
    for tok in (BYTES, CHARS):
        seq = tok.encode(data)
        out = tok.decode(seq)
        assert isinstance(out, bytes) and out == data
        assert (seq.spans[-1].byte_end if len(seq) else 0) == len(data)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ANY_CHAR))
def test_lone_surrogates(text):
    # code points round-trip exactly, surrogates included
    assert CHARS.decode(CHARS.encode(text)) == text
    # UTF-8 cannot hold a lone surrogate: bytes replaces it with U+FFFD and says so
    seq = BYTES.encode(text)
    surrogates = [i for i, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF]
    assert seq.lossless == (not surrogates)
    assert seq.meta.get("replaced", []) == surrogates
    expected = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    assert BYTES.decode(seq) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=64))
def test_keep_is_a_prefix_of_the_bytes(text, k):
    seq = BYTES.encode(text)
    assert BYTES.decode_bytes(seq, keep=k) == text.encode("utf-8")[:k]
    assert CHARS.decode(CHARS.encode(text), keep=k) == text[:k]
