"""Token merging inside MiniLM (all-MiniLM-L6-v2): ToMe, PiToMe and random dropping, layer by layer.

    from tokenworks.text.token_merging import merge_tokens
    m = merge_tokens("The cat sat on the mat.", "tome", r=2)
    m.layers[0].groups      # after layer 0: the input tokens each remaining token stands for
    m.removed               # tokens removed in all (r per layer, at most half the mergeable ones)
    m.cosine                # cosine of the merged and the unmerged sentence embeddings

The model runs layer by layer here, with the weights of the shared MiniLM (``text/attention.py``)
and two changes from ToMe (Bolya et al. 2023): attention is proportional to token size,
``softmax(q k^T / sqrt(d) + log s)``, and after each layer's attention block (before its
feed-forward block, where ToMe merges) the chosen method removes r tokens:

- ``tome``: bipartite soft matching on the layer's keys (``text/tome.py``);
- ``pitome``: the same matching among high-energy tokens only (``text/pitome.py``);
- ``random``: r tokens dropped at random (numpy, seeded): the baseline.

Merged tokens are averaged weighted by size; [CLS] is never merged or dropped. Each layer removes
``min(r, (N - 1) // 2)`` of its N tokens, so every method removes the same number.

The sentence embedding is all-MiniLM-L6-v2's: the mean of the last layer's token states (its
``1_Pooling/config.json``: ``pooling_mode_mean_tokens``, [CLS] and [SEP] included), then L2
normalised (``2_Normalize``). After merging, the mean is weighted by token size, so a merged
token counts as the tokens it stands for. The unmerged embedding comes from the model's own
forward pass (transformers), so r = 0 checks this runner against it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInput
from .attention import AttnToken, _load, attention_map, model_dir
from .pitome import pitome_assign
from .tome import tome_assign

METHODS = ("tome", "pitome", "random")
LABELS = {"tome": "ToMe", "pitome": "PiToMe", "random": "random dropping"}
MAX_R = 64  # merges per layer a request may ask for
SEED = 0  # the random baseline's default seed


@dataclass
class LayerMerge:
    """What one layer did."""

    layer: int
    before: int  # tokens entering the layer
    removed: int  # tokens merged away (or dropped) in it
    groups: list[list[int]]  # after it: for each remaining token, the input positions it stands for


@dataclass
class MergeResult:
    """A sentence through MiniLM with token merging, and how far its embedding moved."""

    sentence: str
    tokens: list[AttnToken]  # the T input tokens ([CLS] ... [SEP])
    method: str  # one of METHODS
    r: int  # merges asked per layer
    layers: list[LayerMerge]  # one per layer, in order
    sizes: np.ndarray  # (N,) input tokens each final token stands for
    embedding: np.ndarray  # (384,) float64: merged, L2-normalised
    reference: np.ndarray  # (384,) float64: unmerged (the model's own forward pass), L2-normalised
    seed: int = SEED  # the random baseline's seed
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def cosine(self) -> float:
        return float(self.embedding @ self.reference)

    @property
    def removed(self) -> int:
        return sum(step.removed for step in self.layers)

    @property
    def label(self) -> str:
        return LABELS[self.method]

    @property
    def labels(self) -> list[str]:
        return [t.text for t in self.tokens]


def check_method(method: str, r: object) -> int:
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    if isinstance(r, float) and r.is_integer():
        r = int(r)
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 0 <= r <= MAX_R:
        raise InvalidInput(f"merges per layer must be a whole number from 0 to {MAX_R} (got {r!r})")
    return int(r)


def _normalized(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _plan(method: str, keys: np.ndarray, r: int, layer: int, num_layers: int, rng: np.random.Generator) -> np.ndarray:
    """(N,) the group of each token after the layer's step, -1 for a dropped token."""
    if method == "tome":
        return tome_assign(keys, r)
    if method == "pitome":
        return pitome_assign(keys, r, layer, num_layers)
    n = keys.shape[0]
    drop = rng.choice(np.arange(1, n), size=r, replace=False) if r > 0 else np.array([], np.int64)
    keep = np.ones(n, bool)
    keep[drop] = False
    return np.where(keep, np.cumsum(keep) - 1, -1)


def _merge(x, sizes, src, assign: np.ndarray):
    """Size-weighted averages of the tokens of each group; dropped tokens (-1) vanish."""
    import torch

    keep = torch.from_numpy(assign >= 0).to(x.device)
    g = torch.from_numpy(np.maximum(assign, 0)).to(x.device)[keep]  # (kept,)
    G = int(assign.max()) + 1
    new_sizes = torch.zeros(G, dtype=x.dtype, device=x.device).index_add_(0, g, sizes[keep])  # (G,)
    new_x = torch.zeros(G, x.shape[1], dtype=x.dtype, device=x.device).index_add_(
        0, g, x[keep] * sizes[keep, None]) / new_sizes[:, None]  # (G, D)
    new_src = torch.zeros(G, src.shape[1], dtype=x.dtype, device=x.device).index_add_(0, g, src[keep])  # (G, T)
    return new_x, new_sizes, new_src


