"""The Text tab's link handlers (no server): restoring a view from a page's query, and the query
and note the view's link is built from."""
from __future__ import annotations

from types import SimpleNamespace

from app import links, text_tab


def TextState(tokenizers, text, mode="tokens") -> links.TextLink:  # noqa: N802 - reads as the state it builds
    return links.TextLink(tuple(tokenizers), text, mode.lower())


def test_text_tab_restores_a_link_and_notes_what_it_ignored():
    r = text_tab.restore_state({"tokenizers": "text/o200k_base,text/nope,r50k_base", "text": "Hello world",
                                "mode": "compare"})
    assert r.state == TextState(["text/o200k_base", "text/r50k_base"], "Hello world", "Compare")
    assert "text/nope" in r.notes and r.notes.startswith("⚠️ From the link:")
    assert r.query == "tokenizers=text/o200k_base,text/r50k_base&mode=compare&text=Hello%20world"
    plain = text_tab.restore_state({})
    assert plain.given == frozenset() and plain.notes == "" and plain.state == text_tab.DEFAULT_STATE
    html, _ = text_tab.show(r.state.text, r.state.tokenizers, text_tab.MODES_BY_LINK[r.state.mode])  # it renders
    assert html.count("tw-col") >= 2
    esc = text_tab.restore_state({"tokenizers": "<b>x</b>"})
    assert "<b>" not in esc.notes and "&lt;b&gt;" in esc.notes  # shown as Markdown: escaped


def test_text_tab_link_query_follows_the_view_and_says_when_the_text_is_left_out():
    q, note = text_tab.link_query("a b", ["text/bytes", "text/chars"], "Compare")
    assert q == "tokenizers=text/bytes,text/chars&mode=compare&text=a%20b" and note == ""
    q, note = text_tab.link_query("x" * 20_000, "text/bytes", "Tokens")
    assert q == "tokenizers=text/bytes&mode=tokens" and "20,000 characters" in note
    q, _ = text_tab.link_query(None, None, None)  # a cleared form still gives a link
    assert q == "tokenizers=&mode=tokens&text="


# ---- the handlers the page calls ----------------------------------------------------------------

def test_restore_fills_the_form_from_a_link_and_a_plain_visit_only_sets_the_query():
    ui = text_tab.TextUI.named()
    out = text_tab.restore(ui, SimpleNamespace(query_params={"tokenizers": "o200k_base,text/nope", "text": "hi",
                                                             "mode": "tokens"}))
    assert set(out) == {"text", "names", "mode", "note", "query"}
    assert out["text"] == "hi" and out["mode"] == "Tokens"
    assert out["names"]["value"] == ["text/o200k_base"] and "text/bytes" in out["names"]["choices"]
    assert "text/nope" in out["note"] and out["query"] == "tokenizers=text/o200k_base&mode=tokens&text=hi"
    plain = text_tab.restore(ui, SimpleNamespace(query_params={}))
    assert plain == {"note": "", "query": links.build_link(text_tab.SPEC, text_tab.DEFAULT_STATE)}
    other = text_tab.restore(ui, SimpleNamespace(query_params={"tab": "image", "text": "not mine"}))
    assert set(other) == {"note", "query"} and other["note"] == ""  # another tab's link leaves the form as built
    assert text_tab.restore(ui, None) == plain  # no request (a test, an API call): as a plain visit
    odd = text_tab.restore(ui, SimpleNamespace(query_params={"tab": "sideways"}))
    assert "Ignored tab 'sideways'" in odd["note"]  # an unknown tab opens the Text tab's defaults, with a note
    assert odd["text"] == text_tab.DEFAULT_TEXT and odd["names"]["value"] == text_tab.DEFAULT_TOKENIZERS


def test_link_handler_gives_the_query_and_the_link_box_info():
    q, box = text_tab.link("a b", ["text/bytes"], "Tokens")
    assert q == "tokenizers=text/bytes&mode=tokens&text=a%20b" and box["info"] == text_tab.LINK_INFO
    q, box = text_tab.link("x" * 20_000, ["text/bytes"], "Tokens")
    assert "text=" not in q and "too long for a link" in box["info"]
