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
# # 07 · The language-model lens: what tokens do to a real model
#
# The earlier notebooks show what tokens are. This one asks what they cost a language model, with
# a real one that runs offline: SmolLM2-135M-Instruct (LLaMA architecture, 30 layers, a 49,152-token
# byte-level BPE; `tw.load_lm("lm/smollm2-135m")`, about 10 s and 1.3 GB on a CPU).
#
# 1. **Surprisal and bits per byte**: what each token costs, and the one score that compares
#    models whose tokenizers differ.
# 2. **A prompt that ends mid-word** goes wrong, shown with the model's own probabilities; token
#    healing and the exact byte-level method (Phan et al. 2024) repair it.
# 3. **The byte-level marginalisation step by step** on a toy model small enough to list every
#    tokenization, then an **exercise**: compute a next-byte distribution yourself; a checker cell
#    says what differs.
# 4. **Under-trained tokens**: tokens whose embedding looks like a token the model never saw
#    (Land & Bartolo 2024).
#
# Every number comes from `tokenworks.lm` (the LM tab calls the same functions) or from the
# teaching helpers in `tokenworks.teach.next_byte_exercise`.
# `TOKENWORKS_FAST=1` (used in CI) scores fewer texts and generates shorter continuations.

# %%
import os
import time

import numpy as np
import plotly.graph_objects as go
from IPython.display import display

import tokenworks as tw
from tokenworks.paths import data_dir
from tokenworks.teach import next_byte_exercise as ex

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
T_START = time.perf_counter()

lm = tw.load_lm("lm/smollm2-135m")  # loaded once per process and shared
info = lm.info
print(f"{info.name}: {info.parameters / 1e6:.1f}M parameters, {info.layers} layers, {info.heads} heads "
      f"({info.kv_heads} key/value), vocabulary {info.vocab_size:,} ({info.tokenizer}), {info.quantization}, "
      f"on {info.device}, loaded in {info.load_seconds:.1f} s")


def label(i: int) -> str:
    """A token as text (␣ for a space, <0xNN> for a stray byte)."""
    return lm.tokenizer.render_token(int(i))

# %% [markdown]
# ## 1 · Surprisal and bits per byte
# A causal language model gives every token a probability given the tokens before it. Its
# **surprisal** is −log₂ p, in bits: what an ideal compressor driven by the model would spend on
# that token. `lm.score(text)` conditions the first token on the model's document-start token
# (`<|endoftext|>`), so every token of the text is scored.

# %%
text = "The cat sat on the mat. Tokenizers turn text into ids, and a language model says what each id costs."
r = lm.score(text)
labels = [label(i) for i in r.tokens.ids.tolist()]
expected = [label(row[0]) for row in r.top_ids]  # the token the model found likeliest at each position
fig = go.Figure(go.Bar(x=list(range(len(labels))), y=r.surprisal, marker_color=r.surprisal, marker_colorscale="Reds",
                       hovertext=[f"{t!r}: {s:.2f} bits (the model expected {e!r})" for t, s, e in
                                  zip(labels, r.surprisal, expected)]))
fig.update_layout(title="surprisal of each token (bits)", height=340, margin=dict(t=40, b=90),
                  xaxis=dict(tickmode="array", tickvals=list(range(len(labels))), ticktext=labels, tickangle=-60),
                  yaxis_title="−log₂ p  (bits)")
display(fig)
print(f"{len(labels)} tokens, {r.n_bytes} bytes, {r.total_bits:.1f} bits in all")
print(f"bits per token {r.bits_per_token:.2f} · bits per byte {r.bits_per_byte:.3f}")
print("\nthe most surprising tokens:")
for k in np.argsort(-r.surprisal)[:4]:
    print(f"  {labels[k]!r:16} {r.surprisal[k]:5.2f} bits  (after {''.join(labels[max(0, k - 3):k])!r} "
          f"the model expected {expected[k]!r} with p = {r.top_probs[k][0]:.2f})")

