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

from .exports import Items
from .shared import error_markdown

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
UNUSUAL = ("Animated", "only", "converted", "composited", "dropped", "EXIF", "reduced")  # notes worth a toast
RD_COUNT = "payload"  # codec bytes without headers a decoder could rebuild (tokens have none)
ONE_PASS = "one pass"
REFINED = "refined"
ENCODERS = (ONE_PASS, REFINED)  # how the ids are found: the encoder alone, or refined (tokenworks.image.refine)
REFINE_STEPS = 30  # steps of the tab's refined encoding (every prefix on the strip together)


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
    encoder: str = ONE_PASS  # one of ENCODERS

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
    if mode in ("L", "1", "I", "I;16", "I;16L", "I;16B", "I;16N", "F", "LA", "La"):
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


def check_encoder(encoder: Any) -> str:
    """The encoder choice, or InvalidInput naming the valid ones (None: one pass)."""
    if encoder is None:
        return ONE_PASS
    if encoder not in ENCODERS:
        raise InvalidInput(f"the encoder must be one of {', '.join(repr(e) for e in ENCODERS)}, got {encoder!r}")
    return encoder


def encode_image(upload: Any, sample: str | None, ref: str, encoder: Any = ONE_PASS) -> Encoded:
    """Tokenize the uploaded file (or the sample when there is no upload) with tokenizer ``ref``;
    ``encoder`` REFINED searches ids that decode closer (``tokenworks.image.refine``, every prefix
    on the strip at once), the same bytes for any decoder."""
    from tokenworks.image.refine import RefineConfig

    encoder = check_encoder(encoder)
    tok = load_image_tokenizer(ref)
    prepared, source, notes = read_image(upload, sample, tok.image_size)
    refine = RefineConfig(steps=REFINE_STEPS) if encoder == REFINED else None
    seq = tok.encode(prepared.array, refine=refine)  # already at the model's size: nothing more happens to it
    kind = "grid" if seq.ids.ndim == 2 else "flex1d"
    meta = {**seq.meta, **prepared.meta}  # what was done to the file, not to the prepared array
    return Encoded(ref=ref, name=tok.name, kind=kind, ids=np.asarray(seq.ids), image=prepared.array,
                   vocab_size=int(tok.vocab_size), source=source, notes=notes, meta=meta, encoder=encoder)


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
    except (TypeError, ValueError, OverflowError):
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
    r = enc.meta.get("refined")
    if r:
        before, after = np.array(r["psnr_one_pass"]), np.array(r["psnr_refined"])
        at = "over the prefixes k = " + ", ".join(str(k) for k in r["ks"]) if len(r["ks"]) > 1 else f"at k = {r['ks'][0]}"
        lines.append(f"Refined encoding: {r['steps']} steps on the decoder's error in {r['seconds']:.1f} s; PSNR "
                     f"{at}: {before.mean():.2f} → {after.mean():.2f} dB on average (all {r['ks'][-1]} tokens: "
                     f"{before[-1]:.2f} → {after[-1]:.2f} dB). Same tokens, same bytes: any decoder of "
                     f"{enc.name} reads them.")
    return "\n\n".join(lines)


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


def on_encode(upload: Any, sample: str | None, ref: str, encoder: Any = ONE_PASS, quiet: bool = False) -> tuple:
    """UI handler: tokenize and show everything; a bad input becomes a status message."""
    import gradio as gr

    try:
        enc = encode_image(upload, sample, ref, encoder)
        recon, info = reconstruct(enc)
        rows = rd_rows(rd_points(enc))
    except TokenworksError as e:
        if not quiet:
            _warn(str(e).split("\n", 1)[0])
        return (None, None, None, gr.update(), error_markdown(e), "", "", [])
    T = enc.num_tokens
    slider = gr.update(minimum=1, maximum=T, value=T, step=1, interactive=enc.ordered,
                       label=f"k: tokens kept (1..{T})" if enc.ordered else f"k: a grid decodes all {T} tokens")
    for n in [] if quiet else [n for n in enc.notes if any(w in n for w in UNUSUAL)]:
        _warn(n)  # the routine notes (crop, resize) are in the status line only
    return (enc, display(enc.image), display(recon), slider, status_markdown(enc), info_markdown(info),
            ids_text(enc, info["k"]), rows)


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


