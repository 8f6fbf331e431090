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
# # 06 · A training session
#
# Every tokenizer in tokenworks trains through one loop (`tokenworks.train.loop`): a generator
# that yields **events** (`StepEvent` every few steps with the losses, learning rate, codebook
# statistics, throughput and ETA; `CheckpointEvent` when it writes `last/` or `best/`;
# `DoneEvent` at the end). The app's Train tab and this notebook consume the same events.
#
# This notebook
#
# 1. trains the `cpu-tiny` grid VQ image tokenizer live, with a progress bar, an ETA, a loss and
#    codebook-usage plot redrawn as the steps come in, and a **Stop** button wired to the
#    loop's stop flag,
# 2. stops a run part-way and **resumes** it from its last checkpoint,
# 3. inspects the trained model with the views of notebooks 03 and 04 (reconstructions, token
#    grid, codebook usage),
# 4. trains a small byte-level BPE and a SuperBPE through the same kind of events, and plots the
#    training corpus's bytes per token as merges are learned,
# 5. runs two image runs as jobs through the run registry (what the Train tab does), queued one
#    behind the other, and compares their curves.
#
# The loop lives in `tokenworks.train.loop`, the trainers in `tokenworks.image.train` and
# `tokenworks.text.train`, the live view in `tokenworks.train.watch`, the figures in
# `tokenworks.viz.train`. `TOKENWORKS_FAST=1` (used in CI), or no ipywidgets, runs short runs and
# prints a table instead of the widgets. Runs are written under `runs/notebook06/` (a temporary
# folder under FAST), never into `data/`.

# %%
import contextlib
import os
import sys
import tempfile
import threading
from pathlib import Path
from unittest import mock

from IPython.display import HTML, display

import tokenworks.image.train as image_train
from tokenworks.image.inspect import codebook_gallery, prefix_strip, usage_counts, usage_health
from tokenworks.paths import runs_dir
from tokenworks.teach.quantizer_lab import images_or_shapes, synthetic_dataset
from tokenworks.text.train import TextTrainRequest, iter_train_text
from tokenworks.train.common import StepTable
from tokenworks.train.loop import CheckpointEvent, DoneEvent, StepEvent
from tokenworks.train.watch import Watch, drain
from tokenworks.viz.image import gallery_figure, strip_figure, token_grid_figure, usage_figure
from tokenworks.viz.text import tokens_html
from tokenworks.viz.train import compare_runs, metric_names, training_dashboard

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
try:
    import ipywidgets  # noqa: F401
    LIVE = not FAST
except ImportError:
    LIVE = False
RUNS = Path(tempfile.mkdtemp(prefix="tw-06-")) if FAST else runs_dir() / "notebook06"
print(f"runs go to {RUNS}; live widgets: {LIVE}")

# %% [markdown]
# ## Data
# The grid preset trains on emoji32 (Noto Color Emoji glyphs at 32x32), which needs the
# `noto-emoji` asset or its cache. Without them (as in CI) synthetic coloured shapes stand in,
# for training and for resuming alike, and the notebook says so.

# %%
test = images_or_shapes("emoji32", "test", fallback_n=64)
DATA = "emoji32"
print("test images:", test.label)
if test.synthetic:
    print("NOTE:", test.note)
    DATA = "shapes32"
    sizes = {"train": 1024, "test": 64}

    def fake_load(name, split, limit=None):
        """synthetic_dataset in place of the data set the trainer asks for (``limit`` images)."""
        return synthetic_dataset(split, min(limit or sizes[split], sizes[split]), size=32)

    # the trainer reads data sets by name: hand it the shapes under that name, for every run below
    mock.patch.object(image_train, "load_dataset", fake_load).start()

# %% [markdown]
# ## 1 · Train live
# `iter_train_image(cfg, stop=...)` is the image trainer as a generator: it yields the loop's
# events, then evaluates on the test split, saves the tokenizer and returns a `TrainResult`.
# With `checkpoint_every`, the run folder (`<out>.run/`) gets `last/` (weights, optimizer, RNG
# states, step) every so many steps and when the run ends, so a stopped run can go on later.
#
# With widgets, the run goes in a background thread so that the **Stop** button is heard while
# it trains; the next cell waits for it. (Run this cell on its own to use Stop: with "Run all"
# the next cell is already waiting.) Under FAST, a short run prints a table of the step lines.

# %%
if FAST:  # a few seconds: 40 steps on 256 images, 2 threads
    run_cfg = dict(steps=40, minutes=0, train_limit=256, eval_limit=32, threads=2, log_every=5, checkpoint_every=10)
else:  # the preset's real length (6000 steps or 2 minutes), logged more often for the live plot
    run_cfg = dict(log_every=25, checkpoint_every=500)
