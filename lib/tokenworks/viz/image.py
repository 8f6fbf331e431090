"""Plotly figures for image tokenizers; each takes results of ``tokenworks.image.inspect``.

    strip_figure(prefix_strip(tok, img))                   # decodes of the first k tokens
    rd_figure({"jpeg": rd_curve(imgs, "jpeg", qs)}, {"flex1d": strip})   # bytes vs PSNR
    token_grid_figure(tok, img, seq.ids)                   # ids over the grid cells
    gallery_figure(codebook_gallery(tok, imgs))            # the most used codes
    usage_figure(usage_counts(tok, imgs))                  # histogram + rank-frequency
    attention_figure(img, attention_maps(tok, img), 3)     # where token 3 looks
    influence_figure(img, influence_maps(tok, img), 3)     # what token 3 changes
    edit_figure(edit_tokens(tok, ids, {3: 17}))            # before / after / difference

Functions return ``plotly.graph_objects.Figure`` and never show it. ``view_timings(tok, img)``
times computing and building each view once (``make bench``).
"""
from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InvalidInput
from ..image import inspect as ins
from ..image.codecs import RDCurve
from ..image.inspect import EditResult, Faithfulness, Gallery, PrefixStrip

PANEL = 160  # pixels per image panel
HEAT = "Inferno"  # colour scale of attention / influence maps
FONT = dict(family="system-ui, sans-serif", size=12)


def _layout(fig: go.Figure, title: str, width: int, height: int) -> go.Figure:
    top = 90 if "<br>" in title else 70  # room for the title above the panel titles
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=14)), width=width,
                      height=height + top - 60, margin=dict(l=10, r=10, t=top, b=10), font=FONT,
                      plot_bgcolor="white")
    return fig


def _hide_axes(fig: go.Figure) -> None:
    fig.update_xaxes(visible=False, showgrid=False)
    fig.update_yaxes(visible=False, showgrid=False)


def _overlay(fig: go.Figure, m: np.ndarray, row: int, col: int, name: str, opacity: float = 0.6,
             colorbar_x: float | None = None, unit: str = "") -> None:
    """A heatmap over an image panel (same pixel coordinates as ``go.Image``)."""
    bar = dict(x=colorbar_x, len=0.8, thickness=10, title=dict(text=unit, side="right")) if colorbar_x is not None else None
    fig.add_trace(go.Heatmap(z=m, colorscale=HEAT, opacity=opacity, name=name, showscale=colorbar_x is not None,
                             colorbar=bar, hovertemplate="x %{x}, y %{y}: %{z:.3g}<extra>" + name + "</extra>"),
                  row=row, col=col)


# ---- prefix strip and rate-distortion ---------------------------------------------------------


def strip_figure(strip: PrefixStrip) -> go.Figure:
    """The original, then the decode of the first k tokens for each k, titled k · PSNR · bytes."""
    n = len(strip.ks)
    titles = ["original"] + [f"k={k}<br>{p:.1f} dB · {b} B" for k, p, b in zip(strip.ks, strip.psnr, strip.nbytes)]
    fig = make_subplots(rows=1, cols=n + 1, subplot_titles=titles, horizontal_spacing=0.01)
    fig.add_trace(go.Image(z=strip.original, name="original"), row=1, col=1)
    for i, (k, im) in enumerate(zip(strip.ks, strip.images)):
        fig.add_trace(go.Image(z=im, name=f"k={k}", hovertemplate=f"k={k}<br>x %{{x}}, y %{{y}}<extra></extra>"),
                      row=1, col=i + 2)
    _hide_axes(fig)
    fig.update_annotations(font_size=11)
    what = "first k tokens" if n > 1 else "all tokens (a grid tokenizer has no prefixes)"
    return _layout(fig, f"Decoding the {what}", width=min(110 * (n + 1) + 40, 1400), height=210)


