"""Bad input, across every endpoint and upload (issue 8): each request-facing handler is called the
way the UI calls it (wrapped in ``friendly``) with random text, random bytes as files, truncated and
oversized images and audio, wrong types and absurd parameters. Every call must end in a result or a
gr.Error whose message is clear: not empty, no traceback, and not the catch-all "Something went
wrong" that ``friendly`` shows for an unexpected exception (that one is a bug to fix).

Deterministic (derandomized), bounded example counts; the registered tokenizers used are the cheap
ones (text/bytes, text/chars, image/grid-emoji32, audio/mulaw8)."""
from __future__ import annotations

import io
import math
import struct
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.widgets import friendly

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def few(n: int):
    return settings(FUZZ, max_examples=n)


# ---- what the UI may show ------------------------------------------------------------------

BAD_TEXT = ("Traceback", 'File "', "Something went wrong")


def _strings(x: Any):
    if isinstance(x, str):
        yield x
    elif isinstance(x, (tuple, list)):
        for y in x:
            yield from _strings(y)
    elif isinstance(x, dict):  # a handler's {component: value}, or a gr.update
        for y in x.values():
            yield from _strings(y)


def ui(fn, *args) -> Any:
    """Call ``fn`` as the UI does; fail on anything but a result or a clear gr.Error."""
    try:
        out = friendly(fn)(*args)
    except gr.Error as e:
        msg = str(e.message)
        assert msg.strip(), f"{fn.__name__}{args!r:.200}: empty message"
        assert not any(b in msg for b in BAD_TEXT), f"{fn.__name__}{args!r:.300}: {msg}"
        return e
    for s in _strings(out):  # messages shown as a status line must be clean too
        assert "Traceback" not in s and "Something went wrong" not in s, f"{fn.__name__}: {s[:500]}"
    return out


# ---- strategies ----------------------------------------------------------------------------

SPECIAL_TEXT = ["", "\ud800", "a\udfffb", "\x00" * 50, "مرحبا بالعالم \u202e abc", "👨‍👩‍👧‍👦" * 40,
                "e\u0301" * 500, "x" * 100_001, "word " * 60_000, "\r\n" * 1000, "\ufeff\ufffe\uffff"]
WRONG = st.one_of(st.none(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
                  st.booleans(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                                     st.integers(), max_size=2))
TEXT = st.one_of(st.text(max_size=300), st.sampled_from(SPECIAL_TEXT), WRONG)
NUMBER = st.one_of(st.integers(-2**70, 2**70), st.sampled_from([0, -1, 1, 2**63, math.nan, math.inf, -math.inf]),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6), st.none(),
                   st.lists(st.integers(), max_size=2))
UNKNOWN_NAMES = ["text/nope", "run:../../etc/passwd", "run:text/none", "", "image/grid-emoji32", "audio/mulaw8",
                 "\x00", "a" * 5000]


def names_of(valid: list[str]):
    return st.one_of(st.lists(st.sampled_from(valid + UNKNOWN_NAMES), max_size=8),
                     st.sampled_from(valid + UNKNOWN_NAMES), WRONG)


# ---- files ---------------------------------------------------------------------------------

def _png_bytes(size=(24, 16)) -> bytes:
    from PIL import Image

    a = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def _jpeg_bytes() -> bytes:
    from PIL import Image

    a = np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG")
    return buf.getvalue()


def _bomb_png(w: int, h: int) -> bytes:
    """A tiny PNG whose header declares ``w`` x ``h`` pixels (a decompression bomb)."""
    raw = _png_bytes((1, 1))
    ihdr = struct.pack(">II", w, h) + raw[24:29]
    chunk = b"IHDR" + ihdr
    return raw[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[33:]


def _audio_bytes(fmt: str, seconds: float = 0.5) -> bytes:
    import soundfile as sf

    t = np.arange(int(16000 * seconds)) / 16000
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000, format=fmt)
    return buf.getvalue()


