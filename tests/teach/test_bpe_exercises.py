"""The exercise checkers of notebook 01: each passes a correct answer and fails realistic wrong
ones with a message that names the difference."""
from __future__ import annotations

import re

import numpy as np
import pytest
import regex

from tokenworks.text.bpe import GPT4_PATTERN
from tokenworks.teach.bpe_exercises import (
    CHECKERS,
    EXERCISES,
    ExerciseFailed,
    ExerciseResult,
    check_decode,
    check_encode,
    check_get_stats,
    check_merge,
    check_split,
    check_train,
    reference_train,
)

# ---- correct answers, written the way a learner would -------------------------------------


def get_stats(ids):
    counts = {}
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids, pair, idx):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _train(start, pick):
    def train(text, num_merges):
        ids = start(text)
        merges = {}
        for k in range(num_merges):
            stats = get_stats(ids)
            if not stats:
                break
            pair = pick(stats)
            merges[pair] = 256 + k
            ids = merge(ids, pair, 256 + k)
        return merges
    return train


def utf8(text):
    return list(text.encode("utf-8"))


train = _train(utf8, lambda st: max(st, key=lambda p: (st[p], -p[0], -p[1])))


def _encode(start, choose):
    def encode(text, merges):
        ids = start(text)
        while len(ids) >= 2:
            stats = get_stats(ids)
            pair = choose(stats, merges)
            if pair not in merges:
                break
            ids = merge(ids, pair, merges[pair])
        return ids
    return encode


encode = _encode(utf8, lambda st, m: min(st, key=lambda p: m.get(p, float("inf"))))


def _vocab(merges):
    vocab = {i: bytes([i]) for i in range(256)}
    for (a, b), n in sorted(merges.items(), key=lambda m: m[1]):
        vocab[n] = vocab[a] + vocab[b]
    return vocab


def decode(ids, merges):
    vocab = _vocab(merges)
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")


def split(text):
    return regex.findall(GPT4_PATTERN, text)


CORRECT = {"get_stats": get_stats, "merge": merge, "train": train, "encode": encode, "decode": decode, "split": split}


@pytest.mark.parametrize("name", EXERCISES)
def test_checker_passes_a_correct_answer(name, capsys):
    result = CHECKERS[name](CORRECT[name])
    assert isinstance(result, ExerciseResult)
    assert result.passed, result.message
    assert result.name == name and result.cases >= 20 and not result.failures
    assert result.message.startswith("correct")
    assert capsys.readouterr().out.strip() == result.message  # printed for the notebook
    assert result.raise_if_failed() is result


def _fails(result: ExerciseResult, *needles: str) -> str:
    """The result failed and its message contains every needle; returns the message."""
    assert not result.passed and result.failures, result.message
    assert not result.message.startswith("correct")
    for needle in needles:
        assert needle in result.message, f"{needle!r} not in:\n{result.message}"
    return result.message


# ---- get_stats -------------------------------------------------------------------------------


def test_get_stats_off_by_one_loop_reports_the_exception_and_line():
    def wrong(ids):
        counts = {}
        for i in range(len(ids)):  # one pair too far
            pair = (ids[i], ids[i + 1])
            counts[pair] = counts.get(pair, 0) + 1
        return counts

    _fails(check_get_stats(wrong, show=False), "raised IndexError", "pair = (ids[i], ids[i + 1])", "call:     get_stats(ids=")


def test_get_stats_missing_the_last_pair():
    def wrong(ids):
        counts = {}
        for i in range(len(ids) - 2):
            counts[(ids[i], ids[i + 1])] = counts.get((ids[i], ids[i + 1]), 0) + 1
        return counts

    result = check_get_stats(wrong, show=False)
    _fails(result, "missing pairs: [(1, 2)]", "get_stats(ids=[1, 2])", "expected: {(1, 2): 1}")
    assert result.failures[0].label == "one pair"


def test_get_stats_counting_each_pair_once():
    _fails(check_get_stats(lambda ids: {p: 1 for p in zip(ids, ids[1:])}, show=False),
           "wrong counts: (1, 2) expected 2, got 1")


def test_get_stats_returning_a_list_of_tuples():
    from collections import Counter

    _fails(check_get_stats(lambda ids: Counter(zip(ids, ids[1:])).most_common(), show=False),
           "expected a dict {(left, right): count}, got a list", "build a dict")


