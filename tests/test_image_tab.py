"""Image tab handlers called as plain functions, with tiny untrained models saved as runs."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import tokenworks as tw
from app import image_tab
from tokenworks.image.flex1d import Flex1DConfig
from tokenworks.image.grid import GridConfig
from tokenworks.image.tokenizer import ImageTokenizer

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

TINY_FLEX = Flex1DConfig(width=64, heads=2, encoder_layers=1, decoder_layers=1, tokens=16, tokens_per_slot=2,
                         refine_channels=8, refine_features=4)
TINY_GRID = GridConfig(channels=(8, 16), code_dim=8, lookup_dim=8, codebook_size=32, groups=4)
FLEX = "run:image/tiny-flex1d"
GRID = "run:image/tiny-grid"


def save_tiny_image_runs(runs) -> None:
    """A tiny untrained flex1d and grid tokenizer saved under ``runs``, as `tokenworks train` would."""
    import torch

    torch.manual_seed(0)
    ImageTokenizer.create("flex1d", TINY_FLEX, name="image/tiny-flex1d").save(runs / "image" / "tiny-flex1d")
    ImageTokenizer.create("grid", TINY_GRID, name="image/tiny-grid").save(runs / "image" / "tiny-grid")


@pytest.fixture(scope="module", autouse=True)
def tiny_runs(tmp_path_factory):
    """Two tiny untrained tokenizers saved in a fresh runs folder, as `tokenworks train` would."""
    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOKENWORKS_RUNS", str(runs))
        save_tiny_image_runs(runs)
        yield runs


def _png(path, mode="RGB", size=(80, 60)):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
    im = Image.fromarray(a, "RGBA")
    if mode == "RGBA":
        a[: size[1] // 2, :, 3] = 0  # the top half transparent
        im = Image.fromarray(a, "RGBA")
    else:
        im = im.convert(mode)
    im.save(path)
    return path


def test_runs_are_listed_with_the_registered_ones():
    names = image_tab.image_tokenizers()
    registered = tw.available("image")
    assert names[: len(registered)] == registered
    assert FLEX in names and GRID in names
    assert {"emoji-fox.png", "photo-ladybird.png"} <= set(image_tab.sample_names())


def test_sample_through_a_1d_tokenizer():
    enc = image_tab.encode_image(None, "photo-ladybird.png", FLEX)
    assert enc.ordered and enc.ids.shape == (16,) and enc.image.shape == (64, 64, 3)
    notes = " ".join(enc.notes)
    assert "192x128 is not square" in notes and "Resized 128x128 -> 64x64" in notes
    recon, info = image_tab.reconstruct(enc)
    assert recon.shape == (64, 64, 3) and recon.dtype == np.uint8
    assert info["k"] == 16 and info["bytes"] == 20  # ceil(16 * log2(1000) / 8)
    assert np.isfinite(info["psnr"])
    status = image_tab.status_markdown(enc)
    assert "16" in status and "1,000" in status and "Resized" in status


def test_the_k_handler_gives_a_different_image_for_a_different_k():
    enc = image_tab.encode_image(None, "emoji-rocket.png", FLEX)
    one, info_1 = image_tab.on_k(enc, 1)[:2]
    all_, info_16 = image_tab.on_k(enc, 16)[:2]
    assert one.shape == all_.shape == (256, 256, 3)  # shown 4x, pixel for pixel
    assert not np.array_equal(one, all_)
    assert "**1 of 16 tokens** → **2 bytes**" in info_1 and "**16 of 16 tokens** → **20 bytes**" in info_16
    # same as decoding the prefix directly
    direct = tw.load_ref(FLEX).decode(enc.ids[:1])
    assert np.array_equal(image_tab.reconstruct(enc, 1)[0], direct)
    assert image_tab.reconstruct(enc, 99)[1]["k"] == 16  # clamped to 1..T
    assert image_tab.ids_text(enc, 2).count("|") == 1


def test_grid_tokenizer_decodes_all_tokens():
    enc = image_tab.encode_image(None, "emoji-fox.png", GRID)
    assert not enc.ordered and enc.ids.ndim == 2
    out = image_tab.on_encode(None, "emoji-fox.png", GRID)
    state, shown_in, shown_out, slider, status = out[:5]
    assert slider["interactive"] is False and slider["value"] == enc.num_tokens
    assert "grid" in status
    assert image_tab.reconstruct(enc, 3)[1]["k"] == enc.num_tokens


def test_rd_points_cover_the_tokenizer_and_three_codecs():
    enc = image_tab.encode_image(None, "photo-flower.png", FLEX)
    pts = image_tab.rd_points(enc)
    assert set(pts) == {enc.name, "jpeg", "webp", "webp-down2"}
    assert [b for b, _, _ in pts[enc.name]] == [image_tab.token_bytes(k, 1000) for k in (1, 2, 4, 8, 16)]
    assert all(b > 0 and 0 < p <= 100 for curve in pts.values() for b, p, _ in curve)


def test_on_encode_fills_every_output():
    out = image_tab.on_encode(None, "emoji-fox.png", FLEX)
    assert len(out) == image_tab.N_OUTPUTS
    enc, shown_in, shown_out, slider, status, info, ids, rows = out
    assert isinstance(enc, image_tab.Encoded) and shown_in.shape == shown_out.shape == (256, 256, 3)
    assert slider["maximum"] == 16 and slider["interactive"] is True
    assert "136x136 -> 64x64" in status and "16 of 16" in info and len(ids.split()) == 16
    assert {r[0] for r in rows} == {"image/tiny-flex1d", "jpeg", "webp", "webp-down2"}


# ---- bad input: each a clear message, never a traceback --------------------------------------

def _bad_files(tmp_path):
    trunc = _png(tmp_path / "truncated.png", size=(64, 64))
    trunc.write_bytes(trunc.read_bytes()[:400])
    huge = tmp_path / "huge.png"
    Image.new("1", (10_000, 10_000)).save(huge)
    text = tmp_path / "notes.txt"
    text.write_text("this is not an image\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    return {"truncated": (trunc, "truncated.png' could not be decoded.*truncated"),
            "huge": (huge, "'huge.png' is too large to decode safely.*the limit is 40 megapixels"),
            "text": (text, "notes.txt' is not an image"),
            "empty": (empty, "empty file")}


@pytest.mark.parametrize("which", ["truncated", "huge", "text", "empty"])
def test_unreadable_files_are_a_clear_message(tmp_path, which):
    path, match = _bad_files(tmp_path)[which]
    with pytest.raises(tw.InvalidInput, match=match):
        image_tab.encode_image(str(path), None, FLEX)
    out = image_tab.on_encode(str(path), None, FLEX)
    assert out[0] is None and out[4].startswith("⚠️ **Could not tokenize this.**")
    assert str(tmp_path) not in out[4]  # the server's temp path is not shown, only the file name
    assert "Traceback" not in out[4]


def test_odd_images_are_converted_and_say_so(tmp_path):
    one = tmp_path / "one.png"
    Image.new("RGB", (1, 1), (200, 30, 30)).save(one)
    grey = _png(tmp_path / "grey.png", "L")
    rgba = _png(tmp_path / "rgba.png", "RGBA")
    gif = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (40, 40), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    cases = {one: "only 1x1 pixels", grey: "Greyscale image \\(mode L\\) converted to RGB",
             rgba: "Transparent pixels composited on white", gif: "3 frames \\(animated\\); the first frame was used"}
    for path, match in cases.items():
        enc = image_tab.encode_image(str(path), None, FLEX)
        assert enc.image.shape == (64, 64, 3)
        status = image_tab.on_encode(str(path), None, FLEX)[4]
        import re

        assert re.search(match, status), (path.name, status)
    enc = image_tab.encode_image(str(gif), None, FLEX)
    assert tuple(enc.image[32, 32]) == (255, 0, 0)  # the first frame, red
    assert "Resized 40x40 -> 64x64 (bicubic)" in " ".join(enc.notes)


def test_missing_checkpoint_is_a_message_with_the_train_command(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKENWORKS_DATA", str(tmp_path))  # no data/checkpoints here
    monkeypatch.setattr(image_tab, "sample_names", lambda: ["emoji-fox.png"])
    tw.load_shared.cache_clear()
    try:
        with pytest.raises(tw.CheckpointNotFound, match="has not been trained yet"):
            image_tab.encode_image(None, "emoji-fox.png", "image/flex1d-emoji64")
        status = image_tab.on_encode(None, "emoji-fox.png", "image/flex1d-emoji64")[4]
        assert "has not been trained yet" in status and "    PYTHONPATH=lib python3 -m tokenworks.image.train" in status
    finally:
        tw.load_shared.cache_clear()


@pytest.mark.parametrize(
    "upload,sample,ref,match",
    [
        (None, None, FLEX, "upload an image or choose a sample"),
        (None, "nope.png", FLEX, "unknown sample 'nope.png'"),
        (None, "emoji-fox.png", "text/bytes", "text/bytes is a text tokenizer"),
        (None, "emoji-fox.png", "image/nope", "unknown tokenizer 'image/nope'"),
        (None, "emoji-fox.png", "", "choose an image tokenizer"),
        ("/no/such/upload.png", None, FLEX, "'upload.png' is gone"),
    ],
)
def test_bad_requests_are_a_clear_message(upload, sample, ref, match):
    with pytest.raises(tw.TokenworksError, match=match):
        image_tab.encode_image(upload, sample, ref)
    assert image_tab.on_encode(upload, sample, ref)[4].startswith("⚠️")


def test_the_k_handler_before_any_image():
    assert "first" in image_tab.on_k(None, 3)[1]


# ---- the views ----------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", [FLEX, GRID])
def test_views_after_an_encode(ref):
    import plotly.graph_objects as go

    enc = image_tab.encode_image(None, "emoji-fox.png", ref)
    out = image_tab.on_views(enc)
    strip, rd, grid, att, infl, token, position, code, source, msg = out
    assert msg == "" and all(isinstance(f, go.Figure) for f in (strip, rd, grid, att, infl))
    assert {t.name for t in rd.data} >= {enc.name, "jpeg", "webp", "webp-down2"}
    assert token["maximum"] == enc.num_tokens - 1 and 0 <= code["value"] < enc.vocab_size
    assert image_tab.THIS_IMAGE in source["choices"]
    att2, infl2, _ = image_tab.on_token(enc, 3)
    assert isinstance(att2, go.Figure) and "token 3" in infl2.layout.title.text
    fig, md = image_tab.on_faithfulness(enc, 3)
    assert "Spearman" in md and isinstance(fig, go.Figure)
    fig, md = image_tab.on_edit(enc, 2, (int(enc.ids.reshape(-1)[2]) + 1) % enc.vocab_size)
    assert md == "" and "Edited 1 token" in fig.layout.title.text
    for src in (image_tab.THIS_IMAGE, image_tab.NO_IMAGES):
        gallery, usage, what = image_tab.on_codebook(enc, src, 8)
        assert isinstance(gallery, go.Figure) and what


def test_views_refuse_bad_requests_with_a_message():
    enc = image_tab.encode_image(None, "emoji-fox.png", FLEX)
    assert image_tab.on_token(enc, 99)[2].startswith("⚠️") and "0..15" in image_tab.on_token(enc, 99)[2]
    assert "0..999" in image_tab.on_edit(enc, 0, 5000)[1]
    assert "count codes over one of" in image_tab.on_codebook(enc, "nope", 8)[2]
    assert image_tab.on_views(None)[-1] == ""
    assert "tokenize an image first" in image_tab.on_edit(None, 0, 1)[1]


def test_the_app_has_the_image_tab_and_its_api_names():
    from app.main import build_app

    demo = build_app()
    names = {d.get("api_name") for d in demo.config["dependencies"]}
    assert {"image_upload", "image_sample", "image_tokenize", "image_k", "image_codebook", "image_edit"} <= names
    tabs = [b for b in demo.blocks.values() if type(b).__name__ == "Tab"]
    labels = [t.label for t in tabs]
    assert labels[0] == "Text" and "Image" in labels and "Library" in labels


# ---- refined encoding -----------------------------------------------------------------------------

def test_refined_encoder_finds_ids_that_decode_closer_and_the_views_use_them():
    """The shipped model: the refined ids' strip beats the one-pass strip, and the status says by how much."""
    enc1 = image_tab.encode_image(None, "emoji-fox.png", "image/flex1d-emoji64")
    enc2 = image_tab.encode_image(None, "emoji-fox.png", "image/flex1d-emoji64", image_tab.REFINED)
    assert enc1.encoder == image_tab.ONE_PASS and "refined" not in enc1.meta
    assert enc2.encoder == image_tab.REFINED and enc2.ids.shape == enc1.ids.shape
    r = enc2.meta["refined"]
    assert r["steps"] == image_tab.REFINE_STEPS and r["mode"] == "strip"
    assert np.mean(r["psnr_refined"]) > np.mean(r["psnr_one_pass"])
    _, info1 = image_tab.reconstruct(enc1)
    _, info2 = image_tab.reconstruct(enc2)
    assert info2["psnr"] > info1["psnr"] and info2["bytes"] == info1["bytes"]
    status = image_tab.status_markdown(enc2)
    assert "Refined encoding" in status and f"{image_tab.REFINE_STEPS} steps" in status
    from tokenworks.image import inspect as ins

    tok = image_tab.load_image_tokenizer(enc2.ref)
    strip = ins.prefix_strip(tok, enc2.image, ids=enc2.ids)  # what prefix_views draws: the refined ids
    assert np.array_equal(strip.ids, enc2.ids) and abs(strip.psnr[-1] - info2["psnr"]) < 0.01
    assert strip.psnr[-1] > ins.prefix_strip(tok, enc2.image).psnr[-1]  # a fresh encode is the one-pass one
    rows = image_tab.rd_points(enc2)[enc2.name]
    assert abs(rows[-1][1] - info2["psnr"]) < 0.01
    assert image_tab.export_tokens(enc2).jsons["tokens"]["encoder"] == image_tab.REFINED


def test_a_bad_encoder_choice_is_a_message():
    with pytest.raises(tw.errors.InvalidInput, match="the encoder must be one of 'one pass', 'refined'"):
        image_tab.encode_image(None, "emoji-fox.png", FLEX, "fastest")
    assert image_tab.on_encode(None, "emoji-fox.png", FLEX, "fastest")[4].startswith("⚠️")
    enc = image_tab.encode_image(None, "emoji-fox.png", GRID, image_tab.REFINED)  # grids refine their whole grid
    assert enc.meta["refined"]["mode"] == "grid"
