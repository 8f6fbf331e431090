# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Variable-length image tokens
#
# A grid tokenizer spends the same number of tokens on every image. **flex1d**
# (`tokenworks.image.flex1d`) encodes an image as an *ordered* 1D sequence of T tokens in which
# every prefix decodes to a whole image: the first token says roughly what the image is, each
# further token adds detail. Training makes that so with nested dropout: each step decodes
# only the first k tokens, k drawn at random, so early tokens must carry the most.
#
# This notebook
#
# 1. trains a tiny flex1d live, on the CPU, for a minute or two (a few seconds under `TOKENWORKS_FAST=1`),
# 2. loads the shipped `image/flex1d-emoji64` (or, if it has not been trained here, uses the tiny one),
# 3. decodes the coarse-to-fine strip k = 1, 2, 4, ..., T,
# 4. measures PSNR against k, and bytes against JPEG and WebP at equal bytes, then searches
#    better tokens for the same decoder (refined encoding),
# 5. compares where a token *looks* (its encoder attention) with what it *changes* (replace it and
#    see which pixels move).
#
# The computations are in `tokenworks.image.inspect`, `tokenworks.image.train` and
# `tokenworks.image.evaluate`, the figures in `tokenworks.viz.image`.

# %%
import contextlib
import os
import sys
import tempfile
import time
from unittest import mock

import numpy as np
from IPython.display import display

import tokenworks as tw
import tokenworks.image.train as image_train
from tokenworks.image.codecs import budget_table, rd_curve
from tokenworks.image.evaluate import evaluate
from tokenworks.image.flex1d import bytes_for_tokens
from tokenworks.image.inspect import attention_maps, faithfulness, influence_maps, prefix_strip
from tokenworks.image.refine import RefineConfig, refine_encode
from tokenworks.metrics.rate import doubling_ks
from tokenworks.teach.quantizer_lab import images_or_shapes, synthetic_dataset
from tokenworks.train.common import StepTable
from tokenworks.viz.image import attention_figure, influence_figure, rd_figure, strip_figure

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
MINUTES = 0.1 if FAST else 1.5  # live training budget
N_EVAL = 16 if FAST else 64  # test images for the curves
N_STRIPS = 2 if FAST else 4  # images shown as strips
REFINE_STEPS = 3 if FAST else 30  # steps of refined encoding (section 4b)

# %% [markdown]
# ## Data
# The emoji64 data set (Noto Color Emoji glyphs, 64x64; its test split holds emoji groups that
# training never sees) needs the `noto-emoji` asset or its cache. Without them (as in CI, which
# fetches only the minimal assets) the notebook says so and uses synthetic coloured shapes
# instead: everything below still runs, on images that are not emoji.

# %%
test = images_or_shapes("emoji64", "test", fallback_n=max(N_EVAL, 64))
print("test images:", test.label)
if test.synthetic:
    print("NOTE:", test.note)

# %% [markdown]
# ## 1 · Train a tiny flex1d, live
# The `cpu-tiny` preset: width 64, 2 encoder and 2 decoder layers, T = 32 tokens of an FSQ
# codebook with V = 1000 (levels 8, 5, 5, 5), trained on 1,024 images with AdamW for a fixed
# wall-clock budget. `train_image` logs a JSON line every `log_every` steps, evaluates PSNR at each
# k on held-out images and saves a checkpoint folder (under `runs/`; a temporary folder under
# FAST). With no emoji data, the same trainer is handed synthetic shapes instead.

# %%
cfg = image_train.preset_config(
    "flex1d", "cpu-tiny", minutes=MINUTES, eval_limit=N_EVAL, log_every=25 if FAST else 200,
    data="emoji64" if not test.synthetic else "shapes64",
    out=tempfile.mkdtemp(prefix="flex1d-") if FAST else None,
)


# the trainer prints one JSON object per line; StepTable shows the step lines as a compact table
log = StepTable(sys.stdout, lambda e: f"training {e['params']:,} parameters on {e['train_images']} {e['data']} images ({e['device']})",
                [("step", "step", ">6"), ("train PSNR", "psnr_train", ">12.2f"), ("lr", "lr", ">10.5f"),
                 ("img/s", "img_per_s", ">8.0f"), ("seconds", "elapsed", ">9.1f")])