def _long_wav_header() -> bytes:
    """A WAV whose header claims hours of 16 kHz audio but holds a few samples."""
    data = np.zeros(100, np.int16).tobytes()
    n = 0xFFFFFFF0
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    return b"RIFF" + struct.pack("<I", n) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" \
        + struct.pack("<I", n) + data


REAL = {"png": _png_bytes(), "jpg": _jpeg_bytes(), "wav": _audio_bytes("WAV"), "flac": _audio_bytes("FLAC")}
SPECIAL_FILES = [("png", _bomb_png(100_000, 100_000)), ("png", _bomb_png(2**31 - 1, 1)), ("png", _bomb_png(0, 0)),
                 ("wav", _long_wav_header()), ("wav", _audio_bytes("WAV", 65.0)), ("png", b""), ("wav", b""),
                 ("txt", "héllo\n".encode("utf-16")), ("txt", b"\xff\xfe\x00"), ("txt", b"\x00" * 100)]
EXTS = ["png", "jpg", "webp", "gif", "bmp", "wav", "flac", "ogg", "mp3", "txt", "md", "csv", "json", "zip", ""]


@st.composite
def bad_file(draw, exts: tuple[str, ...] = tuple(sorted(REAL))) -> tuple[str, bytes]:
    """Random bytes, a real file (of one of ``exts``) cut short or with bytes overwritten, or a special case."""
    kind = draw(st.sampled_from(["random", "truncated", "corrupted", "special"]))
    if kind == "random":
        return draw(st.sampled_from(EXTS)), draw(st.binary(max_size=2048))
    ext = draw(st.sampled_from(exts))
    data = REAL[ext]
    if kind == "truncated":
        return ext, data[:draw(st.integers(0, len(data) - 1))]
    if kind == "corrupted":
        at = draw(st.integers(0, len(data) - 1))
        return ext, data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at + 16:]
    return draw(st.sampled_from(SPECIAL_FILES))


_TMP = Path(tempfile.mkdtemp(prefix="tw-fuzz-"))


def write(ext: str, data: bytes) -> str:
    p = _TMP / f"f{len(list(_TMP.iterdir()))}.{ext}" if ext else _TMP / f"f{len(list(_TMP.iterdir()))}"
    p.write_bytes(data)
    return str(p)


UPLOAD = st.one_of(bad_file().map(lambda f: write(*f)), st.just("/no/such/file.png"), WRONG,
                   bad_file().map(lambda f: {"path": write(*f)}))


# ---- text, learn, attention, languages, metrics -----------------------------------------------

TEXT_NAMES = ["text/bytes", "text/chars"]


@few(300)
@given(TEXT, names_of(TEXT_NAMES), st.one_of(st.sampled_from(["Tokens", "Compare", "nope"]), WRONG))
def test_text_tab(text, names, mode):
    from app import text_tab

    ui(text_tab.tokenize, text, names)
    ui(text_tab.compare, text, names)
    ui(text_tab.show, text, names, mode)


QUERY_KEYS = ["text", "t", "tok", "tokenizers", "mode", "m", "", "x" * 300]


@few(150)
@given(st.dictionaries(st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=8)),
                       st.one_of(TEXT.filter(lambda v: isinstance(v, str)), st.sampled_from(TEXT_NAMES + UNKNOWN_NAMES)),
                       max_size=5), TEXT, names_of(TEXT_NAMES), st.one_of(st.sampled_from(["Tokens", "Compare"]), WRONG))
def test_text_links(params, text, names, mode):
    """A page's query string (anyone can write a link) and the link box."""
    from app import text_tab

    from types import SimpleNamespace

    ui(text_tab.restore_state, params)
    ui(text_tab.restore, text_tab.TextUI.named(), SimpleNamespace(query_params=params))
    ui(text_tab.link, text, names, mode)


class _Click:  # what gr.EventData holds when a chip is clicked
    def __init__(self, data: Any):
        self._data = data


@few(60)
@given(st.one_of(st.fixed_dictionaries({"ref": st.one_of(st.sampled_from(TEXT_NAMES + UNKNOWN_NAMES), WRONG),
                                        "id": NUMBER}), WRONG))
def test_token_clicked(data):
    from app import text_tab

    ui(text_tab.token_clicked, _Click(data))


