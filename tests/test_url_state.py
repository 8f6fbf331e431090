"""The Text tab's URL state (app/url_state.py): parse and build without a server."""
from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from app.url_state import (MAX_QUERY_CHARS, Limits, TextState, build_query, parse_query, text_in_link)

KNOWN = ("text/bytes", "text/chars", "text/cl100k_base", "text/o200k_base", "text/r50k_base", "text/llama3",
         "text/qwen3", "run:text/my-run")
LIMITS = Limits(known=KNOWN, max_tokenizers=6, min_compare=2, max_compare=4, max_chars=100)
DEFAULT = TextState(tokenizers=["text/cl100k_base", "text/bytes"], text="default text", mode="Tokens")


def parse(query: str, limits: Limits = LIMITS):
    """As the server sees it: starlette's QueryParams come from parse_qsl (keep_blank_values)."""
    return parse_query(dict(parse_qsl(query, keep_blank_values=True)), DEFAULT, limits)


def test_the_issue_link_restores_tokenizers_text_and_mode():
    p = parse("tokenizers=text/o200k_base,text/r50k_base&text=Hello%20world&mode=compare")
    assert p.state == TextState(["text/o200k_base", "text/r50k_base"], "Hello world", "Compare")
    assert p.given == {"tokenizers", "text", "mode"}
    assert p.notes == []


def test_no_query_keeps_the_defaults_and_says_nothing():
    p = parse("")
    assert p.state == DEFAULT and p.given == frozenset() and p.notes == []
    assert p.state.tokenizers is not DEFAULT.tokenizers  # a copy: the default list is never shared


def test_parameters_left_out_keep_their_defaults():
    p = parse("text=abc")
    assert p.state == TextState(DEFAULT.tokenizers, "abc", "Tokens") and p.given == {"text"}
    p = parse("mode=compare")  # the two default tokenizers are enough for Compare
    assert p.state == TextState(DEFAULT.tokenizers, DEFAULT.text, "Compare")


@pytest.mark.parametrize("state", [
    TextState(["text/o200k_base", "text/r50k_base"], "Hello world", "Compare"),
    TextState(["text/bytes"], "", "Tokens"),
    TextState(["run:text/my-run", "text/chars"], "a&b=c+d %20 #frag ?q /path, ;", "Tokens"),
    TextState(["text/chars", "text/bytes", "text/llama3", "text/qwen3"], "héllo 世界 👋🏽 👨‍👩‍👧‍👦 مرحبا", "Compare"),
    TextState(["text/bytes"], "tabs\tand\nnewlines\r\n e\u0301 \x00 end ", "Tokens"),
    TextState(["text/chars"], "x" * 100, "Tokens"),  # exactly the limit
])
def test_round_trip(state):
    q = build_query(state)
    assert parse(q).state == state
    assert parse_query(parse_qs(q, keep_blank_values=True), DEFAULT, LIMITS).state == state  # lists of values
    assert parse(q).notes == []


def test_build_query_is_a_readable_url_encoded_query():
    q = build_query(TextState(["text/o200k_base", "run:text/my-run"], "Hello world & more: é/👋", "Compare"))
    assert q.startswith("tokenizers=text/o200k_base,run:text/my-run&mode=compare&text=")
    text = q.split("&text=", 1)[1]
    assert text == "Hello%20world%20%26%20more%3A%20%C3%A9%2F%F0%9F%91%8B"
    assert " " not in q and "+" not in q and "#" not in q
    # a whole URL splits back to the same query
    assert urlsplit(f"http://127.0.0.1:7860/?{q}").query == q


def test_plus_is_a_space_in_a_query_and_an_encoded_plus_is_a_plus():
    assert parse("text=a+b").state.text == "a b"
    assert parse("text=a%2Bb").state.text == "a+b"
    assert build_query(TextState(["text/bytes"], "a+b")).endswith("text=a%2Bb")


def test_unknown_tokenizers_are_dropped_with_a_note_naming_the_allowed_ones():
    p = parse("tokenizers=text/nope,text/bytes,<script>")
    assert p.state.tokenizers == ["text/bytes"]
    assert len(p.notes) == 1
    note = p.notes[0]
    assert "'text/nope'" in note and "'<script>'" in note and "text/o200k_base" in note and "choose from" in note


def test_names_without_the_text_prefix_duplicates_and_spaces():
    p = parse("tokenizers=o200k_base,%20text/o200k_base%20,,bytes")
    assert p.state.tokenizers == ["text/o200k_base", "text/bytes"] and p.notes == []
    p = parse("tokenizers=o200k_base,bytes&tokenizers=chars")
    assert p.state.tokenizers == ["text/chars"]  # a request's dict keeps the last value of a repeated key
    p = parse_query(parse_qs("tokenizers=o200k_base,bytes&tokenizers=chars"), DEFAULT, LIMITS)
    assert p.state.tokenizers == ["text/o200k_base", "text/bytes", "text/chars"]  # every value of a multi-dict
    assert p.notes == []


