"""The Image tab's views of one analysed image: the prefix strip, bytes vs PSNR against JPEG / WebP,
the token ids on the image, where a token looks and what it changes, editing a token, and the
codebook. ``tokenworks.image.inspect`` computes, ``tokenworks.viz.image`` draws, this formats.

Every handler takes the tab's ``ImageState`` (``app/image_input.py``) and reads the analysis from the
session cache: nothing an encode computed is computed again here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.image import inspect as ins
from tokenworks.viz import image as viz

from .image_input import ImageView, load_image_tokenizer, view_of
from .widgets import Components, bind, friendly, warn

CODEBOOK_IMAGES = 256  # images of a data set the codebook views encode (test split)
THIS_IMAGE = "this image"
NO_IMAGES = "none: the first codes"


def _token(view: ImageView, token: Any) -> int:
    T = view.analysis.num_tokens
    try:
        t = int(round(float(token)))
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"token must be a position in 0..{T - 1}, got {token!r}") from None
    if not 0 <= t < T:
        raise InvalidInput(f"token must be a position in 0..{T - 1}, got {t}")
    return t


def prefix_views(view: ImageView) -> tuple[Any, Any, Any]:
    """(prefix strip figure, rate-distortion figure, token-id figure) of the analysis."""
    a = view.analysis
    S = a.image.shape[0]
    return (viz.strip_figure(a.strip), viz.rd_figure(a.codecs, {a.tokenizer: a.strip}, pixels=S * S),
            viz.token_grid_figure(load_image_tokenizer(view.state.ref), a.image, a.ids))


def token_views(view: ImageView, token: Any) -> tuple[Any, Any, int]:
    """(attention figure, influence figure, the code farthest from this token's) for token ``token``."""
    a, tok = view.analysis, load_image_tokenizer(view.state.ref)
    t = _token(view, token)
    att = viz.attention_figure(a.image, ins.attention_maps(tok, a.image), t)
    infl = ins.influence_maps(tok, ids=a.ids, tokens=[t])  # (1, S, S)
    far = int(ins.replacement_codes(tok, a.ids.reshape(-1)[[t]])[0])
    return att, viz.influence_figure(a.image, infl, t, tokens=[t]), far


def faithfulness_view(view: ImageView, token: Any) -> tuple[Any, str]:
    """Attention vs influence over all T tokens: the influence figure with its Spearman, and a summary."""
    a, tok = view.analysis, load_image_tokenizer(view.state.ref)
    t = _token(view, token)
    att = ins.attention_maps(tok, a.image)  # (T, S, S)
    infl = ins.influence_maps(tok, ids=a.ids)  # (T, S, S)
    f = ins.faithfulness(att, infl)
    rho = f.per_token
    ok = np.isfinite(rho)
    md = (f"**Attention vs influence** (Spearman rank correlation per token, maps compared at "
          f"{f.resolution[0]}x{f.resolution[1]}): mean **{f.mean:.2f}** over {int(ok.sum())} of {rho.size} tokens")
    if ok.any():
        best, worst = int(np.nanargmax(rho)), int(np.nanargmin(rho))
        md += f"; most faithful token {best} ({rho[best]:.2f}), least {worst} ({rho[worst]:.2f})."
    if not a.ordered:
        md += " A grid token's attention is its own cell (its span), so this measures how local its influence is."
    return viz.influence_figure(a.image, infl, t, faithfulness=f), md


def edit_view(view: ImageView, position: Any, code: Any) -> Any:
    """Swap the token at ``position`` for ``code`` and show before, after and the difference."""
    t = _token(view, position)
    V = view.analysis.vocab_size
    try:
        c = int(code)
    except (TypeError, ValueError):
        raise InvalidInput(f"the new code must be an integer in 0..{V - 1}, got {code!r}") from None
    return viz.edit_figure(ins.edit_tokens(load_image_tokenizer(view.state.ref), view.analysis.ids, {t: c}))


def codebook_sources(size: int | None = None) -> list[str]:
    """What the codebook views can count over: this image, the data sets at ``size``, or nothing."""
    from tokenworks.image.data import DATASETS

    return [THIS_IMAGE] + [n for n, spec in DATASETS.items() if size is None or spec.size == size] + [NO_IMAGES]


def default_codebook_source(view: ImageView) -> str:
    """The data set the tokenizer's name points at when its cache is built, else this image."""
    from tokenworks.image.data import dataset_path

    for name in codebook_sources(view.analysis.image.shape[0])[1:-1]:
        if name.rstrip("0123456789") in view.analysis.tokenizer and dataset_path(name, "test").is_file():
            return name
    return THIS_IMAGE


def codebook_views(view: ImageView, source: str, n: Any = 32) -> tuple[Any, Any, str]:
    """(gallery figure, usage figure or None, summary) over ``source`` (THIS_IMAGE, a data set, NO_IMAGES)."""
    from tokenworks.image.data import dataset_path, load_dataset

    tok = load_image_tokenizer(view.state.ref)
    valid = codebook_sources(view.analysis.image.shape[0])
    if source not in valid:
        raise InvalidInput(f"count codes over one of {', '.join(valid)}; got {source!r}")
    try:
        n = max(1, min(int(n), 256))
    except (TypeError, ValueError):
        raise InvalidInput(f"the number of codes to show must be an integer, got {n!r}") from None
    if source == NO_IMAGES:
        return (viz.gallery_figure(ins.codebook_gallery(tok, None, n=n)), None,
                f"Codes 0..{n - 1} decoded alone (no images counted).")
    if source == THIS_IMAGE:
        images, what = view.analysis.image[None], "this image"
    else:
        if not dataset_path(source, "test").is_file():
            raise InvalidInput(f"the data set {source} is not built on this machine; build it with "
                               f"`python -m tokenworks.image.data {source}` (needs its offline assets)")
        ds = load_dataset(source, "test", limit=CODEBOOK_IMAGES)
        images, what = ds.images, f"{len(ds)} test images of {source}"
    gallery = ins.codebook_gallery(tok, images, n=n, nearest=4 if len(images) > 1 else 1)
    return viz.gallery_figure(gallery), viz.usage_figure(ins.usage_counts(tok, images)), f"Codes counted over {what}."


# ---- handlers ----------------------------------------------------------------------------------

@dataclass
class ViewsUI(Components):
    strip_plot: Any  # what on_views fills after each encode
    rd_plot: Any
    grid_plot: Any
    att_plot: Any
    infl_plot: Any
    token: Any
    position: Any
    code: Any
    source: Any
    views_msg: Any
    rd_table: Any = None  # filled by the encode itself
    edit_plot: Any = None  # filled on demand
    gallery_plot: Any = None
    usage_plot: Any = None

    FILLED = ("strip_plot", "rd_plot", "grid_plot", "att_plot", "infl_plot", "token", "position", "code", "source",
              "views_msg")  # what on_views may set


def on_views(ui: ViewsUI, state: Any) -> dict:
    """UI handler after each encode: fill the views (figures), reset the token and edit controls."""
    if state is None:
        return ui.set(strip_plot=None, rd_plot=None, grid_plot=None, att_plot=None, infl_plot=None, views_msg="")
    try:
        view = view_of(state)
        strip, rd, grid = prefix_views(view)
        att, infl, far = token_views(view, 0)
    except TokenworksError as e:
        return ui.set(strip_plot=None, rd_plot=None, grid_plot=None, att_plot=None, infl_plot=None,
                      views_msg=f"⚠️ {e}")
    a = view.analysis
    T, V = a.num_tokens, a.vocab_size
    where = "in sequence order" if a.ordered else "in raster order over the grid"
    return ui.set(strip_plot=strip, rd_plot=rd, grid_plot=grid, att_plot=att, infl_plot=infl,
                  token=gr.update(minimum=0, maximum=T - 1, value=0, step=1, label=f"token (0..{T - 1}, {where})"),
                  position=gr.update(minimum=0, maximum=T - 1, value=0, step=1),
                  code=gr.update(value=far, minimum=0, maximum=V - 1,
                                 label=f"new code (0..{V - 1}; preset: the code farthest from token 0's)"),
                  source=gr.update(choices=codebook_sources(a.image.shape[0]), value=default_codebook_source(view)),
                  views_msg="")


def _shielded(fn: Any, n_outputs: int) -> Any:
    """``fn(view, *args)`` as a handler of (state, *args): a library error becomes a toast and a
    message in the last output, the other outputs unchanged."""
    def handler(state: Any, *args: Any) -> Any:
        try:
            return fn(view_of(state), *args)
        except TokenworksError as e:
            warn(str(e))
            return (gr.update(),) * (n_outputs - 1) + (f"⚠️ {e}",)
    handler.__name__ = fn.__name__
    return handler


def on_token(state: Any, token: Any) -> tuple:
    return _shielded(lambda view, t: token_views(view, t)[:2] + ("",), 3)(state, token)


on_faithfulness = _shielded(faithfulness_view, 2)
on_codebook = _shielded(codebook_views, 3)
on_edit = _shielded(lambda view, p, c: (edit_view(view, p, c), ""), 2)


def on_edit_position(state: Any, position: Any) -> Any:
    """Preset the new code to the one farthest from the chosen token's."""
    try:
        view = view_of(state)
        t = _token(view, position)
        tok = load_image_tokenizer(view.state.ref)
        return gr.update(value=int(ins.replacement_codes(tok, view.analysis.ids.reshape(-1)[[t]])[0]))
    except TokenworksError:
        return gr.update()


def build(state: Any) -> ViewsUI:
    """Lay out the views under the tab's reconstruction and wire their own events; returns them."""
    with gr.Accordion("Prefixes, and rate–distortion on this image: tokens vs JPEG / WebP", open=True):
        views_msg = gr.Markdown(elem_id="tw-image-views-status")
        strip_plot = gr.Plot(label="Decoding the first k tokens", show_label=False, elem_id="tw-image-strip")
        rd_plot = gr.Plot(label="Bytes vs PSNR", show_label=False, elem_id="tw-image-rd")
        gr.Markdown("Codec bytes are counted without the headers a decoder that knows the image size could "
                    "rebuild (JPEG's tables, WebP's RIFF header); token bytes are ceil(k log2 V / 8).")
        with gr.Accordion("The points as a table", open=False):
            rd_table = gr.Dataframe(headers=["curve", "setting", "bytes", "PSNR dB"], interactive=False,
                                    elem_id="tw-image-rd-table")
    with gr.Accordion("Token ids on the image", open=False):
        grid_plot = gr.Plot(label="Token ids", show_label=False, elem_id="tw-image-grid")
    with gr.Accordion("Where a token looks, and what it changes", open=False):
        token = gr.Slider(0, 255, value=0, step=1, label="token", elem_id="tw-image-token")
        att_plot = gr.Plot(label="Attention", show_label=False, elem_id="tw-image-attention")
        infl_plot = gr.Plot(label="Influence", show_label=False, elem_id="tw-image-influence")
        faith_btn = gr.Button("Attention vs influence over all tokens (faithfulness)", size="sm",
                              elem_id="tw-image-faithfulness-run")
        faith_md = gr.Markdown(elem_id="tw-image-faithfulness")
    with gr.Accordion("Edit a token", open=False):
        with gr.Row():
            position = gr.Slider(0, 255, value=0, step=1, label="token to replace", elem_id="tw-image-edit-position")
            code = gr.Number(value=0, precision=0, label="new code", elem_id="tw-image-edit-code")
            edit_btn = gr.Button("Swap and decode", size="sm", elem_id="tw-image-edit-run")
        edit_md = gr.Markdown()
        edit_plot = gr.Plot(label="Before, after, difference", show_label=False, elem_id="tw-image-edit")
    with gr.Accordion("Codebook: what the codes decode to, and how often they are used", open=False):
        with gr.Row():
            source = gr.Dropdown(choices=codebook_sources(64), value=THIS_IMAGE, label="count codes over",
                                 elem_id="tw-image-codebook-source")
            n_codes = gr.Slider(4, 128, value=32, step=4, label="codes to show", elem_id="tw-image-codebook-n")
            cb_btn = gr.Button("Show the codebook", size="sm", elem_id="tw-image-codebook-run")
        cb_md = gr.Markdown()
        gallery_plot = gr.Plot(label="Codebook gallery", show_label=False, elem_id="tw-image-gallery")
        usage_plot = gr.Plot(label="Code usage", show_label=False, elem_id="tw-image-usage")
    token.input(friendly(on_token), inputs=[state, token], outputs=[att_plot, infl_plot, faith_md],
                api_name="image_token", trigger_mode="always_last")
    faith_btn.click(friendly(on_faithfulness), inputs=[state, token], outputs=[infl_plot, faith_md],
                    api_name="image_faithfulness")
    position.input(friendly(on_edit_position), inputs=[state, position], outputs=code,
                   api_name="image_edit_position", trigger_mode="always_last")
    edit_btn.click(friendly(on_edit), inputs=[state, position, code], outputs=[edit_plot, edit_md],
                   api_name="image_edit")
    cb_btn.click(friendly(on_codebook), inputs=[state, source, n_codes], outputs=[gallery_plot, usage_plot, cb_md],
                 api_name="image_codebook")
    return ViewsUI(strip_plot=strip_plot, rd_plot=rd_plot, grid_plot=grid_plot, att_plot=att_plot,
                   infl_plot=infl_plot, token=token, position=position, code=code, source=source, views_msg=views_msg,
                   rd_table=rd_table, edit_plot=edit_plot, gallery_plot=gallery_plot, usage_plot=usage_plot)


def then_views(event: Any, ui: ViewsUI, state: Any, api_name: str) -> Any:
    """After ``event`` (an encode), fill the views from the state it wrote."""
    return event.then(friendly(bind(on_views, ui)), inputs=state, outputs=ui.outputs(*ViewsUI.FILLED),
                      api_name=api_name)
