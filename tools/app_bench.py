"""The app's own benchmark rows: this checkout's Text tab handler re-tokenizing and rendering 10,000
characters, in process (no network). It drives the checkout's app/, so it lives in the checkout;
``make bench`` runs it after the library's benches and adds its rows to the same report:

    python -m tools.app_bench --bench reports       # rows into reports/bench.{json,md}
    python -m tools.app_bench                       # print them
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from tokenworks.bench import report as bench_report
from tokenworks.bench.harness import BenchContext, Row, p95
from tokenworks.text.benchmarks import text_corpus

CASES = (("Tokens", 0.100), ("Compare", 0.250))  # mode, target p95 in seconds


def bench_text_tab(ctx: BenchContext) -> None:
    """Re-tokenize and render 10,000 characters in the Text tab through its handler: one tokenizer
    (target p95 < 100 ms) and a 4-way Compare (target p95 < 250 ms), each against the tokenizers'
    own encode of the same text (the part that is not view)."""
    from app import text_tab
    from tokenworks import registry
    from tokenworks.errors import AssetMissing

    text = text_corpus(False)[:10_000]
    nbytes = len(text.encode("utf-8"))
    repeats = 10 if ctx.quick else 40
    four = ["text/cl100k_base", "text/o200k_base", "text/llama2", "text/bytes"]
    try:
        registry.load_shared("text/llama2")
    except AssetMissing:
        four[2] = "text/r50k_base"
    for mode, target in CASES:
        names = ["text/cl100k_base"] if mode == "Tokens" else four
        label = f"Text tab {'re-tokenize + render' if mode == 'Tokens' else '4-way Compare'}, 10,000 chars, p95"
        toks = [registry.load_shared(n) for n in names]
        t_view = p95(lambda: text_tab.show(text, names, mode), repeats)
        t_enc = p95(lambda: [t.encode(text).spans[0] for t in toks], repeats)
        html_kb = len(text_tab.show(text, names, mode)[0]) / 1024
        met = "met" if t_view < target else "NOT met"
        ctx.rows.append(Row(
            "text", f"{label} ({', '.join(names)})", t_view * 1000, "ms",
            "tok.encode(text) with spans, same tokenizer(s), p95", t_enc * 1000, t_enc / t_view,
            f"target < {target * 1000:.0f} ms: {met}; {nbytes:,} bytes of the multilingual sample, "
            f"{repeats} repeats, {html_kb:,.0f} KiB of HTML; the browser's own rendering not included"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.app_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", type=Path, metavar="DIR",
                    help="add the rows to DIR/bench.json and DIR/bench.md (a new report if there is none)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    a = ap.parse_args(argv)
    ctx = BenchContext(quick=a.quick)
    bench_text_tab(ctx)
    for r in ctx.rows:
        print(f"{r.name}: {r.value:.1f} {r.unit} ({r.notes})")
    if a.bench is not None:
        report = bench_report.read(a.bench) if (a.bench / "bench.json").is_file() else bench_report.new_report(a.quick)
        names = {r.name for r in ctx.rows}
        report["rows"] = [r for r in report["rows"] if r["name"] not in names] + [asdict(r) for r in ctx.rows]
        bench_report.write(report, a.bench)
    return 0


if __name__ == "__main__":
    sys.exit(main())
