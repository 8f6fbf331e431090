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
# # 08 · Give a model a new tokenizer
#
# A language model reads ids, and each id means a row of its embedding matrix. Swap the tokenizer
# and the ids mean nothing to it. This notebook gives SmolLM2-135M (notebook 07) GPT-4's tokenizer,
# `text/cl100k_base`, without training anything: only new embedding rows, the rest of the network
# unchanged.
#
# 1. **Why a model is locked to its tokenizer**: one sentence in both vocabularies, and the row
#    each id would select.
# 2. **FVT by hand**: a new token gets the mean of the rows of its pieces under the old tokenizer
#    (Fast Vocabulary Transfer, Gee et al. 2022).
# 3. **OMP by hand** on a toy case, then an **exercise**: write Orthogonal Matching Pursuit
#    yourself (Goddard & Neto 2025); a checker cell says what differs.
# 4. **The real transplant and its numbers**: the pre-flight report, then bits per byte of the
#    original and the transplanted model on held-out English prose and on Python code.
#
# Everything comes from `tokenworks.lm.transplant`, `tokenworks.lm.new_embeddings` and
# `tokenworks.lm.omp` (the CLI `tokenworks lm transplant` calls the same code) or from the teaching
# helpers in `tokenworks.teach.omp_exercise`. `TOKENWORKS_FAST=1` (used in CI) scores shorter texts
# and builds only the cheap methods on the real model (mean, fvt); without it tokenadapt and omp
# are built too (a few minutes on a CPU).

# %%
import os
import time

import numpy as np
import plotly.graph_objects as go
from IPython.display import display

import tokenworks as tw
from tokenworks.lm import new_embeddings
from tokenworks.lm.domains import domain
from tokenworks.lm.transplant import transplant
from tokenworks.lm.vocab import vocab_for
from tokenworks.teach import omp_exercise as ex
from tokenworks.text.hf import byte_alphabet

FAST = os.environ.get("TOKENWORKS_FAST", "0") == "1"
T_START = time.perf_counter()

lm = tw.load_lm("lm/smollm2-135m")  # loaded once per process and shared
old = lm.tokenizer  # text/smollm2
new = tw.load("text/cl100k_base")
new_vocab = vocab_for(new)
with lm.net.lock:
    E = lm.net.module.get_input_embeddings().weight.detach().float().cpu().numpy()  # (49152, 576)
chars = 600 if FAST else 2000
texts = {k: domain(k, chars) for k in ("english", "python")}  # held-out English prose, held-out Python code
print(f"{lm.info.name}: embedding matrix {E.shape[0]:,} rows × {E.shape[1]} (input and output tied); "
      f"{new.name} has {len(new_vocab.token_bytes):,} tokens")

# %% [markdown]
# ## 1 · Why a model is locked to its tokenizer
# The same sentence, in SmolLM2's tokens and in cl100k_base's. The model's first layer looks each
# id up: row `id` of its embedding matrix. For SmolLM2's own ids that is the vector it learned for
# that token. Hand it cl100k_base's ids and each one selects the row of whatever SmolLM2 token has
# that number, or no row at all: cl100k_base has twice as many ids.

# %%
sentence = "Transplanting a tokenizer: 1,000,000 embeddings, unhappily renamed."
ids_old = old.encode(sentence).ids.tolist()
ids_new = new.encode(sentence).ids.tolist()
print(f"SmolLM2      ({len(ids_old)} tokens): {[old.render_token(i) for i in ids_old]}")
print(f"cl100k_base  ({len(ids_new)} tokens): {[new.render_token(i) for i in ids_new]}\n")
by_bytes = {b: i for i, b in enumerate(lm.vocab.token_bytes) if b and not lm.vocab.special[i]}
print(f"{'cl100k token':16} {'id':>6}   {'SmolLM2 row at that id':24} {'SmolLM2 id, same bytes':>22} {'cosine':>7}")
for i in ids_new:
    same = by_bytes.get(new_vocab.token_bytes[i])
    wrong = old.render_token(i) if i < len(E) else "(no such row)"
    cos = "" if same is None or i >= len(E) else (
        f"{E[i] @ E[same] / np.linalg.norm(E[i]) / np.linalg.norm(E[same]):7.2f}")
    print(f"{new.render_token(i)!r:16} {i:6}   {wrong!r:24} {'none: a new token' if same is None else same:>22} {cos:>7}")
print("\nwhat SmolLM2 would read from cl100k_base's ids (those it has rows for):",
      repr(old.decode([i for i in ids_new if i < len(E)])))

