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
# # 02 · Comparing tokenizers honestly
#
# Tokenizers are usually compared by one number ("tokens per word", "compression") computed in a
# way that is easy to get wrong: a tokenizer that turns Chinese into `[UNK]` looks *efficient*,
# and token counts of two tokenizers are compared as if they measured the same text. This
# notebook walks through the measurements tokenworks offers instead, all on real multilingual
# text:
#
# 1. **metrics** per tokenizer and per language slice, with lossy results flagged;
# 2. **parity** across languages on the Universal Declaration of Human Rights: how many more
#    tokens a language pays than English for the same content;
# 3. **data-mixture inference**: what a BPE merge list reveals about the data it was trained on;
# 4. **attention maps** of a small pretrained model (MiniLM) over its real WordPiece tokens;
# 5. **compare**: where tokenizers cut the same sentence differently.
#
# Every number comes from a library function (`tokenworks.metrics.text`, `tokenworks.text.parity`,
# `tokenworks.text.mixture`, `tokenworks.text.attention`, `tokenworks.text.compare`) that the app
# calls too. `TOKENWORKS_FAST=1` (used in CI) measures parity on ~30 languages instead of all
# 521 and makes the mixture experiments smaller. A section whose offline asset is missing prints
# what it skipped and how to fetch it, and the rest still runs.

# %%
import os
import time
from pathlib import Path

from IPython.display import HTML, display

import tokenworks as tw
from tokenworks.errors import TokenworksError

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents, Path(tw.__file__).resolve().parents[2])
            if (p / "data" / "samples" / "multilingual.txt").exists())
T_START = time.perf_counter()

# The tokenizers compared. text/llama3 needs its vocabulary asset; leave it out if it is missing.
TOKENIZERS = ["text/o200k_base", "text/r50k_base", "text/bert-base-uncased", "text/llama3"]
available = []
for name in TOKENIZERS:
    try:
        tw.load(name)
        available.append(name)
    except TokenworksError as e:
        print(f"skipping {name}: {e}")
if len(available) < 2:  # no vocabulary assets at all: the two baselines still show every section's logic
    print("fewer than two vocabularies present (`tokenworks assets fetch` gets them); using the byte and "
          "code-point baselines text/bytes and text/chars instead")
    available += [n for n in ("text/bytes", "text/chars") if n not in available]
TOKENIZERS = available
print("comparing:", ", ".join(TOKENIZERS))

# %% [markdown]
# ## 1 · Metrics, per tokenizer and per slice
#
# `metrics_table(tokenizers, slices)` computes every metric for every tokenizer on every slice
# (a slice is a list of documents: a language, a domain). The columns below:
#
# - **bytes/tok**, **chars/tok**: UTF-8 bytes (code points) of input per token. Higher means more
#   text per token, *if nothing was lost*.
# - **fert**: fertility, tokens per word; for scripts written without spaces (Chinese, Japanese,
#   Thai...) the unit falls back to the character, marked `c`.
# - **cont**: continued-word ratio, the share of words split over more than one token.
# - **rt**: round-trip rate, the share of documents with `decode(encode(x)) == x`.
# - **unk**: the share of tokens that are the unknown token.
# - **bfb**: byte-fallback rate, the share of tokens that hold only part of a character.
# - **util**: vocabulary utilisation, distinct ids used / V.
# - **H1**, **H2.5**: Shannon and Rényi (α = 2.5) efficiency of the unigram distribution, entropy /
#   log V (Zouhar et al. 2023): how evenly the slice uses the vocabulary.
# - **zipf**: the slope of log frequency against log rank.
#
# The slices: the 16-line multilingual sample (`data/samples/multilingual.txt`: 14 languages,
# emoji and code) and three UDHR declarations.

# %%
from tokenworks.metrics.text import metrics_table, to_rows

sample_lines = (ROOT / "data" / "samples" / "multilingual.txt").read_text(encoding="utf-8").splitlines()
slices = {"sample": [line for line in sample_lines if line.strip()]}
try:
    from tokenworks.text.udhr import load_udhr

    udhr = load_udhr()
    for code in ("eng", "cmn_hans", "hin"):
        slices[f"udhr:{code}"] = [udhr[code].text()]
except TokenworksError as e:
    udhr = None
    print(f"UDHR slices and the parity section skipped: {e}")

t0 = time.perf_counter()
metrics = metrics_table(TOKENIZERS, slices)
print(f"{len(metrics)} results in {time.perf_counter() - t0:.1f} s\n")


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


print(f"{'tokenizer':<24}{'slice':<14}{'bytes/tok':>10}{'chars/tok':>10}{'fert':>7}{'cont':>6}{'rt':>6}{'unk':>7}"
      f"{'bfb':>6}{'util':>8}{'H1':>6}{'H2.5':>6}{'zipf':>7}  lossy")
