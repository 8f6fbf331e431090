"""The tabs' links (app/url_tabs.py, app/url_state.parse_tab): parse and build without a server."""
from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import url_tabs as U
from app.url_state import MAX_QUERY_CHARS, TAB_IDS, parse_tab

IMAGE = U.image_spec(("image/flex1d-emoji64", "image/grid-emoji32", "run:image/my-run"),
                     ("emoji-fox.png", "photo-ladybird.png"), "image/flex1d-emoji64", "emoji-fox.png")
AUDIO = U.audio_spec(("audio/rvq-speech16k", "audio/mulaw8"), ("flite-slt.wav", "espeak-en.wav"),
                     ("pesq", "stoi", "si_sdr", "mel_distance"), "audio/rvq-speech16k", "flite-slt.wav", "pesq")
TEXT_NAMES = ("text/bytes", "text/chars", "text/o200k_base", "text/r50k_base", "run:text/my-run")
LANGUAGES = U.languages_spec(TEXT_NAMES, ("text/o200k_base", "text/r50k_base"), 3)
METRICS = U.metrics_spec(TEXT_NAMES, ("text/o200k_base", "text/r50k_base"), 4,
                         ("sample", "shakespeare", "austen", "stdlib", "udhr"), ("whole", "lines", "paragraphs"),
                         "sample", "eng, fra", "whole", 200_000)
LEARN = U.learn_spec("the cat sat", 20_000, 25, 500, "the hat", 5_000, ("trained", "cl100k"), ("chunk", "rank"))
SPECS = {s.tab: s for s in (IMAGE, AUDIO, LANGUAGES, METRICS, LEARN)}


def parse(query: str, spec: U.TabSpec) -> U.ParsedLink:
    """As the server sees it: starlette's QueryParams come from parse_qsl (keep_blank_values)."""
    return U.parse_link(dict(parse_qsl(query, keep_blank_values=True)), spec)


# ---- tab= ----------------------------------------------------------------------------------------

def test_tab_names_the_open_tab_and_no_tab_is_the_text_tab():
    assert parse_tab({}).tab == "text" and parse_tab({}).notes == []
    assert parse_tab({"tab": "Image"}).tab == "image"
    assert parse_tab({"tab": ["audio"]}).tab == "audio"  # parse_qs gives lists
    bad = parse_tab({"tab": "<script>" + "x" * 100})
    assert bad.tab == "text" and len(bad.notes) == 1
    assert "'<script>" in bad.notes[0] and "…" in bad.notes[0] and ", ".join(TAB_IDS) in bad.notes[0]


# ---- each tab's link -----------------------------------------------------------------------------

def test_the_image_link_in_the_brief():
    p = parse("tab=image&model=run:image/my-run&sample=photo-ladybird.png&k=12", IMAGE)
    assert p.state == U.ImageLink("run:image/my-run", "photo-ladybird.png", 12)
    assert p.given == {"model", "sample", "k"} and p.notes == []
    assert U.build_link(IMAGE, p.state) == "tab=image&model=run:image/my-run&sample=photo-ladybird.png&k=12"


def test_left_out_parameters_keep_the_defaults():
    assert parse("tab=image", IMAGE).state == IMAGE.default() == U.ImageLink("image/flex1d-emoji64", "emoji-fox.png")
    assert parse("tab=audio&k=2", AUDIO).state == U.AudioLink("audio/rvq-speech16k", "flite-slt.wav", "pesq", 2)
    assert parse("tab=learn", LEARN).state == U.LearnLink("the cat sat", 25, "the hat", "trained", "chunk")


