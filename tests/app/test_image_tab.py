"""Image tab handlers called as plain functions, with tiny untrained models saved as runs.

``image_input`` reads and analyses once (the analysis stays in the session cache, the page's state
holds an ``ImageState``), ``image_tab`` formats an encode and the k slider, ``image_views`` the views
under it; handlers return ``{component: value}`` dicts, read here by name (``ImageUI.named()``)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

import tokenworks as tw
from app import image_input, image_tab, image_views
from app.image_input import ImageState, analyze_input, view_of
from app.image_tab import ImageUI
from app.image_views import ViewsUI
from app.session_cache import CACHE, SessionCache
from tokenworks.image import inspect as ins
from tokenworks.metrics.rate import token_bytes

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

FLEX = "run:image/tiny-flex1d"
GRID = "run:image/tiny-grid"
UI = ImageUI.named()
VIEWS = ViewsUI.named()


@pytest.fixture(scope="module", autouse=True)
def tiny_runs(tmp_path_factory, save_tiny_image_runs):
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


def _tok(view):
    return image_input.load_image_tokenizer(view.state.ref)


def test_runs_are_listed_with_the_registered_ones():
    names = image_input.image_tokenizers()
    registered = tw.available("image")
    assert names[: len(registered)] == registered
    assert FLEX in names and GRID in names
    assert {"emoji-fox.png", "photo-ladybird.png"} <= set(image_input.sample_names())


def test_sample_through_a_1d_tokenizer():
    view = analyze_input(None, "photo-ladybird.png", FLEX)
    a = view.analysis
    assert a.ordered and a.ids.shape == (16,) and a.image.shape == (64, 64, 3)
    notes = " ".join(a.notes)
    assert "192x128 is not square" in notes and "Resized 128x128 -> 64x64" in notes
    r = ins.reconstruct(_tok(view), a)
    assert r.image.shape == (64, 64, 3) and r.image.dtype == np.uint8
    assert r.k == 16 and r.nbytes == 20  # ceil(16 * log2(1000) / 8)
    assert np.isfinite(r.psnr)
    status = image_tab.status_markdown(view)
    assert "16" in status and "1,000" in status and "Resized" in status
    assert view.state == ImageState(view.state.key, FLEX, "sample 'photo-ladybird.png'", view.state.path,
                                    image_input.ONE_PASS, 16, True)  # the settings, and a key into the cache
    assert CACHE.get(view.state.key) is a


def test_the_k_handler_gives_a_different_image_for_a_different_k():
    view = analyze_input(None, "emoji-rocket.png", FLEX)
    one, info_1, ids_1 = image_tab.on_k(view.state, 1)
    all_, info_16, _ = image_tab.on_k(view.state, 16)
    assert one.shape == all_.shape == (256, 256, 3)  # shown 4x, pixel for pixel
    assert not np.array_equal(one, all_)
    assert "**1 of 16 tokens** → **2 bytes**" in info_1 and "**16 of 16 tokens** → **20 bytes**" in info_16
    assert ids_1.count("|") == 1 and len(ids_1.split("|")[0].split()) == 1
    # same as decoding the prefix directly, on the strip (k = 1) and off it (k = 3)
    tok, a = _tok(view), view.analysis
    for k in (1, 3):
        direct = tw.load_ref(FLEX).decode(a.ids[:k])
        assert np.array_equal(ins.reconstruct(tok, a, k).image, direct), k
    assert ins.reconstruct(tok, a, 99).k == 16  # clamped to 1..T
    assert image_tab.ids_text(a, 2).count("|") == 1
    assert "k must be a number of tokens" in image_tab.on_k(view.state, "lots")[1]  # a message, not an error


def test_grid_tokenizer_decodes_all_tokens():
    view = analyze_input(None, "emoji-fox.png", GRID)
    a = view.analysis
    assert not a.ordered and a.ids.ndim == 2 and not view.state.ordered
    out = image_tab.on_encode(UI, None, "emoji-fox.png", GRID)
    slider, status = out["k"], out["status"]
    assert slider["interactive"] is False and slider["value"] == a.num_tokens
    assert "grid" in status
    assert ins.reconstruct(_tok(view), a, 3).k == a.num_tokens
    assert image_tab.ids_text(a).count("\n") == a.ids.shape[0] - 1  # a row per grid row


def test_rd_points_cover_the_tokenizer_and_three_codecs():
    view = analyze_input(None, "photo-flower.png", FLEX)
    a = view.analysis
    pts = a.rd_points()
    assert set(pts) == {a.tokenizer, "jpeg", "webp", "webp-down2"}
    assert [p.nbytes for p in pts[a.tokenizer]] == [token_bytes(k, 1000) for k in (1, 2, 4, 8, 16)]
    assert all(p.nbytes > 0 and 0 < p.psnr <= 100 for curve in pts.values() for p in curve)
    rows = image_tab.rd_rows(a)
    assert rows[0] == [a.tokenizer, "k=1", 2, round(pts[a.tokenizer][0].psnr, 2)]
    assert len(rows) == sum(len(c) for c in pts.values()) and {r[1] for r in rows if r[0] == "jpeg"} >= {"q=5", "q=90"}


def test_on_encode_fills_every_output():
    out = image_tab.on_encode(UI, None, "emoji-fox.png", FLEX)
    assert set(out) == set(ImageUI.ENCODED)
    state, shown_in, shown_out, slider = out["state"], out["shown_in"], out["shown_out"], out["k"]
    assert isinstance(state, ImageState) and shown_in.shape == shown_out.shape == (256, 256, 3)
    assert slider["maximum"] == 16 and slider["interactive"] is True
    assert "136x136 -> 64x64" in out["status"] and "16 of 16" in out["info"] and len(out["ids"].split()) == 16
    assert {r[0] for r in out["rd_table"]} == {"image/tiny-flex1d", "jpeg", "webp", "webp-down2"}


def test_a_new_encode_replaces_the_sessions_cache_entry():
    first = image_tab.on_encode(UI, None, "emoji-fox.png", FLEX)["state"]
    assert CACHE.get(first.key) is not None
    second = image_tab.on_encode(UI, None, "emoji-rocket.png", FLEX, state=first)["state"]
    assert CACHE.get(first.key) is None and CACHE.get(second.key) is not None  # one entry per session and tab
    assert second.key != first.key and second.source == "sample 'emoji-rocket.png'"


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
        analyze_input(str(path), None, FLEX)
    out = image_tab.on_encode(UI, str(path), None, FLEX)
    assert out["state"] is None and out["status"].startswith("⚠️ **Could not tokenize this.**")
    assert str(tmp_path) not in out["status"]  # the server's temp path is not shown, only the file name
    assert "Traceback" not in out["status"]
    assert out["shown_in"] is None and out["info"] == "" and out["rd_table"] == []  # no stale view


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
        a = analyze_input(str(path), None, FLEX).analysis
        assert a.image.shape == (64, 64, 3)
        status = image_tab.on_encode(UI, str(path), None, FLEX)["status"]
        assert re.search(match, status), (path.name, status)
    a = analyze_input(str(gif), None, FLEX).analysis
    assert tuple(a.image[32, 32]) == (255, 0, 0)  # the first frame, red
    assert "Resized 40x40 -> 64x64 (bicubic)" in " ".join(a.notes)


def test_missing_checkpoint_is_a_message_with_the_train_command(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKENWORKS_DATA", str(tmp_path))  # no data/checkpoints here
    monkeypatch.setattr(image_input, "sample_names", lambda: ["emoji-fox.png"])
    tw.load_shared.cache_clear()
    try:
        with pytest.raises(tw.CheckpointNotFound, match="has not been trained yet"):
            analyze_input(None, "emoji-fox.png", "image/flex1d-emoji64")
        status = image_tab.on_encode(UI, None, "emoji-fox.png", "image/flex1d-emoji64")["status"]
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
        analyze_input(upload, sample, ref)
    assert image_tab.on_encode(UI, upload, sample, ref)["status"].startswith("⚠️")


def test_the_k_handler_before_any_image():
    assert "first" in image_tab.on_k(None, 3)[1]


# ---- the session cache: a state whose analysis was let go -----------------------------------------

def _count(monkeypatch, module, name):
    """Count the calls of ``module.name`` (still calling it)."""
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_an_evicted_state_is_analysed_again_from_its_path(monkeypatch):
    monkeypatch.setattr(image_input, "CACHE", SessionCache(max_entries=1))
    first = analyze_input(None, "emoji-fox.png", FLEX)
    analyze_input(None, "emoji-rocket.png", FLEX)  # the only entry now: the fox's analysis is let go
    assert image_input.CACHE.get(first.state.key) is None
    analyses = _count(monkeypatch, ins, "analyze")
    again = view_of(first.state)
    assert len(analyses) == 1 and analyses[0][1] == first.state.path  # read again from the file the state names
    assert np.array_equal(again.analysis.ids, first.analysis.ids) and again.state.source == first.state.source
    assert again.state.encoder == first.state.encoder and again.state.num_tokens == 16
    img, info, ids = image_tab.on_k(first.state, 4)  # the handlers work on from the old state
    assert img.shape == (256, 256, 3) and info.startswith("**4 of 16 tokens**") and ids.count("|") == 1
    assert image_tab.export_tokens(first.state).jsons["tokens"]["ids"] == first.analysis.ids.tolist()


def test_an_evicted_state_is_analysed_again_only_once(monkeypatch):
    monkeypatch.setattr(image_input, "CACHE", SessionCache(max_entries=2))
    first = analyze_input(None, "emoji-fox.png", FLEX).state
    analyze_input(None, "emoji-rocket.png", FLEX)
    analyze_input(None, "photo-flower.png", FLEX)  # the fox's analysis is let go
    analyses = _count(monkeypatch, ins, "analyze")
    for k in (1, 2, 3, 4):  # the k slider moved four times on the old page
        image_tab.on_k(first, k)
    assert len(analyses) == 1


def test_an_evicted_upload_whose_file_is_gone_says_upload_it_again(monkeypatch, tmp_path):
    monkeypatch.setattr(image_input, "CACHE", SessionCache(max_entries=1))
    upload = _png(tmp_path / "mine.png", size=(64, 64))
    state = image_tab.on_encode(UI, str(upload), None, FLEX)["state"]
    assert state.source == "upload 'mine.png'" and state.path == str(upload)
    assert image_tab.on_k(state, 2)[1].startswith("**2 of 16")  # cached: the file is not read again
    upload.unlink()  # Gradio's cache cleaner deleted it (widgets.DELETE_CACHE)
    assert image_tab.on_k(state, 3)[1].startswith("**3 of 16")  # still cached: nothing to read
    analyze_input(None, "emoji-fox.png", FLEX)  # another analysis evicts this one
    assert image_input.CACHE.get(state.key) is None
    msg = image_tab.on_k(state, 3)[1]
    assert "'mine.png' is gone; upload it again" in msg and str(tmp_path) not in msg
    assert "upload it again" in image_views.on_views(VIEWS, state)["views_msg"]
    assert "upload it again" in image_views.on_token(state, 1)[2]
    with pytest.raises(tw.InvalidInput, match="upload it again"):
        view_of(state)


def test_the_views_compute_nothing_an_encode_computed(monkeypatch):
    from tokenworks.image import codecs

    analyses = _count(monkeypatch, ins, "analyze")
    curves = _count(monkeypatch, codecs, "rd_curve")
    strips = _count(monkeypatch, ins, "prefix_strip")
    out = image_tab.on_encode(UI, None, "emoji-fox.png", FLEX)
    assert (len(analyses), len(curves), len(strips)) == (1, len(ins.RD_CODECS), 1)  # each once, in analyze
    state = out["state"]
    views = image_views.on_views(VIEWS, state)
    assert views["views_msg"] == "" and views["strip_plot"] is not None
    image_tab.on_k(state, 5)
    image_tab.on_k(state, 16)
    image_views.on_token(state, 2)
    image_tab.export_tokens(state)
    assert (len(analyses), len(curves), len(strips)) == (1, len(ins.RD_CODECS), 1)  # nothing again


# ---- the views ----------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", [FLEX, GRID])
def test_views_after_an_encode(ref):
    import plotly.graph_objects as go

    view = analyze_input(None, "emoji-fox.png", ref)
    a, state = view.analysis, view.state
    out = image_views.on_views(VIEWS, state)
    assert set(out) == set(ViewsUI.FILLED)
    strip, rd, grid, att, infl = (out[n] for n in ("strip_plot", "rd_plot", "grid_plot", "att_plot", "infl_plot"))
    token, code, source, msg = out["token"], out["code"], out["source"], out["views_msg"]
    assert msg == "" and all(isinstance(f, go.Figure) for f in (strip, rd, grid, att, infl))
    assert {t.name for t in rd.data} >= {a.tokenizer, "jpeg", "webp", "webp-down2"}
    assert token["maximum"] == a.num_tokens - 1 and 0 <= code["value"] < a.vocab_size
    assert out["position"]["maximum"] == a.num_tokens - 1
    assert image_views.THIS_IMAGE in source["choices"]
    att2, infl2, _ = image_views.on_token(state, 3)
    assert isinstance(att2, go.Figure) and "token 3" in infl2.layout.title.text
    fig, md = image_views.on_faithfulness(state, 3)
    assert "Spearman" in md and isinstance(fig, go.Figure)
    fig, md = image_views.on_edit(state, 2, (int(a.ids.reshape(-1)[2]) + 1) % a.vocab_size)
    assert md == "" and "Edited 1 token" in fig.layout.title.text
    for src in (image_views.THIS_IMAGE, image_views.NO_IMAGES):
        gallery, usage, what = image_views.on_codebook(state, src, 8)
        assert isinstance(gallery, go.Figure) and what
    assert 0 <= image_views.on_edit_position(state, 1)["value"] < a.vocab_size


def test_views_refuse_bad_requests_with_a_message():
    state = analyze_input(None, "emoji-fox.png", FLEX).state
    assert image_views.on_token(state, 99)[2].startswith("⚠️") and "0..15" in image_views.on_token(state, 99)[2]
    assert "0..999" in image_views.on_edit(state, 0, 5000)[1]
    assert "count codes over one of" in image_views.on_codebook(state, "nope", 8)[2]
    empty = image_views.on_views(VIEWS, None)
    assert empty["views_msg"] == "" and empty["strip_plot"] is None and "token" not in empty
    assert "tokenize an image first" in image_views.on_edit(None, 0, 1)[1]
    assert image_views.on_edit_position(None, 3) == {"__type__": "update"}  # nothing to preset


def test_the_app_has_the_image_tab_and_its_api_names():
    from app.main import build_app

    demo = build_app()
    names = {d.get("api_name") for d in demo.config["dependencies"]}
    assert {"image_upload", "image_sample", "image_tokenize", "image_k", "image_codebook", "image_edit"} <= names
    assert {"image_views", "image_views_after_upload", "image_views_after_sample", "image_views_initial"} <= names
    tabs = [b for b in demo.blocks.values() if type(b).__name__ == "Tab"]
    labels = [t.label for t in tabs]
    assert labels[0] == "Text" and "Image" in labels and "Library" in labels


# ---- refined encoding -----------------------------------------------------------------------------

def test_refined_encoder_finds_ids_that_decode_closer_and_the_views_use_them():
    """The shipped model: the refined ids' strip beats the one-pass strip, and the status says by how much."""
    view1 = analyze_input(None, "emoji-fox.png", "image/flex1d-emoji64")
    view2 = analyze_input(None, "emoji-fox.png", "image/flex1d-emoji64", image_input.REFINED)
    a1, a2 = view1.analysis, view2.analysis
    assert view1.state.encoder == image_input.ONE_PASS and "refined" not in a1.meta
    assert view2.state.encoder == image_input.REFINED and a2.ids.shape == a1.ids.shape
    r = a2.meta["refined"]
    assert r["steps"] == image_input.REFINE_STEPS and r["mode"] == "strip"
    assert np.mean(r["psnr_refined"]) > np.mean(r["psnr_one_pass"])
    tok = _tok(view2)
    r1, r2 = ins.reconstruct(tok, a1), ins.reconstruct(tok, a2)
    assert r2.psnr > r1.psnr and r2.nbytes == r1.nbytes
    status = image_tab.status_markdown(view2)
    assert "Refined encoding" in status and f"{image_input.REFINE_STEPS} steps" in status
    assert np.array_equal(a2.strip.ids, a2.ids) and abs(a2.strip.psnr[-1] - r2.psnr) < 0.01  # the views' strip
    strip = ins.prefix_strip(tok, a2.image, ids=a2.ids)  # the same as drawing the refined ids afresh
    assert np.array_equal(strip.images, a2.strip.images)
    assert strip.psnr[-1] > ins.prefix_strip(tok, a2.image).psnr[-1]  # a fresh encode is the one-pass one
    rows = a2.rd_points()[a2.tokenizer]
    assert abs(rows[-1].psnr - r2.psnr) < 0.01
    assert image_tab.export_tokens(view2.state).jsons["tokens"]["encoder"] == image_input.REFINED


