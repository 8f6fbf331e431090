"""App handlers called as plain functions, without a server."""
from __future__ import annotations

import gradio as gr
import pytest

import tokenworks as tw
from app import text_tab, library_tab
from app.widgets import friendly


def test_tokenize_returns_chips_and_json():
    html, records = text_tab.tokenize("héllo", ["text/bytes", "text/chars"])
    assert html.count('class="tw-tok') == 6 + 5
    assert 'class="tw-tok tw-partial"' in html and "&lt;0xC3&gt;" in html  # é's first byte
    assert [r["tokenizer"] for r in records] == ["text/bytes", "text/chars"]
    assert records[0]["ids"] == list("héllo".encode("utf-8"))
    assert records[1]["ids"] == [ord(c) for c in "héllo"]


def test_html_is_escaped():
    html, _ = text_tab.tokenize("<script>alert(1)</script>", "text/chars")
    assert "<script>alert" not in html and "&lt;" in html


def test_empty_text_gives_an_empty_view():
    html, records = text_tab.tokenize("", ["text/bytes"])
    assert records[0]["n_tokens"] == 0 and "0 tokens" in html


@pytest.mark.parametrize(
    "text,names,match",
    [
        ("x" * (text_tab.MAX_CHARS + 1), ["text/bytes"], "the limit is 100,000"),
        ("x", [], "choose at least one tokenizer"),
        ("x", ["text/nope"], "Valid names: .*text/bytes"),
        (5, ["text/bytes"], "text must be a string"),
        ("x", ["text/bytes"] * 7, "at most 6"),
    ],
)
def test_bad_input_is_a_clear_message(text, names, match):
    with pytest.raises(tw.TokenworksError, match=match):
        text_tab.tokenize(text, names)
    with pytest.raises(gr.Error, match=match):
        friendly(text_tab.tokenize)(text, names)


def test_unexpected_errors_hide_the_traceback():
    def broken():
        raise ZeroDivisionError("secret internals")

    with pytest.raises(gr.Error) as e:
        friendly(broken)()
    assert "secret internals" not in str(e.value) and "server log" in str(e.value)


def test_library_tables():
    rows = library_tab.tokenizer_table()
    assert [r[0] for r in rows] == tw.available()


def test_app_builds_and_every_event_has_an_api_name():
    from app.main import build_app

    demo = build_app()
    names = [d.get("api_name") for d in demo.config["dependencies"]]
    assert names and all(names), names
    assert "tokenize" in names


def test_trained_runs_appear_in_the_text_tab_and_tokenize(runs_dir):
    """A tokenizer trained with `tokenworks train text` is offered and works in the Text tab."""
    from tokenworks.text.train import TextTrainRequest, train_text

    train_text(TextTrainRequest(algo="bytebpe", vocab_size=400, corpus="elf", limit_mb=0.2))
    names = text_tab.text_tokenizers()
    assert "run:text/elf-bytebpe-400" in names and "text/cl100k_base" in names
    html, records = text_tab.tokenize("\x7fELF", ["run:text/elf-bytebpe-400"])
    assert records[0]["tokenizer"] == "text/elf-bytebpe-400" and records[0]["lossless"]
    assert "7f" in html  # executables' tokens are shown as hex bytes
    with pytest.raises(tw.CheckpointNotFound):
        text_tab.tokenize("x", ["run:text/no-such-run"])
