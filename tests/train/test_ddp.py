"""Distributed training (train/distributed.py, image/train.py under torchrun, the VQ codebook sync).

Two CPU processes (gloo) train the cpu-tiny grid (VQ: k-means init, EMA, dead-code restarts) and
flex1d (FSQ, nested dropout) presets for a few steps on a global batch of 8 images; the same run
in ONE process (in-process, world size 1) on the same global batches must end with the same
weights and codebooks. Rank 0 alone logs and writes checkpoints; resume under torchrun equals a
single-process resume; a minutes budget stops both ranks at the same step.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from safetensors.torch import load_file

from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.image import train as T
from tokenworks.image.data import load_dataset
from tokenworks.train import distributed as D
from tokenworks.train.common import json_events

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                                reason="torch.distributed with the gloo backend is not available in this torch build")

STEPS = 6
LR = 0.02  # 10x the preset's, so that 6 warm-up steps move the weights well beyond the tolerance
DATA = {"grid": "shapes32", "flex1d": "shapes64"}  # drawn from a seed: no assets, so it runs in CI
EXTRA = {"grid": {"dead_code_steps": 2}, "flex1d": {}}  # grid: restart codes within the 6 steps
# Different reduction orders (two half-batch gradients averaged vs one whole-batch gradient, EMA
# sums added over ranks) leave float32 rounding differences: at most about 5e-7 after 6 steps
# (1.5e-6 on the EMA sums, which are larger numbers), while training moves the weights by about
# 2e-3 (checked below, so the tolerance tells a right run from a wrong one).
ATOL, RTOL = 2e-5, 1e-4


def _args(model: str, out: Path, *more: str) -> list[str]:
    return ["--model", model, "--data", DATA[model], "--preset", "cpu-tiny", "--seed", "0", "--steps", str(STEPS),
            "--minutes", "0", "--lr", str(LR), "--batch-size", "8", "--train-limit", "64", "--eval-limit", "8", "--log-every", "1",
            "--device", "cpu", "--threads", "1", "--out", str(out),
            *[a for k, v in EXTRA[model].items() for a in ("--set", f"{k}={v}")], *more]


def _torchrun(tmp_path: Path, args: list[str], nproc: int = 2) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib"), "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
           "TOKENWORKS_RUNS": str(tmp_path / "runs"), "PYTHONUNBUFFERED": "1"}
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "tokenworks.image.train", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)


def _events(text: str) -> list[dict]:
    return [e for e in json_events(text.splitlines()) if "event" in e]


def _one_process(model: str, out: Path, monkeypatch, **overrides) -> tuple[dict, dict]:
    """The same run in this process (world size 1): its final weights and its initial ones."""
    built: list[dict] = []
    build = T.build_model

    def recording_build(*a, **k):
        m = build(*a, **k)
        built.append({n: t.detach().clone() for n, t in m.state_dict().items()})
        return m

    monkeypatch.setattr(T, "build_model", recording_build)
    cfg = T.preset_config(model, "cpu-tiny", data=DATA[model], seed=0, steps=STEPS, minutes=0, lr=LR, batch_size=8,
                          train_limit=64, eval_limit=8, log_every=1, device="cpu", threads=1, out=str(out),
                          model_config=dict(EXTRA[model]), **overrides)
    with contextlib.redirect_stdout(io.StringIO()):
        res = T.train_image(cfg)
    assert res.world_size == 1 and res.steps == STEPS
    return load_file(str(out / "model.safetensors")), built[-1]  # the last model built is the one trained


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if a[k].is_floating_point():
            assert torch.allclose(a[k], b[k], atol=ATOL, rtol=RTOL), (k, float((a[k] - b[k]).abs().max()))
        else:
            assert torch.equal(a[k], b[k]), k


def _need_data(model: str) -> None:
    try:
        load_dataset(DATA[model], "test", limit=1)
    except AssetMissing as e:
        pytest.skip(f"data set {DATA[model]} missing: {e}")


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    """2 processes, grid cpu-tiny, last/, best/ and a preview every 3 steps (rank 0's preview must not
    put its RNG out of step with rank 1's)."""
    _need_data("grid")
    tmp = tmp_path_factory.mktemp("ddp_grid")
    proc = _torchrun(tmp, _args("grid", tmp / "ddp", "--checkpoint-every", "3", "--preview-every", "3"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp, proc


@pytest.mark.parametrize("model", ["grid", "flex1d"])
def test_two_processes_match_one_process_on_the_global_batch(model, grid_run, tmp_path, monkeypatch):
    if model == "grid":
        tmp, proc = grid_run
    else:
        _need_data(model)
        tmp = tmp_path
        proc = _torchrun(tmp, _args(model, tmp / "ddp"))
        assert proc.returncode == 0, proc.stderr[-3000:]
    evs = _events(proc.stdout)
    kinds = [e["event"] for e in evs]
    # rank 0 alone logs: one start, one line per step (log_every 1), one eval, one saved
    assert kinds.count("start") == 1 and kinds.count("step") == STEPS and kinds.count("saved") == 1
    assert [e["step"] for e in evs if e["event"] == "step"] == list(range(1, STEPS + 1))
    start = next(e for e in evs if e["event"] == "start")
    assert start["world_size"] == 2 and start["backend"] == "gloo"
    ev = next(e for e in evs if e["event"] == "eval")
    assert ev["world_size"] == 2 and ev["ranks_in_sync"] is True  # rank 1 ended with rank 0's weights
    info = json.loads((tmp / "ddp" / "config.json").read_text())
    assert info["metrics"]["world_size"] == 2 and info["distributed"] == {"world_size": 2, "backend": "gloo"}

    ddp = load_file(str(tmp / "ddp" / "model.safetensors"))
    ref, init = _one_process(model, tmp / "ref", monkeypatch)
    _assert_same(ddp, ref)
    weights = [k for k in ref if ref[k].is_floating_point() and not k.startswith("quantizer.")]
    moved = max(float((ref[k] - init[k]).abs().max()) for k in weights)
    assert moved > 20 * ATOL  # training moved the weights far more than the tolerance (about 2e-3)
    if model == "grid":  # the VQ codebook: k-means on the global batch, EMA over it, the same restarts
        assert int(ref["quantizer.restarts"]) > 0 and bool(ref["quantizer.initialised"])
        for k in ("quantizer.embed", "quantizer.ema_count", "quantizer.ema_sum"):
            assert float((ref[k] - init[k]).abs().max()) > 0.1  # far from its random start
            assert torch.allclose(ddp[k], ref[k], atol=ATOL, rtol=RTOL), k
        assert torch.equal(ddp["quantizer.unused_steps"], ref["quantizer.unused_steps"])
        # only rank 0 wrote the run folder, each slot once and whole
        run = tmp / "ddp.run"
        assert sorted(p.name for p in run.iterdir()) == ["best", "last", "preview.png"]
        assert [(e["kind"], e["step"]) for e in evs if e["event"] == "checkpoint" and e["kind"] == "last"] == [
            ("last", 3), ("last", STEPS)]
        assert [e["step"] for e in evs if e["event"] == "preview"] == [3, STEPS]


def test_resume_under_torchrun_and_a_budget_that_stops_both_ranks(grid_run, tmp_path, monkeypatch):
    tmp, _ = grid_run
    run = tmp / "ddp.run"
    copy = tmp_path / "copy.run"
    shutil.copytree(run, copy)  # last/ at step 6, for the one-process resume
    more = STEPS + 3
    proc = _torchrun(tmp_path, ["--resume", str(run), "--steps", str(more)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    evs = _events(proc.stdout)
    assert next(e for e in evs if e["event"] == "start")["resume_step"] == STEPS
    assert [e["step"] for e in evs if e["event"] == "step"] == list(range(STEPS + 1, more + 1))
    ddp = load_file(str(tmp / "ddp" / "model.safetensors"))  # the resumed run saves to the saved --out

    with contextlib.redirect_stdout(io.StringIO()):
        res = T.resume(copy, steps=more)  # world size 1, from the same last/ (it saves to that --out too)
    assert res.steps == more and res.world_size == 1
    _assert_same(ddp, load_file(str(tmp / "ddp" / "model.safetensors")))

    # a minutes budget already spent: the ranks agree on rank 0's clock and stop after one step
    proc = _torchrun(tmp_path, ["--resume", str(run), "--steps", "1000", "--minutes", "0.00001"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    done = next(e for e in _events(proc.stdout) if e["event"] == "done")
    assert done["reason"] == "minutes" and done["steps"] == more + 1


def test_batch_that_does_not_split_over_the_processes_is_refused():
    with pytest.raises(InvalidInput, match="batch_size 5 is not divisible by the 2 processes.*e.g. 4 or 6"):
        D.local_batch_size(5, 2)
    assert D.local_batch_size(8, 2) == 4 and D.local_batch_size(5, 1) == 5


def test_single_process_helpers_and_launch_errors(monkeypatch):
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    info = D.init_distributed("cpu")
    assert (info.rank, info.world_size, info.backend, info.device.type) == (0, 1, None, "cpu") and info.is_main
    x = torch.arange(6).reshape(3, 2)
    assert D.broadcast_object({"a": 1}) == {"a": 1} and D.gather_shards(x) is x and D.shard(x) is x
    assert torch.equal(D.shard(torch.arange(8), 1, 2), torch.tensor([1, 3, 5, 7]))
    assert D.agree([1, 2.5]) == [1.0, 2.5] and D.world() == 1 and D.is_main()
    with pytest.raises(InvalidInput, match="backend must be one of gloo, nccl"):
        D.init_distributed("cpu", backend="mpi")
    # under torchrun (WORLD_SIZE 2), before any process group is made
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidInput, match="nccl needs CUDA GPUs"):
        D.init_distributed("cpu", backend="nccl")
    with pytest.raises(InvalidInput, match="must be auto, cpu or cuda"):
        D.init_distributed("cuda:1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(InvalidInput, match="more processes per machine than GPUs: LOCAL_RANK 1.*1 GPU"):
        D.init_distributed("cuda")
    assert not dist.is_initialized()