# %% [markdown]
# **Why bits per byte.** The total number of bits is a property of the model *and the text*: it is
# −log₂ of the probability the model gives the whole text. Bits per *token* divides it by a count
# that depends on the tokenizer, so two models with different vocabularies can give the same text
# the same probability and still report different bits per token. Bits per *byte* divides by the
# text's UTF-8 length, which every tokenizer agrees on. Below, the same texts in SmolLM2's
# tokens and in GPT-4's (`text/cl100k_base`): the token counts differ, the byte counts do not.
# If a model with GPT-4's tokens gave each text the same probability as SmolLM2 does, its bits
# per token would be the cl100k figure (the same bits over a different count), its bits per byte
# exactly the same.

# %%
cl100k = tw.load("text/cl100k_base")
texts = {"prose": text, "code": "def add(a, b):\n    return a + b\n", "French": "Le chat dort sur le canapé du salon.",
         "Russian": "Кошка спит на диване."}
if not FAST:
    texts["held-out prose"] = (data_dir() / "samples" / "lm_heldout_en.txt").read_text(encoding="utf-8")[:3000]
print(f"{'text':15} {'bytes':>6} {'smollm2':>8} {'cl100k':>7}   {'bits/token (smollm2 / cl100k)':>30} {'bits/byte':>10}")
for name, t in texts.items():
    s = lm.score(t)
    n_cl = len(cl100k.encode(t))
    print(f"{name:15} {s.n_bytes:6} {len(s.logprobs):8} {n_cl:7}   {s.bits_per_token:14.2f} / {s.total_bits / n_cl:6.2f}"
          f"        {s.bits_per_byte:10.3f}")

# %% [markdown]
# ## 2 · Why a prompt that ends mid-word goes wrong
# Ask for the next character after `"The capital of France is Par"`. The tokenizer cuts the
# prompt as it would cut any text, so it ends with the token `␣Par`. But in training the model
# almost always saw `␣Paris` as **one** token: a text whose tokens go `␣Par` then more letters is
# a tokenization the tokenizer rarely makes, and the model has learned what usually follows a
# whole `␣Par` token, not what completes the word.

# %%
prompt = "The capital of France is Par"
print("the prompt's tokens:    ", [label(i) for i in lm.tokenizer.encode(prompt).ids.tolist()])
print("how 'Paris' is written: ", [label(i) for i in lm.tokenizer.encode(prompt + "is").ids.tolist()])
ids, probs, entropy = lm.score(prompt).after(-1)
print(f"\nthe model's likeliest next tokens after the prompt's tokens (entropy {entropy:.2f} bits):")
for i, p in zip(ids, probs):
    print(f"  {label(i)!r:12} {p:.3f}")

# %% [markdown]
# Three ways to turn that into the next *byte* (`lm.next_bytes(prefix, method)`):
# - **naive**: encode the prompt as it is; each next token votes for its first byte;
# - **healing** (token healing, as in guidance): drop the last token (`␣Par`) and require the next
#   token to start with its bytes, so `␣Paris` can come back;
# - **exact**: the byte-level distribution the token model implies (Phan et al. 2024, "Exact
#   Byte-Level Probabilities from Tokenized Language Models", the Byte-Token Representation
#   Lemma): a sum over every tokenization the tokenizer could produce whose bytes extend the
#   prompt. Section 3 shows that sum step by step.

# %%
METHODS = ("naive", "healing", "exact")


def show_methods(prefix: str) -> dict:
    """The three next-byte distributions of ``prefix``, their top bytes side by side, and a chart."""
    res = {m: lm.next_bytes(prefix, m) for m in METHODS}
    tail = [label(i) for i in lm.tokenizer.encode(prefix).ids.tolist()][-2:]
    print(f"{prefix!r} (ends with the tokens {tail})")
    for m, d in res.items():
        tops = "  ".join(f"{c!r} {p:.3f}" for c, p in d.char_probs(4))
        print(f"  {m:8} {tops}   ({d.seconds * 1000:.0f} ms, {d.encodings:,} {'encodings' if m == 'exact' else 'tokens'})")
    shown = sorted({b for d in res.values() for b, _ in d.top(4)})
    names = ["␣" if c == b" " else c.decode() if c.isascii() and c.decode().isprintable() else f"0x{c[0]:02X}"
             for c in shown]
    fig = go.Figure([go.Bar(name=m, x=names, y=[d.probs[c[0]] for c in shown]) for m, d in res.items()])
    fig.update_layout(barmode="group", title=f"next byte after {prefix!r}", yaxis_title="probability",
                      height=300, margin=dict(t=40))
    display(fig)
    return res


