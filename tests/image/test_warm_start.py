"""Warm start of the image trainer (``--init FOLDER``): tiny grid and flex1d models on synthetic images."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from tokenworks.errors import InvalidInput
from tokenworks.image import train as T

TINY: dict = {}  # model -> the smallest config fields that train (conftest's SyntheticImages.fields)


@pytest.fixture(scope="module", autouse=True)
def synthetic_data(synthetic_images):
    """The trainer reads synthetic16 / synthetic32 from smooth synthetic images (tests/conftest.py)."""
    TINY.update(synthetic_images.fields)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(T, "load_dataset", synthetic_images.load_dataset)
        yield


def _cfg(tmp_path, name, model="flex1d", **kw):
    kw = {"data": "synthetic16", "steps": 5, "minutes": 0, "batch_size": 8, "device": "cpu", "threads": 1,
          "log_every": 1, "eval_limit": 8, "out": str(tmp_path / name), **kw}
    return T.preset_config(model, "cpu-tiny", **kw)


def _source(tmp_path_factory, model, steps, **kw):
    out = tmp_path_factory.mktemp(f"src-{model}")
    return T.train_image(_cfg(out, "ck", model, steps=steps, model_config=TINY[model], **kw))


@pytest.fixture(scope="module")
def flex_source(tmp_path_factory):
    return _source(tmp_path_factory, "flex1d", 80, warmup_steps=5)


def _metrics(folder):
    m = json.loads((folder / "config.json").read_text())["metrics"]
    for k in ("train_steps", "train_seconds", "final_train_mse"):
        m.pop(k)
    return m


@pytest.mark.parametrize("model,weights", [("flex1d", "float32"), ("grid", "float16")])
def test_init_with_zero_steps_resaves_the_same_model(tmp_path, tmp_path_factory, model, weights):
    src = _source(tmp_path_factory, model, 6, weights=weights)
    same = T.train_image(_cfg(tmp_path, "same", model, steps=0, init=str(src.folder), weights=weights))
    assert same.steps == 0 and same.history == []
    a, b = load_file(str(src.folder / "model.safetensors")), load_file(str(same.folder / "model.safetensors"))
    assert a.keys() == b.keys() and any(v.dtype == torch.float16 for v in a.values()) == (weights == "float16")
    assert all(a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a)  # codebooks and EMA buffers too
    assert _metrics(same.folder) == _metrics(src.folder)
    info = json.loads((same.folder / "config.json").read_text())
    assert info["train"]["init"] == str(src.folder) and info["config"] == json.loads(
        (src.folder / "config.json").read_text())["config"]
    # the weights are loaded as float32 (a float16 source included) and train from there
    more = T.train_image(_cfg(tmp_path, "more", model, steps=2, init=str(src.folder)))
    c = load_file(str(more.folder / "model.safetensors"))
    assert all(v.dtype != torch.float16 for v in c.values())
    assert any(not torch.equal(a[k].to(c[k].dtype), c[k]) for k in a)


def test_warm_start_trains_on_from_the_source_not_from_scratch(tmp_path, flex_source):
    warm = T.train_image(_cfg(tmp_path, "warm", steps=5, init=str(flex_source.folder)))
    cold = T.train_image(_cfg(tmp_path, "cold", steps=5, model_config=TINY["flex1d"]))
    assert warm.steps == cold.steps == 5
    first_warm, first_cold = warm.history[0]["loss"], cold.history[0]["loss"]
    last_source = flex_source.history[-1]["loss"]
    # log-MSE: where the source ended (one batch's noise), well below an untrained model's first step
    assert first_warm < first_cold - 0.2 and abs(first_warm - last_source) < 0.15, (first_warm, first_cold, last_source)
    a = load_file(str(flex_source.folder / "model.safetensors"))
    b = load_file(str(warm.folder / "model.safetensors"))
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_only_training_time_fields_may_change(tmp_path, flex_source):
    with pytest.raises(InvalidInput, match="tokens, width cannot change; only keep_power, keep_log_prob, "
                                           "keep_all_prob, keep_grid_prob can"):
        T.train_image(_cfg(tmp_path, "bad", steps=1, init=str(flex_source.folder),
                           model_config={"width": 48, "tokens": 16, "heads": 2}))  # heads: unchanged, fine
    assert not (tmp_path / "bad").exists()
    ok = T.train_image(_cfg(tmp_path, "ok", steps=1, init=str(flex_source.folder),
                            model_config={"keep_all_prob": 0.5, "width": 32}))
    info = json.loads((ok.folder / "config.json").read_text())
    assert info["config"]["keep_all_prob"] == 0.5 and info["config"]["width"] == 32
    assert info["train"]["model_config"]["keep_all_prob"] == 0.5
    # the gpu preset's model config sets keep_* fields: kept; its architecture (none here) would be dropped
    cfg = T.preset_config("flex1d", "cpu-tiny", init=str(flex_source.folder))
    assert cfg.model_config == {}  # cpu-tiny's width, tokens, ... give way to the checkpoint's
    assert T.preset_config("flex1d", "gpu", init="x").model_config == {"keep_grid_prob": 0.25, "keep_power": 1.0}


def test_wrong_kind_size_or_folder_is_refused(tmp_path, flex_source):
    src = str(flex_source.folder)
    with pytest.raises(InvalidInput, match="holds a flex1d model, not grid; give --model flex1d"):
        T.train_image(_cfg(tmp_path, "a", "grid", steps=1, init=src))
    with pytest.raises(InvalidInput, match="16x16 images; the data set has 32x32 images"):
        T.train_image(_cfg(tmp_path, "b", steps=1, init=src, data="synthetic32"))
    with pytest.raises(InvalidInput, match="no checkpoint folder"):
        T.train_image(_cfg(tmp_path, "c", steps=1, init=str(tmp_path / "nowhere")))
    assert not any((tmp_path / n).exists() for n in "abc")


def test_cli_init_takes_model_and_data_from_the_checkpoint_and_errors_are_messages(tmp_path, flex_source, capsys):
    src = str(flex_source.folder)
    base = ["--device", "cpu", "--threads", "1", "--minutes", "0", "--batch-size", "8", "--eval-limit", "8"]
    rc = T.main([*base, "--init", src, "--steps", "0", "--out", str(tmp_path / "cli")])  # no --model, no --data
    assert rc == 0
    info = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert info["kind"] == "image/flex1d" and info["train"]["data"] == "synthetic16" and info["train"]["init"] == src
    capsys.readouterr()
    for args, msg in [(["--init", src, "--set", "width=48"], "width cannot change; only keep_power"),
                      (["--init", src, "--model", "grid"], "holds a flex1d model, not grid"),
                      (["--init", src, "--data", "synthetic32"], "the data set has 32x32 images"),
                      (["--init", str(tmp_path / "nowhere")], "no checkpoint folder")]:
        rc = T.main([*base, *args, "--steps", "1", "--out", str(tmp_path / "bad")])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("error: --init") and msg in err and "Traceback" not in err, err
    assert not (tmp_path / "bad").exists()


def test_a_warm_started_run_resumes_like_any_other(tmp_path, flex_source):
    src = str(flex_source.folder)
    ref = T.train_image(_cfg(tmp_path, "ref", steps=6, init=src))
    calls = []

    def stop_after_three() -> bool:  # checked before every step
        calls.append(1)
        return len(calls) > 3

    cut = T.train_image(_cfg(tmp_path, "cut", steps=6, init=src, checkpoint_every=2), stop=stop_after_three)
    assert cut.reason == "stopped" and cut.steps == 3
    done = T.resume(cut.run_dir)
    assert done.steps == 6 and done.reason == "steps"
    a, b = load_file(str(ref.folder / "model.safetensors")), load_file(str(done.folder / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["loss"] for h in ref.history[3:]] == [h["loss"] for h in done.history]
