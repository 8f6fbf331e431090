"""The codec trainer on the shared training loop (audio/train.py on train/loop.py).

The kill test runs the cpu-tiny codec on a tiny pack of synthetic clips as a subprocess,
SIGKILLs it after its first checkpoint, resumes it and compares the result with a run never
interrupted; the other tests train a few steps in-process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn


from tokenworks.audio import train as CT
from tokenworks.audio.pack import pack_clips
from tokenworks.errors import InvalidInput
from tokenworks.train.loop import DoneEvent, LoopConfig, LoopState, StepEvent, StepOutput, load_last, run_steps

ROOT = Path(__file__).resolve().parents[2]
OLD_KEYS = {"step", "loss", "mel", "stft", "complex", "levels", "usage", "lr", "grad_norm", "elapsed"}
NEW_KEYS = {"steps", "items_per_s", "unit", "eta_s", "q_usage", "q_perplexity"}


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    """Three 1.5 s clips of tones with vibrato and a little noise, as a pack file (--wav-dir)."""
    rng = np.random.default_rng(0)
    t = np.arange(24000) / 16000
    waves = [(0.4 * np.sin(2 * np.pi * f * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
              + 0.01 * rng.standard_normal(t.size)).astype(np.float32) for f in (150, 210, 270)]
    return pack_clips(waves, ["a", "b", "c"], tmp_path_factory.mktemp("pack") / "train.twpack.npz", bits=16)


# ---- the kill test: the trainer as a subprocess ----------------------------------------------

STEPS = 40  # about 1.5 s of training on one thread: time enough to kill it after its first checkpoint


def _trainer(tmp_path: Path, args: list[str], log: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib"), "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1",
           "TOKENWORKS_RUNS": str(tmp_path / "runs"), "PYTHONUNBUFFERED": "1"}
    fh = open(tmp_path / log, "wb")
    return subprocess.Popen([sys.executable, "-m", "tokenworks.audio.train", *args], env=env, stdout=fh,
                            stderr=subprocess.STDOUT)


def _finish(proc: subprocess.Popen, log: Path, read_events) -> list[dict]:
    assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
    return read_events(log.read_text())


def test_kill_and_resume_matches_uninterrupted_run(tmp_path, pack, read_events, kill_after_first_checkpoint):
    tiny = ["--preset", "cpu-tiny", "--wav-dir", str(pack), "--eval-clips", "0", "--seed", "3", "--steps", str(STEPS),
            "--minutes", "0", "--device", "cpu", "--threads", "1", "--log-every", "5", "--checkpoint-every", "4"]
    ref_out, out = tmp_path / "ref", tmp_path / "killed"
    ref_evs = _finish(_trainer(tmp_path, [*tiny, "--out", str(ref_out)], "ref.log"), tmp_path / "ref.log", read_events)

    proc = _trainer(tmp_path, [*tiny, "--out", str(out)], "killed.log")
    kill_after_first_checkpoint(proc, Path(f"{out}.run"), tmp_path / "killed.log")
    assert not out.exists(), "the trainer finished before it was killed; the test proves nothing"
    killed_at = load_last(f"{out}.run").step
    assert 4 <= killed_at < STEPS

    evs = _finish(_trainer(tmp_path, ["--resume", f"{out}.run"], "resumed.log"), tmp_path / "resumed.log", read_events)
    start = next(e for e in evs if e["event"] == "start")
    assert killed_at <= start["resume_step"] < STEPS
    done = next(e for e in evs if e["event"] == "done")
    assert done["reason"] == "steps" and done["steps"] == STEPS

    a, b = load_file(str(ref_out / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # codebooks and EMA state too
    ma = json.loads((ref_out / "config.json").read_text())["metrics"]
    mb = json.loads((out / "config.json").read_text())["metrics"]
    for m in (ma, mb):
        m.pop("train_seconds")
    assert ma == mb and ma["train_steps"] == STEPS
    # the step lines after the resume are the uninterrupted run's, bit for bit
    ref_steps = {e["step"]: (e["loss"], e["mel"], e["levels"], e["q_usage"]) for e in ref_evs if e["event"] == "step"}
    res_steps = {e["step"]: (e["loss"], e["mel"], e["levels"], e["q_usage"]) for e in evs if e["event"] == "step"}
    assert res_steps and all(ref_steps[s] == v for s, v in res_steps.items())

    # the step lines keep their keys and carry the new ones
    steps = [e for e in ref_evs if e["event"] == "step"]
    assert [e["step"] for e in steps] == [1, *range(5, STEPS + 1, 5)]
    for e in steps:
        assert OLD_KEYS | NEW_KEYS <= set(e), sorted(OLD_KEYS | NEW_KEYS - set(e))
        assert e["steps"] == STEPS and e["unit"] == "audio seconds" and e["items_per_s"] > 0
        assert e["eta_s"] is not None and e["eta_s"] >= 0 and e["elapsed"] >= 0
        assert 0 < e["q_usage"] <= 1 and e["q_usage"] == pytest.approx(e["usage"], abs=1e-3)
        assert 1 <= e["q_perplexity"] <= 64 and 1 <= e["levels"] <= 8  # cpu-tiny: V = 64, K = 8
    assert steps[-1]["eta_s"] == 0.0
    kinds = [(e["kind"], e["step"]) for e in ref_evs if e["event"] == "checkpoint" and e["kind"] == "last"]
    assert kinds == [("last", s) for s in range(4, STEPS + 1, 4)]
    order = [e["event"] for e in ref_evs if e["event"] in ("start", "done", "eval", "saved")]
    assert order == ["start", "done", "eval", "saved"]


# ---- in-process: the stop flag, resume overrides, refusals -----------------------------------


def _cfg(tmp_path: Path, pack: Path, **kw) -> CT.CodecTrainConfig:
    return CT.preset_config("cpu-tiny", "rvq", out=str(tmp_path / "ck"), wav_dir=str(pack), eval_clips=0,
                            device="cpu", threads=1, seed=1, **{"steps": 20, "log_every": 1, **kw})


def test_stop_flag_ends_cleanly_and_resume_continues(tmp_path, pack, capsys, read_events):
    flag = threading.Event()
    run = CT.iter_train_codec(_cfg(tmp_path, pack, checkpoint_every=2), stop=flag)
    seen = []
    while True:
        try:
            ev = next(run)
        except StopIteration as fin:
            res = fin.value
            break
        seen.append(ev)
        if isinstance(ev, StepEvent) and ev.step == 3:
            flag.set()
    assert isinstance(seen[-1], DoneEvent) and seen[-1].reason == "stopped" and seen[-1].steps == 3
    assert res.reason == "stopped" and res.steps == 3 and res.metrics["train_steps"] == 3
    run_dir = tmp_path / "ck.run"  # the default: <out>.run
    assert res.run_dir == run_dir and (run_dir / "last").is_dir()
    saved = load_last(run_dir)
    assert saved.step == 3 and saved.info["trainer"] == CT.TRAINER == "tokenworks.audio.train"
    final = load_file(str(res.folder / "model.safetensors"))
    assert saved.model.keys() == final.keys()  # last/ holds the trained weights (float32; the checkpoint float16)
    assert all(torch.equal(saved.model[k].to(final[k].dtype), final[k]) for k in final)
    logged = read_events(capsys.readouterr().out)
    done = [e for e in logged if e["event"] == "done"]
    assert done == [{"event": "done", "reason": "stopped", "steps": 3, "seconds": done[0]["seconds"]}]
    assert [e["step"] for e in logged if e["event"] == "checkpoint" and e["kind"] == "last"] == [2, 3]

    # resume with a longer budget: it starts at step 3 and ends at step 5 with the saved config
    more = CT.resume(run_dir, steps=5)
    assert more.reason == "steps" and more.steps == 5 and load_last(run_dir).step == 5
    logged = read_events(capsys.readouterr().out)
    start = next(e for e in logged if e["event"] == "start")
    assert start["resume_step"] == 3 and start["train_config"]["seed"] == 1
    assert [e["step"] for e in logged if e["event"] == "step"] == [4, 5]

    # a run written before the trainer was renamed (as tokenworks.audio.codec_train) resumes too,
    # and its next checkpoint carries the new name (train.loop.TRAINER_ALIASES)
    last = run_dir / "last" / "config.json"
    info = json.loads(last.read_text())
    last.write_text(json.dumps({**info, "trainer": "tokenworks.audio.codec_train"}))
    older = CT.resume(run_dir, steps=6)
    assert older.steps == 6 and load_last(run_dir).info["trainer"] == "tokenworks.audio.train"


def test_resume_refuses_changed_fields_and_other_trainers(tmp_path, pack, capsys):
    CT.train_codec(_cfg(tmp_path, pack, steps=2, checkpoint_every=1))
    run_dir = tmp_path / "ck.run"
    with pytest.raises(InvalidInput, match="lr, segment_seconds cannot change. Allowed with --resume: steps, minutes, "
                                           "threads, device, checkpoint_every, eval_clips, eval_dir"):
        CT.resume(run_dir, lr=1e-4, segment_seconds=0.5, steps=4)
    assert load_last(run_dir).step == 2  # nothing was trained
    rc = CT.main(["--resume", str(run_dir), "--lr", "1e-4"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: --resume keeps the saved config; --lr cannot change")
    assert "--checkpoint-every" in err and "--eval-clips" in err and "Traceback" not in err

    # a run written by another trainer (here: a toy on the same loop)
    model = nn.Linear(2, 1)
    state = LoopState(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                      rng=np.random.default_rng(0), config={}, trainer="tokenworks.image.train")

    def step_fn(x, ctx):
        return StepOutput(losses={"loss": float(model(x).sum().detach())})

    list(run_steps(state, step_fn, lambda rng: torch.from_numpy(rng.random((1, 2), dtype=np.float32)),
                   LoopConfig(steps=1, run_dir=str(tmp_path / "image.run"))))
    with pytest.raises(InvalidInput, match="written by tokenworks.image.train, not tokenworks.audio.train"):
        CT.resume(tmp_path / "image.run")
    rc = CT.main(["--resume", str(tmp_path / "image.run")])
    err = capsys.readouterr().err
    assert rc == 2 and "not tokenworks.audio.train" in err and "Traceback" not in err
    rc = CT.main(["--resume", str(tmp_path / "nowhere.run")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: no run folder") and "Traceback" not in err
