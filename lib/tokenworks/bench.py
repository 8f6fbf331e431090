"""``make bench`` / ``tokenworks bench``: measured numbers, each against an anchor in the same run.

Machines are shared and noisy, so every row reports a ratio to an anchor timed in the same
process moments apart, and the median of several repeats. Each modality adds its own bench
function to ``BENCHES``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__


@dataclass
class Row:
    group: str  # e.g. "text"
    name: str  # what is measured, e.g. "text/bytes encode"
    value: float
    unit: str  # e.g. "MB/s"
    anchor: str  # what it is compared with, e.g. "bytes(str.encode('utf-8'))"
    anchor_value: float
    ratio: float  # relative to the anchor, > 1 is better: value/anchor for rates (MB/s) and quality (dB, share),
    # anchor/value for times (s, ms)
    notes: str = ""


@dataclass
class BenchContext:
    quick: bool  # fewer repeats and smaller inputs (tests)
    repeats: int = 5
    rows: list[Row] = field(default_factory=list)


def machine() -> dict[str, object]:
    """What this machine is, for the report header."""
    info: dict[str, object] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "tokenworks": __version__,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    try:
        import numpy
        import torch

        info.update(numpy=numpy.__version__, torch=torch.__version__, torch_threads=torch.get_num_threads(),
                    cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    except ImportError:
        pass
    return info


def wall_times(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall times of ``fn()`` over ``repeats`` runs after one warm-up, in seconds."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def timeit(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs after one warm-up, in seconds."""
    return statistics.median(wall_times(fn, repeats))


def p95(fn: Callable[[], object], repeats: int) -> float:
    """95th percentile wall time of ``fn()`` over ``repeats`` runs after one warm-up, in seconds."""
    times = sorted(wall_times(fn, repeats))
    pos = 0.95 * (len(times) - 1)  # linear interpolation, as numpy.percentile's default
    lo = int(pos)
    hi = min(lo + 1, len(times) - 1)
    return times[lo] + (times[hi] - times[lo]) * (pos - lo)


def _benches() -> list[Callable[[BenchContext], None]]:
    """Every modality's bench functions, in report order."""
    from .audio import benchmarks as audio_benchmarks
    from .image import benchmarks as image_benchmarks
    from .text import benchmarks as text_benchmarks

    return list(text_benchmarks.BENCHES) + list(image_benchmarks.BENCHES) + list(audio_benchmarks.BENCHES)


GROUPS = ("text", "image", "audio", "load")
LOAD_CLIENTS = (30, 10)  # the load group: concurrent clients x requests each (the load)
LOAD_CLIENTS_QUICK = (6, 3)


def load_bench(quick: bool) -> dict[str, object]:
    """The load group: the app under many gradio_client clients while a training run goes on."""
    from dataclasses import asdict as _asdict

    from . import loadtest

    clients, per_client = LOAD_CLIENTS_QUICK if quick else LOAD_CLIENTS
    report = loadtest.run_load(clients=clients, requests_per_client=per_client)
    return {"report": _asdict(report), "verdict": _asdict(loadtest.verdict(report))}


def run(quick: bool = False, groups: tuple[str, ...] = GROUPS) -> dict[str, object]:
    bad = sorted(set(groups) - set(GROUPS))
    if bad:
        raise SystemExit(f"unknown bench group(s) {', '.join(bad)}; choose from {', '.join(GROUPS)}")
    ctx = BenchContext(quick=quick, repeats=3 if quick else 7)
    for bench in _benches():
        if bench.__module__.split(".")[-2] in groups:
            bench(ctx)
    report: dict[str, object] = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": quick,
        "rows": [asdict(r) for r in ctx.rows],
    }
    if "load" in groups:
        report["load"] = load_bench(quick)
    return report


def to_markdown(report: dict[str, object]) -> str:
    m = report["machine"]
    lines = [
        "# tokenworks benchmarks",
        "",
        f"Run {report['created']}" + (" (quick)" if report.get("quick") else "") + ".",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in m.items() if v is not None),  # type: ignore[union-attr]
        "",
    ]
    if report["rows"] or "load" not in report:
        lines += [
            "Every row is the median of several runs; *ratio* is its speed relative to its anchor, timed in the same run (> 1: faster than the anchor).",
            "",
            "| group | measure | value | anchor | anchor value | ratio | notes |",
            "|---|---|---:|---|---:|---:|---|",
        ]
    for r in report["rows"]:  # type: ignore[union-attr]
        lines.append(
            f"| {r['group']} | {r['name']} | {r['value']:.2f} {r['unit']} | `{r['anchor']}` | "
            f"{r['anchor_value']:.2f} {r['unit']} | {r['ratio']:.3f} | {r['notes']} |"
        )
    if "load" in report:
        from .loadtest import LoadReport, to_markdown as load_markdown

        lines += ["", "## Load: the app under concurrent clients", "",
                  load_markdown(LoadReport.from_dict(report["load"]["report"])).rstrip("\n")]  # type: ignore[index]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tokenworks bench", description="Write reports/bench.json and reports/bench.md.")
    ap.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default reports/)")
    ap.add_argument("--quick", action="store_true", help="small inputs, few repeats (for tests)")
    ap.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups to run (default all: {','.join(GROUPS)})")
    args = ap.parse_args(argv)
    report = run(quick=args.quick, groups=tuple(g for g in args.only.split(",") if g))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    md = to_markdown(report)
    (args.out / "bench.md").write_text(md)
    print(md)
    return 0
