"""The new tokens' output side, fitted as a few numbers that every new token shares.

A fine-tune moves only the rows of tokens its windows hold: ten CPU minutes see a few thousand of
cl100k_base's 61,055 new tokens, and the held-out text is full of the others. So before any row
trains, the output side is rebuilt from what every new token has, its pieces under the base
tokenizer, with weights fitted on training text:

    out(t)  = w_first E[p1] + w_row r(t) + w_mean mean(E[p]) + w_last E[pk] + w_second E[p2]
    bias(t) = b[min(k, 8)] + b_bytes log(bytes of t) + b_space [t starts with a space]
              + b_cont log P(p2 ... pk | p1)   (the base model's, ``lm.continuation``; when computed)

``E`` is the base model's (tied) embedding matrix, ``r(t)`` the token's transplanted row, ``k``
its number of pieces. The logit of a token made of pieces is about log P(p1 | h) plus the
log-probability of the rest after p1, a negative number that grows with ``k``: the first vector
carries the first term, the bias by piece count the second.

The network's states on the training windows are computed once (the input rows do not change
while this fits); Adam then fits the shared numbers on random batches of those positions, every
step scoring the whole vocabulary. Measured on cl100k_base (TokenAdapt start, 8,192 tokens of
pydocs, the held-out prose): the shared bias alone (``finetune.calibrate``) leaves the model at
about 1.114x the base model's bits per byte; this fit at 1.108x, and 1.106x with the continuation
term (README, the fine-tune table).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

MAX_PIECES = 8  # piece counts from 8 up share one bias
MIX = ("first", "row", "mean", "last", "second")  # the vectors an output row mixes, in order


@dataclass
class PieceFeatures:
    """What each new token (N of them) is made of, as tensors."""

    vectors: torch.Tensor  # (5, N, D) the MIX vectors of each new token
    pieces: torch.Tensor  # (N,) long: piece count - 1, clipped to MAX_PIECES - 1
    log_bytes: torch.Tensor  # (N,) log of the token's byte length
    space: torch.Tensor  # (N,) 1.0 where the token starts with a space
    cont: torch.Tensor  # (N,) log P(pieces after the first | the first) under the base model (lm.continuation), or 0


@dataclass
class OutputFit:
    """The fitted numbers and what they did on the fitting positions."""

    weights: dict[str, float]  # MIX name -> weight
    piece_bias: list[float]  # bias by piece count 1, 2, ..., MAX_PIECES (and more)
    bytes_bias: float  # times log(bytes)
    space_bias: float  # for a leading space
    cont_weight: float  # times the continuation log-probability
    loss_before: float  # nats per token on every fitting position, before and after
    loss_after: float
    positions: int
    steps: int
    seconds: float


def piece_features(rows: np.ndarray, index: np.ndarray, pieces: list[list[int]], token_bytes: list[bytes],
                   E_base: np.ndarray, cont: np.ndarray | None = None) -> PieceFeatures:
    """``rows`` (N, D): the new tokens' transplanted rows; ``index`` (N,) their ids; ``pieces[id]``
    their base pieces; ``E_base`` (V_base, D) the base embedding matrix; ``cont`` (N,) the
    continuation log-probabilities (None: zeros, the feature off)."""
    N, D = rows.shape
    mix = np.zeros((len(MIX), N, D), dtype=np.float32)  # (5, N, D)
    mix[1] = rows
    count, log_bytes, space = np.ones(N, np.int64), np.zeros(N, np.float32), np.zeros(N, np.float32)
    for r, i in enumerate(index.tolist()):
        p = pieces[i]
        if p:
            v = E_base[p]  # (k, D)
            mix[0, r], mix[2, r], mix[3, r] = v[0], v.mean(0), v[-1]
            mix[4, r] = v[1] if len(p) > 1 else v[0]
            count[r] = len(p)
        b = token_bytes[i]
        log_bytes[r], space[r] = math.log(max(1, len(b))), float(b[:1] == b" ")
    return PieceFeatures(torch.from_numpy(mix), torch.from_numpy(np.minimum(count, MAX_PIECES) - 1),
                         torch.from_numpy(log_bytes), torch.from_numpy(space),
                         torch.zeros(N) if cont is None else torch.as_tensor(cont, dtype=torch.float32))


class SharedOutput(torch.nn.Module):
    """The shared numbers: MIX weights (5,), a bias per piece count (MAX_PIECES,), and the bytes,
    space and continuation terms (3,)."""

    def __init__(self, out_first: float, start_bias: float) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([out_first, 1 - out_first, 0.0, 0.0, 0.0]))
        self.piece_bias = torch.nn.Parameter(torch.full((MAX_PIECES,), float(start_bias)))
        self.terms = torch.nn.Parameter(torch.zeros(3))

    def forward(self, f: PieceFeatures) -> tuple[torch.Tensor, torch.Tensor]:
        """(out (N, D), bias (N,)) of the new tokens."""
        out = torch.einsum("m,mnd->nd", self.w, f.vectors)  # (N, D)
        bias = (self.piece_bias[f.pieces] + self.terms[0] * f.log_bytes + self.terms[1] * f.space
                + self.terms[2] * f.cont)  # (N,)
        return out, bias


@dataclass
class SplitLogits:
    """The logits of P positions, summed apart for the tokens the base model knows and the new ones:
    what calibrating one shared bias and fitting the shared numbers both need, from one pass over
    the full vocabulary."""

    lse_known: torch.Tensor  # (P,) log-sum-exp of the known tokens' logits (these never change)
    lse_new: torch.Tensor  # (P,) log-sum-exp of the new tokens' logits under the output rows given
    y_logit: torch.Tensor  # (P,) the target's logit under the output rows given
    y_new: torch.Tensor  # (P,) long: the target's row among the new tokens, or -1 for a known one

    def loss_with_bias(self, b: float) -> float:
        """Nats per position with ``b`` added to every new token's logit."""
        lse = torch.logaddexp(self.lse_known, self.lse_new + b)
        return float((lse - self.y_logit - b * (self.y_new >= 0)).mean())


