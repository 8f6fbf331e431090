"""Scoring a text with a language model: surprisal per token and bits per byte.

Bits per byte is -log2 p of every token of the text, the first conditioned on the model's
document-start token (``<|endoftext|>`` for SmolLM2), summed and divided by the text's UTF-8
byte count. It is the one score that compares models with different tokenizers.

Texts longer than one window are scored with a sliding window: windows of ``window`` positions
(the document-start token included) that start every ``stride`` tokens; each token is scored
once, by the first window that holds it with at least ``window - stride`` tokens of context
(or all the context there is).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core import TokenSeq

LN2 = math.log(2.0)


@dataclass
class ScoreResult:
    """What the model thinks of each token of a text. T tokens, k alternatives."""

    text: str
    tokens: TokenSeq  # the text's tokens (document-start token not included)
    logprobs: np.ndarray  # (T,) float64: ln p(token | everything before it)
    entropy: np.ndarray  # (T,) float64: entropy in bits of the distribution that predicted each token
    top_ids: np.ndarray  # (T, k) int64: the k likeliest tokens at each position, likeliest first
    top_probs: np.ndarray  # (T, k) float64
    next_top_ids: np.ndarray  # (k,) the likeliest tokens after the last one
    next_top_probs: np.ndarray  # (k,)
    next_entropy: float  # bits, after the last token
    n_bytes: int  # UTF-8 bytes of the text
    window: int  # positions per window (document-start token included)
    stride: int  # tokens between window starts
    windows: int  # forward passes
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def surprisal(self) -> np.ndarray:
        """(T,) bits: -log2 p of each token."""
        return -self.logprobs / LN2

    @property
    def total_bits(self) -> float:
        return float(self.surprisal.sum())

    @property
    def bits_per_byte(self) -> float:
        return self.total_bits / self.n_bytes if self.n_bytes else float("nan")

    @property
    def bits_per_token(self) -> float:
        return self.total_bits / len(self.logprobs) if len(self.logprobs) else float("nan")

    def after(self, i: int) -> tuple[np.ndarray, np.ndarray, float]:
        """The prediction that follows token i: (top ids (k,), their probabilities (k,), entropy bits)."""
        T = len(self.logprobs)
        if not -T <= i < T:
            raise IndexError(f"token index must be in 0..{T - 1} (got {i})")
        i %= T
        if i + 1 < T:
            return self.top_ids[i + 1], self.top_probs[i + 1], float(self.entropy[i + 1])
        return self.next_top_ids, self.next_top_probs, self.next_entropy


def score_ids(net, bos: int, ids: list[int], window: int, stride: int, k: int):
    """Log-probs, entropies and top-k for every id, plus the prediction after the last one."""
    import torch

    if not 1 <= stride <= window - 1:
        raise ValueError(f"stride must be in 1..window-1 (window {window}, got {stride})")
    x = [bos] + list(ids)  # position 0 is the document start; tokens are x[1:]
    T = len(ids)
    logprobs = np.zeros(T, dtype=np.float64)
    entropy = np.zeros(T + 1, dtype=np.float64)  # (T+1,) the last row predicts what follows
    top_ids = np.zeros((T + 1, k), dtype=np.int64)
    top_probs = np.zeros((T + 1, k), dtype=np.float64)
    done = 0  # positions of x whose prediction is stored (predictions for x[1..done])
    begin, windows = 0, 0
    while True:
        end = min(begin + window, len(x))
        lp = net.window_logprobs(x[begin:end])  # (W, V): row r predicts x[begin + r + 1]
        windows += 1
        first = max(done, begin)  # first row index (in x) not yet stored
        rows = torch.arange(first - begin, end - begin)  # predictions for x[first+1 .. end]
        sub = lp[rows]  # (R, V)
        p = sub.exp()
        ent = -(p * sub).sum(-1) / LN2  # (R,) bits
        tp, ti = sub.topk(k, dim=-1)  # (R, k)
        targets = np.arange(first + 1, end + 1)  # positions in x predicted by these rows
        entropy[targets - 1] = ent.double().numpy()
        top_ids[targets - 1] = ti.numpy()
        top_probs[targets - 1] = tp.double().exp().numpy()
        real = targets <= T  # the row after the last token predicts nothing in the text
        if real.any():
            tgt = torch.tensor(np.asarray(x)[targets[real]])
            logprobs[targets[real] - 1] = sub[torch.arange(int(real.sum())), tgt].double().numpy()
        done = end
        if end >= len(x):
            break
        begin += stride
    return logprobs, entropy, top_ids, top_probs, windows
