"""The OMP exercise of notebook 08: Orthogonal Matching Pursuit by hand.

The learner writes ``omp(y, A, k) -> (atoms, coefs)``: the target ``y`` (d,) as a combination of
``k`` rows (atoms) of the dictionary ``A`` (M, d), ``atoms`` in the order they were picked::

    r = y                                   # the residual: what the chosen atoms do not explain yet
    k times:
        pick the atom j not chosen yet with the largest |r · A[j]| / ||A[j]||   (its direction)
        refit every chosen coefficient by least squares: c = argmin ||y - A[chosen].T @ c||
        r = y - A[chosen].T @ c

(Pati, Rezaiifar & Krishnaprasad 1993). ``check_omp(omp)`` compares it with the library's
``tokenworks.lm.omp.omp`` on the cases of ``cases()``, among them exact sparse combinations whose
atoms and coefficients must come back, and names what differs: a wrong atom at step s and why
(raw dot products instead of directions, a signed correlation, the target instead of the residual,
a residual not refit by least squares), coefficients not refit, coefficients of the unit-length
atoms, an atom picked twice, atoms out of order, a wrong shape, or the exception the function
raised. It never raises on a learner's bug.

Goddard & Neto 2025 ("Training-Free Tokenizer Transplantation via Orthogonal Matching Pursuit")
write a new token's vector in a space both vocabularies share over shared tokens this way, then
give it the same combination of those tokens' vectors in the base model: ``toy_space`` is a small
case of that for the notebook.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import InvalidInput
from ..lm.omp import omp as library_omp
from .bpe_exercises import CaseReport, ExerciseResult, _describe_exception, _kind, failure_lines

ATOL = 1e-6  # how close each coefficient must be (times max(1, |coefficient|))
HINTS = (
    "Keep a residual r, starting at y, and a list of chosen atoms. At each of the k steps, score every atom "
    "by |r · A[j]| / ||A[j]||, the size of its correlation with r by direction (a long atom is not a better "
    "match), skip the atoms already chosen, and append the best one.",
    "After each pick, refit all the chosen coefficients at once by least squares: "
    "c, *_ = np.linalg.lstsq(A[chosen].T, y, rcond=None). Then r = y - A[chosen].T @ c is orthogonal to "
    "every chosen atom, so none of them is picked again.",
    "Return (chosen, c): the k atom indices in the order they were picked, and their k coefficients "
    "for the atoms as given (not normalised). A negative correlation is as good a match as a positive one: "
    "take the absolute value before the argmax.",
)


def hint(level: int = 1) -> str:
    """Hints 1 to 3, each a step further towards the answer."""
    if level not in (1, 2, 3):
        raise InvalidInput(f"hint level must be 1, 2 or 3 (got {level!r})")
    return HINTS[level - 1]


def reference_omp(y: np.ndarray, A: np.ndarray, k: int) -> tuple[list[int], np.ndarray]:
    """The reference answer, written the plain way."""
    y, A = np.asarray(y, dtype=float), np.asarray(A, dtype=float)
    norms = np.linalg.norm(A, axis=1)  # (M,)
    chosen: list[int] = []
    r, c = y.copy(), np.zeros(0)
    for _ in range(k):
        score = np.abs(A @ r) / norms  # (M,) correlation with the residual, by direction
        score[chosen] = -1.0
        chosen.append(int(np.argmax(score)))
        c, *_ = np.linalg.lstsq(A[chosen].T, y, rcond=None)  # (s,) every chosen weight refit
        r = y - A[chosen].T @ c  # (d,)
    return chosen, c


@dataclass(frozen=True)
class Slips:
    """Which step of OMP a variant gets wrong (all False: OMP itself)."""

    raw_dot: bool = False  # scores |r · A[j]|, not divided by ||A[j]||
    signed: bool = False  # argmax of r · A[j] / ||A[j]||, no absolute value
    target: bool = False  # correlates with y at every step, not with the residual
    no_refit: bool = False  # matching pursuit: only the new atom's weight, r -= c_j A[j]


def variant(y: np.ndarray, A: np.ndarray, k: int, slips: Slips = Slips()) -> tuple[list[int], np.ndarray]:
    """OMP with the given slips: what a learner who made them returns."""
    norms = np.linalg.norm(A, axis=1)  # (M,)
    chosen: list[int] = []
    r, c = y.copy(), np.zeros(0)
    for _ in range(k):
        dots = A @ (y if slips.target else r)  # (M,)
        score = dots if slips.signed else np.abs(dots)
        score = score if slips.raw_dot else score / norms
        score[chosen] = -np.inf
        j = int(np.argmax(score))
        chosen.append(j)
        if slips.no_refit:
            w = float(A[j] @ r) / float(A[j] @ A[j])
            c = np.append(c, w)
            r = r - w * A[j]
        else:
            c, *_ = np.linalg.lstsq(A[chosen].T, y, rcond=None)
            r = y - A[chosen].T @ c
    return chosen, c


SLIP_WORDS = {
    "raw_dot": "you compared raw dot products |r · A[j]|; OMP compares directions, |r · A[j]| / ||A[j]||, so a "
               "long atom is not a better match for being long",
    "signed": "you took the largest signed correlation; a strongly negative one is as good a match (its "
              "coefficient comes out negative): take the absolute value",
    "target": "you correlated the atoms with the target y at every step; correlate them with the residual "
              "r = y - A[chosen].T @ c, what the chosen atoms do not explain yet",
    "no_refit": "your coefficients are not refit by least squares: after each pick solve "
                "c = argmin ||y - A[chosen].T @ c|| for every chosen atom at once (np.linalg.lstsq) and set "
                "r = y - A[chosen].T @ c; updating only the new atom's weight (matching pursuit) leaves r "
                "correlated with the atoms chosen before",
}


@dataclass(frozen=True)
class Case:
    label: str
    y: np.ndarray  # (d,) the target
    A: np.ndarray  # (M, d) the dictionary, one atom a row
    k: int
    atoms: tuple[int, ...]  # tokenworks.lm.omp.omp's atoms, in the order picked
    coefs: np.ndarray  # (k,) its coefficients
    truth: dict[int, float] | None  # exact cases: the combination y was built from


def _atoms(rng: np.random.Generator, m: int, d: int, lengths: bool) -> np.ndarray:
    A = rng.normal(size=(m, d))  # (M, d)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    return A * (rng.uniform(0.3, 3.0, size=(m, 1)) if lengths else 1.0)  # (M, d)


def _case(label: str, A: np.ndarray, y: np.ndarray, k: int, truth: dict[int, float] | None = None) -> Case:
    idx, coef = library_omp(y[None], A, k)  # (1, k) each
    return Case(label, y, A, k, tuple(int(i) for i in idx[0]), coef[0], truth)


def _exact(label: str, seed: int, m: int, d: int, truth: dict[int, float], lengths: bool = True) -> Case:
    A = _atoms(np.random.default_rng(seed), m, d, lengths)
    y = sum(c * A[j] for j, c in truth.items())  # (d,)
    return _case(label, A, y, len(truth), truth)


def _dense(label: str, seed: int, m: int, d: int, k: int, correlated: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    A = _atoms(rng, m, d, lengths=True)
    if correlated:  # atoms that share a direction: refitting matters
        A = A + 1.5 * rng.normal(size=(1, d))
    return _case(label, A, rng.normal(size=d), k)


def cases() -> list[Case]:
    return [
        _exact("exact: 2 of 6 unit-length atoms in 4-D", 1, 6, 4, {4: 0.8, 1: 0.5}, lengths=False),
        _exact("exact: 3 of 12 atoms of different lengths in 8-D, one weight negative", 2, 12, 8,
               {2: 1.2, 7: -0.9, 10: 0.4}),
        _exact("exact: 4 of 30 atoms in 16-D, two weights negative", 3, 30, 16, {3: -1.0, 11: 0.7, 19: 0.5, 28: -0.3}),
        _dense("one atom (k = 1)", 4, 8, 5, 1),
        _dense("a dense target, 3 of 10 atoms in 6-D", 5, 10, 6, 3),
        _dense("atoms sharing one direction, 3 of 8 in 6-D", 8, 8, 6, 3, correlated=True),
        _dense("a dense target, 5 of 40 atoms in 12-D", 7, 40, 12, 5),
    ]


def _as_answer(got: Any, case: Case) -> tuple[list[int] | None, np.ndarray | None, str]:
    """The learner's (atoms, coefs), or what is wrong with their form."""
    form = f"a pair (atoms, coefs): {case.k} atom indices and {case.k} coefficients"
    if got is None:
        return None, None, f"expected {form}, got None: is a `return` missing?"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return None, None, f"expected {form}, got {_kind(got)}"
    atoms, coefs = got
    try:
        atoms = [int(a) if isinstance(a, (int, np.integer)) and not isinstance(a, bool) else None for a in atoms]
        coefs = np.asarray(coefs, dtype=float).reshape(-1)
    except (TypeError, ValueError) as e:
        return None, None, f"expected {form}; could not read them as indices and numbers ({e})"
    if None in atoms:
        return None, None, "the atoms must be integer row indices of A (int(j))"
    if len(atoms) != case.k or len(coefs) != case.k:
        return None, None, (f"wrong shape: expected {case.k} atoms and {case.k} coefficients, got {len(atoms)} and "
                            f"{len(coefs)} (k steps, one atom and one coefficient each)")
    bad = [a for a in atoms if not 0 <= a < len(case.A)]
    if bad:
        return None, None, f"atom {bad[0]} is not a row of A (0..{len(case.A) - 1})"
    if not np.isfinite(coefs).all():
        return None, None, "a coefficient is not a finite number"
    return atoms, coefs, ""


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= ATOL * np.maximum(1.0, np.abs(b))))


