"""Image rows of ``make bench``: speed against a classical codec in the same run, quality
against JPEG / WebP / downscale+WebP at equal bytes on the held-out split, and the targets of
the image issue with whether each is met.

The held-out rows need the image data sets (``tokenworks.image.data``; built from the emoji
font and wallpaper assets, or read from their caches). Without them those rows are skipped
and the report says so.

``REALPHOTO_BENCHES`` is its own group (``tokenworks bench --only realphoto``): the shipped photo
tokenizer on a subsample of the held-out real photographs (realphoto64) at 100, 200, 300 bytes
against the best codec per image in the same run, and the codecs alone on realphoto128 at 400,
800, 1,200 bytes (no 128x128 tokenizer yet: those rows have no value, only the codecs' line).
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np

from ..bench.harness import BenchContext, Row, timeit
from ..paths import data_dir

SHIPPED = (  # (tokenizer, data set of its held-out split)
    ("image/flex1d-emoji64", "emoji64"),
    ("image/flex1d-photo64", "photo64"),
    ("image/grid-emoji32", "emoji32"),
    ("image/grid-photo32", "photo32"),
)
SPEED = (("image/grid-emoji32", "emoji32", 100.0), ("image/flex1d-emoji64", "emoji64", 50.0))  # target img/s
CODECS = ("jpeg", "webp", "webp-down2", "webp-down4")
REFINED = ("image/flex1d-emoji64", "emoji64")  # the default flex1d model: its refined encoding is benched too
REFINE_STEPS = 30  # steps of refined encoding in the bench (image.refine)
_BEST: dict = {}  # (data, N, budget, count) -> codecs.BestAtBudget, shared by the plain and refined rows


def _skip(what: str, why: str) -> None:
    print(f"bench: skipped {what}: {why}", file=sys.stderr)


def _load(name: str):
    from .. import registry

    return registry.load(name)


def _test_images(data: str, limit: int | None) -> np.ndarray | None:
    from .data import load_dataset

    try:
        return np.array(load_dataset(data, "test", limit).images)  # (N, S, S, 3)
    except Exception as e:  # noqa: BLE001 - a missing asset skips the row, it does not stop the bench
        _skip(f"{data} test split", f"{type(e).__name__}: {e}")
        return None


def _sample_images(size: int, n: int) -> np.ndarray:
    """n images of size x size from data/samples/images (tiled), when no data set is at hand."""
    from PIL import Image

    files = sorted((data_dir() / "samples" / "images").glob("*.png"))
    base = [np.asarray(Image.open(f).convert("RGB").resize((size, size), Image.LANCZOS)) for f in files]
    return np.stack([base[i % len(base)] for i in range(n)])  # (n, size, size, 3)


def _webp_roundtrip(images: np.ndarray) -> None:
    import io

    from PIL import Image

    for im in images:
        buf = io.BytesIO()
        Image.fromarray(im).save(buf, format="WEBP", quality=50, method=4)
        np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def bench_image_speed(ctx: BenchContext) -> None:
    """encode + decode of a batch of 64 images with the shipped models, against WebP (Pillow,
    quality 50) encoding and decoding the same images in the same run."""
    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for name, data, target in SPEED:
        tok = _load(name)
        S = tok.image_size
        images = _test_images(data, 64)
        if images is None or len(images) < 64:
            images = _sample_images(S, 64)
        n = len(images)
        t_webp = timeit(lambda: _webp_roundtrip(images), ctx.repeats)
        for dev in devices:
            tok.to(dev)
            t_tok = timeit(lambda: tok.decode_batch(tok.encode_batch(images)), ctx.repeats)
            label = "CPU" if dev == "cpu" else f"GPU {torch.cuda.get_device_name(0)}"
            met = "met" if n / t_tok >= target else "NOT met"
            ctx.rows.append(Row("image", f"{name} encode+decode {S}x{S}, batch {n}, {label}", n / t_tok, "img/s",
                                "WebP q50 encode+decode (Pillow)", n / t_webp, t_webp / t_tok,
                                f"target >= {target:.0f} img/s on 2 CPU cores: {met} "
                                f"(torch threads {torch.get_num_threads()})" if dev == "cpu" else "GPU, labelled"))
        tok.to("cpu")


def bench_prefix_decode(ctx: BenchContext) -> None:
    """Every prefix k = 1..K of one image in one batched call, against K separate decodes."""
    tok = _load("image/flex1d-emoji64")
    image = _sample_images(tok.image_size, 1)[0]
    seq = tok.encode(image)
    ks = list(range(1, tok.num_tokens + 1))
    reps = max(1, ctx.repeats // 2)
    t_batch = timeit(lambda: tok.decode_prefixes(seq, ks), reps)
    t_loop = timeit(lambda: [tok.decode(seq, keep=k) for k in ks], reps)
    ctx.rows.append(Row("image", f"image/flex1d-emoji64 decode all {len(ks)} prefixes of one image, one call",
                        len(ks) / t_batch, "prefixes/s", f"{len(ks)} separate decode(keep=k) calls",
                        len(ks) / t_loop, t_loop / t_batch, f"{t_batch * 1000:.0f} ms for the whole strip"))


def _entropy_bytes(tok, train: np.ndarray, test_ids: np.ndarray, ks: list[int]) -> dict[int, float]:
    """Mean entropy-coded bytes of the first k tokens under a unigram fitted on ``train`` (N, S, S, 3)."""
    from ..metrics.rate import code_counts, entropy_bytes, unigram_from_counts

    probs = unigram_from_counts(code_counts(tok.encode_batch(train), tok.vocab_size))
    return {k: float(np.mean([entropy_bytes(row[:k], probs).nbytes for row in test_ids])) for k in ks}


def _train_images(data: str, quick: bool) -> np.ndarray:
    from .data import load_dataset

    return np.array(load_dataset(data, "train", 128 if quick else 1024).images)  # (N, S, S, 3)


def _best_codec(images: np.ndarray, data: str, budget: int, count: str):
    from .codecs import best_at_budget

    key = (data, len(images), budget, count)
    if key not in _BEST:
        _BEST[key] = best_at_budget(images, budget, CODECS, count)
    return _BEST[key]


def _winners(r) -> str:
    return ", ".join(f"{c} {r.codec.count(c)}" for c in CODECS if r.codec.count(c))


def rate_distortion_rows(tok, name: str, data: str, images: np.ndarray, train: np.ndarray, group: str = "image",
                         where: str | None = None, budgets: tuple[int, ...] | None = None) -> list[Row]:
    """A shipped model on held-out ``images`` (N, S, S, 3) against the best codec per image at equal
    bytes, counted as whole files and as header-free payloads (``codecs``); then its monotonicity in k
    (flex1d) and codebook usage. ``train``: images the unigram of the entropy-coded byte counts is
    fitted on. ``budgets``: the byte budgets to report (None: those ``evaluate`` measured, or one
    per grid model); a budget larger than all T tokens gets the whole sequence, and says so."""
    from .evaluate import BYTE_BUDGETS, evaluate
    from .flex1d import bytes_for_tokens, tokens_for_bytes

    given = where
    where = where or f"{len(images)} held-out {data} images"
    m = evaluate(tok, images)
    V, T = tok.vocab_size, tok.num_tokens
    flex = "psnr_per_k" in m
    if not flex:
        budgets, ks = (bytes_for_tokens(T, V),), [T]
    elif budgets is None:
        budgets = tuple(b for b in BYTE_BUDGETS if f"k@{b}B" in m)
        ks = [m[f"k@{b}B"] for b in budgets]
    else:
        ks = [min(tokens_for_bytes(b, V), T) for b in budgets]
    ids = tok.encode_batch(images).reshape(len(images), -1)  # (N, T)
    ent = _entropy_bytes(tok, train, ids, sorted(set(ks)))
    rows = []
    for b, k in zip(budgets, ks):
        psnr = m.get("psnr_per_k", {}).get(str(k), m["psnr"])  # a grid model: all of its tokens
        fills = (f"; all {T} tokens take {bytes_for_tokens(T, V)} B, under the budget"
                 if flex and tokens_for_bytes(b, V) > T else "")
        for count in ("file", "payload"):
            r = _best_codec(images, data, b, count)
            delta = psnr - r.mean_psnr
            target = (f"; target >= +1 dB: {'met' if delta >= 1.0 else 'NOT met'} with the one-pass encoder"
                      if name == REFINED[0] and data == REFINED[1] else "")
            rows.append(Row(
                group, f"{name} PSNR at {b} B ({k} tokens), {where}",
                psnr, "dB", f"best of {'/'.join(CODECS)} per image ({count} bytes)", r.mean_psnr,
                psnr / r.mean_psnr,
                f"delta {delta:+.2f} dB (tokenizer minus best codec){target}{fills}; codecs fit {r.fit_share:.0%} of "
                f"images ({_winners(r)}); tokens: {k} ids at log2 V = {math.log2(V):.2f} bits, no header; "
                f"entropy-coded: {ent[k]:.0f} B (unigram from the train split)"))
    if flex:
        mono = m["monotone_frac"]
        rows.append(Row(group, f"{name} share of {given or 'held-out images'} whose PSNR never falls as k doubles (1, 2, ..., {T})",
                        mono, "share", "target", 0.95, mono / 0.95,
                        f"{'met' if mono >= 0.95 else 'NOT met'}; within 0.1 dB: {m['monotone_frac_0.1dB']:.3f}; "
                        f"over every k evaluated (incl. budget points): {m['monotone_frac_all_k']:.3f}"))
    cb = m["codebook"]
    ok = cb["usage"] >= 0.95 and cb["entropy"] >= 0.9
    rows.append(Row(group, f"{name} codebook usage over {given or 'the held-out split'} (V={V})", cb["usage"], "share",
                    "target usage", 0.95, cb["usage"] / 0.95,
                    f"normalised entropy {cb['entropy']:.3f} (target >= 0.9), perplexity {cb['perplexity']}, "
                    f"dead {cb['dead']}: {'met' if ok else 'NOT met'}"))
    return rows


def bench_rate_distortion(ctx: BenchContext) -> None:
    """The shipped models on their held-out split against the best codec per image at equal bytes."""
    limit = 24 if ctx.quick else None
    for name, data in SHIPPED:
        try:
            tok = _load(name)
        except Exception as e:  # noqa: BLE001
            _skip(name, f"{type(e).__name__}: {e}")
            continue
        images = _test_images(data, limit)
        if images is None:
            continue
        t0 = time.perf_counter()
        ctx.rows.extend(rate_distortion_rows(tok, name, data, images, _train_images(data, ctx.quick)))
        print(f"bench: {name} rate-distortion rows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def bench_views(ctx: BenchContext) -> None:
    """Every image view computed and built once, on CPU, with the shipped models."""
    from ..viz.image import view_timings

    for name in ("image/flex1d-emoji64", "image/grid-emoji32"):
        tok = _load(name)
        image = _sample_images(tok.image_size, 1)[0]
        view_timings(tok, image)  # warm-up
        runs = [view_timings(tok, image) for _ in range(max(1, ctx.repeats // 2))]
        for view in runs[0]:
            t = float(np.median([r[view] for r in runs]))
            is_view = view != "influence_all"
            ctx.rows.append(Row("image", f"{name} view '{view}' compute + figure", t * 1000, "ms",
                                "target 1 s" if is_view else "(a computation, not a view)", 1000.0, 1.0 / max(t, 1e-9),
                                ("met" if t < 1.0 else "NOT met") if is_view else "all T perturbed decodes"))


def bench_refined(ctx: BenchContext) -> None:
    """The default flex1d model with refined encoding (``image.refine``) on its held-out split:
    one encoding per budget against the best codec at equal bytes; one encoding for the whole
    strip k = 1, 2, 4, ..., T and whether its PSNR never falls as k doubles; encode speed."""
    from .refine import RefineConfig, refine_encode
    from .evaluate import budgets, prefix_metrics

    name, data = REFINED
    try:
        tok = _load(name)
    except Exception as e:  # noqa: BLE001
        _skip(f"{name} refined encoding", f"{type(e).__name__}: {e}")
        return
    images = _test_images(data, 24 if ctx.quick else None)
    if images is None:
        return
    n, steps = len(images), 2 if ctx.quick else REFINE_STEPS
    t_plain = timeit(lambda: tok.encode_batch(images), 1)
    budget = budgets(tok.num_tokens, tok.vocab_size)
    for b, k in budget.items():
        r = refine_encode(tok, images, RefineConfig(keep=k, steps=steps))
        plain, refined = float(r.psnr_before.mean()), float(r.psnr_after.mean())
        for count in ("file", "payload"):
            best = _best_codec(images, data, b, count)
            delta = refined - best.mean_psnr
            ctx.rows.append(Row(
                "image", f"{name} refined encoding ({steps} steps, made for {k} tokens): PSNR at {b} B, "
                f"{n} held-out {data} images", refined, "dB",
                f"best of {'/'.join(CODECS)} per image ({count} bytes)", best.mean_psnr, refined / best.mean_psnr,
                f"delta {delta:+.2f} dB; target >= +1 dB: {'met' if delta >= 1.0 else 'NOT met'} with refined encoding; "
                f"the one-pass ids: {plain:.2f} dB ({plain - best.mean_psnr:+.2f}); same model, decoder and bytes; "
                f"encoding took {r.seconds:.0f} s ({n / r.seconds:.1f} images/s)"))
    r = refine_encode(tok, images, RefineConfig(steps=steps))  # one sequence for every prefix
    plain, refined = prefix_metrics(tok, r.plain_codes, images), prefix_metrics(tok, r.codes, images)
    mono = refined["monotone_frac"]
    ctx.rows.append(Row(
        "image", f"{name} refined encoding ({steps} steps, every prefix at once): share of held-out images whose "
        f"PSNR never falls as k doubles (1, 2, ..., {tok.num_tokens})", mono, "share", "target", 0.95, mono / 0.95,
        f"{'met' if mono >= 0.95 else 'NOT met'} with refined encoding; one-pass ids: {plain['monotone_frac']:.3f}; "
        f"over every k evaluated (incl. budget points): {refined['monotone_frac_all_k']:.3f} refined, "
        f"{plain['monotone_frac_all_k']:.3f} one pass; "
        f"mean PSNR gain per k " + ", ".join(f"{k}: {g:+.2f}" for k, g in zip(r.ks, r.gain_db)) + " dB"))
    for b, k in budget.items():
        p = refined[f"psnr@{b}B"]
        best = _best_codec(images, data, b, "payload")
        ctx.rows.append(Row(
            "image", f"{name} refined encoding ({steps} steps, every prefix at once): PSNR at {b} B ({k} tokens), "
            f"{n} held-out {data} images", p, "dB", f"best of {'/'.join(CODECS)} per image (payload bytes)",
            best.mean_psnr, p / best.mean_psnr,
            f"delta {p - best.mean_psnr:+.2f} dB; the same ids serve every budget and the monotone row"))
    ctx.rows.append(Row("image", f"{name} refined encoding ({steps} steps, every prefix at once), CPU, batch 32",
                        n / r.seconds, "img/s", "one-pass encode_batch", n / t_plain, t_plain / r.seconds,
                        "the price of the search: per step the decoder runs forward and backward for each of the 9 prefixes"))


# ---- the realphoto group: held-out real photographs (tokenworks bench --only realphoto) ------------

REALPHOTO = ("image/flex1d-photo64", "realphoto64")  # the shipped photo tokenizer, on held-out real photos
REALPHOTO_CODEC_ONLY = ("realphoto128", (400, 800, 1200))  # no 128x128 tokenizer yet: the line it must beat
REALPHOTO_CROPS = {"realphoto64": 200, "realphoto128": 100}  # test crops scored (of 800, in their shuffled
# order, so every held-out source is in), to keep the group to a few minutes on 2 cores
REALPHOTO_QUICK = {"realphoto64": 4, "realphoto128": 2}  # --quick


def _crops_text(data: str, images: np.ndarray, sources: list[str] | None, of: int | None) -> str:
    held = f" from {len(set(sources))} held-out sources" if sources else ""
    return f"{len(images)}{f' of {of}' if of else ''} held-out {data} test crops{held}"


def _realphoto_test(data: str, quick: bool) -> tuple[np.ndarray, str] | None:
    """(images (N, S, S, 3), what they are in words), or None (skipped, said on stderr)."""
    from .data import REALPHOTO_ASSETS, load_dataset

    n = (REALPHOTO_QUICK if quick else REALPHOTO_CROPS)[data]
    try:
        full = load_dataset(data, "test")
    except Exception as e:  # noqa: BLE001 - a missing asset skips the rows, it does not stop the bench
        _skip(f"{data} test split", f"{type(e).__name__}: {e} (tokenworks assets fetch {' '.join(REALPHOTO_ASSETS)})")
        return None
    images = np.array(full.images[:n])  # (n, S, S, 3)
    return images, _crops_text(data, images, full.sources[:n], len(full))


def codec_only_rows(images: np.ndarray, data: str, budgets: tuple[int, ...], where: str,
                    group: str = "realphoto") -> list[Row]:
    """Rows with no tokenizer to measure: the best codec per image at each budget (file and
    payload bytes), the line a tokenizer of this size has to beat. The value is NaN, not a guess."""
    S = images.shape[1]
    rows = []
    for b in budgets:
        for count in ("file", "payload"):
            r = _best_codec(images, data, b, count)
            rows.append(Row(
                group, f"{S}x{S} tokenizer PSNR at {b} B (no {S}x{S} tokenizer yet), {where}", float("nan"), "dB",
                f"best of {'/'.join(CODECS)} per image ({count} bytes)", r.mean_psnr, float("nan"),
                f"no {S}x{S} tokenizer yet: nothing to measure, no margin; the best codec's line is "
                f"{r.mean_psnr:.2f} dB; codecs fit {r.fit_share:.0%} of images ({_winners(r)})"))
    return rows


def bench_realphoto(ctx: BenchContext) -> None:
    """The shipped photo tokenizer on held-out real photographs (realphoto64: whole pictures, a whole
    video and a whole package never trained on) against the best of JPEG / WebP / downscale+WebP per
    image at 100, 200, 300 bytes, file and payload bytes, measured in the same run; and the codecs
    alone on realphoto128 at 400, 800, 1,200 bytes (no 128x128 tokenizer yet)."""
    from .evaluate import BYTE_BUDGETS

    name, data = REALPHOTO
    test = _realphoto_test(data, ctx.quick)
    if test is not None:
        try:
            tok = _load(name)
        except Exception as e:  # noqa: BLE001
            _skip(name, f"{type(e).__name__}: {e}")
        else:
            t0 = time.perf_counter()
            images, where = test
            ctx.rows.extend(rate_distortion_rows(tok, name, data, images, _train_images(data, ctx.quick),
                                                 group="realphoto", where=where, budgets=BYTE_BUDGETS))
            print(f"bench: {name} on {where} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    data, budgets = REALPHOTO_CODEC_ONLY
    test = _realphoto_test(data, ctx.quick)
    if test is not None:
        t0 = time.perf_counter()
        ctx.rows.extend(codec_only_rows(test[0], data, budgets, test[1]))
        print(f"bench: codecs on {test[1]} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


BENCHES = [bench_image_speed, bench_prefix_decode, bench_views, bench_rate_distortion, bench_refined]
REALPHOTO_BENCHES = [bench_realphoto]
