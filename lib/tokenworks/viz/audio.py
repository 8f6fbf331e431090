"""Plotly figures for audio tokenizers: data in, a ``plotly.graph_objects.Figure`` out, never shown.

    waveform_spectrogram(wave, recon, 16000)       # both waveforms, both spectrograms, their difference
    codebook_tokens(seq.ids, frame_rate=50)        # (K, T) ids as an image over time, one row per level
    bitrate_quality(points, metric="pesq")         # bits/s (log x) vs a metric: ladder line + baselines
    codebook_usage(seq.ids, vocab_size=1024)       # per level: fraction of codes used, normalised entropy

``bitrate_quality`` takes ``RatePoint``s and ``codebook_usage`` ``LevelUsage``s (or ids, or a
``quantizers.health.HealthReport``), so this module depends on no tokenizer or baseline module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InvalidInput

FONT = dict(family="system-ui, sans-serif", size=12)
MAX_POINTS = 4000  # a waveform trace holds at most this many points (min/max envelope beyond)
USAGE_TARGET = 0.9  # the codebook usage a healthy tokenizer should reach (dashed line)
# metrics where lower is better (for the axis title); everything else: higher is better
LOWER_IS_BETTER = {"mel_distance", "mel", "wer", "lsd", "mse", "spectral_convergence"}
LEVEL_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


@dataclass
class RatePoint:
    """One point of a bitrate-quality plot."""

    name: str  # the series: "audio/rvq-speech16k" or "opus"
    bits_per_second: float  # the bitrate (x)
    metrics: dict[str, float] = field(default_factory=dict)  # {"pesq": 3.1, "stoi": 0.9, "mel_distance": 0.8}
    label: str = ""  # the point's label: "k=2", "6 kbps"
    ladder: bool = False  # True: a tokenizer's codebook ladder, drawn as a line; False: a baseline marker


@dataclass
class LevelUsage:
    """How one codebook level uses its codes."""

    level: int  # 1-based codebook level
    usage: float  # fraction of the V codes used at least once, in [0, 1]
    entropy: float  # normalised entropy H / log V, in [0, 1]
    codebook_size: int = 0  # V (0: unknown)


def _layout(fig: go.Figure, title: str, width: int, height: int) -> go.Figure:
    top = 90 if "<br>" in title else 70
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=14)), width=width, height=height,
                      margin=dict(l=60, r=20, t=top, b=50), font=FONT, plot_bgcolor="white")
    return fig


def _wave(x: Any, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1 or a.size == 0:
        raise InvalidInput(f"{what} must be a mono waveform of shape (N,) with N >= 1, got shape {a.shape}")
    return np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=-1.0)


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float:
    """Scale-invariant SDR in dB for a figure title (``metrics.audio.si_sdr``; NaN for silence)."""
    import warnings

    from ..metrics.audio import si_sdr as _si_sdr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(_si_sdr(ref, est))


def _envelope(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) to draw: the samples, or a min/max envelope when there are too many."""
    if x.size <= MAX_POINTS:
        return np.arange(x.size) / sr, x
    n = MAX_POINTS // 2
    edges = np.linspace(0, x.size, n + 1).astype(int)
    lo = np.minimum.reduceat(x, edges[:-1])  # (n,)
    hi = np.maximum.reduceat(x, edges[:-1])  # (n,)
    t = edges[:-1] / sr
    return np.repeat(t, 2), np.stack([lo, hi], 1).reshape(-1)


