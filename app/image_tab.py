"""Image tab: tokenize an image, decode any prefix of its tokens, and look inside the tokenizer.

Handlers are plain functions over the library (testable without a server):

    enc = encode_image(upload, sample, ref)     # -> Encoded (raises TokenworksError on bad input)
    recon, info = reconstruct(enc, k)           # the image from the first k tokens, PSNR, bytes
    points = rd_points(enc)                     # tokenizer prefixes vs JPEG / WebP on this image

``on_encode`` and ``on_k`` wrap them for the UI: a bad file or a missing checkpoint becomes a
status message (and a toast), never a traceback.

A tokenizer ref is a registry name (``image/flex1d-emoji64``) or a trained run
(``run:<folder under the runs folder>``, as ``tw.trained_runs("image")`` lists them).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tokenworks as tw
from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.paths import data_dir

SAMPLES_DIR = data_dir() / "samples" / "images"
DEFAULT_SAMPLE = "emoji-fox.png"
DEFAULT_TOKENIZER = "image/flex1d-emoji64"
MAX_FILE_BYTES = 30_000_000  # largest upload the tab reads (30 MB)
MAX_PIXELS = 40_000_000  # larger images are refused from their header, before decoding
TINY = 16  # inputs with a side below this are upscaled so much that we say so
DISPLAY = 256  # images are shown at this size (nearest-neighbour, so pixels stay visible)
RD_CODECS = {  # codec -> qualities for the rate-distortion plot of one image
    "jpeg": (5, 10, 20, 40, 70, 90),
    "webp": (0, 10, 30, 60, 90),
    "webp-down2": (0, 10, 30, 60, 90),
}
RD_COUNT = "payload"  # codec bytes without headers a decoder could rebuild (tokens have none)


# ---- lists ---------------------------------------------------------------------------------

def image_tokenizers() -> list[str]:
    """Registered image tokenizers, then the ones trained here (``run:...``)."""
    return tw.available("image") + tw.trained_runs("image")


def sample_names() -> list[str]:
    """The sample images in data/samples/images (file names)."""
    if not SAMPLES_DIR.is_dir():
        return []
    return sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".gif"))


# ---- the core ------------------------------------------------------------------------------

@dataclass
class Encoded:
    """One image through one tokenizer: what the slider and the views need."""

    ref: str  # what was asked for: a registry name or "run:<folder>"
    name: str  # the tokenizer's own name
    kind: str  # "flex1d" (ordered 1D, any prefix decodes) or "grid" (H x W, all tokens)
    ids: np.ndarray  # flex1d: (T,)  grid: (H, W)
    image: np.ndarray  # (S, S, 3) uint8: the input as the tokenizer sees it
    vocab_size: int  # V
    source: str  # "upload 'x.png'" or "sample 'emoji-fox.png'"
    notes: list[str] = field(default_factory=list)  # what was done to the input, for people
    meta: dict = field(default_factory=dict)  # TokenSeq.meta

    @property
    def num_tokens(self) -> int:  # T
        return int(self.ids.size)

    @property
    def ordered(self) -> bool:
        return self.kind == "flex1d"


def load_image_tokenizer(ref: str):
    """The shared tokenizer for ``ref``; a text or audio one is refused with the valid names."""
    if not ref:
        raise InvalidInput(f"choose an image tokenizer: {', '.join(image_tokenizers())}")
    tok = tw.load_ref(ref)
    if getattr(tok, "modality", None) != "image":
        raise InvalidInput(f"{ref} is a {getattr(tok, 'modality', '?')} tokenizer; choose one of {', '.join(image_tokenizers())}")
    return tok


def _source(upload: Any, sample: str | None) -> tuple[Any, str, str | None]:
    """(what to_rgb_array reads, how to name it, the path to hide in messages)."""
    if upload is not None and not (isinstance(upload, str) and not upload):
        if isinstance(upload, dict):  # a FileData-like dict from the API
            upload = upload.get("path")
        if isinstance(upload, (str, os.PathLike)):
            p = Path(upload)
            if not p.is_file():
                raise InvalidInput(f"the uploaded file {p.name!r} is gone; upload it again")
            size = p.stat().st_size
            if size > MAX_FILE_BYTES:
                raise InvalidInput(f"{p.name!r} is {size / 1e6:.1f} MB; the tab reads files up to {MAX_FILE_BYTES / 1e6:g} MB")
            if size == 0:
                raise InvalidInput(f"{p.name!r} is an empty file, not an image")
            return str(p), f"upload {p.name!r}", str(p)
        return upload, "the given image", None  # a PIL image or a numpy array (Python callers)
    if sample:
        names = sample_names()
        if sample not in names:
            raise InvalidInput(f"unknown sample {sample!r}; the samples are {', '.join(names) or 'missing'}")
        return str(SAMPLES_DIR / sample), f"sample {sample!r}", None
    raise InvalidInput("upload an image or choose a sample")


def input_notes(meta: dict, size: int) -> list[str]:
    """What was done to the input, in words, from the ``meta`` of ``to_rgb_array``."""
    notes = []
    w, h = meta.get("original_size", (size, size))
    mode = str(meta.get("original_mode", "RGB"))
    if meta.get("frames"):
        notes.append(f"Animated image: {meta['frames']}.")
    if mode in ("L", "1", "I", "I;16", "I;16L", "I;16B", "I;16N", "F", "LA", "La") or "bit_depth" in meta:
        notes.append(f"Greyscale image (mode {mode}) converted to RGB.")
    elif mode == "P":
        notes.append("Palette image converted to RGB.")
    elif mode == "CMYK":
        notes.append("CMYK image converted to RGB.")
    elif meta.get("converted"):
        notes.append(f"Converted {meta['converted']}.")
    if meta.get("alpha"):
        notes.append("Transparent pixels composited on white.")
    elif mode in ("RGBA", "LA", "PA", "RGBa"):
        notes.append(f"{mode} image: its alpha channel is fully opaque and was dropped.")
    if meta.get("bit_depth"):
        notes.append(f"{str(meta['bit_depth'])[0].upper()}{str(meta['bit_depth'])[1:]}.")
    if meta.get("exif_transposed"):
        notes.append(f"{meta['exif_transposed']}.")
    if "crop_box" in meta:
        l, t, r, b = meta["crop_box"]
        notes.append(f"{w}x{h} is not square: the centred {r - l}x{b - t} square was kept.")
    if meta.get("resized"):
        notes.append(f"Resized {meta['resized']} ({meta.get('filter', '')}) to the tokenizer's image size.")
    if min(w, h) < TINY:
        notes.append(f"The image is only {w}x{h} pixels: scaled up to {size}x{size}, it holds almost nothing to tokenize.")
    return notes


def read_image(upload: Any, sample: str | None, size: int):
    """Read the upload (or the sample) as a (size, size, 3) image: (PreparedImage, source, notes)."""
    from tokenworks.image._io import to_rgb_array

    x, source, hide = _source(upload, sample)
    try:
        prepared = to_rgb_array(x, size, max_pixels=MAX_PIXELS)
    except InvalidInput as e:
        msg = str(e)
        if hide:
            msg = msg.replace(hide, repr(Path(hide).name))
        raise InvalidInput(msg) from None
    return prepared, source, input_notes(prepared.meta, size)


def encode_image(upload: Any, sample: str | None, ref: str) -> Encoded:
    """Tokenize the uploaded file (or the sample when there is no upload) with tokenizer ``ref``."""
    tok = load_image_tokenizer(ref)
    prepared, source, notes = read_image(upload, sample, tok.image_size)
    seq = tok.encode(prepared.array)  # already at the model's size: nothing more happens to it
    kind = "grid" if seq.ids.ndim == 2 else "flex1d"
    meta = {**seq.meta, **{k: v for k, v in prepared.meta.items()}}
    return Encoded(ref=ref, name=tok.name, kind=kind, ids=np.asarray(seq.ids), image=prepared.array,
                   vocab_size=int(tok.vocab_size), source=source, notes=notes, meta=meta)


def token_bytes(k: int, V: int) -> int:
    """ceil(k log2(V) / 8): the bytes that k tokens of a V-id vocabulary take, packed."""
    from tokenworks.metrics.rate import token_bytes as tb

    return tb(int(k), int(V))


def _check_k(enc: Encoded, k: Any) -> int:
    T = enc.num_tokens
    if not enc.ordered:
        return T  # a grid decodes all its tokens
    try:
        k = int(round(float(k)))
    except (TypeError, ValueError):
        raise InvalidInput(f"k must be a number of tokens in 1..{T}, got {k!r}") from None
    return min(max(k, 1), T)


def reconstruct(enc: Encoded, k: Any = None) -> tuple[np.ndarray, dict]:
    """The image from the first ``k`` tokens (all for a grid) and its PSNR and size in bytes."""
    from tokenworks.metrics.image import psnr

    if not isinstance(enc, Encoded):
        raise InvalidInput("tokenize an image first (upload one or choose a sample)")
    tok = load_image_tokenizer(enc.ref)
    k = enc.num_tokens if k is None else _check_k(enc, k)
    recon = tok.decode(enc.ids, keep=k) if enc.ordered else tok.decode(enc.ids)  # (S, S, 3)
    p = float(psnr(enc.image, recon))
    info = {"k": k, "T": enc.num_tokens, "V": enc.vocab_size, "bytes": token_bytes(k, enc.vocab_size),
            "bits": round(k * math.log2(enc.vocab_size), 1), "psnr": p}
    return recon, info


def prefix_ks(T: int) -> list[int]:
    """1, 2, 4, ... up to T (T included)."""
    ks, k = [], 1
    while k < T:
        ks.append(k)
        k *= 2
    return ks + [T]


def rd_points(enc: Encoded) -> dict[str, list[tuple[int, float, str]]]:
    """Rate-distortion points on this one image: {curve: [(bytes, PSNR dB, label)]}.

    The tokenizer's curve is its prefixes k = 1, 2, 4, ..., T (one point for a grid); the codecs
    are JPEG, WebP and downscale-by-2 WebP at a few qualities, counted without the headers a
    decoder that knows the image size could rebuild (``codecs`` count="payload").
    """
    from tokenworks.image import codecs
    from tokenworks.metrics.image import psnr

    tok = load_image_tokenizer(enc.ref)
    out: dict[str, list[tuple[int, float, str]]] = {}
    ks = prefix_ks(enc.num_tokens) if enc.ordered else [enc.num_tokens]
    if enc.ordered:
        recons = tok.decode_prefixes(enc.ids, ks)  # (len(ks), S, S, 3)
    else:
        recons = tok.decode(enc.ids)[None]
    ps = np.atleast_1d(psnr(np.broadcast_to(enc.image, recons.shape), recons))  # (len(ks),)
    out[enc.name] = [(token_bytes(k, enc.vocab_size), min(float(p), 100.0), f"k={k}") for k, p in zip(ks, ps)]
    for codec, qs in RD_CODECS.items():
        curve = codecs.rd_curve(enc.image[None], codec, qs, count=RD_COUNT)
        out[codec] = [(int(b), min(float(p), 100.0), f"q={q}") for q, b, p in zip(qs, curve.nbytes[0], curve.psnr[0])]
    return out


def rd_rows(points: dict[str, list[tuple[int, float, str]]]) -> list[list[Any]]:
    """The points as table rows: curve, setting, bytes, PSNR."""
    return [[name, label, b, round(p, 2)] for name, pts in points.items() for b, p, label in pts]


# ---- formatting ----------------------------------------------------------------------------

def _fmt_psnr(p: float) -> str:
    return "∞ (exact)" if not math.isfinite(p) else f"{p:.2f} dB"


def status_markdown(enc: Encoded) -> str:
    T, V = enc.num_tokens, enc.vocab_size
    shape = "x".join(str(s) for s in enc.ids.shape)
    S = enc.image.shape[0]
    what = (f"an ordered 1D sequence of **{T}** tokens (any prefix decodes)" if enc.ordered
            else f"a **{shape}** grid of tokens ({T} in all; a grid decodes all of them)")
    lines = [f"**{enc.name}** read the {enc.source} at {S}x{S} as {what}, vocabulary V = {V:,} "
             f"({math.log2(V):.2f} bits a token)."]
    if enc.notes:
        lines.append("Input: " + " ".join(enc.notes))
    return "\n\n".join(lines)


def error_markdown(e: Exception) -> str:
    """A library error as Markdown: its first line in bold, indented lines (commands) as code."""
    first, _, rest = str(e).partition("\n")
    out = f"⚠️ **Could not tokenize this.** {first}"
    for line in rest.splitlines():
        out += f"\n\n    {line.strip()}" if line.startswith("  ") else f"\n\n{line}"
    return out


def default_tokenizer(names: list[str]) -> str:
    """DEFAULT_TOKENIZER when its checkpoint loads, else the first one that does."""
    for ref in [DEFAULT_TOKENIZER] + [n for n in names if n != DEFAULT_TOKENIZER]:
        try:
            load_image_tokenizer(ref)
            return ref
        except TokenworksError:
            continue
    return DEFAULT_TOKENIZER


def info_markdown(info: dict) -> str:
    k, T = info["k"], info["T"]
    return (f"**{k} of {T} tokens** → **{info['bytes']} bytes** (ceil({k} × log2 {info['V']:,} / 8); "
            f"{info['bits']} bits) · PSNR **{_fmt_psnr(info['psnr'])}**")


def ids_text(enc: Encoded, k: int | None = None) -> str:
    """The ids as text: a row per grid row; for a 1D sequence, the kept prefix | the rest."""
    if not enc.ordered:
        return "\n".join(" ".join(f"{i:>4d}" for i in row) for row in enc.ids.tolist())
    ids = enc.ids.tolist()
    k = len(ids) if k is None else k
    kept = " ".join(str(i) for i in ids[:k])
    rest = " ".join(str(i) for i in ids[k:])
    return kept + (f"  |  {rest}" if rest else "")


def display(img: np.ndarray, size: int = DISPLAY) -> np.ndarray:
    """Nearest-neighbour upscale by a whole factor so small images are visible, pixel for pixel."""
    f = max(1, size // max(img.shape[:2]))
    return np.repeat(np.repeat(img, f, axis=0), f, axis=1) if f > 1 else img


# ---- UI wrappers ---------------------------------------------------------------------------

def _warn(msg: str) -> None:
    import gradio as gr

    try:
        gr.Warning(msg)
    except Exception:  # noqa: BLE001 - outside a request there is no toast to show
        pass


N_OUTPUTS = 8  # state, input, reconstruction, slider, status, info, ids, rd table


def on_encode(upload: Any, sample: str | None, ref: str, quiet: bool = False) -> tuple:
    """UI handler: tokenize and show everything; a bad input becomes a status message."""
    import gradio as gr

    try:
        enc = encode_image(upload, sample, ref)
        recon, info = reconstruct(enc)
        rows = rd_rows(rd_points(enc))
    except TokenworksError as e:
        if not quiet:
            _warn(str(e).split("\n", 1)[0])
        return (None, None, None, gr.update(), error_markdown(e), "", "", [])
    T = enc.num_tokens
    slider = gr.update(minimum=1, maximum=T, value=T, step=1, interactive=enc.ordered,
                       label=f"k: tokens kept (1..{T})" if enc.ordered else f"k: a grid decodes all {T} tokens")
    for n in [] if quiet else enc.notes:
        _info(n)
    return (enc, display(enc.image), display(recon), slider, status_markdown(enc), info_markdown(info),
            ids_text(enc, info["k"]), rows)


def _info(msg: str) -> None:
    import gradio as gr

    try:
        gr.Info(msg)
    except Exception:  # noqa: BLE001
        pass


def on_k(enc: Encoded | None, k: Any) -> tuple:
    """UI handler for the k slider: re-decode the first k tokens."""
    import gradio as gr

    if enc is None:
        return gr.update(), "Tokenize an image first.", gr.update()
    try:
        recon, info = reconstruct(enc, k)
    except TokenworksError as e:
        _warn(str(e).split("\n", 1)[0])
        return gr.update(), f"⚠️ {e}", gr.update()
    return display(recon), info_markdown(info), ids_text(enc, info["k"])


def build() -> None:
    """Lay out the Image tab inside the current gr.Blocks context."""
    import gradio as gr

    from .common import friendly

    samples = sample_names()
    names = image_tokenizers()
    with gr.Row():
        with gr.Column(scale=2):
            upload = gr.File(label="Upload an image", file_count="single", type="filepath", height=120,
                             elem_id="tw-image-upload")
            sample = gr.Dropdown(choices=samples, value=DEFAULT_SAMPLE if DEFAULT_SAMPLE in samples else None,
                                 label="…or a sample", elem_id="tw-image-sample")
        with gr.Column(scale=2):
            tokenizer = gr.Dropdown(choices=names, value=default_tokenizer(names), label="Image tokenizer",
                                    info="Registered tokenizers, then runs you trained (run:...).",
                                    allow_custom_value=True, elem_id="tw-image-tokenizer")
            with gr.Row():
                refresh = gr.Button("Refresh tokenizer list", size="sm", elem_id="tw-image-refresh")
                run = gr.Button("Tokenize", variant="primary", size="sm", elem_id="tw-image-run")
    status = gr.Markdown(elem_id="tw-image-status")
    state = gr.State(None)
    k = gr.Slider(1, 256, value=256, step=1, label="k: tokens kept", elem_id="tw-image-k")
    with gr.Row():
        shown_in = gr.Image(label="Input (as the tokenizer sees it)", type="numpy", format="png", interactive=False,
                            height=DISPLAY + 40, elem_id="tw-image-input")
        shown_out = gr.Image(label="Reconstruction from the first k tokens", type="numpy", format="png",
                             interactive=False, height=DISPLAY + 40, elem_id="tw-image-recon")
    info = gr.Markdown(elem_id="tw-image-info")
    ids = gr.Textbox(label="Token ids (kept | dropped)", lines=3, interactive=False, elem_id="tw-image-ids")
    with gr.Accordion("Rate and distortion on this image: tokens vs JPEG / WebP", open=False):
        gr.Markdown("Codec bytes are counted without the headers a decoder that knows the image size could "
                    "rebuild; token bytes are ceil(k log2 V / 8).")
        rd_table = gr.Dataframe(headers=["curve", "setting", "bytes", "PSNR dB"], interactive=False,
                                elem_id="tw-image-rd-table")

    outputs = [state, shown_in, shown_out, k, status, info, ids, rd_table]
    enc_fn = friendly(on_encode)
    upload.upload(lambda f, r: enc_fn(f, None, r) + (None,), inputs=[upload, tokenizer],
                  outputs=outputs + [sample], api_name="image_upload")
    sample.input(lambda s, r: enc_fn(None, s, r) + (None,), inputs=[sample, tokenizer],
                 outputs=outputs + [upload], api_name="image_sample")
    gr.on(triggers=[tokenizer.input, run.click], fn=enc_fn, inputs=[upload, sample, tokenizer], outputs=outputs,
          api_name="image_tokenize")
    k.input(friendly(on_k), inputs=[state, k], outputs=[shown_out, info, ids], api_name="image_k",
            trigger_mode="always_last", show_progress="hidden")
    refresh.click(lambda: gr.update(choices=image_tokenizers()), outputs=tokenizer, api_name="image_tokenizers")
    root = gr.context.Context.root_block  # the app's Blocks: show the default sample on page load
    if root is not None:
        root.load(lambda f, s, r: on_encode(f, s, r, quiet=True), inputs=[upload, sample, tokenizer],
                  outputs=outputs, api_name="image_initial")
