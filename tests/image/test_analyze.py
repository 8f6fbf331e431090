"""tokenworks.image.inspect.analyze / reconstruct: one image through one tokenizer, computed once for
every view (the Image tab and notebook 04), with tiny untrained tokenizers."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from tokenworks.errors import InvalidInput
from tokenworks.image import inspect as ins
from tokenworks.image._io import PreparedImage, to_rgb_array
from tokenworks.image.flex1d import bytes_for_tokens
from tokenworks.metrics.image import PSNR_CAP_DB, psnr


@pytest.fixture(scope="module")
def flex(tiny_image_tokenizer):
    return tiny_image_tokenizer("flex1d")


@pytest.fixture(scope="module")
def grid(tiny_image_tokenizer):
    return tiny_image_tokenizer("grid")


def _picture(w: int = 64, h: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth (h, w, 3) uint8 picture: gradients with a disc."""
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    disc = ((x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.08).astype(float)
    rng = np.random.default_rng(seed)
    rgb = np.stack([x, y, disc], -1) * 200 + rng.integers(0, 30, (h, w, 3))
    return rgb.clip(0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def analysed(flex):
    return ins.analyze(flex, _picture())


def test_the_analysis_holds_every_views_numbers(flex, analysed):
    a = analysed
    assert a.tokenizer == flex.name == "image/tiny-flex1d"
    assert a.ids.shape == (16,) and a.ids.dtype.kind in "iu" and a.ordered and a.num_tokens == 16
    assert a.image.shape == (64, 64, 3) and a.image.dtype == np.uint8 and a.vocab_size == flex.vocab_size == 1000
    assert np.array_equal(a.ids, np.asarray(flex.encode(_picture()).ids))  # the one-pass ids
    assert a.notes == [] and a.meta["original_size"] == (64, 64) and a.meta["ordered"] is True
    assert "refined" not in a.meta
    s = a.strip  # prefixes 1, 2, 4, ..., T decoded once
    assert s.ks == [1, 2, 4, 8, 16] and s.images.shape == (5, 64, 64, 3) and np.array_equal(s.ids, a.ids)
    assert s.nbytes == [bytes_for_tokens(k, 1000) for k in s.ks] and np.array_equal(s.original, a.image)
    assert set(a.codecs) == set(ins.RD_CODECS)
    for codec, curve in a.codecs.items():
        assert curve.count == ins.RD_COUNT and list(curve.qualities) == list(ins.RD_CODECS[codec])
        assert curve.nbytes.shape == (1, len(ins.RD_CODECS[codec]))
    assert set(a.seconds) == {"encode", "decode", "codecs"} and all(t >= 0 for t in a.seconds.values())
    pts = a.rd_points()
    assert list(pts) == [a.tokenizer, *ins.RD_CODECS]
    assert [(p.label, p.nbytes) for p in pts[a.tokenizer]] == [(f"k={k}", b) for k, b in zip(s.ks, s.nbytes)]
    assert [p.label for p in pts["jpeg"]] == [f"q={q}" for q in ins.RD_CODECS["jpeg"]]
    assert all(p.nbytes > 0 and 0 < p.psnr <= PSNR_CAP_DB for curve in pts.values() for p in curve)


def test_codecs_can_be_chosen(flex):
    a = ins.analyze(flex, _picture(), codecs={"jpeg": (50,)})
    assert list(a.codecs) == ["jpeg"] and list(a.rd_points()) == [a.tokenizer, "jpeg"]
    assert ins.analyze(flex, _picture(), codecs={}).codecs == {}


def test_reconstruct_reuses_the_strip_for_a_k_on_it(flex, analysed, monkeypatch):
    calls = []
    decode = type(flex).decode
    def counted(self, *args, **kwargs):
        calls.append(kwargs.get("keep"))
        return decode(self, *args, **kwargs)

    monkeypatch.setattr(type(flex), "decode", counted)
    for i, k in enumerate(analysed.strip.ks):
        r = ins.reconstruct(flex, analysed, k)
        assert np.shares_memory(r.image, analysed.strip.images[i]) and r.k == k
    assert calls == []  # every k on the strip: nothing decoded again
    r = ins.reconstruct(flex, analysed, 3)  # off the strip: one decode of the first 3 tokens
    assert calls == [3] and np.array_equal(r.image, decode(flex, analysed.ids[:3]))


def test_a_reconstructions_size_and_quality(flex, analysed):
    for k in (1, 3, 16):
        r = ins.reconstruct(flex, analysed, k)
        assert (r.k, r.num_tokens, r.vocab_size) == (k, 16, 1000)
        assert r.nbytes == bytes_for_tokens(k, 1000) == math.ceil(k * math.log2(1000) / 8)
        assert r.bits == round(k * math.log2(1000), 1)
        assert r.psnr == pytest.approx(float(psnr(analysed.image, r.image)))
        assert r.image.shape == (64, 64, 3) and r.image.dtype == np.uint8
    assert ins.reconstruct(flex, analysed).k == 16  # None: all tokens


@pytest.mark.parametrize("k, kept", [(0, 1), (-5, 1), (99, 16), (2.6, 3), ("7", 7), (" 4.0 ", 4), (16, 16)])
def test_k_is_kept_within_1_to_T(flex, analysed, k, kept):
    assert ins.reconstruct(flex, analysed, k).k == kept


@pytest.mark.parametrize("k", ["lots", float("nan"), float("inf"), [3]])
def test_a_k_that_is_no_number_is_refused(flex, analysed, k):
    with pytest.raises(InvalidInput, match="k must be a number of tokens in 1..16"):
        ins.reconstruct(flex, analysed, k)


def test_a_grid_always_decodes_all_its_tokens(grid):
    a = ins.analyze(grid, _picture())
    T = a.num_tokens
    assert not a.ordered and a.ids.ndim == 2 and T == a.ids.size
    assert a.strip.ks == [T] and a.strip.images.shape[0] == 1
    assert [p.label for p in a.rd_points()[a.tokenizer]] == [f"k={T}"]
    for k in (None, 1, 3, "lots", T + 5):
        r = ins.reconstruct(grid, a, k)
        assert r.k == T and np.shares_memory(r.image, a.strip.images)
    assert r.nbytes == bytes_for_tokens(T, a.vocab_size)


def test_notes_say_what_was_done_to_a_non_square_input(flex):
    a = ins.analyze(flex, _picture(96, 64), codecs={})
    assert a.image.shape == (64, 64, 3)
    assert a.notes == ["96x64 is not square: the centred 64x64 square was kept."]
    assert a.meta["original_size"] == (96, 64) and a.meta["crop_box"] == (16, 0, 80, 64)
    b = ins.analyze(flex, _picture(150, 100), codecs={})
    assert b.notes[0] == "150x100 is not square: the centred 100x100 square was kept."
    assert b.notes[1].startswith("Resized 100x100 -> 64x64") and b.notes[1].endswith("to the tokenizer's image size.")
    tiny = ins.analyze(flex, _picture(8, 8), codecs={})
    assert "The image is only 8x8 pixels: scaled up to 64x64" in " ".join(tiny.notes)


def test_prepared_image_notes_name_each_conversion():
    grey = to_rgb_array(Image.new("L", (64, 64), 100), 64)
    assert grey.notes() == ["Greyscale image (mode L) converted to RGB."]
    assert to_rgb_array(np.full((64, 64), 100, np.uint8), 64).notes() == ["Converted L -> RGB."]  # an array
    rgba = np.full((64, 64, 4), 200, np.uint8)
    rgba[:10, :, 3] = 0
    assert to_rgb_array(Image.fromarray(rgba, "RGBA"), 64).notes() == ["Transparent pixels composited on white."]
    rgba[:, :, 3] = 255
    assert to_rgb_array(Image.fromarray(rgba, "RGBA"), 64).notes() == [
        "RGBA image: its alpha channel is fully opaque and was dropped."]
    palette = Image.new("P", (64, 64))
    assert to_rgb_array(palette, 64).notes() == ["Palette image converted to RGB."]
    assert to_rgb_array(_picture(), 64).notes() == []
    assert PreparedImage(np.zeros((32, 32, 3), np.uint8)).notes() == []  # no meta: nothing to say


def test_an_image_over_max_pixels_is_refused_before_it_is_decoded(flex, tmp_path):
    big = tmp_path / "big.png"
    Image.fromarray(_picture(200, 100)).save(big)
    with pytest.raises(InvalidInput, match="200x100 = 0.0 megapixels, above the limit of 0.01 megapixels"):
        ins.analyze(flex, str(big), max_pixels=10_000)
    with pytest.raises(InvalidInput, match="above the limit"):
        ins.analyze(flex, _picture(200, 100), max_pixels=10_000)  # an array too
    assert ins.analyze(flex, str(big), max_pixels=20_000, codecs={}).meta["original_size"] == (200, 100)


def test_a_refined_analysis_keeps_its_ids_on_the_strip(flex):
    from tokenworks.image.refine import RefineConfig

    a = ins.analyze(flex, _picture(), RefineConfig(steps=3), codecs={})
    r = a.meta["refined"]
    assert r["steps"] == 3 and r["mode"] == "strip" and r["ks"] == a.strip.ks
    assert np.array_equal(a.strip.ids, a.ids)  # the strip decodes the refined ids, not a fresh encode
    assert a.strip.psnr[-1] == pytest.approx(ins.reconstruct(flex, a).psnr, abs=0.01)


def test_analyze_refuses_what_is_not_an_image_tokenizer():
    import tokenworks as tw

    with pytest.raises(InvalidInput):
        ins.analyze(tw.load("text/bytes"), _picture())
