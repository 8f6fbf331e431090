"""The Train tab's handlers without a browser: the new-run form's arguments and bad input
(app/train_form.py), and a run started, stopped and resumed through the tab's handlers
(app/train_tab.py; those that fill the page return {component: value}, read by name here)."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from app import train_form as F
from app import train_tab as T
from tokenworks.errors import InvalidInput
from tokenworks.train import jobs
from tokenworks.train import runs as R


@pytest.fixture()
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs" / "train"


UI = T.TrainUI.named()


def test_trainer_arguments_follow_the_form():
    argv, summary, _ = F.trainer_args(F.NewRun("image", "flex1d", "lfq", "default", "shapes64", steps=500, seed=3))
    assert argv == ["--model", "flex1d", "--preset", "default", "--data", "shapes64", "--seed", "3",
                    "--set", 'quantizer="lfq"', "--steps", "500"]
    assert summary == {"model": "flex1d", "data": "shapes64", "preset": "default", "quantizer": "lfq"}
    argv, _, _ = F.trainer_args(F.NewRun("audio", "rvq", preset="cpu-tiny", data=F.BUNDLED_AUDIO))
    assert argv == ["--design", "rvq", "--preset", "cpu-tiny", "--seed", "0"]
    argv, _, _ = F.trainer_args(F.NewRun("text", "unigram", data="austen", vocab_size=3000))
    assert argv == ["--algo", "unigram", "--vocab", "3000", "--corpus", "austen"]
    assert F.model_choices("audio") == ["rvq", "single"] and "shapes32" in F.data_choices("image")


@pytest.mark.parametrize("req, message", [
    (F.NewRun(modality="video"), "modality must be one of image, audio, text"),
    (F.NewRun(model="resnet"), "image model must be one of grid, flex1d"),
    (F.NewRun(preset="huge"), "image preset must be one of cpu-tiny, default, gpu"),
    (F.NewRun(steps=-5), "steps must be between 1 and"),
    (F.NewRun(steps=10**9), "steps must be between 1 and"),
    (F.NewRun(data="imagenet"), "image data must be one of .*shapes32"),
    (F.NewRun(quantizer="pq"), "quantizer must be one of preset, vq, fsq"),
    (F.NewRun(data=F.UPLOADED), "choose files to upload first"),
    (F.NewRun("text", "bpe", data="shakespeare", vocab_size=10), "vocab size must be between 260"),
    (F.NewRun("audio", "rvq", preset="cpu", data=F.UPLOADED), "choose files to upload first"),
])
def test_bad_requests_name_what_is_allowed(req, message):
    with pytest.raises(InvalidInput, match=message):
        F.trainer_args(req)


def test_uploads_with_no_usable_file_start_nothing(registry, tmp_path):
    junk = tmp_path / "a.txt"
    junk.write_text("hello")
    with pytest.raises(InvalidInput, match="none of the 1 uploaded files is a usable picture"):
        F.start_run(F.NewRun(data=F.UPLOADED), [str(junk)])
    with pytest.raises(InvalidInput, match="none of the 1 uploaded files is a usable recording"):
        F.start_run(F.NewRun("audio", "rvq", data=F.UPLOADED), [str(junk)])
    assert R.list_runs() == []


def test_start_watch_stop_resume_and_compare_through_the_handlers(registry, tmp_path):
    rng = np.random.default_rng(0)
    pics = []
    for i in range(2):
        pics.append(tmp_path / f"p{i}.png")
        Image.fromarray((rng.random((80, 80, 3)) * 255).astype(np.uint8)).save(pics[-1])
    run_id, msg = F.start_run(F.NewRun("image", "grid", "preset", "cpu-tiny", F.UPLOADED, steps=100000),
                              [str(p) for p in pics])
    assert run_id in msg and "2 pictures -> 64 training and 64 test crops" in msg
    deadline = time.time() + 120
    while not R.step_history(R.run_folder(run_id)):
        assert time.time() < deadline
        time.sleep(0.2)
    view = T.run_view(run_id)
    assert "running" in view.status and "step" in view.status and view.figure.data
    assert T.runs_table()[0][:2] == [run_id, "running"]
    assert "Asked run" in T.stop_run(run_id)
    end = jobs.wait_for(run_id, ("stopped", "done", "failed"))
    assert end.status == "stopped", end
    view = T.run_view(run_id)
    assert "can be resumed" in view.status and f"run:train/{run_id}/model" in view.status
    shown = T.refresh(UI, run_id, ())  # the timer's tick: everything, with its signature
    assert set(shown) == {"table", "status", "dashboard", "preview", "seen"} and shown["status"] == view.status
    assert shown["table"][0][:2] == [run_id, "stopped"] and shown["seen"][0] == view.signature
    assert T.refresh(UI, run_id, shown["seen"]) == {"seen": shown["seen"]}  # nothing changed: nothing redrawn
    out = T.after(UI, T.resume)(run_id)  # the Resume button: the message, the pick and the table
    assert "resumes from its last checkpoint" in out["message"] and out["pick"]["value"] == run_id
    assert out["seen"] == () and out["table"][0][0] == run_id and T.after(UI, T.resume).__name__ == "resume"
    R.request_stop(run_id)  # stop it again right away: a queued or running run honours it
    assert jobs.wait_for(run_id, ("stopped", "done", "failed")).status == "stopped"
    fig = T.compare([run_id], "loss", "elapsed")
    assert fig.data and fig.data[0].name.startswith(run_id[:8])
    with pytest.raises(InvalidInput, match="pick one or more runs"):
        T.compare([], "loss")
    out = T.after(UI, T.delete_run)(run_id)
    assert "Deleted" in out["message"] and T.runs_table() == [] and out["table"] == []
    assert out["pick"] == {"__type__": "update", "choices": [], "value": None}  # the deleted run is not picked
    gone = T.refresh(UI, run_id, ())  # a pick of a run that is no more: as no pick
    assert gone["status"] == "Pick a run, or start one." and gone["table"] == []


def test_the_form_follows_the_modality():
    out = T.on_modality(UI, "text")
    assert set(out) == {"model", "quantizer", "preset", "data", "vocab"}
    assert out["model"]["choices"] == list(F.TEXT_ALGOS) and out["model"]["value"] == F.TEXT_ALGOS[0]
    assert out["quantizer"]["visible"] is False and out["preset"]["visible"] is False
    assert out["vocab"]["visible"] is True
    out = T.on_modality(UI, "image")
    assert out["model"]["value"] == "grid" and out["quantizer"] == {"__type__": "update", "visible": True,
                                                                     "value": "preset"}
    assert out["preset"]["choices"] == list(F.IMAGE_PRESETS) and out["preset"]["value"] == "cpu-tiny"
    assert out["data"]["value"] == F.default_data("image") and out["vocab"]["visible"] is False
    assert T.on_modality(UI, "audio")["model"]["choices"] == ["rvq", "single"]


def test_a_bad_form_starts_nothing_and_says_why(registry):
    import gradio as gr

    from app.widgets import friendly

    with pytest.raises(InvalidInput, match="image model must be one of grid, flex1d"):
        T.on_start(UI, "image", "resnet", "preset", "cpu-tiny", "shapes32", 2000, 0, 0, None)
    with pytest.raises(gr.Error, match="choose files to upload first"):  # through the page: a message
        friendly(T.on_start)(UI, "image", "grid", None, "cpu-tiny", F.UPLOADED, None, None, None, None)
    assert R.list_runs() == [] and T.run_ids() == []


def test_table_changing_handlers_make_the_next_tick_show_the_table_again():
    """Start, stop, resume and delete also show the runs table. Their answer can arrive after a
    timer tick that already showed a newer table, e.g. a run that stopped in between. So each one
    clears the signature the tick compares against; otherwise the stale table would stay."""
    import gradio as gr

    from app.main import build_app

    app = build_app()
    fns = list(app.fns.values())
    ticks = [f for f in fns if any(isinstance(app.blocks.get(t[0]), gr.Timer) for t in f.targets)
             and any(getattr(o, "elem_id", None) == "tw-train-runs" for o in f.outputs)]
    assert len(ticks) == 1
    seen = ticks[0].inputs[-1]
    assert isinstance(seen, gr.State) and seen in ticks[0].outputs  # the tick reads and writes it
    by_api = {f.api_name: f for f in fns}
    for api in ("train_start", "train_stop", "train_resume", "train_delete"):
        f = by_api[api]
        assert any(getattr(o, "elem_id", None) == "tw-train-runs" for o in f.outputs), api
        assert f.outputs[-1] is seen, f"{api} must clear the tick's signature"
    with pytest.raises(gr.Error, match="pick a run to stop"):  # still a message, not a traceback
        by_api["train_stop"].fn(None)
