"""tokenworks.metrics.text: every metric on an example small enough to check by hand."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

import tokenworks as tw
from tokenworks.metrics._text_dist import efficiency, renyi_entropy, shannon_entropy, zipf_fit
from tokenworks.metrics._text_vocab import unreachable_tokens
from tokenworks.metrics.text import metrics_table, text_metrics, to_csv, to_rows, vocab_lengths
from tokenworks.text.bpe import BPEConfig, ByteBPE

ROOT = Path(__file__).resolve().parents[2]
CHARS_V = 0x110000


def load_or_skip(name: str):
    """A shared pretrained tokenizer, or a skip naming the missing asset."""
    try:
        return tw.load_shared(name)
    except tw.AssetMissing as e:
        pytest.skip(str(e))


def multilingual() -> list[str]:
    return (ROOT / "data" / "samples" / "multilingual.txt").read_text(encoding="utf-8").splitlines()


def tiny_bpe() -> ByteBPE:
    """256 "ab", 257 "bc", 258 "a"+"bc": "abc" encodes as ab + c, so 258 is never produced."""
    return ByteBPE([(97, 98), (98, 99), (97, 257)], BPEConfig(name="text/tiny", pattern=None))


# ---- the hand-checked example: text/chars on "ab ab" ------------------------------------------


def test_chars_on_ab_ab_every_number_by_hand():
    m = text_metrics("text/chars", ["ab ab"], unreachable=False)
    # tokens a, b, space, a, b
    assert (m.tokens, m.bytes, m.characters, m.documents) == (5, 5, 5, 1)
    assert m.bytes_per_token == 1.0 and m.chars_per_token == 1.0
    # two words, each touched by two tokens
    assert (m.word_unit, m.words, m.fertility, m.continued_word_ratio) == ("word", 2, 2.0, 1.0)
    assert m.round_trip_rate == 1.0 and m.unk_rate == 0.0 and m.byte_fallback_rate == 0.0
    assert m.distinct_tokens == 3 and m.vocab_utilisation == 3 / CHARS_V
    # counts a:2 b:2 space:1 -> p = .4 .4 .2
    h = -(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2))
    assert m.shannon_efficiency == pytest.approx(h / math.log(CHARS_V))
    h25 = math.log(2 * 0.4 ** 2.5 + 0.2 ** 2.5) / (1 - 2.5)
    assert m.renyi_efficiency == pytest.approx(h25 / math.log(CHARS_V)) and m.renyi_alpha == 2.5
    # rank-frequency (1, 2) (2, 2) (3, 1) in logs: slope -0.5630 (least squares by hand)
    assert m.zipf_slope == pytest.approx(-0.562993, abs=1e-5)
    assert m.zipf_r2 == pytest.approx(0.610823, abs=1e-5)
    assert m.token_length_hist == {1: 5}
    assert [t[1:] for t in m.longest_tokens] == [("␣", 1), ("a", 1), ("b", 1)]
    assert m.flags == [] and not m.lossy


def test_bytes_fertility_and_byte_fallback_by_hand():
    # "ab é c": bytes a b ␣ C3 A9 ␣ c; the two bytes of é each hold part of a character
    m = text_metrics("text/bytes", ["ab é c"], unreachable=False)
    assert (m.tokens, m.bytes, m.characters) == (7, 7, 6)
    assert m.chars_per_token == pytest.approx(6 / 7)
    assert m.byte_fallback_tokens == 2 and m.byte_fallback_rate == pytest.approx(2 / 7)
    # words ab (2 tokens), é (2), c (1)
    assert m.words == 3 and m.fertility == pytest.approx(5 / 3) and m.continued_word_ratio == pytest.approx(2 / 3)
    assert m.vocab_utilisation == pytest.approx(len({97, 98, 32, 0xC3, 0xA9, 99}) / 256)


def test_character_fallback_for_scripts_without_spaces():
    m = text_metrics("text/bytes", ["中文"], unreachable=False)
    assert m.word_unit == "character" and m.words == 2  # two characters, three bytes each
    assert m.fertility == 3.0 and m.continued_word_ratio == 1.0
    assert any("per character" in n for n in m.notes)
    w = text_metrics("text/bytes", ["中文"], word_unit="word", unreachable=False)
    assert (w.word_unit, w.words, w.fertility) == ("word", 1, 6.0)
    c = text_metrics("text/chars", ["中文 字"], unreachable=False)
    assert (c.word_unit, c.words, c.fertility, c.continued_word_ratio) == ("character", 3, 1.0, 0.0)


def test_tiny_bpe_token_lengths_and_longest():
    m = text_metrics(tiny_bpe(), ["ab ab"], unreachable=False)
    # ab ␣ ab
    assert m.tokens == 3 and m.token_length_hist == {1: 1, 2: 2}
    assert m.longest_tokens == [(256, "ab", 2), (32, "␣", 1)]
    assert m.fertility == 1.0 and m.continued_word_ratio == 0.0


def test_vocabulary_length_distribution():
    v = vocab_lengths(tiny_bpe())
    assert v.hist == {1: 256, 2: 2, 3: 1} and v.longest[0] == (258, "abc", 3)
    assert v.mean == pytest.approx((256 + 4 + 3) / 259)


def test_bytes_documents():
    # a, an invalid byte (its own one-byte "character"), then é split over two byte tokens
    m = text_metrics("text/bytes", [b"a\xff\xc3\xa9"], unreachable=False)
    assert (m.tokens, m.bytes, m.characters, m.round_trip_rate) == (4, 4, 3, 1.0)
    assert m.byte_fallback_tokens == 2 and m.words == 1 and m.fertility == 4.0


# ---- lossless / lossy -------------------------------------------------------------------------


def test_round_trip_rate_and_flag():
    # a lone surrogate cannot be written in UTF-8: text/bytes replaces it, so that document is lost
    m = text_metrics("text/bytes", ["ok", "\ud800x"], unreachable=False)
    assert m.round_trip_rate == 0.5
    assert m.lossy and "round trip fails on 1 of 2" in m.flags[0]


def test_wordpiece_on_chinese_flags_unks():
    tok = load_or_skip("text/bert-base-uncased")
    m = text_metrics(tok, ["中文：分词器把文本变成数字"], unreachable=False)
    # 中 文 ： 分 [UNK] [UNK] [UNK] 文 本 [UNK] 成 [UNK] [UNK]
    assert m.tokens == 13 and m.unk_tokens == 6 and m.unk_rate == pytest.approx(6 / 13)
    assert m.lossy and any("UNK" in f for f in m.flags)
    assert all(i != tok.unk_id for i, _, _ in m.longest_tokens)
    row = m.to_row()
    assert row["lossy"] is True and "UNK" in row["flags"]


def test_cl100k_round_trip_is_lossless():
    tok = load_or_skip("text/cl100k_base")
    m = text_metrics(tok, multilingual(), "multilingual", unreachable=False)
    assert m.round_trip_rate == 1.0 and m.unk_tokens == 0 and m.flags == []


def test_sentencepiece_byte_pieces_count_as_byte_fallback():
    tok = load_or_skip("text/mistral-7b")
    m = text_metrics(tok, ["a 𝔸"], unreachable=False)
    # ▁a ▁ <0xF0> <0x9D> <0x94> <0xB8>
    assert m.tokens == 6 and m.byte_fallback_tokens == 4
    assert m.round_trip_rate == 1.0


# ---- the unigram distribution ------------------------------------------------------------------


def test_uniform_distribution_has_efficiency_one():
    assert efficiency(shannon_entropy([7] * 50), 50) == pytest.approx(1.0)
    assert efficiency(renyi_entropy([7] * 50, 2.5), 50) == pytest.approx(1.0)
    # every byte once: uniform over V = 256
    m = text_metrics("text/bytes", [bytes(range(256))], unreachable=False)
    assert m.shannon_efficiency == pytest.approx(1.0) and m.renyi_efficiency == pytest.approx(1.0)
    assert m.vocab_utilisation == 1.0


def test_renyi_limits_and_ordering():
    c = [10, 5, 1, 1]
    assert renyi_entropy(c, 1) == pytest.approx(shannon_entropy(c))
    assert renyi_entropy(c, math.inf) == pytest.approx(-math.log(10 / 17))
    assert renyi_entropy(c, 0) == pytest.approx(math.log(4))  # Hartley: log of the support
    assert renyi_entropy(c, 2.5) < shannon_entropy(c)  # H_alpha decreases with alpha
    with pytest.raises(tw.InvalidInput):
        shannon_entropy([0, 0])
    assert efficiency(1.0, 1) is None


def test_zipf_sample_has_slope_minus_one():
    counts = [round(1e6 / r) for r in range(1, 1001)]
    fit = zipf_fit(counts)
    assert fit.slope == pytest.approx(-1.0, abs=1e-3) and fit.r2 == pytest.approx(1.0, abs=1e-4) and fit.n == 1000
    flat = zipf_fit([4, 4, 4, 4])
    assert flat.slope == pytest.approx(0.0) and flat.r2 == 1.0
    assert zipf_fit([3, 1]) is None


# ---- unreachable tokens -----------------------------------------------------------------------


def test_unreachable_token_in_a_constructed_bpe():
    tok = tiny_bpe()
    assert tok.encode("abc").tolist() == [256, 99]  # a+b merges first, so "abc" never becomes 258
    u = unreachable_tokens(tok)
    assert u.count == 1 and u.ids.tolist() == [258] and u.probed == 259
    assert u.examples[0].label == "abc" and u.examples[0].got == (256, 99)
    assert unreachable_tokens(tok) is u  # cached per tokenizer
    m = text_metrics(tok, ["abc"])
    assert m.unreachable is u and m.to_row()["unreachable"] == 1


def test_unreachable_tokens_in_a_real_vocabulary():
    tok = load_or_skip("text/o200k_base")
    u = unreachable_tokens(tok)
    assert u.skipped.get("special") == 2 and u.probed > 199_000
    assert 3413 in u.ids.tolist()  # " I'": the regex cuts "'" off, so the token never comes out
    assert tok.encode(" I'").tolist() != [3413]


def test_big_vocabulary_scan_is_skipped_with_a_note():
    m = text_metrics("text/chars", ["abc"])
    assert m.unreachable is None and any("not scanned" in n for n in m.notes)


# ---- tables, CSV, errors ----------------------------------------------------------------------


def test_table_and_csv():
    slices = {"en": ["hello world"], "zh": ["分词器把文本变成数字"]}
    rows = metrics_table(["text/bytes", "text/chars"], slices, unreachable=False)
    assert [(m.tokenizer, m.slice) for m in rows] == [("text/bytes", "en"), ("text/bytes", "zh"),
                                                      ("text/chars", "en"), ("text/chars", "zh")]
    assert rows[1].bytes_per_token == 1.0 and rows[3].bytes_per_token == 3.0
    table = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert len(table) == 4 and {"bytes_per_token", "lossy", "flags", "word_unit", "unreachable"} <= set(table[0])
    assert to_rows(rows)[0]["tokenizer"] == "text/bytes"


def test_o200k_packs_more_bytes_per_token_than_r50k():
    o200k, r50k = load_or_skip("text/o200k_base"), load_or_skip("text/r50k_base")
    a, b = metrics_table([o200k, r50k], {"multilingual": multilingual()}, unreachable=False)
    assert a.bytes_per_token > 1.5 * b.bytes_per_token
    assert a.fertility < b.fertility and a.byte_fallback_rate < b.byte_fallback_rate


def test_clear_errors():
    with pytest.raises(tw.InvalidInput, match="slice 'empty' has no text"):
        text_metrics("text/bytes", [], slice_name="empty")
    with pytest.raises(tw.InvalidInput, match="slice 'blank' has no text"):
        text_metrics("text/bytes", ["", ""], slice_name="blank")
    with pytest.raises(tw.InvalidInput, match="auto, word, character"):
        text_metrics("text/bytes", ["x"], word_unit="words")
    with pytest.raises(tw.InvalidInput, match="list of documents"):
        text_metrics("text/bytes", "one string")
    with pytest.raises(tw.UnknownTokenizer, match="Valid names"):
        text_metrics("text/nope", ["x"])
    with pytest.raises(tw.InvalidInput, match="str or bytes"):
        text_metrics("text/bytes", [3])
