"""Shared fixtures: an isolated runs folder, the app served on a free loopback port, tiny untrained
image tokenizers, synthetic images to train tiny image models on, a trainer killed at its first
checkpoint, and the checkpoints the security tests must never reach or unpickle. (The sample texts,
used to parametrize tests at collection, are data in tests/text_samples.py.)"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A fresh runs folder (one of the checkpoint roots) for tests that save checkpoints."""
    d = tmp_path / "runs"
    d.mkdir()
    monkeypatch.setenv("TOKENWORKS_RUNS", str(d))
    return d


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Launch `python -m app.main` on 127.0.0.1 and yield its URL; stop it afterwards."""
    from tokenworks.errors import TokenworksError
    from tools.loadtest import serve_app

    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    try:
        with serve_app(env, 120, log) as (url, _pid):
            yield url
    except TokenworksError as e:  # it exited, or did not answer in time
        pytest.fail(str(e))


# ---- tiny untrained image tokenizers (tests/image/ and tests/app/) -----------------------------------

TINY_FLEX = dict(width=64, heads=2, encoder_layers=1, decoder_layers=1, tokens=16, tokens_per_slot=2,
                 refine_channels=8, refine_features=4)  # a 16-token flex1d at 64x64, V = 1000
TINY_GRID = dict(channels=(8, 16), code_dim=8, lookup_dim=8, codebook_size=32, groups=4)


def _tiny_image_tokenizer(kind: str = "flex1d", name: str | None = None):
    """A tiny untrained ``kind`` ("flex1d": 16 ordered tokens, V = 1000; "grid") image tokenizer,
    seeded (the same weights every time)."""
    import torch

    from tokenworks.image.flex1d import Flex1DConfig
    from tokenworks.image.grid import GridConfig
    from tokenworks.image.tokenizer import ImageTokenizer

    torch.manual_seed(0)
    config = Flex1DConfig(**TINY_FLEX) if kind == "flex1d" else GridConfig(**TINY_GRID)
    return ImageTokenizer.create(kind, config, name=name or f"image/tiny-{kind}")


@pytest.fixture(scope="session")
def tiny_image_tokenizer():
    """``tiny_image_tokenizer(kind="flex1d", name=None)``: a tiny untrained image tokenizer."""
    return _tiny_image_tokenizer


# ---- security: checkpoints a request must never reach, nor unpickle (tests/test_security.py and
# tests/app/test_security_app.py) -------------------------------------------------------------------

@pytest.fixture
def outside(tmp_path, runs_dir):
    """A valid text/bytes checkpoint *outside* the checkpoint folders, beside runs/: it would load
    if any check let a request reach it. Returns its folder."""
    import tokenworks as tw

    return tw.load("text/bytes").save(tmp_path / "outside")


@pytest.fixture
def reads(monkeypatch):
    """Every checkpoint folder whose config.json or files are read during the test."""
    from tokenworks import checkpoint as ck

    seen: list[Path] = []
    real_info, real_sha = ck.read_info, ck.sha256_file

    def read_info(folder):
        seen.append(Path(folder).resolve())
        return real_info(folder)

    def sha256_file(path, *a, **k):
        seen.append(Path(path).resolve().parent)
        return real_sha(path, *a, **k)

    monkeypatch.setattr(ck, "read_info", read_info)
    monkeypatch.setattr(ck, "sha256_file", sha256_file)
    return seen


def _escaping_refs(outside: Path, runs: Path) -> list[str]:
    """Names that point at the outside checkpoint in every way a request could spell it."""
    (runs / "link").symlink_to(outside, target_is_directory=True)
    (runs / "sub").mkdir()
    return [
        "run:../outside",
        "run:sub/../../outside",
        f"run:{outside}",
        f"run:{runs}/../outside",
        "run:link",  # a symlink inside runs/ pointing outside
        "run:./../outside",
    ]


@pytest.fixture(scope="session")
def escaping_refs():
    """``escaping_refs(outside, runs)``: run: names reaching ``outside`` from ``runs`` (it adds a
    symlink and a sub-folder to ``runs``)."""
    return _escaping_refs


class _Payload:
    """Unpickling this creates ``marker`` (the file the tests check is never made)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _disguised(folder: Path, weights: bytes, kind: str = "text/bytes", extra: dict[str, bytes] | None = None) -> None:
    """A checkpoint folder whose config.json is valid (hashes and sizes match) around ``weights``."""
    import json

    from tokenworks import checkpoint as ck

    folder.mkdir(parents=True)
    files = {"model.safetensors": weights, **(extra or {})}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "config.json").write_text(json.dumps({
        "format": ck.FORMAT, "kind": kind, "name": "text/bytes", "config": {},
        "files": {n: {"sha256": ck.sha256_bytes(d), "size": len(d)} for n, d in files.items()},
    }))


def _torch_payload(tmp_path: Path, marker: Path) -> bytes:
    import torch

    p = tmp_path / "payload.pt"
    torch.save({"w": _Payload(marker)}, p)
    return p.read_bytes()


@pytest.fixture(scope="session")
def pickles():
    """Pickle payloads: ``Payload(marker)`` (unpickling it creates ``marker``),
    ``disguised(folder, weights, kind="text/bytes", extra=None)`` (a checkpoint folder with valid
    hashes around them) and ``torch_payload(tmp_path, marker)`` (the bytes torch.save writes)."""
    from types import SimpleNamespace

    return SimpleNamespace(Payload=_Payload, disguised=_disguised, torch_payload=_torch_payload)


# ---- training tiny image models on synthetic images (tests/image/, tests/quantizers/) ----------------