@few(80)
@given(st.one_of(st.sampled_from(TEXT_NAMES + ["text/r50k_base"] + UNKNOWN_NAMES), WRONG), NUMBER)
def test_merge_tree(name, token_id):
    from app import text_tab

    ui(text_tab.merge_tree, name, token_id)


@few(150)
@given(TEXT, NUMBER, NUMBER, TEXT, st.one_of(st.sampled_from(["chunk", "rank", "nope"]), WRONG))
def test_learn_tab(corpus, n_merges, step, text, order):
    from app import learn_tab

    ui(learn_tab.train, learn_tab.LearnUI.named(), corpus, n_merges)
    ui(learn_tab.training_step, corpus, n_merges, step)
    ui(learn_tab.encode, text, learn_tab.TRAINED, order, corpus, n_merges)
    ui(learn_tab.encoding_step, text, learn_tab.TRAINED, order, corpus, n_merges, step)


@few(25)
@given(TEXT, st.one_of(st.sampled_from(["average", "0", "5", "6", "-1"]), NUMBER), NUMBER)
def test_attention_tab(sentence, layer, head):
    from app import attention_tab

    ui(attention_tab.show_attention, sentence, layer, head)


@few(15)
@given(names_of(TEXT_NAMES), TEXT, TEXT, TEXT)
def test_languages_tab(names, script, map_tok, family):
    from app import languages_tab

    ui(languages_tab.show, languages_tab.LanguagesUI.named(), names, script, map_tok, family)


@few(100)
@given(names_of(TEXT_NAMES), st.one_of(st.sampled_from(["Uploaded file", "nope"]), WRONG), TEXT, UPLOAD,
       st.one_of(st.sampled_from(["Whole file, one slice", "One slice per line (Label: text)", "x"]), WRONG), NUMBER)
def test_metrics_tab(names, source, languages, upload, split, limit):
    from app import metrics_tab

    ui(metrics_tab.show, names, source, languages, upload, split, limit)


# ---- image and audio -----------------------------------------------------------------------

IMAGE_REF = "image/grid-emoji32"
AUDIO_REF = "audio/mulaw8"


def _state_or_skip(analyze_input, sample: str, ref: str):
    """The tab's state (what its gr.State holds) for a good sample, or a skip where the tokenizer or
    the sample is not here."""
    try:
        return analyze_input(None, sample, ref).state
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"{ref} or the sample {sample} is not here: {e}")


@pytest.fixture(scope="module")
def image_state():
    from app import image_input

    return _state_or_skip(image_input.analyze_input, "emoji-fox.png", IMAGE_REF)


@pytest.fixture(scope="module")
def audio_state():
    from app import audio_input

    return _state_or_skip(audio_input.analyze_input, "flite-slt.wav", AUDIO_REF)


def _gone_image():
    """A state whose analysis the session cache let go and whose upload was deleted since."""
    from app.image_input import ImageState

    return ImageState("no-such-key", IMAGE_REF, "upload 'gone.png'", "/no/such/gone.png", "one pass", 256, False)


def _gone_audio():
    from app.audio_input import AudioState

    return AudioState("no-such-key", AUDIO_REF, "upload 'gone.wav'", "/no/such/gone.wav", 1)


@few(100)
@given(UPLOAD, st.one_of(st.sampled_from(["emoji-fox.png", "nope.png", "../README.md"]), WRONG),
       st.one_of(st.sampled_from([IMAGE_REF, "text/bytes", "audio/mulaw8", "run:image/none"]), WRONG),
       st.one_of(st.sampled_from(["one pass", "nope"]), WRONG))
def test_image_upload(image_state, upload, sample, ref, encoder):
    from app import image_tab

    ui(image_tab.on_encode, image_tab.ImageUI.named(), upload, sample, ref, encoder)


@few(60)
@given(UPLOAD, st.one_of(st.sampled_from(["emoji-fox.png", "photo-flower.png", "nope.png"]), WRONG),
       st.sampled_from([IMAGE_REF, "image/nope", "run:image/none"]))
