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
# # 05 · Audio tokens
#
# Sound is 16,000 numbers a second. A tokenizer turns it into far fewer symbols from a fixed
# vocabulary, and a decoder turns those back into sound. This notebook goes from the simplest
# scheme to a small neural codec, and measures each one in **bits per second** against what
# is lost:
#
# 1. **mu-law**: one token per sample (8, 6 or 4 bits), a fixed logarithmic curve;
# 2. **mel units**: one token per 20 ms frame, by k-means on log-mel spectra, decoded with Griffin-Lim;
# 3. **a neural codec, trained live**: a cpu-tiny `audio/codec.py` on synthetic speech, its loss falling;
# 4. **residual vector quantization, level by level**: what each codebook removes from the latents;
# 5. **the bitrate ladder**: the shipped `audio/rvq-speech16k` decoded from k = 1..8 codebooks
#    (500 bit/s each), with players, against Opus and Codec2 at their own bitrates.
#
# The computations are in `tokenworks.audio` (`inspect`, `rate_quality`, `train`), the
# figures in `tokenworks.viz.audio`. The same numbers, on more clips, are in `make bench`
# (`tokenworks bench --only audio`).

# %%
import os

# Before torch loads: idle OpenMP threads sleep instead of spinning. On a CPU shared with other
# jobs, spinning threads can slow torch down a hundredfold; on an idle machine it changes nothing.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# %%
import contextlib
import sys
import tempfile
import time

import numpy as np
import plotly.graph_objects as go
from IPython.display import Audio, display

import tokenworks as tw
from tokenworks.audio import rate_quality as rq
from tokenworks.audio.benchmarks import heldout_speech, load_tokenizer
from tokenworks.audio.train import train_codec
from tokenworks.audio.train_config import preset_config
from tokenworks.audio.data import synth_speech
from tokenworks.audio.inspect import companding_curve, griffin_lim_bound, mulaw_depths, residual_levels
from tokenworks.audio.io import SAMPLE_RATE
from tokenworks.train.common import StepTable
from tokenworks.metrics.audio import mel_distance, si_sdr
from tokenworks.viz.audio import bitrate_quality, codebook_tokens, codebook_usage, waveform_spectrogram

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
N_EVAL = 2 if FAST else 8  # held-out clips for the quality table
TRAIN_STEPS = 60 if FAST else 400  # live codec training (a few seconds for 60 on two idle cores)
SR = SAMPLE_RATE


def player(wave, label):
    """A labelled audio player (clipped to [-1, 1], not normalised, so levels compare)."""
    print(label)
    display(Audio(np.clip(wave, -1, 1), rate=SR, normalize=False))


# %% [markdown]
# ## Data
# Held-out synthetic speech from `tokenworks.audio.data`: espeak-ng (many languages) and flite
# (English) saying UDHR articles 25-30, which no training clip says, half of it in voices that
# training never hears. It is synthesised on the spot (a few seconds); nothing is downloaded.

# %%
clips = heldout_speech(max(N_EVAL, 3), max_seconds=4.0)
for c in clips:
    print(f"{c.name:<24} {c.voice:<10} {c.language:<6} {'unseen voice' if c.unseen_voice else 'seen voice':<13} "
          f"{c.seconds:4.1f} s  {(c.text or '(cut: transcript dropped)')[:50]}")
english = next((c for c in clips if c.language.startswith("en")), clips[0])
x = english.wave  # (N,) float32 at 16 kHz
player(x, f"original: {english.name} ({len(x) / SR:.1f} s)")

# %% [markdown]
# ## 1 · mu-law: one token per sample
# Uniform quantization spends its levels evenly over [-1, 1], but speech lives mostly near 0. The
# mu-law curve (ITU G.711, mu = 255) squeezes amplitudes logarithmically first,
# y = sign(x) ln(1 + mu|x|) / ln(1 + mu), then quantizes y uniformly: small amplitudes get fine
# steps, loud ones coarse steps. At 4 bits the staircase is easy to see.