par = show_methods(prompt)

# %% [markdown]
# Naive prediction spreads the mass over whatever tends to follow the token `␣Par` (`ís`, `ap`,
# `ait` ...). Healing and exact agree here: almost all of it on `i`. Healing backs up **one**
# token, which is not always enough. One letter further, `"Pari"` is cut `␣P` + `ari`; healing
# keeps `␣P` and asks for a token starting with `ari`, a context the model has hardly seen, while
# the exact method also counts `␣Paris` starting at `␣P`'s position:

# %%
prompts = ["The capital of France is Pari", "Hello, how are yo"]
if not FAST:
    prompts += ["I went to the supermar", "import num", "The United Sta"]
for p in prompts:
    show_methods(p)

# %% [markdown]
# Byte-level generation follows from the exact distribution: choose the likeliest byte, append
# it, repeat (`lm.generate(prompt, method="exact")`; the key/value cache of the fixed part of the
# prompt is reused as it grows). Greedy generation over tokens starts from the prompt's own tokens
# and cannot go back inside `ari`:

# %%
n_bytes = 8 if FAST else 24
for p in ["The capital of France is Pari"] + ([] if FAST else ["Hello, how are yo"]):
    for method in ("tokens", "exact"):
        g = lm.generate(p, max_bytes=n_bytes, method=method)
        print(f"{method:6} {p!r} + {g.text!r}  ({g.seconds:.1f} s)")

# %% [markdown]
# ## 3 · The byte-level marginalisation, step by step
# On SmolLM2 the exact method sums over tens of thousands of token sequences. To watch every
# term, `tokenworks.lm.toy` has a tokenizer with three bytes (`a`, `b`, space), six merges and a
# pre-tokenizer (a space starts a word), and a model small enough that every tokenization of
# every string up to 7 bytes can be listed.

# %%
from tokenworks.lm.byte_probs import exact
from tokenworks.lm.toy import cover_encodings_brute_force

toy = ex.toy_model()
vocab = toy.lm.vocab
print("tokens:", {i: b.decode() for i, b in enumerate(toy.token_bytes) if b}, "(id 0 ends the document)")
print("merges, in rank order:", [f"{a.decode()!r}+{b.decode()!r}" for a, b in vocab.ranks])
for s in ["abab", "ba ab", "aba  b"]:
    print(f"  encode({s!r}) = {toy.label(toy.encode(s))}")

# %% [markdown]
# Take the prefix `x = "ba ab"` (n = 5 bytes). Which byte comes next?
#
# 1. **The fixed part.** The last pre-token of `x` starts at byte b = 2 (the space). Whatever
#    follows, the pre-tokenizer cuts there too, and tokens never cross a pre-token boundary, so
#    every tokenization of every continuation starts with F = encode(`"ba"`). The real model runs
#    F once and keeps its key/value cache.
# 2. **The starts i.** The token that covers the last byte of `x` starts at some byte i in
#    [b, n]. Everything before it is E_i = encode(x[:i]) (a prefix of a BPE encoding is the
#    encoding of its own bytes).
# 3. **Cover encodings.** E_i + [t] for every token t whose bytes start with x[i:] and run past
#    the end of `x` (or, for i = n, any token): t's byte n − i is the next byte. Each weighs
#    P(E_i) · P(t | E_i).
# 4. **Valid only.** Count E_i + [t] only if the tokenizer would write it:
#    encode(x[:i] + bytes(t)) == E_i + [t].
# 5. **Sum and normalise** per next byte (the end of the document is not a byte).

# %%
prefix = b"ba ab"
walk = ex.cover_walk(toy, prefix)
b = walk.pretoken_start
print(f"prefix {prefix!r}: last pre-token starts at b = {b}; fixed part F = {toy.label(walk.fixed)}, "
      f"P(F) = {walk.fixed_prob:.4f}; starts i = {walk.starts}\n")