cfg = image_train.preset_config("grid", "cpu-tiny", data=DATA, out=str(RUNS / "grid-live"), **run_cfg)
print(f"grid cpu-tiny on {DATA}: up to {cfg.steps:,} steps"
      + (f" or {cfg.minutes} minutes" if cfg.minutes else "") + f", batch {cfg.batch_size}, lr {cfg.lr}")

# the trainer prints one JSON line per event; StepTable shows the step lines as a compact table
table = StepTable(sys.stdout, lambda e: f"training {e['params']:,} parameters on {e['train_images']} {e['data']} images",
                  [("step", "step", ">6"), ("loss", "loss", ">9.4f"), ("train PSNR", "psnr_train", ">11.2f"),
                   ("usage", "q_usage", ">7.2f"), ("perplexity", "q_perplexity", ">11.1f"),
                   ("img/s", "img_per_s", ">8.0f"), ("ETA s", "eta_s", ">7.1f")])

if LIVE:
    watch = Watch("grid cpu-tiny, live", refresh_s=2.0)
    display(watch)
    watch.start(image_train.iter_train_image(cfg, stop=watch.stop))
else:
    with contextlib.redirect_stdout(table):
        live = drain(image_train.iter_train_image(cfg))

# %%
if LIVE:
    live = watch.wait()
print(f"{live.steps} steps in {live.seconds:.0f} s ({live.reason}); test PSNR {live.metrics['psnr']:.2f} dB, "
      f"codebook usage {live.metrics['codebook']['usage']:.0%}; saved to {live.folder}")
print("resumable run folder:", live.run_dir, "->", sorted(p.name for p in live.run_dir.iterdir()))
training_dashboard(live.history, title="grid cpu-tiny")

# %% [markdown]
# The step records are plain dicts (the JSON lines); `metric_names` lists what a run reports,
# for choosing a curve.

# %%
print(metric_names(live.history))

# %% [markdown]
# ## 2 · Stop, then resume
# A second run with a checkpoint every few steps. Its stop flag (a `threading.Event`, the same
# one the Stop button sets) is set from the event stream at half the steps; the loop finishes the
# step in progress, writes `last/` and ends with `DoneEvent(reason="stopped")`.
# `resume(run_dir)` reads `last/` (weights, optimizer state, step, RNG states, the saved config)
# and goes on to the end. Without a minutes budget, on the CPU, the resumed run ends with the same
# weights as one never interrupted (`tests/train/test_loop.py` checks that).

# %%
steps = 40 if FAST else 600
every = 10 if FAST else 100
small = dict(train_limit=256, eval_limit=32, threads=2) if FAST else {}
cfg2 = image_train.preset_config("grid", "cpu-tiny", data=DATA, out=str(RUNS / "grid-resume"), steps=steps,
                                 minutes=0, log_every=5 if FAST else 25, checkpoint_every=every, **small)
stop = threading.Event()


def stop_half_way(ev):
    """Set the stop flag once half the steps are done; say when checkpoints are written."""
    if isinstance(ev, StepEvent) and ev.step >= steps // 2:
        stop.set()
    if isinstance(ev, CheckpointEvent):
        print(f"  checkpoint {ev.kind}/ at step {ev.step}")
    if isinstance(ev, DoneEvent):
        print(f"  done: {ev.reason} after {ev.steps} steps")


with contextlib.redirect_stdout(table):
    first = drain(image_train.iter_train_image(cfg2, stop=stop), on_event=stop_half_way)
print(f"first part: {first.steps} steps ({first.reason}); last/ is in {first.run_dir}")

# %%
with contextlib.redirect_stdout(table):
    second = image_train.resume(first.run_dir)
print(f"resumed from step {first.steps}: went on to step {second.steps} ({second.reason}); "
      f"test PSNR {second.metrics['psnr']:.2f} dB")
compare_runs({"before the stop": first.history, "after resume": second.history}, metric="loss")

# %% [markdown]
# ## 3 · The trained model, through the usual views
# The tokenizer of the live run: decodes of held-out images (a grid tokenizer has no prefixes,
# so the strip is the original and its reconstruction), the code id of every cell, how evenly
# the codebook is used (histogram and rank-frequency), and the most used codes with the image
# regions that chose them.

# %%
tok = live.tokenizer
img = test.images[0]
display(strip_figure(prefix_strip(tok, img)))
display(token_grid_figure(tok, img, tok.encode(img).ids))

# %%
images = test.images[:32 if FAST else 64]
counts = usage_counts(tok, images)
rep = usage_health(counts)
print(f"{rep.levels[0].usage:.0%} of {tok.vocab_size} codes used on {len(images)} test images, "
      f"perplexity {rep.levels[0].perplexity:.1f}")
