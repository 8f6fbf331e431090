"""The tabs' link handlers as plain functions: each tab's ``restore`` with a page request whose query
parameters are given, and the link built from the controls (tiny untrained models saved as runs).
Handlers return ``{component: value}``; each tab's UI is built ``named()`` so results read by name."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import audio_tab, image_tab, languages_tab, learn_tab, links, metrics_tab, text_tab, widgets
from app.audio_input import AudioState
from app.image_input import ImageState

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

FLEX, GRID, CODEC = "run:image/tiny-flex1d", "run:image/tiny-grid", "run:audio/tiny-codec"
IMAGE, AUDIO = image_tab.ImageUI.named(), audio_tab.AudioUI.named()
LEARN, LANGUAGES = learn_tab.LearnUI.named(), languages_tab.LanguagesUI.named()
METRICS, TEXT = metrics_tab.MetricsUI.named(), text_tab.TextUI.named()


def request(**params):
    """What Gradio hands a load handler: the page's query parameters."""
    return SimpleNamespace(query_params=params)


@pytest.fixture(scope="module", autouse=True)
def tiny_runs(tmp_path_factory, save_tiny_image_runs, tiny_codec):
    """A 16-token flex1d, a grid and a 4-codebook codec, saved as `tokenworks train` would."""
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
    out = image_tab.restore(IMAGE, None, "emoji-fox.png", FLEX,
                            request(tab="image", model=FLEX, sample="photo-ladybird.png", k="5"))
    state, slider, info, ids = out["state"], out["k"], out["info"], out["ids"]
    assert isinstance(state, ImageState)
    assert state.ref == FLEX and state.source == "sample 'photo-ladybird.png'" and state.num_tokens == 16
    assert slider["value"] == 5 and slider["maximum"] == 16
    assert info.startswith("**5 of 16 tokens**")
    assert len(ids.split("|")[0].split()) == 5  # the kept prefix
    full = image_tab.restore(IMAGE, None, None, FLEX, request(tab="image", model=FLEX, sample="photo-ladybird.png"))
    assert not np.array_equal(out["shown_out"], full["shown_out"])  # the reconstruction is from 5 tokens, not 16
    assert full["k"]["value"] == 16 and full["query"] == f"tab=image&model={FLEX}&sample=photo-ladybird.png"
    tokenizer, sample, note, query, tabs = out["tokenizer"], out["sample"], out["note"], out["query"], out["tabs"]
    assert tokenizer["value"] == FLEX and FLEX in tokenizer["choices"] and sample["value"] == "photo-ladybird.png"
    assert note == "" and query == f"tab=image&model={FLEX}&sample=photo-ladybird.png&k=5"
    assert _selected(tabs) == "image"
    assert set(out) == set(image_tab.ImageUI.ENCODED) | {"tokenizer", "sample", "note", "query", "tabs", "auto"}
    assert out["auto"] is None  # the link named the tokenizer: an upload keeps it (image_tab.on_picture)


def test_a_k_beyond_the_tokenizer_or_on_a_grid_is_noted():
    out = image_tab.restore(IMAGE, None, None, FLEX, request(tab="image", model=FLEX, k="99"))
    assert out["k"]["value"] == 16 and "k=99 is more than the 16 tokens" in out["note"] and "1 to 16" in out["note"]
    assert out["query"].endswith("&k=16")
    out = image_tab.restore(IMAGE, None, None, GRID, request(tab="image", model=GRID, k="3"))
    assert "grid" in out["note"] and "k=3 was ignored" in out["note"]
    assert out["query"].endswith(f"&k={out['state'].num_tokens}") and out["k"]["interactive"] is False


def test_unknown_values_in_an_image_link_are_notes_never_errors():
    out = image_tab.restore(IMAGE, None, None, FLEX, request(tab="image", model="image/nope", sample="x.png", k="-4"))
    note = out["note"]
    assert note.count("⚠️ From the link:") == 3
    assert "'image/nope'" in note and FLEX in note and "'x.png'" in note and "emoji-fox.png" in note
    assert "1 to 4096" in note
    assert out["auto"] == out["tokenizer"]["value"]  # a model the link could not use is no choice: uploads are routed
    assert out["state"] is not None or "Could not tokenize" in out["status"]  # the default tokenizer's view, or why not
    assert _selected(out["tabs"]) == "image"


def test_a_page_load_without_an_image_link_shows_the_sample_as_before():
    out = image_tab.restore(IMAGE, None, "emoji-fox.png", FLEX, request(text="hello"))
    assert out["state"].source == "sample 'emoji-fox.png'" and out["k"]["value"] == 16
    assert "tokenizer" not in out and "sample" not in out and "tabs" not in out  # left alone, the tab not selected
    assert out["note"] == "" and out["query"] == f"tab=image&model={FLEX}&sample=emoji-fox.png"
    assert set(out) == set(image_tab.ImageUI.ENCODED) | {"note", "query", "auto"}
    assert out["auto"] == FLEX  # the tokenizer shown is the tab's own: an upload is routed