# ---- the views (tokenworks.image.inspect computes, tokenworks.viz.image draws) -----------------

CODEBOOK_IMAGES = 256  # images of a data set the codebook views encode (test split)
THIS_IMAGE = "this image"
NO_IMAGES = "none: the first codes"


def _views():
    """(inspect, viz) modules, or InvalidInput when this checkout does not have them yet."""
    try:
        from tokenworks.image import inspect as ins
        from tokenworks.viz import image as viz
    except ImportError as e:
        raise InvalidInput(f"the image views are not available in this version of tokenworks ({e})") from None
    return ins, viz


def _need(enc: Any) -> Encoded:
    if not isinstance(enc, Encoded):
        raise InvalidInput("tokenize an image first (upload one or choose a sample)")
    return enc


def prefix_views(enc: Encoded) -> tuple[Any, Any, Any]:
    """(prefix strip figure, rate-distortion figure, token-id figure) for this image."""
    from tokenworks.image import codecs

    ins, viz = _views()
    tok = load_image_tokenizer(enc.ref)
    strip = ins.prefix_strip(tok, enc.image, ids=enc.ids)
    curves = {c: codecs.rd_curve(enc.image[None], c, qs, count=RD_COUNT) for c, qs in RD_CODECS.items()}
    S = enc.image.shape[0]
    return (viz.strip_figure(strip), viz.rd_figure(curves, {enc.name: strip}, pixels=S * S),
            viz.token_grid_figure(tok, enc.image, enc.ids))


def token_views(enc: Encoded, token: Any) -> tuple[Any, Any, int]:
    """(attention figure, influence figure, the code farthest from this token's) for token ``token``."""
    ins, viz = _views()
    enc = _need(enc)
    tok = load_image_tokenizer(enc.ref)
    t = _check_token(enc, token)
    att = viz.attention_figure(enc.image, ins.attention_maps(tok, enc.image), t)
    infl = ins.influence_maps(tok, ids=enc.ids, tokens=[t])  # (1, S, S)
    far = int(ins.replacement_codes(tok, enc.ids.reshape(-1)[[t]])[0])
    return att, viz.influence_figure(enc.image, infl, t, tokens=[t]), far


def faithfulness_view(enc: Encoded, token: Any) -> tuple[Any, str]:
    """Attention vs influence over all T tokens: the influence figure with its Spearman, and a summary."""
    ins, viz = _views()
    enc = _need(enc)
    tok = load_image_tokenizer(enc.ref)
    t = _check_token(enc, token)
    att = ins.attention_maps(tok, enc.image)  # (T, S, S)
    infl = ins.influence_maps(tok, ids=enc.ids)  # (T, S, S)
    f = ins.faithfulness(att, infl)
    rho = f.per_token
    ok = np.isfinite(rho)
    best = int(np.nanargmax(rho)) if ok.any() else None
    worst = int(np.nanargmin(rho)) if ok.any() else None
    md = (f"**Attention vs influence** (Spearman rank correlation per token, maps compared at "
          f"{f.resolution[0]}x{f.resolution[1]}): mean **{f.mean:.2f}** over {int(ok.sum())} of {rho.size} tokens")
    if best is not None:
        md += f"; most faithful token {best} ({rho[best]:.2f}), least {worst} ({rho[worst]:.2f})."
    if not enc.ordered:
        md += " A grid token's attention is its own cell (its span), so this measures how local its influence is."
    return viz.influence_figure(enc.image, infl, t, faithfulness=f), md


