"""ByteBPE: differential against tiktoken, training against a naive reference, and the rest."""
from __future__ import annotations

import sysconfig
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenworks.checkpoint import load_checkpoint
from tokenworks.errors import InvalidIds, InvalidInput, UnknownTokenizer
from tokenworks.text.bpe import _NEWER_RE, _NEWER_THAN_TIKTOKEN, GPT4_PATTERN, ByteBPE, ChunkTrace

ROOT = Path(__file__).resolve().parents[2]
MULTILINGUAL = (ROOT / "data" / "samples" / "multilingual.txt").read_text(encoding="utf-8")
VOCABS = ["r50k_base", "cl100k_base", "o200k_base"]
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

ADVERSARIAL = [
    "",
    "a" * 5000,
    " " * 1000,
    "\n" * 500,
    "1234567890" * 50,
    "\t \r\n" * 50,
    "👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈 🇯🇵🇫🇷",
    "e\u0301\u0302\u0303 a\u0308\u0304 Z\u0351\u0352\u0353\u0354\u0355",
    "日本語のテキストと中文文本和한국어",
    "مرحبا بالعالم، שלום עולם! 123 abc",
    "lone \ud800 high, lone \udfff low, pair \ud83d\ude00, end \ud83d",
    "\ud800\udc00\ud800",
    "<|endoftext|> and <|fim_prefix|> are text here",
    "'s 've 'LL 're n't I'M",
    "\x00\x01\x7f\u0085\u00a0\u2028\u2029\ufeff",
    "    indented\n\t\tcode  \n\n\n  trailing   ",
    "x" + "!" * 300 + "?" * 200,
    "ÿ" * 700,
]


@lru_cache(maxsize=None)
def bpe(name: str) -> ByteBPE:
    return ByteBPE.from_pretrained(name)


@lru_cache(maxsize=None)
def reference(name: str):
    import tiktoken
    from tokenworks.text.openai_vocab import load_openai_vocab

    v = load_openai_vocab(name)
    return tiktoken.Encoding(name, pat_str=v.pattern, mergeable_ranks=v.ranks, special_tokens=v.special_tokens)


def assert_same(name: str, text: str) -> None:
    ours = bpe(name).encode(text).ids.tolist()
    theirs = reference(name).encode(text, disallowed_special=())
    assert ours == theirs, f"{name}: ids differ on {text[:80]!r}"


# ---- differential: from_pretrained == tiktoken ---------------------------------------------


@pytest.mark.parametrize("name", VOCABS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text())
def test_same_ids_as_tiktoken_on_generated_text(name, text):
    assert_same(name, text)


@pytest.mark.parametrize("name", VOCABS)
def test_same_ids_as_tiktoken_on_samples(name):
    for line in MULTILINGUAL.splitlines(keepends=True):
        assert_same(name, line)
    assert_same(name, MULTILINGUAL)
    for text in ADVERSARIAL:
        assert_same(name, text)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for rel in ["textwrap.py", "json/decoder.py", "string.py", "this.py"]:
        assert_same(name, (stdlib / rel).read_text(encoding="utf-8"))


def test_unicode_version_gap_is_covered():
    """Letters and digits the regex module knows but tiktoken (an older Unicode) does not."""
    import unicodedata

    ln = regex.compile(r"[\p{L}\p{N}]")
    enc = reference("cl100k_base")
    slash_a = enc.encode_ordinary("/A")
    assert len(slash_a) == 1  # "/A" is one token, so c + "/A" shows whether c is a letter to tiktoken
    unknown = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) == "Cn"
               and ln.match(chr(c)) and enc.encode_ordinary(chr(c) + "/A")[-1:] != slash_a]
    assert all(_NEWER_RE.match(chr(c)) for c in unknown)


@pytest.mark.parametrize("name", VOCABS)
def test_same_ids_as_tiktoken_across_the_unicode_gap(name):
    starts = [m.group()[0] for m in regex.finditer(r"(?:.)(?:-.)?", _NEWER_THAN_TIKTOKEN)]
    for c in starts:
        for tpl in ["x{}/A", "a{}b", "A{}a {}'s", "1{}2", " {}\n", "{}{}"]:
            assert_same(name, tpl.format(c, c))


@pytest.mark.parametrize("name", VOCABS)
def test_allowed_special_like_tiktoken(name):
    tok, ref = bpe(name), reference(name)
    text = "a<|endoftext|>b <|endoftext|><|endoftext|>c"
    assert tok.encode(text, allowed_special="all").ids.tolist() == ref.encode(text, allowed_special="all")
    assert tok.encode(text, allowed_special={"<|endoftext|>"}).ids.tolist() == ref.encode(text, allowed_special={"<|endoftext|>"})
    seq = tok.encode(text, allowed_special="all")
    assert tok.decode(seq) == text
    with pytest.raises(InvalidInput, match="special token"):
        tok.encode(text, allowed_special={"<|nope|>"})