print(f"{'i':>2}  {'E_i after F':14} {'t':6} {'P(E_i | F)':>10} {'P(t | E_i)':>10} {'weight':>9}  next  valid")
for term in walk.terms:
    if term.prob == 0:
        continue  # this model gives no mass to it (section below: a model that does)
    rest = toy.label(term.head[len(walk.fixed):])
    print(f"{term.start:2}  {rest:14} {toy.label([term.last]):6} {term.head_prob / walk.fixed_prob:10.4f} "
          f"{term.last_prob:10.4f} {term.prob / walk.fixed_prob:9.5f}  {bytes([term.byte])!r:5} {term.valid}")
brute, _ = toy.lm.brute_force_next_bytes(prefix)  # summing the model's probability of every string
lib = exact(toy.lm, prefix, tolerance=0.0)  # the library's method, the one SmolLM2 uses
for c in b"ab ":
    print(f"P({bytes([c])!r}) = {walk.probs[c]:.6f}   brute force over every string {brute[c]:.6f}   "
          f"lm.byte_probs.exact {lib.probs[c]:.6f}")
assert np.allclose(walk.probs, brute, atol=1e-12) and np.allclose(lib.probs, brute, atol=1e-12)

# %% [markdown]
# This toy model only ever puts mass on tokenizations the tokenizer produces, so step 4 changes
# nothing. A real model does give a little mass to sequences the tokenizer never writes (`a` then
# `b` as two tokens, where the tokenizer writes `ab`). The **leaky** toy does the same, and there
# the validity check matters: the exact sum counts only the valid encodings, as the depth-first
# enumeration `cover_encodings_brute_force` does, while counting every candidate does not.

# %%
leaky = ex.toy_model(leaky=True)
walk = ex.cover_walk(leaky, prefix)
invalid = [t for t in walk.terms if not t.valid and t.prob > 0]
share = sum(t.prob for t in invalid) / sum(t.prob for t in walk.terms)
print(f"{len(invalid)} of {len(walk.terms)} candidates are invalid and hold {share:.1%} of the candidates' mass; "
      f"the heaviest:")
for term in sorted(invalid, key=lambda t: -t.prob)[:3]:
    data = prefix[:term.start] + toy.token_bytes[term.last]
    print(f"  {toy.label(term.head + (term.last,))}: encode({data.decode()!r}) is {toy.label(toy.encode(data))}")
every = np.zeros(256)
for term in walk.terms:
    every[term.byte] += term.prob
every /= every.sum()
listed = cover_encodings_brute_force(leaky.lm, prefix)
for c in b"ab ":
    print(f"P({bytes([c])!r}) = {walk.probs[c]:.6f} valid only   {listed[c]:.6f} listed one by one   "
          f"{every[c]:.6f} counting the invalid ones too")
assert np.allclose(walk.probs, listed, atol=1e-12)

# %% [markdown]
# ### Exercise · `next_byte_probs(toy, prefix) -> {byte: probability}`
# Compute the next-byte distribution of a toy model after `prefix` (bytes), using only
#
# - `toy.token_bytes`: the bytes of each token id (id 0, the end of the document, is `b""`);
# - `toy.encode(text)`: the tokenizer's ids of a `str` or `bytes`;
# - `toy.next_token_probs(ids)`: a (V,) array, P(next token | document start + `ids`).
#
# Return a dict from single bytes to probabilities that sum to 1, e.g.
# `{b'a': 0.24, b'b': 0.64, b' ': 0.12}`. You need not find the fixed part: summing over every
# start i from 0 to n gives the same answer (a token that crosses a pre-token boundary fails the
# validity check). `ex.hint(1)`, `ex.hint(2)` and `ex.hint(3)` help, one step at a time. The
# checker runs your function on 13 prefixes on both toys against `lm.byte_probs.exact` and names
# what differs: encodings left out, encodings the tokenizer never produces, a missing weight, the
# wrong byte, a sum that is not 1, or the exception your code raised.

# %%
def next_byte_probs(toy, prefix: bytes) -> dict[bytes, float]:
    # ✎ your code (delete the line below and write your own)
    raise NotImplementedError("write next_byte_probs, then run the checker cell below")
    # ✎ end


