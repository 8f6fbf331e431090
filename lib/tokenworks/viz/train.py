"""Plotly figures of training runs, from their "step" events.

    steps = [json.loads(line) for line in open("runs/x/events.jsonl")]   # any log_event lines
    training_dashboard(steps)                    # loss (or the trainer's metric), lr, codebook, throughput
    compare_runs({"a": steps_a, "b": steps_b}, metric="psnr_train", x="elapsed")
    metric_names(steps)                          # the numeric keys, for a dropdown

Inputs are lists of "step" dicts as the trainers log them (``image.train.step_record``,
``text.train_events.text_step_record``; lines with another "event" are ignored) or the
``tokenworks.train.loop.StepEvent`` objects themselves. Functions return a
``plotly.graph_objects.Figure`` and never show it; with no steps the figure says so. Curves of
more than MAX_POINTS steps are thinned evenly (the last step always drawn).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InvalidInput

FONT = dict(family="system-ui, sans-serif", size=12)
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
MAIN = ("loss", "train_bytes_per_token", "read_fraction")  # the headline curve, the first a run reports
NOT_METRICS = ("step", "steps", "elapsed", "eta_s", "window")  # bookkeeping, not curves
X_AXES = ("step", "elapsed")
MAX_POINTS = 2000  # points drawn per curve (longer runs are thinned evenly, so figures stay light in a browser)
LABELS = {"loss": "loss", "train_bytes_per_token": "training bytes per token", "read_fraction": "corpus read",
          "pair_count": "count of the merged pair", "lr": "learning rate", "items_per_s": "throughput",
          "elapsed": "seconds", "step": "step", "q_usage": "codebook usage", "q_perplexity": "perplexity"}


def step_dicts(steps: Sequence[Any]) -> list[dict[str, Any]]:
    """The "step" records among ``steps`` (log-line dicts or loop events), as flat dicts; other
    lines and events (start, eval, checkpoints, done) are passed over."""
    out: list[dict[str, Any]] = []
    for s in steps:
        if isinstance(s, Mapping):
            if s.get("event", "step") == "step":
                out.append(dict(s))
        elif hasattr(s, "losses") and hasattr(s, "step"):  # a tokenworks.train.loop.StepEvent
            if hasattr(s, "phase"):  # text training (no learning rate; its own unit)
                from ..text.train_events import text_step_record

                out.append(text_step_record(s))
                continue
            out.append({"step": s.step, "steps": s.steps, **s.losses, **s.metrics,
                        **{f"q_{k}": v for k, v in s.codebook.items()}, "lr": s.lr, "items_per_s": s.items_per_s,
                        "unit": "items", "elapsed": s.elapsed, "eta_s": s.eta_seconds})
        elif type(s).__name__ not in ("CheckpointEvent", "DoneEvent", "PreviewEvent"):  # other loop events: skipped
            raise InvalidInput(f"steps must be dicts (log lines) or StepEvents, got {type(s).__name__}")
    return out


def _number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def metric_names(steps: Sequence[Any]) -> list[str]:
    """The numeric keys the step records hold (in order of first appearance), without the
    bookkeeping ones (step, steps, elapsed, eta_s, window)."""
    seen: dict[str, None] = {}
    for rec in step_dicts(steps):
        for k, v in rec.items():
            if k not in seen and k not in NOT_METRICS and _number(v):
                seen[k] = None
    return list(seen)


def _column(recs: list[dict[str, Any]], key: str) -> np.ndarray:
    """(N,) float values of ``key`` (NaN where a record lacks it or holds None)."""
    return np.array([float(r[key]) if _number(r.get(key)) else math.nan for r in recs], dtype=float)


def _empty(title: str, note: str = "no steps logged yet") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=note, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=16))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, 760, 260)


def _layout(fig: go.Figure, title: str, width: int, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=14)), width=width, height=height,
                      margin=dict(l=10, r=10, t=80, b=10), font=FONT, plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.12))
    fig.update_xaxes(showgrid=True, gridcolor="#eee", zeroline=False)
    fig.update_yaxes(showgrid=True, gridcolor="#eee", zeroline=False)
    return fig


def _x_of(recs: list[dict[str, Any]]) -> tuple[str, np.ndarray]:
    """Steps on x, or seconds when every step is 0 (HF text trainers report no step until done)."""
    steps = _column(recs, "step")
    if np.nanmax(steps, initial=0) > 0:
        return "step", steps
    return "elapsed", _column(recs, "elapsed")


def _line(x: np.ndarray, y: np.ndarray, name: str, color: str, xname: str, **kw: Any) -> go.Scatter:
    """One curve; the points with a value, thinned to at most MAX_POINTS (evenly, the last kept)."""
    keep = np.flatnonzero(~np.isnan(y))
    if len(keep) > MAX_POINTS:
        keep = keep[np.unique(np.linspace(0, len(keep) - 1, MAX_POINTS).round().astype(int))]
    return go.Scatter(x=x[keep], y=y[keep], name=name, mode="lines+markers" if len(keep) < 60 else "lines",
                      line=dict(color=color, width=1.6), marker=dict(size=4),
                      hovertemplate=f"{xname} %{{x:,.4~g}}<br>{name} %{{y:.5~g}}<extra></extra>", **kw)


def training_dashboard(steps: Sequence[Any], title: str = "Training") -> go.Figure:
    """Panels over the steps: the headline metric (``loss``, or what the trainer reports instead,
    e.g. ``train_bytes_per_token`` for text), the merged pair's count (text), the learning rate,
    codebook usage and perplexity, and throughput in the run's unit; each panel only when the
    run reports it."""
    recs = step_dicts(steps)
    if not recs:
        return _empty(title)
    names = metric_names(recs)
    xname, x = _x_of(recs)
    panels: list[tuple[str, list[str]]] = []
    main = next((m for m in MAIN if m in names), None) or next((m for m in names if m not in ("lr", "items_per_s")), None)
    if main:
        panels.append((LABELS.get(main, main), [main]))
    if "pair_count" in names and main != "pair_count":
        panels.append((LABELS["pair_count"], ["pair_count"]))
    if "lr" in names and np.nanmax(np.abs(_column(recs, "lr")), initial=0) > 0:
        panels.append(("learning rate", ["lr"]))
    codebook = [k for k in ("q_usage", "q_perplexity") if k in names]
    if codebook:
        panels.append((" and ".join(LABELS[k] for k in codebook), codebook))
    if "items_per_s" in names:
        unit = next((r["unit"] for r in reversed(recs) if r.get("unit")), "items")
        panels.append((f"throughput ({unit}/s)", ["items_per_s"]))
    cols = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / cols)
    specs = [[{"secondary_y": True} for _ in range(cols)] for _ in range(rows)]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p[0] for p in panels], specs=specs,
                        horizontal_spacing=0.12, vertical_spacing=0.16 if rows > 1 else 0.1)
    for i, (_, keys) in enumerate(panels):
        r, c = divmod(i, cols)
        for j, key in enumerate(keys):
            y = _column(recs, key)
            second = key == "q_perplexity" and len(keys) > 1
            fig.add_trace(_line(x, y, LABELS.get(key, key), COLORS[(i + j) % len(COLORS)], xname,
                                showlegend=len(keys) > 1), row=r + 1, col=c + 1, secondary_y=second)
            if second:
                fig.update_yaxes(title_text="perplexity", row=r + 1, col=c + 1, secondary_y=True)
            elif key == "q_usage":
                fig.update_yaxes(title_text="usage", tickformat=".0%", row=r + 1, col=c + 1, secondary_y=False)
        if keys == ["lr"]:
            fig.update_yaxes(exponentformat="e", row=r + 1, col=c + 1)
        if keys in (["pair_count"],):
            fig.update_yaxes(type="log", row=r + 1, col=c + 1)
        fig.update_xaxes(title_text=LABELS[xname], row=r + 1, col=c + 1)
    last = recs[-1]
    done = f"step {int(last['step']):,}" + (f" of {int(last['steps']):,}" if _number(last.get("steps")) else "")
    if _number(last.get("elapsed")):
        done += f" · {float(last['elapsed']):,.1f} s"
    if main and _number(last.get(main)):
        done += f" · {LABELS.get(main, main)} {float(last[main]):.4g}"
    return _layout(fig, f"{title}<br><sup>{done}</sup>", 900, 300 * rows + 40)


def compare_runs(runs: Mapping[str, Sequence[Any]], metric: str = "loss", x: str = "step") -> go.Figure:
    """Several runs' ``metric`` on one plot, one curve per run (legend: the run's name), over
    ``x`` = "step" or "elapsed" (seconds). A metric a run does not report raises InvalidInput
    naming the metrics that run has; runs with no steps yet are listed in the title."""
    if x not in X_AXES:
        raise InvalidInput(f"x must be one of {', '.join(X_AXES)}, not {x!r}")
    title = f"{LABELS.get(metric, metric)} by {LABELS[x]}"
    if not isinstance(runs, Mapping):
        raise InvalidInput(f"runs must map a run name to its steps, got {type(runs).__name__}")
    fig = go.Figure()
    empty: list[str] = []
    for i, (name, steps) in enumerate(runs.items()):
        recs = step_dicts(steps)
        if not recs:
            empty.append(str(name))
            continue
        names = metric_names(recs)
        if metric not in names:
            raise InvalidInput(f"run {name!r} reports no {metric!r}; its metrics are {', '.join(names) or 'none'}")
        fig.add_trace(_line(_column(recs, x), _column(recs, metric), str(name), COLORS[i % len(COLORS)], x))
    if not fig.data:
        return _empty(title)
    if empty:
        title += f"<br><sup>no steps logged yet: {', '.join(empty)}</sup>"
    fig.update_xaxes(title_text=LABELS[x])
    fig.update_yaxes(title_text=LABELS.get(metric, metric))
    fig.update_layout(showlegend=True)
    return _layout(fig, title, 820, 420)