def test_a_bad_encoder_choice_is_a_message():
    with pytest.raises(tw.errors.InvalidInput, match="the encoder must be one of 'one pass', 'refined'"):
        analyze_input(None, "emoji-fox.png", FLEX, "fastest")
    assert image_tab.on_encode(UI, None, "emoji-fox.png", FLEX, "fastest")["status"].startswith("⚠️")
    a = analyze_input(None, "emoji-fox.png", GRID, image_input.REFINED).analysis  # grids refine their whole grid
    assert a.meta["refined"]["mode"] == "grid"
    assert image_input.check_encoder(None) == image_input.ONE_PASS


# ---- a new picture goes to the tokenizer trained on its kind (tokenworks.image.route) ------------------

ON_EMOJI, ON_PHOTO = "run:image/tiny-on-emoji", "run:image/tiny-on-photo"


@pytest.fixture
def routed_runs(tiny_runs, tiny_image_tokenizer, monkeypatch):
    """Two tiny flex1d runs whose config.json names their training set (emoji64, photo64); the tab
    lists only the tiny runs, so the shipped checkpoints play no part."""
    for name, data in (("tiny-on-emoji", "emoji64"), ("tiny-on-photo", "photo64")):
        if not (tiny_runs / "image" / name).is_dir():
            tiny_image_tokenizer("flex1d", name=f"image/{name}").save(tiny_runs / "image" / name,
                                                                      extra={"data": {"name": data}})
    monkeypatch.setattr(image_input, "image_tokenizers", lambda: [FLEX, GRID, ON_EMOJI, ON_PHOTO])
    return tiny_runs


