"""tokenworks.viz.export: figures as PNG and SVG in one browser session, tables, JSON, images and
sounds, and a zip of them all (the app's Export rows: tests/app/test_exports.py)."""
from __future__ import annotations

import csv
import json
import time
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image

from tokenworks.viz import export as E

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

needs_browser = pytest.mark.skipif(E.figure_export_available() is not None,
                                   reason=f"{E.figure_export_available()} (the figure tests need it)")
IMAGE_REF = "image/grid-emoji32"  # ships in data/ (as in tests/app/test_fuzz.py)


def _fig(title: str = "a line", axis: str = "tokens per word") -> go.Figure:
    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[3, 1, 2], name="line"))
    return fig.update_layout(title=title, xaxis_title=axis, width=300, height=200)


# ---- the library -------------------------------------------------------------------------------

@needs_browser
def test_figures_as_svg_and_png_in_one_session(tmp_path):
    paths = E.figure_files({"first": _fig(), "second": _fig(axis="bytes per token")}, tmp_path, scale=2)
    assert [p.name for p in paths] == ["first.png", "first.svg", "second.png", "second.svg"]
    root = ET.parse(paths[1]).getroot()
    assert root.tag.endswith("svg")
    assert "tokens per word" in paths[1].read_text() and "bytes per token" in paths[3].read_text()
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(paths[0]) as im:
        assert im.size == (600, 400)  # 300 x 200 at scale 2


