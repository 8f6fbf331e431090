"""Real-photo sources: the near-duplicate detector, de-duplication, and the held-out split."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tokenworks.errors import AssetMissing
from tokenworks.image import photo_sources as ps
from tokenworks.image.near_duplicates import (
    NEAR_BITS,
    group_near_duplicates,
    hamming,
    perceptual_hash,
)


def _picture(seed: int, h: int = 480, w: int = 720) -> np.ndarray:
    """(h, w, 3) uint8: a smooth random scene (a few blobs and gradients) plus fine texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)  # (h, w) each
    img = np.zeros((h, w, 3))
    for _ in range(6):  # blobs of colour
        cy, cx, r = rng.uniform(0, 1, 3) * [h / max(h, w), w / max(h, w), 0.4]
        img += rng.uniform(-120, 120, 3) * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (r * r + 0.01))[..., None]
    img += rng.uniform(-60, 60, 3) * x[..., None] + rng.uniform(-60, 60, 3) * y[..., None]
    img += rng.normal(0, 6, (h, w, 3))  # sensor-like noise
    return np.clip(img + 128, 0, 255).astype(np.uint8)


def _resized_jpeg(img: np.ndarray, w: int, h: int, quality: int = 60) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).resize((w, h), Image.Resampling.BILINEAR).save(buf, "JPEG", quality=quality)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        return np.asarray(im.convert("RGB"))


# --------------------------------------------------------------------------------------------
# The detector (generated pictures, no assets)
# --------------------------------------------------------------------------------------------


def test_resized_recompressed_copy_is_a_near_duplicate():
    a = _picture(1)
    copy = _resized_jpeg(a, 300, 200)  # another resolution, another aspect ratio, JPEG q60
    darker = np.clip(a.astype(int) * 0.7, 0, 255).astype(np.uint8)  # a colour variant
    h = perceptual_hash(a)
    assert hamming(h, perceptual_hash(copy)) <= NEAR_BITS
    assert hamming(h, perceptual_hash(darker)) <= NEAR_BITS
    assert hamming(h, perceptual_hash(Image.fromarray(a))) == 0  # PIL image or array alike
    assert group_near_duplicates([h, perceptual_hash(copy), perceptual_hash(darker)]) == [[0, 1, 2]]


def test_different_pictures_are_kept_apart():
    hashes = [perceptual_hash(_picture(s)) for s in range(8)]
    for i in range(8):
        for j in range(i + 1, 8):
            assert hamming(hashes[i], hashes[j]) > NEAR_BITS, (i, j)
    assert group_near_duplicates(hashes) == [[i] for i in range(8)]


def test_groups_chain_and_depend_only_on_order():
    # 0 ~ 1 and 1 ~ 2 but not 0 ~ 2: one group all the same (union-find)
    h0 = 0
    h1 = (1 << NEAR_BITS) - 1  # NEAR_BITS bits set
    h2 = h1 | (((1 << NEAR_BITS) - 1) << NEAR_BITS)  # NEAR_BITS more
    assert hamming(h0, h2) > NEAR_BITS
    assert group_near_duplicates([h0, h1, h2]) == [[0, 1, 2]]
    assert group_near_duplicates([h2, 12345678901234, h0]) == [[0], [1], [2]]


def _source(name: str, img: np.ndarray, package: str, group: str | None = None) -> ps.RealSource:
    import hashlib

    return ps.RealSource(name, Path(f"/nonexistent/{name}"), image=img, package=package,
                         asset=package, licence="CC0-1.0", group=group or name,
                         size=(img.shape[1], img.shape[0]), phash=perceptual_hash(img),
                         digest=hashlib.sha256(img.tobytes()).hexdigest())


def test_deduplicate_keeps_the_largest_and_records_the_copies():
    a, b = _picture(10), _picture(11)
    small = _resized_jpeg(a, 360, 240)
    srcs = [_source("pkg-b/a-small", small, "pkg-b"), _source("pkg-a/a", a, "pkg-a"),
            _source("pkg-a/b", b, "pkg-a"), _source("pkg-c/b-exact", b.copy(), "pkg-c")]
    kept = ps.deduplicate(srcs)
    assert [s.name for s in kept] == ["pkg-a/a", "pkg-a/b"]
    assert [c.name for c in kept[0].copies] == ["pkg-b/a-small"]
    assert [c.name for c in kept[1].copies] == ["pkg-c/b-exact"]  # exact copy, same size: name order


# --------------------------------------------------------------------------------------------
# The held-out split (fake sources, no assets)
# --------------------------------------------------------------------------------------------


