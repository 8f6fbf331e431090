"""The language-model benches (``tokenworks bench --only lm``): scoring speed, the latency of exact
next-byte probabilities on 1,000-character prompts, and next-character accuracy of the three
methods on held-out text cut inside words.

Held-out text: ``data/samples/lm_heldout_en.txt``, prose from tokenworks' own documentation written
in 2026, after SmolLM2's training data was collected, and never used to tune anything here.
Every row has an anchor measured in the same run: the bare network for scoring speed, the naive
method for latency, token healing for accuracy.
"""
from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass


from ..bench.harness import BenchContext, Row, percentile, timeit
from ..text import token_merging_bench
from .heldout import HELDOUT, Cut, heldout_paragraphs, mid_word_cuts  # noqa: F401
from .load import load_lm
from .dynamic_bench import bench_dynamic
from .finetune_bench import bench_finetune
from .supertokens_bench import bench_supertokens
from .transplant_bench import bench_transplant
from .undertrained_bench import bench_undertrained

PROMPT_CHARS = 1000  # the latency target is stated for prompts of this length


def _log(msg: str) -> None:
    print(f"[bench lm] {msg}", flush=True)


def _fast() -> bool:
    return os.environ.get("TOKENWORKS_FAST") == "1"


def _device_label(lm) -> str:
    if lm.info.device == "cuda":
        import torch

        return f"GPU ({torch.cuda.get_device_name(0)})"
    return f"CPU, {torch_threads()} threads"


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def bench_lm_scoring(ctx: BenchContext) -> None:
    """Scoring throughput (tokens/s and bytes/s) of LanguageModel.score against the bare network."""
    lm = load_lm()
    text = " ".join(heldout_paragraphs())[: 1000 if ctx.quick else 4000]
    ids = lm.context_ids(lm.tokenizer.encode(text).ids.tolist())
    n_tok, n_bytes = len(ids) - 1, len(text.encode())

    def bare():
        import torch

        with lm.net.lock, torch.inference_mode():
            lm.net.module(torch.tensor([ids], device=lm.net.device), use_cache=False)

    def full():
        return lm.score(text)

    reps = 2 if ctx.quick else 5
    bare_s = timeit(bare, reps)
    score_s = timeit(full, reps)
    r = lm.score(text)
    where = _device_label(lm)
    ctx.rows.append(Row("lm", f"score() tokens/s, {n_tok} tokens of held-out prose, {where}", n_tok / score_s,
                        "tokens/s", "one bare forward pass of the network (no top-k, no entropy)", n_tok / bare_s,
                        bare_s / score_s, f"{r.windows} window(s) of {lm.window}; bits/byte {r.bits_per_byte:.3f}"))
    ctx.rows.append(Row("lm", f"score() bytes/s, {n_bytes} bytes of held-out prose, {where}", n_bytes / score_s,
                        "bytes/s", "one bare forward pass of the network", n_bytes / bare_s, bare_s / score_s,
                        f"bits/byte {r.bits_per_byte:.3f} on {HELDOUT}"))
    _log(f"scoring: {n_tok / score_s:.0f} tokens/s ({where}), bits/byte {r.bits_per_byte:.3f}")


def bench_lm_next_bytes_latency(ctx: BenchContext) -> None:
    """next_bytes(exact) on 1,000-character prompts cut inside words: median and p95 latency."""
    lm = load_lm()
    n = 6 if (ctx.quick or _fast()) else 40
    cuts = mid_word_cuts(n + 1, PROMPT_CHARS, seed=1)
    lm.next_bytes(cuts[-1].prefix, "exact")  # warm-up
    exact_s, naive_s, unchecked = [], [], []
    for c in cuts[:n]:
        lm.net._cache = None  # a new prompt: nothing cached (as for a fresh request)
        t0 = time.perf_counter()
        d = lm.next_bytes(c.prefix, "exact")
        exact_s.append(time.perf_counter() - t0)
        unchecked.append(d.unchecked_mass)
        lm.net._cache = None
        t0 = time.perf_counter()
        lm.next_bytes(c.prefix, "naive")
        naive_s.append(time.perf_counter() - t0)
    where = _device_label(lm)
    med, p95 = statistics.median(exact_s), percentile(exact_s, 95)
    nmed, np95 = statistics.median(naive_s), percentile(naive_s, 95)
    ctx.rows.append(Row("lm", f"next_bytes(exact) median latency, {n} prompts of {PROMPT_CHARS} characters, {where}",
                        med, "s", "next_bytes(naive): one forward pass over the same prompt", nmed, nmed / med,
                        f"max unchecked mass {max(unchecked):.1e}"))
    ctx.rows.append(Row("lm", f"next_bytes(exact) p95 latency, {n} prompts of {PROMPT_CHARS} characters, {where}",
                        p95, "s", "next_bytes(naive) p95", np95, np95 / p95, ""))
    st = ctx.__dict__.setdefault("_lm", {})
    st["latency"] = (med, p95, n, where)
    _log(f"next_bytes exact: median {med:.2f} s, p95 {p95:.2f} s over {n} prompts (naive {nmed:.2f} s)")


@dataclass
class Accuracy:
    cuts: int
    top1: dict[str, float]  # method -> share of cuts whose next character is the top-1 byte


def next_char_accuracy(lm, cuts: list[Cut]) -> Accuracy:
    hits = {m: 0 for m in ("naive", "healing", "exact")}
    for c in cuts:
        want = c.target.encode()[:1]
        for m in hits:
            hits[m] += lm.next_bytes(c.prefix, m).best == want
    return Accuracy(len(cuts), {m: h / len(cuts) for m, h in hits.items()})


def bench_lm_accuracy(ctx: BenchContext) -> None:
    """Top-1 next-character accuracy of naive, healing and exact on held-out text cut inside words."""
    lm = load_lm()
    n = 20 if (ctx.quick or _fast()) else 160
    acc = next_char_accuracy(lm, mid_word_cuts(n, 200, seed=0))
    for m in ("naive", "exact"):
        ctx.rows.append(Row("lm", f"next-character top-1 accuracy, {m}, {n} mid-word cuts of held-out prose",
                            acc.top1[m], "share", "token healing (guidance), same cuts", acc.top1["healing"],
                            acc.top1[m] / acc.top1["healing"] if acc.top1["healing"] else float("nan"),
                            "prompt: the 200 characters before the cut"))
    ctx.__dict__.setdefault("_lm", {})["accuracy"] = acc
    _log("accuracy: " + ", ".join(f"{m} {v:.1%}" for m, v in acc.top1.items()) + f" over {n} cuts")


def bench_lm_targets(ctx: BenchContext) -> None:
    from ..bench.targets import lm_targets, target_row

    st = ctx.__dict__.get("_lm", {})
    ts = lm_targets(st.get("latency"), st.get("accuracy"))
    ctx.targets.extend(ts)
    ctx.rows.extend(target_row(t) for t in ts)


BENCHES = [bench_lm_scoring, bench_lm_next_bytes_latency, bench_lm_accuracy, bench_lm_targets,
           bench_undertrained, token_merging_bench.bench_token_merging, bench_transplant, bench_finetune,
           bench_supertokens, bench_dynamic]