def test_an_image_link_without_a_model_leaves_uploads_routed():
    out = image_tab.restore(IMAGE, None, None, FLEX, request(tab="image", sample="photo-ladybird.png"))
    assert out["auto"] == out["tokenizer"]["value"] and out["auto"] is not None
    named = image_tab.restore(IMAGE, None, None, FLEX, request(tab="image", model=FLEX.upper()))  # any case
    assert named["tokenizer"]["value"] == FLEX and named["auto"] is None


def test_the_image_link_of_an_upload_keeps_the_settings_and_says_so(tmp_path):
    query, box = image_tab.link(str(tmp_path / "mine.png"), "emoji-fox.png", FLEX, 7)
    assert query == f"tab=image&model={FLEX}&k=7" and "uploaded image cannot travel" in box["info"]
    query, box = image_tab.link(None, "emoji-fox.png", FLEX, 7.0)
    assert query == f"tab=image&model={FLEX}&sample=emoji-fox.png&k=7" and box["info"] == widgets.LINK_INFO
    query, _ = image_tab.link(None, None, None, "lots")  # a cleared form still gives a link
    assert query == "tab=image"


# ---- Audio ---------------------------------------------------------------------------------------

def test_an_audio_link_restores_k_and_the_metric():
    out = audio_tab.restore(AUDIO, None, None, None, "pesq",
                            request(tab="audio", model=CODEC, sample="espeak-en.wav", metric="stoi", k="2"))
    state, slider, numbers = out["state"], out["k"], out["numbers"]
    assert isinstance(state, AudioState)
    assert state.ref == CODEC and state.num_codebooks == 4 and state.source == "sample 'espeak-en.wav'"
    assert slider["value"] == 2 and numbers.startswith("**k = 2 of 4**")
    assert "STOI" in out["rate_plot"].layout.title.text  # the rate chart by the link's metric
    tokenizer, sample, metric = out["tokenizer"], out["sample"], out["metric"]
    assert (tokenizer["value"], sample["value"], metric["value"]) == (CODEC, "espeak-en.wav", "stoi")
    assert out["note"] == "" and out["query"] == f"tab=audio&model={CODEC}&sample=espeak-en.wav&metric=stoi&k=2"
    assert _selected(out["tabs"]) == "audio"
    assert sum(bool(out[p].get("visible")) for p in AUDIO.ladder) == 4  # the ladder: one player per k
    over = audio_tab.restore(AUDIO, None, None, None, None, request(tab="audio", model=CODEC, k="9"))
    assert over["k"]["value"] == 4 and "k=9 is more than the 4 codebooks" in over["note"]


def test_a_page_load_without_an_audio_link_leaves_the_tab_alone():
    out = audio_tab.restore(AUDIO, None, "flite-slt.wav", CODEC, "pesq", request(tab="image"))
    assert set(out) == {"note", "query"}  # nothing analysed: the tab analyses its sample when it is opened
    assert out["note"] == "" and out["query"] == f"tab=audio&model={CODEC}&sample=flite-slt.wav&metric=pesq"
    query, box = audio_tab.link("/tmp/rec.wav", "flite-slt.wav", CODEC, "stoi", 3)
    assert query == f"tab=audio&model={CODEC}&metric=stoi&k=3" and "recorded clip" in box["info"]


# ---- Learn, Languages, Metrics -------------------------------------------------------------------

def test_a_learn_link_sets_the_settings_and_selects_the_tab():
    out = learn_tab.restore(LEARN, None, None, None, None, None,
                            request(tab="learn", corpus="aaabdaaabac", merges="3", text="aaab", vocab="cl100k",
                                    order="rank"))
    assert [out[n] for n in ("corpus", "n_merges", "text", "vocab", "order")] == [
        "aaabdaaabac", 3, "aaab", "text/bpe-cl100k", "rank"]
    assert out["note"] == ""
    assert out["query"] == "tab=learn&corpus=aaabdaaabac&merges=3&text=aaab&vocab=cl100k&order=rank"
    assert _selected(out["tabs"]) == "learn"
    bad = learn_tab.restore(LEARN, None, None, None, None, None, request(tab="learn", merges="0", vocab="gpt2"))
    assert bad["n_merges"] == 25 and bad["vocab"] == "trained above"
    assert "1 to 500" in bad["note"] and "trained, cl100k" in bad["note"]
    q, box = learn_tab.link("x" * 19_000, 3, "y", "trained above", "chunk")
    assert "corpus=" not in q and "corpus is too long" in box["info"]