@pytest.mark.parametrize("query, field, default, words", [
    ("model=image/nope", "model", "image/flex1d-emoji64", ["'image/nope'", "image tokenizer", "run:image/my-run"]),
    ("sample=cat.png", "sample", "emoji-fox.png", ["'cat.png'", "photo-ladybird.png"]),
    ("k=0", "k", None, ["k='0'", "1 to 4096"]),
    ("k=5000", "k", None, ["k='5000'", "1 to 4096"]),
    ("k=2.5", "k", None, ["k='2.5'", "whole number"]),
    ("k=abc", "k", None, ["'abc'"]),
    ("k=1e999", "k", None, ["1 to 4096"]),
    ("k=nan", "k", None, ["1 to 4096"]),
])
def test_bad_image_values_fall_back_with_a_note(query, field, default, words):
    p = parse(query, IMAGE)
    assert getattr(p.state, field) == default
    assert len(p.notes) == 1 and all(w in p.notes[0] for w in words), p.notes


def test_values_are_matched_without_case_and_numbers_may_be_written_as_floats():
    p = parse("model=IMAGE/GRID-EMOJI32&sample=Emoji-Fox.PNG&k=%2012.0%20", IMAGE)
    assert p.state == U.ImageLink("image/grid-emoji32", "emoji-fox.png", 12) and p.notes == []


def test_bad_audio_values():
    p = parse("model=audio/x&metric=loudness&k=65&sample=", AUDIO)
    assert p.state == AUDIO.default()
    assert len(p.notes) == 4
    assert "choose from: pesq, stoi, si_sdr, mel_distance" in p.notes[2] and "1 to 64" in p.notes[3]


def test_tokenizer_lists_drop_the_unknown_keep_the_first_and_fall_back():
    p = parse("tokenizers=o200k_base,text/nope,bytes,o200k_base,chars,run:text/my-run", LANGUAGES)
    assert p.state.tokenizers == ("text/o200k_base", "text/bytes", "text/chars")
    assert "'text/nope'" in p.notes[0] and "at most 3" in p.notes[1] and "run:text/my-run" in p.notes[1]
    p = parse("tokenizers=,,", METRICS)
    assert p.state.tokenizers == ("text/o200k_base", "text/r50k_base") and "showing the defaults" in p.notes[0]


def test_metrics_and_learn_bad_values():
    p = parse("corpus=wikipedia&split=words&limit=10&languages=" + "x" * 500, METRICS)
    assert (p.state.corpus, p.state.split, p.state.limit) == ("sample", "whole", 200_000)
    assert len(p.state.languages) == 400
    assert "sample, shakespeare, austen, stdlib, udhr" in p.notes[0] and "1000 to 50000000" in p.notes[3]
    p = parse("merges=501&vocab=gpt2&order=random&corpus=" + "é" * 20_001, LEARN)
    assert p.state == U.LearnLink("é" * 20_000, 25, "the hat", "trained", "chunk")
    assert [n.split()[0] for n in p.notes] == ["The", "Ignored", "Ignored", "Ignored"]
    assert "1 to 500" in p.notes[1] and "trained, cl100k" in p.notes[2]


def test_long_texts_are_left_out_of_the_link_longest_first():
    s = U.LearnLink("c" * 9_000, 5, "t" * 100, "trained", "rank")
    assert U.left_out(LEARN, s) == ["corpus"]
    q = U.build_link(LEARN, s)
    assert "corpus=" not in q and "text=" + "t" * 100 in q and len(q) <= MAX_QUERY_CHARS
    s = U.LearnLink("短" * 1_000, 5, "t" * 5_000, "trained", "rank")  # 9,000 characters encoded vs 5,000
    assert U.left_out(LEARN, s) == ["corpus"]
    assert U.left_out(LEARN, U.LearnLink("c" * 100, 5, "t", "trained", "rank")) == []


def test_texts_are_percent_encoded_utf8_and_names_stay_readable():
    q = U.build_link(LEARN, U.LearnLink("a&b=c+d #é,", 3, "世界", "cl100k", "rank"))
    assert q == "tab=learn&corpus=a%26b%3Dc%2Bd%20%23%C3%A9,&merges=3&text=%E4%B8%96%E7%95%8C&vocab=cl100k&order=rank"
    assert parse(q, LEARN).state.corpus == "a&b=c+d #é,"
    q = U.build_link(LANGUAGES, U.LanguagesLink(("run:text/my-run", "text/bytes"), "Cyrl", "Indo-European"))
    assert q == "tab=languages&tokenizers=run:text/my-run,text/bytes&script=Cyrl&family=Indo-European"


