"""Image tab: tokenize an image, decode any prefix of its tokens, compare with JPEG / WebP on the
same image, and look inside the tokenizer (``app/image_views.py``).

The library computes, the tab formats (as the Audio tab does):

    view = analyze_input(None, "emoji-fox.png", "image/flex1d-emoji64")   # -> ImageView
    view.analysis          # tokenworks.image.inspect.ImageAnalysis: ids, prepared input, notes,
                           # the prefix strip and the codec curves, computed once
    view.state             # ImageState: what gr.State holds (settings and a key into the session cache)
    on_k(view.state, 12)   # the reconstruction, its numbers and the ids at k

A new picture (an upload, or a sample picked) goes to the tokenizer trained on its kind of picture
(``tokenworks.image.route``: emoji and illustrations, or photos), and the status says why, until
the person picks a tokenizer themselves (``on_picture``; the ``auto`` state holds the tab's own pick).

Handlers return ``{component: value}`` (``widgets.Components``); a bad file or a missing
checkpoint becomes a status message (and a toast), never a traceback. A tokenizer ref is a
registry name (``image/flex1d-emoji64``) or a trained run (``run:<folder under the runs folder>``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from tokenworks.errors import TokenworksError
from tokenworks.image import inspect as ins
from tokenworks.image.route import Route
from tokenworks.metrics.image import PSNR_CAP_DB

from . import image_views, links
from .exports import Extra, Items
from .image_input import (DEFAULT_SAMPLE, ENCODERS, MAX_FILE_BYTES, MAX_PIXELS, ONE_PASS, REFINE_STEPS, ImageState,
                          ImageView, analyze_input, default_tokenizer, image_tokenizers, load_image_tokenizer,
                          route_input, sample_names, view_of)
from .widgets import UPLOAD_INFO, Components, bind, error_markdown, export_row, friendly, link_box, link_info
from .widgets import link_notes, opens, params_of, selected, uploaded, warn, whole_number

DISPLAY = 256  # images are shown at this size (nearest-neighbour, so pixels stay visible)
UNUSUAL = ("Animated", "only", "converted", "composited", "dropped", "EXIF", "reduced")  # notes worth a toast


# ---- formatting --------------------------------------------------------------------------------

def display(img: np.ndarray, size: int = DISPLAY) -> np.ndarray:
    """Nearest-neighbour upscale by a whole factor so small images are visible, pixel for pixel."""
    f = max(1, size // max(img.shape[:2]))
    return np.repeat(np.repeat(img, f, axis=0), f, axis=1) if f > 1 else img


def status_markdown(view: ImageView) -> str:
    a = view.analysis
    T, V, S = a.num_tokens, a.vocab_size, a.image.shape[0]
    shape = "x".join(str(s) for s in a.ids.shape)
    what = (f"an ordered 1D sequence of **{T}** tokens (any prefix decodes)" if a.ordered
            else f"a **{shape}** grid of tokens ({T} in all; a grid decodes all of them)")
    lines = [f"**{a.tokenizer}** read the {view.state.source} at {S}x{S} as {what}, vocabulary V = {V:,} "
             f"({math.log2(V):.2f} bits a token)."]
    if a.notes:
        lines.append("Input: " + " ".join(a.notes))
    r = a.meta.get("refined")
    if r:
        before, after = np.array(r["psnr_one_pass"]), np.array(r["psnr_refined"])
        at = "over the prefixes k = " + ", ".join(str(k) for k in r["ks"]) if len(r["ks"]) > 1 else f"at k = {r['ks'][0]}"
        lines.append(f"Refined encoding: {r['steps']} steps on the decoder's error in {r['seconds']:.1f} s; PSNR "
                     f"{at}: {before.mean():.2f} → {after.mean():.2f} dB on average (all {r['ks'][-1]} tokens: "
                     f"{before[-1]:.2f} → {after[-1]:.2f} dB). Same tokens, same bytes: any decoder of "
                     f"{a.tokenizer} reads them.")
    return "\n\n".join(lines)


def route_markdown(r: Route) -> str:
    """Why the tab switched to this tokenizer for this picture, and a warning when the picture is far
    from everything the tokenizers here were trained on."""
    lines = [f"**Tokenizer chosen for this picture** (pick one yourself to keep it): {r.reason}"]
    if r.far:
        lines.append(f"⚠️ Far from the training data. {r.far}")
    return "\n\n".join(lines)


def psnr_text(p: float) -> str:
    return f"{PSNR_CAP_DB:g} dB (exact: the cap)" if p >= PSNR_CAP_DB else f"{p:.2f} dB"


def info_markdown(r: ins.Reconstruction) -> str:
    return (f"**{r.k} of {r.num_tokens} tokens** → **{r.nbytes} bytes** (ceil({r.k} × log2 {r.vocab_size:,} / 8); "
            f"{r.bits} bits) · PSNR **{psnr_text(r.psnr)}**")


def ids_text(a: ins.ImageAnalysis, k: int | None = None) -> str:
    """The ids as text: a row per grid row; for a 1D sequence, the kept prefix | the rest."""
    if not a.ordered:
        return "\n".join(" ".join(f"{i:>4d}" for i in row) for row in a.ids.tolist())
    ids = a.ids.tolist()
    k = len(ids) if k is None else k
    rest = " ".join(str(i) for i in ids[k:])
    return " ".join(str(i) for i in ids[:k]) + (f"  |  {rest}" if rest else "")


def rd_rows(a: ins.ImageAnalysis) -> list[list[Any]]:
    """The rate-distortion points as table rows: curve, setting, bytes, PSNR."""
    return [[name, p.label, p.nbytes, round(p.psnr, 2)] for name, pts in a.rd_points().items() for p in pts]


# ---- handlers ----------------------------------------------------------------------------------

@dataclass
class ImageUI(Components):
    upload: Any  # the input and settings
    sample: Any
    tokenizer: Any
    state: Any  # gr.State: an ImageState
    shown_in: Any  # what one encode shows
    shown_out: Any
    k: Any
    status: Any
    info: Any
    ids: Any
    rd_table: Any
    query: Any  # the link box
    note: Any
    tabs: Any
    auto: Any = None  # gr.State: the tab's own pick (new pictures are routed), None once the user picked one

    ENCODED = ("state", "shown_in", "shown_out", "k", "status", "info", "ids", "rd_table")  # what on_encode sets


def shown(ui: ImageUI, view: ImageView, k: int | None = None) -> dict:
    """Every output of one encode, at ``k`` tokens (None: all)."""
    a = view.analysis
    r = ins.reconstruct(load_image_tokenizer(view.state.ref), a, k)
    T = a.num_tokens
    slider = gr.update(minimum=1, maximum=T, value=r.k, step=1, interactive=a.ordered,
                       label=f"k: tokens kept (1..{T})" if a.ordered else f"k: a grid decodes all {T} tokens")
    return ui.set(state=view.state, shown_in=display(a.image), shown_out=display(r.image), k=slider,
                  status=status_markdown(view), info=info_markdown(r), ids=ids_text(a, r.k), rd_table=rd_rows(a))


def on_encode(ui: ImageUI, upload: Any, sample: str | None, ref: str, encoder: Any = ONE_PASS,
              state: Any = None, quiet: bool = False) -> dict:
    """UI handler: tokenize and show everything; a bad input becomes a status message."""
    try:
        view = analyze_input(upload, sample, ref, encoder, replaces=getattr(state, "key", None))
        out = shown(ui, view)
    except TokenworksError as e:
        if not quiet:
            warn(str(e))
        return ui.set(state=None, shown_in=None, shown_out=None, status=error_markdown(e), info="", ids="",
                      rd_table=[])
    for n in [] if quiet else [n for n in view.analysis.notes if any(w in n for w in UNUSUAL)]:
        warn(n)  # the routine notes (crop, resize) are in the status line only
    return out


def on_picture(ui: ImageUI, upload: Any, sample: str | None, ref: str, encoder: Any = ONE_PASS, state: Any = None,
               auto: Any = None, quiet: bool = False) -> dict:
    """UI handler for a new picture (an upload, or a sample picked): while the tokenizer shown is the
    tab's own pick (``ref == auto``), switch to the one trained on this kind of picture and say why
    (``route_input``); a tokenizer the user picked is kept. Then as ``on_encode``."""
    r = None
    if isinstance(auto, str) and auto and ref == auto:
        try:
            r = route_input(upload, sample)
        except TokenworksError:
            r = None  # on_encode says what is wrong with the input
    if r is None or r.tokenizer is None:
        return on_encode(ui, upload, sample, ref, encoder, state, quiet)
    out = on_encode(ui, upload, sample, r.tokenizer, encoder, state, quiet)
    if r.far and not quiet:
        warn(r.far)
    return {**out, **ui.set(tokenizer=r.tokenizer, auto=r.tokenizer,
                            status=f"{route_markdown(r)}\n\n{out.get(ui.status, '')}")}


def chosen_by_hand() -> None:
    """UI handler: the user picked a tokenizer; new pictures keep it (the ``auto`` state)."""


def on_k(state: Any, k: Any) -> tuple:
    """UI handler for the k slider: (reconstruction, numbers, ids) from the first k tokens."""
    if state is None:
        return gr.update(), "Tokenize an image first.", gr.update()
    try:
        view = view_of(state)
        r = ins.reconstruct(load_image_tokenizer(state.ref), view.analysis, k)
    except TokenworksError as e:
        warn(str(e))
        return gr.update(), f"⚠️ {e}", gr.update()
    return display(r.image), info_markdown(r), ids_text(view.analysis, r.k)


def export_tokens(state: Any) -> Items:
    """For the export: the tokens of the image shown, as JSON (nothing when no image is tokenized)."""
    if not isinstance(state, ImageState):
        return Items(notes=["tokens: no image tokenized yet"])
    a = view_of(state).analysis
    return Items(jsons={"tokens": {"tokenizer": a.tokenizer, "ref": state.ref,
                                   "layout": "sequence" if a.ordered else "grid", "source": state.source,
                                   "shape": list(a.ids.shape), "vocab_size": a.vocab_size,
                                   "encoder": state.encoder, "refined": a.meta.get("refined"),
                                   "ids": a.ids.tolist(), "notes": a.notes}})


# ---- the link ----------------------------------------------------------------------------------

SPEC = links.image_spec((), ())  # the parameters only: building a link needs no choices


def link_spec() -> links.TabSpec:
    """What a link may ask of the tab now (the tokenizers and samples here, runs included)."""
    names, samples = image_tokenizers(), sample_names()
    sample = DEFAULT_SAMPLE if DEFAULT_SAMPLE in samples else (samples[0] if samples else None)
    return links.image_spec(names, samples, default_tokenizer(names), sample)


def link(upload: Any, sample: Any, tokenizer: Any, k: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the tab's controls as they are."""
    k = whole_number(k)
    state = links.ImageLink(model=tokenizer if isinstance(tokenizer, str) and tokenizer else None,
                            sample=None if uploaded(upload) or not isinstance(sample, str) else sample or None,
                            k=k if k is not None and k >= 1 else None)
    return links.build_link(SPEC, state), link_info(UPLOAD_INFO.format(what="image", instead="sample")
                                                    if uploaded(upload) else "")