for m in metrics:
    unit = "c" if m.word_unit == "character" else " "
    print(f"{m.tokenizer:<24}{m.slice:<14}{m.bytes_per_token:>10.2f}{m.chars_per_token:>10.2f}"
          f"{fmt(m.fertility, '.2f'):>6}{unit}{fmt(m.continued_word_ratio, '.0%'):>6}{m.round_trip_rate:>6.0%}"
          f"{m.unk_rate:>7.1%}{m.byte_fallback_rate:>6.0%}{m.vocab_utilisation:>8.2%}"
          f"{fmt(m.shannon_efficiency, '.2f'):>6}{fmt(m.renyi_efficiency, '.2f'):>6}{fmt(m.zipf_slope, '.2f'):>7}"
          f"  {'LOSSY' if m.lossy else ''}")

# %% [markdown]
# ### Why a lossy result is flagged
#
# Look at BERT (`text/bert-base-uncased`) on Chinese. Its bytes per token is *higher* than
# GPT-2's (`r50k_base`), which would make it look like the better tokenizer for Chinese. It is
# not: most Chinese characters are not in BERT's vocabulary and become `[UNK]`, one token that
# stands for a character it can no longer give back. The bytes it "compresses" are bytes it
# threw away. So every number computed on a tokenization that does not round-trip, or that
# contains UNK tokens, carries `lossy = True` and `flags` saying why; `to_rows` / `to_csv` keep
# both columns so a spreadsheet cannot drop the warning.

# %%
for m in metrics:
    if m.lossy and m.slice != "sample":
        print(f"{m.tokenizer} on {m.slice}: {m.bytes_per_token:.2f} bytes/token, but")
        for f in m.flags:
            print("   -", f)
bert_zh = [m for m in metrics if m.tokenizer == "text/bert-base-uncased" and m.slice == "udhr:cmn_hans"]
gpt2_zh = [m for m in metrics if m.tokenizer == "text/r50k_base" and m.slice == "udhr:cmn_hans"]
if bert_zh and gpt2_zh:
    print(f"\nChinese: BERT {bert_zh[0].bytes_per_token:.2f} bytes/token with {bert_zh[0].unk_rate:.0%} [UNK], "
          f"GPT-2 {gpt2_zh[0].bytes_per_token:.2f} bytes/token with none: the lower number is the honest one.")

rows = to_rows(metrics)
print(f"\nto_rows: {len(rows)} flat rows with {len(rows[0])} columns, e.g. {', '.join(list(rows[0])[:8])}, ...")

# %% [markdown]
# ### Vocabulary-wide numbers: longest tokens and unreachable ids
# `longest_tokens` are the tokens covering the most bytes in a slice. `unreachable` counts ids
# `i` with `encode(decode([i])) != [i]` over the whole vocabulary: tokens the encoder never
# produces from their own text (special tokens, or merges that a later rule always overrides).

# %%
for m in metrics:
    if m.slice == "sample":
        u = m.unreachable
        longest = ", ".join(repr(label) for _, label, _ in m.longest_tokens[:4])
        unreach = "not scanned" if u is None else f"{u.count} of {u.probed} ids" + (
            f" (e.g. {' '.join(e.label for e in u.examples[:3])})" if u.count else "")
        print(f"{m.tokenizer:<24} V={m.vocab_size:>7,}  unreachable: {unreach}\n{'':<24} longest on the sample: {longest}")

# %% [markdown]
# ## 2 · Parity across languages
#
# The UDHR is the same 30 articles in every language, so the token count of a language's
# articles divided by English's is its **premium** (Petrov et al. 2023): 1.0 for English, 2.0 when
# the same content costs twice as many tokens. Lossy rows (BERT and its `[UNK]`s) are sorted
# apart: a low premium built from unknown tokens is not fairness.
#
# Under `TOKENWORKS_FAST=1` the table covers ~30 languages in many scripts; otherwise every
# complete declaration (521). `tokenworks eval parity --tokenizers ... --out parity.csv` writes
# the same table from the command line.

# %%
PARITY_FAST = ("eng fra deu_1996 spa por_PT rus ukr pol tur vie ind swh hau_NG yor zul amh arb pes_1 urd hin "
               "ben tam tel mya khm tha kor jpn cmn_hans heb ell_monotonic kat hye bod div chr_cased").split()
parity = None
if udhr is None:
    print("parity skipped: the udhr asset is missing (`tokenworks assets fetch udhr`)")