def test_contract_spans_and_meta():
    tok = bpe("cl100k_base")
    assert tok.name == "text/bpe-cl100k" and tok.modality == "text"
    assert tok.vocab_size == 100277
    for text in ["héllo wörld 👋🏽", MULTILINGUAL, ""]:
        seq = tok.encode(text)
        assert seq.ids.dtype == np.int64 and tok.decode(seq) == text and seq.lossless
        data = text.encode("utf-8")
        assert b"".join(data[s.byte_start:s.byte_end] for s in seq.spans) == data
        for s, i in zip(seq.spans, seq.ids.tolist()):
            whole = text[s.start:s.end].encode("utf-8")
            assert (tok.token_bytes(i) in whole) and (s.partial == (whole != tok.token_bytes(i)))
    seq = tok.encode("a \ud800 b")
    assert not seq.lossless and seq.meta["replaced"] == [2]
    assert tok.decode(seq) == "a \ufffd b"
    assert tok.decode(seq, keep=1) == "a"


def test_bytes_input_round_trip_including_invalid_utf8():
    tok = bpe("cl100k_base")
    for data in [b"plain", b"\xff\xfe bad \xc3 utf8 \xe2\x82", "ok ✓".encode(), b""]:
        seq = tok.encode(data)
        assert tok.decode(seq) == data and seq.meta["input_type"] == "bytes"
        assert [(s.byte_start, s.byte_end) for s in seq.spans] == [(s.start, s.end) for s in seq.spans]
    assert tok.encode("ok ✓".encode()).ids.tolist() == tok.encode("ok ✓").ids.tolist()


def test_decode_rejects_invalid_ids():
    tok = bpe("cl100k_base")
    for bad in ([-1], [tok.vocab_size], [100256]):  # 100256 is a hole between ranks and specials
        with pytest.raises(InvalidIds):
            tok.decode(bad)


def test_unknown_vocabulary():
    with pytest.raises(UnknownTokenizer, match="cl100k_base"):
        ByteBPE.from_pretrained("gpt5")


def test_render_token():
    tok = bpe("cl100k_base")
    assert tok.render_token(tok.encode(" hello").ids[0]) == "␣hello"
    assert "".join(tok.render_token(i) for i in tok.encode("\x80".encode("latin-1")).ids) == "<0x80>"
    for i in tok.encode("€ 𝔘 👩🏽").ids.tolist():
        data = tok.token_bytes(i)
        try:
            assert tok.render_token(i) == data.decode("utf-8").replace(" ", "␣")
        except UnicodeDecodeError:
            assert "<0x" in tok.render_token(i)
    assert tok.render_token(100257) == "<|endoftext|>"


# ---- trace and merge tree --------------------------------------------------------------------


def test_trace_replays_to_the_ids():
    tok = bpe("cl100k_base")
    text = "Hello world, tokenization is fun! 日本語 aaaaaaa"
    seq = tok.encode(text, trace=True)
    traces = seq.meta["trace"]
    assert all(isinstance(t, ChunkTrace) for t in traces)
    assert [i for t in traces for i in t.ids] == seq.ids.tolist() == tok.encode(text).ids.tolist()
    data = text.encode("utf-8")
    for t in traces:
        states = t.states()
        assert len(states) == len(t.steps) + 1 and states[-1] == t.ids
        assert data[t.byte_start:t.byte_start + len(t.start_ids)] == t.text.encode("utf-8")
        for step, before in zip(t.steps, states):
            assert before[step.index:step.index + 2] == [step.left, step.right]
            assert tok.merges[(step.left, step.right)] == step.new_id
            assert sum(len(tok.token_bytes(i)) for i in before[:step.index]) == step.offset
            # the merge applied is the lowest-ranked one available in that state
            avail = [tok.merges.get(p) for p in zip(before, before[1:])]
            assert step.new_id == min(r for r in avail if r is not None)


@pytest.mark.parametrize("name", ["r50k_base", "cl100k_base"])
def test_merge_tree_leaves_are_the_bytes(name):
    tok = bpe(name)
    for i in [300, 1000, 25000, tok.encode(" tokenization").ids[0]]:
        tree = tok.merge_tree(int(i))
        leaves = tree.leaves()
        assert b"".join(n.data for n in leaves) == tok.token_bytes(int(i))
        assert all(len(n.data) == 1 and n.is_leaf for n in leaves) and tree.depth() >= 1
        assert tree.left.data + tree.right.data == tree.data


def test_to_tiktoken_pretrained_is_the_same_encoding():
    tok = bpe("r50k_base")
    enc = tok.to_tiktoken()
    assert enc.encode(MULTILINGUAL, disallowed_special=()) == tok.encode(MULTILINGUAL).ids.tolist()


# ---- training ---------------------------------------------------------------------------------