def _why(case: Case, atoms: list[int], coefs: np.ndarray) -> str:
    """The fewest slips that turn OMP into the learner's answer, in words ('' if none does)."""
    names = list(Slips.__dataclass_fields__)
    best = None
    for mask in range(1, 2 ** len(names)):
        on = [n for i, n in enumerate(names) if mask >> i & 1]
        a, c = variant(case.y, case.A, case.k, Slips(**{n: True for n in on}))
        if a == atoms and _close(coefs, c) and (best is None or len(on) < len(best)):
            best = on
    return "; ".join(SLIP_WORDS[n] for n in best) if best else ""


def _combination(truth: dict[int, float]) -> str:
    """``1.2·A[2] − 0.9·A[7]``"""
    terms = [f"{'−' if c < 0 else '+'} {abs(c):g}·A[{j}]" for j, c in truth.items()]
    return " ".join(terms).removeprefix("+ ")


def _residual_scores(case: Case, steps: int) -> np.ndarray:
    """(M,) |r · A[j]| / ||A[j]|| with the residual OMP has after ``steps`` steps."""
    chosen = list(case.atoms[:steps])
    r = case.y.copy()
    if chosen:
        c, *_ = np.linalg.lstsq(case.A[chosen].T, case.y, rcond=None)
        r = case.y - case.A[chosen].T @ c
    return np.abs(case.A @ r) / np.linalg.norm(case.A, axis=1)  # (M,)


