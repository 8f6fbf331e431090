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
# # 03 · Vector quantization from scratch
#
# Every image and audio tokenizer in tokenworks ends in a **quantizer**: continuous vectors in,
# a few integers out. This notebook builds the idea up in a setting small enough to see every
# code: a tiny autoencoder on **2-D points** (and, at the end, on 4x4 **image patches**),
#
# ```
# x (2-D point) -> MLP encoder -> z (2-D) -> quantizer -> q (one of V = 64 codes) -> MLP decoder -> x̂
# ```
#
# 1. nearest-code assignment: each code owns a Voronoi cell;
# 2. the straight-through estimator: how gradients cross a rounding step;
# 3. codebook collapse, happening live: a bad initialisation and plain gradient VQ leave most codes dead;
# 4. the fixes, measured side by side: k-means init, EMA updates, dead-code restart, l2-normalised
#    (cosine) codes, and FSQ / LFQ, which have no code vectors to strand;
# 5. the same on image patches, with the codebook decoded into little tiles.
#
# The logic lives in `tokenworks.teach.quantizer_lab` (built on the library's own `VQ`, `FSQ`, `LFQ`
# and `CodebookHealth`); the figures in `tokenworks.viz.quantizers`. `TOKENWORKS_FAST=1` (used
# in CI) runs fewer steps and skips the widgets; everything else is the same.

# %%
import os
import time

import numpy as np
from IPython.display import display

from tokenworks.teach.quantizer_lab import (
    METHODS,
    LabConfig,
    assign,
    compare,
    decoded_codebook,
    image_patches,
    images_or_shapes,
    make_points,
    patches_to_images,
    straight_through_demo,
    summary_rows,
    train_lab,
)
from tokenworks.viz.quantizers import (
    code_counts_figure,
    codebook_tiles_figure,
    final_usage_figure,
    health_figure,
    ste_figure,
    voronoi_figure,
    voronoi_steps_figure,
)

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
STEPS = 600 if FAST else 2000  # optimizer steps per run on the points (about 1 s per 600 steps)
PATCH_STEPS = 300 if FAST else 1500


def table(rows):
    """Print summary rows as a small aligned table."""
    print(f"{'method':<9}{'usage':>7}{'entropy':>9}{'perplexity':>12}{'dead':>6}{'test MSE':>10}")
    for r in rows:
        print(f"{r['method']:<9}{r['usage']:>7.0%}{r['entropy']:>9.2f}{r['perplexity']:>12.1f}{r['dead']:>6}{r['recon_mse']:>10.4f}")


# %% [markdown]
# ## 1 · Nearest-code assignment
# A codebook is a table of V vectors. Quantizing a vector means replacing it by its **nearest**
# code, so each code owns the region of space closer to it than to any other code: its
# **Voronoi cell**. Below, 16 codes placed by hand over 13 blobs of points. Codes whose cell holds
# no point are *dead*: they cost a slot in the vocabulary and are never emitted.

# %%
blobs = make_points("blobs", n=2000, seed=0)
rng = np.random.default_rng(0)
hand_codes = rng.uniform(-1.6, 1.6, size=(16, 2)).astype(np.float32)  # (V=16, 2)
a = assign(blobs.test, hand_codes)
print("points per code:", a.counts.tolist())
print(f"{(a.counts > 0).sum()} of 16 codes used; mean squared distance to the nearest code {a.distances.mean():.3f}")
voronoi_figure(hand_codes, blobs.test.numpy(), a.counts, title="16 hand-placed codes over 13 blobs")

# %% [markdown]
# ## 2 · The straight-through estimator
# The quantizer's output is piecewise constant in z: moving z a little does not change which code
# wins, so its gradient is zero almost everywhere and the encoder would never learn. The
# straight-through estimator (van den Oord et al., 2017) uses the code forwards and the identity
# backwards:
#
# ```python
# q = z + (e - z).detach()    # value e (the code), gradient d q / d z = 1
# ```
#
# so the encoder receives the gradient the decoder computed *at the code*. With scalar rounding
# as the quantizer (FSQ's step), the left panel is what the decoder sees, the right panel the
# gradient of (q - 0.3)² that reaches z: zero through `torch.round`, and 2 (round(z) - 0.3)
# through the straight-through estimator (constant on each step: it is evaluated at the code).

# %%
ste_figure(straight_through_demo(target=0.3))

