"""Fine-tune bench rows: the transplanted model after the ``cpu`` embedding fine-tune preset
(``tokenworks.lm.finetune``; ``cpu-tiny`` when the bench is quick), per target tokenizer, on the
held-out English prose the run evaluates and on every other domain, each as a ratio to the original
model on the same text in the same run; the run's steps and wall time.

Targets (``bench.targets.finetune_targets``): at most 1.10x the original for cl100k_base and
o200k_base after the cpu preset (and 1.03x for cl100k_base after the gpu preset, not run here).
"""
from __future__ import annotations

import os
import tempfile

from ..bench.harness import BenchContext, Row
from .domains import DOMAINS, domain
from .load import load_lm
from .transplant import load
from .transplant_bench import TARGETS, _log


def bench_finetune(ctx: BenchContext) -> None:
    from ..bench.targets import finetune_targets, target_row
    from .finetune import finetune
    from .finetune_config import preset_config

    fast = ctx.quick or os.environ.get("TOKENWORKS_FAST") == "1"
    preset = "cpu-tiny" if fast else "cpu"
    lm = load_lm()
    keys = ("english", "python") if fast else DOMAINS
    texts = {k: domain(k, 600 if fast else 2000) for k in keys}
    base = {k: lm.score(d.text).bits_per_byte for k, d in texts.items()}
    ratios, detail = {}, {}
    for tok in TARGETS[:1] if fast else TARGETS:
        with tempfile.TemporaryDirectory(prefix="tw-bench-ft-") as tmp:
            cfg = preset_config(preset, tokenizer=tok, out=f"{tmp}/model")
            r = finetune(cfg)
            start, end = r.evals[0], r.evals[-1]
            ratios[tok] = end.ratio
            detail[tok] = (f"{cfg.method} start, calibrated: {start.ratio:.3f}x; after {r.steps} steps "
                           f"({r.seconds:.0f} s, {cfg.corpus} train split): {end.ratio:.3f}x on "
                           f"{end.n_bytes:,} held-out bytes")
            name = f"finetune {tok} [{cfg.method}, {preset} preset]"
            ctx.rows.append(Row("lm", f"{name}, held-out English prose (the run's evaluation)", end.bits_per_byte,
                                "bits/byte", "the original model (text/smollm2), same text", end.base_bits_per_byte,
                                end.base_bits_per_byte / end.bits_per_byte, detail[tok]))
            tuned = load(r.folder, load_lm)  # not kept in load_lm's cache
            for k, d in texts.items():
                bpb = tuned.score(d.text).bits_per_byte
                ctx.rows.append(Row("lm", f"{name}, {d.label}", bpb, "bits/byte",
                                    "the original model (text/smollm2), same text", base[k], base[k] / bpb,
                                    f"{bpb / base[k]:.3f}x the original; {len(d.text)} characters"))
            _log(f"finetune {tok} {preset}: {start.ratio:.3f}x -> {end.ratio:.3f}x in {r.steps} steps")
            del tuned
    ts = finetune_targets("cpu", {} if fast else ratios, {} if fast else detail)  # cpu-tiny judges nothing
    ctx.targets.extend(ts)
    ctx.rows.extend(target_row(t) for t in ts)
