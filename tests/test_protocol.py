"""The protocol grid: every registry entry x sample inputs."""
from __future__ import annotations

import numpy as np
import pytest

import tokenworks as tw
from tokenworks.core import capabilities

from conftest import SAMPLES

TEXT = tw.available("text")


def test_registry_lists_the_foundation_tokenizers():
    assert {"text/bytes", "text/chars"} <= set(TEXT)
    for name in tw.available():
        assert name.split("/")[0] in tw.MODALITIES


@pytest.mark.parametrize("name", TEXT)
def test_tokenizer_has_the_contract(name):
    tok = tw.load(name)
    assert isinstance(tok, tw.Tokenizer)
    assert tok.name == name and tok.modality == "text"
    assert tok.vocab_size > 0


@pytest.mark.parametrize("name", TEXT)
@pytest.mark.parametrize("text", SAMPLES, ids=range(len(SAMPLES)))
def test_round_trip_and_spans_cover_the_input(name, text):
    tok = tw.load(name)
    seq = tok.encode(text)
    assert seq.modality == "text" and seq.tokenizer == name
    assert seq.ids.dtype == np.int64 and seq.ids.ndim == 1
    assert len(seq.spans) == len(seq)
    if seq.lossless:
        assert tok.decode(seq) == text
    if seq.lossless and seq.meta.get("spans_tile", True):
        _check_tiling(text, seq)
    else:
        # lossy (normalisation, [UNK]) or word-level spans: spans stay in bounds and in order
        assert seq.lossless or seq.meta.get("note")
        off = text.encode("utf-8")
        last = 0
        for sp in seq.spans:
            assert 0 <= sp.start <= sp.end <= len(text) and sp.start >= last
            assert 0 <= sp.byte_start <= sp.byte_end <= len(off)
            last = sp.start
        for a, b in seq.meta.get("lossy_spans", []):
            assert 0 <= a < b <= len(text)


def _check_tiling(text, seq):
    data = text.encode("utf-8")
    # byte spans tile the UTF-8 input exactly, in order
    pos = 0
    for sp in seq.spans:
        assert sp.byte_start == pos and sp.byte_end > sp.byte_start
        pos = sp.byte_end
    assert pos == len(data)
    # char spans are ordered, never go back, and reach the end
    last_start, last_end = 0, 0
    for sp in seq.spans:
        assert 0 <= sp.start < sp.end <= len(text)
        assert sp.start >= last_start  # never go back
        last_start, last_end = sp.start, max(last_end, sp.end)
    assert last_end == len(text)
    covered = set()
    for sp in seq.spans:
        covered.update(range(sp.start, sp.end))
    assert covered == set(range(len(text)))
    # a span's bytes are the bytes of its characters, unless it cuts a character
    for sp in seq.spans:
        chars = text[sp.start:sp.end].encode("utf-8")
        piece = data[sp.byte_start:sp.byte_end]
        assert piece == chars if not sp.partial else piece in chars


@pytest.mark.parametrize("name", TEXT)
def test_keep_k_decodes_a_growing_prefix(name):
    tok = tw.load(name)
    text = SAMPLES[3]
    seq = tok.encode(text)
    if not seq.lossless:
        pytest.skip(f"{name} is lossy on this text: {seq.meta.get('note')}")
    prev = ""
    for k in range(len(seq) + 1):
        out = tok.decode(seq, keep=k)
        # every prefix decodes; the text before any replacement char grows monotonically
        stable = out.split("\ufffd")[0]
        assert text.startswith(stable)
        assert len(stable) >= len(prev.split("\ufffd")[0]) or "\ufffd" in prev
        prev = out
    assert tok.decode(seq, keep=len(seq)) == text
    assert tok.decode(seq, keep=0) == ""


@pytest.mark.parametrize("name", TEXT)
def test_save_and_load_give_the_same_tokenizer(name, runs_dir):
    tok = tw.load(name)
    if "save" not in capabilities(tok):
        pytest.skip(f"{name} has no save()")
    folder = tok.save(runs_dir / name.replace("/", "-"))
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    again = tw.load_checkpoint(folder.name)
    assert type(again) is type(tok) and again.name == tok.name
    assert again.config == tok.config
    for text in SAMPLES:
        assert again.encode(text).tolist() == tok.encode(text).tolist()


@pytest.mark.parametrize("name", TEXT)
@pytest.mark.parametrize("bad", [[-1], [10**9], [0, 1, 2**40]])
def test_undecodable_ids_are_refused_with_the_valid_range(name, bad):
    tok = tw.load(name)
    with pytest.raises(tw.InvalidIds, match=r"valid ids are 0\.\.\d+"):
        tok.decode(bad)


@pytest.mark.parametrize("name", TEXT)
@pytest.mark.parametrize("bad", [[1.5], ["a"], 3, None])
def test_non_integer_ids_are_refused(name, bad):
    tok = tw.load(name)
    with pytest.raises(tw.InvalidIds):
        tok.decode(bad)


@pytest.mark.parametrize("name", TEXT)
@pytest.mark.parametrize("bad", [None, 3, 4.5, ["a"], {"x": 1}])
def test_non_text_input_is_refused_clearly(name, bad):
    tok = tw.load(name)
    with pytest.raises(tw.InvalidInput, match="give a str or bytes"):
        tok.encode(bad)


@pytest.mark.parametrize("name", TEXT)
def test_render_token_and_token_json(name):
    tok = tw.load(name)
    assert "render_token" in capabilities(tok)
    seq = tok.encode("a é")
    for i in seq.tolist():
        assert isinstance(tok.render_token(i), str) and tok.render_token(i)
    if name in ("text/bytes", "text/chars"):
        assert tok.render_token(ord("a")) == "a" and tok.render_token(ord(" ")) == "␣"
    d = seq.to_dict()
    assert d["ids"] == seq.tolist() and len(d["spans"]) == len(seq)
    assert '"tokenizer": "%s"' % name in seq.to_json()