# %% [markdown]
# ## 3 · Codebook collapse, happening
# Now train the autoencoder on points spread uniformly over a square, with V = 64 codes, the
# way the first VQ-VAE did: the codebook is learned by gradient descent on the codebook loss
# ‖sg(z) − e‖², the encoder by the reconstruction loss through the straight-through estimator plus
# a commitment loss 0.25 ‖z − sg(e)‖².
#
# The initialisation is deliberately bad, and realistically so: codes drawn from N(0, 6²) while
# the untrained encoder's outputs all sit within about 0.2 of the origin (a scale mismatch is
# the usual way this happens). Only codes near the data ever win a vector, and a code that never
# wins gets **no gradient** from the codebook loss, so it never moves towards the data. Health is
# measured on 2,048 held-out points every 20 steps with `CodebookHealth`: usage (fraction of codes
# used), normalised entropy H / log V, perplexity exp(H) (the effective number of codes) and dead codes.

# %%
square = make_points("square", seed=0)
t0 = time.perf_counter()
plain = train_lab(LabConfig(method="vq", steps=STEPS), square)
print(f"{STEPS} steps in {time.perf_counter() - t0:.1f} s")
print(f"{'step':>5}{'usage':>8}{'entropy':>9}{'perplexity':>12}{'dead':>6}{'test MSE':>10}")
every = max(1, len(plain.history) // 8)
for s in plain.history[::every] + ([plain.final] if (len(plain.history) - 1) % every else []):
    print(f"{s.step:>5}{s.usage:>8.0%}{s.entropy:>9.2f}{s.perplexity:>12.1f}{s.dead:>6}{s.recon_mse:>10.4f}")

# %% [markdown]
# The cells at each snapshot (drag the slider; it is plotly's own, no widgets needed). Black dots
# are codes in use, red crosses dead codes; the grey dots are the encoder's outputs for test
# points. The encoder stretches its outputs to reach a few more codes, but a code nobody wins
# never moves: the red crosses stay exactly where the initialisation put them.

# %%
voronoi_steps_figure(plain.snapshots, title="plain VQ")

# %% [markdown]
# ## 4 · The fixes, side by side
# Same data, same seed, same number of steps; only the quantizer recipe changes
# (`tokenworks.teach.quantizer_lab.METHODS`, each a set of `VQConfig` options or another quantizer):

# %%
for name, m in METHODS.items():
    print(f"{name:<8} {m.description}")

# %%
order = ["vq", "kmeans", "ema", "restart", "cosine", "all", "fsq", "lfq"]
t0 = time.perf_counter()
runs = compare(order, square, LabConfig(steps=STEPS))
print(f"{len(runs)} runs of {STEPS} steps in {time.perf_counter() - t0:.1f} s")
table(summary_rows(runs))

# %%
health_figure(runs, title="codebook health on the test points, per step")

# %%
final_usage_figure(runs, title=f"after {STEPS} steps")

# %%
code_counts_figure(runs)

# %% [markdown]
# How each fix works, and what to read in the curves:
#
# - **k-means init** (Jukebox, SoundStream) throws the bad initialisation away: the codes start as
#   k-means centres of the first batch of encoder outputs, so every code starts inside the data.
#   The encoder still moves afterwards, and codes that fall behind can still die later.
# - **EMA updates** (VQ-VAE-2) replace the codebook gradient by a running mean of the vectors each
#   code wins. That alone does not revive a code nobody picks, but the EMA keeps a count and a
#   sum per code, both decaying by 0.95 each step; once a dead code's count has decayed below the
#   Laplace smoothing (about 220 steps), its vector shrinks to the origin, which is inside this
#   data, and the dead codes come back one by one. With data away from the origin they would not:
#   read the `ema` curve as a delayed, lucky recovery, not a guarantee.
# - **dead-code restart** is the direct fix: a code unused for 20 steps is moved onto an encoder
#   output of the current batch (drawn in proportion to its quantization error), so the curve
#   jumps within the first few dozen steps.
# - **cosine codes** (ViT-VQGAN) l2-normalise both the codes and the encoder outputs: the scale
#   mismatch that caused the collapse is gone, every code is a direction, all directions are
#   used. The price shows in the test MSE: on a 2-D latent only the angle survives, so the
#   decoder cannot tell near from far points (in higher dimensions the loss is smaller).
# - **FSQ** rounds each latent dimension to one of 8 levels: the 64 codes are a fixed 8x8 grid
#   and there are no code vectors that could be left behind. Usage only depends on how far the
#   encoder spreads its outputs over the grid.
# - **LFQ** takes the signs of 6 latent dimensions (2⁶ = 64 codes) with an entropy loss that
#   spreads the batch over codes. Here its usage is low for a geometric reason, not a collapse:
#   a 2-D set of points mapped into 6-D reaches only some of the 64 sign patterns (6 straight
#   lines cut a plane into at most 22 regions, so an affine encoder could reach at most 22 codes;
#   the MLP bends the plane and slowly reaches a few more). On 48-dimensional image patches below
#   it has room.

# %% [markdown]
# The cells after training, for the runs that have a 2-D codebook:

# %%
for name in ("kmeans", "ema", "restart", "cosine", "fsq"):
    snap = runs[name].snapshots[-1]
    display(voronoi_figure(snap.table, snap.latents, snap.counts, cosine=runs[name].method.vq.get("cosine", False),
                           title=f"{name}: {int((snap.counts > 0).sum())}/64 codes used", resolution=110))

# %% [markdown]
# ### Try it yourself
# With ipywidgets (and outside CI), pick a method and a step; the figure redraws from the
# snapshots saved during training. Without ipywidgets this cell just says so.

# %%
try:
    import ipywidgets as widgets
except ImportError:
    widgets = None
if FAST or widgets is None:
    print("widgets skipped (TOKENWORKS_FAST=1 or ipywidgets missing): the slider figures above show the same snapshots")
else:
    def show(method="vq", snapshot=5):
        run = runs[method]
        if run.snapshots[0].table is None:
            print(f"{method} has no 2-D code table to draw (LFQ codes live in 6-D)")
            return
        s = run.snapshots[min(snapshot, len(run.snapshots) - 1)]
        display(voronoi_figure(s.table, s.latents, s.counts, cosine=run.method.vq.get("cosine", False),
                               title=f"{method} at step {s.step}"))

    widgets.interact(show, method=order, snapshot=widgets.IntSlider(min=0, max=len(plain.snapshots) - 1, value=len(plain.snapshots) - 1))

# %% [markdown]
# ## 5 · Image patches
# The same lab on 4x4 RGB patches (48 numbers each) cut from images: the encoder maps a patch to
# a 2-D latent, a code stands for a kind of patch. Test patches come from images that training
# never saw. The images are the emoji64 test split when its data set is here; without the emoji
# asset (as in CI) the library draws synthetic shapes instead and says so.

# %%
src = images_or_shapes("emoji64", "test", fallback_n=200)
print("images:", src.label)
if src.synthetic:
    print("note:", src.note)
patches = image_patches(src.images, patch=4, n=8192, test=2048, seed=0, name=src.label.split(" (")[0])
t0 = time.perf_counter()
patch_runs = compare(["vq", "ema", "restart", "all", "fsq", "lfq"], patches, LabConfig(steps=PATCH_STEPS))
print(f"{len(patch_runs)} runs of {PATCH_STEPS} steps in {time.perf_counter() - t0:.1f} s")
table(summary_rows(patch_runs))

# %%
health_figure(patch_runs, metrics=("usage", "perplexity"), title=f"4x4 patches of {src.label}")

# %% [markdown]
# What each code decodes to, most used first (faded tiles: dead codes). The collapsed codebook
# has a handful of live codes for the commonest patches (background and a few flat colours);
# the healthy one spends all 64 on a much wider range of colours and shades. (A 2-D latent per
# patch is a severe bottleneck: the tiles are nearly flat. The image tokenizers give each token
# more dimensions and many tokens per image.)

# %%
for name in ("vq", "all"):
    run = patch_runs[name]
    tiles = patches_to_images(decoded_codebook(run), 4)  # (V, 4, 4, 3)
    display(codebook_tiles_figure(tiles, run.health.levels[0].counts,
                                  title=f"{name}: {run.final.dead} dead codes, perplexity {run.final.perplexity:.1f}"))

# %% [markdown]
# ## Where these live in the library
# - `tokenworks.quantizers.VQ` has every VQ fix as a `VQConfig` option (`kmeans_init`, `ema`,
#   `dead_code_steps`, `cosine`, `code_dim` for factorised codes); its defaults are the `all` recipe.
# - `FSQ`, `LFQ`, `GLFQ` and `RVQ` share the same interface; `CodebookHealth` measures any of them
#   over a whole data set.
# - The lab itself: `tokenworks.teach.quantizer_lab` (`train_lab`, `compare`, `assign`,
#   `straight_through_demo`); the figures: `tokenworks.viz.quantizers`.