# ---- properties ----------------------------------------------------------------------------------

def _text(max_size: int = 60):
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size)  # no lone surrogates (not UTF-8)


STATES = {
    "image": st.builds(U.ImageLink, st.sampled_from(IMAGE.params[0].choices),
                       st.one_of(st.none(), st.sampled_from(IMAGE.params[1].choices)),
                       st.one_of(st.none(), st.integers(1, U.MAX_K))),
    "audio": st.builds(U.AudioLink, st.sampled_from(AUDIO.params[0].choices),
                       st.one_of(st.none(), st.sampled_from(AUDIO.params[1].choices)),
                       st.sampled_from(AUDIO.params[2].choices), st.one_of(st.none(), st.integers(1, 64))),
    "languages": st.builds(U.LanguagesLink, st.lists(st.sampled_from(TEXT_NAMES), min_size=1, max_size=3,
                                                     unique=True).map(tuple),
                           st.one_of(st.none(), _text(40)), st.one_of(st.none(), _text(80)),
                           st.one_of(st.none(), st.sampled_from(TEXT_NAMES))),
    "metrics": st.builds(U.MetricsLink, st.lists(st.sampled_from(TEXT_NAMES), min_size=1, max_size=4,
                                                 unique=True).map(tuple),
                         st.one_of(st.none(), st.sampled_from(METRICS.params[1].choices)), _text(400),
                         st.sampled_from(METRICS.params[3].choices), st.integers(1_000, 50_000_000)),
    "learn": st.builds(U.LearnLink, _text(300), st.integers(1, 500), _text(300),
                       st.sampled_from(("trained", "cl100k")), st.sampled_from(("chunk", "rank"))),
}
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FEW
@given(st.sampled_from(sorted(STATES)).flatmap(lambda tab: st.tuples(st.just(tab), STATES[tab])))
def test_every_tabs_state_round_trips(tab_state):
    tab, state = tab_state
    spec = SPECS[tab]
    q = U.build_link(spec, state)
    assert parse_tab(dict(parse_qsl(q))).tab == tab
    back = parse(q, spec)
    expected = {f: (getattr(spec.default(), f) if getattr(state, f) is None else getattr(state, f))
                for f in state.__dataclass_fields__}  # None (an upload, all k) opens the default
    assert U.as_dict(back.state) == U.as_dict(spec.state(**expected))
    assert back.notes == []
    assert U.parse_link(parse_qs(q, keep_blank_values=True), spec).state == back.state  # lists of values


KEYS = U.all_keys() + ["x", ""]


@FEW
@given(st.sampled_from(sorted(SPECS)),
       st.dictionaries(st.sampled_from(KEYS), st.one_of(st.text(max_size=30), st.sampled_from(
           list(TEXT_NAMES) + ["12", "0", "-1", "1e9", "emoji-fox.png", "rank", "udhr", ",,", "%"])), max_size=6))
def test_build_of_parse_is_stable_on_any_query(tab, params):
    spec = SPECS[tab]
    once = U.build_link(spec, U.parse_link(params, spec).state)
    twice = U.build_link(spec, parse(once, spec).state)
    assert twice == once
    assert parse(once, spec).notes == []  # a link the app builds is always clean


# ---- the address bar -----------------------------------------------------------------------------

def test_every_parameter_of_every_tab_is_replaced_in_the_address_bar():
    keys = U.all_keys()
    assert {"tab", "tokenizers", "text", "mode", "model", "sample", "k", "metric", "script", "family", "map",
            "corpus", "languages", "split", "limit", "merges", "vocab", "order"} == set(keys)
    js = U.link_js("image", keys)
    assert js.startswith("(q) =>") and '"order"' in js and 'window.twTab === "image"' in js
    assert "twQueries" in U.select_js("audio", keys, True) and '"tab=train"' in U.select_js("train", keys, False)