display(usage_figure(counts))
gallery_figure(codebook_gallery(tok, images, n=16 if FAST else 32))

# %% [markdown]
# ## 4 · Text tokenizers through the same events
# `iter_train_text` trains a text tokenizer as the same kind of generator. For tokenworks' own
# byte-level BPE trainer a step is one merge; each `StepEvent` carries the mean count of the
# pairs merged since the last event (`pair_count`, falling like a loss) and
# `train_bytes_per_token`: the training corpus's bytes over its tokens after that merge,
# computed exactly from the merge counts. SuperBPE's second stage lets merges cross spaces, so
# its curve bends upward where stage 2 begins. (HF tokenizers' trainers, WordPiece and
# Unigram, report only reading progress and heartbeats; their events say so.)

# %%
VOCAB = 600
text_runs = {}
for algo in ("bytebpe", "superbpe"):
    req = TextTrainRequest(algo=algo, vocab_size=VOCAB, corpus="stdlib", engine="tokenworks",
                           limit_mb=0.1 if FAST else 1.0, out=str(RUNS / f"stdlib-{algo}-{VOCAB}"))
    if LIVE:
        w = Watch(f"{algo}, {VOCAB} tokens", refresh_s=0.5)
        display(w)
        result = w.run(iter_train_text(req, stop=w.stop))
    else:
        result = drain(iter_train_text(req))
        h = result.history
        print(f"{algo}: {len(h)} step events; bytes/token after merge 1: {h[0]['train_bytes_per_token']:.3f}, "
              f"after merge {h[-1]['step']}: {h[-1]['train_bytes_per_token']:.3f}")
    text_runs[algo] = result
    print(f"{algo}: held-out {result.heldout.bytes_per_token:.3f} bytes/token, saved to {result.folder}")

compare_runs({algo: r.history for algo, r in text_runs.items()}, metric="train_bytes_per_token")

# %%
training_dashboard(text_runs["superbpe"].history, title=f"SuperBPE, {VOCAB} tokens, on Python source")

# %% [markdown]
# The learned tokens on a line of held-out-like code (hover a chip for its id and span):

# %%
code = "def greet(name):\n    return f'hello, {name}!'  # the same indentation again and again\n"
for algo, r in text_runs.items():
    seq = r.tokenizer.encode(code)
    print(f"{algo}: {len(seq)} tokens for {len(code.encode())} bytes")
    display(HTML(tokens_html(seq, code)))

# %% [markdown]
# ## 5 · The run registry: runs as jobs
# The Train tab does not train inside the app: it registers a run in `runs/train/<run id>/`
# (`tokenworks.train.runs`) and starts it as a job of its own (`tokenworks.train.jobs`), which
# holds the device while it trains; a run started meanwhile waits as *queued*. The job appends
# every event to the run's `events.jsonl`, so anything (the tab, this notebook, a shell) can follow
# it. The same from a shell: `python -m tokenworks.train image --model grid --preset cpu-tiny`,
# then `python -m tokenworks.train list | stop | resume | delete`.
#
# Two short runs, differing only in their quantizer (the grid model's VQ against FSQ), queued one
# behind the other, then their curves compared. (A registry of its own here, under the runs folder
# of this notebook.)

# %%
from tokenworks.train import jobs
from tokenworks.train import runs as R

os.environ["TOKENWORKS_RUNS"] = str(RUNS)  # the jobs find the registry through the environment
data_arg = "shapes32" if test.synthetic else DATA  # a job is a process of its own: a registered data set
steps = 60 if FAST else 1500
common = ["--model", "grid", "--data", data_arg, "--preset", "cpu-tiny",
          "--steps", str(steps), "--log-every", "10" if FAST else "50", "--threads", "2",
          "--train-limit", "256" if FAST else "1024", "--eval-limit", "16" if FAST else "64"]
queued = [jobs.submit("image", common + extra, {"model": "grid", "quantizer": q})
          for q, extra in (("vq", []), ("fsq", ["--set", 'quantizer="fsq"']))]
for info in queued:
    print(f"{info.id}: {R.read_run(info.folder).status}")
finished = [jobs.wait_for(info.id, ("done", "failed", "stopped"), timeout=600) for info in queued]
for r in R.list_runs():
    print(f"{r.id:52} {r.status:8} step {r.step}/{r.steps}  psnr {r.metrics.get('psnr', float('nan')):.2f} dB  "
          f"usage {r.metrics.get('codebook', {}).get('usage', float('nan')):.2f}")

# %%
compare_runs({f"{info.id.split('-image-')[0]} {q}": R.step_history(info.folder)
              for info, q in zip(queued, ("vq", "fsq"))}, metric="loss")
