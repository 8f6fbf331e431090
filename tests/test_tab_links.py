"""The tabs' link handlers as plain functions: each tab's ``restore`` with a page request whose query
parameters are given, and the link built from the controls (tiny untrained models saved as runs)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import media_links, tab_links, text_links, text_tab, url_tabs

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

FLEX, GRID, CODEC = "run:image/tiny-flex1d", "run:image/tiny-grid", "run:audio/tiny-codec"


def request(**params):
    """What Gradio hands a load handler: the page's query parameters."""
    return SimpleNamespace(query_params=params)


@pytest.fixture(scope="module", autouse=True)
def tiny_runs(tmp_path_factory):
    """A 16-token flex1d, a grid and a 4-codebook codec, saved as `tokenworks train` would."""
    from test_audio_tab import tiny_codec
    from test_image_tab import save_tiny_image_runs

    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOKENWORKS_RUNS", str(runs))
        save_tiny_image_runs(runs)
        tiny_codec().save(runs / "audio" / "tiny-codec")
        yield runs


def _selected(value) -> str | None:
    return getattr(value, "selected", None)


# ---- Image ---------------------------------------------------------------------------------------

def test_an_image_link_restores_the_tokenizer_sample_and_k():
    out = media_links.image_restore(None, "emoji-fox.png", FLEX,
                                    request(tab="image", model=FLEX, sample="photo-ladybird.png", k="5"))
    enc, slider, info, ids = out[0], out[3], out[5], out[6]
    assert enc.ref == FLEX and enc.source == "sample 'photo-ladybird.png'" and enc.num_tokens == 16
    assert slider["value"] == 5 and slider["maximum"] == 16
    assert info.startswith("**5 of 16 tokens**")
    assert len(ids.split("|")[0].split()) == 5  # the kept prefix
    full = media_links.image_restore(None, None, FLEX, request(tab="image", model=FLEX, sample="photo-ladybird.png"))
    assert not np.array_equal(out[2], full[2])  # the reconstruction is from 5 tokens, not all 16
    tokenizer, sample, note, query, tabs = out[-5:]
    assert tokenizer["value"] == FLEX and FLEX in tokenizer["choices"] and sample["value"] == "photo-ladybird.png"
    assert note == "" and query == f"tab=image&model={FLEX}&sample=photo-ladybird.png&k=5"
    assert _selected(tabs) == "image"


def test_a_k_beyond_the_tokenizer_or_on_a_grid_is_noted():
    out = media_links.image_restore(None, None, FLEX, request(tab="image", model=FLEX, k="99"))
    assert out[3]["value"] == 16 and "k=99 is more than the 16 tokens" in out[-3] and "1 to 16" in out[-3]
    assert out[-2].endswith("&k=16")
    out = media_links.image_restore(None, None, GRID, request(tab="image", model=GRID, k="3"))
    assert "grid" in out[-3] and "k=3 was ignored" in out[-3]


def test_unknown_values_in_an_image_link_are_notes_never_errors():
    out = media_links.image_restore(None, None, FLEX, request(tab="image", model="image/nope", sample="x.png", k="-4"))
    note = out[-3]
    assert note.count("⚠️ From the link:") == 3
    assert "'image/nope'" in note and FLEX in note and "'x.png'" in note and "emoji-fox.png" in note
    assert "1 to 4096" in note
    assert out[0] is not None or "Could not tokenize" in out[4]  # the default tokenizer's view (or why not)


def test_a_page_load_without_an_image_link_shows_the_sample_as_before():
    out = media_links.image_restore(None, "emoji-fox.png", FLEX, request(text="hello"))
    assert out[0].source == "sample 'emoji-fox.png'" and out[3]["value"] == 16
    assert out[-5]["__type__"] == "update" and len(out[-5]) == 1  # the tokenizer is left alone
    assert out[-3] == "" and out[-2] == f"tab=image&model={FLEX}&sample=emoji-fox.png" and _selected(out[-1]) is None


