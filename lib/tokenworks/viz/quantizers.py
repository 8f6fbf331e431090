"""Plotly figures for the quantizer lab (``tokenworks.teach.quantizer_lab``) and codebook health.

Pure functions: data in, a ``plotly.graph_objects.Figure`` out; nothing is shown here.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..teach.quantizer_lab import LabRun, LabSnapshot, STEDemo, assign

# one colour per method, the same in every figure
METHOD_COLOURS = {"vq": "#d62728", "kmeans": "#1f77b4", "ema": "#2ca02c", "restart": "#9467bd",
                  "cosine": "#ff7f0e", "all": "#17becf", "fsq": "#8c564b", "lfq": "#e377c2"}
_FALLBACK = ("#7f7f7f", "#bcbd22", "#393b79", "#637939")
METRIC_TITLES = {"usage": "usage (fraction of codes used)", "entropy": "normalised entropy H / log V",
                 "perplexity": "perplexity exp(H)", "dead": "dead codes", "recon_mse": "test reconstruction MSE",
                 "restarted": "codes restarted so far"}


def _colour(name: str, i: int) -> str:
    return METHOD_COLOURS.get(name, _FALLBACK[i % len(_FALLBACK)])


def _extent(points: np.ndarray, pad: float = 0.35) -> tuple[float, float, float, float]:
    """A square view (x0, x1, y0, y1) around the middle 99% of the points, padded."""
    lo = np.percentile(points, 0.5, axis=0)  # (2,)
    hi = np.percentile(points, 99.5, axis=0)  # (2,)
    mid, half = (lo + hi) / 2, max(float((hi - lo).max()), 1e-3) * (0.5 + pad)
    return float(mid[0] - half), float(mid[0] + half), float(mid[1] - half), float(mid[1] + half)


def _voronoi_traces(table: np.ndarray, points: np.ndarray, counts: np.ndarray | None, cosine: bool,
                    extent: tuple[float, float, float, float], resolution: int) -> list[go.BaseTraceType]:
    x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)  # (R, R) each
    grid = np.stack([gx.ravel(), gy.ravel()], 1)  # (R * R, 2)
    cell = assign(grid, table, cosine=cosine).codes.reshape(resolution, resolution)  # (R, R) code of each pixel
    V = len(table)
    shuffled = (cell * 37) % V  # (R, R) neighbouring ids get distant colours
    used = counts > 0 if counts is not None else np.ones(V, dtype=bool)  # (V,)
    inside = (table[:, 0] >= x0) & (table[:, 0] <= x1) & (table[:, 1] >= y0) & (table[:, 1] <= y1)  # (V,)
    traces: list[go.BaseTraceType] = [
        go.Heatmap(x=xs, y=ys, z=shuffled, customdata=cell, colorscale="Rainbow", opacity=0.28, showscale=False,
                   hovertemplate="cell of code %{customdata}<extra></extra>"),
        go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers", name="encoder outputs",
                     marker=dict(size=3, color="rgba(30,30,30,0.45)"), hoverinfo="skip"),
    ]
    for mask, name, marker in (
        (used & inside, "used codes", dict(size=9, color="black", symbol="circle", line=dict(color="white", width=1))),
        (~used & inside, "dead codes", dict(size=10, color="#d62728", symbol="x")),
    ):
        ids = np.nonzero(mask)[0]
        cnt = counts[ids] if counts is not None else np.zeros(len(ids))
        traces.append(go.Scatter(x=table[ids, 0], y=table[ids, 1], mode="markers", name=name, marker=marker,
                                 customdata=np.stack([ids, cnt], 1) if len(ids) else None,
                                 hovertemplate="code %{customdata[0]}: %{customdata[1]} test points<extra></extra>"))
    return traces


def voronoi_figure(table: np.ndarray, points: np.ndarray, counts: np.ndarray | None = None, *,
                   cosine: bool = False, title: str = "", resolution: int = 140,
                   extent: tuple[float, float, float, float] | None = None) -> go.Figure:
    """Nearest-code cells of a 2-D codebook ``table`` (V, 2) with ``points`` (n, 2) on top.

    Each coloured region is the set of latents one code would win (its Voronoi cell; for
    ``cosine`` codes an angular sector). ``counts`` (V,) marks codes no point uses as red crosses.
    The view fits the points; codes outside it are counted in the title.
    """
    table, points = np.asarray(table, dtype=np.float32), np.asarray(points, dtype=np.float32)
    if table.ndim != 2 or table.shape[1] != 2 or points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"voronoi_figure draws 2-D codes and points, got table {table.shape}, points {points.shape}")
    ext = extent or _extent(np.concatenate([points, table]) if cosine else points)
    fig = go.Figure(_voronoi_traces(table, points, counts, cosine, ext, resolution))
    out = int(((table[:, 0] < ext[0]) | (table[:, 0] > ext[1]) | (table[:, 1] < ext[2]) | (table[:, 1] > ext[3])).sum())
    extra = f" · {out} codes outside the view" if out else ""
    fig.update_layout(title=(title + extra) or None, width=520, height=500, margin=dict(l=40, r=10, t=50, b=40),
                      legend=dict(orientation="h", y=-0.12), xaxis=dict(range=ext[:2]),
                      yaxis=dict(range=ext[2:], scaleanchor="x"))
    return fig


def voronoi_steps_figure(snapshots: Sequence[LabSnapshot], *, cosine: bool = False, title: str = "",
                         resolution: int = 110) -> go.Figure:
    """The Voronoi view at each snapshot, with a plotly slider over the steps (no widgets needed)."""
    snaps = [s for s in snapshots if s.table is not None and s.table.shape[1] == 2]
    if not snaps:
        raise ValueError("no 2-D snapshots to draw (lfq has no 2-D code table)")
    ext = _extent(np.concatenate([s.latents for s in snaps] + ([s.table for s in snaps] if cosine else [])))

    def traces(s: LabSnapshot):
        return _voronoi_traces(s.table, s.latents, s.counts, cosine, ext, resolution)

    def label(s: LabSnapshot) -> str:
        used = int((s.counts > 0).sum())
        return f"{title} · step {s.step}: {used}/{len(s.counts)} codes used"

    fig = go.Figure(traces(snaps[-1]), frames=[go.Frame(data=traces(s), name=str(s.step),
                                                        layout=go.Layout(title_text=label(s))) for s in snaps])
    steps = [dict(method="animate", label=str(s.step),
                  args=[[str(s.step)], dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))])
             for s in snaps]
    fig.update_layout(title=label(snaps[-1]), width=540, height=560, margin=dict(l=40, r=10, t=50, b=40),
                      xaxis=dict(range=ext[:2]), yaxis=dict(range=ext[2:], scaleanchor="x"), showlegend=False,
                      sliders=[dict(active=len(snaps) - 1, currentvalue=dict(prefix="step "), steps=steps, pad=dict(t=30))])
    return fig


def health_figure(runs: dict[str, LabRun], metrics: Sequence[str] = ("usage", "entropy", "perplexity", "dead"),
                  title: str = "") -> go.Figure:
    """One panel per metric, one line per method, over training steps (measured on the test set)."""
    cols = 2 if len(metrics) > 1 else 1
    rows = -(-len(metrics) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[METRIC_TITLES.get(m, m) for m in metrics],
                        horizontal_spacing=0.08, vertical_spacing=0.14)
    for i, (name, run) in enumerate(runs.items()):
        for j, metric in enumerate(metrics):
            steps, values = run.series(metric)
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines", name=name, legendgroup=name,
                                     showlegend=j == 0, line=dict(color=_colour(name, i), width=2)),
                          row=j // cols + 1, col=j % cols + 1)
    fig.update_xaxes(title_text="step")
    fig.update_layout(title=title or None, height=300 * rows + 60, width=900, margin=dict(l=50, r=10, t=60, b=40))
    return fig


def final_usage_figure(runs: dict[str, LabRun], title: str = "") -> go.Figure:
    """Final usage and normalised entropy per method, side by side."""
    names = list(runs)
    fig = go.Figure([
        go.Bar(x=names, y=[runs[n].final.usage for n in names], name="usage",
               marker_color=[_colour(n, i) for i, n in enumerate(names)],
               text=[f"{runs[n].final.usage:.0%}" for n in names], textposition="outside"),
        go.Bar(x=names, y=[runs[n].final.entropy for n in names], name="normalised entropy",
               marker_color="rgba(80,80,80,0.35)", text=[f"{runs[n].final.entropy:.2f}" for n in names],
               textposition="outside"),
    ])
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1.15]), title=title or None, width=760, height=380,
                      margin=dict(l=50, r=10, t=50, b=40))
    return fig


def code_counts_figure(runs: dict[str, LabRun], title: str = "code frequency, most used first") -> go.Figure:
    """Each method's test-set code counts sorted high to low: a collapsed codebook is a cliff."""
    fig = go.Figure()
    for i, (name, run) in enumerate(runs.items()):
        counts = np.sort(run.health.levels[0].counts)[::-1]  # (V,)
        share = counts / max(counts.sum(), 1)
        fig.add_trace(go.Scatter(x=np.arange(1, len(share) + 1), y=share, mode="lines", name=name,
                                 line=dict(color=_colour(name, i), width=2, shape="hv")))
    fig.update_layout(title=title or None, xaxis_title="code rank", yaxis_title="share of test vectors",
                      yaxis_type="log", width=760, height=360, margin=dict(l=60, r=10, t=50, b=40))
    return fig


