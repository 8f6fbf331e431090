"""Figures of a tokenizer transplant (tokenworks.lm.transfer_inspect).

    fig = domain_bars(scores)     # bits per byte per held-out domain: original vs transplanted, ratio on top

Returns plotly figures; never shows them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

if TYPE_CHECKING:
    from ..lm.transfer_inspect import TransferScores

ORIGINAL = "#6b7280"
TRANSPLANTED = "#2563eb"


def domain_bars(s: TransferScores, base_name: str = "original") -> go.Figure:
    """Grouped bars: the original model's and the transplanted model's bits per byte per domain,
    each transplanted bar labelled with its ratio to the original."""
    labels = [r.label for r in s.rows]
    fig = go.Figure()
    fig.add_bar(name=f"{base_name} (its own tokenizer)", x=labels, y=[r.bpb_base for r in s.rows],
                marker_color=ORIGINAL, hovertemplate="%{x}<br>%{y:.3f} bits/byte<extra>original</extra>")
    fig.add_bar(name=f"{s.tokenizer}, {s.method} (zero-shot)", x=labels, y=[r.bpb_new for r in s.rows],
                marker_color=TRANSPLANTED, text=[f"{r.ratio:.2f}x" for r in s.rows], textposition="outside",
                hovertemplate="%{x}<br>%{y:.3f} bits/byte (%{text} the original)<extra>transplanted</extra>")
    top = max([r.bpb_new for r in s.rows] + [r.bpb_base for r in s.rows] + [1.0])
    fig.update_layout(barmode="group", height=380, margin={"l": 50, "r": 20, "t": 50, "b": 80},
                      title=f"Bits per byte per held-out domain: the original vs {s.tokenizer} ({s.method})",
                      yaxis={"title": "bits per byte (lower is better)", "range": [0, top * 1.15]},
                      legend={"orientation": "h", "y": -0.25}, font={"size": 12})
    return fig
