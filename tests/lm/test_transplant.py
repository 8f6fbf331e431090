"""Giving SmolLM2 a new tokenizer (tokenworks.lm.transplant, lm.new_embeddings): shared tokens keep
their vectors, new ones get the method's, the model loads, scores and generates on the new
tokens, checkpoints are whole or absent, lossy vocabularies are refused with the reason."""
from __future__ import annotations

import numpy as np
import pytest

import tokenworks as tw
from tokenworks.errors import CorruptCheckpoint, InvalidInput, UnknownTokenizer
from tokenworks.lm import new_embeddings, transplant as tp
from tokenworks.lm.vocab import vocab_for

TEXTS = ["The lighthouse keeper climbed the stairs every evening.", "In 2024 the town had 1,500 people."]


@pytest.fixture(scope="module")
def fvt(smollm2):
    return tp.transplant(smollm2, "text/cl100k_base", "fvt", texts=TEXTS)


def base_matrix(lm) -> np.ndarray:
    return lm.net.module.get_input_embeddings().weight.detach().float().numpy()  # (V, D)


def test_shared_tokens_keep_their_vectors_and_new_ones_are_fvt(smollm2, fvt):
    E, p = base_matrix(smollm2), fvt.plan
    shared = np.flatnonzero(p.shared >= 0)
    assert len(shared) == fvt.preflight.shared > 30_000
    np.testing.assert_array_equal(fvt.matrix[shared], E[p.shared[shared]])
    nv = vocab_for(tw.load_shared("text/cl100k_base"))
    new = [i for i in np.flatnonzero(p.shared < 0) if not nv.special[i]]
    lone = [i for i in new if len(nv.token_bytes[i]) == 1]  # bytes SmolLM2 has no token for
    assert lone and all(p.pieces[i] == [] for i in lone) and p.unrepresented >= len(lone)
    for i in [i for i in new if len(nv.token_bytes[i]) >= 3][:50]:
        assert p.pieces[i] and b"".join(smollm2.vocab.token_bytes[j] for j in p.pieces[i]) == nv.token_bytes[i]
        np.testing.assert_allclose(fvt.matrix[i], E[p.pieces[i]].mean(axis=0), rtol=1e-6)
    doc = tp._doc_start(nv)
    np.testing.assert_array_equal(fvt.matrix[doc], E[smollm2.bos_id])
    assert fvt.lm.bos_id == doc == 100257


def test_preflight_report(smollm2, fvt):
    pre = fvt.preflight
    assert pre.base_vocab == 49152 and pre.new_vocab == 100277 and pre.out_of_range == 0
    assert pre.shared + pre.new + int(vocab_for(tw.load_shared("text/cl100k_base")).special.sum()) == pre.new_vocab
    assert 0 < pre.heldout_new_share < 1 and pre.heldout_tokens_new < pre.heldout_tokens_base
    assert pre.special["<|endoftext|>"] == "the base document-start vector"
    assert "mean vector" in pre.special["<|fim_prefix|>"]
    cuts = dict((n, (a, b)) for n, a, b in pre.numbers)
    assert cuts["2024"] == (["2", "0", "2", "4"], ["202", "4"])  # digits one by one against three at a time


def test_the_transplanted_model_scores_and_generates(smollm2, fvt):
    text = TEXTS[0]
    r = fvt.lm.score(text)
    assert r.tokens.tokenizer == "text/cl100k_base"
    assert fvt.lm.tokenizer.decode(r.tokens) == text  # text -> ids -> text is exact
    base = smollm2.score(text).bits_per_byte
    assert base < r.bits_per_byte < 4 * base  # zero-shot costs bits, but the model still reads the text
    g = fvt.lm.generate("The capital of France is", max_bytes=8, method="tokens")
    assert g.data and fvt.lm.next_bytes("The capital of France is Par", "exact").probs.sum() == pytest.approx(1)


@pytest.mark.parametrize("method", ["zero", "mean", "random"])
def test_baselines(smollm2, method):
    E = base_matrix(smollm2)
    nv = vocab_for(tw.load_shared("text/cl100k_base"))
    p = new_embeddings.plan(smollm2.vocab, smollm2.tokenizer, nv, method)
    M = new_embeddings.build(E, p, nv.special, seed=3)
    i = int(np.flatnonzero((p.shared < 0) & ~nv.special)[0])
    if method == "zero":
        assert not M[i].any()
    elif method == "mean":
        np.testing.assert_allclose(M[i], E.mean(axis=0), rtol=1e-6)
    else:
        again = new_embeddings.build(E, p, nv.special, seed=3)
        np.testing.assert_array_equal(M, again)
        assert not np.allclose(M[i], E.mean(axis=0))


