"""Learn tab: BPE training and encoding replayed merge by merge (tokenworks.teach.bpe_replay) and the
tab's handlers as plain functions."""
from __future__ import annotations

import pytest

from app import learn_tab as L
from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.text.bpe import ByteBPE
from tokenworks.teach.bpe_replay import (MAX_ENCODE_CHARS, MAX_MERGES, MAX_TRAIN_CHARS, replay_encoding,
                                        replay_training)

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]

CLASSIC = "aaabdaaabac"  # Wikipedia's BPE example: aa, then ab, then aa+ab
UI = L.LearnUI.named()  # handlers return {component: value}; here every component is its own name


def test_classic_corpus_gives_the_known_merges_in_order():
    rep = replay_training(CLASSIC, 4)
    got = [(s.left_text, s.right_text, s.merged, s.count, s.new_id) for s in rep.steps]
    # aa occurs 4 times counting overlaps (aaa holds two); ab and aa+ab twice; then all pairs are
    # seen once and the smallest pair of ids wins: a + c (97, 99)
    assert got == [("a", "a", "aa", 4, 256), ("a", "b", "ab", 2, 257), ("aa", "ab", "aaab", 2, 258),
                   ("a", "c", "ac", 1, 259)]
    assert rep.tokens_at(0) == list(CLASSIC.encode())  # step 0 is the bytes
    assert rep.tokens_at(1) == [256, 97, 98, 100, 256, 97, 98, 97, 99]  # "aa" a b d "aa" a b a c
    assert rep.tokens_at(2) == [256, 257, 100, 256, 257, 97, 99]
    assert rep.tokens_at(3) == [258, 100, 258, 97, 99]  # X d X a c
    assert [r["new token"] for r in rep.table(2)] == ["aa", "ab"]


def test_last_step_equals_bytebpe_encoding_and_each_step_decodes_to_the_corpus():
    corpus = L.DEFAULT_CORPUS + " Ünïcode: 世界 👋🏽 and 2024!"
    rep = replay_training(corpus, 40)
    tok = ByteBPE.train(corpus, 256 + 40)
    assert rep.n_steps == 40 and not rep.stopped_early
    assert [s.left for s in rep.steps] == [m.pair[0] for m in tok.training.merges]
    assert rep.tokens_at(rep.n_steps) == tok.encode(corpus).ids.tolist()
    lengths = []
    for k in range(rep.n_steps + 1):
        ids = rep.tokens_at(k)
        assert tok.decode(ids) == corpus
        assert all(i < 256 + k for i in ids)
        lengths.append(len(ids))
    assert lengths == sorted(lengths, reverse=True) and lengths[0] == len(corpus.encode())
    with pytest.raises(InvalidInput, match="0 \\(bytes\\) to 40"):
        rep.tokens_at(41)


def test_training_stops_early_and_says_why():
    rep = replay_training("abab", 50)
    assert rep.stopped_early and rep.n_steps < 50 and "no adjacent pairs" in rep.reason
    v = L.training_view("abab", 50, 99)  # step clamped to the last merge
    assert v.step == v.n_steps and "Stopped after" in v.status


def test_encoding_replay_with_a_trained_vocabulary_both_orders():
    tok = replay_training(CLASSIC, 4).tokenizer
    text = "aaabdaaabac aaab"
    for order in ("chunk", "rank"):
        rep = replay_encoding(text, tok, order)
        assert rep.tokens_at(0) == list(text.encode())
        assert rep.tokens_at(rep.n_steps) == tok.encode(text).ids.tolist()
        for k in range(rep.n_steps + 1):
            assert tok.decode(rep.tokens_at(k)) == text
    rank = replay_encoding(text, tok, "rank")
    assert [s.new_id for s in rank.steps] == sorted(s.new_id for s in rank.steps)
    chunk = replay_encoding(text, tok, "chunk")
    assert [s.chunk for s in chunk.steps] == sorted(s.chunk for s in chunk.steps)
    with pytest.raises(InvalidInput, match="chunk, rank"):
        replay_encoding(text, tok, "random")


def test_training_view_handler():
    v = L.training_view(CLASSIC, 3, 1)
    assert v.n_steps == 3 and v.step == 1
    assert "Step 1 of 3" in v.status and "seen 4 times" in v.status
    assert v.chips_html.count('class="tw-tok') == 9 and "data-id='256'" in v.chips_html  # highlighted
    assert list(v.table["new token"]) == ["aa"]
    v0 = L.training_view(CLASSIC, 3, 0)
    assert "Step 0 of 3" in v0.status and v0.chips_html.count('class="tw-tok') == len(CLASSIC) and v0.table.empty
    out = L.train(UI, CLASSIC, 3.0)  # gr.Number may give a float
    assert set(out) == {"status_t", "chips_t", "table_t", "slider_t"}  # the settings are left as they are
    status, chips, table, slider = out["status_t"], out["chips_t"], out["table_t"], out["slider_t"]
    assert "Step 0 of 3" in status and slider["maximum"] == 3 and slider["value"] == 0
    assert chips == v0.chips_html and table.empty
    assert L.step_training(CLASSIC, 3, 3, +1) == 3 and L.step_training(CLASSIC, 3, 0, -1) == 0
    assert L.step_training(CLASSIC, 3, 1, +1) == 2