# %% [markdown]
# The ids agree only by accident: each selects the row of an unrelated token (the cosine column
# compares it with the row SmolLM2 learned for those bytes; the rows share a common direction, so
# unrelated ones are not at 0), some select control tokens, and `' embeddings'` selects no row.
# Read as SmolLM2 tokens, the sentence is noise. Most cl100k_base tokens here do exist in SmolLM2 under
# another id: such a **shared** token simply keeps SmolLM2's row. The real question is the
# **new** tokens (`000` above), which SmolLM2 has no row for.
#
# ## 2 · FVT by hand
# Fast Vocabulary Transfer (Gee et al. 2022): cut the new token's bytes with the old tokenizer's
# BPE and give it the mean of the pieces' rows. `new_embeddings.base_pieces` applies SmolLM2's
# merges to the bytes as one word (a token never spans a pre-token), so a token that is only part
# of a UTF-8 character gets pieces too.

# %%
t_fvt = transplant(lm, "text/cl100k_base", "fvt", texts=[texts["english"].text])
alphabet = {b: c for c, b in byte_alphabet().items()}
examples = [" serialization", " Kubernetes", " München", "000", "()\n"]
by_hand = {}
for w in examples:
    (i,) = new.encode(w).ids.tolist()
    pieces, lost = new_embeddings.base_pieces(old, new_vocab.token_bytes[i], alphabet)
    by_hand[i] = E[pieces].mean(axis=0)  # (576,) the mean of the pieces' rows
    assert t_fvt.plan.shared[i] < 0 and t_fvt.plan.pieces[i] == pieces and lost == 0
    near = E @ by_hand[i] / np.linalg.norm(E, axis=1) / np.linalg.norm(by_hand[i])  # (49152,) cosine to every row
    print(f"{w!r:17} id {i:6} -> SmolLM2 pieces {[old.render_token(j) for j in pieces]}; nearest SmolLM2 rows "
          f"{[old.render_token(j) for j in np.argsort(-near)[:4]]}")

# %% [markdown]
# The library builds the whole matrix the same way (`new_embeddings.build` with the fvt plan; the
# transplant above called it): every row we computed by hand is equal.

# %%
built = new_embeddings.build(E, t_fvt.plan, new_vocab.special)  # (100277, 576)
assert np.array_equal(built, t_fvt.matrix)
for i, row in by_hand.items():
    assert np.allclose(row, built[i], atol=1e-6)
print(f"{len(by_hand)} rows by hand equal new_embeddings.build's; "
      f"{(t_fvt.plan.shared >= 0).sum():,} shared tokens copied, {t_fvt.preflight.new:,} new tokens averaged")

# %% [markdown]
# ## 3 · OMP by hand
# FVT only looks at a token's own pieces. Orthogonal Matching Pursuit (Goddard & Neto 2025,
# "Training-Free Tokenizer Transplantation via Orthogonal Matching Pursuit") looks for the token's
# meaning instead: in a space where **both** vocabularies have vectors (the paper uses a donor model
# trained on the new vocabulary), write the new token as a sparse combination of a few shared
# tokens, then give it the **same combination** of those tokens' rows in the base model.
#
# OMP finds the combination greedily (Pati, Rezaiifar & Krishnaprasad 1993). With the target y and
# the dictionary A (one atom, here one shared token, per row), start from the residual r = y; at
# each of k steps pick the atom whose direction is most correlated with r, the largest
# |r · A[j]| / ‖A[j]‖, then refit *every* chosen coefficient by least squares and recompute
# r = y − Σ cⱼ A[j]. The refit keeps r orthogonal to the chosen atoms, so none is picked twice.
#
# A toy: eight shared tokens with vectors in a 6-dimensional shared space and a 4-dimensional base
# model, and a new token `' unhappily'` whose shared-space vector is made to be exactly
# 0.9 · `' happy'` + 0.6 · `'un'` + 0.4 · `'ly'`.

# %%
toy = ex.toy_space()
steps = ex.omp_steps(toy.new_donor, toy.donor, k=3)
print(f"target {toy.new_word!r}, ‖y‖ = {np.linalg.norm(toy.new_donor):.3f}")
for s, st in enumerate(steps):
    scores = "  ".join(f"{w!r} {v:.2f}" for w, v in zip(toy.words, st.scores))
    coefs = ", ".join(f"{toy.words[steps[j].pick]!r} {c:.3f}" for j, c in enumerate(st.coefs))
    print(f"step {s}: |r·A[j]|/‖A[j]‖: {scores}\n        pick {toy.words[st.pick]!r}; refit: {coefs}; "
          f"‖r‖ = {st.residual:.2e}")
atoms = [st.pick for st in steps]
coefs = steps[-1].coefs
base_vector = coefs @ toy.base[atoms]  # (4,) the same combination of the base model's rows
print(f"\nthe recipe {toy.recipe} is recovered; in the base model {toy.new_word!r} gets "
      f"{np.round(base_vector, 3).tolist()}")