def test_the_image_link_of_an_upload_keeps_the_settings_and_says_so(tmp_path):
    query, box = media_links.image_link(str(tmp_path / "mine.png"), "emoji-fox.png", FLEX, 7)
    assert query == f"tab=image&model={FLEX}&k=7" and "uploaded image cannot travel" in box["info"]
    query, box = media_links.image_link(None, "emoji-fox.png", FLEX, 7.0)
    assert query == f"tab=image&model={FLEX}&sample=emoji-fox.png&k=7" and box["info"] == tab_links.LINK_INFO


# ---- Audio ---------------------------------------------------------------------------------------

def test_an_audio_link_restores_k_and_the_metric():
    out = media_links.audio_restore(None, None, None, "pesq",
                                    request(tab="audio", model=CODEC, sample="espeak-en.wav", metric="stoi", k="2"))
    view, slider, numbers = out[0], out[4], out[7]
    assert view.ref == CODEC and view.K == 4 and view.source == "sample 'espeak-en.wav'"
    assert slider["value"] == 2 and numbers.startswith("**k = 2 of 4**")
    tokenizer, sample, metric, note, query, tabs = out[-6:]
    assert (tokenizer["value"], sample["value"], metric["value"]) == (CODEC, "espeak-en.wav", "stoi")
    assert note == "" and query == f"tab=audio&model={CODEC}&sample=espeak-en.wav&metric=stoi&k=2"
    assert _selected(tabs) == "audio"
    over = media_links.audio_restore(None, None, None, None, request(tab="audio", model=CODEC, k="9"))
    assert over[4]["value"] == 4 and "k=9 is more than the 4 codebooks" in over[-3]


def test_a_page_load_without_an_audio_link_leaves_the_tab_alone():
    out = media_links.audio_restore(None, "flite-slt.wav", CODEC, "pesq", request(tab="image"))
    assert all(o == {"__type__": "update"} for o in out[:-3])
    assert out[-3] == "" and out[-2] == f"tab=audio&model={CODEC}&sample=flite-slt.wav&metric=pesq"
    query, box = media_links.audio_link("/tmp/rec.wav", "flite-slt.wav", CODEC, "stoi", 3)
    assert query == f"tab=audio&model={CODEC}&metric=stoi&k=3" and "recorded clip" in box["info"]


# ---- Learn, Languages, Metrics -------------------------------------------------------------------

def test_a_learn_link_sets_the_settings_and_selects_the_tab():
    out = text_links.learn_restore(None, None, None, None, None,
                                   request(tab="learn", corpus="aaabdaaabac", merges="3", text="aaab", vocab="cl100k",
                                           order="rank"))
    assert out[:5] == ("aaabdaaabac", 3, "aaab", "text/bpe-cl100k", "rank") and out[5] == ""
    assert out[6] == "tab=learn&corpus=aaabdaaabac&merges=3&text=aaab&vocab=cl100k&order=rank"
    assert _selected(out[7]) == "learn"
    bad = text_links.learn_restore(None, None, None, None, None, request(tab="learn", merges="0", vocab="gpt2"))
    assert bad[1] == 25 and bad[3] == "trained above" and "1 to 500" in bad[5] and "trained, cl100k" in bad[5]
    q, box = text_links.learn_link("x" * 19_000, 3, "y", "trained above", "chunk")
    assert "corpus=" not in q and "corpus is too long" in box["info"]


