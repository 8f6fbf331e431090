"""Checkpoints: atomic writes, checksums, no pickle, and nothing outside the checkpoint folders."""
from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass

import pytest
import torch

import tokenworks as tw
from tokenworks import checkpoint as ck


@dataclass
class TinyConfig:
    width: int = 4  # a made-up hyperparameter
    names: tuple = ("a", "b")


def _save(folder, **kw):
    return ck.save_checkpoint(
        folder, kind="test/tiny", name="test/tiny", config=TinyConfig(), tensors={"w": torch.arange(6.0).view(2, 3)},
        sidecars={"vocab.txt": "a\nb\n"}, data_hash="abc", metrics={"loss": 0.5}, **kw,
    )


def test_save_load_exact(runs_dir):
    folder = _save(runs_dir / "tiny")
    info = json.loads((folder / "config.json").read_text())
    assert info["config"] == {"width": 4, "names": ["a", "b"]}
    assert info["data_hash"] == "abc" and info["metrics"] == {"loss": 0.5}
    assert set(info["files"]) == {"model.safetensors", "vocab.txt"}
    c = ck.load_checkpoint("tiny")
    assert torch.equal(c.tensors["w"], torch.arange(6.0).view(2, 3))
    assert ck.config_from_dict(TinyConfig, c.config) == TinyConfig()
    assert c.kind == "test/tiny"


@pytest.mark.parametrize("ref", ["../../etc/passwd", "../..", "/etc", "tiny/../../../etc"])
def test_paths_outside_the_checkpoint_folders_are_refused(runs_dir, ref):
    with pytest.raises(tw.UnsafePath, match="outside the checkpoint folders"):
        tw.load_checkpoint(ref)


def test_symlink_escaping_the_folder_is_refused(runs_dir, tmp_path):
    outside = _save(tmp_path / "elsewhere")
    (runs_dir / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(tw.UnsafePath):
        ck.load_checkpoint("link")


def test_explicit_user_path_may_be_outside(runs_dir, tmp_path):
    folder = tw.load("text/bytes").save(tmp_path / "mine")
    with pytest.raises(tw.UnsafePath):
        tw.load_checkpoint(str(folder))
    tok = tw.load_checkpoint(str(folder), allow_outside=True)
    assert tok.encode("hi").tolist() == [104, 105]


def test_missing_checkpoint_lists_what_exists(runs_dir):
    _save(runs_dir / "tiny")
    with pytest.raises(tw.CheckpointNotFound, match=r"checkpoints there: .*\btiny\b"):
        ck.load_checkpoint("nope")


def test_tampered_weights_fail_the_checksum(runs_dir):
    folder = _save(runs_dir / "tiny")
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(tw.CorruptCheckpoint, match="fails its sha256"):
        ck.load_checkpoint("tiny")


def test_truncated_and_missing_files(runs_dir):
    folder = _save(runs_dir / "tiny")
    w = folder / "model.safetensors"
    w.write_bytes(w.read_bytes()[:10])
    with pytest.raises(tw.CorruptCheckpoint, match="has 10 bytes"):
        ck.load_checkpoint("tiny")
    w.unlink()
    with pytest.raises(tw.CorruptCheckpoint, match="model.safetensors is missing"):
        ck.load_checkpoint("tiny")


@pytest.mark.parametrize("content", ["{not json", "[]", '{"format": "other"}', '{"format": "tokenworks-checkpoint/1"}'])
def test_bad_config_json(runs_dir, content):
    folder = _save(runs_dir / "tiny")
    (folder / "config.json").write_text(content)
    with pytest.raises(tw.CorruptCheckpoint):
        ck.load_checkpoint("tiny")


def test_pickle_disguised_as_a_checkpoint_is_never_unpickled(runs_dir, tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    folder = runs_dir / "evil"
    folder.mkdir()
    blob = pickle.dumps({"w": Payload()})
    (folder / "model.safetensors").write_bytes(blob)
    (folder / "config.json").write_text(json.dumps({
        "format": ck.FORMAT, "kind": "text/bytes", "config": {},
        "files": {"model.safetensors": {"sha256": ck.sha256_bytes(blob), "size": len(blob)}},
    }))
    with pytest.raises(tw.CorruptCheckpoint, match="cannot be read as safetensors"):
        tw.load_checkpoint("evil")
    assert not marker.exists()


def test_unknown_kind_is_refused(runs_dir):
    _save(runs_dir / "tiny")
    with pytest.raises(tw.CorruptCheckpoint, match="known kinds: .*text/bytes"):
        tw.load_checkpoint("tiny")


def test_unknown_config_field_names_the_known_ones():
    with pytest.raises(tw.CorruptCheckpoint, match=r"unknown field\(s\) \['depth'\].*known fields"):
        ck.config_from_dict(TinyConfig, {"width": 1, "depth": 2})


def test_a_crash_while_saving_keeps_the_old_checkpoint(runs_dir, monkeypatch):
    folder = _save(runs_dir / "tiny")
    before = (folder / "model.safetensors").read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(ck.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        ck.save_checkpoint(folder, kind="test/tiny", name="x", config=TinyConfig(width=9), tensors={"w": torch.zeros(1)})
    assert (folder / "model.safetensors").read_bytes() == before
    assert json.loads((folder / "config.json").read_text())["config"]["width"] == 4
    assert sorted(os.listdir(runs_dir)) == ["tiny"]  # no temporary folder left behind
    ck.load_checkpoint("tiny")


def test_overwrite_replaces_completely(runs_dir):
    folder = _save(runs_dir / "tiny")
    ck.save_checkpoint(folder, kind="test/tiny", name="x", config=TinyConfig(width=7), tensors={"v": torch.ones(2)})
    c = ck.load_checkpoint("tiny")
    assert set(c.tensors) == {"v"} and c.config["width"] == 7
    assert not (folder / "vocab.txt").exists()
    assert sorted(os.listdir(runs_dir)) == ["tiny"]