def _log_mel_db(x: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """(M, T) log-mel in dB and the frame rate, for display."""
    from ..audio.mel import MelConfig, log_mel

    n_fft = 1024 if sr >= 16000 else 512
    cfg = MelConfig(sample_rate=sr, n_fft=n_fft, win_length=n_fft, hop_length=n_fft // 4, n_mels=80,
                    f_max=sr / 2)
    if x.size < 2:
        x = np.pad(x, (0, 2 - x.size))
    m = log_mel(x, cfg).numpy() * (20 / np.log(10))  # (M, T) dB
    return m, cfg.frame_rate


def waveform_spectrogram(orig: Any, recon: Any, sr: int = 16000, title: str | None = None) -> go.Figure:
    """Original and reconstruction, aligned on one time axis: the two waveforms overlaid, the two
    log-mel spectrograms and their difference (recon - orig, dB); SI-SDR in the title.

    The longer of the two is cut to the shorter one's length (codecs may pad a few samples).
    """
    a, b = _wave(orig, "orig"), _wave(recon, "recon")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise InvalidInput(f"sr must be a positive integer sample rate, got {sr!r}")
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    score = si_sdr(a, b)
    ma, fr = _log_mel_db(a, sr)
    mb, _ = _log_mel_db(b, sr)
    diff = mb - ma  # (M, T)
    t_frames = np.arange(ma.shape[1]) / fr  # (T,)
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.25, 0.25, 0.25, 0.25],
                        subplot_titles=["waveforms", "original log-mel (dB)", "reconstruction log-mel (dB)",
                                        "difference: reconstruction − original (dB)"])
    for x, name, colour in ((a, "original", "#1f77b4"), (b, "reconstruction", "#d62728")):
        tt, yy = _envelope(x, sr)
        fig.add_trace(go.Scattergl(x=tt, y=yy, mode="lines", name=name, line=dict(width=1, color=colour),
                                   opacity=0.75, hovertemplate=f"{name}<br>%{{x:.3f}} s: %{{y:.3f}}<extra></extra>"),
                      row=1, col=1)
    lo, hi = float(np.percentile(ma, 5)), float(ma.max())
    for row, m, name in ((2, ma, "original"), (3, mb, "reconstruction")):
        fig.add_trace(go.Heatmap(z=m, x=t_frames, colorscale="Magma", zmin=lo, zmax=hi, name=name, showscale=row == 2,
                                 colorbar=dict(len=0.45, y=0.62, thickness=10, title=dict(text="dB", side="right")),
                                 hovertemplate=f"{name}<br>%{{x:.2f}} s, band %{{y}}: %{{z:.1f}} dB<extra></extra>"),
                      row=row, col=1)
    lim = max(float(np.percentile(np.abs(diff), 99)), 1e-3)
    fig.add_trace(go.Heatmap(z=diff, x=t_frames, colorscale="RdBu_r", zmid=0, zmin=-lim, zmax=lim, name="difference",
                             colorbar=dict(len=0.22, y=0.1, thickness=10, title=dict(text="dB", side="right")),
                             hovertemplate="difference<br>%{x:.2f} s, band %{y}: %{z:+.1f} dB<extra></extra>"),
                  row=4, col=1)
    fig.update_xaxes(title="time (s)", row=4, col=1)
    fig.update_yaxes(title="amplitude", range=[-1.05, 1.05], row=1, col=1)
    for row in (2, 3, 4):
        fig.update_yaxes(title="mel band", row=row, col=1)
    head = title or "Original vs reconstruction"
    sdr = "n/a (silent original)" if np.isnan(score) else f"{score:.1f} dB"
    fig.update_layout(legend=dict(orientation="h", y=1.02, x=0.6))
    return _layout(fig, f"{head}<br><sup>SI-SDR {sdr} · {n / sr:.2f} s at {sr} Hz</sup>", width=900, height=760)


def _ids_2d(ids: Any) -> np.ndarray:
    a = np.asarray(getattr(ids, "ids", ids))
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or a.shape[1] == 0 or not np.issubdtype(a.dtype, np.integer):
        raise InvalidInput(f"ids must be integers of shape (K, T) (K codebooks x T frames) or (T,), "
                           f"got shape {a.shape}, dtype {a.dtype}")
    return a.astype(np.int64)


