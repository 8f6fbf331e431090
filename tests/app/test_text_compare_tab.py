"""Compare mode and merge trees through the Text tab's handlers (app/text_tab.py): the view and its
JSON, and messages for bad choices (the library: tests/text/test_compare.py)."""
from __future__ import annotations

import gradio as gr
import pytest

import tokenworks as tw
from app import text_tab
from app.widgets import friendly


# ---- handlers ------------------------------------------------------------------------------


def test_compare_handler_returns_view_and_json():
    html, summary = text_tab.compare("aé", ["text/chars", "text/bytes", "text/cl100k_base"])
    assert "tw-diff" in html and summary["spread"]["max"] == 3
    assert [t["tokenizer"] for t in summary["tokenizers"]] == ["text/chars", "text/bytes", "text/cl100k_base"]
    assert summary["tokenizers"][1]["differing"] == [2]


@pytest.mark.parametrize(
    "names,match",
    [(["text/bytes"], "2 to 4 tokenizers side by side; 1 is chosen"),
     (["text/bytes", "text/chars", "text/cl100k_base", "text/o200k_base", "text/r50k_base"], "5 are chosen"),
     ([], "choose at least one tokenizer"),
     (["text/bytes", "text/nope"], "Valid names: .*text/bytes")],
)
def test_compare_handler_bad_choices_are_messages(names, match):
    with pytest.raises(tw.TokenworksError, match=match):
        text_tab.compare("x", names)
    with pytest.raises(gr.Error, match=match) as e:
        friendly(text_tab.show)("x", names, "Compare")
    assert "Traceback" not in str(e.value)


def test_empty_text_in_both_modes():
    html, summary = text_tab.show("", ["text/chars", "text/bytes"], "Compare")
    assert summary["spread"]["ratio"] is None and "0 bytes" in html
    html, records = text_tab.show(None, ["text/chars"], "Tokens")
    assert records[0]["n_tokens"] == 0


def test_show_switches_modes_and_refuses_unknown_ones():
    tokens, _ = text_tab.show("aé", ["text/chars", "text/bytes"], "Tokens")
    compared, _ = text_tab.show("aé", ["text/chars", "text/bytes"], "Compare")
    assert "tw-diff" not in tokens and "tw-diff" in compared
    with pytest.raises(gr.Error, match="mode must be one of Tokens, Compare"):
        friendly(text_tab.show)("x", ["text/chars"], "Sideways")


def test_merge_tree_handler():
    tid = tw.load_shared("text/cl100k_base").encode(" hello").tolist()[0]
    assert "built by" in text_tab.merge_tree("text/cl100k_base", tid)
    assert "keeps no merge history" in text_tab.merge_tree("text/chars", 97)
    with pytest.raises(gr.Error, match="whole number"):
        friendly(text_tab.merge_tree)("text/cl100k_base", "abc")
    with pytest.raises(gr.Error, match="Valid names"):
        friendly(text_tab.merge_tree)("text/nope", 1)

    class Evt:
        _data = {"ref": "text/cl100k_base", "id": tid, "index": 0}

    assert text_tab.token_clicked(Evt()) == text_tab.merge_tree("text/cl100k_base", tid)


def test_app_has_the_compare_endpoints():
    from app.main import build_app

    names = [d.get("api_name") for d in build_app().config["dependencies"]]
    assert {"tokenize", "compare", "text_view", "token_clicked", "merge_tree"} <= set(names)