def test_checkpoint_round_trip(fvt, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path))
    folder = tp.save(fvt, tmp_path / "lm" / "smollm2-cl100k-fvt")
    lm2 = tw.load_lm("lm/smollm2-cl100k-fvt")
    assert lm2.info.tokenizer == "text/cl100k_base"
    assert lm2.score(TEXTS[1]).bits_per_byte == pytest.approx(fvt.lm.score(TEXTS[1]).bits_per_byte, rel=1e-5)
    assert tw.load_lm(str(folder)) is lm2  # loaded once, shared


def test_a_failed_save_leaves_nothing(fvt, tmp_path, monkeypatch):
    import safetensors.torch

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    with pytest.raises(OSError):
        tp.save(fvt, tmp_path / "half")
    assert not (tmp_path / "half").exists() and not list(tmp_path.iterdir())


def test_old_or_foreign_checkpoints_are_refused(fvt, tmp_path):
    import json

    folder = tp.save(fvt, tmp_path / "old")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["config"]["donor"] = "some-model"  # a field this version does not know
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CorruptCheckpoint, match="another version"):
        tp.load(folder, tw.load_lm)


def test_bad_targets_are_refused(smollm2):
    with pytest.raises(InvalidInput, match="not a byte-level vocabulary.*no exact bits per byte"):
        tp.transplant(smollm2, "text/bert-base-uncased", "fvt", texts=TEXTS)
    with pytest.raises(UnknownTokenizer):
        tp.transplant(smollm2, "text/nope", "fvt", texts=TEXTS)
    with pytest.raises(InvalidInput, match="zero, mean, random, fvt, omp, tokenadapt"):
        tp.transplant(smollm2, "text/cl100k_base", "omp-magic", texts=TEXTS)


def test_cli_transplant_writes_a_loadable_checkpoint(smollm2, tmp_path, monkeypatch, capsys):
    from tokenworks.cli import main

    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path))
    assert main(["lm", "transplant", "--tokenizer", "text/r50k_base", "--method", "mean",
                 "--out", str(tmp_path / "lm" / "smollm2-r50k-mean")]) == 0
    out = capsys.readouterr().out
    assert "pre-flight" in out and "ids out of range: 0" in out and "wrote" in out
    assert main(["lm", "score", "--model", "lm/smollm2-r50k-mean", "Hello there."]) == 0
    assert "bits per byte" in capsys.readouterr().out
    assert main(["lm", "transplant", "--tokenizer", "text/bert-base-uncased", "--out", str(tmp_path / "x")]) == 1
    assert "no exact bits per byte" in capsys.readouterr().err and not (tmp_path / "x").exists()


# ---- OMP and TokenAdapt ------------------------------------------------------------------------

def test_omp_recovers_exact_sparse_combinations():
    from tokenworks.lm.omp import omp

    rng = np.random.default_rng(0)
    A = rng.normal(size=(400, 48))  # (M, d) atoms
    true_idx = np.stack([rng.choice(400, 3, replace=False) for _ in range(60)])  # (N, 3)
    true_c = rng.normal(size=(60, 3)) * 2
    Y = (true_c[..., None] * A[true_idx]).sum(1)  # (N, d)
    idx, coef = omp(Y, A, 5)
    for n in range(60):
        got = {int(a): c for a, c in zip(idx[n], coef[n]) if abs(c) > 1e-9}
        assert set(got) == set(true_idx[n].tolist())
        for a, c in zip(true_idx[n], true_c[n]):
            assert got[int(a)] == pytest.approx(c, abs=1e-8)
    with pytest.raises(ValueError, match="k must be"):
        omp(Y, A, 0)


def _toy_plan(method):
    """Base vocabulary: 4 tokens; new vocabulary: the same 4 and 2 new ones (pieces 0+1 and 2+3)."""
    p = new_embeddings.EmbeddingPlan(method, np.array([0, 1, 2, 3, -1, -1]), [[], [], [], [], [0, 1], [2, 3]], {}, 0)
    return p, np.zeros(6, dtype=bool), [b"ab", b"cd", b"ef", b"gh", b"abcd", b"efgh"]


