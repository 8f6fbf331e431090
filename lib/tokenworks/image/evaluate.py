"""How well an image tokenizer reconstructs held-out images: what the trainer writes into config.json.

    m = evaluate(tok, test.images)             # {"psnr": ..., "psnr_per_k": {...}, "codebook": {...}, ...}
    m = prefix_metrics(tok, ids, images)       # flex1d ids at every k of the doubling grid and byte budget
    budgets(T, V)                              # {100: k, 200: k, 300: k}: the most tokens each budget holds

PSNR is ``tokenworks.metrics.image.psnr`` (capped at 100 dB, so an exact image reads 100). An
ordered (flex1d) tokenizer is measured at every prefix length k = 1, 2, 4, ..., T
(``metrics.rate.doubling_ks``) and at the byte budgets ``BYTE_BUDGETS`` (where it is compared with
JPEG and WebP), with the shares of images whose PSNR never falls as k grows; a grid tokenizer
decodes all of its tokens, once.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..metrics.image import psnr
from ..metrics.rate import doubling_ks
from ..quantizers import CodebookHealth
from .flex1d import bytes_for_tokens, tokens_for_bytes
from .tokenizer import Flex1DTokenizer, GridTokenizer, ImageTokenizer

BYTE_BUDGETS = (100, 200, 300)  # equal-bytes points compared against JPEG / WebP


def budgets(T: int, vocab_size: int) -> dict[int, int]:
    """{bytes: k}: the most tokens each of BYTE_BUDGETS holds, for the budgets T tokens can fill."""
    k_at = {b: tokens_for_bytes(b, vocab_size) for b in BYTE_BUDGETS}
    return {b: k for b, k in k_at.items() if 1 <= k <= T}


@torch.inference_mode()
def prefix_metrics(tok: Flex1DTokenizer, ids: np.ndarray, images: np.ndarray, batch: int = 256) -> dict[str, Any]:
    """PSNR of flex1d ids (N, T) against their images (N, S, S, 3) at every k of ``doubling_ks(T)``
    and at the byte budgets, and the shares of images whose PSNR never falls as k grows."""
    T, V = tok.num_tokens, tok.vocab_size
    ks, budget = doubling_ks(T), budgets(T, V)
    all_ks = sorted(set(ks) | set(budget.values()))
    table = np.zeros((len(images), len(all_ks)))  # (N, len(all_ks)) PSNR
    for i in range(0, len(images), batch):
        chunk = images[i:i + batch]  # (n, S, S, 3)
        for j, k in enumerate(all_ks):
            table[i:i + len(chunk), j] = psnr(tok.decode_batch(ids[i:i + batch], keep=k), chunk)  # (n,)
    mean = table.mean(0)  # (len(all_ks),)
    m: dict[str, Any] = {"psnr_per_k": {str(k): round(float(p), 3) for k, p in zip(all_ks, mean)}}
    for b, k in budget.items():
        m[f"psnr@{b}B"] = round(float(mean[all_ks.index(k)]), 3)
        m[f"k@{b}B"] = k
    m["psnr"] = round(float(mean[-1]), 3)
    grid = table[:, [all_ks.index(k) for k in ks]]  # (N, len(ks)) on the doubling grid
    steps = np.diff(grid, axis=1)  # (N, len(ks) - 1)
    m["monotone_frac"] = float((steps >= 0).all(1).mean())  # PSNR never falls as k doubles
    m["monotone_frac_0.1dB"] = float((steps >= -0.1).all(1).mean())
    m["monotone_frac_all_k"] = float((np.diff(table, axis=1) >= 0).all(1).mean())
    return m


@torch.inference_mode()
def evaluate(tok: ImageTokenizer, images: np.ndarray, batch: int = 256) -> dict[str, Any]:
    """Test-split metrics: PSNR (per k for flex1d), monotonicity in k, codebook health."""
    tok.model.eval()
    V, T = tok.vocab_size, tok.num_tokens
    health = CodebookHealth(V)
    m: dict[str, Any] = {"test_images": int(len(images)), "vocab_size": V, "tokens": T}
    if isinstance(tok, GridTokenizer):  # a grid decodes all of its tokens
        ps = []
        for i in range(0, len(images), batch):
            ids = tok.encode_batch(images[i:i + batch])  # (n, H, W)
            health.update(ids)
            ps.append(psnr(tok.decode_batch(ids), images[i:i + batch]))  # (n,)
        m.update(psnr=float(np.concatenate(ps).mean()), bytes=bytes_for_tokens(T, V))
    else:
        assert isinstance(tok, Flex1DTokenizer)
        ids = []
        for i in range(0, len(images), batch):
            ids.append(tok.encode_batch(images[i:i + batch]))  # (n, T)
            health.update(ids[-1])
        m.update(prefix_metrics(tok, np.concatenate(ids), images, batch))
    rep = health.result()
    m["codebook"] = {"usage": round(rep.usage, 4), "entropy": round(rep.entropy, 4),
                     "perplexity": round(rep.perplexity, 1), "dead": rep.dead}
    return m
