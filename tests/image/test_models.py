"""Image models and tokenizers (image/grid.py, image/flex1d.py, image/tokenizer.py, image/train.py).

Tiny configs and synthetic images: every test runs in seconds on a CPU.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

import tokenworks as tw
from tokenworks.errors import CheckpointNotFound, InvalidIds, InvalidInput
from tokenworks.image import train as train_mod
from tokenworks.image._nn import to_pixels
from tokenworks.image.flex1d import Flex1DConfig, bytes_for_tokens, tokens_for_bytes
from tokenworks.image.grid import GridConfig
from tokenworks.image._shapes import smooth_gradients
from tokenworks.image.tokenizer import Flex1DTokenizer, GridTokenizer, ImageTokenizer

S = 16
FLEX = Flex1DConfig(image_size=S, patch_size=4, width=32, heads=2, encoder_layers=2, decoder_layers=1,
                    tokens=8, tokens_per_slot=2)
GRID = GridConfig(image_size=S, channels=(8, 16, 16), code_dim=8, codebook_size=16, lookup_dim=4)


def smooth_images(n: int, size: int = S, seed: int = 0) -> np.ndarray:
    """(n, size, size, 3) uint8: colour gradients and a disc, easy to learn."""
    return smooth_gradients(n, size, seed)


@pytest.fixture(scope="module")
def flex() -> Flex1DTokenizer:
    torch.manual_seed(0)
    return ImageTokenizer.create("flex1d", FLEX, name="image/flex1d-test")


@pytest.fixture(scope="module")
def grid() -> GridTokenizer:
    torch.manual_seed(0)
    tok = ImageTokenizer.create("grid", GRID, name="image/grid-test")
    tok.model.train()  # one training pass initialises the VQ codebook (k-means)
    with torch.no_grad():
        tok.model(to_pixels(smooth_images(8)))
    tok.model.eval()
    return tok


def test_shapes_and_ranges(flex, grid):
    img = smooth_images(1)[0]
    seq = flex.encode(img)
    assert seq.ids.shape == (8,) and seq.modality == "image" and len(seq.spans) == 8
    assert seq.ids.min() >= 0 and seq.ids.max() < flex.vocab_size == 1000
    assert flex.decode(seq).shape == (S, S, 3) and flex.decode(seq).dtype == np.uint8
    gseq = grid.encode(img)
    assert gseq.ids.shape == (4, 4) and len(gseq.spans) == 16
    assert gseq.ids.min() >= 0 and gseq.ids.max() < grid.vocab_size == 16
    assert grid.decode(gseq).shape == (S, S, 3)
    # grid spans tile the image
    boxes = [s.box for s in gseq.spans]
    assert boxes[0] == (0, 0, 4, 4) and boxes[-1] == (12, 12, 16, 16)
    assert flex.codebook().shape == (1000, 4) and grid.codebook().shape == (16, 8)
    assert flex.render_token(3).shape == (S, S, 3) and grid.render_token(5).shape == (S, S, 3)
    assert tw.capabilities(flex) >= {"codebook", "attention", "render_token", "save"}
    assert "attention" not in tw.capabilities(grid)


def test_flex_keep_every_k_and_errors(flex):
    seq = flex.encode(smooth_images(1, seed=1)[0])
    outs = [flex.decode(seq, keep=k) for k in range(1, 9)]
    assert all(o.shape == (S, S, 3) for o in outs)
    # a prefix given as ids decodes like keep=k on the whole sequence
    assert np.array_equal(flex.decode(seq.ids[:3]), outs[2])
    batch = flex.decode_prefixes(seq, list(range(1, 9)))
    assert batch.shape == (8, S, S, 3)
    assert max(int(np.abs(b.astype(int) - o.astype(int)).max()) for b, o in zip(batch, outs)) <= 1
    with pytest.raises(InvalidIds, match="between 1 and 8"):
        flex.decode(seq, keep=9)
    with pytest.raises(InvalidIds):
        flex.decode(seq, keep=0)
    with pytest.raises(InvalidIds, match="valid ids are 0..999"):
        flex.decode([1000, 2])
    with pytest.raises(InvalidIds, match="1..8 tokens"):
        flex.decode(np.zeros(9, dtype=np.int64))


def test_grid_keep_is_refused(grid):
    seq = grid.encode(smooth_images(1)[0])
    assert grid.decode(seq, keep=16).shape == (S, S, 3)
    with pytest.raises(InvalidIds, match="keep=k applies to 1D"):
        grid.decode(seq, keep=3)
    with pytest.raises(InvalidIds, match="exactly 4x4"):
        grid.decode([1, 2, 3])


def test_save_load_round_trip(flex, grid, runs_dir):
    imgs = smooth_images(3, seed=2)
    for tok, folder in ((flex, "image/flex-rt"), (grid, "image/grid-rt")):
        tok.save(runs_dir / folder, data_hash="abc", metrics={"psnr": 1.0})
        back = tw.load_checkpoint(folder)
        assert type(back) is type(tok) and back.name == tok.name and back.metrics == {"psnr": 1.0}
        for img in imgs:
            a, b = tok.encode(img), back.encode(img)
            assert np.array_equal(a.ids, b.ids)
            assert np.array_equal(tok.decode(a), back.decode(b))
        info = json.loads((runs_dir / folder / "config.json").read_text())
        assert info["kind"] == tok.kind and info["data_hash"] == "abc" and info["weights_dtype"] == "float32"


def test_save_float16_round_trip(runs_dir):
    torch.manual_seed(1)
    tok = ImageTokenizer.create("flex1d", FLEX, name="image/flex1d-half")
    folder = tok.save(runs_dir / "image/half", weights="float16")  # rounds tok's own weights too
    back = tw.load_checkpoint("image/half")
    assert next(back.model.parameters()).dtype == torch.float32
    for img in smooth_images(3, seed=6):
        a, b = tok.encode(img), back.encode(img)
        assert np.array_equal(a.ids, b.ids) and np.array_equal(tok.decode(a), back.decode(b))
    full = ImageTokenizer.create("flex1d", FLEX).save(runs_dir / "image/full")
    assert (folder / "model.safetensors").stat().st_size < 0.6 * (full / "model.safetensors").stat().st_size


def test_keep_sampling_covers_short_and_full():
    m = ImageTokenizer.create("flex1d", FLEX).model
    k = m.sample_keep(4000, torch.device("cpu"), torch.Generator().manual_seed(0))
    assert int(k.min()) == 1 and int(k.max()) == FLEX.tokens
    assert 0.05 < float((k == FLEX.tokens).float().mean()) < 0.4


def test_attention_rows_sum_to_one(flex):
    att = flex.attention(smooth_images(1)[0])
    L, T, P = FLEX.encoder_layers, FLEX.tokens, (S // FLEX.patch_size) ** 2
    assert att.per_layer.shape == (L, T, P) and att.mean.shape == (T, P)
    np.testing.assert_allclose(att.per_layer.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(att.mean.sum(-1), 1.0, atol=1e-5)
    assert att.maps().shape == (T, 4, 4) and att.patch_grid == (4, 4)


@pytest.mark.parametrize("model,config", [("flex1d", FLEX), ("grid", GRID)])
def test_tiny_overfit_lowers_loss(model, config):
    torch.manual_seed(0)
    tok = ImageTokenizer.create(model, config)
    m = tok.model.train()
    x = to_pixels(smooth_images(8, seed=3))  # (8, 3, S, S)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    losses = []
    keep = {"keep": torch.full((8,), config.tokens)} if model == "flex1d" else {}  # the whole sequence
    for _ in range(40):
        out = m(x, **keep)
        loss = torch.nn.functional.mse_loss(out.recon, x) + out.aux_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])


def test_registry_names_and_missing_checkpoint(tmp_path, monkeypatch):
    names = tw.available("image")
    assert {"image/grid-emoji32", "image/flex1d-emoji64", "image/flex1d-photo64"} <= set(names)
    monkeypatch.setenv("TOKENWORKS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path / "runs"))
    with pytest.raises(CheckpointNotFound, match="python3 -m tokenworks.image.train --model flex1d --data emoji64"):
        tw.load("image/flex1d-emoji64")
    with pytest.raises(CheckpointNotFound, match="--model grid --data emoji32"):
        tw.load("image/grid-emoji32")


def test_any_input_kind(flex, grid):
    rgb = smooth_images(1, size=37)[0][:23]  # (23, 37, 3): odd, not square
    grey = rgb.mean(-1).astype(np.uint8)  # (23, 37)
    rgba = np.concatenate([rgb, np.full((23, 37, 1), 128, np.uint8)], -1)  # (23, 37, 4)
    for x in (rgb, grey, rgba, Image.fromarray(rgba, "RGBA"), Image.fromarray(grey, "L")):
        for tok in (flex, grid):
            seq = tok.encode(x)
            assert seq.meta["original_size"] == (37, 23) and "crop_box" in seq.meta and "resized" in seq.meta
            assert tok.decode(seq).shape == (S, S, 3)
    seq = grid.encode(rgb)
    boxes = np.array([s.box for s in seq.spans])  # (16, 4) in the input's pixels
    assert boxes[:, [0, 2]].min() >= 7 and boxes[:, [0, 2]].max() <= 30 and boxes[:, [1, 3]].max() <= 23
    assert flex.encode(rgb).spans[0].box == (7, 0, 30, 23)  # the centre crop, in input pixels
    with pytest.raises(InvalidInput):
        flex.encode(np.zeros((4, 4, 2), np.uint8))


def test_bytes_and_tokens():
    assert [tokens_for_bytes(b, 1000) for b in (100, 200, 300)] == [80, 160, 240]
    assert bytes_for_tokens(240, 1000) == 299 and bytes_for_tokens(241, 1000) == 301


class _FakeData:
    def __init__(self, images):
        self.images, self.data_hash = images, "fake"


def test_train_image_end_to_end(monkeypatch, runs_dir):
    sets = {"train": smooth_images(16, seed=4), "test": smooth_images(4, seed=5)}
    monkeypatch.setattr(train_mod, "load_dataset", lambda name, split, limit=None: _FakeData(sets[split]))
    for model, cfg in (("flex1d", FLEX), ("grid", GRID)):
        mc = {k: v for k, v in cfg.__dict__.items() if k != "image_size"}
        tc = train_mod.preset_config(model, "cpu-tiny", data="fake16", steps=3, batch_size=4, device="cpu",
                                     eval_limit=4, model_config=mc, log_every=1)
        res = train_mod.train_image(tc)
        assert res.steps == 3 and len(res.history) == 3
        assert res.folder == runs_dir / "image" / f"{model}-fake16-cpu-tiny-s0"
        info = json.loads((res.folder / "config.json").read_text())
        assert info["data_hash"] == "fake" and "codebook" in info["metrics"]
        if model == "flex1d":
            assert set(info["metrics"]["psnr_per_k"]) == {"1", "2", "4", "8"}
            assert 0.0 <= info["metrics"]["monotone_frac"] <= 1.0
        back = tw.load_checkpoint(f"image/{model}-fake16-cpu-tiny-s0")
        img = sets["test"][0]
        assert np.array_equal(back.encode(img).ids, res.tokenizer.encode(img).ids)
    with pytest.raises(InvalidInput, match="choose one of"):
        train_mod.preset_config("flex1d", "huge")
