"""Attention maps as plotly figures: a token x token heatmap, and the same map linked to the sentence.

    fig = attention_heatmap(res, layer=2, head=5)          # one map; hover: "query -> key: weight"
    fig = attention_figure(res, layer=2, head="average")   # sentence strip above the map

``attention_figure`` links the two without any server: the strip shows, for one query token,
its weight on every token of the sentence, and a box marks that query's row in the map. A
slider under the figure picks the query (pure plotly, so it works in a notebook, in saved HTML
and in Gradio's gr.Plot); the app's Attention tab also moves it when the pointer hovers a row of
the map or a token of the strip (see ``app/attention_tab.py``).

Trace names are fixed so scripts can find them: ``"map"`` (the heatmap), ``"strip"`` (the
bars), ``"tokens"`` (the hover targets of the strip). Shape 0 is the row highlight.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..text.attention import AttentionResult, Choice

COLORSCALE = "Blues"
HIGHLIGHT = "#d62728"
SLIDER_MAX_TOKENS = 128  # a slider step per query token (at most 128, the model's limit)


def token_labels(res: AttentionResult) -> list[str]:
    """The WordPiece strings, as the axes show them (duplicates stay: axes are by position)."""
    return [t.text for t in res.tokens]


def _hover_text(labels: list[str]) -> np.ndarray:
    """(T, T, 2) [query label, key label] for every cell, with positions so repeats are told apart."""
    tagged = np.array([f"{lab} (#{i})" for i, lab in enumerate(labels)], dtype=object)
    T = len(labels)
    out = np.empty((T, T, 2), dtype=object)
    out[:, :, 0] = tagged[:, None]  # rows: query
    out[:, :, 1] = tagged[None, :]  # columns: key
    return out


def _heatmap_trace(m: np.ndarray, labels: list[str], *, showscale: bool = True) -> go.Heatmap:
    return go.Heatmap(
        z=np.round(m, 4), x=list(range(len(labels))), y=list(range(len(labels))),
        customdata=_hover_text(labels), name="map", colorscale=COLORSCALE, zmin=0.0,
        zmax=float(max(m.max(), 1e-6)), showscale=showscale,
        colorbar=dict(title=dict(text="weight", side="right"), thickness=12, len=0.75, y=0.0, yanchor="bottom"),
        hovertemplate="%{customdata[0]} -> %{customdata[1]}: %{z:.3f}<extra></extra>",
    )


def _axis_ticks(labels: list[str]) -> dict:
    T = len(labels)
    step = 1 if T <= 64 else 2  # past 64 tokens every other label, or they overlap
    vals = list(range(0, T, step))
    return dict(tickmode="array", tickvals=vals, ticktext=[labels[i] for i in vals], tickfont=dict(size=10 if T <= 40 else 8))


def _title(res: AttentionResult, layer: Choice, head: Choice) -> str:
    t = f"{res.model}: {res.describe(layer, head)} · {len(res.tokens)} tokens"
    if res.truncated:
        t += f" (truncated from {res.total_tokens})"
    return t


def attention_heatmap(res: AttentionResult, layer: Choice = "average", head: Choice = "average") -> go.Figure:
    """Token x token heatmap of one layer/head (or an average): rows are queries, columns keys.

    Hover reads ``query -> key: weight``; token labels on both axes.
    """
    labels = token_labels(res)
    m = res.view(layer, head)  # (T, T)
    T = len(labels)
    side = int(min(900, max(420, 160 + 14 * T)))
    fig = go.Figure(_heatmap_trace(m, labels))
    fig.update_xaxes(title_text="key (attended to)", side="bottom", tickangle=-60, **_axis_ticks(labels),
                     showspikes=True, spikemode="across", spikethickness=1, spikecolor=HIGHLIGHT, spikesnap="data")
    fig.update_yaxes(title_text="query (attending)", autorange="reversed", **_axis_ticks(labels),
                     showspikes=True, spikemode="across", spikethickness=1, spikecolor=HIGHLIGHT, spikesnap="data")
    fig.update_layout(title=dict(text=_title(res, layer, head), font=dict(size=14)), width=side + 80, height=side,
                      margin=dict(l=90, r=30, t=60, b=100), hovermode="closest", template="plotly_white")
    return fig


def _strip_caption(labels: list[str], q: int) -> str:
    return f"bars: where {labels[q]} (#{q}) looks · box: its row in the map"


def attention_figure(res: AttentionResult, layer: Choice = "average", head: Choice = "average",
                     query: int | None = None) -> go.Figure:
    """The sentence strip above the heatmap, linked by a query-token slider and a row highlight.

    The strip's bars are the highlighted row of the map: how much the chosen query token
    attends to each token of the sentence (token labels under the bars, in sentence order).
    ``query`` is the first selected token (default: the first word piece after [CLS]).
    """
    labels = token_labels(res)
    m = res.view(layer, head)  # (T, T)
    T = len(labels)
    q0 = min(1, T - 1) if query is None else int(query)
    if not 0 <= q0 < T:
        raise ValueError(f"query must be one of 0..{T - 1} (got {query})")
    xs = list(range(T))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.22, 0.78], vertical_spacing=0.06)
    fig.add_trace(_heatmap_trace(m, labels), row=2, col=1)
    bar_colors = ["#9ca3af" if t.special else "#2563eb" for t in res.tokens]
    fig.add_trace(go.Bar(
        x=xs, y=np.round(m[q0], 4), name="strip", marker=dict(color=bar_colors),
        customdata=np.array([f"{lab} (#{i})" for i, lab in enumerate(labels)], dtype=object),
        hovertemplate=f"{labels[q0]} (#{q0}) -> " + "%{customdata}: %{y:.3f}<extra></extra>",
        showlegend=False,
    ), row=1, col=1)
    # Invisible hover targets over every token of the strip: hovering one selects it as the query (app JS).
    fig.add_trace(go.Scatter(
        x=xs, y=[0.5] * T, mode="markers", name="tokens", yaxis="y", marker=dict(size=18, opacity=0.0),
        customdata=np.array([f"{lab} (#{i})" for i, lab in enumerate(labels)], dtype=object),
        hovertemplate="%{customdata}: show where it looks<extra></extra>", showlegend=False,
    ), row=1, col=1)
    fig.add_annotation(text=_strip_caption(labels, q0), xref="paper", yref="paper", x=0.0, y=1.0,
                       yshift=88, xanchor="left", showarrow=False, font=dict(size=12, color=HIGHLIGHT))
    fig.add_shape(type="rect", xref="x2", yref="y2", x0=-0.5, x1=T - 0.5, y0=q0 - 0.5, y1=q0 + 0.5,
                  line=dict(color=HIGHLIGHT, width=2), fillcolor="rgba(0,0,0,0)")
    ticks = _axis_ticks(labels)
    fig.update_xaxes(row=1, col=1, showticklabels=True, side="top", tickangle=-60, **ticks)
    fig.update_xaxes(row=2, col=1, tickangle=-60, title_text="key (attended to)", **ticks,
                     showspikes=True, spikemode="across", spikethickness=1, spikecolor=HIGHLIGHT, spikesnap="data")
    fig.update_yaxes(row=1, col=1, range=[0, 1.0], title_text="weight", tickvals=[0, 0.5, 1], fixedrange=True)
    fig.update_yaxes(row=2, col=1, autorange="reversed", title_text="query (attending)", **ticks,
                     showspikes=True, spikemode="across", spikethickness=1, spikecolor=HIGHLIGHT, spikesnap="data")

    steps = []
    for q in range(min(T, SLIDER_MAX_TOKENS)):
        steps.append(dict(
            method="update", label=labels[q],
            args=[{"y": [np.round(m[q], 4).tolist()],
                   "hovertemplate": [f"{labels[q]} (#{q}) -> " + "%{customdata}: %{y:.3f}<extra></extra>"]},
                  {"shapes[0].y0": q - 0.5, "shapes[0].y1": q + 0.5,
                   "annotations[0].text": _strip_caption(labels, q)},
                  [1]],  # restyle the strip only
        ))
    side = int(min(1000, max(520, 260 + 14 * T)))
    fig.update_layout(
        title=dict(text=_title(res, layer, head), font=dict(size=14), yref="container", y=1.0, yanchor="top",
                   pad=dict(t=34)),  # below the toolbar and label that gr.Plot draws over the top
        height=side + 120, width=side + 80, template="plotly_white", hovermode="closest", bargap=0.15,
        margin=dict(l=90, r=30, t=130, b=150),
        sliders=[dict(active=q0, steps=steps, x=0.0, len=1.0, y=-0.02, yanchor="top", pad=dict(t=60),
                      currentvalue=dict(prefix="query token: ", font=dict(size=12)),
                      font=dict(size=8, color="#444" if T <= 24 else "rgba(0,0,0,0)"))],
    )
    fig.layout.meta = {"tokens": labels, "query": q0}  # for scripts and the app's hover hook
    return fig