def test_image_new_picture_routed(image_state, upload, sample, ref):
    """A new picture while the tokenizer is the tab's own pick goes through the router first
    (tokenworks.image.route): bad files and odd values stay clear messages."""
    from app import image_tab

    ui(image_tab.on_picture, image_tab.ImageUI.named(), upload, sample, ref, "one pass", None, ref)


@few(400)
@given(bad_file(("png", "jpg")))
def test_image_files(image_state, f):
    """The tokenizer is right, the file is not: every truncation, corruption and bomb is a clear message."""
    from app import image_tab

    ui(image_tab.on_encode, image_tab.ImageUI.named(), write(*f), None, IMAGE_REF)


@pytest.mark.parametrize("data,match", [(_bomb_png(100_000, 100_000), "megapixels"), (_bomb_png(2**31 - 1, 1), "megapixels"),
                                        (REAL["png"][:60], "truncated"), (REAL["jpg"][:300], "truncated"),
                                        (b"", "empty")])
def test_image_bad_files_are_named(image_state, data, match):
    from app import image_tab

    out = ui(image_tab.on_encode, image_tab.ImageUI.named(), write("png", data), None, IMAGE_REF)
    shown = out.message if isinstance(out, gr.Error) else " ".join(_strings(out))
    assert match in shown, shown


@few(40)
@given(NUMBER, NUMBER, NUMBER, st.one_of(st.sampled_from(["this image", "nope"]), WRONG))
def test_image_controls(image_state, a, b, source):
    from app import image_tab, image_views

    for state in (image_state, None, "junk", _gone_image()):
        ui(image_tab.on_k, state, a)
        ui(image_views.on_token, state, a)
        ui(image_views.on_edit_position, state, a)
        ui(image_views.on_edit, state, a, b)
    ui(image_views.on_codebook, image_state, source, b)
    ui(image_views.on_faithfulness, image_state, a)


def test_image_views_need_a_tokenized_image(image_state):
    from app import image_tab, image_views

    views = image_views.ViewsUI.named()
    for state in (None, "junk", 3, {"ids": [1]}, _gone_image()):
        ui(image_views.on_views, views, state)
        ui(image_views.on_faithfulness, state, 0)
        ui(image_views.on_codebook, state, "this image", 32)
        ui(image_tab.export_tokens, state)
    assert "upload it again" in ui(image_views.on_views, views, _gone_image())["views_msg"]
    assert len(ui(image_views.on_views, views, image_state)) == len(image_views.ViewsUI.FILLED) == 10


@few(60)
@given(UPLOAD, st.one_of(st.sampled_from(["flite-slt.wav", "nope.wav"]), WRONG),
       st.one_of(st.sampled_from([AUDIO_REF, "text/bytes", IMAGE_REF, "run:audio/none"]), WRONG),
       st.one_of(st.sampled_from(["pesq", "nope"]), WRONG))
def test_audio_upload(audio_state, upload, sample, ref, metric):
    from app import audio_tab

    ui(audio_tab.on_analyze, audio_tab.AudioUI.named(), upload, sample, ref, metric)


@few(200)
@given(bad_file(("wav", "flac")))
def test_audio_files(audio_state, f):
    from app import audio_tab

    ui(audio_tab.on_analyze, audio_tab.AudioUI.named(), write(*f), None, AUDIO_REF, "pesq")


@pytest.mark.parametrize("data,match", [(_long_wav_header(), ""), (_audio_bytes("WAV", 65.0), "60"),
                                        (REAL["flac"][:200], ""), (b"", "")])
def test_audio_bad_files_are_named(audio_state, data, match):
    from app import audio_tab

    out = ui(audio_tab.on_analyze, audio_tab.AudioUI.named(), write("wav", data), None, AUDIO_REF, "pesq")
    shown = out.message if isinstance(out, gr.Error) else " ".join(_strings(out))
    assert match in shown, shown


