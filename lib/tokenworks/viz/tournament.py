"""Figures of the tokenizer tournament (tokenworks.lm.tiny.leaderboard, .deletion).

    fig = leaderboard_figure(board)            # per corpus: bits per byte against compute, and
                                               # against bytes per token (seed spread as error bars)
    html = deletion_html(view)                 # the bytes a delete-gate model keeps and drops

Return plotly figures and HTML strings; never show them.
"""
from __future__ import annotations

import html as _html
from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from ..lm.tiny.deletion import DeletionView
    from ..lm.tiny.leaderboard import Leaderboard

COLORS = {"bytes": "#6b7280", "delete": "#dc2626", "words": "#9333ea"}  # tokenizer contestants cycle PALETTE
PALETTE = ("#2563eb", "#0891b2", "#16a34a", "#ca8a04", "#ea580c", "#db2777", "#4f46e5")


def _color(name: str, names: list[str]) -> str:
    if name in COLORS:
        return COLORS[name]
    others = [n for n in names if n not in COLORS]
    return PALETTE[others.index(name) % len(PALETTE)] if name in others else PALETTE[0]


def leaderboard_figure(board: Leaderboard) -> go.Figure:
    """One row per corpus: training bits per byte against training FLOPs (every seed's curve, the
    held-out score as a marker at its end), and held-out bits per byte against bytes per token."""
    corpora = sorted({r.corpus for r in board.rows}) or ["(no runs)"]
    titles = [t for c in corpora for t in (f"{c}: bits per byte against training FLOPs",
                                           f"{c}: held-out bits per byte against bytes per token")]
    fig = make_subplots(rows=len(corpora), cols=2, subplot_titles=titles, horizontal_spacing=0.1,
                        vertical_spacing=0.18 / max(1, len(corpora) - 1) if len(corpora) > 1 else 0.1)
    names = list(dict.fromkeys(r.contestant for r in board.rows))
    for i, corpus in enumerate(corpora, start=1):
        for run in (r for r in board.runs if r.corpus == corpus):
            col = _color(run.contestant, names)
            if run.curve:
                fig.add_scatter(x=[p[0] for p in run.curve], y=[p[1] for p in run.curve], mode="lines",
                                line=dict(color=col, width=1), opacity=0.6, name=run.contestant,
                                legendgroup=run.contestant, showlegend=False, row=i, col=1,
                                hovertemplate=f"{run.contestant} seed {run.seed}<br>%{{x:.3g}} FLOPs<br>"
                                              "%{y:.3f} bits/byte (training)<extra></extra>")
            fig.add_scatter(x=[run.train_flops], y=[run.bits_per_byte], mode="markers", row=i, col=1,
                            marker=dict(color=col, size=9, symbol="diamond"), showlegend=False,
                            legendgroup=run.contestant,
                            hovertemplate=f"{run.contestant} seed {run.seed}: held-out %{{y:.4f}} bits/byte<extra></extra>")
        for r in board.corpus(corpus):
            fig.add_scatter(x=[1 / r.tokens_per_byte], y=[r.bits_per_byte], mode="markers+text", text=[r.contestant],
                            textposition="top center", marker=dict(color=_color(r.contestant, names), size=11),
                            error_y=dict(type="data", array=[r.spread], visible=True), name=r.contestant,
                            legendgroup=r.contestant, showlegend=i == 1, row=i, col=2,
                            hovertemplate=f"{r.contestant}: %{{y:.4f}} ± {r.spread:.4f} bits/byte, "
                                          "%{x:.2f} bytes/token<extra></extra>")
        fig.update_xaxes(type="log", title_text="training FLOPs", row=i, col=1)
        fig.update_xaxes(title_text="bytes per token (held-out)", row=i, col=2)
        fig.update_yaxes(title_text="bits per byte", row=i, col=1)
    fig.update_layout(height=420 * len(corpora), width=1100, margin=dict(l=60, r=20, t=60, b=50),
                      title=f"Tokenizer tournament ({board.config.get('preset', '?')}, {board.date}, {board.machine})",
                      legend=dict(orientation="h", y=-0.08))
    return fig


def deletion_html(view: DeletionView) -> str:
    """The text with every character coloured by what the gate did with its bytes: kept (carried
    into the middle blocks) in bold on red, deleted in grey."""
    parts = []
    for ch, kept in zip(view.chars, view.kept):
        text = _html.escape(ch).replace("\n", "↵<br>").replace(" ", "&nbsp;" if not kept else "␣")
        style = ("background:#fecaca;font-weight:700;color:#7f1d1d" if kept else "color:#9ca3af")
        parts.append(f'<span style="{style}">{text}</span>')
    summary = (f"<p>{view.kept_bytes:,} of {view.n_bytes:,} bytes kept ({view.kept_share:.0%}); the middle blocks ran "
               f"on {view.kept_bytes:,} positions instead of {view.n_bytes:,}.</p>")
    return summary + '<div style="font-family:monospace;line-height:1.7;word-break:break-all">' + "".join(parts) + "</div>"


__all__ = ["deletion_html", "leaderboard_figure"]
