"""Training a contestant: a killed run resumes to the same weights, the FLOPs budget sets the
steps and is recorded, and bad input gets a message."""
import json

import pytest
import torch

from tokenworks.errors import InvalidInput
from tokenworks.lm.tiny.train import main, prepare, resume, train_tiny
from tokenworks.lm.tiny.train_config import preset_config


def tiny(tmp_path, name, **kw):
    base = dict(train_bytes=60_000, eval_bytes=6_000, context_bytes=64, batch_size=4,
                model=dict(d_model=32, n_head=2, d_ff=64, n_layer=3), out=str(tmp_path / name), threads=1)
    return preset_config("cpu-tiny", **{**base, **kw})


def test_budget_sets_the_steps_and_the_flops_are_recorded(tmp_path):
    cfg = tiny(tmp_path, "words", input="words", flops=4e9)
    r = train_tiny(cfg)
    assert r.steps > 5
    assert 0.8 * cfg.flops <= r.flops <= 1.2 * cfg.flops  # the words' middle length varies batch to batch
    info = json.loads((r.folder / "config.json").read_text())
    assert info["kind"] == "lm/tiny" and info["metrics"]["train_flops"] == pytest.approx(r.flops)
    assert 0 < r.score.kept_share < 0.5 and r.score.bits_per_byte > 0
    assert info["config"]["input"] == "words"


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    cfg = tiny(tmp_path, "full", input="delete", steps=8, checkpoint_every=4)
    prepared = prepare(cfg)
    full = train_tiny(cfg, prepared=prepared)
    cut = tiny(tmp_path, "cut", input="delete", steps=8, checkpoint_every=4)
    calls = []
    stopped = train_tiny(cut, prepared=prepared, stop=lambda: len(calls) >= 4 or calls.append(1) is not None and False)
    assert stopped.reason == "stopped" and stopped.steps == 4
    resumed = resume(stopped.run_dir)
    assert resumed.steps == 8
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the gate's noise and the windows came from saved RNGs
    assert float(b["train_flops"]) == pytest.approx(float(a["train_flops"]))


def test_bad_input_gets_a_message(tmp_path, capsys):
    with pytest.raises(InvalidInput, match="bits per byte"):
        prepare(tiny(tmp_path, "bert", input="tokens", tokenizer="text/bert-base-uncased"))
    with pytest.raises(InvalidInput, match="too small for this preset"):
        prepare(tiny(tmp_path, "small", input="bytes", train_bytes=2_000, batch_size=16, context_bytes=256))
    with pytest.raises(InvalidInput, match="needs a tokenizer"):
        train_tiny(tiny(tmp_path, "none", input="tokens"))
    with pytest.raises(InvalidInput, match="memory|GiB"):
        train_tiny(tiny(tmp_path, "huge", input="bytes", model=dict(d_model=8192, n_head=64, d_ff=32768, n_layer=96)))
    assert main(["--input", "tokens", "--tokenizer", "text/nonesuch", "--out", str(tmp_path / "x")]) == 2
    assert "nonesuch" in capsys.readouterr().err


def test_a_registered_run_trains_and_lists(tmp_path, monkeypatch):
    from tokenworks.train import runs as R
    from tokenworks.train.__main__ import main as train_main

    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("TOKENWORKS_TRAIN_NICE", "0")
    assert train_main(["lm", "--input", "tokens", "--tokenizer", "text/r50k_base", "--preset", "cpu-tiny",
                       "--steps", "6", "--log-every", "3", "--train-bytes", "60000", "--eval-bytes", "3000"]) == 0
    (info,) = R.list_runs(modality="lm")
    assert info.status == "done" and info.step == 6 and info.has_model
    assert info.summary["model"] == "text/r50k_base"
    assert info.metrics["bits_per_byte"] > 0 and info.metrics["train_flops"] > 0