def test_a_languages_link_checks_script_and_family_against_the_table(monkeypatch, lang):
    from tokenworks.text.parity import parity_table
    from tokenworks.text.udhr import UDHR

    table = parity_table(["text/bytes"], udhr=UDHR({"eng": lang("eng", "abcd", family="Indo-European"),
                                                   "rus": lang("rus", "abcdef", script="Cyrl", family="Indo-European"),
                                                   "kpv": lang("kpv", "abcdefgh", script="Cyrl", family="Uralic")}))
    monkeypatch.setattr(languages_tab, "compute", lambda names, languages=None: (table, []))
    out = languages_tab.restore(LANGUAGES, None, None, None, None,
                                request(tab="languages", tokenizers="bytes", script="cyrl", family="uralic"))
    names, script, family, map_tok = out["names"], out["script"], out["family"], out["map_tok"]
    assert names["value"] == ["text/bytes"] and script["value"].startswith("Cyrl · ")
    assert family["value"].startswith("Uralic") and map_tok["value"] == "text/bytes" and out["note"] == ""
    assert out["query"] == "tab=languages&tokenizers=text/bytes&script=Cyrl&family=Uralic"
    assert _selected(out["tabs"]) == "languages"
    out = languages_tab.restore(LANGUAGES, None, None, None, None, request(
        tab="languages", tokenizers="bytes", script="Grek", family="Basque", map="text/chars"))
    assert out["script"]["value"] == "All scripts" and out["family"]["value"] == "All families"
    note = out["note"]
    assert "'Grek'" in note and "Cyrl, Latn" in note and "'Basque'" in note and "Indo-European, Uralic" in note
    assert "map=text/chars" in note and out["query"] == "tab=languages&tokenizers=text/bytes"


def test_a_metrics_link_computes_its_metrics():
    out = metrics_tab.restore(METRICS, None, None, None, None, None, request(
        tab="metrics", tokenizers="bytes,chars", corpus="sample", limit="5000", split="lines"))
    assert set(out) == {"names", "source", "languages", "split", "limit", "status", "table", "csv", "note", "query",
                        "tabs"}
    assert out["names"]["value"] == ["text/bytes", "text/chars"] and out["source"] == metrics_tab.SAMPLE
    assert out["split"] == "One slice per line (Label: text)" and out["limit"] == 5000 and out["note"] == ""
    assert set(out["table"]["tokenizer"]) == {"text/bytes", "text/chars"} and out["csv"].endswith(".csv")
    query = out["query"]
    assert query.startswith("tab=metrics&tokenizers=text/bytes,text/chars&corpus=sample&")
    assert _selected(out["tabs"]) == "metrics"
    q, box = metrics_tab.link(["text/bytes"], metrics_tab.UPLOAD, "eng", "Whole file, one slice", 2000)
    assert "corpus=" not in q and "uploaded file cannot travel" in box["info"]


def test_other_tabs_leave_a_text_link_alone_and_the_text_tab_leaves_theirs():
    for restore, ui, n in ((learn_tab.restore, LEARN, 5), (languages_tab.restore, LANGUAGES, 4),
                           (metrics_tab.restore, METRICS, 5), (audio_tab.restore, AUDIO, 4)):
        out = restore(ui, *[None] * n, request(tokenizers="bytes", text="hi"))
        assert set(out) == {"note", "query"} and out["note"] == "", restore.__module__
    skipped = text_tab.restore(TEXT, request(tab="image", model="x", text="not for the text tab"))
    assert set(skipped) == {"note", "query"} and skipped["note"] == ""
    noted = text_tab.restore(TEXT, request(tab="zzz", text="hi"))
    assert noted["text"] == "hi" and "Ignored tab 'zzz'" in noted["note"]


def test_a_link_to_a_tab_without_settings_selects_it():
    assert _selected(widgets.select_plain_tab(request(tab="library"))) == "library"
    assert widgets.select_plain_tab(request(tab="image")) == {"__type__": "update"}
    assert widgets.select_plain_tab(None) == {"__type__": "update"}


QUERY = st.dictionaries(st.sampled_from(links.all_keys() + ["x"]),
                        st.one_of(st.text(max_size=20), st.sampled_from(["learn", "text", "library", "0", "1e9"])),
                        max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUERY)
def test_any_query_gives_a_page_never_an_error(params):
    """Anyone can write a link: the cheap restores never raise, and always give a query."""
    out = learn_tab.restore(LEARN, None, None, None, None, None, request(**params))
    assert isinstance(out["query"], str)
    assert isinstance(text_tab.restore(TEXT, request(**params))["query"], str)
    widgets.select_plain_tab(request(**params))
