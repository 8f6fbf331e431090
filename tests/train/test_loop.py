"""The training loop (train/loop.py): events, the stop flag, atomic checkpoints, exact resume.

A toy regression model runs in-process; the kill test runs the image trainer (a tiny flex1d on
synthetic 16 px images) as a subprocess, SIGKILLs it after its first checkpoint, resumes it and
compares the result with a run never interrupted.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from tokenworks.errors import CheckpointNotFound, InvalidInput
from tokenworks.train.loop import (CheckpointEvent, DoneEvent, LoopConfig, LoopState, PreviewEvent, StepEvent,
                                   StepOutput, find_last, load_last, restore, run_steps)

ROOT = Path(__file__).resolve().parents[2]


def toy(seed: int = 0):
    """A small MLP with dropout (torch RNG), input jitter (python random) and batches drawn from a
    numpy Generator: every RNG the loop saves is used."""
    torch.manual_seed(seed)
    random.seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.2), nn.ReLU(), nn.Linear(16, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    X = torch.linspace(-1, 1, 64 * 4).reshape(64, 4)  # (N, 4)
    Y = X.sum(1, keepdim=True).sin()  # (N, 1)
    state = LoopState(model=model, optimizer=opt, rng=np.random.default_rng(seed), config={"seed": seed},
                      name="toy", trainer="tests", data_hash="toy")

    def batches(rng):
        idx = torch.from_numpy(rng.integers(0, 64, 8))  # (B,)
        return X[idx], Y[idx]

    def step_fn(batch, ctx):
        x, y = batch
        for g in opt.param_groups:
            g["lr"] = 1e-2 * (1 - 0.9 * ctx.progress)
        loss = F.mse_loss(model(x + 0.01 * random.random()), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return StepOutput(losses={"loss": loss.detach()}, metrics={"one": 1.0}, codebook={"usage": 0.5}, items=8)

    return state, step_fn, batches


def test_events_in_order(tmp_path):
    state, step_fn, batches = toy()
    cfg = LoopConfig(steps=10, log_every=3, preview_every=5, checkpoint_every=4, run_dir=str(tmp_path / "run"))
    evs = list(run_steps(state, step_fn, batches, cfg, preview_fn=lambda s: {"step": s.step, "w": 1}))
    order = [(type(e).__name__, getattr(e, "step", None), getattr(e, "kind", None))
             for e in evs if not (isinstance(e, CheckpointEvent) and e.kind == "best")]
    assert order == [("StepEvent", 1, None), ("StepEvent", 3, None), ("CheckpointEvent", 4, "last"),
                     ("PreviewEvent", 5, None), ("StepEvent", 6, None), ("CheckpointEvent", 8, "last"),
                     ("StepEvent", 9, None), ("StepEvent", 10, None), ("PreviewEvent", 10, None),
                     ("CheckpointEvent", 10, "last"), ("DoneEvent", None, None)]
    steps = [e for e in evs if isinstance(e, StepEvent)]
    assert [e.window for e in steps] == [1, 2, 3, 3, 1]
    for e in steps:
        assert set(e.losses) == {"loss"} and e.metrics == {"one": 1.0} and e.codebook == {"usage": 0.5}
        assert e.steps == 10 and e.items_per_s > 0 and e.eta_seconds is not None and e.eta_seconds >= 0
        assert 1e-3 <= e.lr <= 1e-2 and np.isfinite(e.losses["loss"])
    assert steps[-1].eta_seconds == 0.0
    assert all(a.elapsed <= b.elapsed for a, b in zip(steps, steps[1:]))
    previews = [e for e in evs if isinstance(e, PreviewEvent)]
    assert [p.data["step"] for p in previews] == [5, 10]
    best = [e for e in evs if isinstance(e, CheckpointEvent) and e.kind == "best"]
    assert best and best[0].step == 4 and best[0].metric is not None  # the first full window of 3 steps
    assert all(b.metric < a.metric for a, b in zip(best, best[1:]))  # best only improves
    done = evs[-1]
    assert isinstance(done, DoneEvent) and done.reason == "steps" and done.steps == 10 and done.seconds > 0
    saved = load_last(tmp_path / "run")
    assert saved.step == 10 and saved.folder == tmp_path / "run" / "last" and saved.config == {"seed": 0}
    assert load_last(tmp_path / "run", "best").step == best[-1].step


def test_config_errors_teach():
    state, step_fn, batches = toy()
    with pytest.raises(InvalidInput, match="best_mode must be min or max"):
        list(run_steps(state, step_fn, batches, LoopConfig(steps=2, best_mode="lowest")))
    with pytest.raises(InvalidInput, match="best_metric 'psnr' is not reported.*it reports loss, one"):
        list(run_steps(state, step_fn, batches, LoopConfig(steps=2, best_metric="psnr")))


@pytest.mark.parametrize("flag", ["event", "callable"])
def test_stop_flag(tmp_path, flag):
    state, step_fn, batches = toy()
    ev = threading.Event()
    stop = ev if flag == "event" else ev.is_set
    cfg = LoopConfig(steps=100, log_every=1, run_dir=str(tmp_path / "run"))
    seen = []
    for e in run_steps(state, step_fn, batches, cfg, stop=stop):
        seen.append(e)
        if isinstance(e, StepEvent) and e.step == 3:
            ev.set()
    assert isinstance(seen[-1], DoneEvent) and seen[-1].reason == "stopped" and seen[-1].steps == 3
    assert isinstance(seen[-2], CheckpointEvent) and seen[-2].step == 3
    assert [e.kind for e in seen if isinstance(e, CheckpointEvent)][0] == "last"
    saved = load_last(tmp_path / "run")
    assert saved.step == 3 and torch.equal(saved.model["0.weight"], state.model[0].weight.detach())


def _run_toy(tmp_path, steps, stop_at=None, resume=False):
    state, step_fn, batches = toy()
    if resume:
        restore(state, load_last(tmp_path / "run"))
    cfg = LoopConfig(steps=steps, log_every=4, checkpoint_every=3, run_dir=str(tmp_path / "run"))
    logs, done = [], None
    for e in run_steps(state, step_fn, batches, cfg, stop=lambda: stop_at is not None and state.step >= stop_at):
        if isinstance(e, StepEvent):
            logs.append((e.step, e.losses["loss"], e.window))
        done = e
    assert isinstance(done, DoneEvent) and done.reason == ("steps" if stop_at is None else "stopped")
    return state, logs


def test_exact_resume_in_process(tmp_path):
    ref, ref_logs = _run_toy(tmp_path / "a", 13)
    stopped, first = _run_toy(tmp_path / "b", 13, stop_at=5)  # stops mid log window (log_every=4)
    assert stopped.step == 5 and load_last(tmp_path / "b" / "run").step == 5
    assert first[-2][0] == 4 and first[-1][0] == 5 and first[-1][2] == 1  # the curve ends at the stop: step 5 alone
    res, rest = _run_toy(tmp_path / "b", 13, resume=True)
    assert rest[0][0] == 8 and rest[0][2] == 4  # the log window 5..8 spans the resume
    for k, v in ref.model.state_dict().items():
        assert torch.equal(v, res.model.state_dict()[k]), k
    assert [x for x in ref_logs if x[0] > 5] == rest  # the same losses, bit for bit
    a, b = ref.optimizer.state_dict()["state"], res.optimizer.state_dict()["state"]
    assert all(torch.equal(a[i]["exp_avg_sq"], b[i]["exp_avg_sq"]) for i in a)
    assert ref.rng.bit_generator.state == res.rng.bit_generator.state


def test_half_written_checkpoint_is_ignored(tmp_path):
    run = tmp_path / "run"
    _run_toy(tmp_path, 6)  # last/ at step 6
    good = (run / "last" / "model.safetensors").read_bytes()
    # a writer killed mid-way leaves its temp folder: part of the weights, no or a lying config.json
    crash = run / ".last.tmp-crashed"
    crash.mkdir()
    (crash / "model.safetensors").write_bytes(good[: len(good) // 2])
    liar = run / ".last.tmp-liar"
    liar.mkdir()
    info = json.loads((run / "last" / "config.json").read_text())
    info["train_state"]["step"] = 999
    (liar / "config.json").write_text(json.dumps(info))
    assert find_last(run) == run / "last" and load_last(run).step == 6
    # resuming trains on from last/, clears the temp folders and replaces last/ only when complete
    state, logs = _run_toy(tmp_path, 9, resume=True)
    assert not crash.exists() and not liar.exists()
    assert load_last(run).step == 9 and state.step == 9
    # a crash between moving last/ aside and renaming the new one: the old one is used
    os.replace(run / "last", run / ".last.old-12345")
    assert find_last(run) == run / ".last.old-12345" and load_last(run).step == 9
    # nothing complete: an error that says what is there
    for p in run.iterdir():
        os.rename(p, tmp_path / f"moved-{p.name}")
    crash.mkdir()
    (crash / "model.safetensors").write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointNotFound, match="holds no complete 'last' checkpoint"):
        load_last(run)


def test_resume_refuses_other_data(tmp_path):
    _run_toy(tmp_path, 3)
    state, _, _ = toy()
    state.data_hash = "other"
    with pytest.raises(InvalidInput, match="the training data changed"):
        restore(state, load_last(tmp_path / "run"))


# ---- the kill test: the image trainer as a subprocess ------------------------------------------

LAUNCHER = '''
import sys
from tokenworks.image import train as T
from tokenworks.image._shapes import smooth_gradients as smooth_images  # gradients with a disc


class Data:
    def __init__(self, images):
        self.images, self.data_hash = images, "synthetic16-%d" % len(images)


SETS = {"train": smooth_images(32, size=16, seed=1), "test": smooth_images(4, size=16, seed=2)}
T.load_dataset = lambda name, split, limit=None: Data(SETS[split])
sys.exit(T.main(sys.argv[1:]))
'''
STEPS = 100  # about 0.8 s of training: time enough to kill it after its first checkpoint
TINY = ["--model", "flex1d", "--preset", "cpu-tiny", "--data", "synthetic16", "--seed", "3", "--steps", str(STEPS),
        "--minutes", "0", "--batch-size", "4", "--device", "cpu", "--threads", "1", "--eval-limit", "4",
        "--log-every", "5", "--checkpoint-every", "4",
        *[a for kv in ("patch_size=4", "width=32", "heads=2", "encoder_layers=2", "decoder_layers=1", "tokens=8",
                       "tokens_per_slot=2", "refine_channels=8", "refine_features=4") for a in ("--set", kv)]]


def _trainer(tmp_path: Path, args: list[str], log: str) -> subprocess.Popen:
    launcher = tmp_path / "launch.py"
    launcher.write_text(LAUNCHER)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib"), "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1",
           "TOKENWORKS_RUNS": str(tmp_path / "runs"), "PYTHONUNBUFFERED": "1"}
    fh = open(tmp_path / log, "wb")
    return subprocess.Popen([sys.executable, str(launcher), *args], env=env, stdout=fh, stderr=subprocess.STDOUT)


def _events(path: Path) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def _finish(proc: subprocess.Popen, log: Path) -> None:
    assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]


def test_kill_and_resume_matches_uninterrupted_run(tmp_path, kill_after_first_checkpoint):
    ref_out, out = tmp_path / "ref", tmp_path / "killed"
    ref = _trainer(tmp_path, [*TINY, "--out", str(ref_out)], "ref.log")
    _finish(ref, tmp_path / "ref.log")  # one run at a time: two cores are shared

    proc = _trainer(tmp_path, [*TINY, "--out", str(out)], "killed.log")
    kill_after_first_checkpoint(proc, Path(f"{out}.run"), tmp_path / "killed.log")
    assert not out.exists(), "the trainer finished before it was killed; the test proves nothing"
    killed_at = load_last(f"{out}.run").step
    assert 4 <= killed_at < STEPS

    res = _trainer(tmp_path, ["--resume", f"{out}.run"], "resumed.log")
    _finish(res, tmp_path / "resumed.log")
    evs = _events(tmp_path / "resumed.log")
    start = next(e for e in evs if e["event"] == "start")
    assert killed_at <= start["resume_step"] < STEPS
    done = next(e for e in evs if e["event"] == "done")
    assert done["reason"] == "steps" and done["steps"] == STEPS

    a, b = load_file(str(ref_out / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ma = json.loads((ref_out / "config.json").read_text())["metrics"]
    mb = json.loads((out / "config.json").read_text())["metrics"]
    for m in (ma, mb):
        m.pop("train_seconds")
    assert ma == mb and ma["train_steps"] == STEPS
    # the step lines after the resume are the uninterrupted run's, bit for bit
    ref_steps = {e["step"]: e["loss"] for e in _events(tmp_path / "ref.log") if e["event"] == "step"}
    res_steps = {e["step"]: e["loss"] for e in evs if e["event"] == "step"}
    assert res_steps and all(ref_steps[s] == v for s, v in res_steps.items())


def test_step_table_shows_start_and_step_lines_as_a_table():
    import io

    from tokenworks.train.common import StepTable, parse_set_overrides

    out = io.StringIO()
    table = StepTable(out, lambda e: f"training {e['params']:,} parameters",
                      [("step", "step", ">6"), ("loss", "loss", ">9.3f")])
    table.write('not json\n{"event": "start", "params": 12345}\n[1, 2]\n')
    table.write('{"event": "step", "step": 5, "loss": 0.12345}\n{"event": "eval", "psnr": 20}\n')
    assert out.getvalue().splitlines() == ["training 12,345 parameters", "  step     loss", "     5    0.123"]
    assert parse_set_overrides(["a=1", "levels=[8,5]", "q=fsq", "x"]) == {"a": 1, "levels": (8, 5), "q": "fsq", "x": ""}