def _photo_upload(tmp_path):
    """A photo as an upload: the sample photo under another name."""
    path = tmp_path / "holiday.png"
    path.write_bytes((image_input.SAMPLES_DIR / "photo-flower.png").read_bytes())
    return str(path)


def test_an_upload_switches_to_the_tokenizer_trained_for_it_and_says_why(routed_runs, tmp_path):
    out = image_tab.on_picture(UI, _photo_upload(tmp_path), None, ON_EMOJI, auto=ON_EMOJI)
    assert out["tokenizer"] == out["auto"] == ON_PHOTO and out["state"].ref == ON_PHOTO
    status = out["status"]
    assert status.startswith("**Tokenizer chosen for this picture**")
    assert "photo: " in status and "colours distinct" in status and "flat pixels" in status
    assert f"-> {ON_PHOTO}" in status and "upload 'holiday.png'" in status and "Far from" not in status
    again = image_tab.on_picture(UI, None, "emoji-fox.png", ON_PHOTO, auto=ON_PHOTO)  # a sample picked: routed too
    assert again["tokenizer"] == ON_EMOJI and "emoji: " in again["status"]


def test_a_tokenizer_the_user_picked_is_kept(routed_runs, tmp_path):
    assert image_tab.chosen_by_hand() is None  # what the tokenizer dropdown's input puts in the auto state
    for auto, ref in ((None, ON_EMOJI), (ON_EMOJI, FLEX)):  # picked by hand, or named by an API call
        out = image_tab.on_picture(UI, _photo_upload(tmp_path), None, ref, auto=auto)
        assert "tokenizer" not in out and "auto" not in out and out["state"].ref == ref
        assert "Tokenizer chosen" not in out["status"]


def test_a_picture_far_from_the_training_sets_says_so(routed_runs, tmp_path):
    path = tmp_path / "flag.png"
    a = np.zeros((64, 64, 3), np.uint8)
    a[:] = (30, 90, 200)
    a[20:44, 20:44] = (250, 200, 0)
    Image.fromarray(a).save(path)
    out = image_tab.on_picture(UI, str(path), None, ON_EMOJI, auto=ON_EMOJI)
    assert "⚠️ Far from the training data." in out["status"] and "Expect a rough reconstruction" in out["status"]


def test_a_bad_upload_is_the_usual_message_without_a_route(routed_runs, tmp_path):
    path, match = _bad_files(tmp_path)["text"]
    out = image_tab.on_picture(UI, str(path), None, ON_EMOJI, auto=ON_EMOJI)
    assert out["state"] is None and out["status"].startswith("⚠️ **Could not tokenize this.**")
    assert "tokenizer" not in out and re.search(match, out["status"])
