"""Supertoken bench rows (``tokenworks.lm.supertokens``): a SuperBPE trained on the pydocs train
split, put on SmolLM2 with TokenAdapt, on the held-out prose: tokens against SmolLM2's own
tokenizer, and bits per byte against the original model (same text, same run), zero-shot and after
the cpu fine-tune preset (quick: a 4,000-token SuperBPE, no fine-tune)."""
from __future__ import annotations

import os

from ..bench.harness import BenchContext, Row
from .load import load_lm
from .transplant_bench import _log


def bench_supertokens(ctx: BenchContext) -> None:
    from .supertokens import supertokens

    fast = ctx.quick or os.environ.get("TOKENWORKS_FAST") == "1"
    V, t = (4000, 3200) if fast else (50_000, 40_000)
    # the SuperBPE is kept as a run (runs/text/pydocs-superbpe-<V>): transplants load runs from there
    r = supertokens(load_lm(), vocab_size=V, transition=t, limit_mb=0.5 if fast else 4.0,
                    finetune=None if fast else "cpu")
    name = f"supertokens: SuperBPE {V:,} (t {t:,}, {r.corpus} train split)"
    ctx.rows.append(Row("lm", f"{name}, tokens on the held-out prose", r.tokens_new, "tokens",
                        "SmolLM2's own tokenizer, same text", r.tokens_base, r.tokens_base / r.tokens_new,
                        f"{abs(r.token_reduction):.1%} {'fewer' if r.token_reduction > 0 else 'more'} tokens; superwords {r.superword_tokens / r.tokens_new:.1%} "
                        f"of tokens; trained in {r.train_seconds:.0f} s"))
    ctx.rows.append(Row("lm", f"{name} [{r.method}], zero-shot", r.zero_shot_bits_per_byte, "bits/byte",
                        "the original model (text/smollm2), same text", r.base_bits_per_byte,
                        1 / r.zero_shot_ratio, f"{r.zero_shot_ratio:.3f}x the original; {r.heldout_bytes:,} bytes"))
    if r.finetuned_bits_per_byte is not None:
        ctx.rows.append(Row("lm", f"{name} [{r.method}], after the {r.finetune_preset} fine-tune",
                            r.finetuned_bits_per_byte, "bits/byte", "the original model (text/smollm2), same text",
                            r.base_bits_per_byte, 1 / r.finetuned_ratio,
                            f"{r.finetuned_ratio:.3f}x the original after {r.finetune_steps} steps"))
    _log(f"supertokens {V}: {-r.token_reduction:+.1%} tokens, zero-shot {r.zero_shot_ratio:.3f}x"
         + (f", fine-tuned {r.finetuned_ratio:.3f}x" if r.finetuned_ratio is not None else ""))
