"""Metrics tab handlers and the upload checks, without a server."""
from __future__ import annotations

import csv

import pytest

from app import metrics_tab as mt

FAST = ["text/bytes", "text/chars"]


# ---- the tab -----------------------------------------------------------------------------


def _upload_view(tmp_path, name, data, split="whole"):
    p = tmp_path / name
    p.write_bytes(data)
    return mt.view(FAST, mt.UPLOAD, upload=str(p), split=split)


def test_tab_shows_bad_uploads_as_messages(tmp_path):
    v = _upload_view(tmp_path, "cp1252.txt", b"ok \x93quoted\x94")
    assert "⚠️" in v.status and "byte offset 3" in v.status and v.frame.empty and v.csv_path is None
    v = _upload_view(tmp_path, "empty.txt", b"")
    assert "empty" in v.status and v.frame.empty
    v = _upload_view(tmp_path, "langs.txt", "English: hi\nNothing:\n".encode(), split="lines")
    assert "'Nothing'" in v.status and v.frame.empty
    assert "upload a text file" in mt.view(FAST, mt.UPLOAD, upload=None).status


def test_tab_big_upload_states_the_limit(tmp_path):
    p = tmp_path / "big.txt"
    with open(p, "wb") as f:
        f.truncate(60 * 2**20)
    v = mt.view(FAST, mt.UPLOAD, upload=str(p))
    assert "limited to 50.0 MB" in v.status and v.frame.empty


def test_tab_udhr_unknown_language_is_a_message():
    pytest.importorskip("tokenworks.text.udhr")
    from tokenworks import assets
    from tokenworks.errors import AssetMissing

    try:
        assets.asset_path("udhr")
    except AssetMissing:
        pytest.skip("udhr asset not fetched")
    v = mt.view(FAST, mt.UDHR, languages="eng, nope_xx")
    assert "unknown UDHR language code 'nope_xx'" in v.status and v.frame.empty
    v = mt.view(FAST, mt.UDHR, languages="eng, fra")
    assert len(v.frame) == 4 and set(v.frame["slice"]) == {"eng · English", "fra · French"}


def test_table_one_row_per_tokenizer_and_slice_and_csv_header(tmp_path):
    v = _upload_view(tmp_path, "three.txt", "English: hello world\nDeutsch: hallo Welt\n中文：你好世界\n".encode(),
                     split="lines")
    assert len(v.frame) == len(FAST) * 3, v.status
    assert list(zip(v.frame["tokenizer"], v.frame["slice"])) == [
        (t, s) for t in FAST for s in ("English", "Deutsch", "中文")]
    for col in ("bytes/token", "chars/token", "fertility", "unit", "continued-word ratio", "round-trip rate",
                "UNK rate", "byte-fallback rate", "vocab utilisation", "unreachable", "Shannon eff.",
                "Renyi eff. (2.5)", "Zipf slope", "lossy"):
        assert col in v.frame.columns
    assert "three.txt" in v.status and "UTF-8" in v.status
    with open(v.csv_path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["tokenizer", "slice", "documents"] and "lossy" in rows[0] and len(rows) == 1 + 6


def test_too_many_tokenizers_and_none():
    assert "at most 4" in mt.view(FAST * 3 + ["text/r50k_base", "text/cl100k_base", "text/o200k_base"]).status
    assert "choose 1 to 4" in mt.view([]).status


def test_bert_on_chinese_is_flagged_lossy():
    try:
        v = mt.view(["text/bert-base-uncased"], mt.SAMPLE)
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"bert not loadable: {e}")
    if v.frame.empty:
        pytest.skip(f"bert asset not available: {v.status}")
    row = v.frame[v.frame["slice"] == "中文"].iloc[0]
    assert row["lossy"] == "LOSSY" and "UNK" in row["flags"]
    assert "lossy" in v.status


def test_builds_inside_blocks():
    import gradio as gr

    with gr.Blocks():
        mt.build()


@pytest.mark.app
def test_metrics_endpoint_through_the_running_app(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    status, table, path = client.predict(["text/bytes"], mt.SAMPLE, mt.DEFAULT_LANGUAGES, None,
                                         next(iter(mt.UPLOAD_SPLITS)), 10_000, api_name="/metrics")
    assert "rows" in status and len(table["data"]) == 16 and path
    status, table, path = client.predict(["text/bytes"], mt.UDHR, "nope_xx", None, next(iter(mt.UPLOAD_SPLITS)),
                                         10_000, api_name="/metrics")
    assert "nope_xx" in status and not table["data"] and path is None
