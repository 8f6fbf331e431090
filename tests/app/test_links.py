"""Every tab's link (app/links.py): parse and build without a server. The Text tab's link is one
more TabSpec (links without tab= are Text links); then the other tabs'; then properties over all."""
from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import links as L

KNOWN = ("text/bytes", "text/chars", "text/cl100k_base", "text/o200k_base", "text/r50k_base", "text/llama3",
         "text/qwen3", "run:text/my-run")
TEXT = L.text_spec(KNOWN, ("text/cl100k_base", "text/bytes"), 6, "default text", 100, (2, 4))


def TextState(tokenizers, text, mode="tokens") -> L.TextLink:  # noqa: N802 - reads as the state it builds
    return L.TextLink(tuple(tokenizers), text, mode.lower())


DEFAULT = TextState(("text/cl100k_base", "text/bytes"), "default text", "tokens")


def build_query(state, max_chars: int = L.MAX_QUERY_CHARS) -> str:
    return L.build_link(TEXT, state, max_chars)


def text_in_link(state, max_chars: int = L.MAX_QUERY_CHARS) -> bool:
    return not L.left_out(TEXT, state, max_chars)


def parse_text(query: str):
    """As the server sees it: starlette's QueryParams come from parse_qsl (keep_blank_values)."""
    return L.parse_link(dict(parse_qsl(query, keep_blank_values=True)), TEXT)


def test_the_issue_link_restores_tokenizers_text_and_mode():
    p = parse_text("tokenizers=text/o200k_base,text/r50k_base&text=Hello%20world&mode=compare")
    assert p.state == TextState(["text/o200k_base", "text/r50k_base"], "Hello world", "Compare")
    assert p.given == {"tokenizers", "text", "mode"}
    assert p.notes == []


def test_no_query_keeps_the_defaults_and_says_nothing():
    p = parse_text("")
    assert p.state == DEFAULT and p.given == frozenset() and p.notes == []
    assert isinstance(p.state.tokenizers, tuple)  # immutable: a default is never shared and changed


def test_parameters_left_out_keep_their_defaults():
    p = parse_text("text=abc")
    assert p.state == TextState(DEFAULT.tokenizers, "abc", "Tokens") and p.given == {"text"}
    p = parse_text("mode=compare")  # the two default tokenizers are enough for Compare
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
    assert parse_text(q).state == state
    assert L.parse_link(parse_qs(q, keep_blank_values=True), TEXT).state == state  # lists of values
    assert parse_text(q).notes == []


def test_build_query_is_a_readable_url_encoded_query():
    q = build_query(TextState(["text/o200k_base", "run:text/my-run"], "Hello world & more: é/👋", "Compare"))
    assert q.startswith("tokenizers=text/o200k_base,run:text/my-run&mode=compare&text=")
    text = q.split("&text=", 1)[1]
    assert text == "Hello%20world%20%26%20more%3A%20%C3%A9%2F%F0%9F%91%8B"
    assert " " not in q and "+" not in q and "#" not in q
    # a whole URL splits back to the same query
    assert urlsplit(f"http://127.0.0.1:7860/?{q}").query == q


def test_plus_is_a_space_in_a_query_and_an_encoded_plus_is_a_plus():
    assert parse_text("text=a+b").state.text == "a b"
    assert parse_text("text=a%2Bb").state.text == "a+b"
    assert build_query(TextState(["text/bytes"], "a+b")).endswith("text=a%2Bb")


def test_unknown_tokenizers_are_dropped_with_a_note_naming_the_allowed_ones():
    p = parse_text("tokenizers=text/nope,text/bytes,<script>")
    assert p.state.tokenizers == ("text/bytes",)
    assert len(p.notes) == 1
    note = p.notes[0]
    assert "'text/nope'" in note and "'<script>'" in note and "text/o200k_base" in note and "choose from" in note


def test_names_without_the_text_prefix_duplicates_and_spaces():
    p = parse_text("tokenizers=o200k_base,%20text/o200k_base%20,,bytes")
    assert p.state.tokenizers == ("text/o200k_base", "text/bytes") and p.notes == []
    p = parse_text("tokenizers=o200k_base,bytes&tokenizers=chars")
    assert p.state.tokenizers == ("text/chars",)  # a request's dict keeps the last value of a repeated key
    p = L.parse_link(parse_qs("tokenizers=o200k_base,bytes&tokenizers=chars"), TEXT)
    assert p.state.tokenizers == ("text/o200k_base", "text/bytes", "text/chars")  # every value of a multi-dict
    assert p.notes == []


def test_no_usable_tokenizer_falls_back_to_the_defaults():
    for q in ("tokenizers=", "tokenizers=text/nope", "tokenizers=,,"):
        p = parse_text(q)
        assert p.state.tokenizers == DEFAULT.tokenizers
        assert any("showing the defaults" in n for n in p.notes)


