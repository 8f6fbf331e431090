"""Refined encoding (analysis by synthesis): search the tokens that the decoder turns into the
closest image, instead of taking the encoder's one-pass guess.

    r = refine_encode(tok, images, RefineConfig(keep=240))    # rate-specific: the first 240 tokens
    r.codes                                                   # (N, T) ids, the same format as encode_batch
    r.psnr_before, r.psnr_after                               # (N, len(r.ks)) dB at each k in r.ks

A learned encoder is amortised: one forward pass that must serve every image, so it leaves some
quality on the table (the "amortisation gap" of Cremer et al. 2018). A codec encoder may spend
more time than its decoder: JPEG and WebP encoders search quantisation and modes per image, and
the codec baselines of this workbench pick the best quality per image within the budget.
Refined encoding does the same for a tokenizer. It starts from the encoder's continuous token
vectors z and takes ``steps`` Adam steps on z to lower the decoder's error, passing gradients
through the quantizer's rounding (straight-through). The decoder, the vocabulary and the bytes
stay exactly as they were: any decoder of the model reads the refined ids. Yang et al. 2020
("Improving Inference for Neural Image Compression") and Campos et al. 2019 ("Content Adaptive
Optimization for Neural Image Compression") refine the latents of neural codecs the same way.

What is minimised, per image:

- ``keep=k`` (flex1d): the MSE of the image decoded from the first k tokens, i.e. an encoding
  made for one budget, as each JPEG quality setting is its own encoding. The tokens after k are
  refined only as far as they affect nothing (they do not), so they stay the encoder's.
- ``keep=None`` (flex1d): every prefix on the strip k = 1, 2, 4, ..., T together: the sum of
  log-MSE over the strip plus ``monotone_weight`` times each rise of log-MSE as k doubles (a
  hinge), so one sequence stays good at every length and its quality does not fall as k grows.
  ``extra_ks`` adds prefix lengths (the byte budgets, say) with weight ``extra_weight``.
- grid models: the MSE of the whole grid decode (``keep`` must be None).

Every step's loss is computed on the hard-quantized tokens (the straight-through forward value
is the real decode), so each image keeps the ids of its best step: refinement never returns a
worse objective than the plain encoder, whose ids are step 0. In the strip mode a step whose
quality never falls as k grows ranks before any step where it does, then by the objective.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np
import torch

from ..errors import InvalidInput
from ..metrics.image import psnr
from ..metrics.rate import doubling_ks
from ._nn import to_pixels, to_uint8

MODES = ("budget", "strip", "grid")


@dataclass
class RefineConfig:
    steps: int = 60  # Adam steps on the continuous token vectors (0: the plain encoder's ids)
    lr: float = 0.05  # first step size; it decays on a cosine to lr * min_lr_frac
    min_lr_frac: float = 0.1  # the last step's size as a share of lr
    keep: int | None = None  # flex1d: refine the first k tokens for k alone; None: the whole strip 1, 2, 4, ..., T
    monotone_weight: float = 5.0  # strip mode: weight of the hinge on log-MSE rising as k doubles
    margin: float = 0.002  # strip mode: the hinge asks each doubling to lower log-MSE by this much (0.002 = 0.009 dB)
    extra_ks: tuple[int, ...] = ()  # strip mode: more prefix lengths to optimise with the strip (e.g. byte budgets);
    # the hinge then runs over the strip and these together, in order of k
    extra_weight: float = 1.0  # strip mode: weight of each extra k's log-MSE (the strip's are 1)
    batch: int = 32  # images refined together (CPU memory and speed)


@dataclass
class RefineResult:
    codes: np.ndarray  # (N, T) for flex1d, (N, H, W) for grid: the refined ids
    plain_codes: np.ndarray  # the same shape: the plain encoder's ids
    ks: list[int]  # the prefix lengths the objective measured (grid: [T])
    psnr_before: np.ndarray  # (N, len(ks)) dB of the plain ids at each k (uint8 images, as decode gives)
    psnr_after: np.ndarray  # (N, len(ks)) dB of the refined ids at each k
    improved: np.ndarray  # (N,) bool: the refined ids differ from the plain ones (a better objective was found)
    mode: str  # one of MODES
    config: dict  # the RefineConfig as a dict
    seconds: float  # wall time of the whole refinement

    @property
    def gain_db(self) -> np.ndarray:
        """(len(ks),) mean PSNR gain at each k."""
        return (self.psnr_after - self.psnr_before).mean(0)


def check_config(cfg: RefineConfig, T: int, grid: bool) -> str:
    """Validate ``cfg`` for a model with T tokens; return its mode. Errors name what is allowed."""
    if not isinstance(cfg, RefineConfig):
        raise InvalidInput(f"refine needs a RefineConfig, got {type(cfg).__name__}")
    if isinstance(cfg.steps, bool) or not isinstance(cfg.steps, int) or not 0 <= cfg.steps <= 10_000:
        raise InvalidInput(f"refine steps must be an int in 0..10000, got {cfg.steps!r}")
    if not (isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and 0 < cfg.lr <= 10):
        raise InvalidInput(f"refine lr must be a number in (0, 10], got {cfg.lr!r}")
    if not 0 < cfg.min_lr_frac <= 1:
        raise InvalidInput(f"refine min_lr_frac must be in (0, 1], got {cfg.min_lr_frac!r}")
    if not (math.isfinite(cfg.monotone_weight) and cfg.monotone_weight >= 0):
        raise InvalidInput(f"refine monotone_weight must be >= 0, got {cfg.monotone_weight!r}")
    if not isinstance(cfg.batch, int) or cfg.batch < 1:
        raise InvalidInput(f"refine batch must be a positive int, got {cfg.batch!r}")
    bad = [k for k in cfg.extra_ks if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= T]
    if bad or (cfg.extra_ks and (grid or cfg.keep is not None)):
        raise InvalidInput(f"refine extra_ks must be prefix lengths in 1..{T} for the strip mode (keep=None, "
                           f"a flex1d model), got {tuple(cfg.extra_ks)!r}")
    if not (math.isfinite(cfg.extra_weight) and cfg.extra_weight >= 0):
        raise InvalidInput(f"refine extra_weight must be >= 0, got {cfg.extra_weight!r}")
    if grid:
        if cfg.keep is not None:
            raise InvalidInput("a grid tokenizer decodes all of its tokens: refine it with keep=None")
        return "grid"
    if cfg.keep is None:
        return "strip"
    if isinstance(cfg.keep, bool) or not isinstance(cfg.keep, (int, np.integer)) or not 1 <= int(cfg.keep) <= T:
        raise InvalidInput(f"refine keep must be None (the whole strip) or an int in 1..{T}, got {cfg.keep!r}")
    return "budget"


def _decode(model, q: torch.Tensor, k: int | None) -> torch.Tensor:
    return model.decode_vectors(q) if k is None else model.decode_vectors(q, k)  # (B, 3, H, W)


def _objective(model, z: torch.Tensor, x: torch.Tensor, ks: list[int | None], mode: str,
               cfg: RefineConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) objective of the hard-quantized z (gradients straight through), and (B,) bool: the
    decodes never get worse as k grows over ``ks`` (always True outside the strip mode)."""
    q = model.quantizer(z).quantized  # (B, T, cd)
    recons = [_decode(model, q, k) for k in ks]  # each (B, 3, H, W)
    log_mse = [torch.log(((r.clamp(-1, 1) - x) ** 2).flatten(1).mean(1) + 1e-8) for r in recons]  # each (B,)
    if mode != "strip":
        return log_mse[0], torch.ones_like(log_mse[0], dtype=torch.bool)
    extra = set(cfg.extra_ks) - set(doubling_ks(model.num_tokens))
    w = torch.tensor([cfg.extra_weight if k in extra else 1.0 for k in ks], device=x.device)  # (len(ks),)
    obj = (torch.stack(log_mse) * w[:, None]).sum(0)  # (B,)
    ok = torch.ones_like(obj, dtype=torch.bool)  # (B,)
    for a, b in zip(log_mse[:-1], log_mse[1:]):
        obj = obj + cfg.monotone_weight * torch.relu(b - a + cfg.margin)
        ok &= (b <= a).detach()
    return obj, ok


