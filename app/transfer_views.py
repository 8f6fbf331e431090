"""The Transfer tab's formatting: tables and Markdown from tokenworks.lm.transfer_inspect's results
(no computing here; app/transfer_tab.py calls the library)."""
from __future__ import annotations

import html

import pandas as pd

from tokenworks.lm.new_embeddings import METHODS
from tokenworks.lm.transfer_inspect import (
    METHOD_COST, SLOW_METHODS, PreflightReport, TokenBreakdown, TransferScores, targets,
)

PREFLIGHT_COLUMNS = ["item", "value", "note"]
SCORE_COLUMNS = ["domain", "characters", "bytes", "tokens (original)", "tokens (new)", "bits/byte original",
                 "bits/byte transplanted", "ratio"]
TOKEN_COLUMNS = ["role", "base id", "token", "weight", "cosine"]


def message(e: Exception) -> str:
    return f"⚠️ {html.escape(str(e))}"


def method_choices() -> list[tuple[str, str]]:
    return [(f"{m} (slow: {METHOD_COST[m]})" if m in SLOW_METHODS else f"{m} ({METHOD_COST[m]})", m)
            for m in METHODS]


def tokenizer_choices() -> list[tuple[str, str]]:
    return [(c.name if c.kind == "registry" else f"{c.name} ({c.kind})", c.name) for c in targets()]


def preflight_frame(r: PreflightReport) -> pd.DataFrame:
    return pd.DataFrame.from_records([(x.item, x.value, x.note) for x in r.rows], columns=PREFLIGHT_COLUMNS)


def preflight_status(r: PreflightReport) -> str:
    p = r.preflight
    return (f"**Pre-flight of {html.escape(r.tokenizer)} with {r.method}**: {p.shared:,} tokens shared, {p.new:,} new "
            f"({p.new_share:.1%}); new tokens hold {p.heldout_new_share:.1%} of held-out bytes; ids out of range: "
            f"{p.out_of_range}. Planned in {r.seconds:.1f} s; no weights were built or written.")


def scores_frame(s: TransferScores) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [(r.label, r.chars, r.n_bytes, r.tokens_base, r.tokens_new, round(r.bpb_base, 4), round(r.bpb_new, 4),
          round(r.ratio, 3)) for r in s.rows], columns=SCORE_COLUMNS)


def scores_status(s: TransferScores, cached: bool) -> str:
    worst = max(s.rows, key=lambda r: r.ratio)
    best = min(s.rows, key=lambda r: r.ratio)
    how = "reused from this process's cache" if cached else f"built in {s.transplant_seconds:.0f} s"
    return (f"**{html.escape(s.tokenizer)} with {s.method}, zero-shot** (transplant {how}; scored in "
            f"{s.score_seconds:.0f} s): closest to the original on {html.escape(best.label)} ({best.ratio:.2f}x), "
            f"furthest on {html.escape(worst.label)} ({worst.ratio:.2f}x). Ratio = transplanted / original bits per "
            "byte on the same characters; under 1 would be better than the original.")


def token_frame(b: TokenBreakdown) -> pd.DataFrame:
    rows = [("piece", p.id, p.label, None, None) for p in b.pieces]
    rows += [("omp atom" if b.method == "omp" else "global neighbour", p.id, p.label, round(p.weight, 4), None)
             for p in b.combined or []]
    rows += [("nearest (cosine)", p.id, p.label, None, round(c, 4)) for p, c in b.neighbours]
    return pd.DataFrame.from_records(rows, columns=TOKEN_COLUMNS)


def token_status(b: TokenBreakdown) -> str:
    pieces = " + ".join(f"`{html.escape(p.label)}`" for p in b.pieces) or "none"
    out = (f"**`{html.escape(b.label)}`** (id {b.token_id}, {b.n_bytes} bytes) is a **{b.status}** token. "
           f"Pieces under the base tokenizer: {pieces}. {html.escape(b.combined_note)}.")
    if b.neighbours:
        out += (" *Nearest (cosine)*: the base tokens whose vectors point most nearly the same way as this token's "
                "new vector, computed here over the whole base matrix.")
    return out + "".join(f"\n\n{html.escape(n)}." for n in b.notes)