def test_get_stats_forgotten_return():
    def wrong(ids):
        get_stats(ids)

    _fails(check_get_stats(wrong, show=False), "got None: is a `return` missing?")


# ---- merge --------------------------------------------------------------------------------


def _failure(result: ExerciseResult, label: str):
    found = [f for f in result.failures if f.label == label]
    assert found, f"{label!r} did not fail:\n{result.message}"
    return found[0]


def test_merge_overlapping_pair_bug():
    def wrong(ids, pair, idx):  # looks at every position, so 5 5 5 holds the pair twice
        out = []
        for i in range(len(ids)):
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                out.append(idx)
            elif i > 0 and (ids[i - 1], ids[i]) == pair:
                continue  # the right half of a merged pair
            else:
                out.append(ids[i])
        return out

    result = check_merge(wrong, show=False)
    _fails(result, "overlapping pairs 5 5 5", "merge(ids=[5, 5, 5], pair=(5, 5), idx=9)", "expected: [9, 5]",
           "first difference at position 1: expected 5, got 9")
    assert _failure(result, "overlapping pairs 5 5 5 5").got == [9, 9, 9]


def test_merge_dropping_the_last_id():
    def wrong(ids, pair, idx):
        out, i = [], 0
        while i < len(ids) - 1:
            if (ids[i], ids[i + 1]) == pair:
                out.append(idx)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        return out

    _fails(check_merge(wrong, show=False), "expected 2 ids, got 1", "then expected goes on with [3]")


def test_merge_returning_a_tuple():
    _fails(check_merge(lambda ids, pair, idx: tuple(merge(ids, pair, idx)), show=False),
           "expected a list of ints, got a tuple", "wrap it in list(...)", "the items themselves are right")


def test_merge_in_place_is_reported():
    def in_place(ids, pair, idx):
        ids[:] = merge(ids, pair, idx)
        return ids

    _fails(check_merge(in_place, show=False), "changed its argument ids from [1, 2, 3] to [4, 3]")


def test_merge_numpy_ints():
    _fails(check_merge(lambda ids, pair, idx: [np.int64(x) for x in merge(ids, pair, idx)], show=False),
           "numpy.int64", "expected int", "convert with int(...)")


# ---- train --------------------------------------------------------------------------------


def test_train_first_seen_tie_break():
    wrong = _train(utf8, lambda st: max(st, key=st.get))  # minbpe's tie-break: the first pair seen
    _fails(check_train(wrong, show=False), "merge #1: expected (97, 98) -> 257", "got (256, 97) -> 257",
           "both pairs occur 2 times", "take the smallest (left, right)")


def test_train_off_by_one_number_of_merges():
    def wrong(text, num_merges):
        return train(text, num_merges - 1)

    _fails(check_train(wrong, show=False), "expected 1 merges, got 0", "(97, 97) -> 256 is missing")


def test_train_new_ids_off_by_one():
    def wrong(text, num_merges):
        return {p: n + 1 for p, n in train(text, num_merges).items()}

    _fails(check_train(wrong, show=False), "got (97, 97) -> 257", "the pair is right but its new id is not")


def test_train_characters_instead_of_bytes():
    wrong = _train(lambda t: [ord(c) for c in t], lambda st: max(st, key=lambda p: (st[p], -p[0], -p[1])))
    result = check_train(wrong, show=False)
    _fails(result, "héllo", "(104, 195)", "got (104, 233)", "hint: every ASCII text passes", "text.encode('utf-8')")
    assert all(not f.call.isascii() for f in result.failures)


def test_train_not_stopping_when_pairs_run_out():
    def wrong(text, num_merges):
        ids, merges = utf8(text), {}
        for k in range(num_merges):
            stats = get_stats(ids)
            pair = max(stats, key=lambda p: (stats[p], -p[0], -p[1]))
            merges[pair] = 256 + k
            ids = merge(ids, pair, 256 + k)
        return merges

    _fails(check_train(wrong, show=False), "raised ValueError", "max() ", "more merges than pairs")


def test_reference_train_matches_the_tie_rule():
    assert reference_train("aaabdaaabac", 3) == {(97, 97): 256, (97, 98): 257, (256, 257): 258}
    assert reference_train("ab", 5) == {(97, 98): 256}


# ---- encode -------------------------------------------------------------------------------


