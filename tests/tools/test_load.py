"""The load test (tools/loadtest.py), in its short form: a few gradio_client clients at once
against the app on loopback while a cpu-tiny training run goes on; every request must answer."""
from __future__ import annotations

import pytest

from tokenworks.bench import report as bench
from tokenworks.errors import InvalidInput
from tools.loadtest import PLAN, EndpointStats, LoadReport, TrainingState, check_loopback, percentile, run_load
from tools.loadtest import to_markdown, verdict


@pytest.mark.app
@pytest.mark.slow
def test_short_load_with_training_answers_every_request():
    report = run_load(clients=6, requests_per_client=3, timeout_s=120, request_timeout_s=60)
    by_name = {e.endpoint: e for e in report.endpoints}
    assert set(by_name) == {s.endpoint for s in PLAN}  # every endpoint of the mix was exercised
    assert sum(e.n for e in report.endpoints) == 6 * 3 and report.unfinished == 0
    assert report.errors == 0, [(e.endpoint, e.messages) for e in report.endpoints if e.errors]
    for e in report.endpoints:
        assert 0 < e.p50_ms <= e.p95_ms <= e.max_ms, e
    assert by_name["/tokenize"].n > by_name["/image_sample"].n  # text is the majority
    tr = report.training
    assert tr is not None and tr.running_throughout and tr.steps_after > tr.steps_before, tr
    assert "| /audio_k | audio | " in to_markdown(report)
    assert report.client_cpu_s > 0 and report.app_cpu_s is not None and report.app_cpu_s > 0


def test_refuses_a_url_that_is_not_loopback():
    for url in ("http://10.0.0.5:7860/", "http://example.com/", "ftp://127.0.0.1/"):
        with pytest.raises(InvalidInput, match="loopback"):
            run_load(url, clients=1, requests_per_client=1, with_training=False)
    assert check_loopback("http://127.0.0.1:7860/") and check_loopback("http://[::1]:80/")


def test_percentile_interpolates():
    assert percentile([1.0], 95) == 1.0
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 50) == 30.0
    assert percentile(list(map(float, range(101))), 95) == pytest.approx(95.0)


def _report(text_p95: float, errors: int = 0, running: bool = True) -> LoadReport:
    return LoadReport(
        url="http://127.0.0.1:1/", clients=30, requests_per_client=10, wall_s=12.5, unfinished=0,
        endpoints=[EndpointStats("/tokenize", "text", 180, 0, [], 50.0, text_p95, text_p95 + 1),
                   EndpointStats("/audio_sample", "audio", 30, errors, ["timeout"] if errors else [], 900.0, 2000.0, 2500.0)],
        training=TrainingState("r", running, 5, 90 if running else 5, "running" if running else "done"),
        client_cpu_s=11.0, app_cpu_s=3.5)


def test_verdict_comes_from_the_numbers():
    assert verdict(_report(120.0)).passed
    v = verdict(_report(301.0))
    assert not v.passed and "p95 301 ms" in v.failures[0]
    v = verdict(_report(120.0, errors=2))
    assert not v.passed and "2 of 30 requests failed (timeout)" in v.failures[0]
    assert not verdict(_report(120.0, running=False)).passed


def test_bench_markdown_has_the_latency_table():
    from dataclasses import asdict

    for p95, word in ((120.0, "**PASS**"), (450.0, "**FAIL**")):
        rep = _report(p95)
        md = bench.to_markdown({"created": "now", "machine": {"cpu_count": 2}, "quick": False, "rows": [],
                                "load": {"report": asdict(rep), "verdict": asdict(verdict(rep))}})
        assert "| endpoint | modality | n | errors | p50 ms | p95 ms | max ms |" in md
        assert f"| /tokenize | text | 180 | 0 | 50 | {p95:.0f} | {p95 + 1:.0f} |" in md
        assert word in md and "text endpoints p95 < 300 ms" in md
        assert "the clients (gradio_client, a process each) 11.0 s, the app 3.5 s" in md


def test_a_hung_server_is_errors_and_the_run_stops_by_itself():
    import socket
    import time

    with socket.socket() as s:  # accepts connections, never answers
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        t0 = time.monotonic()
        report = run_load(f"http://127.0.0.1:{s.getsockname()[1]}/", clients=2, requests_per_client=2,
                          with_training=False, warmup=False, timeout_s=3, request_timeout_s=2)
    assert time.monotonic() - t0 < 30
    assert sum(e.n for e in report.endpoints) == 4 and report.errors == 4
    assert not verdict(report).passed


def test_think_times_are_seeded_per_client_and_zero_means_back_to_back():
    from tools.loadtest import think_times

    a, b = think_times(3, 200, 1.0), think_times(4, 200, 1.0)
    assert a == think_times(3, 200, 1.0) and a != b  # the same pauses each run, different per client
    assert all(x >= 0 for x in a) and 0.7 < sum(a) / len(a) < 1.4  # exponential with mean 1 s
    assert think_times(3, 5, 0.0) == [0.0] * 5
    with pytest.raises(InvalidInput, match="think_s"):
        run_load("http://127.0.0.1:9/", clients=1, requests_per_client=1, think_s=-1)
