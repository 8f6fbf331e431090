"""What the base model thinks it costs to finish a new token once its first piece is read.

A new token t whose bytes are the base pieces p1 ... pk should get about the logit
log P(p1 | h) + log P(p2 ... pk | h, p1). The second term depends on the context h; its
context-free part, log P(p2 ... pk | document start, p1) under the base model, is a per-token
number the base model can compute for every new token, seen in training text or not:
``" the" + "ir"`` is cheap to finish, a run of code symbols is not. ``lm.output_fit`` uses it as a
feature of the new token's logit bias, with a fitted weight.

One forward pass per new token (grouped by piece count, ``batch`` at a time): cl100k_base's
61,055 new tokens are about 210,000 positions, minutes on a CPU, so ``cached_continuation``
keeps the result in the cache folder, keyed by the model, the tokenizer and the pieces.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

MAX_LEN = 16  # pieces past this many are not read (their cost is left out)


def continuation_logprob(module: torch.nn.Module, bos: int, pieces: list[list[int]], batch: int = 256) -> np.ndarray:
    """(N,) natural-log probability of pieces[i][1:] after the document start and pieces[i][0]
    under ``module`` (a base LLaMA with tied or untied output), 0.0 for a token of one piece."""
    out = np.zeros(len(pieces), dtype=np.float32)
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(pieces):
        if len(p) > 1:
            by_len.setdefault(min(len(p), MAX_LEN), []).append(i)
    W = module.get_output_embeddings().weight  # (V, D)
    with torch.inference_mode():
        for k, rows in sorted(by_len.items()):
            for s in range(0, len(rows), batch):
                chunk = rows[s:s + batch]
                x = torch.tensor([[bos] + pieces[i][:k] for i in chunk], device=W.device)  # (B, k + 1)
                h = module.model(input_ids=x[:, :-1], use_cache=False).last_hidden_state[:, 1:]  # (B, k - 1, D)
                logits = (h @ W.T).float()  # (B, k - 1, V)
                lp = logits.gather(-1, x[:, 2:, None])[..., 0] - logits.logsumexp(-1)  # (B, k - 1)
                out[chunk] = lp.sum(-1).cpu().numpy()
    return out


def cached_continuation(module: torch.nn.Module, bos: int, pieces: list[list[int]], model: str, tokenizer: str,
                        folder: str | Path | None = None) -> tuple[np.ndarray, bool]:
    """``continuation_logprob`` read from ``folder`` (default: the cache folder's
    lm-continuation/) when an earlier run computed it, else computed and written atomically;
    returns (the values, whether they came from the cache)."""
    from ..paths import cache_dir

    h = hashlib.sha256(repr((model, tokenizer, bos, MAX_LEN, pieces)).encode()).hexdigest()[:20]
    path = Path(folder or cache_dir() / "lm-continuation") / f"{h}.npy"
    if path.is_file():
        got = np.load(path)
        if got.shape == (len(pieces),):
            return got, True
    out = continuation_logprob(module, bos, pieces)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, out)
    os.replace(tmp, path)
    return out, False


__all__ = ["MAX_LEN", "cached_continuation", "continuation_logprob"]