t0 = time.perf_counter()
with contextlib.redirect_stdout(log):
    if not test.synthetic:
        trained = image_train.train_image(cfg)
    else:  # the trainer reads data sets by name; hand it synthetic shapes under that name instead
        fake = {"train": synthetic_dataset("train", 1024), "test": synthetic_dataset("test", N_EVAL)}
        with mock.patch.object(image_train, "load_dataset", lambda name, split, limit=None: fake[split]):
            trained = image_train.train_image(cfg)
print(f"\n{trained.steps} steps in {trained.seconds:.0f} s (total {time.perf_counter() - t0:.0f} s), saved to {trained.folder}")
print("test PSNR (dB) by k:", trained.metrics["psnr_per_k"])

# %% [markdown]
# ## 2 · The shipped tokenizer
# `image/flex1d-emoji64` is the default checkpoint (T = 256 tokens, trained for about 8 minutes on
# one GPU, `data/checkpoints/image/flex1d-emoji64`). If it is not in this checkout yet,
# `tw.load` says which command trains it, and the rest of the notebook uses the tiny tokenizer
# trained above.

# %%
try:
    tok = tw.load("image/flex1d-emoji64")
    print("loaded the shipped", tok)
except tw.CheckpointNotFound as e:
    print("NOTE: the shipped image/flex1d-emoji64 checkpoint is missing here, so the rest of this notebook "
          "uses the tiny tokenizer just trained (expect blurry decodes).")
    print("      ", str(e).splitlines()[0])
    tok = trained.tokenizer
T, V, S = tok.num_tokens, tok.vocab_size, tok.image_size
print(f"T = {T} tokens, V = {V} codes ({np.log2(V):.2f} bits each), {S}x{S} images")

# %% [markdown]
# ## 3 · Coarse to fine
# Each panel decodes only the first k tokens of the same encoding. Its title gives the PSNR
# against the original and the bytes those k tokens take (k · log2 V bits, rounded up).

# %%
for i in range(N_STRIPS):
    display(strip_figure(prefix_strip(tok, test.images[i * 7 % len(test.images)])))

# %% [markdown]
# ## 4 · Quality against length, and against JPEG and WebP
# Mean PSNR over held-out images for every k (the same evaluation `train_image` runs). An ordered
# tokenizer should improve, or at least not get worse, as k doubles; `monotone_frac` is the share
# of images for which it never gets worse.

# %%
images = np.asarray(test.images[:N_EVAL])  # (N, S, S, 3)
m = evaluate(tok, images)
ks = doubling_ks(T)
psnr_k = [m["psnr_per_k"][str(k)] for k in ks]
bytes_k = [bytes_for_tokens(k, V) for k in ks]
print(f"{'k':>5}{'bytes':>7}{'PSNR dB':>9}")
for k, b, p in zip(ks, bytes_k, psnr_k):
    print(f"{k:>5}{b:>7}{p:>9.2f}")
print(f"PSNR never falls as k doubles for {m['monotone_frac']:.0%} of the images "
      f"({m['monotone_frac_0.1dB']:.0%} within 0.1 dB); codebook usage {m['codebook']['usage']:.0%} of {V} codes")

# %% [markdown]
# At equal bytes: each codec gets the same byte budget as k tokens (the highest quality that
# fits, by `codecs.encode_at_budget`), counted as header-free payload (the tokens carry no header
# either; whole files would add a few hundred bytes to each codec). At the smallest budgets the
# codecs cannot encode a 64x64 image at all; the table shows the share that fit.

# %%
budgets = sorted(set(b for b in bytes_k if b >= 8))
at_budget = {name: budget_table(images, name, budgets, count="payload") for name in ("jpeg", "webp")}


def cell(psnr_share):
    """'PSNR (share of images that fit)', or a dash when none fit."""
    p, share = psnr_share[0], psnr_share[1]
    return f"{p:.2f} ({share:.0%})" if share > 0 else "does not fit"


print(f"same {len(images)} images; codec PSNR is the mean over the images that fit the budget")
print(f"{'k':>5}{'bytes':>6}{'tokens dB':>11}{'JPEG dB (fit)':>16}{'WebP dB (fit)':>16}")
for k, b, p in zip(ks, bytes_k, psnr_k):
    if b in budgets:
        print(f"{k:>5}{b:>6}{p:>11.2f}{cell(at_budget['jpeg'][b]):>16}{cell(at_budget['webp'][b]):>16}")