def test_tables_json_images_and_the_zip(tmp_path):
    frame = pd.DataFrame({"tokenizer": ["a", "b"], "ids": [3, 4], "ratio": [0.5, np.nan]})
    rows = [{"word": "héllo, \"world\"", "n": 2}, {"word": "👋", "n": 1}]
    obj = {"ids": np.arange(3), "name": "ü", "nested": [{"x": np.float32(0.25)}]}
    img = np.zeros((5, 7, 3), np.uint8)
    img[1, 2] = (255, 0, 0)
    b = E.export_bundle(tmp_path, name="My tab!", tables={"frame": frame, "rows": rows}, jsons={"tokens": obj},
                        images={"input": img})
    names = [p.name for p in b.files]
    assert names == ["frame.csv", "rows.csv", "tokens.json", "input.png"] and not b.notes
    assert all(p.parent == b.folder and p.stat().st_size > 0 for p in b.files)
    assert b.folder.parent == tmp_path and b.folder.name.startswith("my-tab-")
    with open(b.files[0], newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [["tokenizer", "ids", "ratio"], ["a", "3", "0.5"], ["b", "4", ""]]
    with open(b.files[1], newline="", encoding="utf-8") as f:
        assert list(csv.DictReader(f)) == [{"word": "héllo, \"world\"", "n": "2"}, {"word": "👋", "n": "1"}]
    assert json.loads(b.files[2].read_text("utf-8")) == {"ids": [0, 1, 2], "name": "ü", "nested": [{"x": 0.25}]}
    assert np.array_equal(np.asarray(Image.open(b.files[3])), img)
    with zipfile.ZipFile(b.zip_path) as z:
        assert sorted(z.namelist()) == sorted(names)
        assert z.read("tokens.json") == b.files[2].read_bytes()


def test_hostile_labels_become_safe_names_inside_the_folder(tmp_path):
    b = E.export_bundle(tmp_path, name="../../x", jsons={"../../etc/passwd": [1], "/abs/..": [2], "...": [3],
                                                          "etc passwd": [4]})
    assert [p.name for p in b.files] == ["etc-passwd.json", "abs.json", "json.json", "etc-passwd-2.json"]
    assert all(p.resolve().parent == b.folder.resolve() for p in b.files + [b.zip_path])
    assert b.folder.resolve().parent == tmp_path.resolve()
    assert E.slug("Ünïcödé – Tab ✓") == "unicode-tab" and E.slug("") == "item" and len(E.slug("a" * 500)) <= 60


def test_without_a_browser_figures_are_a_clear_message_and_the_rest_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    with pytest.raises(E.FigureExportUnavailable, match=r"figure export needs Chromium: apt-get install chromium "
                                                        r"\(make browser-deps\)"):
        E.figure_files({"f": _fig()}, tmp_path / "figs")
    b = E.export_bundle(tmp_path, figures={"f": _fig()}, tables={"t": [[1, 2]]}, jsons={"j": {"a": 1}})
    assert [p.name for p in b.files] == ["t.csv", "j.json"]
    assert any("needs Chromium" in n for n in b.notes)
    with pytest.raises(E.FigureExportUnavailable, match="needs Chromium"):  # nothing else to write
        E.export_bundle(tmp_path, figures={"f": _fig()})


@needs_browser
def test_batches_share_one_warm_browser(tmp_path):
    from tokenworks.viz._render_session import SESSION

    SESSION.close()
    starts = SESSION.starts
    E.figure_files({"a": _fig()}, tmp_path / "1", formats=("svg",))
    E.figure_files({"b": _fig()}, tmp_path / "2", formats=("png",))
    assert SESSION.starts == starts + 1 and SESSION.is_open()
    SESSION.close()
    assert not SESSION.is_open()


def test_a_render_that_hangs_is_stopped(tmp_path, monkeypatch):
    import asyncio

    import kaleido

    from tokenworks.viz._render_session import SESSION

    class Hangs:  # a browser that never opens
        def __init__(self, **kwargs):
            pass

        async def open(self):
            await asyncio.sleep(3600)

        async def close(self):
            pass

    SESSION.close()
    monkeypatch.setattr(kaleido, "Kaleido", Hangs)
    monkeypatch.setattr(E, "figure_export_available", lambda: None)
    monkeypatch.setattr(E, "_browser_path", lambda: "/no/such/browser-for-this-test")
    t0 = time.monotonic()
    with pytest.raises(E.FigureExportUnavailable, match="longer than 0.5 s"):
        E.figure_files({"f": _fig()}, tmp_path, timeout_s=0.5)
    assert time.monotonic() - t0 < 10
    assert not SESSION.is_open()  # closed, so the next batch starts a fresh browser
    assert E._RENDER_LOCK.acquire(timeout=1)  # released again
    E._RENDER_LOCK.release()



def test_sounds_as_wav_and_bad_sounds_are_notes(tmp_path):
    import soundfile as sf

    t = np.arange(8000) / 16000
    wave = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)  # (N,) half a second
    b = E.export_bundle(tmp_path, name="audio", sounds={
        "decoded k=3": E.Sound(wave, 16000), "loud": E.Sound(np.full(100, 3.0), 8000),
        "nan": E.Sound(np.array([0.0, np.nan]), 16000), "stereo": E.Sound(np.zeros((10, 2)), 16000),
        "rate": E.Sound(wave, 50), "not a sound": wave})
    names = [p.name for p in b.files]
    assert names == ["decoded-k-3.wav", "loud.wav"]
    got, sr = sf.read(str(b.files[0]), dtype="float32")
    assert sr == 16000 and got.shape == wave.shape and np.abs(got - wave).max() < 1 / 32767 + 1e-6
    assert sf.info(str(b.files[0])).subtype == "PCM_16"
    loud, sr = sf.read(str(b.files[1]), dtype="float32")
    assert sr == 8000 and loud.max() <= 1.0 and loud.min() > 0.99  # clipped to full scale, not wrapped
    notes = " | ".join(b.notes)
    for label, why in (("nan", "NaN"), ("stereo", "mono wave"), ("rate", "sample rate must be"),
                       ("not a sound", "Sound(wave, sample_rate)")):
        assert f"{label} not exported: " in notes and why in notes
    assert not list(b.folder.glob("nan*")) and not list(b.folder.glob("stereo*"))
    with zipfile.ZipFile(b.zip_path) as z:
        assert sorted(z.namelist()) == sorted(names)

