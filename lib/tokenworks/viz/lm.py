"""A language model's view of a text: tokens coloured by surprisal, next tokens, next bytes.

    html = surprisal_html(a, selected=3)          # a: tokenworks.lm.inspect.LMAnalysis
    fig = next_tokens_figure(a.next_tokens(3))    # the 10 likeliest next tokens, entropy in the title
    fig = next_bytes_figure(m.next)               # naive | healing | exact side by side (top 10 bytes each)

Each chip of ``surprisal_html`` has a stable ``id`` (``tw-lm-tok-<i>``) and ``data-index`` so a
click can be captured, and a tooltip with its surprisal in bits and its probability. Colours run
from white (0 bits: the model was sure) to deep red (``MAX_BITS`` or more).
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from ..lm.byte_probs import NextBytes
    from ..lm.inspect import LMAnalysis, NextTokens

MAX_BITS = 16.0  # surprisal at which the colour is darkest
MAX_CHIPS = 5_000  # chips drawn at most
BAR = "#2563eb"
ACTUAL = "#dc2626"
METHOD_COLOURS = {"naive": "#9ca3af", "healing": "#f59e0b", "exact": "#2563eb"}

CSS = """
.tw-lm { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; line-height: 2.2; }
.tw-lm .tw-ltok { display: inline-block; margin: 1px 1px; padding: 0 3px; border-radius: 4px; color: #111;
                  white-space: pre; border: 1px solid rgba(0,0,0,.10); vertical-align: top; text-align: center;
                  cursor: pointer; }
