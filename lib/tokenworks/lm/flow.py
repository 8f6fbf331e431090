"""Information flow from the last token back, through every layer: attention rollout.

    from tokenworks.lm.flow import information_flow
    f = information_flow(res)                   # res: an AttentionResult (SmolLM2 or MiniLM)
    f.flow                                      # (T,) how much of the last token's state traces back to each token
    f.per_layer                                 # (L, T) the same after layers 0..l (the last row is f.flow)
    f = information_flow(res, "value-norm")     # rollout of Kobayashi's value-norm maps (SmolLM2)

**rollout** (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): each layer's
heads are averaged, the residual connection is added as ``0.5 * A + 0.5 * I`` and the rows are
renormalised; the layers are multiplied through, ``R = A'_L-1 ... A'_1 A'_0``. Row i of R says
how much of position i's state, after the last layer, traces back to each input token. Every
A' is row-stochastic, so R is: its rows sum to 1. A causal model's A' are lower triangular,
so R is too: nothing flows from a later token.

**value-norm** rolls out Kobayashi et al. 2020's maps instead of the raw weights: the length
of the vector each head moves, ``||sum_h alpha_hij f_h(x_j)||``, each row divided by its sum, then
the same residual and product. A token that gets a big weight but moves a short vector (the
attention sink, often) counts for less.

In a causal model the first position sees only itself: its row is (1, 0, ..., 0) in every layer,
so the product piles up there, and after SmolLM2's 30 layers nearly all the flow of any token
ends on the document-start token. That is what rollout says, and ``f.flow`` keeps it;
``f.rest`` / ``f.rest_per_layer`` share out what is left among the other tokens (position 0 set to
0, the rest renormalised), which is where the view's bars look when ``f.first_absorbs``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput

FLOW_METHODS = ("rollout", "value-norm")
RESIDUAL = 0.5  # weight of the identity: A' = (1 - RESIDUAL) A + RESIDUAL I
DESCRIPTIONS = {
    "rollout": "attention rollout (Abnar & Zuidema 2020): heads averaged, 0.5·A + 0.5·I per layer, rows "
               "renormalised, multiplied through the layers",
    "value-norm": "rollout of value-norm-weighted attention: ||Σ_h α_h f_h(x)|| per token pair (Kobayashi et al. "
                  "2020), rows renormalised, then 0.5·A + 0.5·I and multiplied through the layers",
}


@dataclass
class FlowResult:
    """How the last token's final state traces back to the input tokens. T tokens, L layers."""

    labels: list[str]  # the T tokens, as the figures show them
    method: str  # one of FLOW_METHODS
    description: str  # the method in words, for people
    rollout: np.ndarray  # (T, T) float64: row i, where position i's final state comes from; rows sum to 1
    per_layer: np.ndarray  # (L, T) float64: the last token's row after layers 0..l
    model: str = ""
    first_absorbs: bool = False  # a causal model: position 0 sees only itself, and the flow piles up there

    @property
    def flow(self) -> np.ndarray:
        """(T,) the last token's row of the rollout: sums to 1."""
        return self.rollout[-1]

    @property
    def query(self) -> int:
        return len(self.labels) - 1

    @property
    def rest(self) -> np.ndarray:
        """(T,) the flow without position 0, renormalised (0 at position 0; all 0 for one token)."""
        return without_first(self.flow)

    @property
    def rest_per_layer(self) -> np.ndarray:
        """(L, T) the same for each layer's row."""
        return without_first(self.per_layer)


def without_first(x: np.ndarray) -> np.ndarray:
    """(..., T) position 0 set to 0 and each row renormalised to sum to 1 (rows of zeros stay zero)."""
    x = np.array(x, dtype=np.float64)
    x[..., 0] = 0.0
    s = x.sum(-1, keepdims=True)
    return np.divide(x, s, out=np.zeros_like(x), where=s > 0)


def _with_residual(maps: np.ndarray, residual: float) -> np.ndarray:
    """(L, T, T) maps -> (1 - residual) * A + residual * I, rows renormalised."""
    T = maps.shape[-1]
    a = (1.0 - residual) * maps + residual * np.eye(T)[None]  # (L, T, T)
    return a / a.sum(-1, keepdims=True)


def attention_rollout(maps: np.ndarray, residual: float = RESIDUAL) -> np.ndarray:
    """(L, T, T) rollout after each layer from per-layer maps (L, T, T) or per-head maps (L, H, T, T)
    (heads averaged): entry l is A'_l ... A'_0, float64, rows summing to 1."""
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 4:
        maps = maps.mean(axis=1)  # (L, T, T)
    if maps.ndim != 3 or maps.shape[1] != maps.shape[2] or maps.shape[0] < 1:
        raise InvalidInput(f"attention maps must be (L, T, T) or (L, H, T, T) with L >= 1; got {maps.shape}")
    if not 0.0 <= residual <= 1.0:
        raise InvalidInput(f"residual must be between 0 and 1 (got {residual})")
    a = _with_residual(maps, residual)  # (L, T, T)
    out = np.empty_like(a)
    r = np.eye(a.shape[-1])
    for layer in range(a.shape[0]):
        r = a[layer] @ r  # (T, T): the new layer mixes what the earlier ones had gathered
        out[layer] = r
    return out


def normalized_rows(maps: np.ndarray) -> np.ndarray:
    """(L, T, T) each row divided by its sum (rows of zeros stay zero)."""
    maps = np.asarray(maps, dtype=np.float64)
    s = maps.sum(-1, keepdims=True)
    return np.divide(maps, s, out=np.zeros_like(maps), where=s > 0)


def information_flow(res, method: str = "rollout", residual: float = RESIDUAL) -> FlowResult:
    """The flow from the last token of ``res`` (an ``AttentionResult``) back to every token."""
    if method not in FLOW_METHODS:
        raise InvalidInput(f"method must be one of {', '.join(FLOW_METHODS)} (got {method!r})")
    if method == "value-norm":
        norms = getattr(res, "value_norms", None)
        if norms is None:
            raise InvalidInput(f"value norms are measured for SmolLM2 only; {res.model} shows 'rollout'")
        maps = normalized_rows(norms)  # (L, T, T)
    else:
        maps = res.attentions  # (L, H, T, T)
    rolled = attention_rollout(maps, residual)  # (L, T, T)
    return FlowResult(labels=list(res.labels), method=method, description=DESCRIPTIONS[method],
                      rollout=rolled[-1], per_layer=rolled[:, -1, :], model=res.model,
                      first_absorbs=bool(getattr(res, "causal", False)))
