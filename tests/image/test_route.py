"""The router (tokenworks.image.route): emoji-like pictures go to a tokenizer trained on emoji,
photo-like ones to one trained on photos, with the reason in words; its profiles are what the
project's own train splits give, and it is right on their held-out test splits."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.image import data, route as R
from tokenworks.paths import data_dir

SAMPLES = data_dir() / "samples" / "images"


def emoji_like(seed: int = 0) -> Image.Image:
    """A face drawn with flat colours and outlines on a transparent background, as emoji are."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((24, 24, 232, 232), fill=tuple(int(c) for c in rng.integers(40, 230, 3)) + (255,),
              outline=(60, 40, 20, 255), width=8)
    d.ellipse((80, 90, 110, 130), fill=(40, 30, 20, 255))
    d.ellipse((146, 90, 176, 130), fill=(40, 30, 20, 255))
    d.arc((70, 110, 186, 200), 20, 160, fill=(40, 30, 20, 255), width=10)
    return im


def photo_like(seed: int = 0, size: int = 256) -> np.ndarray:
    """(size, size, 3) uint8: colour noise smoothed at several scales, with grain: no flat pixel."""
    rng = np.random.default_rng(seed)
    out = np.zeros((size, size, 3))
    for scale in (64, 16, 4, 1):
        n = rng.normal(size=(size // scale + 1, size // scale + 1, 3)).astype(np.float32)
        out += np.stack([np.asarray(Image.fromarray(n[..., c]).resize((size, size), Image.BICUBIC))
                         for c in range(3)], -1) * scale ** 0.5
    out = (out - out.mean()) / out.std() * 40 + rng.integers(60, 190, 3)
    return np.clip(out, 0, 255).astype(np.uint8)


def _load(name, split):
    try:
        return data.load_dataset(name, split)
    except AssetMissing as e:
        pytest.skip(f"asset missing: {e}")


@pytest.fixture
def tiny_runs(runs_dir, tiny_image_tokenizer):
    """Tiny untrained tokenizers saved as runs, each recording a training set in its config.json."""
    def save(name, kind, dataset):
        extra = {"data": {"name": dataset}} if dataset else None
        tiny_image_tokenizer(kind, name=f"image/{name}").save(runs_dir / "image" / name, extra=extra)
        return f"run:image/{name}"

    return {"emoji": save("on-emoji", "flex1d", "emoji64"), "photo": save("on-photo", "flex1d", "photo64"),
            "photo-grid": save("on-photo-grid", "grid", "photo32"), "mnist": save("on-mnist", "flex1d", "mnist28"),
            "unknown": save("on-nothing", "flex1d", None)}


# ---- the cues and the kind ------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_emoji_like_and_photo_like_arrays_are_told_apart(seed):
    e, p = R.cues(emoji_like(seed)), R.cues(photo_like(seed))
    assert R.classify(e.vector())[0] == "emoji" and R.classify(p.vector())[0] == "photo"
    assert e.alpha == "used" and p.alpha == "none"
    assert e.white > 0.2 and e.flat > 0.4 and p.flat < 0.05 and p.colours > 3000 and e.colours < p.colours
    assert R.PROFILES["emoji"].distance(e.vector()) < R.PROFILES["emoji"].near
    assert R.PROFILES["photo"].distance(p.vector()) < R.PROFILES["photo"].near


def test_cues_are_measured_as_a_tokenizer_sees_the_picture():
    c = R.cues(photo_like(0, size=300)[:, :200])  # not square: the centred square, resized to 64
    assert c.pixels == R.ROUTE_SIZE ** 2 and c.original_size == (200, 300) and 1 <= c.colours <= c.pixels
    flat = R.cues(np.full((40, 40, 3), 255, np.uint8))
    assert (flat.colours, flat.flat, flat.edge, flat.white, flat.texture) == (1, 1.0, 0.0, 1.0, 0.0)
    rgba = np.dstack([photo_like(1, 64), np.full((64, 64), 255, np.uint8)])
    assert R.cues(rgba).alpha == "unused"  # an alpha channel that hides nothing
    assert np.isfinite(flat.vector()).all() and flat.vector().shape == (6,)


def test_the_samples_go_to_their_kind():
    kinds = {name: R.classify(R.cues(SAMPLES / name).vector())[0] for name in
             ("emoji-fox.png", "emoji-rocket.png", "photo-flower.png", "photo-ladybird.png")}
    assert kinds == {"emoji-fox.png": "emoji", "emoji-rocket.png": "emoji", "photo-flower.png": "photo",
                     "photo-ladybird.png": "photo"}


def test_a_jpeg_of_an_emoji_is_still_an_emoji():
    buf = io.BytesIO()
    Image.open(SAMPLES / "emoji-fox.png").convert("RGB").save(buf, "JPEG", quality=40)
    assert R.classify(R.cues(buf.getvalue()).vector())[0] == "emoji"


# ---- choosing among the tokenizers on offer ------------------------------------------------------------

def test_route_picks_the_tokenizer_trained_on_that_kind(tiny_runs):
    refs = list(tiny_runs.values())
    photo = R.route(photo_like(0), refs)
    assert photo.tokenizer == tiny_runs["photo"] and photo.kind == "photo" and photo.far is None
    assert photo.reason.startswith("photo: ") and photo.reason.endswith(f"-> {tiny_runs['photo']}")
    assert "colours distinct" in photo.reason and "flat pixels" in photo.reason and "alpha none" in photo.reason
    emoji = R.route(emoji_like(0), refs)
    assert emoji.tokenizer == tiny_runs["emoji"] and emoji.kind == "emoji" and "alpha used" in emoji.reason
    assert emoji.distances["emoji"] < emoji.distances["photo"]
    assert {c.ref: c.kind for c in photo.candidates} == {tiny_runs["emoji"]: "emoji", tiny_runs["photo"]: "photo",
                                                         tiny_runs["photo-grid"]: "photo", tiny_runs["mnist"]: "mnist"}


def test_an_ordered_tokenizer_comes_before_a_grid_and_a_grid_serves_when_alone(tiny_runs):
    assert R.route(photo_like(0), [tiny_runs["photo-grid"], tiny_runs["photo"]]).tokenizer == tiny_runs["photo"]
    assert R.route(photo_like(0), [tiny_runs["photo-grid"]]).tokenizer == tiny_runs["photo-grid"]


def test_without_a_tokenizer_of_its_kind_the_nearest_kind_serves_and_says_so(tiny_runs):
    r = R.route(photo_like(0), [tiny_runs["emoji"], tiny_runs["mnist"]])
    assert r.kind == "photo" and r.tokenizer == tiny_runs["emoji"]
    assert "no tokenizer here was trained on photos" in r.reason


def test_no_known_training_set_chooses_nothing(tiny_runs):
    r = R.route(photo_like(0), [tiny_runs["unknown"], tiny_runs["mnist"], "run:image/absent", "image/nope"])
    assert r.tokenizer is None and r.kind == "photo" and "none was chosen" in r.reason


def test_the_training_set_is_read_from_the_config_without_weights(tiny_runs, runs_dir):
    assert R.training_data(tiny_runs["photo-grid"]) == "photo32" and R.training_data(tiny_runs["unknown"]) is None
    (runs_dir / "image" / "on-photo" / "model.safetensors").unlink()  # config.json alone says what it was trained on
    assert R.training_data(tiny_runs["photo"]) == "photo64"
    assert R.candidate(tiny_runs["photo"]) is None  # but a tokenizer without its weights is never chosen
    assert R.route(photo_like(0), list(tiny_runs.values())).tokenizer == tiny_runs["photo-grid"]
    cfg = json.loads((runs_dir / "image" / "on-emoji" / "config.json").read_text())
    assert cfg["data"] == {"name": "emoji64"}


def test_far_from_every_training_set_is_noted(tiny_runs):
    flat = np.zeros((64, 64, 3), np.uint8)
    flat[:] = (30, 90, 200)
    flat[20:44, 20:44] = (250, 200, 0)  # two flat colours, no white: like neither emoji nor photos
    r = R.route(flat, [tiny_runs["emoji"], tiny_runs["photo"]])
    assert r.far is not None and "far from what every tokenizer here was trained on" in r.far
    assert all(r.distances[k] > R.PROFILES[k].near for k in ("emoji", "photo"))
    assert R.route(SAMPLES / "photo-flower.png", [tiny_runs["photo"]]).far is None


def test_a_file_that_is_not_an_image_is_refused(tmp_path, tiny_runs):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(InvalidInput, match="not an image"):
        R.route(bad, list(tiny_runs.values()))


def test_the_shipped_tokenizers_split_by_kind():
    """The registered tokenizers whose checkpoints are here: emoji to the emoji model, photos to the photo one."""
    import tokenworks as tw

    refs = tw.available("image")
    by_kind = {c.kind for c in filter(None, map(R.candidate, refs))}
    if by_kind != {"emoji", "photo"}:
        pytest.skip("the shipped image checkpoints are not all here")
    assert R.route(SAMPLES / "photo-flower.png", refs).tokenizer == "image/flex1d-photo64"
    assert R.route(SAMPLES / "emoji-fox.png", refs).tokenizer == "image/flex1d-emoji64"


# ---- measured on the project's own data ------------------------------------------------------------------

def test_the_profiles_are_what_the_train_splits_give():
    _load("emoji64", "train"), _load("photo64", "train")
    fitted = R.fit_profiles("train")
    for kind, p in R.PROFILES.items():
        assert fitted[kind].fitted_on == p.fitted_on
        np.testing.assert_allclose(fitted[kind].mean, p.mean, atol=2e-3)
        np.testing.assert_allclose(fitted[kind].cov, p.cov, atol=2e-3)
        assert fitted[kind].near == pytest.approx(p.near, abs=0.01)


def test_held_out_test_splits_are_classified_right():
    """The accuracy the docstring of tokenworks.image.route reports: 100% of emoji64 test, 99.6% of photo64 test."""
    _load("emoji64", "test"), _load("photo64", "test")
    acc = R.accuracy("test")
    assert acc.total == {"emoji": 382, "photo": 500}
    assert acc.correct["emoji"] / acc.total["emoji"] >= 0.99 and acc.correct["photo"] / acc.total["photo"] >= 0.99
    assert acc.overall >= 0.99 and "in all" in acc.words()
    assert acc.far["emoji"] <= 0.05 and acc.far["photo"] <= 0.10  # most held-out pictures are near their set


def test_other_data_sets_are_far_from_both():
    shapes = data.load_dataset("shapes64", "test", limit=64)  # synthetic: needs no assets
    v = R._vectors(R.raw_cues(shapes.images))
    assert all((p.distance(v) > p.near).all() for p in R.PROFILES.values())
