"""Pack files (a corpus carried to a GPU machine), warm starts and later evaluation of codec checkpoints."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tokenworks.audio.pack import pack_clips, unpack_clips
from tokenworks.errors import InvalidInput


def _clips(rng: np.random.Generator) -> list[np.ndarray]:
    t = np.arange(16000) / 16000
    speechy = (0.5 * np.sin(2 * np.pi * 180 * t) * np.sin(2 * np.pi * 3 * t)).astype(np.float32)
    noise = np.clip(rng.standard_normal(7001) * 0.3, -1, 1).astype(np.float32)
    extremes = np.array([1.0, -1.0, 1.0, -1.0, 0.0, 0.999, -0.999], np.float32)  # the largest sample-to-sample jumps
    return [speechy, noise, extremes, np.zeros(1, np.float32)]


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_pack_round_trip_is_exact_to_the_bits_kept(tmp_path, bits):
    waves = _clips(np.random.default_rng(0))
    names = ["speechy", "noise", "extremes", "one"]
    path = pack_clips(waves, names, tmp_path / f"c{bits}.twpack.npz", bits=bits)
    got = unpack_clips(path)
    assert got.names == names and got.bits == bits and got.sample_rate == 16000
    assert [len(w) for w in got.waves] == [len(w) for w in waves]
    step = 2.0 ** (16 - bits) / 32767.0  # one quantization step of the kept bits
    for w, g in zip(waves, got.waves):
        assert g.dtype == np.float32
        assert np.abs(g - w).max() <= step / 2 + 1.5 / 32767.0, bits
    if bits == 16:  # exact up to 16-bit PCM
        pcm = [np.round(w.astype(np.float64) * 32767) for w in waves]
        assert all(np.array_equal(np.round(g.astype(np.float64) * 32767), p) for g, p in zip(got.waves, pcm))


def test_pack_is_smaller_than_pcm_on_smooth_audio(tmp_path):
    t = np.arange(160000) / 16000
    w = (0.3 * np.sin(2 * np.pi * 200 * t) + 0.1 * np.sin(2 * np.pi * 1234 * t)).astype(np.float32)
    path = pack_clips([w], ["tone"], tmp_path / "t.twpack.npz", bits=12)
    assert path.stat().st_size < 0.5 * w.size * 2  # well under half of 16-bit PCM


def test_pack_refuses_bad_arguments(tmp_path):
    w = [np.zeros(10, np.float32)]
    with pytest.raises(InvalidInput, match="bits must be 2..16"):
        pack_clips(w, ["a"], tmp_path / "a.twpack.npz", bits=20)
    with pytest.raises(InvalidInput, match="one name per clip"):
        pack_clips(w, ["a", "b"], tmp_path / "a.twpack.npz")
    with pytest.raises(InvalidInput, match="ends with .twpack.npz"):
        pack_clips(w, ["a"], tmp_path / "a.npz")
    with pytest.raises(InvalidInput, match="no pack file"):
        unpack_clips(tmp_path / "missing.twpack.npz")
    assert not list(tmp_path.glob("*.part"))


def test_read_folder_takes_a_pack_file(tmp_path):
    from tokenworks.audio.train_data import read_folder

    waves = _clips(np.random.default_rng(1))
    path = pack_clips(waves, ["a", "b", "c", "d"], tmp_path / "set.twpack.npz", bits=16)
    s = read_folder(path)
    assert s.names == ["a", "b", "c", "d"] and len(s.waves) == 4
    assert read_folder(path, limit=2).names == ["a", "b"]


# ---- warm start and evaluate-later ------------------------------------------------------------


def _train_tiny(tmp_path, name: str, **kw):
    from tokenworks.audio.train import train_codec
    from tokenworks.audio.train_config import preset_config

    rng = np.random.default_rng(0)
    t = np.arange(24000) / 16000
    waves = [(0.4 * np.sin(2 * np.pi * f * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
             for f in (150, 210, 270)]
    pack = tmp_path / "train.twpack.npz"
    if not pack.exists():
        pack_clips(waves, ["a", "b", "c"], pack, bits=16)
    cfg = preset_config("cpu-tiny", "rvq", out=str(tmp_path / name), wav_dir=str(pack), eval_clips=0, **kw)
    return train_codec(cfg)


def test_training_without_evaluation_then_evaluate_checkpoint(tmp_path):
    from tokenworks.audio.evaluate import evaluate_checkpoint
    from tokenworks.audio.io import write_wav
    from tokenworks.paths import data_dir

    res = _train_tiny(tmp_path, "ck", steps=4)
    info = json.loads((res.folder / "config.json").read_text())
    assert info["metrics"]["evaluated"] is False and info["metrics"]["train_steps"] == 4
    assert "per_k" not in info["metrics"]
    # evaluate later on a folder of speech: the metrics land in config.json, the training facts stay
    from tokenworks.audio.io import read_audio

    speech = read_audio(data_dir() / "samples" / "audio" / "espeak-en.wav").wave
    write_wav(tmp_path / "eval" / "s.wav", speech[:48000], 16000)
    m = evaluate_checkpoint(res.folder, eval_clips=1, eval_dir=str(tmp_path / "eval"))
    after = json.loads((res.folder / "config.json").read_text())
    assert after["metrics"] == m
    assert "evaluated" not in m and m["train_steps"] == 4 and m["heldout_clips"] == 1
    assert set(m["per_k"]) == {"1", "2", "3", "4", "5", "6", "7", "8"}
    assert after["files"] == info["files"]  # weights untouched
    from tokenworks.audio.codec_tokenizer import CodecTokenizer
    from tokenworks.checkpoint import load_checkpoint

    assert CodecTokenizer.from_checkpoint(load_checkpoint(res.folder, allow_outside=True)).metrics["per_k"]


def test_warm_start_continues_from_the_checkpoint_and_refuses_new_architecture(tmp_path):
    from tokenworks.audio.train import train_codec
    from tokenworks.audio.train_config import preset_config
    from tokenworks.checkpoint import load_checkpoint

    first = _train_tiny(tmp_path, "first", steps=5)
    # zero further steps: the saved model is exactly the one started from
    same = _train_tiny(tmp_path, "same", steps=0, init=str(first.folder),
                       model_config={"quantizer_dropout": 0.9})
    a, b = load_checkpoint(first.folder, allow_outside=True), load_checkpoint(same.folder, allow_outside=True)
    assert a.tensors.keys() == b.tensors.keys()
    assert all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors)
    assert b.config["quantizer_dropout"] == 0.9 and a.config["quantizer_dropout"] != 0.9
    more = _train_tiny(tmp_path, "more", steps=3, init=str(first.folder))
    assert more.steps == 3
    with pytest.raises(InvalidInput, match="width cannot change; only quantizer_dropout"):
        train_codec(preset_config("cpu-tiny", "rvq", out=str(tmp_path / "bad"), wav_dir=str(tmp_path / "train.twpack.npz"),
                                  eval_clips=0, steps=1, init=str(first.folder), model_config={"width": 64}))
    assert not (tmp_path / "bad").exists()


def test_cli_errors_are_messages_not_tracebacks(tmp_path, capsys):
    from tokenworks.audio.train import main

    first = _train_tiny(tmp_path, "first", steps=1)
    pack = str(tmp_path / "train.twpack.npz")
    rc = main(["--preset", "cpu-tiny", "--wav-dir", pack, "--eval-clips", "0", "--steps", "1",
               "--init", str(first.folder), "--set", "width=64", "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: --init") and "width cannot change" in err and "Traceback" not in err
    rc = main(["--evaluate", str(tmp_path / "nowhere")])
    assert rc == 2 and capsys.readouterr().err.startswith("error: ")
    rc = main(["--preset", "cpu-tiny", "--wav-dir", str(tmp_path / "missing.twpack.npz"), "--eval-clips", "0"])
    assert rc == 2 and "no pack file" in capsys.readouterr().err
