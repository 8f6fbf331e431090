"""The Transfer tab's library (tokenworks.lm.transfer_inspect): the pre-flight report builds and
writes nothing, bits per byte per held-out domain compare both models on the same characters,
a new token's breakdown holds its pieces and its nearest base tokens, transplants are cached (two
at most), checkpoints land in runs/lm/<name> and load by name, bad inputs get messages.
Cheap methods only (zero, mean, fvt); TOKENWORKS_FAST-sized texts."""
from __future__ import annotations

import numpy as np
import pytest

import tokenworks as tw
from tokenworks.errors import InvalidInput, UnknownTokenizer
from tokenworks.lm import transfer_inspect as ti
from tokenworks.lm.vocab import vocab_for

TEXTS = ["The lighthouse keeper climbed the stairs every evening.", "In 2024 the town had 1,500 people."]


@pytest.fixture
def empty_cache():
    ti._CACHE.clear()
    yield ti._CACHE
    ti._CACHE.clear()


@pytest.fixture(scope="module")
def fvt(smollm2):
    ti._CACHE.clear()
    t = ti.cached_transplant(smollm2, "text/cl100k_base", "fvt")
    yield t
    ti._CACHE.clear()


def test_preflight_report_plans_without_weights(smollm2, runs_dir, empty_cache):
    r = ti.preflight_report(smollm2, "text/cl100k_base", "fvt", texts=TEXTS)
    p = r.preflight
    assert r.tokenizer == "text/cl100k_base" and r.method == "fvt"
    assert p.new_vocab == 100277 and p.shared > 30_000 and p.out_of_range == 0 and p.heldout_tokens_base > 0
    rows = {x.item: x for x in r.rows}
    assert rows["shared tokens (keep their vectors)"].value == f"{p.shared:,}"
    assert rows["held-out bytes in new tokens"].value == f"{p.heldout_new_share:.1%}"
    assert rows["tokens on held-out prose"].value == f"{p.heldout_tokens_base:,} → {p.heldout_tokens_new:,}"
    assert rows["ids out of range"].value == "0"
    assert rows["special <|endoftext|>"].value == "the base document-start vector"
    assert rows["number 2024"].value == "2 | 0 | 2 | 4  →  202 | 4"
    assert not empty_cache and not any(runs_dir.iterdir())  # nothing built, nothing written


@pytest.mark.parametrize("tokenizer, error, words", [
    ("text/bert-base-uncased", InvalidInput, "not a byte-level vocabulary"),
    ("text/no-such-tokenizer", UnknownTokenizer, "unknown tokenizer"),
    ("", InvalidInput, "choose a target tokenizer"),
])
def test_bad_targets_are_refused_with_the_reason(smollm2, tokenizer, error, words):
    with pytest.raises(error, match=words):
        ti.preflight_report(smollm2, tokenizer, "fvt")
    with pytest.raises(error, match=words):
        ti.cached_transplant(smollm2, tokenizer, "fvt")


def test_unknown_method_and_domain_limits(smollm2, fvt):
    with pytest.raises(InvalidInput, match="method must be one of zero, mean"):
        ti.preflight_report(smollm2, "text/cl100k_base", "wechsel")
    with pytest.raises(InvalidInput, match="100 to 4,000"):
        ti.score_domains(smollm2, fvt, ("english",), chars=50_000)
    with pytest.raises(InvalidInput, match="unknown domain"):
        ti.score_domains(smollm2, fvt, ("klingon",), chars=200)
    with pytest.raises(InvalidInput, match="at least one domain"):
        ti.score_domains(smollm2, fvt, (), chars=200)


def test_bits_per_byte_per_domain(smollm2, fvt, monkeypatch):
    monkeypatch.setenv("TOKENWORKS_FAST", "1")
    s = ti.score_domains(smollm2, fvt, ("english", "python", "udhr-rus"))
    assert [r.key for r in s.rows] == ["english", "python", "udhr-rus"]
    assert s.tokenizer == "text/cl100k_base" and s.method == "fvt"
    for r in s.rows:
        assert 0 < r.chars <= ti.FAST_CHARS and r.n_bytes >= r.chars
        assert r.ratio == pytest.approx(r.bpb_new / r.bpb_base)
        assert r.bpb_base < r.bpb_new < 4 * r.bpb_base  # zero-shot costs bits but still reads the text
    rus = s.rows[2]
    assert rus.n_bytes > rus.chars and rus.tokens_new < rus.tokens_base  # Cyrillic: 2 bytes a letter; cl100k cuts fewer
    english = smollm2.score(ti.domain("english", ti.FAST_CHARS).text).bits_per_byte
    assert s.rows[0].bpb_base == pytest.approx(english)


