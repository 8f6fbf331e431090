"""Two processes under torchrun (gloo, CPU) train the same tiny model as one process on the same
global batch: each rank takes half the windows, DDP averages the gradients."""
import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tokenworks.lm.tiny.train import train_tiny
from tokenworks.lm.tiny.train_config import preset_config

ROOT = Path(__file__).resolve().parents[3]
ARGS = dict(train_bytes=60_000, eval_bytes=3_000, context_bytes=64, batch_size=4, steps=5, lr=3e-3, seed=0,
            log_every=1, device="cpu", threads=1, model=dict(d_model=32, n_head=2, d_ff=64, n_layer=3))


def _cli(cfg: dict, out: Path) -> list[str]:
    argv = ["--input", "words", "--preset", "cpu-tiny", "--out", str(out)]
    for k, v in cfg.items():
        if k == "model":
            argv += [a for f, x in v.items() for a in ("--set", f"{f}={x}")]
        else:
            argv += ["--" + k.replace("_", "-"), str(v)]
    return argv


@pytest.mark.timeout(300)
def test_two_processes_match_one_on_the_same_global_batch(tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        one = train_tiny(preset_config("cpu-tiny", input="words", out=str(tmp_path / "one"), **ARGS))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib"), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
           "TOKENWORKS_RUNS": str(tmp_path / "runs")}
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "tokenworks.lm.tiny.train", *_cli(ARGS, tmp_path / "two")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    info = json.loads((tmp_path / "two" / "config.json").read_text())
    assert info["metrics"]["world_size"] == 2 and info["metrics"]["ranks_in_sync"] is True
    a, b = one.model.state_dict(), load_file(str(tmp_path / "two" / "model.safetensors"))
    diff = max(float((a[k] - b[k]).abs().max()) for k in a if a[k].is_floating_point() and k != "train_flops")
    assert diff < 2e-5, diff  # float32 rounding of the gradient average
    init = train_tiny(preset_config("cpu-tiny", input="words", out=str(tmp_path / "zero"), **{**ARGS, "steps": 1}))
    moved = max(float((a[k] - init.model.state_dict()[k]).abs().max()) for k in a if a[k].is_floating_point())
    assert moved > 100 * diff  # training moved the weights far more than the two runs differ
    # the word model's middle blocks run on each row's kept positions, padded to the longest row of
    # the batch a process holds: two half batches pad less than one whole batch
    assert 0.8 < float(b["train_flops"]) / float(a["train_flops"]) <= 1.0