class SyntheticImages:
    """The image data sets "synthetic16" and "synthetic32": smooth gradients with a disc
    (``tokenworks.image._shapes.smooth_gradients``), what a tiny model learns in a few steps.
    ``load_dataset`` stands in for ``tokenworks.image.data.load_dataset``; ``fields[model]`` are
    the smallest config fields of that model that still train."""

    fields = {
        "flex1d": dict(patch_size=4, width=32, heads=2, encoder_layers=2, decoder_layers=1, tokens=8,
                       tokens_per_slot=2, refine_channels=8, refine_features=4),
        "grid": dict(channels=(8, 16), groups=4, code_dim=8, codebook_size=16, lookup_dim=4),
    }

    def __init__(self) -> None:
        from tokenworks.image._shapes import smooth_gradients

        self.sets = {size: {"train": smooth_gradients(64, size=size, seed=1),
                            "test": smooth_gradients(8, size=size, seed=2)} for size in (16, 32)}

    def load_dataset(self, name: str, split: str, limit: int | None = None):
        from types import SimpleNamespace

        images = self.sets[int(str(name).removeprefix("synthetic"))][split]
        return SimpleNamespace(images=images, data_hash=f"{name}-{len(images)}")


@pytest.fixture(scope="session")
def synthetic_images() -> SyntheticImages:
    return SyntheticImages()


# ---- killing a trainer once it has a checkpoint (tests/train/, tests/audio/) ---------------------

@pytest.fixture
def kill_after_first_checkpoint():
    """``kill(proc, run_dir, log, timeout=120)``: wait until ``run_dir/last`` exists, then SIGKILL
    ``proc``; fail with the log's tail if the trainer exits first or writes no checkpoint in time."""
    import signal
    import time

    def kill(proc, run_dir: Path, log: Path, timeout: float = 120) -> None:
        last = Path(run_dir) / "last"
        deadline = time.time() + timeout
        while not last.exists():  # last/ appears by a rename, so once it exists it is complete
            assert proc.poll() is None, Path(log).read_text()[-3000:]
            assert time.time() < deadline, f"no checkpoint within {timeout:.0f} s"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL

    return kill


@pytest.fixture
def read_events():
    """``read(text)``: the JSON objects of a trainer's log, one a line; other lines are skipped."""
    from tokenworks.train.common import json_events

    return lambda text: list(json_events(text.splitlines()))


# ---- MiniLM (the Attention tab, tokenworks.text.attention) ---------------------------------------------

@pytest.fixture(scope="session")
def minilm_model():
    """Skips the test unless the minilm-model asset and transformers are here."""
    from tokenworks.assets import status
    from tokenworks.text import attention

    try:
        import transformers  # noqa: F401
    except ImportError:
        pytest.skip("needs transformers (pip install -e .[app])")
    if status(attention.ASSET).state != "present":
        pytest.skip("needs the minilm-model asset (tokenworks assets fetch minilm-model) and transformers")


# ---- SmolLM2-135M (tokenworks.lm, the LM and Attention tabs) -------------------------------------------

@pytest.fixture(scope="session")
def smollm2():
    """The shared SmolLM2-135M (``tw.load_lm``): loaded once for the whole run; skips without its asset."""
    from tokenworks.assets import status
    from tokenworks.text import smollm2 as smol

    try:
        import transformers  # noqa: F401
    except ImportError:
        pytest.skip("needs transformers (pip install -e .[app])")
    if status(smol.ASSET).state != "present":
        pytest.skip("needs the smollm2-135m asset (tokenworks assets fetch smollm2-135m)")
    import tokenworks as tw

    return tw.load_lm("lm/smollm2-135m")


# ---- a tiny codec and a tone (tests/audio/, tests/app/) ------------------------------------------------

TINY_CODEC = dict(width=32, encoder_blocks=1, decoder_blocks=2, latent_dim=16, codebook_size=32, num_levels=4)
SR = 16000


def _tone(seconds: float, sr: int = SR, f: float = 220.0) -> np.ndarray:
    """A tremolo sine (float32): speech-like enough for a codec's metrics."""
    t = np.arange(int(seconds * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * f * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _tiny_codec(name: str = "audio/tiny-codec"):
    """A 4-level codec with 32 codes a level, untrained except one k-means pass over tones."""
    import torch

    from tokenworks.audio.codec import Codec, CodecConfig
    from tokenworks.audio.codec_tokenizer import CodecTokenizer

    torch.manual_seed(0)
    model = Codec(CodecConfig(**TINY_CODEC))
    model.train()
    with torch.no_grad():  # one training pass initialises every level's codebook
        model(torch.from_numpy(np.stack([_tone(0.5, f=f) for f in (110, 220, 440, 880)])), keep=4)
    return CodecTokenizer(model.eval(), name=name)


@pytest.fixture(scope="session")
def tiny_codec():
    """``tiny_codec(name="audio/tiny-codec")``: a 4-codebook CodecTokenizer (save it as a run)."""
    return _tiny_codec


@pytest.fixture(scope="session")
def tone():
    """``tone(seconds, sr=16000, f=220.0)``: a float32 tremolo sine."""
    return _tone


@pytest.fixture(scope="session")
def tiny_tournament(tmp_path_factory):
    """A small cpu-tiny tournament (bytes, bpe-1k and delete, English, 2 seeds), trained once per session."""
    from tokenworks.lm.tiny.tournament import TournamentConfig, run_tournament

    out = tmp_path_factory.mktemp("tournament")
    run_tournament(TournamentConfig(preset="cpu-tiny", corpora=("english",), contestants=("bytes", "bpe-1k", "delete"),
                                    seeds=2, probe_bytes=3000, spelling_pairs=20, threads=1, out=str(out)),
                   say=lambda s: None)
    return out
