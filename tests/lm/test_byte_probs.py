"""Next-byte probabilities (tokenworks.lm.byte_probs): exact against brute force on a toy model whose
tokenizations can all be listed, and the three methods on SmolLM2."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm import byte_probs
from tokenworks.lm.byte_probs import exact, split_utf8
from tokenworks.lm.toy import EOS, ToyBPE, ToyLM, all_strings, cover_encodings_brute_force


# ---- the toy: every tokenization listed ----------------------------------------------------------

def test_toy_bpe_is_a_real_bpe_with_a_pretokenizer():
    bpe = ToyBPE()
    assert bpe.decode(bpe.encode("abab a  ab")) == b"abab a  ab"
    # merges by rank: "ab" (rank 0) beats "ba" (rank 2), then "ab"+"a" -> "aba"
    assert [bpe.token_bytes[i] for i in bpe.encode("aba")] == [b"aba"]
    assert [bpe.token_bytes[i] for i in bpe.encode("bab")] == [b"b", b"ab"]
    # a space starts a word; runs of spaces stay together
    assert bpe.pretokens("ab  ab") == [(0, 2), (2, 4), (4, 6)]
    assert bpe.pretokens("ab ab") == [(0, 2), (2, 5)]


def test_exact_equals_the_distribution_over_every_string():
    """A model with all its mass on canonical encodings: exact == summing P(s) over every string."""
    toy = ToyLM(max_len=7)
    assert sum(toy._string_probs.values()) == pytest.approx(1.0, abs=1e-12)
    checked = 0
    for s in all_strings(5):
        want, want_end = toy.brute_force_next_bytes(s.encode())
        if not np.isfinite(want).all():
            continue  # nothing follows this prefix inside max_len
        got = exact(toy, s, tolerance=0.0)
        np.testing.assert_allclose(got.probs, want, atol=1e-12, err_msg=repr(s))
        assert got.end_prob == pytest.approx(want_end, abs=1e-12)
        checked += 1
    assert checked > 300


def test_exact_equals_listed_cover_encodings_when_the_model_leaks_mass():
    """A model that also gives mass to tokenizations the tokenizer never makes: exact sums the valid
    cover encodings only, as listed one by one by a depth-first search."""
    toy = ToyLM(masked=False)
    for s in all_strings(4):
        got = exact(toy, s, tolerance=0.0)
        np.testing.assert_allclose(got.probs, cover_encodings_brute_force(toy, s.encode()), atol=1e-12,
                                   err_msg=repr(s))


def test_the_validity_check_matters(monkeypatch):
    """Counting every cover encoding, valid or not, gives a different answer: the test above can fail."""
    toy = ToyLM(masked=False)
    monkeypatch.setattr(byte_probs, "_valid", lambda vocab, tails, ids, pairs, starts: np.ones(len(pairs), bool))
    wrong = [s for s in all_strings(3)
             if abs(exact(toy, s, tolerance=0.0).probs - cover_encodings_brute_force(toy, s.encode())).max() > 1e-9]
    assert len(wrong) > 10


def test_naive_and_healing_on_the_toy_differ_from_exact_mid_word():
    toy = ToyLM()
    want, _ = toy.brute_force_next_bytes(b"a")
    assert np.abs(exact(toy, "a").probs - want).max() < 1e-12
    assert np.abs(byte_probs.naive(toy, "a").probs - want).max() > 1e-3  # "a" as one token misses "ab..."


def test_split_utf8():
    assert split_utf8("héllo".encode()) == ("héllo", b"")
    assert split_utf8("hé".encode()[:-1]) == ("h", b"\xc3")
    assert split_utf8("a😀".encode()[:-2]) == ("a", "😀".encode()[:2])
    with pytest.raises(InvalidInput, match="not valid UTF-8"):
        split_utf8(b"a\xffb")


def test_bad_method_names_the_choices():
    with pytest.raises(InvalidInput, match="naive, healing, exact"):
        byte_probs.next_bytes(ToyLM(), "a", method="greedy")


def test_toy_eos_is_special():
    assert ToyBPE().special[EOS] and ToyBPE().token_bytes[EOS] == b""


# ---- SmolLM2 --------------------------------------------------------------------------------------

PREFIXES = ["The capital of France is Par", "def hello_wor", "Once upon a ti", "naïve caf", "a  "]


@pytest.mark.parametrize("method", byte_probs.METHODS)
def test_smollm2_distributions_sum_to_one(smollm2, method):
    for p in PREFIXES:
        d = smollm2.next_bytes(p, method)
        assert d.probs.shape == (256,) and (d.probs >= 0).all()
        assert abs(d.probs.sum() - 1.0) < 1e-6, (p, method)


def test_smollm2_exact_fixes_mid_word_prompts(smollm2):
    d = {m: smollm2.next_bytes("The capital of France is Par", m) for m in byte_probs.METHODS}
    assert d["exact"].best == b"i" and d["exact"].probs[ord("i")] > 0.9
    assert d["naive"].probs[ord("i")] < d["exact"].probs[ord("i")]
    assert d["exact"].unchecked_mass < 1e-6 and d["exact"].encodings > 1000


def test_smollm2_word_boundary_gives_naive_top_bytes(smollm2):
    """At a word boundary the prompt is in distribution: exact agrees with naive on the top bytes."""
    for p in ["The cat sat on the mat.", "I would like a cup of coffee", "Hello, world"]:
        naive = [b for b, _ in smollm2.next_bytes(p, "naive").top(3)]
        ex = [b for b, _ in smollm2.next_bytes(p, "exact").top(3)]
        assert ex[0] == naive[0], p
        assert set(ex[:2]) <= set(naive), p


def test_smollm2_exact_reuses_the_cache(smollm2):
    long = "The history of the town goes back to the twelfth century, when a mill was built by the river. " * 3
    first = smollm2.next_bytes(long + "Tod", "exact")
    again = smollm2.next_bytes(long + "Toda", "exact")  # same fixed part: nothing to run again
    assert first.fixed_tokens == again.fixed_tokens > 50
    assert smollm2.net.branches(smollm2.context_ids(smollm2.vocab.encode(long.rstrip())), [[]]).next_logprobs.shape[1] \
        == smollm2.info.vocab_size


def test_smollm2_bytes_prefix_mid_character(smollm2):
    d = smollm2.next_bytes("caf".encode() + "é".encode()[:1], "exact")  # ends inside "é"
    assert abs(d.probs.sum() - 1) < 1e-6
    assert d.best == "é".encode()[1:]  # the character is finished first
    with pytest.raises(InvalidInput, match="whole characters"):
        smollm2.next_bytes("caf".encode() + b"\xc3", "naive")


def test_mix_is_the_seam_for_ensembles():
    toy_a, toy_b = ToyLM(seed=0), ToyLM(seed=1)
    a, b = exact(toy_a, "ab"), exact(toy_b, "ab")
    m = byte_probs.mix([a, b], [3, 1])
    np.testing.assert_allclose(m.probs, 0.75 * a.probs + 0.25 * b.probs, atol=1e-12)
    np.testing.assert_allclose(byte_probs.mix([a, a]).probs, a.probs, atol=1e-15)
    with pytest.raises(InvalidInput, match="same prefix"):
        byte_probs.mix([a, exact(toy_b, "a")])
    with pytest.raises(InvalidInput, match="non-negative"):
        byte_probs.mix([a, b], [1, -1])


def test_healing_counts_the_removed_token_itself():
    """After "ab" (one token, nothing in the toy extends "ab" but "aba"), healing sums the tokens
    that extend it and the token itself followed by whatever comes next."""
    toy = ToyLM()
    d = byte_probs.healing(toy, "ab")
    assert abs(d.probs.sum() - 1) < 1e-12 and d.probs[ord(" ")] > 0 and d.probs[ord("a")] > 0
