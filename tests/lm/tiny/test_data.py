"""The tournament's data side: corpora held out by document, encoding with separators, lossless
contestants (tokenworks.lm.tiny.data and tokenworks.lm.tiny.tokenizers)."""
from __future__ import annotations

import numpy as np
import pytest
import tokenworks as tw
from tokenworks.errors import InvalidInput
from tokenworks.lm.tiny.data import (
    CORPORA,
    HELD_OUT_ARTICLES,
    UDHR_LANGUAGES,
    EncodedSplit,
    TextSplit,
    check_lossless,
    encode_split,
    load_text,
)
from tokenworks.lm.tiny.tokenizers import (
    KINDS,
    load_contestant,
    train_contestant_tokenizer,
)

TRAIN_BYTES = 150_000


@pytest.fixture(scope="module")
def small_train() -> TextSplit:
    return load_text("multilingual", "train", limit_bytes=TRAIN_BYTES)


@pytest.fixture(scope="module")
def ml_test() -> TextSplit:
    return load_text("multilingual", "test")


@pytest.fixture(scope="module")
def contestants(small_train, tmp_path_factory):
    """bpe and unigram at 800 ids, trained once, saved in an isolated runs folder."""
    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOKENWORKS_RUNS", str(runs))
        out = {k: train_contestant_tokenizer(k, 800, small_train, runs / "tiny" / k) for k in ("bpe", "unigram")}
        out["refs_loaded"] = {k: load_contestant(c.ref) for k, c in out.items()}
    return out


# ---- corpora -----------------------------------------------------------------------------------


@pytest.mark.parametrize("corpus", CORPORA)
def test_splits_are_disjoint_by_document_and_deterministic(corpus):
    train = load_text(corpus, "train", limit_bytes=300_000)
    test = load_text(corpus, "test", limit_bytes=300_000)
    assert train.sources and test.sources
    assert not set(train.sources) & set(test.sources)
    assert len(set(train.sources)) == len(train.sources)
    again = load_text(corpus, "train", limit_bytes=300_000)
    assert again.sources == train.sources and again.data_hash == train.data_hash
    for src in train.sources + test.sources:
        if src.startswith("udhr:"):
            assert (int(src.split("#")[1]) in HELD_OUT_ARTICLES) == (src in test.sources)
        if src.startswith("austen:"):
            assert src.startswith("austen:persuasion") == (src in test.sources)


def test_multilingual_holds_every_language_and_source_even_when_capped(small_train):
    for split in (small_train, load_text("multilingual", "train", limit_bytes=20_000), load_text("multilingual", "test")):
        groups = split.bytes_by_source()
        assert {f"udhr:{c}" for c in UDHR_LANGUAGES} | {"austen", "pydocs"} == set(groups), split.split
        udhr = sum(v for k, v in groups.items() if k.startswith("udhr:"))
        assert udhr > 0.2 * split.nbytes  # a substantial share


@pytest.mark.parametrize("corpus,limit", [("english", 50_000), ("multilingual", 60_000), ("multilingual", 3_000)])
def test_limit_bytes_keeps_whole_documents_under_the_cap(corpus, limit):
    full = load_text(corpus, "train")
    part = load_text(corpus, "train", limit_bytes=limit)
    assert 0.9 * limit < part.nbytes <= limit
    whole = dict(zip(full.sources, full.documents))
    assert all(whole[s] == d for s, d in zip(part.sources, part.documents))


def test_unknown_corpus_split_and_bad_limit_name_the_choices():
    with pytest.raises(InvalidInput, match="english, multilingual"):
        load_text("klingon", "train")
    with pytest.raises(InvalidInput, match="train, test"):
        load_text("english", "dev")
    with pytest.raises(InvalidInput, match="positive integer"):
        load_text("english", "train", limit_bytes=0)
    with pytest.raises(InvalidInput, match="no whole document"):
        load_text("english", "train", limit_bytes=1)


# ---- encoding ----------------------------------------------------------------------------------


def _assert_round_trip(tok, split: TextSplit, enc: EncodedSplit):
    v = tok.vocab_size
    assert enc.sep_id == v and enc.vocab_size == v + 1 and enc.ids.dtype == np.int64
    assert (enc.ids[enc.doc_starts] == v).all() and int((enc.ids == v).sum()) == len(split.documents)
    assert enc.n_tokens == len(enc.ids) - len(split.documents) and enc.n_bytes == split.nbytes
    for i, doc in enumerate(split.documents):
        assert tok.decode(enc.document(i)) == doc


