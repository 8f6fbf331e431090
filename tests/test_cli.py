"""The tokenworks command: output, exit codes, and one-line errors instead of tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tokenworks.bench import runner as bench
from tokenworks.cli import main


def test_tokenize_prints_tokens_with_spans(capsys):
    assert main(["tokenize", "text/bytes", "héllo"]) == 0
    out = capsys.readouterr().out
    assert "text/bytes: 6 tokens" in out
    assert "<0xC3>" in out and "<0xA9>" in out
    assert out.splitlines()[3].split()[:4] == ["1", "195", "1-2", "1-2"]


def test_tokenize_json_round_trips(capsys):
    assert main(["tokenize", "text/chars", "a👋", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ids"] == [97, 128075] and d["spans"][1] == {"start": 1, "end": 2, "byte_start": 1, "byte_end": 5}


def test_tokenize_a_file_as_bytes(tmp_path, capsys):
    f = tmp_path / "x.bin"
    f.write_bytes(b"\xff\x00a")
    assert main(["tokenize", "text/bytes", "--file", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ids"] == [255, 0, 97]


@pytest.mark.parametrize(
    "argv,code,message",
    [
        (["tokenize", "text/nope", "x"], 1, "Did you mean 'text/"),
        (["tokenize", "text/bytes", "--file", "/no/such/file"], 1, "cannot read /no/such/file"),
        (["train", "resume", "../x"], 2, "not a run id"),
        (["train", "video"], 2, "invalid choice"),
        (["eval"], 1, "not available yet"),
        (["frobnicate"], 2, "choose one of app, assets"),
    ],
)
def test_errors_are_one_clear_line(argv, code, message, capsys):
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_console_script_runs():
    r = subprocess.run([sys.executable, "-m", "tokenworks.cli", "list", "--modality", "text"], capture_output=True, text=True)
    assert r.returncode == 0 and "text/bytes" in r.stdout and "text/chars" in r.stdout


def test_bench_writes_json_and_markdown(tmp_path):
    assert bench.main(["--quick", "--only", "text", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["machine"]["cpu_count"] >= 1
    names = {r["name"] for r in report["rows"]}
    assert {"text/bytes encode (ids + spans)", "text/chars decode"} <= names
    for r in report["rows"]:
        assert r["value"] > 0 and r["anchor_value"] > 0
        # ratio is speed relative to the anchor: value/anchor for rates, anchor/value for times
        higher_better = r["unit"].endswith("/s") or r["unit"] in ("dB", "share")
        speed = r["value"] / r["anchor_value"] if higher_better else r["anchor_value"] / r["value"]
        assert r["ratio"] == pytest.approx(speed, rel=1e-6)
    assert "| text | text/bytes encode" in (tmp_path / "bench.md").read_text()


def test_bench_image_rows(tmp_path):
    assert bench.main(["--quick", "--only", "image", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "bench.json").read_text())["rows"]
    names = [r["name"] for r in rows]
    assert any("encode+decode 32x32" in n for n in names) and any("encode+decode 64x64" in n for n in names)
    assert any("prefixes of one image" in n for n in names)
    assert any("view 'strip'" in n for n in names)
    assert all(r["group"] == "image" for r in rows)
    for r in rows:
        assert r["value"] > 0 and r["anchor_value"] > 0
        higher_better = r["unit"].endswith("/s") or r["unit"] in ("dB", "share")
        speed = r["value"] / r["anchor_value"] if higher_better else r["anchor_value"] / r["value"]
        assert r["ratio"] == pytest.approx(speed, rel=1e-6)