def split_logits(states: torch.Tensor, targets: torch.Tensor, W: torch.Tensor, index: torch.Tensor,
                 chunk: int = 1024) -> SplitLogits:
    """``states`` (P, D) whose next tokens are ``targets`` (P,), read through the output matrix
    ``W`` (V, D) whose rows at ``index`` (N,) are the new tokens."""
    known = torch.ones(W.shape[0], dtype=torch.bool)
    known[index] = False
    new_pos = torch.full((W.shape[0],), -1, dtype=torch.long)
    new_pos[index] = torch.arange(len(index))
    P = len(targets)
    lse_known, lse_new, y_logit = torch.empty(P), torch.empty(P), torch.empty(P)
    with torch.no_grad():
        for s in range(0, P, chunk):
            logits = states[s:s + chunk] @ W.T  # (P', V)
            lse_known[s:s + chunk] = logits[:, known].logsumexp(-1)
            lse_new[s:s + chunk] = logits[:, index].logsumexp(-1)
            y_logit[s:s + chunk] = logits.gather(1, targets[s:s + chunk, None])[:, 0]
    return SplitLogits(lse_known, lse_new, y_logit, new_pos[targets])


def fit_output(states: torch.Tensor, targets: torch.Tensor, W_fixed: torch.Tensor, index: torch.Tensor,
               f: PieceFeatures, *, out_first: float, start_bias: float, steps: int, lr: float,
               batch: int = 256, seed: int = 0, parts: SplitLogits | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, OutputFit]:
    """Fit SharedOutput on ``states`` (P, D), the network's final states at P positions of
    training text, whose next tokens are ``targets`` (P,). ``W_fixed`` (V, D) is the output matrix
    of every token the base model knows (its rows at ``index`` (N,), the new ids, are not read).
    Returns the new tokens' output rows (N, D), their biases (N,) and the OutputFit.

    The known tokens' logits do not change, so their log-sum-exp and the target's logit (where
    the target is a known token) are computed once (``split_logits``; pass ``parts`` when it
    has been); each step scores only the new tokens."""
    t0 = time.perf_counter()
    head = SharedOutput(out_first, start_bias)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    parts = parts or split_logits(states, targets, W_fixed, index)
    lse_known, y_logit, y_new = parts.lse_known, parts.y_logit, parts.y_new  # (P,) each

    def loss_on(sel: torch.Tensor) -> torch.Tensor:
        out, bias = head(f)  # (N, D), (N,)
        logits = states[sel] @ out.T + bias  # (B, N)
        lse = torch.logaddexp(lse_known[sel], logits.logsumexp(-1))  # (B,)
        yn = y_new[sel]
        picked = logits.gather(1, yn.clamp(min=0)[:, None])[:, 0]  # (B,)
        return (lse - torch.where(yn >= 0, picked, y_logit[sel])).mean()

    def full_loss() -> float:
        with torch.no_grad():
            return float(sum(loss_on(torch.arange(s, min(s + 1024, len(targets)))) * min(1024, len(targets) - s)
                             for s in range(0, len(targets), 1024)) / len(targets))

    before = full_loss()
    for _ in range(steps):
        loss = loss_on(torch.randint(0, len(targets), (min(batch, len(targets)),), generator=gen))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    after = full_loss()
    with torch.no_grad():
        out, bias = head(f)
        w, pb, terms = head.w.tolist(), head.piece_bias.tolist(), head.terms.tolist()
    fit = OutputFit(dict(zip(MIX, w)), pb, terms[0], terms[1], terms[2], before, after, len(targets), steps,
                    time.perf_counter() - t0)
    return out.detach(), bias.detach(), fit


__all__ = ["MAX_PIECES", "MIX", "OutputFit", "PieceFeatures", "SharedOutput", "SplitLogits", "fit_output",
           "piece_features", "split_logits"]
