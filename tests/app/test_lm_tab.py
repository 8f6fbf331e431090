"""LM tab handlers called as plain functions (results read by name, ``LMUI.named()``), with the
session's SmolLM2 (``smollm2`` fixture): scoring, chat mode, choosing a token, the mid-word panel,
the link, the export; every bad input and a missing model asset end in a message, never a traceback."""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

import tokenworks as tw
from app import lm_tab, links
from app.lm_tab import LMUI
from app.lm_views import DEFAULT_PREFIX, DEFAULT_TEXT, LMState
from tokenworks.errors import AssetMissing
from tokenworks.lm.inspect import MAX_GENERATE_BYTES, MAX_PREFIX_CHARS, MAX_TEXT_CHARS

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

UI = LMUI.named()
FETCH = "tokenworks assets fetch smollm2-135m"


def request(**params):
    return SimpleNamespace(query_params=params)


class Click:  # what gr.EventData holds when a token is clicked
    def __init__(self, index):
        self._data = {"index": index}


@pytest.fixture(scope="module")
def scored(smollm2):
    return lm_tab.on_score(UI, "The capital of France is Paris.", False, quiet=True)


def test_scoring_fills_every_view(scored):
    assert set(scored) == set(LMUI.SCORED)
    state = scored["state"]
    assert isinstance(state, LMState) and state.n_tokens == 7 and not state.chat
    assert "bits per byte" in scored["status"] and "**7 tokens**" in scored["status"]
    assert "⚠️" not in scored["status"]
    html = scored["view"]
    assert html.count('class="tw-ltok') == 7 and 'id="tw-lm-tok-6"' in html and 'data-index="0"' in html
    assert "tw-selected" in html.split('id="tw-lm-tok-6"')[0].rsplit("<span", 1)[1]  # the last token is chosen
    assert scored["token"]["value"] == 6 and scored["token"]["maximum"] == 6
    assert "After token #6" in scored["next_plot"].layout.title.text
    assert len(scored["table"]) == 7 and scored["table"]["token"].tolist()[1] == "␣capital"
    assert "Chat mode is off" in scored["chat_info"]


def test_a_clicked_or_typed_token_shows_its_next_tokens(scored):
    state = scored["state"]
    i, fig, note = lm_tab.token_clicked(state, Click(3))
    assert i == 3 and note == "" and "After token #3 '␣France'" in fig.layout.title.text
    assert "entropy" in fig.layout.title.text and len(fig.data[0].x) == 10
    html, fig2, note = lm_tab.on_token(state, 3.0)
    assert 'class="tw-ltok tw-selected" id="tw-lm-tok-3"' in html and fig2.layout.title.text == fig.layout.title.text
    for bad in (7, -1, None):
        _, _, note = lm_tab.on_token(state, bad)
        assert "token # is a whole number from 0 to 6" in note
    _, _, note = lm_tab.token_clicked(None, Click(0))
    assert "score a text first" in note


def test_chat_mode_lists_the_special_tokens_and_the_counts(smollm2):
    out = lm_tab.on_score(UI, "Hello!", True, quiet=True)
    info = out["chat_info"]
    assert "**Special tokens added** (5)" in info and "&lt;|im_start|&gt;</code> ×3" in info
    assert "&lt;|im_end|&gt;</code> ×2" in info and "default system prompt" in info and "SmolLM" in info
    c = lm_tab.analysis_of(out["state"]).chat
    assert f"**{c.message_tokens:,} tokens** into **{c.n_tokens:,} tokens**" in info
    assert "The message alone" in out["status"] and out["state"].chat
    assert 'tw-ltok tw-special' in out["view"] and "tw-template" in out["view"]


def test_the_midword_panel_puts_three_methods_side_by_side(smollm2):
    md, fig = lm_tab.on_midword(DEFAULT_PREFIX, 3)
    for method in ("**naive**", "**healing**", "**exact**", "Greedy continuations", "token by token", "byte by byte"):
        assert method in md
    assert [t.name for t in fig.data] == ["naive", "healing", "exact"] and "⚠️ naive predicts" in md


@pytest.mark.parametrize("prefix, length, says", [
    ("<|im_start|>", 24, "needs some text after special tokens"),
    ("", 24, "the prefix is empty"),
    ("x" * (MAX_PREFIX_CHARS + 1), 24, "at most 1,000"),
    (DEFAULT_PREFIX, MAX_GENERATE_BYTES + 1, "from 1 to 48"),
])
def test_bad_midword_input_is_a_message(smollm2, prefix, length, says):
    md, fig = lm_tab.on_midword(prefix, length)
    assert md.startswith("⚠️") and says in md and fig is None