def ste_figure(demo: STEDemo) -> go.Figure:
    """Forward: round(z) is a staircase. Backward: torch.round gives zero gradient, the
    straight-through estimator gives the gradient of the loss at round(z)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("forward: what the decoder sees",
                                                        f"backward: d/dz (q - {demo.target})^2"))
    fig.add_trace(go.Scatter(x=demo.z, y=demo.z, name="z (no quantizer)", line=dict(color="#aaaaaa", dash="dot")), 1, 1)
    fig.add_trace(go.Scatter(x=demo.z, y=demo.forward, name="q = round(z)", line=dict(color="#1f77b4", width=2)), 1, 1)
    fig.add_trace(go.Scatter(x=demo.z, y=demo.grad_plain, name="through torch.round: 0", line=dict(color="#d62728", width=2)), 1, 2)
    fig.add_trace(go.Scatter(x=demo.z, y=demo.grad_ste, name="straight-through: 2 (round(z) - t)",
                             line=dict(color="#2ca02c", width=2)), 1, 2)
    fig.update_xaxes(title_text="z")
    fig.update_layout(width=900, height=360, margin=dict(l=50, r=10, t=50, b=40), legend=dict(orientation="h", y=-0.2))
    return fig


def codebook_tiles_figure(tiles: np.ndarray, counts: np.ndarray | None = None, cols: int = 16, scale: int = 6,
                          title: str = "") -> go.Figure:
    """Decoded codes as a mosaic of little (p, p, 3) uint8 tiles, most used first; dead codes
    (count 0) are faded and listed after the used ones."""
    tiles = np.asarray(tiles)
    V, p = tiles.shape[0], tiles.shape[1]
    order = np.argsort(-counts, kind="stable") if counts is not None else np.arange(V)  # (V,)
    rows = -(-V // cols)
    cell = p * scale + 2
    canvas = np.full((rows * cell, cols * cell, 3), 255, dtype=np.uint8)  # (H, W, 3)
    for slot, code in enumerate(order):
        r, c = divmod(slot, cols)
        tile = np.kron(tiles[code], np.ones((scale, scale, 1), dtype=np.uint8))  # (p*s, p*s, 3)
        if counts is not None and counts[code] == 0:
            tile = (0.3 * tile + 0.7 * 255).astype(np.uint8)
        canvas[r * cell + 1:r * cell + 1 + p * scale, c * cell + 1:c * cell + 1 + p * scale] = tile
    fig = go.Figure(go.Image(z=canvas, hoverinfo="skip"))
    used = int((counts > 0).sum()) if counts is not None else V
    fig.update_layout(title=title or f"{used}/{V} codes used (faded: dead)", width=min(900, cols * cell * 2 + 40),
                      height=rows * cell * 2 + 80, margin=dict(l=10, r=10, t=50, b=10))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
