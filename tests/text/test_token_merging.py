"""Token merging in MiniLM (tokenworks.text.tome, .pitome, .token_merging) and its bench table
(.token_merging_bench): the matching rules on hand-made keys, then the shared MiniLM."""
from __future__ import annotations

import numpy as np
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.text import pitome, tome
from tokenworks.text import token_merging as tm

SENTENCE = ("The animal didn't cross the street because it was too tired, and the street was long, wide "
            "and busy with carts.")


def _keys(n: int = 11, d: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


# ---- the matching rules, no model -------------------------------------------------------------

@pytest.mark.parametrize("plan", [lambda k, r: tome.tome_assign(k, r), lambda k, r: pitome.pitome_assign(k, r, 1, 6)])
def test_each_step_removes_exactly_r_and_never_merges_cls(plan):
    keys = _keys()
    assert plan(keys, 0).tolist() == list(range(11))  # nothing to do
    for r in range(1, 6):
        assign = plan(keys, r)
        assert assign.max() + 1 == 11 - r  # r tokens fewer
        assert (assign == assign[0]).sum() == 1  # [CLS] alone in its group
        assert sorted(set(assign.tolist())) == list(range(11 - r))


def test_tome_merges_the_most_similar_pairs_across_the_alternating_sets():
    keys = np.eye(7)  # every token different ...
    keys[3] = keys[2] + 0.01  # ... but 2 (in B: candidates 1,3,5 are A; 2,4,6 are B) and 3 (A) nearly equal
    assign = tome.tome_assign(keys, 1)
    assert assign[3] == assign[2] and len(set(assign.tolist())) == 6


def test_pitome_protects_isolated_tokens_and_merges_the_cluster():
    rng = np.random.default_rng(1)
    base = rng.normal(size=8)
    keys = np.stack([rng.normal(size=8)] + [base + 0.05 * rng.normal(size=8) for _ in range(6)]
                    + [rng.normal(size=8) for _ in range(2)])  # [CLS], a cluster of 6, 2 loners
    energy = pitome.energy_scores(keys[1:], pitome.margin(0, 6))
    assert energy[:6].min() > energy[6:].max()  # the cluster has the high energy
    assign = pitome.pitome_assign(keys, 3, 0, 6)
    merged = [i for i in range(9) if (assign == assign[i]).sum() > 1]
    assert set(merged) <= set(range(1, 7)) and len(set(assign.tolist())) == 6  # only cluster tokens merged
    assert pitome.margin(0, 6) == pytest.approx(0.9) and pitome.margin(5, 6) == pytest.approx(0.15)


def test_bad_method_and_r_name_the_choices():
    with pytest.raises(InvalidInput, match="tome, pitome, random"):
        tm.check_method("bipartite", 2)
    with pytest.raises(InvalidInput, match="0 to 64"):
        tm.check_method("tome", 65)
    with pytest.raises(InvalidInput, match="whole number"):
        tm.check_method("tome", 1.5)
    assert tm.check_method("pitome", 3.0) == 3


# ---- MiniLM -------------------------------------------------------------------------------------

needs_model = pytest.mark.usefixtures("minilm_model")  # skips without the asset (tests/conftest.py)


@needs_model
@pytest.mark.parametrize("method", tm.METHODS)
def test_no_merges_reproduce_the_models_own_embedding(method):
    m = tm.merge_tokens(SENTENCE, method, 0)
    assert m.removed == 0 and abs(m.cosine - 1.0) < 1e-6
    assert np.isclose(np.linalg.norm(m.embedding), 1.0) and m.embedding.shape == (384,)


@needs_model
@pytest.mark.parametrize("method", tm.METHODS)
def test_every_layer_removes_r_and_cls_stays_alone(method):
    m = tm.merge_tokens(SENTENCE, method, 2)
    T = len(m.tokens)
    assert T > 26  # long enough that no layer hits the (N - 1) // 2 cap
    assert [s.removed for s in m.layers] == [2] * 6 and m.removed == 12
    assert [s.before for s in m.layers] == [T - 2 * i for i in range(6)]
    for s in m.layers:
        assert [0] in s.groups  # [CLS] never merged (nor dropped)
        assert len(s.groups) == s.before - 2
    if method != "random":  # merging keeps every input token somewhere: the sizes add up
        assert m.sizes.sum() == T
        assert sorted(i for g in m.layers[-1].groups for i in g) == list(range(T))
        assert sorted(len(g) for g in m.layers[-1].groups) == sorted(m.sizes.astype(int).tolist())
    else:
        assert m.sizes.sum() == T - 12 and all(len(g) == 1 for g in m.layers[-1].groups)
    assert 0.0 < m.cosine < 1.0


@needs_model
def test_pitome_and_tome_merge_differently():
    a, b = tm.merge_tokens(SENTENCE, "tome", 3), tm.merge_tokens(SENTENCE, "pitome", 3)
    assert any(x.groups != y.groups for x, y in zip(a.layers, b.layers))
    assert a.cosine != b.cosine


@needs_model
def test_random_dropping_is_reproducible_with_its_seed():
    a, b = tm.merge_tokens(SENTENCE, "random", 3, seed=7), tm.merge_tokens(SENTENCE, "random", 3, seed=7)
    assert [s.groups for s in a.layers] == [s.groups for s in b.layers] and a.cosine == b.cosine
    c = tm.merge_tokens(SENTENCE, "random", 3, seed=8)
    assert [s.groups for s in a.layers] != [s.groups for s in c.layers]


@needs_model
def test_a_short_sentence_says_that_fewer_merges_were_possible():
    m = tm.merge_tokens("Hello there.", "tome", 8)  # [CLS] hello there . [SEP]: at most 2, then 1 ...
    assert m.layers[0].removed == 2 and len(m.layers[-1].groups) >= 2
    assert any("at most (N - 1) // 2" in n for n in m.notes)


# ---- the bench table ------------------------------------------------------------------------------

@pytest.fixture
def austen():
    from tokenworks.assets import status

    if status("janeaustenr").state != "present":
        pytest.skip("needs the janeaustenr asset (tokenworks assets fetch janeaustenr)")


@needs_model
def test_held_out_sentences_and_the_bench_rows(austen, monkeypatch):
    from tokenworks.bench.harness import Row
    from tokenworks.text import token_merging_bench as tb

    s = tb.held_out_sentences(5)
    assert len(s) == 5 and s == tb.held_out_sentences(5)
    assert all(tb.MIN_WORDS <= len(x.split()) <= tb.MAX_WORDS for x in s)
    c = tb.merge_curve(s[:2], rs=(0, 2))
    assert np.allclose(c.cosine[:, 0], 1.0, atol=1e-6)  # r = 0: the unmerged model
    assert (c.removed[:, 1] == c.removed[0, 1]).all() and c.removed[0, 1] > 0  # every method removes the same
    monkeypatch.setattr(tb, "FAST_SENTENCES", 2)
    monkeypatch.setattr(tb, "FAST_RS", (2,))
    rows = tb.token_merging_rows(quick=True)
    assert [r.name.split(",")[0] for r in rows] == ["MiniLM ToMe", "MiniLM PiToMe", "MiniLM random dropping"]
    assert all(isinstance(r, Row) and r.group == "lm" and r.unit == "cosine" for r in rows)
    assert rows[0].anchor_value == rows[2].value and rows[2].anchor_value == 1.0
    assert rows[0].ratio == pytest.approx(rows[0].value / rows[2].value)