def test_no_usable_tokenizer_falls_back_to_the_defaults():
    for q in ("tokenizers=", "tokenizers=text/nope", "tokenizers=,,"):
        p = parse(q)
        assert p.state.tokenizers == DEFAULT.tokenizers
        assert any("showing the defaults" in n for n in p.notes)


def test_too_many_tokenizers_keep_the_first_ones():
    names = ["text/bytes", "text/chars", "text/cl100k_base", "text/o200k_base", "text/r50k_base", "text/llama3",
             "text/qwen3", "run:text/my-run"]
    p = parse("tokenizers=" + ",".join(names))
    assert p.state.tokenizers == names[:6]
    assert "at most 6" in p.notes[0] and "text/qwen3" in p.notes[0] and "run:text/my-run" in p.notes[0]


def test_compare_needs_two_to_four_tokenizers():
    p = parse("tokenizers=text/bytes&mode=compare")
    assert p.state.mode == "Tokens" and p.state.tokenizers == ["text/bytes"]
    assert "2 to 4" in p.notes[0]
    five = "text/bytes,text/chars,text/cl100k_base,text/o200k_base,text/r50k_base"
    p = parse(f"tokenizers={five}&mode=Compare")  # mode is case-insensitive
    assert p.state.mode == "Compare" and p.state.tokenizers == five.split(",")[:4]
    assert "at most 4" in p.notes[0] and "text/r50k_base" in p.notes[0]


def test_unknown_mode_falls_back_with_a_note():
    p = parse("mode=sideways")
    assert p.state.mode == "Tokens" and "mode=tokens or mode=compare" in p.notes[0] and "'sideways'" in p.notes[0]
    assert parse("mode=single").state.mode == "Tokens" and parse("mode=single").notes == []


def test_overlong_text_keeps_the_first_characters_up_to_the_limit():
    p = parse("text=" + "é" * 150)
    assert p.state.text == "é" * 100
    assert "150 characters" in p.notes[0] and "first 100" in p.notes[0]


def test_long_garbage_is_quoted_back_short():
    p = parse("tokenizers=" + "z" * 5000 + "&mode=" + "m" * 5000)
    assert all(len(n) < 600 for n in p.notes)
    assert len(p.notes) == 3 and "…" in p.notes[0] and "…" in p.notes[2]


def test_unicode_text_in_the_link_is_utf8_percent_encoded():
    q = build_query(TextState(["text/bytes"], "世界"))
    assert q.endswith("text=%E4%B8%96%E7%95%8C")
    assert parse(q).state.text == "世界"


def test_a_text_too_long_for_a_link_is_left_out():
    long = TextState(["text/bytes"], "世" * 3000)  # 27,000 characters once encoded
    assert not text_in_link(long)
    q = build_query(long)
    assert "text=" not in q and len(q) <= MAX_QUERY_CHARS
    assert parse(q).state == TextState(["text/bytes"], DEFAULT.text, "Tokens")  # the default text
    short = TextState(["text/bytes"], "a" * 1000)
    assert text_in_link(short) and build_query(short).endswith("a" * 1000)
    assert not text_in_link(short, max_chars=500)


def test_lone_surrogates_do_not_break_building():
    q = build_query(TextState(["text/bytes"], "a\ud800b"))
    assert parse(q).state.text == "a?b"


# ---- the Text tab's handlers over it (no server) ----------------------------------------------


def test_text_tab_restores_a_link_and_notes_what_it_ignored():
    from app import text_tab

    r = text_tab.restore_state({"tokenizers": "text/o200k_base,text/nope,r50k_base", "text": "Hello world",
                                "mode": "compare"})
    assert r.state == TextState(["text/o200k_base", "text/r50k_base"], "Hello world", "Compare")
    assert "text/nope" in r.notes and r.notes.startswith("⚠️ From the link:")
    assert r.query == "tokenizers=text/o200k_base,text/r50k_base&mode=compare&text=Hello%20world"
    plain = text_tab.restore_state({})
    assert plain.given == frozenset() and plain.notes == "" and plain.state == text_tab.DEFAULT_STATE
    html, _ = text_tab.show(r.state.text, r.state.tokenizers, r.state.mode)  # the restored view renders
    assert html.count("tw-col") >= 2
    esc = text_tab.restore_state({"tokenizers": "<b>x</b>"})
    assert "<b>" not in esc.notes and "&lt;b&gt;" in esc.notes  # shown as Markdown: escaped


def test_text_tab_link_query_follows_the_view_and_says_when_the_text_is_left_out():
    from app import text_tab

    q, note = text_tab.link_query("a b", ["text/bytes", "text/chars"], "Compare")
    assert q == "tokenizers=text/bytes,text/chars&mode=compare&text=a%20b" and note == ""
    q, note = text_tab.link_query("x" * 20_000, "text/bytes", "Tokens")
    assert q == "tokenizers=text/bytes&mode=tokens" and "20,000 characters" in note
    q, _ = text_tab.link_query(None, None, None)  # a cleared form still gives a link
    assert q == "tokenizers=&mode=tokens&text="