def test_encode_characters_instead_of_bytes():
    wrong = _encode(lambda t: [ord(c) for c in t], lambda st, m: min(st, key=lambda p: m.get(p, float("inf"))))
    _fails(check_encode(wrong, show=False), "encode(text='héllo café'", "first difference at position 1: expected 275, got 233",
           "hint: every ASCII text passes")


def test_encode_leftmost_pair_instead_of_lowest_id():
    def wrong(text, merges):
        ids = utf8(text)
        while True:
            for i in range(len(ids) - 1):
                if (ids[i], ids[i + 1]) in merges:
                    ids = merge(ids, (ids[i], ids[i + 1]), merges[(ids[i], ids[i + 1])])
                    break
            else:
                return ids

    result = check_encode(wrong, show=False)
    _fails(result, "the lowest id first, not the leftmost pair", "encode(text='the cat sat'", "expected 291, got 290")
    assert "expected 291, got 290" in _failure(result, "the lowest id first, not the leftmost pair").difference


def test_encode_highest_id_first():
    wrong = _encode(utf8, lambda st, m: max(st, key=lambda p: m.get(p, -1)))
    _fails(check_encode(wrong, show=False), "first difference at position")


def test_encode_returning_numpy():
    _fails(check_encode(lambda t, m: np.array(encode(t, m), dtype=np.int64), show=False),
           "expected a list of ints, got a numpy.ndarray")


def test_encode_without_a_stop_raises_a_described_error():
    wrong = _encode(utf8, lambda st, m: min(st, key=lambda p: m[p]))  # KeyError on a pair without a merge
    _fails(check_encode(wrong, show=False), "raised KeyError", "in <lambda>")


# ---- decode -------------------------------------------------------------------------------


def test_decode_token_by_token_breaks_split_characters():
    def wrong(ids, merges):
        vocab = _vocab(merges)
        return "".join(vocab[i].decode("utf-8", errors="replace") for i in ids)

    _fails(check_decode(wrong, show=False), "one character split over two tokens", "decode(ids=[195, 169]",
           "expected 'é', got '\ufffd'")


def test_decode_strict_utf8_raises():
    def wrong(ids, merges):
        return b"".join(_vocab(merges)[i] for i in ids).decode("utf-8")

    _fails(check_decode(wrong, show=False), "raised UnicodeDecodeError", "a byte that is not UTF-8 on its own")


def test_decode_returning_bytes():
    def wrong(ids, merges):
        return b"".join(_vocab(merges)[i] for i in ids)

    _fails(check_decode(wrong, show=False), "expected a str, got a bytes", ".decode('utf-8', errors='replace')")


def test_decode_vocab_built_in_dict_order():
    def wrong(ids, merges):  # a merge's parts may not be in the vocabulary yet
        vocab = {i: bytes([i]) for i in range(256)}
        for (a, b), n in merges.items():
            vocab[n] = vocab.get(a, b"?") + vocab.get(b, b"?")
        return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")

    _fails(check_decode(wrong, show=False), "merges in any order of the dict")


# ---- split --------------------------------------------------------------------------------


GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def test_split_with_gpt2_pattern():
    msg = _fails(check_split(lambda t: regex.findall(GPT2_PATTERN, t), show=False), "upper-case contractions",
                 "expected \"'M\", got \"'\"")
    assert "numbers in threes" in msg


def test_split_with_re_module_reports_the_exception():
    _fails(check_split(lambda t: re.findall(GPT4_PATTERN, t), show=False), "raised re.error", "bad escape \\p")


def test_split_on_whitespace_loses_characters():
    _fails(check_split(str.split, show=False), "expected ' world', got 'world'", "do not add up to the text")


# ---- the result type -------------------------------------------------------------------------


def test_raise_if_failed_and_printing(capsys):
    result = check_merge(lambda ids, pair, idx: list(ids))
    out = capsys.readouterr().out
    assert "merge: wrong on" in out and "expected:" in out and "got:" in out
    with pytest.raises(ExerciseFailed, match="merge: wrong on"):
        result.raise_if_failed()
    assert str(result) == result.message


def test_not_a_function():
    result = check_split("\\w+", show=False)
    assert not result.passed and "needs your function itself" in result.message and "check_split(split)" in result.message


def test_random_cases_are_reproducible():
    wrong = _train(utf8, lambda st: max(st, key=st.get))
    assert check_train(wrong, show=False).message == check_train(wrong, show=False).message
    assert check_train(wrong, seed=1, show=False).cases == check_train(wrong, show=False).cases
