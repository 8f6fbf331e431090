"""The bench report: ``reports/bench.json`` (the data) and ``reports/bench.md`` (the same, to read).

    report = runner.run(groups=("text",))     # {"created", "machine", "quick", "rows", "targets"}
    write(report, Path("reports"))            # bench.json + bench.md; returns the markdown
    add_load(Path("reports"), asdict(load))   # the load section (tools/loadtest.py) into that report

``rows`` are ``harness.Row``s as dicts; ``targets`` are ``targets.Target``s as dicts, each judged
when its numbers were measured; ``load`` (when the load test has run) is ``{"report": <the load
test's LoadReport as a dict>, "verdict": <targets.Verdict of the load targets>}``. Reports written
before the endpoint field ``kind`` was renamed ``modality`` read the same.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping

from .harness import machine
from .targets import load_targets, target_from_dict, verdict


def new_report(quick: bool) -> dict[str, Any]:
    """The header of a report with nothing measured yet."""
    return {"created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
            "quick": quick, "rows": [], "targets": []}


def write(report: Mapping[str, Any], out: Path) -> str:
    """``out/bench.json`` and ``out/bench.md``; returns the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    md = to_markdown(report)
    (out / "bench.md").write_text(md)
    return md


def read(out: Path) -> dict[str, Any]:
    return json.loads((out / "bench.json").read_text())


