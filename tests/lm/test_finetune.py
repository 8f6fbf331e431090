"""Fine-tuning a transplanted model's new embedding rows (tokenworks.lm.finetune) as a registered
run: held-out bits per byte falls, only new rows move, a stopped run resumes where it stopped, the
model loads by name and scores, and bad input is refused with a message before anything is written."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tokenworks as tw
from tokenworks.errors import InvalidInput, UnknownTokenizer
from tokenworks.lm import finetune as ft
from tokenworks.lm.finetune_config import preset_config
from tokenworks.lm.output_fit import piece_features
from tokenworks.train import runs as R

ARGV = ["lm-embeddings", "--tokenizer", "text/cl100k_base", "--method", "fvt", "--calibrate-windows", "0", "--bias-lr", "0.05",
        "--preset", "cpu-tiny", "--steps", "12", "--checkpoint-every", "6", "--eval-every", "6", "--log-every", "6"]
STOP_AT = 6


def _events(folder, kind):
    return [e for e in R.read_events(folder) if e.get("event") == kind]


@pytest.fixture(scope="module")
def run(smollm2, tmp_path_factory):
    """A cpu-tiny run of 12 steps through `python -m tokenworks.train`, stopped after its step-6
    checkpoint, then resumed to the end; yields (run folder, a layer weight before, the base matrix)."""
    from tokenworks.train.__main__ import main
    from tokenworks.train.loop import CheckpointEvent, request_stop

    layer = smollm2.net.module.model.layers[3].mlp.down_proj.weight.detach().clone()
    E = smollm2.net.module.get_input_embeddings().weight.detach().float().numpy().copy()  # (V, D)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOKENWORKS_RUNS", str(tmp_path_factory.mktemp("runs")))
        mp.setenv("TOKENWORKS_TRAIN_NICE", "0")
        log = ft.log_loop_event

        def stop_after_checkpoint(ev):  # as if someone pressed Stop right after the step-6 checkpoint
            log(ev)
            if isinstance(ev, CheckpointEvent) and ev.step == STOP_AT and ev.kind == "last":
                request_stop()

        mp.setattr(ft, "log_loop_event", stop_after_checkpoint)
        assert main(ARGV) == 0
        (info,) = R.list_runs(modality="lm-embeddings")
        assert info.status == "stopped" and info.resumable and info.step == STOP_AT
        mp.setattr(ft, "log_loop_event", log)
        assert main(["resume", info.id]) == 0
        yield R.read_run(info.folder), layer, E


def test_the_run_lowers_heldout_bits_per_byte(run):
    info, _, _ = run
    assert info.status == "done" and info.step == 12 and info.summary["model"] == "text/cl100k_base"
    evals = _events(info.folder, "eval")
    assert [e["step"] for e in evals] == [0, 6, 6, 12]  # the start, step 6, the resumed start, the end
    first, last = evals[0], evals[-1]
    assert first["base_bits_per_byte"] == last["base_bits_per_byte"]
    assert 1.2 < first["ratio"] < 1.6  # FVT zero-shot on cl100k_base
    assert last["bits_per_byte"] < first["bits_per_byte"] - 0.02 and last["ratio"] < first["ratio"]
    assert info.metrics["ratio"] == last["ratio"]  # the run registry shows the last evaluation


def test_resume_continues_from_the_last_checkpoint(run):
    info, _, _ = run
    starts = _events(info.folder, "start")
    assert [s["resume_step"] for s in starts] == [0, STOP_AT]
    evals = _events(info.folder, "eval")
    # the resumed process starts with the rows, optimizer and RNGs saved at step 6: the same model
    assert evals[2]["bits_per_byte"] == pytest.approx(evals[1]["bits_per_byte"], rel=1e-6)
    steps = [e["step"] for e in _events(info.folder, "step")]
    assert steps == [1, 6, 12]  # the resumed process did not start again from step 0
    ck = json.loads((info.folder / "last" / "config.json").read_text())
    assert ck["train_state"]["step"] == 12 and ck["trainer"] == ft.TRAINER


def test_only_new_embedding_rows_changed(run, smollm2):
    info, layer, E = run
    assert np.array_equal(smollm2.net.module.model.layers[3].mlp.down_proj.weight.detach(), layer)
    assert np.array_equal(smollm2.net.module.get_input_embeddings().weight.detach().float().numpy(), E)
    from tokenworks.lm import transplant as tp

    t0 = tp.transplant(smollm2, "text/cl100k_base", "fvt", texts=[])
    lm = tw.load_lm(f"train/{info.id}/model")
    W = lm.net.module.get_input_embeddings().weight.detach().float().numpy()  # (V_new, D)
    head = lm.net.module.lm_head
    W_out, bias = head.weight.detach().float().numpy(), head.bias.detach().float().numpy()  # (V_new, D), (V_new,)
    assert not np.shares_memory(W_out, W)  # untied: the new tokens' output vectors are their own
    new = (t0.plan.shared < 0) & ~lm.vocab.special
    for M in (W, W_out):
        moved = np.abs(M - t0.matrix).max(axis=1) > 0  # (V_new,)
        assert moved.any() and not moved[~new].any()  # shared and special rows are the base model's, exactly
    assert (bias[new] < 0).all() and not bias[~new].any()  # the new tokens' logits were pushed down, only theirs
    shared = np.flatnonzero(t0.plan.shared >= 0)
    np.testing.assert_array_equal(W[shared], E[t0.plan.shared[shared]])
    np.testing.assert_array_equal(W_out[shared], E[t0.plan.shared[shared]])


def test_the_checkpoint_loads_by_name_and_scores(run):
    info, _, _ = run
    lm = tw.load_lm(f"train/{info.id}/model")
    assert lm.info.tokenizer == "text/cl100k_base" and lm.name == f"lm/{info.id}"
    texts = ft.eval_texts(preset_config("cpu-tiny").eval_bytes)  # each paragraph a document
    bits = sum(lm.score(t).total_bits for t in texts)
    assert bits / sum(len(t.encode()) for t in texts) == pytest.approx(
        _events(info.folder, "eval")[-1]["bits_per_byte"], rel=1e-3)
    ck = json.loads((info.folder / "model" / "config.json").read_text())
    assert ck["kind"] == "lm/transplant" and ck["metrics"]["finetune"]["train_steps"] == 12


def test_calibration_and_first_piece_outputs_lower_the_start(smollm2):
    """The shared logit bias fitted on training windows, and output rows half the first piece's
    vector, each lower held-out bits per byte before any step (FVT start, the first 1,500 bytes)."""
    import torch
    from tokenworks.lm import transplant as tp

    texts = ft.eval_texts(1500)
    t = tp.transplant(smollm2, "text/cl100k_base", "fvt", texts=texts)
    m = t.lm.net.module
    index = np.flatnonzero((t.plan.shared < 0) & ~t.lm.vocab.special)
    E = smollm2.net.module.get_input_embeddings().weight.detach().numpy()

    def bits(share, calibrate, fit=False):
        emb = ft.Embedded(m, t.matrix, index, "cpu", ft.output_init(t.matrix, index, t.plan.pieces, E, share))
        if calibrate:
            stream, _ = ft.training_tokens(preset_config("cpu-tiny"), t.lm.tokenizer, t.lm.bos_id)
            windows = torch.from_numpy(np.stack([np.concatenate([[t.lm.bos_id], stream[s:s + 48]])
                                                 for s in range(0, 16 * 997, 997)]))  # (16, 49)
            states, targets = ft.final_states(emb, windows)
            b, _ = ft.calibrate(emb, states, targets, np.arange(-8.0, 1.01, 0.25))
            assert -8 < b < 0
            if fit:  # the shared output fit starts from the calibrated bias and lowers the windows' loss
                feats = piece_features(t.matrix[index], index, t.plan.pieces, t.lm.vocab.token_bytes, E)
                r = ft.fit_shared_output(emb, states, targets, feats, preset_config("cpu-tiny", fit_steps=40))
                assert r.loss_after < r.loss_before and r.positions == targets.numel() == 16 * 48
                assert float(emb.new.shift.detach()) == 0.0 and r.piece_bias[1] < 0
        with torch.no_grad():
            return ft.heldout_bits(m, *emb.matrices(), t.lm.tokenizer, t.lm.bos_id, texts, 2048, "cpu")[0]

    plain, calibrated, both = bits(0.0, False), bits(0.0, True), bits(0.5, True)
    assert plain == pytest.approx(sum(t.lm.score(x).total_bits for x in texts), rel=1e-4)  # untrained: the transplant
    assert calibrated < plain * 0.97 and both < calibrated
    assert bits(0.5, True, fit=True) < plain * 0.97


def test_bad_input_gets_a_message_and_writes_nothing(smollm2, tmp_path):
    out = tmp_path / "ft"
    for kw, error, said in (({"tokenizer": "text/nope"}, UnknownTokenizer, "nope"),
                            ({"tokenizer": "text/bert-base-uncased"}, InvalidInput, "no exact bits per byte"),
                            ({"batch_size": 100_000}, InvalidInput, "cannot fit in memory.*GiB.*lower batch_size"),
                            ({"corpus": "elf"}, InvalidInput, "austen, shakespeare"),
                            ({"out_first": 1.5}, InvalidInput, "out_first must be from 0 to 1"),
                            ({"method": "omp-magic"}, InvalidInput, "zero, mean, random, fvt")):
        with pytest.raises(error, match=said):
            ft.finetune(preset_config("cpu-tiny", out=str(out), **kw))
    assert ft.main(["--tokenizer", "text/nope", "--out", str(out)]) == 2
    assert ft.main(["--preset", "huge"]) == 2
    assert not out.exists() and not list(tmp_path.iterdir())


def test_a_failed_save_leaves_no_half_written_checkpoint(smollm2, tmp_path, monkeypatch):
    import safetensors.torch

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    with pytest.raises(OSError):
        ft.finetune(preset_config("cpu-tiny", out=str(tmp_path / "ft"), steps=1, eval_bytes=1))
    assert not list(tmp_path.iterdir())


def test_the_train_form_starts_lm_embedding_runs():
    from app import train_form as F

    req = F.NewRun(modality="lm-embeddings", model="text/o200k_base", preset="cpu", data="shakespeare", steps=50)
    argv, summary, _ = F.trainer_args(req)
    assert argv == ["--tokenizer", "text/o200k_base", "--preset", "cpu", "--corpus", "shakespeare", "--seed", "0",
                    "--steps", "50"]
    assert summary == {"model": "text/o200k_base", "data": "shakespeare", "preset": "cpu"}
    assert ft.parser()[0].parse_args(argv).tokenizer == "text/o200k_base"  # the trainer takes them
    with pytest.raises(InvalidInput, match="training text must be one of pydocs, austen, shakespeare"):
        F.trainer_args(F.NewRun(modality="lm-embeddings", model="text/cl100k_base", preset="cpu", data="elf"))


def test_sparse_grad_keeps_the_batch_rows_and_can_leave_the_output_side_alone():
    """Only rows of tokens in the batch keep a gradient; with out=False the output rows, their
    biases and the shared bias get none (train_out=False: the fitted output side stays)."""
    import torch

    matrix = np.arange(6 * 4, dtype=np.float32).reshape(6, 4)  # (V, D)
    index = np.array([2, 4, 5])  # the new rows
    for out in (True, False):
        emb = ft.Embedded(None, matrix, index, "cpu", matrix[index])
        n = emb.new
        for p in n.parameters():
            p.grad = torch.ones_like(p)
        x = torch.tensor([[0, 2, 4]])  # tokens 2 and 4 are new; 5 is not in the batch
        norm = emb.sparse_grad(x, clip=1e9, out=out)
        g = n.rows.grad.to_dense()
        assert g[:2].abs().sum() > 0 and g[2].abs().sum() == 0  # rows 0, 1 (ids 2, 4) kept, row 2 (id 5) dropped
        if out:
            assert n.out_rows.grad.to_dense()[2].abs().sum() == 0 and n.shift.grad is not None
            assert norm == pytest.approx(math.sqrt(2 * 4 + 2 * 4 + 2 + 1))
        else:
            assert n.out_rows.grad is None and n.bias.grad is None and n.shift.grad is None
            assert norm == pytest.approx(math.sqrt(2 * 4))
