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
# # 00 · A tour of tokenworks
#
# Every tokenizer in tokenworks honours one contract:
#
# ```python
# tok = tw.load("text/bytes")      # tw.available() lists every name
# seq = tok.encode(x)              # TokenSeq: ids, spans, modality, meta
# tok.decode(seq)                  # back to the same kind of thing as x
# tok.decode(seq, keep=k)          # only the first k tokens
# ```
#
# This notebook walks through it with the two simplest text tokenizers: UTF-8 **bytes** and
# Unicode **code points**. Run it top to bottom; `TOKENWORKS_FAST=1` (used in CI) makes the
# timing cell small.

# %%
import os
import time

from IPython.display import HTML, display

import tokenworks as tw
from tokenworks.text.pieces import token_pieces
from tokenworks.viz.text import tokens_html

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
tw.available()

# %% [markdown]
# ## Encode: ids and spans
# Each token carries a **span**: which characters and which bytes of the input it covers.
# A byte that is only part of a character (like the two bytes of `é`) has exact byte offsets and
# is marked `partial`.

# %%
text = "héllo, 世界 👋🏽"
bytes_tok = tw.load("text/bytes")
seq = bytes_tok.encode(text)
print(len(text), "characters ->", len(seq), "byte tokens")
for p in token_pieces(seq, text)[:8]:
    print(f"id {p.id:>3}  chars {p.char_start}-{p.char_end}  bytes {p.byte_start}-{p.byte_end}  {p.text!r}  partial={p.partial}")

# %% [markdown]
# ## See them
# The same view the app's Text tab shows: one chip per token, its id underneath, spans in the
# tooltip. Dashed chips are partial characters.

# %%
chars_tok = tw.load("text/chars")
display(HTML(tokens_html(seq, text)))
display(HTML(tokens_html(chars_tok.encode(text), text)))

# %% [markdown]
# ## Decode, and decode a prefix
# `decode(seq)` gives the text back exactly. `keep=k` decodes only the first k tokens: cutting a
# byte sequence in the middle of a character leaves a replacement character `�`, which is why
# byte-level tokenizers need care at the edges.

# %%
assert bytes_tok.decode(seq) == text
for k in (1, 2, 3, 8):
    print(k, repr(bytes_tok.decode(seq, keep=k)))

# %% [markdown]
# ## Bad input gets a clear message

# %%
for attempt in (lambda: tw.load("text/byte"), lambda: bytes_tok.decode([300]), lambda: tw.load_checkpoint("../../etc/passwd")):
    try:
        attempt()
    except tw.TokenworksError as e:
        print(type(e).__name__ + ":", e)

# %% [markdown]
# ## Compression at a glance
# Bytes per token measures how much text one token carries. Bytes and code points are the two
# extremes of "no learning"; the BPE tokenizers of the next notebooks sit far above them.

# %%
samples = {"English": "The quick brown fox jumps over the lazy dog. " * (5 if FAST else 200),
           "Chinese": "快速的棕色狐狸跳过了懒狗。" * (5 if FAST else 200),
           "Emoji": "👋🏽🎉🚀" * (5 if FAST else 200)}
for lang, s in samples.items():
    row = []
    for tok in (bytes_tok, chars_tok):
        t0 = time.perf_counter()
        n = len(tok.encode(s))
        row.append(f"{tok.name}: {len(s.encode()) / n:.2f} bytes/token")
    print(f"{lang:8s}", " | ".join(row))