def restore(ui: ImageUI, upload: Any, sample: Any, tokenizer: Any, request: gr.Request) -> dict:
    """Page load: a link to this tab shows its sample through its tokenizer at its k (kept within
    the tokenizer's own range, with a note) and selects the tab; any other page load shows the
    default sample as the tab always did."""
    params = params_of(request)
    if not opens(params, "image"):
        out = on_encode(ui, upload, sample, tokenizer, quiet=True)
        return {**out, **ui.set(note="", query=link(upload, sample, tokenizer, None)[0], auto=tokenizer)}
    spec = link_spec()
    parsed = links.parse_link(params, spec)
    s, notes = parsed.state, parsed.notes
    asked = str(params.get("model") or "").strip().lower()
    auto = None if asked and asked == str(s.model or "").lower() else s.model  # a model the link names is kept
    out, k = on_encode(ui, None, s.sample, s.model, quiet=True), s.k
    state = out.get(ui.state)
    if isinstance(state, ImageState) and k is not None:
        T = state.num_tokens
        if not state.ordered:
            if k != T:
                notes.append(f"{view_of(state).analysis.tokenizer} is a grid: it decodes all {T} tokens, so k={k} "
                             "was ignored.")
            k = T
        elif k > T:
            notes.append(f"k={k} is more than the {T} tokens of {view_of(state).analysis.tokenizer}; showing all {T} "
                         f"(k is 1 to {T} here).")
            k = T
        else:
            out = shown(ui, view_of(state), k)
    query = links.build_link(spec, links.ImageLink(s.model, s.sample, k))
    return {**out, **ui.set(tokenizer=gr.update(choices=spec.param("model").choices, value=s.model),
                            sample=gr.update(choices=spec.param("sample").choices, value=s.sample),
                            note=link_notes(notes), query=query, tabs=selected("image"), auto=auto)}


