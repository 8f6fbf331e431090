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
# # 01 · Byte-level BPE, step by step
#
# `tokenworks.text.bpe.ByteBPE` is the workbench's own byte-level BPE: short enough to read,
# exact enough to give the same ids as tiktoken. This notebook
#
# 1. loads GPT-4's vocabulary (`cl100k_base`) as merges and checks it against tiktoken,
# 2. replays one encoding merge by merge,
# 3. shows how a token was built (its merge tree),
# 4. trains a small BPE of its own and watches the first merges arrive.
#
# `TOKENWORKS_FAST=1` (used in CI) keeps the training corpus small.

# %%
import os
import time

from tokenworks.text.bpe import ByteBPE
from tokenworks.text.openai_vocab import load_openai_vocab
from tokenworks.paths import data_dir

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
SAMPLE = (data_dir() / "samples" / "multilingual.txt").read_text(encoding="utf-8")

# %% [markdown]
# ## 1 · From ranks to merges
# tiktoken stores a vocabulary as *ranks*: token bytes -> id, lower = merged earlier. Each
# multi-byte token is the merge of two lower-ranked tokens; running BPE on its own bytes with the
# tokens ranked below it finds which two.

# %%
t0 = time.perf_counter()
tok = ByteBPE.from_pretrained("cl100k_base")
print(f"{tok.name}: {len(tok.merges)} merges, vocab_size {tok.vocab_size}, derived in {time.perf_counter() - t0:.2f} s")
for a, b, n in tok.merge_list()[:8]:
    print(f"{n:>5} = {tok.render_token(a)!r:>8} + {tok.render_token(b)!r}")

# %%
import tiktoken

v = load_openai_vocab("cl100k_base")
ref = tiktoken.Encoding("cl100k_base", pat_str=v.pattern, mergeable_ranks=v.ranks, special_tokens=v.special_tokens)
assert tok.encode(SAMPLE).ids.tolist() == ref.encode(SAMPLE, disallowed_special=())
print("same ids as tiktoken on", len(SAMPLE), "characters")

# %% [markdown]
# ## 2 · Replay an encoding
# First the regex cuts the text into chunks; merges never cross a chunk. Inside a chunk, BPE
# repeatedly merges the adjacent pair with the lowest-ranked merge. `trace=True` records every
# merge; `ChunkTrace.states()` replays them.

# %%
text = "Tokenization isn't magic."
seq = tok.encode(text, trace=True)
print("chunks:", tok.pretokenize(text))
for chunk in seq.meta["trace"][:3]:
    print(f"\nchunk {chunk.text!r}")
    for step, state in zip([None, *chunk.steps], chunk.states()):
        pieces = " | ".join(tok.render_token(i) for i in state)
        how = "bytes" if step is None else f"merge {tok.render_token(step.left)!r} + {tok.render_token(step.right)!r} -> {step.new_id}"
        print(f"  {how:<42} {pieces}")

# %% [markdown]
# ## 3 · How a token was built
# `merge_tree(id)` unfolds a token into the merges that made it, down to single bytes.

# %%
def show(node, indent=0):
    print("  " * indent + f"{node.id:>6}  {node.data!r}")
    if not node.is_leaf:
        show(node.left, indent + 1)
        show(node.right, indent + 1)


show(tok.merge_tree(int(tok.encode(" Tokenization").ids[1])))

# %% [markdown]
# ## 4 · Train your own
# Training counts adjacent pairs once, then after each merge updates only the pairs next to the
# merged occurrences. Ties go to the smallest pair of ids, so any straightforward trainer gets the
# same merges.

# %%
corpus = SAMPLE * (2 if FAST else 50)
events = []
mine = ByteBPE.train(corpus, 400 if FAST else 1000, progress=events.append)
rep = mine.training
print(f"{len(rep.merges)} merges in {rep.seconds:.2f} s; stopped early: {rep.stopped_early} {rep.reason}")
for m in events[:10]:
    print(f"#{m.index:<3} {mine.render_token(m.pair[0])!r} + {mine.render_token(m.pair[1])!r} (seen {m.count}x) -> {mine.render_token(m.new_id)!r}")

# %%
seq = mine.encode(SAMPLE)
assert mine.decode(seq) == SAMPLE
print(f"{len(SAMPLE.encode())} bytes -> {len(seq)} tokens with our BPE, {len(tok.encode(SAMPLE))} with cl100k_base")