def test_a_languages_link_checks_script_and_family_against_the_table(monkeypatch):
    from test_languages_tab import _lang
    from tokenworks.text.parity import parity_table
    from tokenworks.text.udhr import UDHR

    table = parity_table(["text/bytes"], udhr=UDHR({"eng": _lang("eng", "abcd", family="Indo-European"),
                                                   "rus": _lang("rus", "abcdef", script="Cyrl", family="Indo-European"),
                                                   "kpv": _lang("kpv", "abcdefgh", script="Cyrl", family="Uralic")}))
    monkeypatch.setattr(text_links.languages_tab, "compute", lambda names, languages=None: (table, []))
    out = text_links.languages_restore(None, None, None, None,
                                       request(tab="languages", tokenizers="bytes", script="cyrl", family="uralic"))
    names, script, family, map_tok, note, query, tabs = out
    assert names["value"] == ["text/bytes"] and script["value"].startswith("Cyrl · ")
    assert family["value"].startswith("Uralic") and map_tok["value"] == "text/bytes" and note == ""
    assert query == "tab=languages&tokenizers=text/bytes&script=Cyrl&family=Uralic" and _selected(tabs) == "languages"
    out = text_links.languages_restore(None, None, None, None, request(
        tab="languages", tokenizers="bytes", script="Grek", family="Basque", map="text/chars"))
    assert out[1]["value"] == "All scripts" and out[2]["value"] == "All families"
    assert "'Grek'" in out[4] and "Cyrl, Latn" in out[4] and "'Basque'" in out[4] and "Indo-European, Uralic" in out[4]
    assert "map=text/chars" in out[4] and out[5] == "tab=languages&tokenizers=text/bytes"


def test_a_metrics_link_computes_its_metrics():
    out = text_links.metrics_restore(None, None, None, None, None, request(
        tab="metrics", tokenizers="bytes,chars", corpus="sample", limit="5000", split="lines"))
    names, source, languages, split, limit, status, table, csv, note, query, tabs = out
    assert names["value"] == ["text/bytes", "text/chars"] and source == text_links.metrics_tab.SAMPLE
    assert split == "One slice per line (Label: text)" and limit == 5000 and note == ""
    assert set(table["tokenizer"]) == {"text/bytes", "text/chars"} and csv.endswith(".csv")
    assert query.startswith("tab=metrics&tokenizers=text/bytes,text/chars&corpus=sample&") and _selected(tabs) == "metrics"
    q, box = text_links.metrics_link(["text/bytes"], text_links.metrics_tab.UPLOAD, "eng", "Whole file, one slice", 2000)
    assert "corpus=" not in q and "uploaded file cannot travel" in box["info"]


def test_other_tabs_leave_a_text_link_alone_and_the_text_tab_leaves_theirs():
    for restore, n in ((text_links.learn_restore, 5), (text_links.languages_restore, 4)):
        out = restore(*[None] * n, request(tokenizers="bytes", text="hi"))
        assert all(o == {"__type__": "update"} for o in out[:n]) and out[n] == "" and _selected(out[-1]) is None
    skipped = text_tab.restore(request(tab="image", model="x", text="not for the text tab"))
    assert skipped[:3] == ({"__type__": "update"},) * 3 and skipped[3] == ""
    noted = text_tab.restore(request(tab="zzz", text="hi"))
    assert noted[0] == "hi" and "Ignored tab 'zzz'" in noted[3]


def test_a_link_to_a_tab_without_settings_selects_it():
    assert _selected(tab_links.select_plain_tab(request(tab="library"))) == "library"
    assert tab_links.select_plain_tab(request(tab="image")) == {"__type__": "update"}
    assert tab_links.select_plain_tab(None) == {"__type__": "update"}


QUERY = st.dictionaries(st.sampled_from(url_tabs.all_keys() + ["x"]),
                        st.one_of(st.text(max_size=20), st.sampled_from(["learn", "text", "library", "0", "1e9"])),
                        max_size=6)


@settings(max_examples=40, deadline=None)
@given(QUERY)
def test_any_query_gives_a_page_never_an_error(params):
    """Anyone can write a link: the cheap restores never raise, and always give a query."""
    out = text_links.learn_restore(None, None, None, None, None, request(**params))
    assert isinstance(out[6], str)
    assert isinstance(text_tab.restore(request(**params))[4], str)
    tab_links.select_plain_tab(request(**params))