def test_split_holds_out_whole_packages_videos_pictures_and_their_copies(monkeypatch):
    monkeypatch.setattr(ps, "TEST_PACKAGES", ("pkg-held",))
    monkeypatch.setattr(ps, "TEST_VIDEOS", ("pkg-v/clip.avi",))
    monkeypatch.setattr(ps, "TEST_PICTURES", ("pkg-a/p3",))
    pics = [_picture(20 + i, 96, 128) for i in range(9)]
    srcs = [
        _source("pkg-a/p1", pics[0], "pkg-a"), _source("pkg-a/p2", pics[1], "pkg-a"),
        _source("pkg-a/p3", pics[2], "pkg-a"),  # a held-out picture
        _source("pkg-held/p4", pics[3], "pkg-held"), _source("pkg-held/p5", pics[4], "pkg-held"),
        _source("pkg-v/clip.avi#00000", pics[5], "pkg-v", "pkg-v/clip.avi"),  # a held-out video
        _source("pkg-v/clip.avi#00030", pics[6], "pkg-v", "pkg-v/clip.avi"),
        _source("pkg-v/other.avi#00000", pics[7], "pkg-v", "pkg-v/other.avi"),
        # a bigger copy of a held-out package's picture, in a training package: the group
        # keeps it, and must still go to test
        _source("pkg-b/p5-big", np.asarray(Image.fromarray(pics[4]).resize((256, 192))), "pkg-b"),
    ]
    kept = ps.deduplicate(srcs)
    assert "pkg-held/p5" not in {s.name for s in kept}  # merged into pkg-b/p5-big
    train, test = ps.split_sources(kept)
    tr, te = {s.name for s in train}, {s.name for s in test}
    assert tr == {"pkg-a/p1", "pkg-a/p2", "pkg-v/other.avi#00000"}
    assert te == {"pkg-a/p3", "pkg-held/p4", "pkg-b/p5-big", "pkg-v/clip.avi#00000",
                  "pkg-v/clip.avi#00030"}
    # disjoint by source, and no member of a training source is from a held-out package/video
    assert not tr & te
    members = [m for s in train for m in s.members]
    assert not {m.package for m in members} & {"pkg-held"}
    assert not {m.group for m in members} & {"pkg-v/clip.avi"}


def test_held_out_lists_name_real_sources():
    assert ps.TEST_PACKAGES and ps.TEST_VIDEOS  # at least one whole package and one video
    packages = {p.package for p in ps.PACKAGES}
    assert set(ps.TEST_PACKAGES) <= packages
    for v in ps.TEST_VIDEOS:
        pkg, video = v.split("/", 1)
        assert any(p.package == pkg and any(Path(x).name in (video, video + ".gz") for x in p.videos)
                   for p in ps.PACKAGES), v
    listed = {f"{p.package}/{Path(x).stem}" for p in ps.PACKAGES for x in p.pictures}
    assert set(ps.TEST_PICTURES) <= listed
    # the photo data sets' held-out photographs stay held out here
    assert {"plasma-workspace-wallpapers/BytheWater", "mate-backgrounds/LadyBird"} <= set(ps.TEST_PICTURES)
    for p in ps.PACKAGES:  # every picture has a licence from its package's copyright file
        for x in p.pictures:
            assert p.licences.get(Path(x).name, p.licences.get("*")), (p.package, x)


def test_no_scikit_sample_images_anywhere():
    root = Path(ps.__file__).parent
    for f in [*root.glob("*.py"), Path(ps.__file__).parents[1] / "assets" / "catalog.py"]:
        text = f.read_text("utf-8")
        for banned in ("skimage.data", "load_sample_image", "sklearn.datasets"):
            assert banned not in text, (f.name, banned)


# --------------------------------------------------------------------------------------------
# The real assets (skip when absent)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def found():
    try:
        return ps.real_sources()
    except AssetMissing as e:
        pytest.skip(f"asset missing: {e}")


def test_real_sources_are_named_licensed_and_distinct(found):
    names = [s.name for s in found.sources]
    assert len(names) == len(set(names)) >= 60
    packages = {p.package for p in ps.PACKAGES}
    for s in found.sources:
        assert s.name.split("/", 1)[0] == s.package in packages and s.licence
        assert min(s.size) >= 171  # 128-pixel crops fit inside 3/4 of the short side
    kept = [s.phash for s in found.sources]
    for i in range(len(kept)):  # no two kept sources are near-duplicates
        for j in range(i + 1, len(kept)):
            assert hamming(kept[i], kept[j]) > NEAR_BITS, (names[i], names[j])
    counts = found.counts()
    assert counts["opencv-doc/vtest.avi"][0] > counts["opencv-doc/vtest.avi"][1] >= 1


def test_real_split_is_disjoint_by_source_and_package(found):
    train, test = ps.split_sources(found.sources)
    assert len(train) > 4 * len(test) > 0
    assert not {s.name for s in train} & {s.name for s in test}
    train_members = [m for s in train for m in s.members]
    assert not {m.package for m in train_members} & set(ps.TEST_PACKAGES)
    assert not {m.group for m in train_members} & set(ps.TEST_VIDEOS)
    test_members = {m.name for s in test for m in s.members}
    assert set(ps.TEST_PICTURES) <= test_members
    assert {m.package for s in test for m in s.members} >= set(ps.TEST_PACKAGES)


@pytest.mark.slow
def test_realphoto_data_sets_hold_out_by_source_and_package():
    from tokenworks.image.data import load_dataset

    try:  # builds both sizes on first use (about 3 minutes on 2 cores), then cached
        train, test = load_dataset("realphoto64", "train"), load_dataset("realphoto64", "test")
        big = load_dataset("realphoto128", "test", limit=20)
    except AssetMissing as e:
        pytest.skip(f"asset missing: {e}")
    assert train.images.shape[1:] == (64, 64, 3) and big.images.shape[1:] == (128, 128, 3)
    assert big.names == test.names[:20]  # the same boxes at both sizes
    assert not set(train.sources) & set(test.sources)
    assert not {s.split("/")[0] for s in train.sources} & set(ps.TEST_PACKAGES)
    assert not any(s.split("#")[0] in ps.TEST_VIDEOS for s in train.sources)
    seen = {im.tobytes() for im in train.images}
    assert not any(im.tobytes() in seen for im in test.images)
