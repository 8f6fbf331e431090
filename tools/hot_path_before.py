"""The text hot-path rows of an older checkout, measured now beside this one's, for the before/after
table of ``reports/bench.md`` (the rows themselves are ``tokenworks.text.hot_path_bench``).

    python -m tools.hot_path_before CHECKOUT --bench reports

CHECKOUT must hold ``lib/tokenworks/text/hot_path_bench.py`` (a commit from the one that added the
rows on the unchanged engine onward). Its rows are measured in a process of their own, with its
library first on the path, and added to the report named "... (before: <commit>)"; this checkout's
rows come from ``tokenworks bench`` in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tokenworks.bench import report as bench_report

from .loadtest import _describe

MEASURE = ("import dataclasses, json\n"
           "from tokenworks.text.hot_path_bench import hot_path_rows\n"
           "print(json.dumps([dataclasses.asdict(r) for r in hot_path_rows({quick}, {repeats})]))\n")


def rows_of(checkout: Path, quick: bool = False, repeats: int = 5) -> list[dict]:
    """The hot-path rows of ``checkout``'s library, measured in a subprocess."""
    if not (checkout / "lib" / "tokenworks" / "text" / "hot_path_bench.py").is_file():
        raise SystemExit(f"{checkout} has no lib/tokenworks/text/hot_path_bench.py: give a checkout from the commit "
                         "that added the hot-path rows onward")
    env = {**os.environ, "PYTHONPATH": str(checkout / "lib")}
    out = subprocess.run([sys.executable, "-c", MEASURE.format(quick=quick, repeats=repeats)], env=env,
                         capture_output=True, text=True, check=True, cwd=checkout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.hot_path_before", description=__doc__.split("\n\n")[0])
    ap.add_argument("checkout", type=Path, help="the older checkout")
    ap.add_argument("--bench", type=Path, metavar="DIR", required=True, help="the report to add the rows to")
    ap.add_argument("--quick", action="store_true", help="less text, fewer rounds")
    a = ap.parse_args(argv)
    label = _describe(a.checkout)
    rows = rows_of(a.checkout.resolve(), a.quick)
    report = bench_report.read(a.bench) if (a.bench / "bench.json").is_file() else bench_report.new_report(a.quick)
    kept = [r for r in report["rows"] if "(before:" not in r["name"]]
    report["rows"] = kept + [{**r, "name": f"{r['name']} (before: {label})"} for r in rows]
    bench_report.write(report, a.bench)
    for r in rows:
        print(f"{r['name']}: {r['ratio']:.2f}x (before: {label})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