def _refine_batch(model, x: torch.Tensor, ks: list[int | None], mode: str, cfg: RefineConfig
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 3, H, W) in [-1, 1] -> refined and plain ids, each (B, T)."""
    with torch.no_grad():
        z0 = model.latents(x)  # (B, T, cd)
        plain = model.quantizer(z0).codes  # (B, T)
    z = z0.clone().requires_grad_(True)
    best_z = z0.clone()  # (B, T, cd)
    best = torch.full((x.shape[0],), float("inf"), device=x.device)  # (B,)
    best_ok = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)  # (B,)
    opt = torch.optim.Adam([z], lr=cfg.lr)
    for step in range(cfg.steps + 1):
        obj, ok = _objective(model, z, x, ks, mode, cfg)  # (B,): the objective of the current ids
        with torch.no_grad():  # a step whose quality never falls as k grows beats one where it does
            better = (ok & ~best_ok) | ((ok == best_ok) & (obj.detach() < best))  # (B,)
            best = torch.where(better, obj.detach(), best)
            best_ok = best_ok | ok
            best_z[better] = z.detach()[better]
        if step == cfg.steps:
            break
        for group in opt.param_groups:  # cosine from lr to lr * min_lr_frac
            t = step / max(cfg.steps - 1, 1)
            group["lr"] = cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))
        (grad,) = torch.autograd.grad(obj.sum(), [z])  # the model's weights get no gradient
        z.grad = grad
        opt.step()
    with torch.no_grad():
        codes = model.quantizer(best_z).codes  # (B, T)
    return codes, plain


def refine_encode(tok, images: np.ndarray, cfg: RefineConfig | None = None,
                  progress: Callable[[int, int], Any] | None = None) -> RefineResult:
    """Refined ids of (N, S, S, 3) uint8 images for an image tokenizer (flex1d or grid).

    ``progress(done, total)`` is called after each batch of images.
    """
    cfg = cfg or RefineConfig()
    tok._check_batch(images)
    model = tok.model
    is_grid = not tok.ordered
    T = tok.num_tokens
    mode = check_config(cfg, T, is_grid)
    ks: list[int | None] = ([None] if mode == "grid" else [int(cfg.keep)] if mode == "budget"
                            else sorted(set(doubling_ks(T)) | {int(k) for k in cfg.extra_ks}))
    was_training = model.training
    model.eval()
    t0 = time.perf_counter()
    out_codes, out_plain, before, after = [], [], [], []
    try:
        with torch.inference_mode(False), torch.enable_grad():
            for i in range(0, len(images), cfg.batch):
                chunk = np.array(images[i:i + cfg.batch])  # (b, S, S, 3) uint8
                x = to_pixels(chunk, tok.device)  # (b, 3, S, S)
                codes, plain = _refine_batch(model, x, ks, mode, cfg)
                with torch.no_grad():
                    for ids, acc in ((plain, before), (codes, after)):
                        q = model.quantizer.decode_codes(ids)  # (b, T, cd)
                        acc.append(np.stack([psnr(to_uint8(_decode(model, q, k)), chunk) for k in ks], 1))  # (b, len(ks))
                out_codes.append(codes.cpu())
                out_plain.append(plain.cpu())
                if progress is not None:
                    progress(min(i + cfg.batch, len(images)), len(images))
    finally:
        model.train(was_training)
    codes = torch.cat(out_codes).numpy()  # (N, T)
    plain = torch.cat(out_plain).numpy()  # (N, T)
    if is_grid:
        g = model.grid
        codes, plain = codes.reshape(-1, g, g), plain.reshape(-1, g, g)  # (N, H, W)
    return RefineResult(codes=codes, plain_codes=plain, ks=[T if k is None else int(k) for k in ks],
                        psnr_before=np.concatenate(before), psnr_after=np.concatenate(after),
                        improved=(codes != plain).reshape(len(codes), -1).any(1), mode=mode,
                        config=asdict(cfg), seconds=time.perf_counter() - t0)
