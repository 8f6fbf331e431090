"""Bench rows for under-trained tokens in SmolLM2-135M (``tokenworks.lm.undertrained``).

Two rows in the text group (``text.benchmarks.BENCHES``):
- seconds to score the whole vocabulary (first PC removed, cosine to the reference mean, norms,
  reachability, reference set), against reading the row norms of the same matrix;
- seconds to verify the top N candidates by prompting, against ``lm.score`` of a 1,000-character
  text; the notes say how many were confirmed (max p < 1%) and how many controls were flagged.

Without the smollm2-135m asset (or transformers) the rows are skipped with a printed reason.
"""
from __future__ import annotations

import time

from ..bench.harness import BenchContext, Row, timeit
from ..errors import TokenworksError

PROSE = ("Tokenizers turn text into numbers, and every model sees the world through them. A byte-level BPE "
         "starts from the 256 byte values and merges the most frequent neighbouring pair again and again, so "
         "frequent words become single tokens while rare ones are spelled out in pieces. ")


def bench_undertrained(ctx: BenchContext) -> None:
    from .load import load_lm
    from .undertrained import N_VERIFY, N_VERIFY_FAST, control_ids, score_vocabulary
    from .undertrained_verify import THRESHOLD, verify

    try:
        lm = load_lm("lm/smollm2-135m")
    except (TokenworksError, ImportError) as e:
        print(f"bench: skipped the under-trained token rows: {type(e).__name__}: {e}")
        return
    W = lm.net.module.get_output_embeddings().weight.detach()  # (V, D)
    t_norm = timeit(lambda: W.norm(dim=1), ctx.repeats)
    t0 = time.perf_counter()
    scan = score_vocabulary(lm)
    t_scan = time.perf_counter() - t0
    V = len(scan.indicator)
    ctx.rows.append(Row("lm", f"SmolLM2 under-trained tokens: score the {V:,}-token vocabulary", t_scan, "s",
                        "row norms of the same (V, D) matrix", t_norm, t_norm / t_scan,
                        f"reference set {len(scan.reference.ids)} tokens; unreachable ordinary tokens "
                        f"{scan.reach.workbench_unreachable + scan.reach.partial_unreachable}; device {lm.info.device}"))

    n = N_VERIFY_FAST if ctx.quick else N_VERIFY
    ref = set(scan.reference.ids.tolist())
    pick = [int(i) for i in scan.order if not scan.special[i] and int(i) not in ref][:n]
    text = (PROSE * 5)[:1000]
    t_score = timeit(lambda: lm.score(text), 1)
    t0 = time.perf_counter()
    v = verify(lm, pick, THRESHOLD)
    t_verify = time.perf_counter() - t0
    ctrl = verify(lm, control_ids(lm), THRESHOLD)
    ctx.rows.append(Row("lm", f"SmolLM2 under-trained tokens: verify the top {n} by prompting", t_verify, "s",
                        "lm.score of a 1,000-character text", t_score, t_score / t_verify,
                        f"{int(v.verified.sum())} of {n} confirmed (max p < {THRESHOLD:.0%} over {len(v.prompts)} "
                        f"prompts x {v.steps} reply positions); frequent English controls flagged: "
                        f"{int(ctrl.verified.sum())} of {len(ctrl.ids)}; device {lm.info.device}"))
