"""Data-mixture inference (tokenworks.text.mixture): the LP, the merge replay, the controlled
experiment, pretrained merge extraction and the error messages."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import InvalidInput, UnknownTokenizer
from tokenworks.text import mixture as mx
from tokenworks.text._merges import PairCounter


def _lower_bound_case(alpha: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Steps built so that the merges force alpha_i >= alpha*_i for every i, hence alpha = alpha*.

    At step i the merged pair occurs (frequency 1) only in category i and a competitor occurs with
    frequency x_i = a_i / (1 - a_i) in every other category: the merge beats it iff
    alpha_i >= (1 - alpha_i) x_i, i.e. alpha_i >= a_i. A few always-beaten pairs are added as noise.
    """
    N = len(alpha)
    chosen, comps = [], []
    for i, a in enumerate(alpha):
        c = np.zeros(N)
        c[i] = 1.0
        comp = np.full(N, a / (1 - a))
        comp[i] = 0.0
        chosen.append(c)
        comps.append(np.stack([comp, 0.5 * c]))  # (2, N): the binding competitor and a weaker pair
    return np.array(chosen), comps


@pytest.mark.parametrize("slack", ["pair", "step"])
def test_lp_recovers_exact_weights_from_constructed_counts(slack):
    alpha = np.array([0.5, 0.2, 0.2, 0.1])
    chosen, comps = _lower_bound_case(alpha)
    sol = mx.solve_mixture_lp(chosen, comps, slack=slack)
    assert sol.success, sol.message
    np.testing.assert_allclose(sol.alpha, alpha, atol=1e-7)
    assert sol.violation == pytest.approx(0.0, abs=1e-9)
    assert sol.step_violation.shape == (4,)


def test_lp_dual_matches_primal_on_random_noisy_counts():
    """The "pair" program is solved through its dual; the primal solved directly agrees."""
    from scipy.optimize import linprog

    rng = np.random.default_rng(0)
    T, N, P = 30, 4, 6
    true = np.array([0.4, 0.3, 0.2, 0.1])
    chosen, comps = [], []
    for _ in range(T):
        cand = rng.gamma(1.0, 1.0, size=(P + 1, N))  # (P+1, N) per-category frequencies
        mix = cand @ true
        k = int(np.argmax(mix + rng.normal(0, 0.05, P + 1)))  # noisy: sometimes not the true argmax
        chosen.append(cand[k])
        comps.append(np.delete(cand, k, axis=0))
    chosen = np.array(chosen)
    sol = mx.solve_mixture_lp(chosen, comps)
    D = np.concatenate([c - chosen[t] for t, c in enumerate(comps)])  # (R, N), all rows
    R = len(D)
    A_ub = np.hstack([D, -np.eye(R)])
    res = linprog(np.r_[np.zeros(N), np.ones(R)], A_ub=A_ub, b_ub=np.zeros(R),
                  A_eq=np.r_[np.ones(N), np.zeros(R)][None], b_eq=[1.0], method="highs")
    assert res.status == 0
    assert sol.violation == pytest.approx(res.fun, rel=1e-6, abs=1e-9)
    primal_alpha = res.x[:N]
    assert np.clip(D @ sol.alpha, 0, None).sum() == pytest.approx(res.fun, rel=1e-6, abs=1e-9)
    assert np.clip(D @ primal_alpha, 0, None).sum() == pytest.approx(res.fun, rel=1e-6, abs=1e-9)


def test_in_sample_mixture_is_recovered_almost_exactly():
    """When the samples are the very text the tokenizer was trained on (repeated in proportion),
    only the LP and the replay are tested: the error is a fraction of a percentage point."""
    res = mx.controlled_experiment(languages=("eng", "fra", "spa"), weights=(0.5, 0.3, 0.2), holdout=False,
                                   vocab_size=256 + 150, train_bytes=40_000, seed=1)
    assert not res.holdout and res.merges == 150
    assert res.mae < 0.01, res.table()
    assert sum(res.recovered.values()) == pytest.approx(1.0)
    assert res.estimate.steps_used == 150


