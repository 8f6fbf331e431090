"""The next-byte exercise of notebook 07: the reference answer equals the library's exact method and
brute force and passes the checker; wrong answers get a message naming their mistake; a learner
function that crashes is reported, never raised."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm.byte_probs import exact
from tokenworks.lm.toy import all_strings, cover_encodings_brute_force
from tokenworks.teach import next_byte_exercise as ex


def _solution(*, every_start=True, check_valid=True, weighted=True, normalise=True, first_byte=False):
    """A learner's answer, with one slip switched on or off at a time."""
    def next_byte_probs(toy, prefix):
        n = len(prefix)
        mass = {}
        for i in range(n + 1) if every_start else [n]:
            head = toy.encode(prefix[:i])
            p_head = 1.0
            for k, t in enumerate(head):
                p_head *= toy.next_token_probs(head[:k])[t]
            p_next = toy.next_token_probs(head)
            for t, data in enumerate(toy.token_bytes):
                if len(data) <= n - i or not data.startswith(prefix[i:]):
                    continue
                if check_valid and toy.encode(prefix[:i] + data) != head + [t]:
                    continue
                c = data[:1] if first_byte else data[n - i:n - i + 1]
                mass[c] = mass.get(c, 0.0) + (p_head if weighted else 1.0) * float(p_next[t])
        total = sum(mass.values()) if normalise else 1.0
        return {c: m / total for c, m in mass.items()}
    return next_byte_probs


def _as_array(d: dict) -> np.ndarray:
    out = np.zeros(256)
    for c, p in d.items():
        out[c[0]] = p
    return out


def test_reference_equals_exact_and_brute_force_on_both_toys():
    toy, leaky = ex.toy_model(), ex.toy_model(leaky=True)
    checked = 0
    for s in all_strings(4):
        x = s.encode()
        want, _ = toy.lm.brute_force_next_bytes(x)
        if np.isfinite(want).all():
            got = _as_array(ex.reference_next_bytes(toy, x))
            np.testing.assert_allclose(got, want, atol=1e-12, err_msg=repr(s))
            np.testing.assert_allclose(got, exact(toy.lm, x, tolerance=0.0).probs, atol=1e-12, err_msg=repr(s))
            checked += 1
        np.testing.assert_allclose(_as_array(ex.reference_next_bytes(leaky, x)),
                                   cover_encodings_brute_force(leaky.lm, x), atol=1e-12, err_msg=repr(s))
    assert checked > 100


def test_the_reference_and_a_learners_answer_pass(capsys):
    for fn in (ex.reference_next_bytes, _solution()):
        result = ex.check_next_bytes(fn)
        assert result.passed and result.cases == len(ex.CASES), result.message
    assert "correct: next_byte_probs passed all 13 cases" in capsys.readouterr().out


def test_the_naive_method_is_told_about_earlier_starts():
    result = ex.check_next_bytes(_solution(every_start=False), show=False)
    assert not result.passed
    assert "after b'a' (toy) you gave P(b'b') = 0.0000 but the answer is 0.6354" in result.message
    assert "did you count the encodings whose last token starts before the end of the prefix" in result.message
    assert "like ['ab'] starting at 0" in result.message


def test_counting_encodings_the_tokenizer_never_produces_is_named():
    result = ex.check_next_bytes(_solution(check_valid=False), show=False)
    assert not result.passed
    assert all("leaky" in f.label for f in result.failures)  # the canonical toy gives them no mass
    assert "you counted an encoding the tokenizer never produces: ['a', ' ab']" in result.message
    assert "encode(b'a ab') is ['a', ' ', 'ab']" in result.message
    assert "only the leaky toy fails" in result.message


def test_a_missing_weight_is_named():
    result = ex.check_next_bytes(_solution(weighted=False), show=False)
    assert not result.passed
    assert "you left out P(E_i), the probability of the tokens before the last one" in result.message


def test_a_sum_that_is_not_one_is_named_alone():
    result = ex.check_next_bytes(_solution(normalise=False), show=False)
    assert not result.passed
    first = result.failures[0].difference
    assert "your distribution sums to 0.8678, not 1" in first
    assert "you left out" not in first and "never produces" not in first  # that is the only slip


def test_reading_the_first_byte_of_the_last_token_is_named():
    result = ex.check_next_bytes(_solution(first_byte=True), show=False)
    assert "you read the first byte of each last token; the next byte is its byte n - i" in result.message


def test_a_function_that_crashes_is_reported_not_raised():
    def next_byte_probs(toy, prefix):
        return {b"a": 1 / (len(prefix) - len(prefix))}

    result = ex.check_next_bytes(next_byte_probs, show=False)
    assert not result.passed and len(result.failures) == result.cases
    assert "raised ZeroDivisionError: division by zero (in next_byte_probs, line" in result.message


@pytest.mark.parametrize("answer, words", [
    (None, "got None: is a `return` missing?"),
    ([0.5, 0.5], "expected a dict {next byte: probability}"),
    ({"ab": 1.0}, "keys are single bytes"),
    ({b"a": -0.5, b"b": 1.5}, "probabilities are finite and not negative"),
    ({b"a": "half"}, "not a number"),
])
def test_answers_of_the_wrong_form_are_described(answer, words):
    result = ex.check_next_bytes(lambda toy, prefix: answer, show=False)
    assert not result.passed and words in result.message


def test_keys_may_be_bytes_characters_or_ints():
    def as_chars(toy, prefix):
        return {c.decode(): p for c, p in ex.reference_next_bytes(toy, prefix).items()}

    assert ex.check_next_bytes(as_chars, show=False).passed


def test_not_a_function():
    result = ex.check_next_bytes("next_byte_probs", show=False)
    assert not result.passed and "needs your function itself" in result.message


def test_next_token_probs_adds_the_document_start_itself():
    toy = ex.toy_model()
    assert toy.next_token_probs([]).sum() == pytest.approx(1.0)
    with pytest.raises(InvalidInput, match="the document start .id 0. is added for you"):
        toy.next_token_probs([0, 1])


def test_cover_walk_starts_at_the_last_pretoken_and_sums_to_brute_force():
    toy = ex.toy_model()
    walk = ex.cover_walk(toy, "ba ab")
    assert walk.pretoken_start == 2 and walk.fixed == toy.encode("ba")
    assert walk.starts == [3, 4, 5]  # no token starts with " ab" and runs past it, so i = 2 has none
    assert all(t.head[:1] == tuple(walk.fixed) for t in walk.terms)
    want, _ = toy.lm.brute_force_next_bytes(b"ba ab")
    np.testing.assert_allclose(walk.probs, want, atol=1e-12)


def test_hints_lead_step_by_step():
    assert len({ex.hint(k) for k in (1, 2, 3)}) == 3
    assert "encode(prefix[:i] + toy.token_bytes[t])" in ex.hint(3)
    with pytest.raises(InvalidInput, match="1, 2 or 3"):
        ex.hint(4)