# %%
result = ex.check_next_bytes(next_byte_probs)
if FAST and not result.passed:  # CI runs the stub: check the library's reference answer instead
    print("\nTOKENWORKS_FAST=1: the reference solution through the same checker")
    result = ex.check_next_bytes(ex.reference_next_bytes)
    assert result.passed, result.message

# %% [markdown]
# What the checker says about a common wrong answer, the naive method written out: only the
# tokens that start at the end of the prefix.

# %%
def naive_next_byte_probs(toy, prefix: bytes) -> dict[bytes, float]:
    p = toy.next_token_probs(toy.encode(prefix))
    mass = {}
    for t, data in enumerate(toy.token_bytes):
        if data and toy.encode(prefix + data) == toy.encode(prefix) + [t]:
            mass[data[:1]] = mass.get(data[:1], 0.0) + float(p[t])
    total = sum(mass.values())
    return {c: m / total for c, m in mass.items()}


naive_result = ex.check_next_bytes(naive_next_byte_probs)
assert not naive_result.passed

# %% [markdown]
# ## 4 · Under-trained tokens
# A vocabulary is fixed before the model is trained, often on other data, so some tokens are
# (almost) never seen in training. Their embeddings barely move from where initialisation and
# weight decay leave them, and the model misbehaves when they appear ("SolidGoldMagikarp").
# Land & Bartolo 2024 ("Fishing for Magikarp") find them from the weights: take tokens known to be
# unused, remove the embedding matrix's first principal component (a direction every token
# shares), and rank every token by the cosine of its vector to the unused tokens' mean.
#
# SmolLM2's tokenizer can produce every ordinary token from some text, so its known-unused set is
# its control tokens other than the document start and the chat markers (`<gh_stars>`,
# `<jupyter_code>` ...). `tokenworks.lm.undertrained` scores every token that way, then verifies the
# top candidates by asking the model to repeat each one: a token the model never gives more than
# 1% probability, even when asked to copy it, is under-trained. Frequent English tokens are the
# controls. The app's **Under-trained** tab shows the same analysis and finds the tokens in a text.

# %%
from tokenworks.lm import undertrained

report = undertrained.analyze(lm, n_verify=8 if FAST else 40)
scan = report.scan
print(f"reference: {len(scan.reference.ids)} unused tokens ({scan.reference.rule}); "
      f"scored {len(scan.indicator):,} tokens in {scan.seconds:.1f} s\n")
print(f"{'rank':>4} {'id':>6} {'cosine':>7} {'verified':>9} {'max p':>8}  token")
for row in report.table():
    print(f"{row.rank:4} {row.id:6} {row.indicator:7.3f} {'yes' if row.verified else 'no':>9} "
          f"{row.max_prob:8.1e}  {row.label!r}")
ctrl = report.control_rows()
print(f"\ncontrols flagged: {sum(bool(r.verified) for r in ctrl)} of {len(ctrl)} frequent tokens "
      f"(lowest max p {min(r.max_prob for r in ctrl):.3f})")
rel = report.relation()
print(f"verified under-trained: {rel.verified}, of which the tokenizer can produce {rel.verified_reachable} "
      f"(unreachable tokens in the whole vocabulary: {rel.vocab_unreachable})")
cos = scan.indicator[np.isfinite(scan.indicator)]
fig = go.Figure(go.Histogram(x=cos, nbinsx=120))
fig.update_layout(title="cosine to the unused tokens' mean, every token", yaxis_type="log",
                  xaxis_title="cosine (first principal component removed)", yaxis_title="tokens", height=300,
                  margin=dict(t=40))
display(fig)

# %% [markdown]
# Compound identifiers from code (`ManagementPlaneProtection`, `swigfaiss`, `kinesisfirehose`)
# lead the list: names frequent enough in the tokenizer's training text to become tokens, and
# rare in the model's. Most ordinary tokens sit near cosine 0, far from the unused direction. None
# of SmolLM2's tokens is unreachable, so every verified one can be typed, and a user who does so
# hands the model a vector it never learned.

# %%
print(f"exercise: {'passed' if result.passed else 'not yet passed'}; "
      f"notebook ran in {time.perf_counter() - T_START:.0f} s{' (TOKENWORKS_FAST=1)' if FAST else ''}")