else:
    from tokenworks.text.parity import parity_table

    langs = [c for c in PARITY_FAST if c in udhr] if FAST else None
    parity = parity_table(TOKENIZERS, languages=langs)
    print(f"{len(parity.languages)} languages x {len(parity.tokenizers)} tokenizers = {len(parity)} rows "
          f"in {parity.seconds:.1f} s")

# %%
if parity is not None:
    for name in parity.tokenizers:
        t = parity.filter(tokenizer=name).sorted("premium")
        clean = [r for r in t if not r.lossy]
        n_lossy = len(t) - len(clean)
        print(f"\n{name}: {len(clean)} lossless languages" + (f", {n_lossy} lossy (left out below)" if n_lossy else ""))
        if not clean:
            worst = max(t, key=lambda r: r.unk_tokens)
            print(f"  every row is lossy, so its premiums are not comparable; e.g. {worst.name}: premium "
                  f"{worst.premium:.2f}x with {worst.unk_tokens} unknown tokens ({worst.flags})")
            continue
        prem = sorted(r.premium for r in clean)
        print(f"  median premium {prem[len(prem) // 2]:.2f}x, max/min {prem[-1] / prem[0]:.1f}")
        print("  cheapest:", ", ".join(f"{r.name} {r.premium:.2f}x" for r in clean[:3]))
        print("  dearest: ", ", ".join(f"{r.name} {r.premium:.2f}x" for r in clean[::-1][:3]))

# %% [markdown]
# The premium is partly the script (an Indic or Ethiopic syllable is 3 UTF-8 bytes; a byte-level
# BPE that rarely saw it spends a token per byte) and partly the training mixture: o200k_base was
# built for many languages, r50k_base (GPT-2) for mostly-English web text. The map places every
# language at the UDHR package's latitude/longitude; colour is the premium on a log scale
# (crosses: lossy rows).

# %%
if parity is not None:
    try:
        from tokenworks.viz.languages import parity_map, premium_bars

        display(parity_map(parity, parity.tokenizers[0]))
        display(premium_bars(parity, [t for t in ("text/o200k_base", "text/r50k_base") if t in parity.tokenizers]
                             or parity.tokenizers[:2]))
    except ImportError:
        import plotly.graph_objects as go

        t = parity.filter(tokenizer=parity.tokenizers[0]).sorted("premium")
        display(go.Figure(go.Bar(x=[r.name for r in t], y=[r.premium for r in t]),
                          layout=dict(title=f"premium over English, {parity.tokenizers[0]}", yaxis_type="log")))

# %% [markdown]
# ## 3 · Data-mixture inference
#
# BPE training is greedy: each merge is the pair that was most frequent in the training data at
# that moment. Replaying a tokenizer's merges, in order, on sample text of each candidate
# category (languages, code) gives each category's pair frequencies at every step; the mixture
# weights must make every chosen merge the most frequent pair. That is a linear program, solved
# with scipy's HiGHS (Hayase et al. 2024, "Data Mixture Inference: What do BPE Tokenizers Reveal
# about their Training Data?").
#
# **The controlled experiment** first: train a ByteBPE on a *known* mixture of five UDHR
# languages, infer the mixture back from its merges alone (on held-out articles), compare.

# %%
mixture = None
try:
    from tokenworks.text import mixture
except ImportError as e:
    print(f"data-mixture inference skipped: tokenworks.text.mixture is not available ({e})")

experiment = None
if mixture is not None and udhr is None:
    print("data-mixture inference skipped: its samples are UDHR text and the udhr asset is missing "
          "(`tokenworks assets fetch udhr`)")
if mixture is not None and udhr is not None:
    experiment = mixture.controlled_experiment(seed=0)
    print(experiment.notes)
    print(f"\n{'language':<10}{'true':>8}{'recovered':>11}{'error':>8}")
    for r in experiment.table():
        print(f"{r['language']:<10}{r['true']:>8.1%}{r['recovered']:>11.1%}{r['error']:>+8.1%}")
    print(f"\nmean absolute error {experiment.mae * 100:.2f} percentage points "
          f"(max {experiment.max_error * 100:.2f}); {experiment.merges} merges; {experiment.seconds:.1f} s")
    if not FAST:  # the same experiment on other seeds (other article splits and corpus orders)
        maes = [mixture.controlled_experiment(seed=s).mae for s in range(1, 5)]
        print("seeds 1-4: MAE", ", ".join(f"{m * 100:.2f}" for m in maes), "points")

# %% [markdown]
# The recovered weights are within a few percentage points of the truth (the issue's target is a
# mean absolute error under 3 points), from 400 merges and text the tokenizer never saw.
#
# **Pretrained vocabularies.** The same inference on released merge lists (GPT-2's r50k_base and
# GPT-4o's o200k_base), with nine UDHR languages and Python code as the candidate categories
# (`TOKENWORKS_FAST=1` replays the first 1,000 merges, otherwise 3,000). Read the caveats before
# quoting a number: the estimate is a share *among the candidates*, from short samples that only
# stand in for the real training data. What to look for: r50k_base puts nearly all its weight on
# English, o200k_base spreads it over languages and code.