@few(40)
@given(NUMBER, st.one_of(st.sampled_from(["pesq", "nope"]), WRONG))
def test_audio_controls(audio_state, k, metric):
    from app import audio_tab

    for state in (audio_state, None, "junk", _gone_audio()):
        ui(audio_tab.on_k, state, k)
        ui(audio_tab.on_metric, state, metric)
        ui(audio_tab.export_tokens_and_audio, state)
    for state in (None, "junk", 3, _gone_audio()):
        ui(audio_tab.on_compare, state, metric)
    ui(audio_tab.on_open, audio_tab.AudioUI.named(), "junk", None, "flite-slt.wav", AUDIO_REF, metric)


# ---- train ---------------------------------------------------------------------------------

@few(200)
@given(st.one_of(st.sampled_from(["image", "audio", "text", "video"]), WRONG), TEXT, TEXT, TEXT, TEXT,
       NUMBER, NUMBER, NUMBER, st.one_of(st.lists(UPLOAD, max_size=3), WRONG))
def test_train_validation(tmp_path_factory, monkeypatch, modality, model, quantizer, preset, data, steps, seed,
                          vocab, files):
    """trainer_args only: no job is started."""
    from app import train_form

    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path_factory.mktemp("runs")))
    req = train_form.NewRun(modality=modality, model=model, quantizer=quantizer, preset=preset, data=data,
                            steps=steps, seed=seed, vocab_size=vocab)
    ui(train_form.trainer_args, req, files)


VALID_RUNS = [("image", "grid", "cpu-tiny", "shapes32"), ("image", "flex1d", "cpu-tiny", "uploaded files"),
              ("audio", "rvq", "cpu-tiny", "synthetic speech (bundled)"), ("audio", "single", "cpu", "uploaded files"),
              ("text", "bpe", "", "shakespeare")]


@few(300)
@given(st.sampled_from(VALID_RUNS), st.one_of(st.sampled_from(["preset", "vq", "nope"]), WRONG),
       st.one_of(st.none(), NUMBER), NUMBER, NUMBER, st.one_of(st.lists(UPLOAD, max_size=2), WRONG))
def test_train_validation_near_valid(tmp_path_factory, monkeypatch, run, quantizer, steps, seed, vocab, files):
    """A valid run with absurd numbers, quantizers and uploads: the checks after the names."""
    from app import train_form

    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path_factory.mktemp("runs")))
    modality, model, preset, data = run
    req = train_form.NewRun(modality=modality, model=model, quantizer=quantizer, preset=preset, data=data,
                            steps=steps, seed=seed, vocab_size=vocab)
    ui(train_form.trainer_args, req, files)


@few(60)
@given(TEXT, st.one_of(st.lists(TEXT, max_size=14), WRONG), TEXT, TEXT)
def test_train_run_actions(tmp_path_factory, monkeypatch, run_id, run_ids, metric, x):
    from app import train_tab

    runs = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("TOKENWORKS_RUNS", str(runs))
    for fn in (train_tab.stop_run, train_tab.resume, train_tab.delete_run, train_tab.run_view):
        ui(fn, run_id)
    for fn in (train_tab.stop_run, train_tab.resume, train_tab.delete_run):
        ui(train_tab.after(train_tab.TrainUI.named(), fn), run_id)  # what the buttons call
    ui(train_tab.refresh, train_tab.TrainUI.named(), run_id, ())
    ui(train_tab.compare, run_ids, metric, x)
    started = [str(f) for f in runs.rglob("events.jsonl")]
    assert not started, f"a job started: {started}"


# ---- exports -----------------------------------------------------------------------------------

# what may arrive where an Export handler reads a plot, a table, JSON or an image: garbage, plots that
# are not plotly or not a figure, tables of any shape, arrays of odd shapes and types (never a drawable
# figure, so no browser starts here)
EXPORT_VALUE = st.one_of(
    WRONG, TEXT,
    st.fixed_dictionaries({"type": st.sampled_from(["plotly", "matplotlib", "bokeh", "nope"]),
                           "plot": st.one_of(st.text(max_size=30), st.sampled_from(["{}", '{"data": []}', "[1]", "null",
                                                                                    '{"data": 5}', "\x00"]))}),
    st.fixed_dictionaries({"headers": st.lists(st.text(max_size=4), max_size=3),
                           "data": st.lists(st.lists(st.one_of(st.text(max_size=4), st.integers(), st.none()),
                                                     max_size=3), max_size=3)}),
    st.sampled_from([np.zeros((0,)), np.zeros((2, 2, 5)), np.full((3, 4), np.nan), np.ones((2, 3, 3), np.float32),
                     np.zeros((4, 4, 1), np.uint8), np.array(["a"]), np.zeros((2, 2, 2, 2))]),
)


