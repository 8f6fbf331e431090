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
# # 09 · Which tokenizer makes the better model?
#
# Every other notebook measures tokenizers on their own: bytes per token, fertility, parity. The
# question people bring is different: **does this tokenizer make a better language model, at the
# same compute?** The only fair answer is to train the same model with each tokenizer and compare
# them on held-out text. This notebook does that on a laptop.
#
# 1. **Why bits per byte**, not loss per token.
# 2. **The FLOPs accounting** that makes the budget equal.
# 3. **Two contestants trained live**: raw bytes against a byte-level BPE trained here.
# 4. **The full leaderboard** of a finished tournament: bytes, BPE at three sizes, Unigram,
#    SuperBPE, a byte model that learns to delete positions (MrT5-style) and one that pools bytes
#    into words.
#
# Everything comes from `tokenworks.lm.tiny` (the CLI `tokenworks lm tournament` runs the same
# code). `TOKENWORKS_FAST=1` (used in CI) trains the two live contestants for fewer FLOPs.

# %%
import contextlib
import os
import sys
import time

import numpy as np
import pandas as pd
from IPython.display import HTML, display

import tokenworks as tw
from tokenworks.lm.tiny.config import TinyConfig
from tokenworks.lm.tiny.data import encode_split, load_text
from tokenworks.lm.tiny.flops import block_flops, head_flops, plain_forward, pooled_forward
from tokenworks.lm.tiny.leaderboard import read_leaderboard
from tokenworks.lm.tiny.tokenizers import train_contestant_tokenizer
from tokenworks.lm.tiny.train import train_tiny
from tokenworks.lm.tiny.train_config import preset_config
from tokenworks.paths import data_dir
from tokenworks.train.common import StepTable
from tokenworks.viz.tournament import leaderboard_figure

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
T_START = time.perf_counter()

# %% [markdown]
# ## 1. Why bits per byte
#
# A model's loss is nats per *token*. A tokenizer with longer tokens has fewer of them per text,
# so each one carries more information and costs more bits: per-token loss rises even when the
# model is better. Bits per **byte** divide the total bits of a text by its bytes, a number that
# does not depend on the cut. Below, the same held-out paragraph cut by three tokenizers:

# %%
test = load_text("english", "test", 20_000)
bpe = train_contestant_tokenizer("bpe", 1024, load_text("english", "train", 300_000), "/tmp/tw-nb09-bpe1k")
rows = []
for name, tok in [("bytes", tw.load("text/bytes")), ("bpe-1k (trained here)", bpe.tokenizer),
                  ("cl100k_base", tw.load("text/cl100k_base"))]:
    enc = encode_split(tok, test)
    rows.append((name, enc.n_tokens, enc.n_bytes, round(enc.bytes_per_token, 2)))
display(pd.DataFrame(rows, columns=["tokenizer", "tokens", "bytes", "bytes per token"]))
print("A model at 2.0 bits per byte spends", ", ".join(f"{2.0 * r[3]:.1f} bits per token with {r[0]}" for r in rows))

# %% [markdown]
# ## 2. The FLOPs accounting
#
# Every contestant gets the same **training FLOPs**, counted from the shapes each step runs on
# (`tokenworks.lm.tiny.flops`): a multiply-add is 2 FLOPs; per position and block, the four
# attention projections cost 8 C², the MLP 4 C F, attention over a span of T positions 4 T C; the
# output layer 2 C V; a training step is 3 forward passes. Here is the hand count for one tiny
# config, against the code:

# %%
cfg = TinyConfig(input="tokens", vocab_size=10, seq_len=4, d_model=8, n_head=2, d_ff=16, n_layer=2)
per_block = 8 * 8**2 + 4 * 8 * 16 + 4 * 4 * 8  # per position: projections, MLP, attention
hand = 2 * 4 * per_block + 4 * 2 * 8 * 10  # 2 blocks x 4 positions, then the output layer
print(f"by hand {hand:,} FLOPs; by the code {plain_forward(cfg, 1, 4).total:,}")
assert hand == plain_forward(cfg, 1, 4).total

# %% [markdown]
# The budget then buys different numbers of steps. A big vocabulary pays for its output layer at
# every position; bytes pay for long windows (a window must cover the same text); the word model
# runs its middle blocks on one position per word, so it gets more steps:

# %%
cpu = preset_config("cpu").model
C, F = cpu["d_model"], cpu["d_ff"]
rows = []
for name, inp, V, T in [("bytes", "bytes", 257, 256), ("bpe-1k", "tokens", 1025, 256 // 2.7),
                        ("bpe-16k", "tokens", 16385, 256 // 4.1), ("words (1 of 5.3 bytes kept)", "words", 257, 256)]:
    c = TinyConfig(input=inp, vocab_size=V, seq_len=256, **cpu)
    f = (pooled_forward(c, 8, 256, middle=int(256 / 5.3), soft=False) if inp == "words"
         else plain_forward(c, 8, int(T)))
    rows.append((name, int(T), f"{3 * f.total:.3g}", f"{f.head / f.total:.0%}", int(1.2e13 // (3 * f.total))))
display(pd.DataFrame(rows, columns=["contestant", "positions per window", "FLOPs per step (8 windows)",
                                    "output layer share", "steps for 1.2e13 FLOPs"]))

# %% [markdown]
# ## 3. Two contestants, trained live
#
# The same model (the cpu-tiny preset here), the same training text and budget, two ways of
# reading it. Each table row is the mean over the last steps; `bits_per_token` is the training
# loss. Then both are scored on held-out text (Jane Austen's *Persuasion*, never trained on).

# %%
budget = 6e10 if FAST else 3e11
results = {}
for name, inp, tok in [("bytes", "bytes", ""), ("bpe-1k", "tokens", bpe.folder)]:
    c = preset_config("cpu-tiny", input=inp, tokenizer=str(tok), flops=budget, out=f"/tmp/tw-nb09-{name}",
                      train_bytes=300_000, eval_bytes=20_000)
    table = StepTable(sys.stdout, lambda e: f"{e['contestant']}: {e['steps']} steps, window {e['seq_len']} ids",
                      [("step", "step", ">6d"), ("bits/token", "bits_per_token", ">12.3f"),
                       ("bytes/s", "items_per_s", ">10.0f")])
    with contextlib.redirect_stdout(table):
        results[name] = train_tiny(c)
display(pd.DataFrame([(n, r.steps, f"{r.flops:.3g}", round(r.score.bits_per_token, 3), round(r.score.bits_per_byte, 3))
                      for n, r in results.items()],
                     columns=["contestant", "steps", "training FLOPs", "held-out bits/token", "held-out bits/byte"]))

# %% [markdown]
# ## 4. The full leaderboard
#
# `tokenworks lm tournament --preset cpu` trains every contestant with two seeds on English prose
# and on a multilingual mix (UDHR in 36 languages, Austen, Python's documentation), over an
# hour on two CPU cores. The repository ships the leaderboard of one such run; a run of your own
# writes the same files (`leaderboard.csv`, `leaderboard.json`, `leaderboard.png`).

# %%
board = read_leaderboard(data_dir() / "tournament" / "cpu")
print(f"{board.config['preset']} preset, {board.date}, {board.machine}, {board.seconds / 60:.0f} min")
display(pd.DataFrame([(r.corpus, r.rank, r.contestant, f"{r.bits_per_byte:.4f} ± {r.spread:.4f}",
                       round(1 / r.tokens_per_byte, 2), f"{r.train_flops:.3g}",
                       "" if r.kept_share is None else f"{r.kept_share:.0%}",
                       "" if r.spelling is None else f"{r.spelling:.0%}") for r in board.rows],
                     columns=["corpus", "rank", "contestant", "bits/byte", "bytes/token", "FLOPs", "kept", "spelling"]))
leaderboard_figure(board)

# %% [markdown]
# What to look for: at this small budget the tokenizers' shorter sequences buy the model more
# text per FLOP; the word model wins back much of that for bytes by running its middle blocks on
# one position per word; the delete model shows what a gate learns when it must choose positions
# itself. The robustness columns (`leaderboard.csv`, `robust_*`) show the other side: a tokenizer
# that cuts `Ｈello` into unseen pieces pays for it.

# %%
print(f"notebook ran in {time.perf_counter() - T_START:.0f} s{' (TOKENWORKS_FAST=1)' if FAST else ''}")