# %%
if mixture is not None and udhr is not None:
    STEPS = 1000 if FAST else 3000  # merges replayed per vocabulary
    estimates = {}
    for vocab in ("r50k_base", "o200k_base"):
        try:
            estimates[vocab] = mixture.pretrained_mixture(vocab, steps=STEPS)
        except TokenworksError as e:
            print(f"{vocab} skipped: {e}")
    if estimates:
        first = next(iter(estimates.values()))
        print(f"{'category':<10}" + "".join(f"{v:>12}" for v in estimates) + "   sample")
        for c in first.categories:
            print(f"{c:<10}" + "".join(f"{p.weights[c]:>12.1%}" for p in estimates.values()) + f"   {first.sources[c]}")
        for v, p in estimates.items():
            e = p.estimate
            print(f"{v}: {e.steps_used} merges replayed, {e.unseen_steps} seen in no sample, "
                  f"violation {e.violation:.2f}, solver: {e.status} ({e.seconds:.1f} s)")
        print("\ncaveats:")
        for c in mixture.CAVEATS:
            print("  -", c)

# %% [markdown]
# ## 4 · Attention maps over real tokens
#
# MiniLM (all-MiniLM-L6-v2: a BERT with 6 layers x 12 heads) reads WordPiece tokens. Each map is
# token x token: row *q* is where token *q* looks, and sums to 1. The figure links the sentence to
# the map: the bars show one query token's row, picked with the slider. The model comes from the
# offline asset `minilm-model` (`tokenworks assets fetch minilm-model`); without it this section
# says so and the notebook carries on.

# %%
sentence = "The tokenizer splits unbelievably long words into smaller pieces."
attn = None
try:
    from tokenworks.text.attention import attention_map
    from tokenworks.viz.attention import attention_figure, attention_heatmap

    attn = attention_map(sentence)
except (TokenworksError, ImportError) as e:
    print(f"attention maps skipped: {type(e).__name__}: {e}")

if attn is not None:
    print(f"{len(attn.tokens)} tokens: {' '.join(attn.labels)}")
    print(f"attentions {attn.attentions.shape} (layers, heads, query, key); forward pass {attn.seconds:.2f} s")
    avg = attn.view("average", "average")  # (T, T)
    for q in (1, len(attn.tokens) - 2):
        k = int(avg[q].argmax())
        print(f"averaged over all heads, {attn.labels[q]!r} looks most at {attn.labels[k]!r} ({avg[q, k]:.2f})")
    print("([CLS] and [SEP] often collect attention that a head has nowhere better to put.)")
    display(attention_figure(attn, layer="average", head="average"))
    display(attention_heatmap(attn, layer=2, head=5))

# %% [markdown]
# ## 5 · Where tokenizers cut differently
#
# `compare(text, tokenizers)` encodes one text with 2 to 4 tokenizers and compares their token
# **boundaries** on UTF-8 byte offsets. A boundary *differs* when at least one tokenizer does not
# cut there; the count spread says how far apart the token counts are. The coloured view is the
# one the app's Compare mode shows (differing boundaries have a red edge).

# %%
from tokenworks.text.compare import compare
from tokenworks.viz.text import compare_html

text = "Tokenization of naïve café prices (€4.50) in Zürich — 東京 too!"
cmp = compare(text, TOKENIZERS[:4])
s = cmp.summary()
print(f"{s['n_chars']} characters, {s['n_bytes']} bytes; {s['shared_boundaries']} boundaries shared by all, "
      f"{s['differing_boundaries']} that differ")
print(f"count spread: {cmp.spread.min} ({cmp.spread.fewest}) to {cmp.spread.max} ({cmp.spread.most}), "
      f"ratio {cmp.spread.ratio:.2f}")


def piece(b: bytes) -> str:
    """A token's bytes as text, or as <0xNN> bytes when it holds only part of a character."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(f"<0x{x:02X}>" for x in b)


for seg in cmp.segmentations:
    pieces = [piece(cmp.data[a:b]) for a, b in zip(seg.byte_start.tolist(), seg.byte_end.tolist())]
    print(f"\n{seg.tokenizer} ({seg.n_tokens} tokens, {len(seg.differing)} differing boundaries"
          f"{'' if seg.lossless else ', lossy'}):\n  " + " | ".join(pieces))
display(HTML(compare_html(cmp)))

# %%
print(f"notebook ran in {time.perf_counter() - T_START:.0f} s (TOKENWORKS_FAST={int(FAST)})")