def _compare(case: Case, got: Any) -> str:
    atoms, coefs, problem = _as_answer(got, case)
    if problem:
        return problem
    want = list(case.atoms)
    if atoms == want and _close(coefs, case.coefs):
        return ""
    twice = next((a for s, a in enumerate(atoms) if a in atoms[:s]), None)
    if twice is not None:
        first, again = atoms.index(twice), atoms.index(twice, atoms.index(twice) + 1)
        return (f"atom {twice} picked twice (steps {first} and {again}): skip the atoms already chosen; after a "
                "least-squares refit the residual is orthogonal to every chosen atom, so none scores above 0")
    why = _why(case, atoms, coefs)
    exact = "" if case.truth is None else (
        f"; y is exactly {_combination(case.truth)}, so OMP recovers it")
    if atoms != want:
        if sorted(atoms) == sorted(want):
            return f"the right atoms in another order ({atoms}, OMP picks {want}): return them in the order picked"
        s = next(i for i, (a, b) in enumerate(zip(atoms, want)) if a != b)
        score = _residual_scores(case, s)
        head = (f"step {s}: OMP picks atom {want[s]} (|correlation| with the residual {score[want[s]]:.4f}), "
                f"you picked atom {atoms[s]} ({score[atoms[s]]:.4f})")
        return head + (f": {why}" if why else "") + exact
    k = int(np.argmax(np.abs(coefs - case.coefs)))
    head = f"the atoms are right but the coefficient of atom {atoms[k]} is {coefs[k]:.6g}, not {case.coefs[k]:.6g}"
    norms = np.linalg.norm(case.A[atoms], axis=1)  # (k,)
    if _close(coefs, case.coefs * norms):
        return head + (": these are the coefficients of the unit-length atoms A[j] / ||A[j]||; the answer "
                       "multiplies the atoms as given, so divide by ||A[j]||")
    return head + f": {why or SLIP_WORDS['no_refit']}" + exact


