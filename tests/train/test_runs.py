"""The run registry and training jobs (tokenworks.train.runs / jobs / __main__): start, queue,
stop, resume, kill, delete; and the bad inputs of a training request (no usable files, a config
too large for the memory, a full disk while saving, two requests at once)."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tokenworks.errors import CheckpointNotFound, InvalidInput, StorageFull
from tokenworks.train import jobs
from tokenworks.train import runs as R
from tokenworks.train.loop import LoopConfig, LoopState, StepOutput, find_last, load_last, run_steps

LIB = str(Path(__file__).resolve().parents[2] / "lib")
# a tiny grid run: a few seconds, checkpoints every 10 steps
TINY = ["--model", "grid", "--data", "shapes32", "--preset", "cpu-tiny", "--train-limit", "128", "--eval-limit", "8",
        "--threads", "1", "--log-every", "5", "--checkpoint-every", "10", "--batch-size", "8"]


@pytest.fixture()
def registry(tmp_path, monkeypatch):
    """A registry of its own under tmp_path (jobs spawned by the test find it through the env)."""
    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs" / "train"


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": LIB, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "tokenworks.train", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


# ---- the registry -----------------------------------------------------------------------------


def test_run_ids_are_unique_and_paths_from_requests_are_refused(registry):
    a = R.new_run("image", ["--model", "grid"], {"model": "grid", "data": "emoji32", "preset": "cpu-tiny"})
    b = R.new_run("image", ["--model", "grid"], {"model": "grid", "data": "emoji32", "preset": "cpu-tiny"})
    assert a.id != b.id and a.folder.parent == b.folder.parent == registry
    assert [r.id for r in R.list_runs()] == [b.id, a.id]  # newest first
    assert R.read_run(a.folder).status == "queued"  # just made, its job not started yet
    for bad in ("../etc", "a/b", "/tmp", "..", "", "x" * 200):
        with pytest.raises(InvalidInput, match="not a run id"):
            R.run_folder(bad)
    with pytest.raises(CheckpointNotFound, match="no run"):
        R.run_folder("20990101-000000-image-nothing")
    with pytest.raises(InvalidInput, match="modality must be one of image, audio, text"):
        R.new_run("video", [], {})


def test_events_of_a_resumed_run_keep_the_curve_that_was_trained(registry):
    info = R.new_run("image", [], {})
    lines = [{"event": "start", "resume_step": 0}] + [{"event": "step", "step": s, "loss": 1.0 / s} for s in (5, 10, 15)]
    lines += [{"event": "start", "resume_step": 10}, {"event": "step", "step": 15, "loss": 0.5}]
    text = "\n".join(json.dumps(e) for e in lines) + '\n{"event": "step", "st'  # a line cut by a kill
    (info.folder / R.EVENTS_FILE).write_text(text)
    steps = R.step_history(info.folder)
    assert [(e["step"], e["loss"]) for e in steps] == [(5, 0.2), (10, 0.1), (15, 0.5)]


def test_a_dead_job_reads_as_interrupted_and_active_runs_cannot_be_deleted(registry):
    info = R.new_run("image", [], {})
    R.update_run(info.folder, status="running", pid=os.getpid(), pid_started=jobs._own_start_time())
    assert R.read_run(info.folder).status == "running"
    with pytest.raises(InvalidInput, match="stop it before deleting"):
        R.delete_run(info.id)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    R.update_run(info.folder, pid=dead.pid, pid_started=None)
    assert R.read_run(info.folder).status == "interrupted"
    with pytest.raises(InvalidInput, match="cannot be resumed: it wrote no last/ checkpoint"):
        jobs.resume_run(info.id)
    R.delete_run(info.id)
    assert not info.folder.exists() and R.list_runs() == []


def test_the_device_lock_is_exclusive_and_says_who_holds_it(registry):
    a, b = jobs.DeviceLock("cpu"), jobs.DeviceLock("cpu")
    assert a.try_acquire("run-a")
    assert not b.try_acquire("run-b")
    assert b.holder().run_id == "run-a"
    a.release()
    assert b.holder() is None and b.try_acquire("run-b")
    b.release()


def test_a_full_queue_refuses_with_a_message(registry, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_QUEUED", 1)
    R.new_run("image", ["--device", "cpu"], {}, device="cpu")  # one waiting already
    with pytest.raises(InvalidInput, match="already waiting for the cpu; at most 1 may wait"):
        jobs.submit("image", ["--device", "cpu"], {})


# ---- jobs ---------------------------------------------------------------------------------------


def test_two_requests_at_once_one_trains_the_other_waits_then_both_finish(registry):
    first = jobs.submit("image", [*TINY, "--steps", "60"], {"model": "grid"})
    second = jobs.submit("image", [*TINY, "--steps", "20", "--seed", "1"], {"model": "grid"})
    seen: set[tuple[str, str]] = set()
    deadline = time.time() + 180
    while time.time() < deadline:
        a, b = R.read_run(first.folder), R.read_run(second.folder)
        seen.add((a.status, b.status))
        if a.status not in R.ACTIVE and b.status not in R.ACTIVE:
            break
        time.sleep(0.1)
    assert ("running", "queued") in seen or ("queued", "running") in seen, seen
    assert ("running", "running") not in seen  # never two on one device
    for info, steps in ((first, 60), (second, 20)):
        end = R.read_run(info.folder)
        assert end.status == "done" and end.step == steps and end.error is None, (end, (info.folder / "stderr.log").read_text())
        assert end.has_model and end.metrics["train_steps"] == steps
        assert load_last(info.folder).step == steps


def test_stop_then_resume_from_the_registry(registry):
    info = jobs.submit("image", [*TINY, "--steps", "100000"], {"model": "grid"})
    deadline = time.time() + 120
    while not (info.folder / "last").exists():
        assert time.time() < deadline and R.read_run(info.folder).status in R.ACTIVE, (info.folder / "stderr.log").read_text()
        time.sleep(0.05)
    R.request_stop(info.id)
    end = jobs.wait_for(info.id, ("stopped", "done", "failed"))
    assert end.status == "stopped" and end.resumable, end
    stopped_at = load_last(info.folder).step
    assert 10 <= stopped_at < 100000
    with pytest.raises(InvalidInput, match="is stopped, not running"):
        R.request_stop(info.id)
    jobs.resume_run(info.id, steps=stopped_at + 10)
    end = jobs.wait_for(info.id, ("stopped", "done", "failed"))
    assert end.status == "done" and end.step == stopped_at + 10, end
    steps = [e["step"] for e in R.step_history(info.folder)]
    assert steps == sorted(steps) and steps[-1] == stopped_at + 10
    with pytest.raises(InvalidInput, match="cannot be resumed: it finished"):
        jobs.resume_run(info.id)


def test_a_killed_job_is_interrupted_and_resumes_from_the_cli(registry):
    env = {**os.environ, "PYTHONPATH": LIB, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tokenworks.train", "image", *TINY, "--steps", "100000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 120
    while not list(registry.glob("*/last")):
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    (info,) = R.list_runs()
    assert info.status == "interrupted" and info.resumable
    killed_at = load_last(info.folder).step
    r = _cli("resume", info.id, "--steps", str(killed_at + 5))
    assert r.returncode == 0, r.stderr[-2000:]
    end = R.read_run(info.folder)
    assert end.status == "done" and end.step == killed_at + 5
    assert "done" in r.stderr
    listing = _cli("list", "--json")
    assert json.loads(listing.stdout)[0]["id"] == info.id


def test_cli_errors_are_messages(registry):
    r = _cli("resume", "../../etc")
    assert r.returncode == 2 and "not a run id" in r.stderr and "Traceback" not in r.stderr
    r = _cli("stop", "20990101-000000-image-none")
    assert r.returncode == 2 and "no run" in r.stderr
    r = _cli("image", "--model", "grid", "--data", "no-such-set", "--steps", "3")
    assert r.returncode == 1 and "unknown image data set 'no-such-set'" in r.stderr
    (failed,) = R.list_runs()
    assert failed.status == "failed" and "valid names: emoji32" in failed.error


# ---- bad input --------------------------------------------------------------------------------


def test_a_config_too_large_for_the_memory_fails_before_training_with_a_message(registry):
    r = _cli("image", *TINY, "--steps", "5", "--batch-size", "100000000")
    (info,) = R.list_runs()
    assert r.returncode == 1 and info.status == "failed"
    assert "cannot fit in memory" in info.error and "lower batch_size to at most" in info.error
    assert not (info.folder / "last").exists() and not info.has_model  # nothing half-written
    r = _cli("image", *TINY, "--steps", "5", "--set", "width=70000", "--model", "flex1d")
    assert r.returncode == 1
    assert "cannot fit in memory" in R.list_runs()[0].error and "parameters" in R.list_runs()[0].error


def test_uploads_with_no_usable_file_say_why(tmp_path):
    from tokenworks.audio.upload import build_audio_upload
    from tokenworks.image.upload import build_image_upload

    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    (tmp_path / "tiny.png").write_bytes(b"")
    Image.new("RGB", (4, 4)).save(tmp_path / "speck.png")
    files = [tmp_path / n for n in ("notes.txt", "broken.png", "tiny.png", "speck.png")]
    with pytest.raises(InvalidInput) as e:
        build_image_upload(files, 32, tmp_path / "out")
    msg = str(e.value)
    assert "none of the 4 uploaded files is a usable picture" in msg
    assert "notes.txt: not an image file" in msg and "broken.png: cannot be read" in msg and "too small" in msg
    assert not (tmp_path / "out").exists()
    with pytest.raises(InvalidInput, match="no files were uploaded"):
        build_image_upload([], 32, tmp_path / "out")
    with pytest.raises(InvalidInput, match="none of the 2 uploaded files is a usable recording"):
        build_audio_upload(files[:2], tmp_path / "aout")


def test_uploaded_pictures_train_with_a_disjoint_test_split(registry, tmp_path):
    from tokenworks.image.data import load_dataset
    from tokenworks.image.upload import build_image_upload

    rng = np.random.default_rng(0)
    files = []
    for i in range(3):
        arr = (rng.random((90, 120, 3)) * 255).astype(np.uint8)
        files.append(tmp_path / f"p{i}.png")
        Image.fromarray(arr).save(files[-1])
    up = build_image_upload([*files, tmp_path / "p0.png.txt"], 32, tmp_path / "ds", crops_per_image=8)
    assert up.disjoint and up.test_sources == ["000-p0"] and up.train_images == 16 and up.test_images == 8
    assert [r.name for r in up.rejected] == ["p0.png.txt"]
    train, test = load_dataset(str(up.folder), "train"), load_dataset(str(up.folder), "test")
    assert set(train.sources).isdisjoint(test.sources) and train.images.shape == (16, 32, 32, 3)
    r = _cli("image", "--model", "grid", "--preset", "cpu-tiny", "--data", str(up.folder), "--steps", "3",
             "--threads", "1", "--batch-size", "4")
    (info,) = R.list_runs()
    assert r.returncode == 0 and info.status == "done" and info.has_model, r.stderr[-2000:]
    assert json.loads((info.folder / "model" / "config.json").read_text())["name"] == "image/grid-ds"


class _Linear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(4))


def test_a_full_disk_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    from tokenworks.train import loop

    model = _Linear()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    state = LoopState(model=model, optimizer=opt, rng=np.random.default_rng(0))

    def step(batch, ctx):
        opt.zero_grad()
        loss = ((model.w - batch) ** 2).sum()
        loss.backward()
        opt.step()
        return StepOutput(losses={"loss": loss.detach()}, items=1)

    real = loop.save_state
    calls = []

    def full_disk_on_the_second_save(folder, *a, **k):
        calls.append(folder.name)
        if len(calls) >= 2:  # the disk fills up inside the writer, after part of the files went out
            def no_space(*_a, **_k):
                raise OSError(errno.ENOSPC, "No space left on device")
            monkeypatch.setattr("tokenworks.checkpoint.json.dump", no_space)
        return real(folder, *a, **k)

    monkeypatch.setattr(loop, "save_state", full_disk_on_the_second_save)
    cfg = LoopConfig(steps=30, checkpoint_every=10, run_dir=str(tmp_path / "run"), log_every=5, best_window=1000)
    with pytest.raises(StorageFull, match="the disk is full: writing the last/ checkpoint of step 20") as e:
        for _ in run_steps(state, step, lambda rng: torch.tensor(rng.normal(size=4), dtype=torch.float32), cfg):
            pass
    assert "the last/ checkpoint of step 10 is intact" in str(e.value)
    assert find_last(tmp_path / "run").name == "last" and load_last(tmp_path / "run").step == 10
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]  # no temp folder left