def build() -> None:
    """Lay out the Image tab inside the current gr.Blocks context."""
    samples, names = sample_names(), image_tokenizers()
    default = default_tokenizer(names)
    with gr.Row():
        with gr.Column(scale=2):
            upload = gr.File(label=f"Upload an image (up to {MAX_FILE_BYTES / 1e6:g} MB and {MAX_PIXELS / 1e6:g} "
                                   "megapixels)", file_count="single", type="filepath", height=120,
                             elem_id="tw-image-upload")
            sample = gr.Dropdown(choices=samples, value=DEFAULT_SAMPLE if DEFAULT_SAMPLE in samples else None,
                                 label="…or a sample", elem_id="tw-image-sample")
        with gr.Column(scale=2):
            tokenizer = gr.Dropdown(choices=names, value=default, label="Image tokenizer",
                                    info="Registered tokenizers, then runs you trained (run:...). A new picture "
                                         "switches to the one trained on its kind until you pick one.",
                                    allow_custom_value=True, elem_id="tw-image-tokenizer")
            encoder = gr.Radio(list(ENCODERS), value=ONE_PASS, label="Encoder",
                               info=f"one pass: the encoder's ids. refined: {REFINE_STEPS} steps of search for ids "
                                    f"that decode closer at every k (slower; same bytes).",
                               elem_id="tw-image-encoder")
            with gr.Row():
                refresh = gr.Button("Refresh tokenizer list", size="sm", elem_id="tw-image-refresh")
                run = gr.Button("Tokenize", variant="primary", size="sm", elem_id="tw-image-run")
            box = link_box("image")
    status = gr.Markdown(elem_id="tw-image-status")
    state = gr.State(None)
    auto = gr.State(default)  # the tab's own pick: new pictures are routed while the tokenizer shown is this
    k = gr.Slider(1, 256, value=256, step=1, label="k: tokens kept", elem_id="tw-image-k")
    with gr.Row():
        shown_in = gr.Image(label="Input (as the tokenizer sees it)", type="numpy", format="png", interactive=False,
                            height=DISPLAY + 40, elem_id="tw-image-input")
        shown_out = gr.Image(label="Reconstruction from the first k tokens", type="numpy", format="png",
                             interactive=False, height=DISPLAY + 40, elem_id="tw-image-recon")
    info = gr.Markdown(elem_id="tw-image-info")
    ids = gr.Textbox(label="Token ids (kept | dropped)", lines=3, interactive=False, elem_id="tw-image-ids")
    views = image_views.build(state)
    ui = ImageUI(upload=upload, sample=sample, tokenizer=tokenizer, state=state, shown_in=shown_in,
                 shown_out=shown_out, k=k, status=status, info=info, ids=ids, rd_table=views.rd_table,
                 query=box.query, note=box.note, tabs=box.tabs, auto=auto)
    encoded = ui.outputs(*ImageUI.ENCODED)
    encode, picture = friendly(bind(on_encode, ui)), friendly(bind(on_picture, ui))
    routed = ui.outputs("tokenizer", "auto")  # what a new picture may switch
    gr.on(triggers=[upload.change, sample.change, tokenizer.change, k.change], fn=friendly(link),
          inputs=[upload, sample, tokenizer, k], outputs=[box.query, box.link], api_name=False,
          trigger_mode="always_last", show_progress="hidden")
    image_views.then_views(upload.upload(lambda f, r, e, st, a: {**picture(f, None, r, e, st, a), sample: None},
                                         inputs=[upload, tokenizer, encoder, state, auto],
                                         outputs=encoded + routed + [sample],
                                         api_name="image_upload"), views, state, "image_views_after_upload")
    image_views.then_views(sample.input(lambda s, r, e, st, a: {**picture(None, s, r, e, st, a), upload: None},
                                        inputs=[sample, tokenizer, encoder, state, auto],
                                        outputs=encoded + routed + [upload],
                                        api_name="image_sample"), views, state, "image_views_after_sample")
    tokenizer.input(chosen_by_hand, outputs=auto, api_name=False, show_progress="hidden")
    image_views.then_views(gr.on(triggers=[tokenizer.input, encoder.input, run.click], fn=encode,
                                 inputs=[upload, sample, tokenizer, encoder, state], outputs=encoded,
                                 api_name="image_tokenize"), views, state, "image_views")
    k.input(friendly(on_k), inputs=[state, k], outputs=[shown_out, info, ids], api_name="image_k",
            trigger_mode="always_last", show_progress="hidden")
    refresh.click(lambda: gr.update(choices=image_tokenizers()), outputs=tokenizer, api_name="image_tokenizers")
    export_row("image", figures={"decoding the first k tokens": views.strip_plot, "bytes vs psnr": views.rd_plot,
                                 "token ids": views.grid_plot, "attention": views.att_plot,
                                 "influence": views.infl_plot, "edit": views.edit_plot,
                                 "codebook gallery": views.gallery_plot, "code usage": views.usage_plot},
               tables={"rate distortion points": views.rd_table},
               images={"input": shown_in, "reconstruction": shown_out}, extra=Extra([state], export_tokens))
    root = gr.context.Context.root_block  # the app's Blocks: the default sample (or a link's view) on page load
    if root is not None:
        image_views.then_views(root.load(friendly(bind(restore, ui)), inputs=[upload, sample, tokenizer],
                                         outputs=encoded + ui.outputs("tokenizer", "sample", "note", "query", "tabs",
                                                                      "auto"),
                                         api_name="image_initial"), views, state, "image_views_initial")