# %%
curves = {b: companding_curve(b) for b in (8, 4)}
fig = go.Figure()
fig.add_trace(go.Scatter(x=curves[8].x, y=curves[8].companded, name="mu-law y(x)", line=dict(width=2)))
fig.add_trace(go.Scatter(x=curves[4].x, y=curves[4].quantized, name="x after 4-bit mu-law", line=dict(shape="hv")))
fig.add_trace(go.Scatter(x=curves[4].x, y=curves[4].x, name="identity", line=dict(dash="dot", color="#999")))
fig.update_layout(title="mu-law companding (mu = 255) and its 4-bit staircase", xaxis_title="input amplitude x",
                  yaxis_title="output", width=700, height=420)
display(fig)
for b, cc in curves.items():
    print(f"{b} bits: smallest step {cc.steps_near_zero:.5f} near 0, largest {cc.steps_near_full_scale:.4f} near full scale")

# %% [markdown]
# Each bit per sample costs 16 kbit/s. SI-SDR (the signal-to-distortion ratio, in dB) gains about
# 6 dB per bit; mu-law beats uniform quantization at the same bits because speech is quiet most
# of the time.

# %%
depths = mulaw_depths(x, (8, 6, 4))
print(f"{'bits':>4}{'levels':>8}{'kbit/s':>8}{'SI-SDR mu-law':>15}{'SI-SDR uniform':>16}")
for d in depths:
    print(f"{d.bits:>4}{d.levels:>8}{d.bits_per_second / 1000:>8.0f}{d.si_sdr:>15.1f}{d.si_sdr_linear:>16.1f}")
for d in depths:
    player(d.wave, f"mu-law {d.bits} bits ({d.bits_per_second / 1000:.0f} kbit/s)")
mulaw = tw.load("audio/mulaw8")
seq = mulaw.encode((x, SR))
print("audio/mulaw8 ids", seq.ids.shape, "(K=1 codebook x one frame per sample); first ids:", seq.ids[0, :12])

# %% [markdown]
# ## 2 · Mel units: one token per 20 ms
# A log-mel spectrogram keeps 80 band energies per 20 ms frame and throws away the phase. A
# *unit* tokenizer replaces each frame by the nearest of V centroids found by k-means on training
# frames: 50 tokens/s of log2 V bits. Decoding looks the centroid up and has to invent a phase:
# Griffin-Lim. First the front end alone (no units), which bounds what units can reach:

# %%
bound = griffin_lim_bound(x)
print(f"log-mel {bound.log_mel.shape} (bands x frames); Griffin-Lim spectral convergence {bound.spectral_convergence:.3f}")
display(waveform_spectrogram(x, bound.wave, SR, title="log-mel -> Griffin-Lim, no quantization"))
player(bound.wave, "log-mel + Griffin-Lim (no units)")

# %% [markdown]
# Now the units. The shipped `audio/mel-units` (V = 500, fitted on minutes of training speech) is
# used when it is in this checkout; otherwise (and always under `TOKENWORKS_FAST=1`) a small one
# is fitted here on a few training clips, in seconds.

# %%
from tokenworks.audio.mel_units import MelUnitsConfig, MelUnitsTokenizer

mel_tok = None if FAST else load_tokenizer("audio/mel-units").tok
if mel_tok is None:
    train_waves = [c.wave for c in synth_speech(12 if FAST else 60, "train", seed=1)]
    mel_tok, report = MelUnitsTokenizer.fit(train_waves, MelUnitsConfig(units=64 if FAST else 256, kmeans_iters=20),
                                            name="mel-units (fitted here)")
    print(f"fitted {mel_tok.vocab_size} units on {report.frames} frames ({report.seconds_of_audio:.0f} s of training "
          f"speech) in {report.fit_seconds:.1f} s; k-means inertia {report.kmeans.inertia[0]:.2f} -> {report.kmeans.inertia[-1]:.2f}")
seq = mel_tok.encode((x, SR))
y_units, _ = mel_tok.decode(seq)
print(f"{mel_tok.name}: ids {seq.ids.shape}, {mel_tok.bits_per_second:.0f} bit/s; first units {seq.ids[0, :16]}")
print(f"mel distance: no units {mel_distance(x, bound.wave, SR):.3f}, with units {mel_distance(x, y_units[:len(x)], SR):.3f}")
display(codebook_tokens(seq.ids, mel_tok.frame_rate, mel_tok.vocab_size, title="mel units over time"))
player(y_units, f"mel units ({mel_tok.bits_per_second:.0f} bit/s)")

