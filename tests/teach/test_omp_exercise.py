"""The OMP exercise of notebook 08: the reference answer equals the library's OMP and recovers exact
sparse combinations; wrong answers get a message naming their mistake; a learner function that
crashes is reported, never raised."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm.omp import omp as library_omp
from tokenworks.teach import omp_exercise as ex


def _slip(**on):
    return lambda y, A, k: ex.variant(y, A, k, ex.Slips(**on))


def test_the_reference_equals_the_library_and_recovers_exact_combinations():
    exact = 0
    for case in ex.cases():
        atoms, coefs = ex.reference_omp(case.y, case.A, case.k)
        assert atoms == list(case.atoms), case.label
        np.testing.assert_allclose(coefs, case.coefs, atol=1e-9, err_msg=case.label)
        idx, coef = library_omp(case.y[None], case.A, case.k)
        assert idx[0].tolist() == atoms
        np.testing.assert_allclose(coef[0], coefs, atol=1e-9)
        if case.truth is not None:  # atoms and coefficients come back
            assert dict(zip(atoms, np.round(coefs, 9).tolist())) == pytest.approx(case.truth, abs=1e-9)
            exact += 1
        for s in range(case.k):  # a clear winner at every step: float32 and float64 choose alike
            top = np.sort(ex._residual_scores(case, s))[::-1]
            assert top[0] - top[1] > 1e-3 * top[0], (case.label, s)
    assert exact >= 3


def test_the_reference_passes(capsys):
    result = ex.check_omp(ex.reference_omp)
    assert result.passed and result.cases == len(ex.cases()) and not result.failures
    assert "correct: omp passed all 7 cases" in capsys.readouterr().out


def test_raw_dot_products_are_named():
    result = ex.check_omp(_slip(raw_dot=True), show=False)
    assert not result.passed
    assert "step 1: OMP picks atom 2" in result.message and "you picked atom 11" in result.message
    assert "OMP compares directions, |r · A[j]| / ||A[j]||" in result.message
    assert "y is exactly 1.2·A[2] − 0.9·A[7] + 0.4·A[10]" in result.message


def test_a_signed_correlation_is_named():
    result = ex.check_omp(_slip(signed=True), show=False)
    assert not result.passed and "take the absolute value" in result.message


def test_correlating_with_the_target_is_named():
    result = ex.check_omp(_slip(target=True), show=False)
    assert not result.passed and "correlate them with the residual" in result.message


def test_coefficients_not_refit_are_named():
    result = ex.check_omp(_slip(no_refit=True), show=False)
    assert not result.passed
    assert "the atoms are right but the coefficient of atom 4 is 0.87838, not 0.8" in result.message
    assert "not refit by least squares" in result.message


def test_an_atom_picked_twice_is_named():
    def repeats(y, A, k):
        atoms, coefs = ex.reference_omp(y, A, k)
        return [atoms[0]] * k, coefs

    result = ex.check_omp(repeats, show=False)
    assert not result.passed and "picked twice (steps 0 and 1)" in result.message
    assert all("picked twice" in f.difference for f in result.failures)
    assert len(result.failures) == len(ex.cases()) - 1  # k = 1 cannot repeat


def test_unit_length_coefficients_order_and_shape_are_named():
    def unit(y, A, k):
        atoms, coefs = ex.reference_omp(y, A, k)
        return atoms, coefs * np.linalg.norm(A[atoms], axis=1)

    def backwards(y, A, k):
        atoms, coefs = ex.reference_omp(y, A, k)
        return atoms[::-1], coefs[::-1]

    def short(y, A, k):
        atoms, coefs = ex.reference_omp(y, A, k)
        return atoms[:-1], coefs[:-1]

    assert "coefficients of the unit-length atoms" in ex.check_omp(unit, show=False).message
    assert "the right atoms in another order" in ex.check_omp(backwards, show=False).message
    msg = ex.check_omp(short, show=False).message
    assert "wrong shape: expected 2 atoms and 2 coefficients, got 1 and 1" in msg
    assert "expected a pair (atoms, coefs)" in ex.check_omp(lambda y, A, k: 3, show=False).message
    assert "is a `return` missing?" in ex.check_omp(lambda y, A, k: None, show=False).message


def test_a_crash_is_reported_not_raised():
    def broken(y, A, k):
        raise NotImplementedError("write omp")

    result = ex.check_omp(broken, show=False)
    assert not result.passed and len(result.failures) == len(ex.cases())
    assert "raised NotImplementedError: write omp" in result.message and "(an exception)" in result.message


def test_changing_the_inputs_in_place_is_named():
    def in_place(y, A, k):
        atoms, coefs = ex.reference_omp(y, A, k)
        y -= A[atoms].T @ coefs  # the residual written into y
        return atoms, coefs

    result = ex.check_omp(in_place, show=False)
    assert not result.passed and "changed y or A in place" in result.message


def test_not_a_function_and_hints():
    assert "needs your function itself" in ex.check_omp("omp", show=False).message
    assert "lstsq" in ex.hint(2)
    with pytest.raises(InvalidInput):
        ex.hint(4)


def test_the_toy_space_is_recovered_step_by_step():
    toy = ex.toy_space()
    steps = ex.omp_steps(toy.new_donor, toy.donor, len(toy.recipe))
    got = {toy.words[s.pick]: c for s, c in zip(steps, steps[-1].coefs)}
    assert got == pytest.approx(toy.recipe, abs=1e-9)
    assert steps[-1].residual < 1e-9 < steps[0].residual
