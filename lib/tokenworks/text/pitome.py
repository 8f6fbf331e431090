"""PiToMe: protect informative tokens before merging (Tran et al. 2024, "Accelerating Transformers
with Spectrum-Preserving Token Merging", NeurIPS).

ToMe (``tome.py``) may merge any token; PiToMe first asks which tokens are redundant. The tokens
are the nodes of a graph whose edges are the cosine similarities of the layer's keys (averaged
over heads), and each token gets an **energy score**:

    E_i = 1/N * sum_{j != i} f_m(cos(k_i, k_j)),   f_m(x) = x if x >= m else alpha * (exp(x - m) - 1)

A token in a big cluster of similar tokens has many neighbours above the margin m: high energy,
redundant, a candidate for merging. An isolated token (a rare word, a name) collects only the
small negative tail of f_m: low energy, informative, protected. The margin shrinks with depth,
``m = 0.9 - 0.9 * l / L`` for layer l of L (tokens grow alike in later layers), alpha = 1.

To remove k tokens, the 2k highest-energy tokens are the mergeable set and the others are kept
as they are. The mergeable tokens, in order of energy, alternate into A and B (1st, 3rd, ... in A;
2nd, 4th, ... in B: "ordered energy-based" bipartite matching, so each set holds tokens of every
energy), and every token of A merges into its most similar token of B: exactly k merges, with
the same size-weighted average and proportional attention as ToMe. [CLS] is never a candidate.

    assign = pitome_assign(keys, k, layer=2, num_layers=6)    # (N,) group of each token
"""
from __future__ import annotations

import numpy as np

from ..errors import InvalidInput
from .tome import PROTECTED, assign_from_pairs, cosine_matrix, match

ALPHA = 1.0  # slope of f_m below the margin


def margin(layer: int, num_layers: int) -> float:
    """The energy margin of ``layer`` (0-based) of ``num_layers``: 0.9 at the first, smaller deeper."""
    if not 0 <= layer < num_layers:
        raise InvalidInput(f"layer must be one of 0..{num_layers - 1} (got {layer})")
    return 0.9 - 0.9 * layer / num_layers


def energy_scores(keys: np.ndarray, m: float, alpha: float = ALPHA) -> np.ndarray:
    """(N,) the energy of each row of ``keys`` (N, d) among the others."""
    n = keys.shape[0]
    sim = cosine_matrix(keys, keys)  # (N, N)
    f = np.where(sim >= m, sim, alpha * (np.exp(np.minimum(sim - m, 0.0)) - 1.0))  # (N, N)
    np.fill_diagonal(f, 0.0)  # a token is not its own neighbour
    return f.sum(axis=1) / max(n, 1)


def pitome_assign(keys: np.ndarray, k: int, layer: int, num_layers: int, alpha: float = ALPHA) -> np.ndarray:
    """(N,) groups after PiToMe removes ``k`` tokens of ``keys`` (N, d); token 0 ([CLS]) is kept.
    k is capped at half the mergeable tokens."""
    n = keys.shape[0]
    cand = np.arange(n)[np.arange(n) != PROTECTED]  # (n - 1,)
    k = min(int(k), len(cand) // 2)
    if k <= 0:
        return np.arange(n)
    energy = energy_scores(keys[cand], margin(layer, num_layers), alpha)  # (n - 1,)
    order = cand[np.argsort(-energy, kind="stable")]  # highest energy first
    mergeable = order[: 2 * k]  # the rest are protected
    a_idx, b_idx = mergeable[0::2], mergeable[1::2]  # k and k
    _, dst = match(keys, a_idx, b_idx)
    return assign_from_pairs(n, a_idx, dst)