def add_load(out: Path, load: Mapping[str, Any], quick: bool = False,
             before: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Put the load section into ``out/bench.json`` (a new report when there is none) with its
    targets judged, and rewrite bench.md; returns the report. ``before``: {"checkout": what it
    was, "report": its load report}, the same load on another checkout in the same run."""
    report = read(out) if (out / "bench.json").is_file() else new_report(quick)
    judged = load_targets(load)
    report["load"] = {"report": dict(load), "verdict": asdict(verdict(judged))}
    if before is not None:
        report["load"]["before"] = dict(before)
    report["targets"] = [t for t in report.get("targets", []) if t["group"] != "load"] + [asdict(t) for t in judged]
    write(report, out)
    return report


def load_markdown(load: Mapping[str, Any]) -> str:
    """The latency table of a load report (its dict form), the CPU spent and the load verdict."""
    v = verdict(load_targets(load))
    tr = load.get("training")
    wall, think = load["wall_s"], load.get("think_s", 0.0)
    lines = [
        f"{load['clients']} concurrent clients x {load['requests_per_client']} requests on loopback"
        + (f" (each pausing {think:g} s on average after an answer, as a person reading it)"
           if think else " (back to back)") + f", {wall:.1f} s wall" + (
            f", while a cpu-tiny training run went from step {tr['steps_before']} to {tr['steps_after']} "
            f"({tr['status_after']})" if tr else ", no training run") + ".",
        "",
        "| endpoint | modality | n | errors | p50 ms | p95 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    fmt = lambda x: "–" if x is None else f"{x:.0f}"  # noqa: E731
    for e in load["endpoints"]:
        modality = e.get("modality", e.get("kind"))  # "kind": reports written before the rename
        lines.append(f"| {e['endpoint']} | {modality} | {e['n']} | {e['errors']} | {fmt(e['p50_ms'])} | "
                     f"{fmt(e['p95_ms'])} | {fmt(e['max_ms'])} |")
    cpu = f"CPU during the load: the clients (gradio_client, a process each) {load.get('client_cpu_s', 0.0):.1f} s"
    cpu += "" if load.get("app_cpu_s") is None else f", the app {load['app_cpu_s']:.1f} s"
    lines += ["", cpu + f", in {wall:.1f} s wall on {os.cpu_count()} cores."]
    lines += ["", f"Target: {v.target}. **{'PASS' if v.passed else 'FAIL'}**" + (
        "" if v.passed else ": " + "; ".join(v.failures))]
    return "\n".join(lines) + "\n"


def before_after_markdown(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """p50 and p95 per endpoint under the same load, another checkout (before) against this one."""
    old = {e["endpoint"]: e for e in before["report"]["endpoints"]}
    fmt = lambda x: "–" if x is None else f"{x:.0f}"  # noqa: E731
    lines = [f"The same load on {before['checkout']} (before), in the same run:", "",
             "| endpoint | p50 ms before | p50 ms after | p95 ms before | p95 ms after |", "|---|---:|---:|---:|---:|"]
    for e in after["endpoints"]:
        b = old.get(e["endpoint"], {})
        lines.append(f"| {e['endpoint']} | {fmt(b.get('p50_ms'))} | {fmt(e['p50_ms'])} | {fmt(b.get('p95_ms'))} | "
                     f"{fmt(e['p95_ms'])} |")
    cpu_b, cpu_a = before["report"].get("app_cpu_s"), after.get("app_cpu_s")
    if cpu_b is not None and cpu_a is not None:
        lines += ["", f"The app's CPU during the load: {cpu_b:.1f} s before, {cpu_a:.1f} s after."]
    return "\n".join(lines) + "\n"


def request_cpu_markdown(costs: Mapping[str, Any]) -> str:
    """What one heavy request costs the app, one at a time (tools/request_cpu.py), after and before."""
    old = {c["endpoint"]: c for c in costs.get("before") or []}
    lines = ["| request | app CPU s, before | app CPU s, after | after / before | wall ms before | wall ms after |",
             "|---|---:|---:|---:|---:|---:|"]
    for c in costs["after"]:
        b = old.get(c["endpoint"])
        ratio = f"{c['cpu_s'] / b['cpu_s']:.2f}" if b and b["cpu_s"] else "–"
        lines.append(f"| {c['endpoint']} | {b['cpu_s'] if b else '–'} | {c['cpu_s']} | {ratio} | "
                     f"{b['wall_ms'] if b else '–'} | {c['wall_ms']} |")
    return "\n".join(lines) + "\n"


def _number(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def targets_markdown(targets: list[Mapping[str, Any]]) -> str:
    """One line per target: what is required, the number measured, the verdict and why."""
    lines = ["| group | target | measured | verdict | detail |", "|---|---|---:|---|---|"]
    for d in targets:
        t = target_from_dict(d)
        where = f" [{t.split}]" if t.split else ""
        lines.append(f"| {t.group} | {t.claim}{where} | {_number(t.value)} {t.unit} | **{t.verdict}** | {t.detail} |")
    return "\n".join(lines) + "\n"


def to_markdown(report: Mapping[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# tokenworks benchmarks",
        "",
        f"Run {report['created']}" + (" (quick)" if report.get("quick") else "") + ".",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in m.items() if v is not None),
        "",
    ]
    if report["rows"] or "load" not in report:
        lines += [
            "Every row is the median of several runs; *ratio* is its speed relative to its anchor, timed in the same run (> 1: faster than the anchor).",
            "",
            "| group | measure | value | anchor | anchor value | ratio | notes |",
            "|---|---|---:|---|---:|---:|---|",
        ]
    for r in report["rows"]:
        lines.append(
            f"| {r['group']} | {r['name']} | {r['value']:.2f} {r['unit']} | `{r['anchor']}` | "
            f"{r['anchor_value']:.2f} {r['unit']} | {r['ratio']:.3f} | {r['notes']} |"
        )
    if "load" in report:
        lines += ["", "## Load: the app under concurrent clients", "", load_markdown(report["load"]["report"]).rstrip("\n")]
        if report["load"].get("before"):
            lines += ["", before_after_markdown(report["load"]["before"], report["load"]["report"]).rstrip("\n")]
    if report.get("request_cpu"):
        lines += ["", "## What one heavy request costs the app", "",
                  "App CPU seconds per request (user + system, every thread), requests one at a time "
                  f"({report['request_cpu'].get('repeats', '?')} of each; tools/request_cpu.py)"
                  + (f"; before: the app of {report['request_cpu']['before_checkout']}, in the same run"
                     if report["request_cpu"].get("before_checkout") else "") + ".", "",
                  request_cpu_markdown(report["request_cpu"]).rstrip("\n")]
    if report.get("targets"):
        lines += ["", "## Targets", "", "Each acceptance target (bench/targets.py) on the numbers above.", "",
                  targets_markdown(report["targets"]).rstrip("\n")]
    return "\n".join(lines) + "\n"