def reference_train(text: str, vocab_size: int, pattern: str) -> list[tuple[tuple[int, int], int]]:
    """The naive trainer: recount every pair after each merge; highest count, then smallest pair."""
    words = [list(c.encode("utf-8")) for c in regex.findall(pattern, text)]
    merges = []
    for new in range(256, vocab_size):
        counts: dict[tuple[int, int], int] = {}
        for w in words:
            for p in zip(w, w[1:]):
                counts[p] = counts.get(p, 0) + 1
        if not counts:
            break
        best = max(counts, key=lambda p: (counts[p], -p[0], -p[1]))
        merges.append((best, counts[best]))
        merged = []
        for w in words:
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged.append(out)
        words = merged
    return merges


TRAIN_TEXTS = [
    MULTILINGUAL,
    "aaaaaaaaaaaaaaaa aaaa aaa ab ab abab ababab bababa " * 3,
    "the quick brown fox jumps over the lazy dog; the dog sleeps. " * 5 + "1234567890 " * 4,
]


@pytest.mark.parametrize("text", TRAIN_TEXTS, ids=["multilingual", "repeats", "english"])
@pytest.mark.parametrize("vocab_size", [260, 300, 420])
def test_training_matches_the_naive_reference(text, vocab_size):
    for pattern in [GPT4_PATTERN, GPT2_PATTERN]:
        tok = ByteBPE.train(text, vocab_size, pattern=pattern)
        ref = reference_train(text, vocab_size, pattern)
        assert [(m.pair, m.count) for m in tok.training.merges] == ref
        assert tok.vocab_size == 256 + len(ref)


@lru_cache(maxsize=None)
def trained() -> ByteBPE:
    return ByteBPE.train([MULTILINGUAL, "def f(x):\n    return x ** 2\n"], 600, special_tokens=["<|end|>"])


@settings(max_examples=100, deadline=None)
@given(text=st.text())
def test_trained_round_trip(text):
    tok = trained()
    seq = tok.encode(text)
    assert tok.decode(seq) == text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    assert tok.to_tiktoken().encode(text, disallowed_special=()) == seq.ids.tolist()


def test_trained_specials_and_tiktoken_export():
    tok = trained()
    assert tok.special_tokens == {"<|end|>": 600 - 1} and tok.vocab_size == 600
    text = MULTILINGUAL + "<|end|>" + MULTILINGUAL[:50]
    seq = tok.encode(text, allowed_special="all")
    assert 599 in seq.ids.tolist() and tok.decode(seq) == text
    assert tok.to_tiktoken().encode(text, allowed_special="all") == seq.ids.tolist()
    assert tok.merge_tree(599).special


def test_training_progress_and_report():
    events = []
    tok = ByteBPE.train(TRAIN_TEXTS[2], 270, progress=events.append)
    assert [e.index for e in events] == list(range(14)) and all(e.total == 14 for e in events)
    assert events == tok.training.merges and not tok.training.stopped_early
    assert all(e.new_id == 256 + e.index for e in events)


def test_training_stops_early_when_the_corpus_runs_out():
    tok = ByteBPE.train("ab ab abc", 10_000)
    rep = tok.training
    assert rep.stopped_early and "no adjacent pairs" in rep.reason
    assert rep.vocab_size == tok.vocab_size < 10_000 and rep.requested_vocab_size == 10_000


def test_training_errors():
    with pytest.raises(InvalidInput, match="at least 256"):
        ByteBPE.train("some text", 100)
    with pytest.raises(InvalidInput, match="at least 258"):
        ByteBPE.train("some text", 257, special_tokens=["<a>", "<b>"])
    for empty in ["", [], ["", ""]]:
        with pytest.raises(InvalidInput, match="empty"):
            ByteBPE.train(empty, 300)


def test_training_on_one_long_chunk_and_no_pattern():
    text = "a" * 2000 + "b" * 77
    tok = ByteBPE.train(text, 280, pattern=None)
    assert [(m.pair, m.count) for m in tok.training.merges] == reference_train(text, 280, r"(?s:.+)")
    assert tok.decode(tok.encode(text)) == text


# ---- checkpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["trained", "r50k_base"])
def test_save_load_identical(runs_dir, which):
    tok = trained() if which == "trained" else bpe(which)
    folder = tok.save(runs_dir / which)
    assert (folder / "merges.txt").is_file()
    ckpt = load_checkpoint(folder)
    assert ckpt.kind == "text/bpe"
    back = ByteBPE.from_checkpoint(ckpt)
    assert back.name == tok.name and back.vocab_size == tok.vocab_size and back.merges == tok.merges
    assert back.special_tokens == tok.special_tokens
    for text in [MULTILINGUAL, *ADVERSARIAL[:8]]:
        assert back.encode(text).ids.tolist() == tok.encode(text).ids.tolist()
    assert [back.token_bytes(i) for i in range(0, tok.vocab_size, 97)] == [tok.token_bytes(i) for i in range(0, tok.vocab_size, 97)]
