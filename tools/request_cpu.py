"""What one heavy request costs the app: its server CPU seconds and wall time, one request at a time.

    python -m tools.request_cpu                      # this checkout's app, 8 of each heavy request
    python -m tools.request_cpu --checkout ../old    # another checkout's app (a before/after pair)
    python -m tools.request_cpu --before ../old --bench reports   # both, into reports/bench.{json,md}

The app is launched on loopback (``tools.loadtest.serve_app``), one ``gradio_client`` client warms
every request up once, then sends each heavy request of the load test's plan ``repeats`` times in
a row; the app process's user + system CPU seconds (psutil) before and after, divided by the
requests, is the CPU a request costs, and it counts everything the server does for it: the handler,
Gradio's pre- and post-processing (state copies, files written for players, JSON), the queue.
CPU seconds are steadier than wall time on a shared machine, so they are the figure to compare.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tokenworks.bench import report as bench_report
from tokenworks.errors import TokenworksError

from .loadtest import PLAN, ROOT, _cpu_s, _describe, serve_app

HEAVY = tuple(s for s in PLAN if s.modality in ("image", "audio"))  # image_sample, image_k, audio_sample, audio_k


@dataclass
class RequestCost:
    endpoint: str  # api name
    requests: int
    cpu_s: float  # app CPU seconds per request (user + system, every thread)
    wall_ms: float  # median wall time of one request, as the client saw it


def measure(url: str, pid: int, repeats: int = 8) -> list[RequestCost]:
    """The cost of each heavy request of the plan, in plan order (a step that needs the previous
    one's state runs right after it, so each pair keeps its own session's state)."""
    from gradio_client import Client

    client = Client(url, verbose=False, ssl_verify=False)
    for step in PLAN:  # load every tokenizer first, so loading is not counted
        client.predict(*step.args, api_name=step.endpoint)
    costs = []
    for step in HEAVY:
        walls = []
        first = next(s for s in PLAN if s.modality == step.modality and not s.needs_state)
        if step.needs_state:
            client.predict(*first.args, api_name=first.endpoint)
        cpu0 = _cpu_s(pid)
        for _ in range(repeats):
            t0 = time.perf_counter()
            client.predict(*step.args, api_name=step.endpoint)
            walls.append(time.perf_counter() - t0)
        cpu1 = _cpu_s(pid)
        if cpu0 is None or cpu1 is None:
            raise TokenworksError("the app's CPU time cannot be read here (psutil is missing)")
        costs.append(RequestCost(step.endpoint, repeats, round((cpu1 - cpu0) / repeats, 4),
                                 round(statistics.median(walls) * 1000, 1)))
    return costs


def run(checkout: Path = ROOT, repeats: int = 8) -> list[RequestCost]:
    """Launch ``checkout``'s app (its own lib/ first on the path) and measure it."""
    checkout = Path(checkout).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="tokenworks-cpu-"))
    env = {**os.environ, "TOKENWORKS_RUNS": str(tmp / "runs"), "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(checkout / "lib")}
    with serve_app(env, 240, tmp / "app.log", checkout) as (url, pid):
        return measure(url, pid, repeats)


def to_markdown(costs: list[RequestCost], before: list[RequestCost] | None = None) -> str:
    lines = ["| request | app CPU s / request | wall ms (median, one at a time) |"
             + (" before: CPU s | before: wall ms | CPU after / before |" if before else ""),
             "|---|---:|---:|" + ("---:|---:|---:|" if before else "")]
    old = {c.endpoint: c for c in before or []}
    for c in costs:
        row = f"| `{c.endpoint}` | {c.cpu_s:.3f} | {c.wall_ms:.0f} |"
        if before and c.endpoint in old:
            b = old[c.endpoint]
            row += f" {b.cpu_s:.3f} | {b.wall_ms:.0f} | {c.cpu_s / b.cpu_s:.2f} |" if b.cpu_s else " | | |"
        lines.append(row)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.request_cpu", description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose app is measured (default: this one)")
    ap.add_argument("--before", type=Path, default=None,
                    help="another checkout measured first, in the same run, for a before/after table")
    ap.add_argument("--repeats", type=int, default=8, help="requests of each kind (default 8)")
    ap.add_argument("--bench", type=Path, metavar="DIR",
                    help="add the numbers to DIR/bench.json and DIR/bench.md (a new report if there is none)")
    a = ap.parse_args(argv)
    if a.repeats < 1:
        ap.error(f"--repeats must be at least 1, not {a.repeats}")
    try:
        before = run(a.before, a.repeats) if a.before else None
        after = run(a.checkout, a.repeats)
    except TokenworksError as e:
        print(f"request_cpu: {e}", file=sys.stderr)
        return 1
    print(to_markdown(after, before))
    if a.bench is not None:
        report = bench_report.read(a.bench) if (a.bench / "bench.json").is_file() else bench_report.new_report(False)
        report["request_cpu"] = {"repeats": a.repeats, "after": [asdict(c) for c in after],
                                 "before": [asdict(c) for c in before] if before else None,
                                 "before_checkout": _describe(a.before) if a.before else None}
        bench_report.write(report, a.bench)
        print(f"wrote the request costs into {a.bench / 'bench.json'} and {a.bench / 'bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