# %% [markdown]
# ## 3 · Train a tiny neural codec, live
# `audio/codec.py`: an STFT front end and ConvNeXt encoder make 50 latent vectors a second;
# residual VQ turns each into K = 8 codes; a ConvNeXt decoder with an inverse-STFT head makes
# the waveform back. The `cpu-tiny` preset (width 32, V = 64 codes per level) on about a
# minute of synthetic training speech (built once by `tokenworks.audio.data`, then cached). The
# loss is multi-resolution mel + STFT + complex-spectrum distance plus the VQ commitment loss;
# quantizer dropout trains it to decode from the first k levels alone.

# %%
cfg = preset_config("cpu-tiny", "rvq", steps=TRAIN_STEPS, log_every=5 if FAST else 25, eval_clips=1 if FAST else 6,
                    out=tempfile.mkdtemp(prefix="codec-tiny-"))


# train_codec prints one JSON object per line; StepTable shows the step lines as a compact table
log = StepTable(sys.stdout, lambda e: f"training {e['params']:,} parameters on {e['train_seconds']:.0f} s of speech ({e['device']})",
                [("step", "step", ">6"), ("loss", "loss", ">9.3f"), ("mel", "mel", ">8.3f"), ("levels", "levels", ">8"),
                 ("usage", "usage", ">7.2f"), ("seconds", "elapsed", ">9.1f")])

t0 = time.perf_counter()
with contextlib.redirect_stdout(log):
    trained = train_codec(cfg)
print(f"\n{trained.steps} steps in {trained.seconds:.0f} s (with data and evaluation {time.perf_counter() - t0:.0f} s)")
steps = [h["step"] for h in trained.history]
fig = go.Figure([go.Scatter(x=steps, y=[h["loss"] for h in trained.history], name="total loss", mode="lines+markers"),
                 go.Scatter(x=steps, y=[h["mel"] for h in trained.history], name="mel part", mode="lines+markers")])
fig.update_layout(title="cpu-tiny codec: training loss", xaxis_title="step", yaxis_title="loss", width=700, height=380)
display(fig)
assert trained.history[-1]["loss"] < trained.history[0]["loss"], "the loss should fall"

# %% [markdown]
# ## 4 · Residual VQ, level by level
# The first codebook quantizes the latent vector z; the second quantizes what the first left
# over (the residual), and so on. So every level adds a smaller correction, and decoding the
# first k levels gives a coarser or finer version of the same sound. Below: the share of the
# latents' energy still left after k levels, and the mean length of the vector each level adds.
# The shipped codec is used when present, else the tiny one just trained.

# %%
from tokenworks.audio.codec_tokenizer import CodecTokenizer

shipped = load_tokenizer("audio/rvq-speech16k")
if shipped.tok is not None:
    codec = shipped.tok
    print("loaded the shipped", codec)
else:
    codec = CodecTokenizer(trained.model, name="audio/rvq-speech16k (cpu-tiny, trained above)")
    print(f"NOTE: the shipped audio/rvq-speech16k is missing here ({shipped.why}),\n"
          "so the rest of this notebook uses the tiny codec trained above: expect poor sound.")
lv = residual_levels(codec, x)
print(f"mean |z| per frame {lv.latent_norm:.3f}; codes {lv.codes.shape} (K x T)")
print(f"{'k':>3}{'bit/s':>8}{'residual energy':>17}{'|vector added|':>16}")
for k in range(1, len(lv.code_norm) + 1):
    print(f"{k:>3}{lv.bits_per_second[k - 1]:>8.0f}{lv.energy[k]:>17.4f}{lv.code_norm[k - 1]:>16.4f}")
fig = go.Figure(go.Scatter(x=list(range(len(lv.energy))), y=lv.energy, mode="lines+markers"))
fig.update_layout(title="Latent energy left after the first k codebooks", xaxis_title="k (codebooks used)",
                  yaxis_title="||z - z_k||² / ||z||²", yaxis_type="log", width=650, height=380)
display(fig)
display(codebook_tokens(lv.codes, codec.frame_rate, codec.vocab_size, title="the K codebooks over time"))

