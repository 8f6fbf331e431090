"""What the image trainer minimises: the reconstruction error of a batch, and for flex1d trained in
pairs (each image decoded at two prefix lengths) a penalty when the longer prefix decodes worse.

    loss, mse = reconstruction_loss(out, x, "log_mse", monotone_weight=5.0)

``log_mse`` is the mean over images of log(MSE), i.e. minus the mean PSNR up to a constant: every
image and every prefix length weighs alike, however good its decode already is; ``mse`` weighs
the badly decoded ones most. The model's own loss (the quantizer's commitment, ``out.aux_loss``)
is added to either.
"""
from __future__ import annotations

from typing import Any

import torch

LOSSES = ("mse", "log_mse")


def reconstruction_loss(out: Any, x: torch.Tensor, loss: str = "log_mse",
                        monotone_weight: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, mse) of a model output ``out`` for the images x (B, 3, S, S) in [-1, 1].

    ``out.recon`` is (B, 3, S, S), or (2B, 3, S, S) when the model decoded each image at two prefix
    lengths (``out.keep`` (2B,)): then ``monotone_weight`` > 0 adds that weight times the mean excess
    log-MSE of the longer prefix over the shorter one (a hinge: 0 where the longer one is better)."""
    pairs = out.recon.shape[0] == 2 * x.shape[0]
    target = torch.cat([x, x]) if pairs else x  # (B or 2B, 3, S, S)
    per_image = (out.recon.float() - target).pow(2).flatten(1).mean(1)  # (B or 2B,)
    mse = per_image.mean()
    log_mse = per_image.add(1e-4).log()  # (B or 2B,)
    total = (log_mse.mean() if loss == "log_mse" else mse) + out.aux_loss.float()
    if pairs and monotone_weight > 0:
        B = x.shape[0]
        k1, k2 = out.keep[:B], out.keep[B:]  # (B,) each
        l1, l2 = log_mse[:B], log_mse[B:]  # (B,) each
        worse = torch.where(k2 > k1, l2 - l1, torch.where(k1 > k2, l1 - l2, torch.zeros_like(l1)))  # (B,)
        total = total + monotone_weight * torch.relu(worse).mean()
    return total, mse