def edit_view(enc: Encoded, position: Any, code: Any) -> Any:
    """Swap the token at ``position`` for ``code`` and show before, after and the difference."""
    ins, viz = _views()
    enc = _need(enc)
    tok = load_image_tokenizer(enc.ref)
    t = _check_token(enc, position)
    try:
        c = int(code)
    except (TypeError, ValueError):
        raise InvalidInput(f"the new code must be an integer in 0..{enc.vocab_size - 1}, got {code!r}") from None
    return viz.edit_figure(ins.edit_tokens(tok, enc.ids, {t: c}))


def codebook_sources(enc: Encoded | None = None, size: int | None = None) -> list[str]:
    """What the codebook views can count over: this image, the data sets at the model's size, or nothing."""
    from tokenworks.image.data import DATASETS

    size = size if size is not None else (enc.image.shape[0] if isinstance(enc, Encoded) else None)
    names = [n for n, spec in DATASETS.items() if size is None or spec.size == size]
    return [THIS_IMAGE] + names + [NO_IMAGES]


def default_codebook_source(enc: Encoded) -> str:
    """The data set the tokenizer's name points at when its cache is built, else this image."""
    from tokenworks.image.data import dataset_path

    for name in codebook_sources(enc)[1:-1]:
        if name.rstrip("0123456789") in enc.name and dataset_path(name, "test").is_file():
            return name
    return THIS_IMAGE


def codebook_views(enc: Encoded, source: str, n: Any = 32) -> tuple[Any, Any, str]:
    """(gallery figure, usage figure or None, summary) over ``source`` (THIS_IMAGE, a data set, NO_IMAGES)."""
    from tokenworks.image.data import dataset_path, load_dataset

    ins, viz = _views()
    enc = _need(enc)
    tok = load_image_tokenizer(enc.ref)
    valid = codebook_sources(enc)
    if source not in valid:
        raise InvalidInput(f"count codes over one of {', '.join(valid)}; got {source!r}")
    try:
        n = max(1, min(int(n), 256))
    except (TypeError, ValueError):
        raise InvalidInput(f"the number of codes to show must be an integer, got {n!r}") from None
    if source == NO_IMAGES:
        gallery = ins.codebook_gallery(tok, None, n=n)
        return viz.gallery_figure(gallery), None, f"Codes 0..{n - 1} decoded alone (no images counted)."
    if source == THIS_IMAGE:
        images, what = enc.image[None], "this image"
    else:
        if not dataset_path(source, "test").is_file():
            raise InvalidInput(f"the data set {source} is not built on this machine; build it with "
                               f"`python -m tokenworks.image.data {source}` (needs its offline assets)")
        ds = load_dataset(source, "test", limit=CODEBOOK_IMAGES)
        images, what = ds.images, f"{len(ds)} test images of {source}"
    gallery = ins.codebook_gallery(tok, images, n=n, nearest=4 if len(images) > 1 else 1)
    counts = ins.usage_counts(tok, images)
    return viz.gallery_figure(gallery), viz.usage_figure(counts), f"Codes counted over {what}."


def _check_token(enc: Encoded, token: Any) -> int:
    T = enc.num_tokens
    try:
        t = int(round(float(token)))
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"token must be a position in 0..{T - 1}, got {token!r}") from None
    if not 0 <= t < T:
        raise InvalidInput(f"token must be a position in 0..{T - 1}, got {t}")
    return t


