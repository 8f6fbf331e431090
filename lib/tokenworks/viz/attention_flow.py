"""Figures for the Attention tab's newer views: the information flow from the last token, token
merging layer by layer, and the merging curve.

    fig = flow_figure(information_flow(res))     # bars: flow to each token; heatmap: after each layer
    fig = merge_figure(merge_tokens(s, "tome", 2))   # which input tokens each layer merged
    fig = merge_curve_figure(merge_curve(sentences))   # cosine to the unmerged embedding vs tokens removed

Trace names are fixed so scripts and tests can find them: ``"flow"`` and ``"layers"`` (flow
figure), ``"merges"`` (merge figure), one trace per method label (curve figure).
"""
from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..lm.flow import FlowResult
from ..text.token_merging import LABELS, MergeResult
from ..text.token_merging_bench import MergeCurve

SPECIAL = "#9ca3af"
WORD = "#2563eb"
COLORS = {"tome": "#2563eb", "pitome": "#d62728", "random": "#6b7280"}


def _ticks(labels: list[str]) -> dict:
    T = len(labels)
    step = 1 if T <= 64 else 2
    vals = list(range(0, T, step))
    return dict(tickmode="array", tickvals=vals, ticktext=[labels[i] for i in vals],
                tickfont=dict(size=10 if T <= 40 else 8), tickangle=-60)


def _sub(text: str, width: int = 95) -> str:
    """A subtitle, wrapped so that a narrow figure does not cut it."""
    return "<br>".join(f"<sup>{line}</sup>" for line in textwrap.wrap(text, width))


def flow_figure(f: FlowResult, special: list[bool] | None = None) -> go.Figure:
    """Bars: how much of the last token's final state traces back to each token; heatmap: the
    same after each layer (rows), so you see where the flow settles. In a causal model the first
    position absorbs the rollout (``FlowResult.first_absorbs``): its share is in the title, and
    bars and heatmap share out the rest. ``special`` greys tokens such as the document start."""
    T, L = len(f.labels), f.per_layer.shape[0]
    special = special or [False] * T
    bars, rows = (f.rest, f.rest_per_layer) if f.first_absorbs else (f.flow, f.per_layer)
    what = "share of the rest" if f.first_absorbs else "share"
    xs = list(range(T))
    tagged = np.array([f"{lab} (#{i})" for i, lab in enumerate(f.labels)], dtype=object)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.35, 0.65], vertical_spacing=0.05)
    fig.add_trace(go.Bar(x=xs, y=np.round(bars, 5), name="flow", customdata=tagged,
                         marker=dict(color=[SPECIAL if s else WORD for s in special]),
                         hovertemplate="%{customdata}: %{y:.4f} (" + what + ")<extra></extra>",
                         showlegend=False), row=1, col=1)
    fig.add_trace(go.Heatmap(z=np.round(rows, 5), x=xs, y=list(range(L)), name="layers", colorscale="Blues",
                             zmin=0.0, zmax=float(max(rows.max(), 1e-6)),
                             customdata=np.broadcast_to(tagged, (L, T)),
                             colorbar=dict(title=dict(text=what, side="right"), thickness=12, len=0.6, y=0.0,
                                           yanchor="bottom"),
                             hovertemplate="after layer %{y}: %{customdata} %{z:.4f}<extra></extra>"), row=2, col=1)
    fig.update_xaxes(row=2, col=1, title_text="token (the input)", **_ticks(f.labels))
    fig.update_xaxes(row=1, col=1, showticklabels=False)
    fig.update_yaxes(row=1, col=1, title_text=what, rangemode="tozero")
    fig.update_yaxes(row=2, col=1, title_text="after layer", autorange="reversed")
    sub = f.description
    if f.first_absorbs:
        sub = (f"{f.labels[0]} (#0) holds {f.flow[0]:.1%}: a causal model's first position sees only itself, so "
               "rollout piles up there; bars and map share out the rest")
    title = f"{f.model}: flow from the last token ({f.labels[-1]}, #{T - 1}) back · {f.method}<br>{_sub(sub)}"
    fig.update_layout(title=dict(text=title, font=dict(size=14), yref="container", y=1.0, yanchor="top",
                                 pad=dict(t=34)), height=580, width=int(min(1100, max(720, 200 + 16 * T))),
                      template="plotly_white", margin=dict(l=70, r=30, t=130, b=120), bargap=0.15)
    fig.layout.meta = {"tokens": f.labels, "method": f.method, "first_absorbs": f.first_absorbs}
    return fig