.tw-lm .tw-ltok .tw-bits { display: block; font-size: 10px; line-height: 1.1; color: #444; }
.tw-lm .tw-ltok.tw-template { border-style: dotted; border-color: #6b7280; }
.tw-lm .tw-ltok.tw-special { border: 2px solid #7c3aed; font-weight: 600; }
.tw-lm .tw-ltok.tw-selected { outline: 2px solid #2563eb; outline-offset: 1px; }
.tw-lm-summary, .tw-lm-legend { font-family: system-ui, sans-serif; font-size: 13px; color: #444; margin: 2px 0 4px 0; }
.tw-lm-ramp { display: inline-block; width: 140px; height: 10px; vertical-align: middle; margin: 0 4px;
              border: 1px solid #ddd; }
"""


def surprisal_colour(bits: float) -> str:
    """White at 0 bits to deep red at MAX_BITS and over (dark text stays readable)."""
    x = float(np.clip(bits / MAX_BITS, 0.0, 1.0)) if np.isfinite(bits) else 1.0
    return f"hsl(4 {40 + 50 * x:.0f}% {98 - 40 * x:.0f}%)"


def _legend() -> str:
    ramp = ", ".join(surprisal_colour(b) for b in np.linspace(0, MAX_BITS, 6))
    return (f"<div class='tw-lm-legend'>surprisal 0 bits<span class='tw-lm-ramp' style='background: "
            f"linear-gradient(to right, {ramp})'></span>{MAX_BITS:g}+ bits · the number under each token is its "
            "surprisal in bits · purple border: a special token · dotted: text the chat template added · "
            "click a token for what the model expected next</div>")


def surprisal_html(a: "LMAnalysis", selected: int | None = None, max_tokens: int = MAX_CHIPS) -> str:
    """The scored text's tokens as chips coloured by surprisal (bits), with bits per byte and counts."""
    bits = a.score.surprisal  # (T,)
    T = a.n_tokens
    n = min(T, max_tokens)
    special = a.special  # (T,)
    span = a.chat.message_span if a.chat is not None else None
    chips = []
    for i in range(n):
        label = html.escape(a.labels[i]) or "&#8203;"
        cls = "tw-ltok"
        if special[i]:
            cls += " tw-special"
        elif a.chat is not None and (span is None or not span[0] <= i < span[1]):
            cls += " tw-template"
        if i == selected:
            cls += " tw-selected"
        tip = (f"#{i} · {html.escape(a.labels[i])} · id {int(a.score.tokens.ids[i])} · {bits[i]:.2f} bits · "
               f"p = {np.exp(a.score.logprobs[i]):.4g}")
        chips.append(f'<span class="{cls}" id="tw-lm-tok-{i}" data-index="{i}" style="background:'
                     f'{surprisal_colour(bits[i])}" title="{tip}">{label}'
                     f'<span class="tw-bits">{bits[i]:.1f}</span></span>')
    summary = (f"{a.model}: {T:,} tokens · {a.score.n_bytes:,} bytes · {a.total_bits:,.1f} bits in all · "
               f"<b>{a.bits_per_byte:.3f} bits per byte</b>")
    if n < T:
        summary += f" · showing the first {n:,} tokens"
    return (f"<style>{CSS}</style><div class='tw-lm'><div class='tw-lm-summary'>{summary}</div>{_legend()}"
            f"<div class='tw-lm-chips'>{''.join(chips)}</div></div>")


def _hbar_axis(fig: go.Figure, **where) -> None:
    fig.update_yaxes(autorange="reversed", tickfont=dict(family="monospace", size=12), **where)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", **where)


def next_tokens_figure(nt: "NextTokens") -> go.Figure:
    """The k likeliest next tokens after one token as horizontal bars; the entropy in the title and
    the token that really comes next in red when it is among them."""
    labels = [f"{lab}  " for lab in nt.labels]
    colours = [ACTUAL if nt.actual_rank == r + 1 else BAR for r in range(len(labels))]
    fig = go.Figure(go.Bar(x=nt.probs, y=[f"{r + 1}. {lab}" for r, lab in enumerate(labels)], orientation="h",
                           marker=dict(color=colours), text=[f"{p:.1%}" for p in nt.probs], textposition="outside",
                           hovertemplate="%{y}: p = %{x:.4f}<extra></extra>", name="next tokens"))
    title = (f"After token #{nt.index} {nt.token!r}: the {len(labels)} likeliest next tokens · "
             f"entropy {nt.entropy:.2f} bits")
    if nt.actual is not None:
        where = f"rank {nt.actual_rank}, in red" if nt.actual_rank else f"not in the top {len(labels)}"
        sub = f"the text goes on with {nt.actual!r}: p = {nt.actual_prob:.3g} ({where})"
    else:
        sub = "the last token: what the model expects after the text"
    text = f"{html.escape(title, quote=False)}<br><sup>{html.escape(sub, quote=False)}</sup>"
    fig.update_layout(title=dict(text=text, font=dict(size=14)),
                      height=120 + 32 * len(labels), margin=dict(l=140, r=40, t=80, b=40), template="plotly_white",
                      showlegend=False)
    _hbar_axis(fig)
    fig.update_xaxes(title_text="probability")
    return fig


def next_bytes_figure(dists: Mapping[str, "NextBytes"], k: int = 10) -> go.Figure:
    """The k likeliest next bytes of each method, side by side (one panel per method)."""
    names = list(dists)
    prefix = next(iter(dists.values())).prefix if dists else b""
    fig = make_subplots(rows=1, cols=max(1, len(names)), horizontal_spacing=0.08,
                        subplot_titles=[f"{m}: best {dists[m].char_probs(1)[0][0]!r}" for m in names])
    for c, m in enumerate(names, start=1):
        top = dists[m].char_probs(k)
        labels = [f"{lab}  " for lab, _ in top]
        probs = [p for _, p in top]
        fig.add_trace(go.Bar(x=probs, y=labels, orientation="h", marker=dict(color=METHOD_COLOURS.get(m, BAR)),
                             text=[f"{p:.1%}" for p in probs], textposition="outside", name=m,
                             hovertemplate=f"{m}: " + "%{y} p = %{x:.4f}<extra></extra>"), row=1, col=c)
        _hbar_axis(fig, row=1, col=c)
    tail = prefix[-40:].decode("utf-8", "replace")
    cut = "…" if len(prefix) > 40 else ""
    title = html.escape(f"The next byte after {cut}{tail!r}", quote=False)
    fig.update_layout(title=dict(text=title, font=dict(size=14)),
                      height=130 + 28 * k, margin=dict(l=60, r=40, t=90, b=40), template="plotly_white",
                      showlegend=False)
    return fig