def test_one_new_token_breakdown(smollm2, fvt):
    examples = ti.example_tokens(fvt, TEXTS[0] + " " + TEXTS[1])
    assert examples and all(fvt.plan.shared[ti.find_token(fvt, e)] < 0 for e in examples)
    b = ti.token_breakdown(smollm2, fvt, "␣quarterback")  # ␣ stands for a space
    nv = vocab_for(fvt.lm.tokenizer)
    assert b.status == "new" and b.label == "␣quarterback" and nv.token_bytes[b.token_id] == b" quarterback"
    assert b"".join(smollm2.vocab.token_bytes[p.id] for p in b.pieces) == b" quarterback" and len(b.pieces) >= 2
    assert b.combined is None and "mean of the pieces" in b.combined_note
    cos = [c for _, c in b.neighbours]
    assert len(cos) == ti.NEIGHBOURS and cos == sorted(cos, reverse=True) and cos[0] <= 1 + 1e-5
    E = smollm2.net.module.get_input_embeddings().weight.detach().float().numpy()  # (V, D)
    j = b.neighbours[0][0].id
    v = fvt.matrix[b.token_id]
    assert cos[0] == pytest.approx(float(E[j] @ v / np.linalg.norm(E[j]) / np.linalg.norm(v)), rel=1e-4)
    assert {p.id for p in b.pieces} & {p.id for p, _ in b.neighbours}  # fvt's row points at its own pieces

    shared = ti.token_breakdown(smollm2, fvt, " the")
    assert shared.status == "shared" and shared.base_id is not None and "keeps base token" in shared.combined_note
    assert shared.neighbours[0][0].id == shared.base_id and shared.neighbours[0][1] == pytest.approx(1, abs=1e-5)
    with pytest.raises(InvalidInput, match="is not one token of text/cl100k_base"):
        ti.token_breakdown(smollm2, fvt, "quarterback keeper")


def test_cache_keeps_the_last_two(smollm2, empty_cache):
    a = ti.cached_transplant(smollm2, "text/cl100k_base", "zero")
    assert ti.cached_transplant(smollm2, "text/cl100k_base", "zero") is a
    ti.cached_transplant(smollm2, "text/cl100k_base", "mean")
    ti.cached_transplant(smollm2, "text/cl100k_base", "fvt")
    assert [k[2] for k in ti.cached_keys()] == ["mean", "fvt"]
    b = ti.token_breakdown(smollm2, a, "␣quarterback")  # zero: no pieces used, shown for comparison; no neighbours
    assert b.pieces and b.neighbours == [] and any("for comparison" in n for n in b.notes)


def test_save_loads_by_name_and_an_interrupted_save_leaves_nothing(smollm2, fvt, runs_dir, monkeypatch):
    path = ti.save_transplant(fvt, "smollm2-cl100k-fvt")
    assert path == runs_dir / "lm" / "smollm2-cl100k-fvt" and (path / "config.json").is_file()
    lm = tw.load_lm("lm/smollm2-cl100k-fvt")
    assert lm.tokenizer.name == "text/cl100k_base"
    assert lm.score(TEXTS[0]).bits_per_byte == pytest.approx(fvt.lm.score(TEXTS[0]).bits_per_byte, rel=1e-5)
    with pytest.raises(InvalidInput, match="checkpoint name"):
        ti.save_transplant(fvt, "../outside")

    import safetensors.torch

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    with pytest.raises(InvalidInput, match="No space left on device.*not written"):
        ti.save_transplant(fvt, "second")
    assert sorted(p.name for p in (runs_dir / "lm").iterdir()) == ["smollm2-cl100k-fvt"]  # no half-written folder


def test_omp_atoms_are_recomputed_in_the_shared_space(smollm2, fvt):
    """A token whose MiniLM-space vector is a shared token's (' TOKEN' and 'TOKEN': lower-cased, spaces
    dropped) is that one atom with weight 1; the note says which space and compares with the row."""
    import dataclasses

    as_omp = dataclasses.replace(fvt, config=dataclasses.replace(fvt.config, method="omp"))
    b = ti.token_breakdown(smollm2, as_omp, "␣TOKEN")
    assert b.status == "new" and b.combined is not None
    top = max(b.combined, key=lambda p: abs(p.weight))
    assert top.label == "TOKEN" and top.weight == pytest.approx(1, abs=1e-6)
    assert sum(abs(p.weight) for p in b.combined if p is not top) < 1e-6
    assert "OMP atoms" in b.combined_note and "all-MiniLM-L6-v2" in b.combined_note and "rebuilds" in b.combined_note