def test_omp_and_tokenadapt_use_the_shared_space(monkeypatch):
    from tokenworks.lm import donor_space

    E = np.arange(4 * 3, dtype=np.float32).reshape(4, 3) + 1  # (V, D) base vectors
    D = np.eye(4, 5, dtype=np.float32)  # anchors' shared-space vectors: 4 orthogonal directions
    space = {b"ab": D[0], b"cd": D[1], b"ef": D[2], b"gh": D[3],
             b"abcd": 0.25 * D[0] + 0.75 * D[1], b"efgh": 2 * D[2] - D[3]}
    monkeypatch.setattr(donor_space, "donor_vectors",
                        lambda bs: donor_space.DonorVectors(np.stack([space[b] for b in bs]), np.ones(len(bs), bool)))
    p, special, nb = _toy_plan("omp")
    M = new_embeddings.build(E, p, special, new_bytes=nb, base_bytes=nb[:4])
    np.testing.assert_allclose(M[4], 0.25 * E[0] + 0.75 * E[1], rtol=1e-5)  # the same weights, in base space
    np.testing.assert_allclose(M[5], 2 * E[2] - E[3], rtol=1e-5)
    np.testing.assert_array_equal(M[:4], E)
    p, special, nb = _toy_plan("tokenadapt")
    M = new_embeddings.build(E, p, special, new_bytes=nb, base_bytes=nb[:4])
    local = E[[0, 1]].mean(axis=0)  # equal piece lengths: the plain mean
    assert not np.allclose(M[4], local) and np.all(np.isfinite(M))
    # the global half is a convex combination of base rows: the hybrid lies between local and the rows
    glob = (M[4] - new_embeddings.ADAPT_LOCAL * local) / (1 - new_embeddings.ADAPT_LOCAL)
    assert (glob >= E.min(axis=0) - 1e-4).all() and (glob <= E.max(axis=0) + 1e-4).all()


def test_domains_and_the_transplant_targets():
    from tokenworks.bench.targets import transplant_targets
    from tokenworks.lm.domains import DOMAINS, domain

    assert {"english", "python", "udhr-deu_1996", "udhr-fra", "udhr-cmn_hans"} <= set(DOMAINS)
    d = domain("udhr-fra", 300)
    assert d.label == "UDHR, French" and 150 <= len(d.text) <= 300 and d.text.startswith("Tous les")
    with pytest.raises(InvalidInput, match="english, python"):
        domain("klingon")
    t = {x.key: x for x in transplant_targets({"text/cl100k_base": {"fvt": 1.34, "tokenadapt": 1.16}})}
    assert t["transplant text/cl100k_base"].passed and "best tokenadapt 1.160x" in t["transplant text/cl100k_base"].detail
    assert t["transplant text/o200k_base"].passed is None


def test_a_workbench_superbpe_run_gets_a_document_start_token(smollm2):
    """SuperBPE trains without special tokens: the vocabulary gets one more id for the document start."""
    from tokenworks.text.superbpe import SuperBPE

    corpus = ["The lighthouse keeper climbed the stairs of the lighthouse every evening of the year. "] * 40
    sb = SuperBPE.train(corpus, vocab_size=300)
    nv = vocab_for(sb)
    assert nv.appended_doc_start and len(nv.token_bytes) == sb.vocab_size + 1 and nv.special[-1]
    assert nv.encode("the lighthouse") == sb.encode("the lighthouse").ids.tolist()
    assert tp._doc_start(nv) == sb.vocab_size


def test_transplant_onto_a_trained_run(smollm2, monkeypatch):
    from tokenworks.text.superbpe import SuperBPE

    sb = SuperBPE.train(["of the sea and of the land, " * 30], vocab_size=300)
    monkeypatch.setattr(tp, "_load_tokenizer", lambda ref: sb)
    t = tp.transplant(smollm2, "run:superbpe-test", "fvt", texts=TEXTS)
    assert t.lm.bos_id == sb.vocab_size and t.matrix.shape[0] == sb.vocab_size + 1
    r = t.lm.score("of the sea and of the land")
    assert np.isfinite(r.bits_per_byte) and sb.decode(r.tokens) == "of the sea and of the land"


def test_omp_keeps_the_weights_of_targets_that_finish_early():
    """A target rebuilt exactly by one atom stops there, while the others in its batch go on."""
    from tokenworks.lm.omp import omp

    rng = np.random.default_rng(1)
    A = rng.normal(size=(50, 64))
    Y = np.stack([3 * A[7], A[1] + 2 * A[2] - A[3], -A[40]])  # (3, d): 1, 3 and 1 atoms
    for pool in (None, 40):
        idx, coef = omp(Y, A, 6, pool=pool)
        rebuilt = (coef[..., None] * A[idx]).sum(1)
        np.testing.assert_allclose(rebuilt, Y, atol=1e-8)
        assert coef[0, 0] == pytest.approx(3) and idx[0, 0] == 7 and not coef[0, 1:].any()
