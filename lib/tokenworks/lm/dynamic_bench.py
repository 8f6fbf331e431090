"""Dynamic tokenization bench rows: sequence-length reduction against the change in bits per byte,
per UDHR language, for a few merge budgets, zero-shot (merged tokens' vectors are their parts' mean)."""
from __future__ import annotations

import os

from ..bench.harness import BenchContext, Row
from .domains import domain
from .dynamic import dynamic_score
from .load import load_lm

LANGUAGES = ("udhr-eng", "udhr-deu_1996", "udhr-fra", "udhr-rus", "udhr-hin", "udhr-cmn_hans")
ROUNDS = (8, 32, 128)
CHARS = 700  # per language, fewer where that would be over MAX_TOKENS tokens (Hindi: ~1.6 tokens a character)
MAX_TOKENS = 900  # one scoring window


def bench_dynamic(ctx: BenchContext) -> None:
    fast = ctx.quick or os.environ.get("TOKENWORKS_FAST") == "1"
    lm = load_lm()
    langs = LANGUAGES[:2] if fast else LANGUAGES
    for key in langs:
        chars = CHARS
        d = domain(key, chars)
        while len(lm.tokenizer.encode(d.text).ids) > MAX_TOKENS:
            chars = chars * 4 // 5
            d = domain(key, chars)
        for r in ROUNDS[:1] if fast else ROUNDS:
            s = dynamic_score(lm, d.text, r, d.label)
            ctx.rows.append(Row("lm", f"dynamic tokenization, {r} merges per document, {d.label}", s.bpb_after,
                                "bits/byte", "the same document, original tokens", s.bpb_before, s.bpb_before / s.bpb_after,
                                f"{s.tokens_before} -> {s.tokens_after} tokens ({s.reduction:.1%} fewer, {s.merges} merges "
                                f"made); {s.cost:.3f}x the bits per byte; merged vectors = mean of their parts"))
    print("[bench lm] dynamic tokenization done", flush=True)