# %% [markdown]
# The recipe comes back exactly because the target is an exact sparse combination and eight atoms
# in six dimensions are different enough here. With atoms that are too alike OMP can pick a wrong
# one first: it is greedy, and exact recovery is guaranteed only for dictionaries whose atoms are
# far from parallel.
#
# ### Exercise · `omp(y, A, k) -> (atoms, coefs)`
# Write OMP for one target `y` (d,) over the rows of `A` (M, d): return the `k` atom indices in the
# order you pick them and their `k` coefficients (for the atoms as given). Use numpy
# (`np.linalg.lstsq` solves the least squares). `ex.hint(1)`, `ex.hint(2)` and `ex.hint(3)` help, one
# step at a time. The checker compares your function with `tokenworks.lm.omp.omp` on 7 cases,
# three of them exact sparse combinations whose atoms and coefficients must come back, and names
# what differs: a wrong atom at step s and why, coefficients not refit by least squares, an atom
# picked twice, a wrong shape, or the exception your code raised.

# %%
def omp(y: np.ndarray, A: np.ndarray, k: int) -> tuple[list[int], np.ndarray]:
    # ✎ your code (delete the line below and write your own)
    raise NotImplementedError("write omp, then run the checker cell below")
    # ✎ end


# %%
result = ex.check_omp(omp)
if FAST and not result.passed:  # CI runs the stub: check the library's reference answer instead
    print("\nTOKENWORKS_FAST=1: the reference solution through the same checker")
    result = ex.check_omp(ex.reference_omp)
    assert result.passed, result.message

# %% [markdown]
# What the checker says about a common wrong answer, matching pursuit: each step updates only the
# new atom's coefficient (r −= c A[j]) instead of refitting all of them.

# %%
def matching_pursuit(y, A, k):
    r, atoms, coefs = y.copy(), [], []
    for _ in range(k):
        scores = np.abs(A @ r) / np.linalg.norm(A, axis=1)
        j = int(np.argmax(scores))
        c = (A[j] @ r) / (A[j] @ A[j])
        atoms.append(j)
        coefs.append(c)
        r = r - c * A[j]
    return atoms, np.array(coefs)


mp_result = ex.check_omp(matching_pursuit)
assert not mp_result.passed

# %% [markdown]
# ### OMP on real tokens
# Offline there is no donor model trained on cl100k_base, so the shared space has to be built
# honestly from what is here. `tokenworks.lm.donor_space` uses **MiniLM's word embeddings**
# (all-MiniLM-L6-v2): a token's vector is the mean of the input embeddings of the WordPieces of
# its text. Every token with text has one, in both vocabularies. The price: MiniLM's tokenizer is
# lower-cased and drops spaces, so `' The'` and `'the'` share a vector there; a mean ignores the
# order of the WordPieces; and tokens that are part of a UTF-8 character have none (they keep
# their FVT row). The library's OMP takes 8 atoms,
# searched among the 512 shared tokens most correlated with the target.

# %%
from tokenworks.lm.donor_space import NAME, donor_vectors
from tokenworks.lm.omp import omp as library_omp

anchors = np.flatnonzero(t_fvt.plan.shared >= 0)  # cl100k ids whose bytes are a SmolLM2 token
targets = [new.encode(w).ids.tolist()[0] for w in examples]
dv = donor_vectors([new_vocab.token_bytes[i] for i in anchors] + [new_vocab.token_bytes[i] for i in targets])
n = len(anchors)
A_real, ok = dv.vectors[:n], dv.ok[:n]  # (M, 384) the shared tokens in MiniLM's space
Y_real = dv.vectors[n:]  # (5, 384) the new tokens
assert dv.ok[n:].all()
anchors, A_real = anchors[ok], A_real[ok]
print(f"shared space: {NAME}; {len(anchors):,} shared tokens as atoms\n")
for r, i in enumerate(targets):
    (idx,), (coef,) = library_omp(Y_real[r:r + 1], A_real, new_embeddings.OMP_ATOMS, pool=new_embeddings.OMP_POOL)
    recipe = " ".join(f"{c:+.2f}·{new.render_token(anchors[a])!r}" for a, c in zip(idx, coef) if c != 0)
    row = coef @ E[t_fvt.plan.shared[anchors[idx]]]  # (576,) the same combination of SmolLM2 rows
    cos = row @ t_fvt.matrix[i] / np.linalg.norm(row) / np.linalg.norm(t_fvt.matrix[i])
    print(f"{new.render_token(i)!r:17} ≈ {recipe}\n{'':19} (cosine to its FVT row {cos:.2f})")

