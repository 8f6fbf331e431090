"""Supertokens on SmolLM2 (tokenworks.lm.supertokens): a small SuperBPE trained on the pydocs
train split, transplanted, scored on the held-out prose beside the original."""
from __future__ import annotations

import pytest
from tokenworks.errors import InvalidInput
from tokenworks.lm.supertokens import supertokens


def test_a_small_superbpe_on_the_model(smollm2, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path / "runs"))
    r = supertokens(smollm2, vocab_size=1500, transition=1200, limit_mb=0.3, method="fvt", finetune=None,
                    out=tmp_path / "runs" / "text" / "superbpe")
    assert (tmp_path / "runs" / "text" / "superbpe" / "config.json").is_file() and r.tokenizer.startswith("run:")
    assert r.heldout_bytes > 15_000 and r.tokens_base > 4000
    # 1,500 tokens hold far less than SmolLM2's 49,152, superwords or not; some tokens cross a space
    assert r.tokens_new > r.tokens_base and r.token_reduction < 0 and 0 < r.superword_tokens < r.tokens_new
    assert 1.0 < r.zero_shot_ratio < 3.0 and r.finetuned_ratio is None
    assert r.base_bits_per_byte == pytest.approx(sum(smollm2.score(p).total_bits for p in _paragraphs())
                                                 / r.heldout_bytes, rel=1e-6)


def test_the_transition_must_sit_inside_the_vocabulary(smollm2):
    with pytest.raises(InvalidInput, match="transition must be between 0 and vocab_size"):
        supertokens(smollm2, vocab_size=1000, transition=1000, finetune=None)


def _paragraphs():
    from tokenworks.lm.finetune import eval_texts

    return eval_texts(0)
