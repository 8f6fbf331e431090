"""tools/request_cpu.py and tools/app_bench.py: their tables and their rows in the bench report."""
from __future__ import annotations

import json

from tokenworks.bench import report as bench_report
from tools import app_bench, request_cpu


def test_request_costs_are_tabled_after_and_before():
    after = [request_cpu.RequestCost("/audio_sample", 4, 0.5, 900.0), request_cpu.RequestCost("/image_k", 4, 0.01, 20.0)]
    before = [request_cpu.RequestCost("/audio_sample", 4, 2.0, 3500.0)]
    md = request_cpu.to_markdown(after, before)
    assert "| `/audio_sample` | 0.500 | 900 | 2.000 | 3500 | 0.25 |" in md
    assert "| `/image_k` | 0.010 | 20 |" in md  # no before: nothing to compare
    assert request_cpu.HEAVY and all(s.modality in ("image", "audio") for s in request_cpu.HEAVY)
    assert {s.endpoint for s in request_cpu.HEAVY} == {"/image_sample", "/image_k", "/audio_sample", "/audio_k"}


def test_request_costs_go_into_the_bench_report(tmp_path):
    report = bench_report.new_report(True)
    report["request_cpu"] = {"repeats": 4, "after": [{"endpoint": "/audio_k", "requests": 4, "cpu_s": 0.1, "wall_ms": 90}],
                             "before": [{"endpoint": "/audio_k", "requests": 4, "cpu_s": 0.2, "wall_ms": 150}]}
    bench_report.write(report, tmp_path)
    md = (tmp_path / "bench.md").read_text()
    assert "What one heavy request costs the app" in md and "| /audio_k | 0.2 | 0.1 | 0.50 | 150 | 90 |" in md
    assert json.loads((tmp_path / "bench.json").read_text())["request_cpu"]["repeats"] == 4


def test_the_text_tab_rows_are_added_to_a_report(tmp_path):
    assert app_bench.main(["--quick", "--bench", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "bench.json").read_text())["rows"]
    assert [r["name"].split(",")[0] for r in rows] == ["Text tab re-tokenize + render", "Text tab 4-way Compare"]
    assert all(r["value"] > 0 and r["unit"] == "ms" and "target <" in r["notes"] for r in rows)
    assert app_bench.main(["--quick", "--bench", str(tmp_path)]) == 0  # a second run replaces its rows
    assert len(json.loads((tmp_path / "bench.json").read_text())["rows"]) == 2