def _layer_attention(layer, x, sizes):
    """The layer's self-attention block with proportional attention: (output (N, D), keys (N, d))."""
    import torch

    sa = layer.attention.self
    N = x.shape[0]
    H, d = sa.num_attention_heads, sa.attention_head_size
    q = sa.query(x).view(N, H, d).transpose(0, 1)  # (H, N, d)
    k = sa.key(x).view(N, H, d).transpose(0, 1)  # (H, N, d)
    v = sa.value(x).view(N, H, d).transpose(0, 1)  # (H, N, d)
    scores = q @ k.transpose(1, 2) * sa.scaling + torch.log(sizes)[None, None, :]  # (H, N, N)
    ctx = torch.softmax(scores, dim=-1) @ v  # (H, N, d)
    out = layer.attention.output(ctx.transpose(0, 1).reshape(N, H * d), x)  # (N, D)
    return out, k.mean(dim=0)  # keys averaged over heads: the merging metric (N, d)


def run_merged(model, ids: list[int], method: str, r: int, seed: int = SEED):
    """MiniLM over ``ids`` with ``method`` removing up to r tokens per layer:
    (final states (N, D), sizes (N,), list of LayerMerge)."""
    import torch

    dev = next(model.parameters()).device
    rng = np.random.default_rng(seed)
    layers = list(model.encoder.layer)
    with torch.inference_mode():
        x = model.embeddings(input_ids=torch.tensor([ids], device=dev))[0]  # (T, D)
        T = x.shape[0]
        sizes = torch.ones(T, dtype=x.dtype, device=dev)  # (N,)
        src = torch.eye(T, dtype=x.dtype, device=dev)  # (N, T): which input tokens each token holds
        steps = []
        for i, layer in enumerate(layers):
            N = x.shape[0]
            h, keys = _layer_attention(layer, x, sizes)
            n_r = min(r, (N - 1) // 2)
            if n_r > 0:
                assign = _plan(method, keys.double().cpu().numpy(), n_r, i, len(layers), rng)
                h, sizes, src = _merge(h, sizes, src, assign)
            x = layer.output(layer.intermediate(h), h)  # (N', D)
            groups = [np.flatnonzero(row).tolist() for row in (src > 0).cpu().numpy()]
            steps.append(LayerMerge(layer=i, before=N, removed=N - x.shape[0], groups=groups))
    return x, sizes, steps


def load_minilm():
    """The shared MiniLM (transformers BertModel), loaded on first use (AssetMissing names the fetch)."""
    return _load(model_dir())[0]


def reference_embedding(model, ids: list[int]) -> np.ndarray:
    """(D,) the unmerged sentence embedding, from the model's own forward pass: mean, then L2."""
    import torch

    dev = next(model.parameters()).device
    with torch.inference_mode():
        x = torch.tensor([ids], device=dev)  # (1, T)
        h = model(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state[0]  # (T, D)
    return _normalized(h.double().mean(0).cpu().numpy())


def embedding_of(x, sizes) -> np.ndarray:
    """(D,) the sentence embedding of final states (N, D): their mean weighted by size, then L2."""
    w = (sizes / sizes.sum())[:, None]  # (N, 1): a merged token counts as the tokens it holds
    return _normalized((x * w).sum(0).double().cpu().numpy())


def merge_tokens(sentence: str, method: str = "tome", r: int = 2, *, seed: int = SEED) -> MergeResult:
    """``sentence`` through MiniLM with ``method`` ("tome" | "pitome" | "random") removing up to
    ``r`` tokens per layer, and the cosine of its embedding to the unmerged one."""
    r = check_method(method, r)
    t0 = time.perf_counter()
    res = attention_map(sentence)  # the tokens (at most 128) and the input checks
    model = load_minilm()
    ids = [t.id for t in res.tokens]
    x, sizes, steps = run_merged(model, ids, method, r, seed)
    notes = list(res.notes)
    if any(s.removed < r for s in steps) and r > 0:
        notes.append(f"{r} merges per layer asked; a layer of N tokens removes at most (N - 1) // 2 (never [CLS]), "
                     f"so {sum(s.removed for s in steps)} of {r * len(steps)} were possible")
    return MergeResult(sentence=res.sentence, tokens=res.tokens, method=method, r=r, layers=steps,
                       sizes=sizes.cpu().numpy(), embedding=embedding_of(x, sizes), reference=reference_embedding(model, ids), seed=seed,
                       seconds=time.perf_counter() - t0, notes=notes)