def _group_grid(m: MergeResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, T) group size of each input token (NaN: dropped), its group's tag, and the hover text."""
    T = len(m.tokens)
    rows = len(m.layers) + 1
    size = np.ones((rows, T))
    tag = np.full((rows, T), "", dtype=object)
    hover = np.empty((rows, T), dtype=object)
    for i, lab in enumerate(m.labels):
        hover[0, i] = f"{lab} (#{i}): itself"
    for r, step in enumerate(m.layers, start=1):
        size[r] = np.nan
        for k, g in enumerate(step.groups):
            members = ", ".join(m.labels[j] for j in g)
            for j in g:
                size[r, j] = len(g)
                tag[r, j] = f"g{k}" if len(g) > 1 else ""
                hover[r, j] = f"{m.labels[j]} (#{j}): {'with ' + members if len(g) > 1 else 'alone'}"
        for j in np.flatnonzero(np.isnan(size[r])):
            hover[r, j] = f"{m.labels[j]} (#{j}): dropped"
    return size, tag, hover


def merge_figure(m: MergeResult) -> go.Figure:
    """One row per layer (the input first), one column per input token: colour = how many input
    tokens its token stands for after that layer; cells tagged alike were merged into one token;
    blank cells were dropped (the random baseline)."""
    size, tag, hover = _group_grid(m)
    rows = ["input"] + [f"after layer {s.layer} (−{s.removed})" for s in m.layers]
    T = len(m.tokens)
    fig = go.Figure(go.Heatmap(
        z=size, x=list(range(T)), y=rows, text=tag, texttemplate="%{text}", textfont=dict(size=9),
        customdata=hover, name="merges", colorscale="YlOrRd", zmin=1, zmax=max(2.0, float(np.nanmax(size))),
        xgap=1, ygap=1, colorbar=dict(title=dict(text="tokens held", side="right"), thickness=12),
        hovertemplate="%{y}: %{customdata}<extra></extra>"))
    fig.update_xaxes(title_text="input token", **_ticks(m.labels))
    fig.update_yaxes(autorange="reversed")
    title = (f"MiniLM with {m.label}, {m.r} per layer<br>"
             + _sub(f"{m.removed} of {T} tokens removed · cosine to the unmerged embedding {m.cosine:.4f}"))
    fig.update_layout(title=dict(text=title, font=dict(size=14), yref="container", y=1.0, yanchor="top",
                                 pad=dict(t=34)), height=440, width=int(min(1100, max(640, 220 + 18 * T))),
                      template="plotly_white", margin=dict(l=140, r=30, t=100, b=120))
    return fig


def merge_curve_figure(c: MergeCurve) -> go.Figure:
    """Mean cosine to the unmerged embedding against mean tokens removed, one line per method."""
    fig = go.Figure()
    for i, method in enumerate(c.methods):
        fig.add_trace(go.Scatter(
            x=np.round(c.removed[i], 2), y=np.round(c.cosine[i], 5), mode="lines+markers", name=LABELS[method],
            line=dict(color=COLORS.get(method)), customdata=np.array(c.rs),
            hovertemplate=f"{LABELS[method]}, r=%{{customdata}} per layer: %{{x}} tokens removed, "
                          "cosine %{y:.4f}<extra></extra>"))
    fig.update_xaxes(title_text=f"tokens removed (mean of {c.tokens:.1f} per sentence)", rangemode="tozero")
    fig.update_yaxes(title_text="cosine to the unmerged embedding")
    title = (f"MiniLM: token merging vs random dropping · {c.sentences} held-out sentences<br>"
             + _sub(f"{c.source}; random seed {c.seed}"))
    fig.update_layout(title=dict(text=title, font=dict(size=14)), height=440, width=720, template="plotly_white",
                      margin=dict(l=70, r=30, t=80, b=60), legend=dict(x=0.02, y=0.02))
    return fig
