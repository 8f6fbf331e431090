"""``tokenworks bench``: run the modality benches and write the report.

    tokenworks bench [--out reports] [--quick] [--only text,image,realphoto,audio,lm,tournament]

Each modality's ``benchmarks`` module lists its bench functions in ``BENCHES``, in report order;
``realphoto`` is image's held-out real photographs (``image.benchmarks.REALPHOTO_BENCHES``).
The load group is not run from here: it drives the checkout's app, and ``python -m tools.loadtest
--bench reports`` (run from the checkout; ``make bench`` runs both) adds it to the same report.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from ..audio import benchmarks as audio_benchmarks
from ..image import benchmarks as image_benchmarks
from ..lm import benchmarks as lm_benchmarks
from ..lm.tiny.bench import bench_tournament
from ..text import benchmarks as text_benchmarks
from . import report as report_mod
from .harness import BenchContext
from .targets import hot_path_targets

BENCHES: dict[str, list[Callable[[BenchContext], None]]] = {
    "text": text_benchmarks.BENCHES,
    "image": image_benchmarks.BENCHES,
    "realphoto": image_benchmarks.REALPHOTO_BENCHES,  # held-out real photos: flex1d-photo64 vs codecs, 128x128 codecs
    "audio": audio_benchmarks.BENCHES,
    "lm": lm_benchmarks.BENCHES,
    "tournament": [bench_tournament],  # reads the last cpu tournament (tokenworks lm tournament --preset cpu)
}
GROUPS = tuple(BENCHES)
LOAD = "the load group drives the checkout's app: run `python -m tools.loadtest --bench reports` from a checkout " \
       "(`make bench` runs it after these groups)"


def benches(groups: tuple[str, ...] = GROUPS) -> list[Callable[[BenchContext], None]]:
    """The bench functions of ``groups``, in report order."""
    return [b for g in GROUPS if g in groups for b in BENCHES[g]]


def run(quick: bool = False, groups: tuple[str, ...] = GROUPS) -> dict[str, Any]:
    """Run the benches of ``groups``; the report (see ``bench.report``) with their rows and targets."""
    if "load" in groups:
        raise SystemExit(LOAD)
    bad = sorted(set(groups) - set(GROUPS))
    if bad:
        raise SystemExit(f"unknown bench group(s) {', '.join(bad)}; choose from {', '.join(GROUPS)}")
    ctx = BenchContext(quick=quick, repeats=3 if quick else 7)
    for bench in benches(groups):
        bench(ctx)
    report = report_mod.new_report(quick)
    report["rows"] = [asdict(r) for r in ctx.rows]
    judged = list(ctx.targets) + (hot_path_targets(ctx.rows) if "text" in groups else [])
    report["targets"] = [asdict(t) for t in judged]
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tokenworks bench", description="Write reports/bench.json and reports/bench.md.")
    ap.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default reports/)")
    ap.add_argument("--quick", action="store_true", help="small inputs, few repeats (for tests)")
    ap.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups to run (default all: {','.join(GROUPS)})")
    args = ap.parse_args(argv)
    report = run(quick=args.quick, groups=tuple(g for g in args.only.split(",") if g))
    print(report_mod.write(report, args.out))
    return 0