# %% [markdown]
# The whole curves: each codec over a range of qualities (mean bytes and PSNR over the same
# images), the tokenizer over k. Where the token curve lies above a codec's, it gives more quality
# per byte.

# %%
curves = {name.upper(): rd_curve(images, name, [1, 5, 10, 20, 40, 70, 90], count="payload") for name in ("jpeg", "webp")}
rd_figure(curves, {tok.name: (bytes_k, psnr_k)}, pixels=S * S)

# %% [markdown]
# ### 4b · Refined encoding: the same decoder, better tokens
# The encoder is one forward pass that must serve every image; it leaves quality on the table.
# A codec's encoder may take its time (JPEG and WebP search per image, and the baselines above
# take the best quality that fits). `refine_encode` does the same for the tokenizer: it starts
# from the encoder's continuous token vectors and takes Adam steps on them to lower the decoder's
# error, with gradients passed straight through the rounding. The ids, the bytes and the decoder
# stay as they were. With `keep=None` it optimises every prefix on the strip at once (sum of
# log-MSE, plus a penalty whenever doubling k makes the image worse), so one sequence serves
# every budget; `keep=k` makes an encoding for one budget, as one JPEG quality setting does.

# %%
r = refine_encode(tok, images, RefineConfig(steps=REFINE_STEPS))
print(f"refined {len(images)} images in {r.seconds:.1f} s ({REFINE_STEPS} steps)")
print(f"{'k':>5}{'bytes':>7}{'one pass dB':>13}{'refined dB':>12}")
for j, k in enumerate(r.ks):
    print(f"{k:>5}{bytes_for_tokens(k, V):>7}{r.psnr_before[:, j].mean():>13.2f}{r.psnr_after[:, j].mean():>12.2f}")
for label, P in (("one pass", r.psnr_before), ("refined", r.psnr_after)):
    print(f"{label}: PSNR never falls as k doubles for {(np.diff(P, axis=1) >= 0).all(1).mean():.0%} of the images")
rd_figure(curves, {tok.name: (bytes_k, psnr_k), f"{tok.name} refined": (bytes_k, list(r.psnr_after.mean(0)))},
          pixels=S * S)

# %% [markdown]
# ## 5 · Where a token looks, and what it changes
# A 1D token has no pixel box: all tokens span the whole image. Two ways to place one:
#
# - **attention**: the encoder's attention from the token's slot to the image patches (averaged
#   over heads and layers);
# - **influence**: replace the token by the code farthest from it and decode; the map is how much
#   each pixel moves.
#
# Attention says what the encoder read; influence says what the decoder does with the token. The
# Spearman correlation between the two maps (`faithfulness`) measures how far attention can be
# trusted as an explanation.

# %%
img = tok.prepare(test.images[0]).array  # (S, S, 3) what the model sees
att = attention_maps(tok, img)  # (T, S, S)
tokens = list(range(T)) if (T <= 64 or not FAST) else [0, 1, 2, 3, 8, 16, 32, 64, 128, T - 1]
inf = influence_maps(tok, img, tokens)  # (n, S, S)
faith = faithfulness(att[tokens], inf)
print(f"attention vs influence, Spearman: mean {faith.mean:.2f} over {len(tokens)} tokens")
print("per token:", {t: round(float(r), 2) for t, r in list(zip(tokens, faith.per_token))[:10]})
print("mean |pixel change| per token (first 10):", {t: round(float(x.mean()), 2) for t, x in list(zip(tokens, inf))[:10]})

# %%
token = 0
display(attention_figure(img, att, token))
display(influence_figure(img, inf, token, faithfulness=faith, tokens=tokens))

# %%
late = tokens[len(tokens) // 2]
display(attention_figure(img, att, late))
display(influence_figure(img, inf, late, faithfulness=faith, tokens=tokens))

# %% [markdown]
# ### Try it yourself
# With ipywidgets (and outside CI): a slider over k decodes any prefix of the first test image.

# %%
try:
    import ipywidgets as widgets
except ImportError:
    widgets = None
if FAST or widgets is None:
    print("widgets skipped (TOKENWORKS_FAST=1 or ipywidgets missing)")
else:
    def show(k=T):
        display(strip_figure(prefix_strip(tok, img, [k])))

    widgets.interact(show, k=widgets.IntSlider(min=1, max=T, value=min(16, T)))
