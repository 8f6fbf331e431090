"""What the LM tab asks of the model (tokenworks.lm.inspect): every bad input is a message naming
the limit or the problem; a text's analysis and a mid-word prefix's three next-byte methods and
two continuations. Model tests share the session's SmolLM2 (``smollm2`` fixture)."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm import inspect as I

# ---- validation (no model) ---------------------------------------------------------------------


def test_empty_and_overlong_text_name_the_limit():
    with pytest.raises(InvalidInput, match="the text is empty.*4,000 characters"):
        I.analyze(None, "")
    with pytest.raises(InvalidInput, match="4,001 characters; the LM tab scores at most 4,000"):
        I.check_text("x" * (I.MAX_TEXT_CHARS + 1))
    with pytest.raises(InvalidInput, match="must be a string"):
        I.check_text(None)
    assert I.check_text("é" * I.MAX_TEXT_CHARS) == "é" * I.MAX_TEXT_CHARS  # characters, not bytes


@pytest.mark.parametrize("n", [0, 49, 2.5, "many", float("nan"), None])
def test_a_generation_length_outside_1_to_48_names_the_limit(n):
    with pytest.raises(InvalidInput, match="from 1 to 48"):
        I.check_length(n)


def test_generation_lengths_inside_the_limit_pass():
    assert [I.check_length(n) for n in (1, 48, 24.0, "7")] == [1, 48, 24, 7]


def test_an_invalid_utf8_upload_names_the_byte_offset(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café au lait".encode("latin-1"))  # é is the single byte E9 at offset 3
    with pytest.raises(InvalidInput, match="latin1.txt is not valid UTF-8: decoding failed at byte offset 3"):
        I.read_text_upload(bad)


def test_uploads_over_the_limits_and_empty_ones_are_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (I.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(InvalidInput, match=f"up to {I.MAX_UPLOAD_BYTES:,} bytes"):
        I.read_text_upload(big)
    long = tmp_path / "long.txt"
    long.write_text("b" * 5000, encoding="utf-8")
    with pytest.raises(InvalidInput, match="long.txt: the text has 5,000 characters; the LM tab scores at most 4,000"):
        I.read_text_upload(long)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty.txt: the text is empty"):
        I.read_text_upload(empty)
    with pytest.raises(InvalidInput, match="gone"):
        I.read_text_upload(tmp_path / "never-uploaded.txt")


def test_a_utf8_upload_is_read_bom_dropped(tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_bytes("\ufeffhéllo wörld".encode("utf-8"))
    assert I.read_text_upload(ok) == "héllo wörld"


# ---- with the model ------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix, match", [
    ("", "the prefix is empty"),
    ("<|im_start|>", r"only special tokens \(<\|im_start\|>\).*needs some text after special tokens"),
    ("<|im_start|><|im_end|>", "needs some text after special tokens"),
    ("x" * (I.MAX_PREFIX_CHARS + 1), "1,001 characters; the mid-word panel takes at most 1,000"),
])
def test_bad_prefixes_name_the_problem(smollm2, prefix, match):
    with pytest.raises(InvalidInput, match=match):
        I.midword(smollm2, prefix, 4)


def test_a_generation_over_the_limit_is_refused_before_any_work(smollm2):
    with pytest.raises(InvalidInput, match="from 1 to 48"):
        I.midword(smollm2, "Once upon a ti", 49)


def test_analyze_scores_every_token_and_reads_the_next_tokens(smollm2):
    a = I.analyze(smollm2, "The capital of France is Paris.")
    r = a.score
    assert a.n_tokens == len(r.tokens) and "".join(a.labels) == "The␣capital␣of␣France␣is␣Paris."
    assert a.bits_per_byte == pytest.approx(r.total_bits / len("The capital of France is Paris."))
    nt = a.next_tokens(3)  # after " France"
    ids, probs, ent = r.after(3)
    assert nt.ids.tolist() == ids[:I.TOP_K].tolist() and nt.entropy == ent and len(nt.labels) == I.TOP_K
    assert np.all(np.diff(nt.probs) <= 0) and nt.actual == "␣is"
    assert nt.actual_prob == pytest.approx(np.exp(r.logprobs[4]))
    assert nt.actual_rank is None or nt.labels[nt.actual_rank - 1] == "␣is"
    last = a.next_tokens(a.n_tokens - 1)
    assert last.actual is None and last.ids.tolist() == r.next_top_ids[:I.TOP_K].tolist()
    for bad in (-1, a.n_tokens, 1.5, "x"):
        with pytest.raises(InvalidInput, match=f"from 0 to {a.n_tokens - 1}"):
            a.next_tokens(bad)


def test_chat_mode_scores_the_templated_text_and_the_message_inside_it(smollm2):
    a = I.analyze(smollm2, "Hello!", chat=True)
    assert a.scored == a.chat.text and a.n_tokens == a.chat.n_tokens
    assert a.special.sum() == a.chat.special_total
    bits, nbytes = a.message_bits()
    lo, hi = a.chat.message_span
    assert nbytes == 6 and bits == pytest.approx(a.score.surprisal[lo:hi].sum())
    assert I.analyze(smollm2, "Hello!").message_bits() is None


def test_midword_gives_three_methods_and_two_continuations(smollm2):
    m = I.midword(smollm2, "Once upon a ti", 4)
    assert list(m.next) == ["naive", "healing", "exact"]
    for d in m.next.values():
        assert abs(d.probs.sum() - 1.0) < 1e-6
    assert m.prefix_tokens[-1] == "␣ti"  # the word cut short is the last token
    assert m.best("exact") == "m" and m.best("naive") != "m"  # "time": the exact method sees it, naive does not
    assert any(n.startswith("naive predicts") for n in m.notes)
    assert m.by_tokens.method == "tokens" and m.by_bytes.method == "exact"
    assert 1 <= len(m.by_bytes.data) <= 4 and m.by_bytes.data.startswith(b"m")
    assert set(m.timings) >= {"naive", "healing", "exact", "generate (tokens)", "generate (exact)"}