def test_bad_text_and_uploads_are_messages(smollm2, tmp_path):
    for text, says in (("", "the text is empty"), ("x" * (MAX_TEXT_CHARS + 1), "at most 4,000"),
                       (None, "must be a string")):
        out = lm_tab.on_score(UI, text, False, quiet=True)
        assert out["status"].startswith("⚠️") and says in out["status"] and out["state"] is None
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"na\xefve")
    out = lm_tab.on_upload(UI, str(bad), False)
    assert "notes.txt is not valid UTF-8: decoding failed at byte offset 2" in out["status"]
    assert "upload a .txt file" in lm_tab.on_upload(UI, None, False)["status"]
    good = tmp_path / "good.txt"
    good.write_text("Hello there.", encoding="utf-8")
    out = lm_tab.on_upload(UI, {"path": str(good)}, False)
    assert out["text"] == "Hello there." and out["state"].text == "Hello there."


@pytest.mark.parametrize("how", ["loader", "empty cache"])
def test_a_missing_model_asset_is_a_message_naming_the_fetch_command(monkeypatch, tmp_path, how):
    if how == "loader":
        def missing(*_a, **_k):
            raise AssetMissing(f"asset 'smollm2-135m' is not in the cache; get it with `{FETCH}`")
        monkeypatch.setattr(tw, "load_lm", missing)
    else:  # the real loader over an empty asset cache
        monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path))
    good = tmp_path / "good.txt"
    good.write_text("Hello there.", encoding="utf-8")
    messages = [lm_tab.on_score(UI, "Hello", False, quiet=True)["status"], lm_tab.on_midword(DEFAULT_PREFIX, 4)[0],
                lm_tab.on_upload(UI, str(good), True)["status"], lm_tab.on_open(UI, None, "Hello", True)["status"],
                lm_tab.restore(UI, None, None, None, None, request(tab="lm", prefix="Par"))["status"]]
    for md in messages:
        assert md.startswith("⚠️") and FETCH in md and "Traceback" not in md


def test_the_link_carries_the_view_and_leaves_out_a_text_too_long(smollm2):
    q, box = lm_tab.link("Hi there", True, 2, DEFAULT_PREFIX, 12)
    assert q == "tab=lm&text=Hi%20there&chat=on&token=2&prefix=Once%20upon%20a%20ti&length=12"
    assert box["info"] == "Opens this view: this tab and its settings."
    q, box = lm_tab.link("語" * MAX_TEXT_CHARS, False, None, DEFAULT_PREFIX, 99)
    assert q == "tab=lm&prefix=Once%20upon%20a%20ti" and "The text is too long for a link" in box["info"]
    out = lm_tab.restore(UI, None, None, None, None, request(tab="lm", text="Hi there", chat="on", token="30",
                                                              prefix="Once upon a ti", length="2"))
    assert out["text"] == "Hi there" and out["chat"] is True and out["length"] == 2 and out["note"] == ""
    assert out["token"]["value"] == 30 and out["state"].chat and getattr(out["tabs"], "selected", None) == "lm"
    assert "**exact**" in out["mid_status"] and out["bytes_plot"] is not None
    assert out["query"] == "tab=lm&text=Hi%20there&chat=on&token=30&prefix=Once%20upon%20a%20ti&length=2"
    far = lm_tab.restore(UI, None, None, None, None, request(tab="lm", text="Hi", token="500", chat="maybe"))
    assert "token=500 is past the last token" in far["note"] and "Ignored chat 'maybe'" in far["note"]
    assert "mid_status" not in far and far["token"]["value"] == far["state"].n_tokens - 1
    plain = lm_tab.restore(UI, DEFAULT_TEXT, False, DEFAULT_PREFIX, 24, request(tab="image"))
    assert set(plain) == {"note", "query"} and plain["query"].startswith("tab=lm&text=")
    assert "lm" in links.TAB_IDS and {"chat", "token", "prefix", "length"} <= set(links.all_keys())


def test_export_writes_the_analysis_as_json(scored):
    items = lm_tab.export_items(scored["state"])
    a = items.jsons["analysis"]
    assert a["n_tokens"] == 7 and len(a["tokens"]) == 7 and a["tokens"][3]["token"] == "␣France"
    assert lm_tab.export_items(None).notes == ["analysis: no text scored yet"]


def test_the_limits_are_stated_next_to_the_inputs():
    with gr.Blocks() as demo:
        lm_tab.build()
    shown = {c["props"]["elem_id"]: f"{c['props'].get('label') or ''} {c['props'].get('info') or ''}"
             for c in demo.config["components"] if c.get("props", {}).get("elem_id")}
    assert "4,000 characters" in shown["tw-lm-text"] and "4,000 characters" in shown["tw-lm-upload"]
    assert "1,000 characters" in shown["tw-lm-prefix"] and "1 to 48" in shown["tw-lm-length"]