def on_views(enc: Encoded | None) -> tuple:
    """UI handler after each encode: fill the views (figures), reset the token and edit controls."""
    import gradio as gr

    N = 10
    if not isinstance(enc, Encoded):
        return (None,) * 5 + (gr.update(),) * 3 + (gr.update(), "")
    try:
        strip, rd, grid = prefix_views(enc)
        att, infl, far = token_views(enc, 0)
    except TokenworksError as e:
        return (None,) * 5 + (gr.update(),) * 3 + (gr.update(), f"⚠️ {e}")
    T = enc.num_tokens
    where = "in sequence order" if enc.ordered else "in raster order over the grid"
    token = gr.update(minimum=0, maximum=T - 1, value=0, step=1, label=f"token (0..{T - 1}, {where})")
    position = gr.update(minimum=0, maximum=T - 1, value=0, step=1)
    code = gr.update(value=far, minimum=0, maximum=enc.vocab_size - 1,
                     label=f"new code (0..{enc.vocab_size - 1}; preset: the code farthest from token 0's)")
    source = gr.update(choices=codebook_sources(enc), value=default_codebook_source(enc))
    out = (strip, rd, grid, att, infl, token, position, code, source, "")
    assert len(out) == N
    return out


def on_token(enc: Encoded | None, token: Any) -> tuple:
    import gradio as gr

    try:
        att, infl, _ = token_views(enc, token)
    except TokenworksError as e:
        _warn(str(e))
        return gr.update(), gr.update(), f"⚠️ {e}"
    return att, infl, ""


def on_faithfulness(enc: Encoded | None, token: Any) -> tuple:
    import gradio as gr

    try:
        return faithfulness_view(enc, token)
    except TokenworksError as e:
        _warn(str(e))
        return gr.update(), f"⚠️ {e}"


def on_edit(enc: Encoded | None, position: Any, code: Any) -> tuple:
    import gradio as gr

    try:
        return edit_view(enc, position, code), ""
    except TokenworksError as e:
        _warn(str(e))
        return gr.update(), f"⚠️ {e}"


def on_edit_position(enc: Encoded | None, position: Any) -> Any:
    """Preset the new code to the one farthest from the chosen token's."""
    import gradio as gr

    try:
        ins, _ = _views()
        enc = _need(enc)
        t = _check_token(enc, position)
        return gr.update(value=int(ins.replacement_codes(load_image_tokenizer(enc.ref), enc.ids.reshape(-1)[[t]])[0]))
    except TokenworksError:
        return gr.update()


def on_codebook(enc: Encoded | None, source: str, n: Any) -> tuple:
    import gradio as gr

    try:
        return codebook_views(enc, source, n)
    except TokenworksError as e:
        _warn(str(e))
        return gr.update(), gr.update(), f"⚠️ {e}"


def export_tokens(enc: Encoded | None) -> Items:
    """For the export: the tokens of the image shown, as JSON (nothing when no image is tokenized)."""
    if not isinstance(enc, Encoded):
        return Items(notes=["tokens: no image tokenized yet"])
    return Items(jsons={"tokens": {"tokenizer": enc.name, "ref": enc.ref, "kind": enc.kind, "source": enc.source,
                                   "shape": list(enc.ids.shape), "vocab_size": enc.vocab_size,
                                   "encoder": enc.encoder, "refined": enc.meta.get("refined"),
                                   "ids": enc.ids.tolist(), "notes": enc.notes}})