@pytest.mark.parametrize("corpus, merges, message", [
    ("", 10, "empty"),
    ("   \n", 10, "empty"),
    (None, 10, "must be text"),
    ("x" * (MAX_TRAIN_CHARS + 1), 10, f"at most {MAX_TRAIN_CHARS:,}"),
    (CLASSIC, MAX_MERGES + 1, f"from 1 to {MAX_MERGES}"),
    (CLASSIC, 0, f"from 1 to {MAX_MERGES}"),
    (CLASSIC, None, f"from 1 to {MAX_MERGES}"),
    (CLASSIC, [3], f"from 1 to {MAX_MERGES}"),
])
def test_bad_training_input_is_a_message(corpus, merges, message):
    v = L.training_view(corpus, merges, 0)
    assert v.status.startswith("⚠️") and message in v.status and "Traceback" not in v.status
    assert v.chips_html == "" and v.n_steps == 0
    out = L.train(UI, corpus, merges)
    assert message in out["status_t"] and out["slider_t"]["value"] == 0 and out["chips_t"] == ""


def test_encoding_view_handler_trained_and_bad_input():
    v = L.encoding_view("aaab aaab", L.TRAINED, "chunk", CLASSIC, 3, 2)
    # chunks "aaab", " aaab"; encoder order: step 2 is a + b in the first chunk, after "aa" (index 1)
    assert v.n_steps == 6 and "Step 2 of 6" in v.status and "data-index='1'" in v.chips_html
    v = L.encoding_view("aaab aaab", L.TRAINED, "rank order (earliest merge first, whole text)", CLASSIC, 3, 2)
    # rank order: step 2 is the second chunk's "aa": aa a b ␣ [aa] a b
    assert v.replay.order == "rank" and "data-index='4'" in v.chips_html
    status, chips, slider = L.encode("aaab", L.TRAINED, "chunk", CLASSIC, 3)
    assert slider["maximum"] == 3 and "Step 0 of 3" in status
    assert L.step_encoding("aaab", L.TRAINED, "chunk", CLASSIC, 3, 3, 1) == 3
    for text, vocab, corpus, msg in [("", L.TRAINED, CLASSIC, "empty"),
                                     ("x" * (MAX_ENCODE_CHARS + 1), L.TRAINED, CLASSIC, f"at most {MAX_ENCODE_CHARS:,}"),
                                     ("abc", L.TRAINED, "", "train a vocabulary above first"),
                                     ("abc", "text/nope", CLASSIC, "text/bpe-cl100k")]:
        v = L.encoding_view(text, vocab, "chunk", corpus, 3, 0)
        assert v.status.startswith("⚠️") and msg in v.status, v.status


def test_encoding_replay_with_cl100k():
    try:
        L._cl100k()
    except AssetMissing:
        pytest.skip("asset bpe-openai not fetched (tokenworks assets fetch bpe-openai)")
    text = "Tokenization isn't magic."
    v = L.encoding_view(text, L.CL100K, "chunk", "", 0, 10_000)
    tok = L._cl100k()
    assert v.step == v.n_steps > 0
    assert v.replay.tokens_at(v.n_steps) == tok.encode(text).ids.tolist()
    assert v.replay.tokens_at(0) == [tok._byte_ids[b] for b in text.encode()]


def test_tab_builds():
    import gradio as gr

    with gr.Blocks() as demo:
        with gr.Tab("Learn") as tab:
            L.build(tab)
    names = {d.get("api_name") for d in demo.config["dependencies"]}
    assert {"learn_train", "learn_train_step", "learn_encode", "learn_encode_step"} <= names


def test_learn_endpoints_through_the_running_app(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    status, chips, table, slider = client.predict(CLASSIC, 3, api_name="/learn_train")
    assert "Step 0 of 3" in status and chips.count('class="tw-tok') == len(CLASSIC)
    status, chips, table = client.predict(CLASSIC, 3, 3, api_name="/learn_train_step")
    assert "Step 3 of 3" in status and chips.count('class="tw-tok') == 5
    status, _, _, _ = client.predict("", 3, api_name="/learn_train")
    assert status.startswith("⚠️") and "empty" in status
    status, chips = client.predict("aaab aaab", L.TRAINED, "chunk", CLASSIC, 3, 6, api_name="/learn_encode_step")
    assert "Step 6 of 6" in status and chips.count('class="tw-tok') == 3