def _call(case: Case) -> str:
    return f"omp(y=<{len(case.y)} numbers>, A=<{len(case.A)} atoms of {case.A.shape[1]}>, k={case.k})"


def check_omp(fn: Callable, *, show: bool = True) -> ExerciseResult:
    """``omp(y, A, k) -> (atoms, coefs)`` against ``tokenworks.lm.omp.omp`` on ``cases()``."""
    if not callable(fn):
        return _verdict(ExerciseResult("omp", False, 0, f"omp: check_omp needs your function itself, e.g. "
                                                           f"check_omp(omp); got {_kind(fn)}"), show)
    all_cases, failures = cases(), []
    for case in all_cases:
        y, A = case.y.copy(), case.A.copy()
        expected = (list(case.atoms), np.round(case.coefs, 6).tolist())
        try:
            got = fn(y, A, case.k)
        except Exception as e:  # the learner's bug, reported as a difference
            failures.append(CaseReport(case.label, _call(case), expected, None, _describe_exception(e, fn)))
            continue
        diff = _compare(case, got)
        if not (np.array_equal(y, case.y) and np.array_equal(A, case.A)):
            note = "your function changed y or A in place (r = y then r -= ... does): work on a copy, r = y.copy()"
            diff = f"{diff}; also {note}" if diff else note
        if diff:
            failures.append(CaseReport(case.label, _call(case), expected, got, diff))
    return _verdict(_result(all_cases, failures), show)


def _result(all_cases: list[Case], failures: list[CaseReport]) -> ExerciseResult:
    if not failures:
        return ExerciseResult("omp", True, len(all_cases), f"correct: omp passed all {len(all_cases)} cases")
    lines = failure_lines("omp", len(all_cases), failures)
    lines.append("  hint: omp_exercise.hint(1), hint(2) and hint(3) lead to the answer step by step")
    return ExerciseResult("omp", False, len(all_cases), "\n".join(lines), failures)


def _verdict(result: ExerciseResult, show: bool) -> ExerciseResult:
    if show:
        print(result.message)
    return result


@dataclass(frozen=True)
class Step:
    """One OMP step, for the notebook's walk-through."""

    scores: np.ndarray  # (M,) |r · A[j]| / ||A[j]|| before the pick
    pick: int
    coefs: np.ndarray  # (s,) every chosen weight after the refit
    residual: float  # ||r|| after the refit


def omp_steps(y: np.ndarray, A: np.ndarray, k: int) -> list[Step]:
    """OMP step by step: the scores, the pick, the refit coefficients and what is left."""
    chosen: list[int] = []
    r, out = y.astype(float), []
    for _ in range(k):
        score = np.abs(A @ r) / np.linalg.norm(A, axis=1)  # (M,)
        shown = score.copy()
        score[chosen] = -1.0
        chosen.append(int(np.argmax(score)))
        c, *_ = np.linalg.lstsq(A[chosen].T, y, rcond=None)
        r = y - A[chosen].T @ c
        out.append(Step(shown, chosen[-1], c, float(np.linalg.norm(r))))
    return out


@dataclass(frozen=True)
class ToySpace:
    """Tokens both vocabularies share, with vectors in a shared (donor) space and in the base model."""

    words: list[str]  # the shared tokens
    donor: np.ndarray  # (M, 6) their vectors in the shared space
    base: np.ndarray  # (M, 4) their vectors in the base model
    new_word: str  # a token only the new vocabulary has
    new_donor: np.ndarray  # (6,) its shared-space vector: an exact combination of shared ones
    recipe: dict[str, float]  # that combination


def toy_space() -> ToySpace:
    """Eight shared tokens; the new token ``' unhappily'`` is 0.9·' happy' + 0.6·'un' + 0.4·'ly' in the
    shared space (made so; a real donor space is only close to such sums)."""
    rng = np.random.default_rng(0)
    words = [" the", " cat", " happy", "un", "ly", " dog", "s", " sad"]
    donor = rng.normal(size=(len(words), 6))  # (M, 6)
    base = rng.normal(size=(len(words), 4))  # (M, 4)
    recipe = {" happy": 0.9, "un": 0.6, "ly": 0.4}
    y = sum(c * donor[words.index(w)] for w, c in recipe.items())  # (6,)
    return ToySpace(words, donor, base, " unhappily", y, recipe)