def build() -> None:
    """Lay out the Image tab inside the current gr.Blocks context."""
    import gradio as gr

    from . import media_links, tab_links
    from .common import friendly
    from .exports import Extra, add_export

    samples = sample_names()
    names = image_tokenizers()
    with gr.Row():
        with gr.Column(scale=2):
            upload = gr.File(label=f"Upload an image (up to {MAX_FILE_BYTES / 1e6:g} MB and {MAX_PIXELS / 1e6:g} megapixels)",
                             file_count="single", type="filepath", height=120,
                             elem_id="tw-image-upload")
            sample = gr.Dropdown(choices=samples, value=DEFAULT_SAMPLE if DEFAULT_SAMPLE in samples else None,
                                 label="…or a sample", elem_id="tw-image-sample")
        with gr.Column(scale=2):
            tokenizer = gr.Dropdown(choices=names, value=default_tokenizer(names), label="Image tokenizer",
                                    info="Registered tokenizers, then runs you trained (run:...).",
                                    allow_custom_value=True, elem_id="tw-image-tokenizer")
            encoder = gr.Radio(list(ENCODERS), value=ONE_PASS, label="Encoder",
                               info=f"one pass: the encoder's ids. refined: {REFINE_STEPS} steps of search for ids "
                                    f"that decode closer at every k (slower; same bytes).",
                               elem_id="tw-image-encoder")
            with gr.Row():
                refresh = gr.Button("Refresh tokenizer list", size="sm", elem_id="tw-image-refresh")
                run = gr.Button("Tokenize", variant="primary", size="sm", elem_id="tw-image-run")
            link = tab_links.link_box("image")
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
            source = gr.Dropdown(choices=codebook_sources(size=64), value=THIS_IMAGE, label="count codes over",
                                 elem_id="tw-image-codebook-source")
            n_codes = gr.Slider(4, 128, value=32, step=4, label="codes to show", elem_id="tw-image-codebook-n")
            cb_btn = gr.Button("Show the codebook", size="sm", elem_id="tw-image-codebook-run")
        cb_md = gr.Markdown()
        gallery_plot = gr.Plot(label="Codebook gallery", show_label=False, elem_id="tw-image-gallery")
        usage_plot = gr.Plot(label="Code usage", show_label=False, elem_id="tw-image-usage")

    outputs = [state, shown_in, shown_out, k, status, info, ids, rd_table]
    view_outputs = [strip_plot, rd_plot, grid_plot, att_plot, infl_plot, token, position, code, source, views_msg]
    enc_fn = friendly(on_encode)
    views_fn = friendly(on_views)
    gr.on(triggers=[upload.change, sample.change, tokenizer.change, k.change], fn=friendly(media_links.image_link),
          inputs=[upload, sample, tokenizer, k], outputs=[link.query, link.link], api_name=False,
          trigger_mode="always_last", show_progress="hidden")
    upload.upload(lambda f, r, e: enc_fn(f, None, r, e) + (None,), inputs=[upload, tokenizer, encoder],
                  outputs=outputs + [sample], api_name="image_upload").then(
        views_fn, inputs=state, outputs=view_outputs, api_name="image_views_after_upload")
    sample.input(lambda s, r, e: enc_fn(None, s, r, e) + (None,), inputs=[sample, tokenizer, encoder],
                 outputs=outputs + [upload], api_name="image_sample").then(
        views_fn, inputs=state, outputs=view_outputs, api_name="image_views_after_sample")
    gr.on(triggers=[tokenizer.input, encoder.input, run.click], fn=enc_fn, inputs=[upload, sample, tokenizer, encoder],
          outputs=outputs,
          api_name="image_tokenize").then(views_fn, inputs=state, outputs=view_outputs, api_name="image_views")
    k.input(friendly(on_k), inputs=[state, k], outputs=[shown_out, info, ids], api_name="image_k",
            trigger_mode="always_last", show_progress="hidden")
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
    refresh.click(lambda: gr.update(choices=image_tokenizers()), outputs=tokenizer, api_name="image_tokenizers")
    add_export("image", figures={"decoding the first k tokens": strip_plot, "bytes vs psnr": rd_plot,
                                 "token ids": grid_plot, "attention": att_plot, "influence": infl_plot,
                                 "edit": edit_plot, "codebook gallery": gallery_plot, "code usage": usage_plot},
               tables={"rate distortion points": rd_table},
               images={"input": shown_in, "reconstruction": shown_out}, extra=Extra([state], export_tokens))
    root = gr.context.Context.root_block  # the app's Blocks: the default sample (or a link's view) on page load
    if root is not None:
        root.load(link.restore(media_links.image_restore), inputs=[upload, sample, tokenizer],
                  outputs=outputs + [tokenizer, sample] + link.outputs, api_name="image_initial").then(
            views_fn, inputs=state, outputs=view_outputs, api_name="image_views_initial")