def test_controlled_experiment_recovers_known_weights():
    res = mx.controlled_experiment(seed=0)
    assert res.holdout and res.merges == 400
    assert set(res.true_weights) == set(mx.DEFAULT_LANGUAGES)
    assert sum(res.true_weights.values()) == pytest.approx(1.0)
    assert res.mae < 0.03, res.table()
    assert res.estimate.success


def test_pair_counter_matches_recount_after_merges():
    """Incremental pair counts equal a fresh count of the merged words at every step."""
    from collections import Counter

    from tokenworks.text.bpe import ByteBPE

    text = "aaaa abab banana bandana aaa ab " * 5
    tok = ByteBPE.train(text, 256 + 12)
    ml = mx.extract_merges(tok)
    pc = PairCounter(text, ml)
    for t in range(len(ml)):
        fresh: Counter = Counter()
        for w, f in zip(pc.words, pc.freqs):
            for p in zip(w, w[1:]):
                fresh[p] += f
        assert dict(fresh) == pc.counts
        assert pc.top(1)[0] == ml.pairs[t]  # the trainer merged the most frequent pair
        pc.apply(ml.pairs[t], ml.new_ids[t])


def test_r50k_first_merges_are_gpt2s():
    ml = mx.extract_merges("r50k_base")
    assert [ml.render(t) for t in range(8)] == ["Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r"]
    assert ml.pair_bytes(0) == (b" ", b"t")
    assert ml.new_ids[0] == 256 and ml.tokens[ml.new_ids[6]] == b" the"
    assert len(ml) == 50000 and list(ml.new_ids) == sorted(ml.new_ids)
    for t in (0, 100, 4999, 49999):  # every merge makes the token whose id it has
        left, right = ml.pair_bytes(t)
        assert ml.tokens[ml.new_ids[t]] == left + right


def test_errors_name_the_problem():
    with pytest.raises(InvalidInput, match="non-empty dict"):
        mx.infer_mixture("r50k_base", {})
    with pytest.raises(InvalidInput, match="'fra' has no sample text"):
        mx.infer_mixture("r50k_base", {"eng": "hello world", "fra": "  "})
    with pytest.raises(InvalidInput, match="at least two categories"):
        mx.infer_mixture("r50k_base", {"eng": "hello world"})
    with pytest.raises(InvalidInput, match="steps"):
        mx.infer_mixture("r50k_base", {"a": "hello", "b": "world"}, steps=0)
    with pytest.raises(UnknownTokenizer, match="r50k_base"):
        mx.extract_merges("gpt5_base")
    with pytest.raises(InvalidInput, match="slack"):
        mx.solve_mixture_lp(np.zeros((1, 2)), [np.zeros((1, 2))], slack="max")
    with pytest.raises(InvalidInput, match="weights"):
        mx.controlled_experiment(languages=("eng", "fra"), weights=(1.0,))


def test_unknown_category_names_are_refused():
    pytest.importorskip("tokenworks.text.udhr")
    with pytest.raises(InvalidInput, match="xx_not_a_language"):
        mx.category_sample("xx_not_a_language")
    with pytest.raises(InvalidInput, match="zz_nope"):
        mx.controlled_experiment(languages=("eng", "zz_nope"), weights=(0.5, 0.5))


def test_pretrained_mixture_returns_estimates_with_caveats():
    res = mx.pretrained_mixture("r50k_base", categories=("eng", "fra", "code"), steps=300)
    assert set(res.weights) == {"eng", "fra", "code"}
    assert sum(res.weights.values()) == pytest.approx(1.0)
    assert res.estimate.success and res.estimate.steps_used == 300
    assert any("absorbed" in c for c in res.caveats)
    assert res.sources["code"].startswith("Python standard library")