# %% [markdown]
# ## 5 · The bitrate ladder
# One encoding, decoded from the first k codebooks: each level adds 500 bit/s for the shipped
# codec (log2 1024 bits x 50 frames/s). Listen from k = 1 up.

# %%
seq = codec.encode((x, SR))
ladder = codec.decode_ladder(seq)  # (K, N)
K = ladder.shape[0]
for k in sorted({1, 2, min(4, K), K}):
    y = ladder[k - 1][:len(x)]
    player(y, f"k = {k} ({codec.bitrate(k):.0f} bit/s): SI-SDR {si_sdr(x, y):.1f} dB, mel distance {mel_distance(x, y, SR):.3f}")
display(waveform_spectrogram(x, ladder[0][:len(x)], SR, title="k = 1"))
display(waveform_spectrogram(x, ladder[-1][:len(x)], SR, title=f"k = {K}"))

# %% [markdown]
# Against the classical codecs at their own bitrates (each run through its Debian tool; bits/s
# measured from what each one wrote, not its nominal setting), on the held-out clips: PESQ-WB
# (1.0-4.6, wide-band perceived quality), STOI (0-1, intelligibility), SI-SDR, mel distance. The
# clean 16-bit input is the reference row. Codec2 is narrow band (nothing above 4 kHz), which
# PESQ-WB and the mel distance count against it. The single-codebook `audio/vq1-speech16k`
# (480 bit/s) joins when it has been trained.

# %%
ks = (1, 2, 4, K) if FAST else None  # the codebooks scored (None: every k)
systems = [rq.ReferenceSystem(), rq.CodecSystem(codec, "codec", ks), rq.TokenizerSystem(mel_tok, "mel-units")]
vq1 = load_tokenizer("audio/vq1-speech16k")
if vq1.tok is not None:
    systems.append(rq.CodecSystem(vq1.tok))
base, missing = rq.baseline_systems(("opus-6k", "opus-8k", "codec2-700C", "codec2-3200") + (() if FAST else ("opus-12k",)))
if missing:
    print("baselines left out:", missing)
t0 = time.perf_counter()
res = rq.evaluate_split("heldout", clips[:N_EVAL], systems + base, wer_labels=set() if FAST else None)
print(f"{N_EVAL} held-out clips, {res.seconds:.0f} s of audio, scored in {time.perf_counter() - t0:.0f} s")
print(f"{'system':<22}{'bit/s':>8}{'PESQ-WB':>9}{'STOI':>7}{'SI-SDR':>8}{'mel':>7}{'WER':>6}")
for r in sorted(res.rows, key=lambda r: r.bits_per_second):
    wer = f"{r.wer:.2f}" if r.wer is not None else "-"
    print(f"{r.label:<22}{r.bits_per_second:>8.0f}{r.pesq:>9.2f}{r.stoi:>7.3f}{r.si_sdr:>8.1f}{r.mel_distance:>7.3f}{wer:>6}")

# %%
points = [p for p in rq.rate_points(res) if p.name != rq.REFERENCE]
display(bitrate_quality(points, metric="pesq", title="PESQ-WB against bits per second (held-out speech)"))
display(bitrate_quality(points, metric="mel_distance", title="Mel distance against bits per second"))

# %% [markdown]
# Are all the codes in use? A codebook whose codes are mostly dead wastes bits: at 10 bits per
# token, a level that uses only 100 of its 1,024 codes carries at most log2 100 = 6.6 bits. (A
# few seconds of audio have fewer frames than codes, which caps what can be seen here; the bench
# counts over all its held-out clips.)

# %%
display(codebook_usage(res.usage["codec"], title="Codebook usage per level on these clips"))

# %% [markdown]
# ### Where to go next
# - `tokenworks bench --only audio` writes the full table (20 held-out clips, real recorded speech,
#   PocketSphinx WER) and the targets with PASS/FAIL to `reports/bench.md`.
# - `PYTHONPATH=lib python -m tokenworks.audio.train --preset gpu` trains the codec that ships
#   (8.9 minutes on one GPU); `--preset cpu` trains a narrower one on two CPU cores (22-40 minutes).
