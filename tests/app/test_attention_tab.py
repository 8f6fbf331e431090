"""The Attention tab's handlers (app/attention_tab.py, app/attention_views.py) as functions: the map
of MiniLM or SmolLM2, the flow, token merging and its curve, messages instead of tracebacks, the
link, and the tab's endpoints in the running app (the library: tests/text/test_attention.py,
tests/lm/test_attention.py, tests/text/test_token_merging.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tokenworks.errors import AssetMissing
from tokenworks.text import attention as attn

pytest.importorskip("gradio")

from app import attention_tab, attention_views, links  # noqa: E402
from app.attention_tab import AttentionUI  # noqa: E402

needs_model = pytest.mark.usefixtures("minilm_model")  # skips without the asset (tests/conftest.py)
UI = AttentionUI.named()
SENTENCE = attention_tab.DEFAULT_SENTENCE


@pytest.fixture
def no_cache():
    attention_views._attention.cache_clear()
    yield
    attention_views._attention.cache_clear()


# ---- messages, not tracebacks -----------------------------------------------------------------

def test_handler_messages_not_tracebacks(monkeypatch, no_cache):
    fig, msg = attention_tab.show_attention("", "average", "average")
    assert fig is None and "empty" in msg
    fig, msg = attention_tab.show_attention("hello", "9", "average")
    assert fig is None and "0..5" in msg
    fig, msg = attention_tab.show_attention("hello", "30", "average", "smollm2")  # SmolLM2 has 30 layers
    assert fig is None and "0..29" in msg
    fig, msg = attention_tab.show_attention("x" * 20_001, "0", "0", "smollm2")
    assert fig is None and "20,000" in msg
    for handler in (attention_views.show_flow, attention_views.show_merges):
        fig, msg = handler("   ")
        assert fig is None and "empty" in msg and "Traceback" not in msg

    def missing(*a, **k):
        raise AssetMissing("asset 'minilm-model' is not in the cache; run `tokenworks assets fetch minilm-model`")

    monkeypatch.setattr(attn, "model_dir", missing)
    for fig, msg in (attention_tab.show_attention("a sentence never seen before", "0", "3"),
                     attention_views.show_flow("a sentence never seen before"),
                     attention_views.show_merges("a sentence never seen before", "pitome", 2)):
        assert fig is None and "tokenworks assets fetch minilm-model" in msg and "Traceback" not in msg


def test_a_missing_smollm2_names_its_fetch_command(monkeypatch, no_cache):
    import tokenworks.lm.load as load

    def missing(*a, **k):
        raise AssetMissing("asset 'smollm2-135m' is not in the cache; run `tokenworks assets fetch smollm2-135m`")

    monkeypatch.setattr(load, "_gguf_of", missing)
    fig, msg = attention_tab.show_attention("A sentence.", "0", "average", "smollm2")
    assert fig is None and "tokenworks assets fetch smollm2-135m" in msg


def test_bad_merge_settings_name_what_is_allowed():
    fig, msg = attention_views.show_merges("A sentence.", "bipartite", 2)
    assert fig is None and "tome, pitome, random" in msg
    fig, msg = attention_views.show_merges("A sentence.", "tome", 99)
    assert fig is None and "0 to 64" in msg


# ---- the views ----------------------------------------------------------------------------------

@needs_model
def test_minilm_map_flow_and_merges():
    fig, msg = attention_tab.show_attention(SENTENCE, "2", "average")
    assert fig is not None and "MiniLM" in fig.layout.title.text and "tokens" in msg and "Causal" not in msg
    fig, msg = attention_tab.show_attention(SENTENCE, "average", "4")
    assert fig is None and "choose a layer" in msg
    fig, msg = attention_views.show_flow(SENTENCE, "minilm", "rollout")
    assert [t.name for t in fig.data] == ["flow", "layers"] and "attention rollout" in msg
    fig, msg = attention_views.show_flow(SENTENCE, "minilm", "value-norm")
    assert fig is None and "SmolLM2 only" in msg
    fig, msg = attention_views.show_merges(SENTENCE, "pitome", 2)
    assert fig.data[0].name == "merges" and len(fig.data[0].y) == 7  # the input, then 6 layers
    assert "**PiToMe, 2 per layer**: 12 of" in msg and "Cosine 0." in msg
    fig, msg = attention_views.show_merges(SENTENCE, "random", 0)
    assert "Cosine 1.0000" in msg


def test_smollm2_map_flow_and_model_switch(smollm2):
    layer, head, fig, msg = attention_tab.on_model(SENTENCE, "smollm2")
    assert layer["choices"][-1] == "29" and head["choices"][-1] == "8" and layer["value"] == "average"
    assert "SmolLM2-135M" in fig.layout.title.text and "<|endoftext|>" in msg and "Causal" in msg
    assert fig.layout.meta["tokens"][0] == "<|endoftext|>"
    fig, msg = attention_tab.show_attention(SENTENCE, "29", "8", "smollm2")
    assert fig is not None and "layer 29, head 8" in msg
    for method in ("rollout", "value-norm"):
        fig, msg = attention_views.show_flow(SENTENCE, "smollm2", method)
        assert abs(sum(fig.data[0].y) - 1.0) < 1e-3 and fig.layout.meta["method"] == method
        assert fig.data[0].y[0] == 0 and fig.layout.meta["first_absorbs"]  # the bars share out the rest
        assert "share out the rest" in msg
        assert "tired" in fig.layout.meta["tokens"][-2]  # the flow runs from the last token ('.') back


@needs_model
def test_the_curve_on_held_out_sentences(monkeypatch):
    from tokenworks.assets import status

    if status("janeaustenr").state != "present":
        pytest.skip("needs the janeaustenr asset")
    monkeypatch.setattr(attention_views, "CURVE_SENTENCES", 2)
    monkeypatch.setattr(attention_views, "CURVE_RS", (0, 2))
    attention_views._curve.cache_clear()
    try:
        fig, msg = attention_views.show_curve()
    finally:
        attention_views._curve.cache_clear()
    assert [t.name for t in fig.data] == ["ToMe", "PiToMe", "random dropping"]
    assert all(t.y[0] == 1.0 for t in fig.data)  # r = 0: the unmerged model
    assert "2 held-out sentences of Persuasion" in msg


# ---- the link -------------------------------------------------------------------------------------

def test_link_round_trip_and_checks():
    q, _ = attention_tab.link("Hi there", "smollm2", "12", "3", "value-norm", "pitome", 4)
    assert q == "tab=attention&model=smollm2&text=Hi%20there&layer=12&head=3&flow=value-norm&merge=pitome&r=4"
    parsed = links.parse_link({"tab": "attention", "model": "smollm2", "layer": "12", "head": "3", "r": "4"},
                              attention_tab.SPEC)
    assert parsed.state.layer == "12" and parsed.state.head == "3" and parsed.notes == []
    bad = links.parse_link({"tab": "attention", "model": "minilm", "layer": "12", "head": "3", "flow": "value-norm",
                            "r": "99"}, attention_tab.SPEC)
    s = bad.state
    assert (s.layer, s.head, s.flow, s.r) == ("average", "average", "rollout", attention_views.DEFAULT_R)
    text = " ".join(bad.notes)
    assert "layers 0 to 5" in text and "not averaged over layers" in text and "SmolLM2 only" in text
    assert "r is a whole number from 0 to 16" in text


def test_a_plain_page_load_only_writes_the_query():
    out = attention_tab.restore(UI, SENTENCE, "minilm", "average", "average", "rollout", "tome", 2,
                                SimpleNamespace(query_params={}))
    assert set(out) == {"note", "query"} and out["query"].startswith("tab=attention&model=minilm")


@needs_model
def test_a_link_restores_the_view():
    params = {"tab": "attention", "model": "minilm", "text": "Cats sit on mats and dogs sit on logs.",
              "layer": "3", "head": "5", "merge": "random", "r": "1"}
    out = attention_tab.restore(UI, SENTENCE, "minilm", "average", "average", "rollout", "tome", 2,
                                SimpleNamespace(query_params=params))
    assert out["sentence"] == params["text"] and out["layer"]["value"] == "3" and out["head"]["value"] == "5"
    assert out["merge_method"] == "random" and out["r"] == 1 and out["note"] == ""
    assert "layer 3, head 5" in out["status"] and out["plot"] is not None and out["flow_plot"] is not None
    assert "random dropping, 1 per layer" in out["merge_status"]
    assert out["query"] == links.build_link(attention_tab.SPEC, links.parse_link(params, attention_tab.SPEC).state)


# ---- the running app ------------------------------------------------------------------------------

@needs_model
@pytest.mark.app
def test_attention_endpoint_of_the_running_app(app_url):
    """The tab's handlers through the running app's API: a figure for a sentence, a message for none."""
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    plot, msg = client.predict("Attention is all you need.", "0", "average", "minilm", api_name="/attention")
    assert plot is not None and "tokens" in msg
    plot, msg = client.predict("", "0", "average", "minilm", api_name="/attention")
    assert plot is None and "empty" in msg
    plot, msg = client.predict("Attention is all you need.", "tome", 1, api_name="/attention_merges")
    assert plot is not None and "Cosine" in msg