# %% [markdown]
# ## 4 · The real transplant and its numbers
# `transplant(lm, "text/cl100k_base", method)` measures first, writes nothing until it has: the
# pre-flight report says how much of the vocabulary and of a held-out text the method must invent,
# which ids the plan reads (none may fall outside the base matrix), what each special token gets,
# and how the two tokenizers cut numbers (Goddard & Neto found numbers split differently the
# hardest part).

# %%
pre = t_fvt.preflight
print(f"{pre.base_tokenizer} ({pre.base_vocab:,} tokens) -> {pre.new_tokenizer} ({pre.new_vocab:,} tokens)")
print(f"shared tokens (keep their rows): {pre.shared:,}; new tokens (the method invents them): {pre.new:,} "
      f"({pre.new_share:.0%})")
print(f"held-out prose: {pre.heldout_bytes:,} bytes, {pre.heldout_tokens_base} SmolLM2 tokens, "
      f"{pre.heldout_tokens_new} cl100k_base tokens; {pre.heldout_new_share:.1%} of its bytes fall in new tokens")
print(f"ids beyond the base matrix: {pre.out_of_range}; bytes no SmolLM2 token holds: {pre.unrepresented_bytes}")
for name, what in pre.special.items():
    print(f"  special {name!r}: {what}")
print("\nhow each tokenizer cuts numbers:")
for number, a, b in pre.numbers:
    print(f"  {number:>10}  SmolLM2 {a}   cl100k_base {b}")

# %% [markdown]
# SmolLM2 writes every digit as its own token, cl100k_base groups up to three: every multi-digit
# number token is new, and its vector must be invented.
#
# Now the score. Bits per byte (notebook 07) compares models whose tokenizers differ: the original
# on its own tokens against each transplanted model on cl100k_base's, on the same characters.
# Zero-shot: nothing is trained.

# %%
is_new = (t_fvt.plan.shared < 0) & ~new_vocab.special  # (100277,)
for k, d in texts.items():
    ids = new.encode(d.text).ids.tolist()
    share = sum(len(new_vocab.token_bytes[i]) for i in ids if is_new[i]) / len(d.text.encode())
    print(f"{d.label}: {len(d.text.encode()):,} bytes, {share:.1%} of them in new tokens")
methods = ["mean", "fvt"] + ([] if FAST else ["tokenadapt", "omp"])
bpb = {"original": {k: lm.score(d.text).bits_per_byte for k, d in texts.items()}}
built_in = {}
for m in methods:
    t = t_fvt if m == "fvt" else transplant(lm, "text/cl100k_base", m, texts=[texts["english"].text])
    built_in[m] = t.seconds
    bpb[m] = {k: t.lm.score(d.text).bits_per_byte for k, d in texts.items()}
    del t
del t_fvt
print(f"{'':12}" + "".join(f"{d.label[:34]:>38}" for d in texts.values()))
for m, row in bpb.items():
    cells = "".join(f"{row[k]:16.3f} bits/byte {row[k] / bpb['original'][k]:6.2f}x    " for k in texts)
    print(f"{m:12}{cells}" + (f" built in {built_in[m]:.0f} s" if m in built_in else ""))
fig = go.Figure([go.Bar(name=d.label, x=methods, y=[bpb[m][k] / bpb["original"][k] for m in methods])
                 for k, d in texts.items()])
fig.add_hline(y=1.0, line_dash="dot", annotation_text="the original model")
fig.update_layout(barmode="group", title="SmolLM2 on cl100k_base tokens, zero-shot: bits per byte / the original's",
                  yaxis_title="× the original", height=340, margin=dict(t=40))
display(fig)

# %% [markdown]
# Every transplanted model is worse than the original, which reads its own tokens: the network was
# trained on SmolLM2's rows and sees invented ones wherever a token is new, as input and, because
# the embeddings are tied, as the output vector that scores that token. How much worse depends on
# how many bytes fall in new tokens (printed above for each text) and on the method. In the
# transplant bench (`tokenworks.lm.transplant_bench`; its numbers are in the README), TokenAdapt
# comes out best on held-out prose and OMP last. A likely reason OMP loses here: in MiniLM's lower-cased, space-blind word space the atoms it finds can be
# another case, spacing or order of the same pieces (`'()\n'` came out as exactly `')('` above),
# which a donor model trained on cl100k_base would tell apart. TokenAdapt mixes such neighbours
# with the token's own pieces and loses less. The fine-tune (`python -m tokenworks.train
# lm-embeddings`) first sets how much probability the new tokens get, on training text: a
# transplanted model gives them too much, and that step recovers about a fifth of the gap. Ten CPU
# minutes of training the rows did not close more (the README has the numbers).

# %%
print(f"exercise: {'passed' if result.passed else 'not yet passed'}; "
      f"notebook ran in {time.perf_counter() - T_START:.0f} s{' (TOKENWORKS_FAST=1)' if FAST else ''}")