def _series(name: str, data: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(bytes, psnr, point labels) of one curve: an RDCurve, a PrefixStrip, a budget_table dict
    {budget: (psnr, share, mean bytes)} or a pair (bytes, psnr)."""
    if isinstance(data, RDCurve):
        return data.mean_bytes, data.mean_psnr, [f"q={q}" for q in data.qualities]
    if isinstance(data, PrefixStrip):
        return np.asarray(data.nbytes, float), np.asarray(data.psnr, float), [f"k={k}" for k in data.ks]
    if isinstance(data, Mapping):
        rows = sorted((int(b), v) for b, v in data.items())
        return (np.array([v[2] for _, v in rows], float), np.array([v[0] for _, v in rows], float),
                [f"≤{b} B ({v[1]:.0%} fit)" for b, v in rows])
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = np.asarray(data[0], float), np.asarray(data[1], float)
        if x.shape == y.shape and x.ndim == 1:
            return x, y, [""] * x.size
    raise InvalidInput(f"rd_figure: {name!r} must be an RDCurve, a PrefixStrip, a budget_table dict "
                       f"or a pair (bytes, psnr) of equal-length 1D sequences; got {type(data).__name__}")


def rd_figure(codec_curves: Mapping[str, Any] | Sequence[RDCurve],
              token_points: Mapping[str, Any] | PrefixStrip | None = None, pixels: int | None = None) -> go.Figure:
    """Rate-distortion: bytes (log x) against PSNR (y), codecs as lines, tokenizers as markers+lines.

    ``codec_curves``: {name: curve} or a list of ``RDCurve`` (named by their codec); a curve is an
    ``RDCurve`` (``codecs.rd_curve``: the mean over its images per quality), a ``budget_table``
    dict, or a pair (bytes, psnr). ``token_points``: {name: ``PrefixStrip`` or (bytes, psnr)} or
    one strip (named "tokens"); a strip's point k is (``bytes_for_tokens(k, V)``, PSNR of the
    first k tokens). ``pixels`` adds bits per pixel to the hover text.
    """
    if not isinstance(codec_curves, Mapping):
        codec_curves = {c.codec: c for c in codec_curves}
    if isinstance(token_points, PrefixStrip):
        token_points = {"tokens": token_points}
    fig = go.Figure()
    bpp = "<br>%{customdata:.3f} bpp" if pixels else ""
    for dash, (group, curves) in zip(("dot", "solid"), (("codec", codec_curves), ("tokens", token_points or {}))):
        for name, data in curves.items():
            x, y, labels = _series(name, data)
            fig.add_trace(go.Scatter(
                x=x, y=y, name=name, mode="lines+markers", text=labels,
                customdata=x * 8 / pixels if pixels else None, legendgroup=group,
                line=dict(dash=dash, width=2 if group == "tokens" else 1.5),
                marker=dict(size=8 if group == "tokens" else 6, symbol="circle" if group == "tokens" else "square"),
                hovertemplate=f"{name} %{{text}}<br>%{{x:.0f}} bytes<br>%{{y:.2f}} dB{bpp}<extra></extra>"))
    fig.update_xaxes(type="log", title="bytes", gridcolor="#eee")
    fig.update_yaxes(title="PSNR (dB)", gridcolor="#eee")
    return _layout(fig, "Rate–distortion: bytes vs PSNR", width=640, height=420)


# ---- tokens on the image ----------------------------------------------------------------------


def token_grid_figure(tok: Any, image: Any, ids: Any) -> go.Figure:
    """Token ids drawn where they sit.

    grid tokenizers: the image (at the model's size) with cell lines and each cell's id over it.
    flex1d: a token has no cell; the T ids are laid out in reading order on a near-square
    table (coloured by id) beside the image, so the sequence can be read at a glance.
    """
    arr = tok.prepare(image).array  # (S, S, 3)
    S = arr.shape[0]
    flat = np.asarray(getattr(ids, "ids", ids)).reshape(-1)
    fig = make_subplots(rows=1, cols=2, subplot_titles=["image", "token ids"], horizontal_spacing=0.03)
    fig.add_trace(go.Image(z=arr, name="image"), row=1, col=1)
    if ins.is_flex1d(tok):
        T = flat.size
        w = int(np.ceil(np.sqrt(T)))
        h = -(-T // w)
        table = np.full(h * w, np.nan)
        table[:T] = flat
        pos = np.full(h * w, -1)
        pos[:T] = np.arange(T)
        fig.add_trace(go.Heatmap(z=table.reshape(h, w), text=table.reshape(h, w), texttemplate="%{text:.0f}",
                                 customdata=pos.reshape(h, w), colorscale="Viridis", showscale=False,
                                 textfont=dict(size=8 if w > 12 else 11),
                                 hovertemplate="token %{customdata}: id %{z:.0f}<extra></extra>"), row=1, col=2)
        fig.update_yaxes(autorange="reversed", row=1, col=2)
        title = f"{T} token ids in order (a 1D tokenizer: ids have no cell)"
    else:
        g = int(round(np.sqrt(flat.size)))
        cell = S / g
        fig.add_trace(go.Image(z=arr, name="cells", opacity=0.55), row=1, col=2)
        edges = [(i * cell - 0.5) for i in range(g + 1)]
        lx, ly = [], []
        for e in edges:  # one polyline with gaps: vertical and horizontal cell borders
            lx += [e, e, None, -0.5, S - 0.5, None]
            ly += [-0.5, S - 0.5, None, e, e, None]
        fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line=dict(color="rgba(255,255,255,.8)", width=1),
                                 hoverinfo="skip", showlegend=False, name="cell borders"), row=1, col=2)
        r, c = np.divmod(np.arange(flat.size), g)
        fig.add_trace(go.Scatter(x=(c + 0.5) * cell - 0.5, y=(r + 0.5) * cell - 0.5, mode="text",
                                 text=[str(v) for v in flat], name="ids", showlegend=False,
                                 textfont=dict(size=max(7, min(12, int(420 / g / 3))), color="black"),
                                 customdata=np.arange(flat.size),
                                 hovertemplate="token %{customdata}: id %{text}<extra></extra>"), row=1, col=2)
        title = f"{g}x{g} grid of token ids ({int(cell)} px cells)"
    _hide_axes(fig)
    return _layout(fig, title, width=860, height=470)


# ---- codebook ---------------------------------------------------------------------------------


def _tile(img: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of (h, w, 3) to (size, size, 3)."""
    h, w = img.shape[:2]
    ys, xs = (np.arange(size) * h // size), (np.arange(size) * w // size)
    return img[ys][:, xs]


def gallery_figure(gallery: Gallery, tile: int = 48, columns: int = 8) -> go.Figure:
    """One mosaic image, ``columns`` codes to a row: per code a column of tiles under its id.

    The top tile is what the code decodes to alone (``render_token``); below it its examples
    (grid: the cells that use it, with context; flex1d: the images that use it most). Hover
    names the code, its count and each tile. One ``go.Image`` + one text and one hover trace,
    so 64 codes draw as fast as 4.
    """
    n = len(gallery.codes)
    m = max([len(e) for e in gallery.examples] + [0])
    gap, label = 6, 16  # pixels between blocks; a band above each block for the code id
    block_h = label + tile + (gap // 2 + m * (tile + 2) if m else 0)
    cols = max(1, min(columns, n))
    nrows = -(-n // cols) if n else 1
    H, W = nrows * (block_h + gap), cols * (tile + gap)
    mosaic = np.full((H, W, 3), 255, np.uint8)
    hx, hy, ht, lx, ly, lt = [], [], [], [], [], []
    for j, code in enumerate(gallery.codes):
        br, bc = divmod(j, cols)
        x0, y0 = bc * (tile + gap) + gap // 2, br * (block_h + gap)
        cnt = f", used {int(gallery.counts[j])}x" if gallery.counts is not None else ""
        lx.append(x0 + tile / 2)
        ly.append(y0 + label / 2)
        lt.append(str(int(code)))
        tiles = [(gallery.renders[j], f"code {int(code)}{cnt}: decoded alone")]
        for e, (img_i, box) in zip(gallery.examples[j], gallery.sources[j]):
            where = f"cell {box}" if gallery.example_unit == "cells" else "uses it most"
            tiles.append((e, f"code {int(code)}: image {img_i}, {where}"))
        y = y0 + label
        for t, (im, text) in enumerate(tiles):
            mosaic[y:y + tile, x0:x0 + tile] = _tile(im, tile)
            hx.append(x0 + tile / 2)
            hy.append(y + tile / 2)
            ht.append(text)
            y += tile + (gap // 2 if t == 0 else 2)
    fig = go.Figure(go.Image(z=mosaic, name="codebook", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="text", text=lt, name="code ids", hoverinfo="skip",
                             textfont=dict(size=10, color="#333"), showlegend=False))
    fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers", marker=dict(size=tile * 0.8, opacity=0, symbol="square"),
                             text=ht, hovertemplate="%{text}<extra></extra>", name="tiles", showlegend=False))
    fig.update_xaxes(range=[-0.5, W - 0.5])  # the image's extent (the hover markers would pad it)
    fig.update_yaxes(range=[H - 0.5, -0.5])
    _hide_axes(fig)
    what = {"cells": "grid cells using it (nearest encoder vectors, with context)",
            "images": "the images that use it most"}.get(gallery.example_unit, "")
    sub = f"top: the code decoded alone; below: {what}" if m else "each code decoded alone"
    scale = 1.5 if W * 1.5 <= 1000 else 1000 / W
    return _layout(fig, f"Codebook: {n} {'most used' if gallery.counts is not None else 'first'} of "
                        f"{gallery.vocab_size} codes<br><sup>{sub}</sup>",
                   width=max(int(W * scale) + 20, 480), height=int(H * scale) + 70)


def usage_figure(counts: np.ndarray) -> go.Figure:
    """Two panels: count per code id (histogram over the vocabulary) and rank-frequency, log-log."""
    counts = np.asarray(counts, dtype=np.int64).reshape(-1)
    if counts.size == 0:
        raise InvalidInput("usage_figure needs counts for at least one code")
    rep = ins.usage_health(counts)
    lv = rep.levels[0]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["count per code", "rank–frequency (log–log)"],
                        horizontal_spacing=0.1)
    fig.add_trace(go.Bar(x=np.arange(counts.size), y=counts, name="count", marker=dict(color="#4c78a8", line_width=0),
                         hovertemplate="code %{x}: %{y}<extra></extra>"), row=1, col=1)
    used = np.sort(counts[counts > 0])[::-1]
    fig.add_trace(go.Scatter(x=np.arange(1, used.size + 1), y=used, mode="lines+markers", name="rank–frequency",
                             marker=dict(size=3), line=dict(color="#e45756"),
                             hovertemplate="rank %{x}: %{y}<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title="code id", row=1, col=1)
    fig.update_yaxes(title="count", row=1, col=1)
    fig.update_xaxes(type="log", title="rank", row=1, col=2)
    fig.update_yaxes(type="log", title="count", row=1, col=2)
    fig.update_layout(showlegend=False, bargap=0)
    title = (f"Code usage: {lv.total} tokens, {counts.size - lv.dead}/{counts.size} codes used "
             f"({lv.usage:.0%}), perplexity {lv.perplexity:.1f}, entropy {lv.entropy:.2f}")
    return _layout(fig, title, width=900, height=380)


# ---- attention, influence, edits ------------------------------------------------------------------


def _check_token(maps: np.ndarray, token: int, what: str) -> int:
    T = maps.shape[0]
    if isinstance(token, bool) or not isinstance(token, (int, np.integer)) or not 0 <= int(token) < T:
        raise InvalidInput(f"{what}: token must be 0..{T - 1}, got {token!r}")
    return int(token)


def _image_and_map(image: np.ndarray, maps: np.ndarray, token: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    maps = np.asarray(maps)
    if maps.ndim != 3 or image.ndim != 3 or maps.shape[1:] != image.shape[:2]:
        raise InvalidInput(f"{what}: give the (S, S, 3) image the maps were made at and maps (T, S, S); "
                           f"got {image.shape} and {maps.shape}")
    return image, maps[_check_token(maps, token, what)]


def attention_figure(image: np.ndarray, maps: np.ndarray, token: int) -> go.Figure:
    """Where token ``token`` looks: the image, and its attention map over it (``attention_maps``)."""
    image, m = _image_and_map(image, maps, token, "attention_figure")
    m = m * m.size / max(float(m.sum()), 1e-12)  # (S, S) 1 = uniform attention
    fig = make_subplots(rows=1, cols=2, subplot_titles=["image", f"token {token}: attention"], horizontal_spacing=0.03)
    fig.add_trace(go.Image(z=image, name="image"), row=1, col=1)
    fig.add_trace(go.Image(z=image, name="image under the map"), row=1, col=2)
    _overlay(fig, m, 1, 2, "attention", colorbar_x=1.0, unit="× uniform")
    _hide_axes(fig)
    return _layout(fig, f"Attention of token {token}: {m.max():.1f}x uniform at its peak",
                   width=2 * PANEL * 2 + 60, height=PANEL * 2 + 80)


def influence_figure(image: np.ndarray, influence: np.ndarray, token: int,
                     faithfulness: Faithfulness | None = None, tokens: Sequence[int] | None = None) -> go.Figure:
    """What token ``token`` changes: the image and the mean |pixel change| when it is replaced.

    ``influence`` is (n, S, S) from ``influence_maps``; when it holds only some tokens, ``tokens``
    lists which (``token`` is then looked up there). ``faithfulness`` adds the token's Spearman
    correlation between attention and influence to the title.
    """
    row = token
    if tokens is not None:
        tokens = [int(t) for t in tokens]
        if token not in tokens:
            raise InvalidInput(f"influence_figure: token {token} is not among the tokens given {tokens}")
        row = tokens.index(token)
    image, m = _image_and_map(image, influence, row, "influence_figure")
    fig = make_subplots(rows=1, cols=2, subplot_titles=["image", f"token {token}: |change| when replaced"],
                        horizontal_spacing=0.03)
    fig.add_trace(go.Image(z=image, name="image"), row=1, col=1)
    _overlay(fig, m, 1, 2, "influence", opacity=1.0, colorbar_x=1.0, unit="|Δ pixel| (0..255)")
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    fig.update_xaxes(scaleanchor="y2", row=1, col=2)
    _hide_axes(fig)
    title = f"Influence of token {token}: mean {m.mean():.2f}, max {m.max():.1f} (0..255)"
    ft = None if faithfulness is None else faithfulness.per_token
    idx = row if ft is not None and len(ft) == len(influence) else token  # a subset's faithfulness or all T
    if ft is not None and idx < len(ft):
        rho = ft[idx]
        title += f"<br><sup>attention vs influence: Spearman {rho:.2f} (mean over tokens {faithfulness.mean:.2f})</sup>"
    return _layout(fig, title, width=2 * PANEL * 2 + 60, height=PANEL * 2 + 90)


def edit_figure(edit: EditResult) -> go.Figure:
    """Before, after, and where the pixels changed (mean |after - before| over R, G, B)."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=["before", "after", "|after − before|"],
                        horizontal_spacing=0.02)
    fig.add_trace(go.Image(z=edit.before, name="before"), row=1, col=1)
    fig.add_trace(go.Image(z=edit.after, name="after"), row=1, col=2)
    fig.add_trace(go.Heatmap(z=edit.diff, colorscale=HEAT, name="difference", colorbar=dict(len=0.8, thickness=10),
                             hovertemplate="x %{x}, y %{y}: %{z:.1f}<extra>|change|</extra>"), row=1, col=3)
    fig.update_yaxes(autorange="reversed", row=1, col=3)
    fig.update_xaxes(scaleanchor="y3", row=1, col=3)
    _hide_axes(fig)
    fb, fa = edit.ids_before.reshape(-1), edit.ids_after.reshape(-1)
    swaps = ", ".join(f"#{i}: {fb[i]}→{fa[i]}" for i in edit.changed[:8]) + (" …" if len(edit.changed) > 8 else "")
    return _layout(fig, f"Edited {len(edit.changed)} token(s) {swaps}<br><sup>mean change {edit.diff.mean():.2f}, "
                        f"max {edit.diff.max():.1f} (0..255)</sup>", width=3 * PANEL * 2 + 80, height=PANEL * 2 + 90)


# ---- timings ----------------------------------------------------------------------------------


def view_timings(tok: Any, image: Any, token: int = 0) -> dict[str, float]:
    """Seconds to compute and build each view once for ``image`` (not a test: ``make bench``).

    Each entry computes from the image up (rd includes its own prefix strip and a 4-quality
    JPEG curve; gallery: 64 codes rendered, with this one image as the data set; usage: this
    image's codes). influence: the map of ``token`` alone (the view shows one token);
    ``influence_all`` (all T tokens, as ``faithfulness`` needs) is timed too but is a
    computation, not a view.
    """
    from ..image.codecs import rd_curve

    arr = tok.prepare(image).array  # (S, S, 3)
    out: dict[str, float] = {}

    def timed(name, fn):
        t = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t

    ids = tok.encode(arr).ids
    timed("strip", lambda: strip_figure(ins.prefix_strip(tok, arr)))
    timed("rd", lambda: rd_figure({"jpeg": rd_curve(arr[None], "jpeg", [5, 20, 50, 90])},
                                  {tok.name: ins.prefix_strip(tok, arr)}, pixels=arr.shape[0] * arr.shape[1]))
    timed("token_grid", lambda: token_grid_figure(tok, arr, tok.encode(arr).ids))
    timed("gallery", lambda: gallery_figure(ins.codebook_gallery(tok, arr[None], n=64, nearest=1)))
    timed("usage", lambda: usage_figure(ins.usage_counts(tok, arr[None])))
    timed("attention", lambda: attention_figure(arr, ins.attention_maps(tok, arr), token))
    timed("influence", lambda: influence_figure(arr, ins.influence_maps(tok, arr, [token]), token, tokens=[token]))
    new = int(ins.replacement_codes(tok, ids.reshape(-1)[[token]])[0])
    timed("edit", lambda: edit_figure(ins.edit_tokens(tok, ids, {token: new})))
    timed("influence_all", lambda: ins.influence_maps(tok, arr))
    return out
