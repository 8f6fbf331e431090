"""Transplant bench rows: bits per byte of SmolLM2 on a new tokenizer, per method, target
tokenizer and domain, zero-shot, each as a ratio to the original model on the same text in the
same run; and the wall time of each transplant.

The issue's zero-shot targets, on held-out English prose: the best method at most 1.25x the
original for cl100k_base and 1.30x for o200k_base (``bench.targets.transplant_targets``).
"""
from __future__ import annotations

import os
import time

from ..bench.harness import BenchContext, Row
from .domains import DOMAINS, domain
from .load import load_lm
from .new_embeddings import METHODS

TARGETS = ("text/cl100k_base", "text/o200k_base")


def _log(msg: str) -> None:
    print(f"[bench lm] {msg}", flush=True)


def bench_transplant(ctx: BenchContext) -> None:
    from ..bench.targets import target_row, transplant_targets

    fast = ctx.quick or os.environ.get("TOKENWORKS_FAST") == "1"
    from .transplant import transplant

    lm = load_lm()
    keys = ("english", "python") if fast else DOMAINS
    texts = {k: domain(k, 600 if fast else 2000) for k in keys}
    base = {k: lm.score(d.text).bits_per_byte for k, d in texts.items()}
    targets = TARGETS[:1] if fast else TARGETS
    methods = ("mean", "fvt") if fast else METHODS
    english: dict[str, dict[str, float]] = {}
    for tok in targets:
        for m in methods:
            t0 = time.perf_counter()
            t = transplant(lm, tok, m, texts=[texts["english"].text])
            built = time.perf_counter() - t0
            for k, d in texts.items():
                bpb = t.lm.score(d.text).bits_per_byte
                ctx.rows.append(Row("lm", f"transplant {tok} [{m}], zero-shot, {d.label}", bpb, "bits/byte",
                                    "the original model (text/smollm2), same text", base[k], base[k] / bpb,
                                    f"{bpb / base[k]:.3f}x the original; {len(d.text)} characters"))
                if k == "english":
                    english.setdefault(tok, {})[m] = bpb / base[k]
            ctx.rows.append(Row("lm", f"transplant {tok} [{m}]: wall time", built, "s", "", float("nan"), float("nan"),
                                f"{t.preflight.new:,} new tokens, {t.preflight.shared:,} shared"))
            _log(f"transplant {tok} {m}: {english[tok][m]:.3f}x on English prose, built in {built:.0f} s")
            del t
    ts = transplant_targets(english)
    ctx.targets.extend(ts)
    ctx.rows.extend(target_row(t) for t in ts)