def codebook_tokens(ids: Any, frame_rate: float, vocab_size: int | None = None, title: str | None = None) -> go.Figure:
    """ids (K, T) as an image over time: one row per codebook level (level 1 at the top), colour = id.

    Hover gives level, frame, id and time. ``vocab_size`` fixes the colour range to 0..V-1.
    """
    a = _ids_2d(ids)  # (K, T)
    if frame_rate <= 0:
        raise InvalidInput(f"frame_rate must be positive (frames per second), got {frame_rate}")
    K, T = a.shape
    times = np.arange(T) / frame_rate  # (T,)
    frames = np.broadcast_to(np.arange(T), (K, T))  # (K, T)
    levels = np.broadcast_to(np.arange(1, K + 1)[:, None], (K, T))  # (K, T)
    custom = np.stack([levels, frames], -1)  # (K, T, 2)
    zmax = (vocab_size - 1) if vocab_size else int(a.max())
    fig = go.Figure(go.Heatmap(
        z=a, x=times, y=[f"level {k}" for k in range(1, K + 1)], customdata=custom, colorscale="Turbo",
        zmin=0, zmax=max(zmax, 1), colorbar=dict(title=dict(text="id", side="right"), thickness=10),
        hovertemplate="level %{customdata[0]} · frame %{customdata[1]}<br>id %{z}<br>t = %{x:.3f} s<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title="codebook")
    fig.update_xaxes(title="time (s)")
    what = title or f"{K} codebook{'s' if K > 1 else ''} × {T} frames at {frame_rate:g} frames/s"
    return _layout(fig, what, width=900, height=min(120 + 36 * K, 520))


def _metric_title(metric: str) -> str:
    return f"{metric} ({'lower' if metric.lower() in LOWER_IS_BETTER else 'higher'} is better)"


def bitrate_quality(points: Sequence[RatePoint], metric: str = "mel_distance", title: str | None = None) -> go.Figure:
    """Bits per second (log x) against ``metric``: each ladder (``ladder=True``, e.g. 1..K codebooks)
    as a line with markers, each baseline point as a labelled marker. Points without the metric are
    left out; if none has it the error lists the metrics the points do have."""
    pts = [p for p in points if isinstance(p, RatePoint)]
    if len(pts) != len(points):
        raise InvalidInput("bitrate_quality takes a list of RatePoint (name, bits_per_second, metrics, label, ladder)")
    have = sorted({m for p in pts for m in p.metrics})
    pts = [p for p in pts if metric in p.metrics and p.bits_per_second > 0 and np.isfinite(p.metrics[metric])]
    if not pts:
        raise InvalidInput(f"no point has a finite {metric!r} and a positive bitrate; "
                           f"metrics the points have: {', '.join(have) or 'none'}")
    fig = go.Figure()
    names = list(dict.fromkeys(p.name for p in pts))
    for i, name in enumerate(names):
        group = [p for p in pts if p.name == name]
        ladder = [p for p in group if p.ladder]
        base = [p for p in group if not p.ladder]
        colour = LEVEL_COLOURS[i % len(LEVEL_COLOURS)]
        if ladder:
            ladder.sort(key=lambda p: p.bits_per_second)
            fig.add_trace(go.Scatter(
                x=[p.bits_per_second for p in ladder], y=[p.metrics[metric] for p in ladder], name=name,
                mode="lines+markers+text", text=[p.label for p in ladder], textposition="top center",
                line=dict(color=colour, width=2), marker=dict(size=8, color=colour),
                hovertemplate=f"{name} %{{text}}<br>%{{x:,.0f}} bits/s<br>{metric} %{{y:.3f}}<extra></extra>"))
        if base:
            fig.add_trace(go.Scatter(
                x=[p.bits_per_second for p in base], y=[p.metrics[metric] for p in base], name=name,
                mode="markers+text", text=[p.label or name for p in base], textposition="bottom center",
                marker=dict(size=10, symbol="diamond", color=colour),
                hovertemplate=f"{name} %{{text}}<br>%{{x:,.0f}} bits/s<br>{metric} %{{y:.3f}}<extra></extra>"))
    fig.update_xaxes(type="log", title="bits per second", gridcolor="#eee")
    fig.update_yaxes(title=_metric_title(metric), gridcolor="#eee")
    return _layout(fig, title or f"Bitrate vs {metric}", width=760, height=460)


def _usage_levels(data: Any, vocab_size: int | None) -> tuple[list[LevelUsage], int | None]:
    """The levels, and T when they were counted from ids (None otherwise)."""
    if hasattr(data, "levels") and hasattr(data, "codebook_size"):  # HealthReport or metrics.audio.CodebookUsage
        return [LevelUsage(i + 1, float(lv.usage), float(lv.entropy), int(data.codebook_size))
                for i, lv in enumerate(data.levels)], None
    if isinstance(data, (list, tuple)) and data and all(isinstance(x, LevelUsage) for x in data):
        return list(data), None
    a = _ids_2d(data)  # (K, T)
    if not vocab_size or vocab_size < 1:
        raise InvalidInput("codebook_usage needs vocab_size (V) when given ids, to know how many codes there are")
    if a.min() < 0 or a.max() >= vocab_size:
        raise InvalidInput(f"ids must lie in 0..{vocab_size - 1} for vocab_size {vocab_size}, "
                           f"got {int(a.min())}..{int(a.max())}")
    out = []
    for k, row in enumerate(a):
        counts = np.bincount(row, minlength=vocab_size)  # (V,)
        p = counts[counts > 0] / row.size
        h = float(-(p * np.log(p)).sum())
        out.append(LevelUsage(k + 1, float((counts > 0).mean()), h / np.log(vocab_size) if vocab_size > 1 else 1.0,
                              vocab_size))
    return out, a.shape[1]


def codebook_usage(data: Any, vocab_size: int | None = None, title: str | None = None) -> go.Figure:
    """Per codebook level: the fraction of codes used and the normalised entropy H / log V, as bars,
    with a dashed line at the 90% target.

    ``data``: ids (K, T) or (T,) with ``vocab_size``, a list of ``LevelUsage``, a
    ``quantizers.health.HealthReport`` or a ``metrics.audio.CodebookUsage``. Few frames cannot use many codes: T frames use at most T
    of V codes, which the title says.
    """
    levels, T = _usage_levels(data, vocab_size)
    x = [f"level {lv.level}" for lv in levels]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=[lv.usage for lv in levels], name="codes used (fraction)", marker_color="#1f77b4",
                         customdata=[lv.codebook_size for lv in levels],
                         hovertemplate="%{x}<br>%{y:.1%} of %{customdata} codes used<extra></extra>"))
    fig.add_trace(go.Bar(x=x, y=[lv.entropy for lv in levels], name="entropy H / log V", marker_color="#ff7f0e",
                         hovertemplate="%{x}<br>normalised entropy %{y:.3f}<extra></extra>"))
    fig.add_hline(y=USAGE_TARGET, line=dict(dash="dash", color="#444", width=1),
                  annotation_text=f"{USAGE_TARGET:.0%} target", annotation_position="top left")
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.2))
    fig.update_yaxes(range=[0, 1.05], title="fraction", gridcolor="#eee")
    note = ""
    if T is not None and vocab_size and T < vocab_size:
        note = f"<br><sup>{T} frames can use at most {T} of {vocab_size} codes per level</sup>"
    return _layout(fig, (title or f"Codebook usage per level ({len(levels)} level{'s' if len(levels) > 1 else ''})") + note,
                   width=max(420, 110 * len(levels) + 200), height=400)