@pytest.fixture(scope="module")
def export_fns(tmp_path_factory):
    from app.main import build_app

    return [fn for fn in build_app().fns.values() if str(fn.api_name or "").startswith("export_")]


@few(60)
@given(st.lists(EXPORT_VALUE, min_size=12, max_size=12))
def test_export_handlers(export_fns, tmp_path_factory, values):
    """Every tab's Export handler: a result (with notes for what it skipped) or "nothing to export yet"."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("exports")))
        for fn in export_fns:
            out = ui(fn.fn, *values[:len(fn.inputs)])
            if not isinstance(out, gr.Error):
                assert all(Path(p).is_file() for p in out[0]), out


# ---- the served app keeps answering ----------------------------------------------------------

@pytest.mark.app
def test_worker_answers_after_a_burst_of_bad_requests(app_url):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(app_url, verbose=False)
    bad = [("/tokenize", ("x" * 100_001, ["text/bytes"])), ("/tokenize", ("\x00\u202e", ["text/nope"])),
           ("/compare", ("hi", ["text/bytes"])), ("/merge_tree", ("text/r50k_base", 10**30)),
           ("/learn_train", ("", -5)), ("/metrics", (["text/nope"], "nope", "", None, "x", -1)),
           ("/image_upload", (handle_file(write("png", _bomb_png(100_000, 100_000))), IMAGE_REF)),
           ("/image_upload", (handle_file(write("png", REAL["png"][:50])), IMAGE_REF)),
           ("/audio_upload", (handle_file(write("wav", _long_wav_header())), AUDIO_REF, "pesq")),
           ("/train_stop", ("../../etc",)), ("/train_compare", (["nope"], "loss", "step"))] * 2
    errors = 0
    for api, args in bad:
        try:
            client.predict(*args, api_name=api)
        except AppError as e:  # the app answered with an error: it must be a clear one
            errors += 1
            assert str(e).strip() and not any(b in str(e) for b in BAD_TEXT), f"{api}: {e}"
    assert errors >= len(bad) // 2, f"only {errors} of {len(bad)} bad requests were refused"
    t0 = time.time()
    _, records = client.predict("héllo", ["text/bytes"], api_name="/tokenize")
    assert records[0]["ids"] == list("héllo".encode("utf-8"))
    assert time.time() - t0 < 10


# ---- the limits are stated next to the inputs ---------------------------------------------------

def test_limits_are_stated_next_to_the_inputs():
    from app import image_tab, text_tab, train_tab
    from app.main import build_app
    from tokenworks.audio.io import MAX_SECONDS
    from tokenworks.teach.bpe_replay import MAX_ENCODE_CHARS, MAX_TRAIN_CHARS

    shown = {}
    for c in build_app().config["components"]:
        p = c.get("props", {})
        if p.get("elem_id"):
            shown[p["elem_id"]] = f"{p.get('label') or ''} {p.get('info') or ''}"
    expected = {"tw-text-input": f"{text_tab.MAX_CHARS:,}", "tw-learn-corpus": f"{MAX_TRAIN_CHARS:,}",
                "tw-learn-text": f"{MAX_ENCODE_CHARS:,}", "tw-metrics-upload": "50 MB",
                "tw-image-upload": f"{image_tab.MAX_PIXELS / 1e6:g} megapixels",
                "tw-audio-upload": f"{MAX_SECONDS:g} s", "tw-train-steps": f"{train_tab.MAX_STEPS:,}"}
    for elem_id, limit in expected.items():
        assert limit in shown.get(elem_id, ""), (elem_id, shown.get(elem_id))