def test_encode_split_bytes_round_trips(ml_test):
    tok = tw.load("text/bytes")
    enc = encode_split(tok, ml_test)
    _assert_round_trip(tok, ml_test, enc)
    assert enc.bytes_per_token == 1.0 and enc.vocab_size == 257


@pytest.mark.parametrize("kind", ["bpe", "unigram"])
def test_trained_contestants_round_trip_on_the_multilingual_test_split(contestants, ml_test, kind):
    c = contestants[kind]
    assert c.vocab_size == 800 and c.ref.startswith("run:") and c.data_hash and c.seconds > 0
    assert c.tokenizer.byte_level
    langs = {s.split("#")[0] for s in ml_test.sources}
    assert {"udhr:cmn_hans", "udhr:hin", "udhr:rus", "udhr:jpn", "udhr:arb"} <= langs
    tok = contestants["refs_loaded"][kind]  # read back through load_ref
    enc = encode_split(tok, ml_test)
    _assert_round_trip(tok, ml_test, enc)
    assert enc.bytes_per_token > 1.5
    check_lossless(tok, ["\x00\x7f\xff \U0001F600 naïve 中文 हिन्दी\r\n\t"])


def test_unigram_is_byte_level_with_no_unknown_token(contestants):
    from tokenworks.lm.vocab import vocab_for

    tok = contestants["unigram"].tokenizer
    assert tok.model_type == "Unigram" and tok.unk_id is None
    vocab_for(tok)  # accepted: exact bytes


def test_check_lossless_refuses_bert_with_bits_per_byte_in_the_message():
    try:
        tok = tw.load_shared("text/bert-base-uncased")
    except tw.AssetMissing as e:
        pytest.skip(str(e))
    with pytest.raises(InvalidInput, match="bits per byte") as e:
        check_lossless(tok, ["Hello World"])
    assert "lower-cases" in str(e.value)
    with pytest.raises(InvalidInput, match="bits per byte"):
        encode_split(tok, load_text("english", "test", limit_bytes=20_000))


def test_check_lossless_refuses_a_sentencepiece_style_unigram():
    from tokenworks.text.hf_train import HFTrainConfig, train_hf

    tok = train_hf(["the cat sat on the mat"] * 20, HFTrainConfig(algo="unigram", vocab_size=30))
    with pytest.raises(InvalidInput, match="bits per byte"):
        check_lossless(tok, ["the cat"])


# ---- contestants -------------------------------------------------------------------------------


def test_contestant_kinds_and_requests_are_checked(small_train, tmp_path):
    with pytest.raises(InvalidInput, match=", ".join(KINDS)):
        train_contestant_tokenizer("wordpiece", 800, small_train, tmp_path / "x")
    with pytest.raises(InvalidInput, match="vocab_size=256"):
        train_contestant_tokenizer("bytes", 800, small_train, tmp_path / "x")
    with pytest.raises(InvalidInput, match="at least|between 257"):
        train_contestant_tokenizer("bpe", 100, small_train, tmp_path / "x")
    with pytest.raises(InvalidInput, match="train split"):
        train_contestant_tokenizer("bpe", 800, load_text("english", "test", limit_bytes=20_000), tmp_path / "x")


def test_bytes_and_superbpe_contestants_load_back(runs_dir, ml_test):
    tiny = load_text("english", "train", limit_bytes=40_000)
    b = train_contestant_tokenizer("bytes", 256, tiny, runs_dir / "bytes")
    assert b.ref == "text/bytes" and b.vocab_size == 256 and (b.folder / "config.json").is_file()
    s = train_contestant_tokenizer("superbpe", 400, tiny, runs_dir / "superbpe")
    assert s.ref == "run:superbpe" and s.vocab_size == 400
    tok = tw.load_ref(s.ref)
    _assert_round_trip(tok, ml_test, encode_split(tok, ml_test))


def test_a_folder_outside_the_runs_is_referred_to_by_path(runs_dir, tmp_path):
    tiny = load_text("english", "train", limit_bytes=20_000)
    c = train_contestant_tokenizer("bpe", 300, tiny, tmp_path / "elsewhere" / "bpe")
    assert c.ref == str((tmp_path / "elsewhere" / "bpe").resolve())
    assert load_contestant(c.ref).vocab_size == 300


@pytest.mark.parametrize("kind", ["bpe", "unigram"])
def test_too_little_text_reports_the_vocabulary_reached(runs_dir, kind):
    tiny = load_text("english", "train", limit_bytes=3_000)
    c = train_contestant_tokenizer(kind, 20_000, tiny, runs_dir / kind)
    assert c.stopped_early and c.vocab_size < 20_000 and "too few" in c.reason