def test_too_many_tokenizers_keep_the_first_ones():
    names = ["text/bytes", "text/chars", "text/cl100k_base", "text/o200k_base", "text/r50k_base", "text/llama3",
             "text/qwen3", "run:text/my-run"]
    p = parse_text("tokenizers=" + ",".join(names))
    assert p.state.tokenizers == tuple(names[:6])
    assert "at most 6" in p.notes[0] and "text/qwen3" in p.notes[0] and "run:text/my-run" in p.notes[0]


def test_compare_needs_two_to_four_tokenizers():
    p = parse_text("tokenizers=text/bytes&mode=compare")
    assert p.state.mode == "tokens" and p.state.tokenizers == ("text/bytes",)
    assert "2 to 4" in p.notes[0]
    five = "text/bytes,text/chars,text/cl100k_base,text/o200k_base,text/r50k_base"
    p = parse_text(f"tokenizers={five}&mode=Compare")  # mode is case-insensitive
    assert p.state.mode == "compare" and p.state.tokenizers == tuple(five.split(",")[:4])
    assert "at most 4" in p.notes[0] and "text/r50k_base" in p.notes[0]


def test_unknown_mode_falls_back_with_a_note():
    p = parse_text("mode=sideways")
    assert p.state.mode == "tokens" and "choose from: tokens, compare" in p.notes[0] and "'sideways'" in p.notes[0]
    assert parse_text("mode=single").state.mode == "tokens" and parse_text("mode=single").notes == []


def test_overlong_text_keeps_the_first_characters_up_to_the_limit():
    p = parse_text("text=" + "é" * 150)
    assert p.state.text == "é" * 100
    assert "150 characters" in p.notes[0] and "first 100" in p.notes[0]


def test_long_garbage_is_quoted_back_short():
    p = parse_text("tokenizers=" + "z" * 5000 + "&mode=" + "m" * 5000)
    assert all(len(n) < 600 for n in p.notes)
    assert len(p.notes) == 3 and "…" in p.notes[0] and "…" in p.notes[2]


def test_unicode_text_in_the_link_is_utf8_percent_encoded():
    q = build_query(TextState(["text/bytes"], "世界"))
    assert q.endswith("text=%E4%B8%96%E7%95%8C")
    assert parse_text(q).state.text == "世界"


def test_a_text_too_long_for_a_link_is_left_out():
    long = TextState(["text/bytes"], "世" * 3000)  # 27,000 characters once encoded
    assert not text_in_link(long)
    q = build_query(long)
    assert "text=" not in q and len(q) <= L.MAX_QUERY_CHARS
    assert parse_text(q).state == TextState(["text/bytes"], DEFAULT.text, "Tokens")  # the default text
    short = TextState(["text/bytes"], "a" * 1000)
    assert text_in_link(short) and build_query(short).endswith("a" * 1000)
    assert not text_in_link(short, max_chars=500)


def test_lone_surrogates_do_not_break_building():
    q = build_query(TextState(["text/bytes"], "a\ud800b"))
    assert parse_text(q).state.text == "a?b"


# ---- the other tabs -------------------------------------------------------------------------------

U = L
MAX_QUERY_CHARS, TAB_IDS, parse_tab = L.MAX_QUERY_CHARS, L.TAB_IDS, L.parse_tab

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
TRANSFER = U.transfer_spec(("text/cl100k_base", "text/o200k_base", "run:text/austen-bpe"), ("zero", "fvt", "omp"),
                           ("english", "python", "udhr-fra"), "text/cl100k_base", "fvt", ("english",))
TOURNAMENT = U.tournament_spec(("cpu (shipped)", "tournament-cpu-tiny (runs)"), "cpu (shipped)", "It is a truth", 2_000)
SPECS = {s.tab: s for s in (IMAGE, AUDIO, LANGUAGES, METRICS, LEARN, TEXT, TRANSFER, TOURNAMENT)}


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
    "text": st.builds(U.TextLink, st.lists(st.sampled_from(KNOWN), min_size=2, max_size=4, unique=True).map(tuple),
                      _text(100), st.sampled_from(("tokens", "compare"))),
    "learn": st.builds(U.LearnLink, _text(300), st.integers(1, 500), _text(300),
                       st.sampled_from(("trained", "cl100k")), st.sampled_from(("chunk", "rank"))),
    "transfer": st.builds(U.TransferLink, st.sampled_from(TRANSFER.params[0].choices),
                          st.sampled_from(TRANSFER.params[1].choices),
                          st.lists(st.sampled_from(TRANSFER.params[2].choices), min_size=1, max_size=3,
                                   unique=True).map(tuple)),
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
            "corpus", "languages", "split", "limit", "merges", "vocab", "order", "layer", "head", "flow", "merge", "r",
            "chat", "token", "prefix", "length", "tokenizer", "method", "domains", "board"} == set(keys)
    from app import widgets

    assert widgets.KEYS == keys
    js = widgets.link_js("image")
    assert js.startswith("(q) =>") and '"order"' in js and 'window.twTab === "image"' in js
    assert "twQueries" in widgets.select_js("audio") and '"tab=train"' in widgets.select_js("train")
    assert '"tab=audio"' not in widgets.select_js("audio")  # a tab with a link box writes its own query
