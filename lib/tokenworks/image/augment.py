"""Augmentation of training images: flips, colour-channel permutations and small shifts.

    x = augment(x, shift=4, generator=gen)           # (B, 3, S, S) in [-1, 1], a new view of each image

Each image is mirrored left-right with probability 1/2, has its R, G and B channels permuted
(half the images, one of the six orders), and is moved by up to ``shift`` pixels in x and y with
its edges repeated. None of it changes what a tokenizer must reproduce, so the model sees more
images than the data set holds. Under DDP the choices are drawn for the whole global batch
(``draw_augment``) and each rank takes its images' draws (``AugmentDraws.shard``), so W processes
augment exactly as one process does.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..train.distributed import shard

PERMUTATIONS = torch.tensor([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])  # (6, 3)


@dataclass
class AugmentDraws:
    """The random choices of ``augment`` for B images (drawn for a global batch, then sharded)."""

    flip: torch.Tensor  # (B,) bool: mirror left-right
    perm: torch.Tensor  # (B,) int64: row of PERMUTATIONS (0: colours unchanged)
    shift: torch.Tensor | None  # (B, 2) int64 pixels (x, y); None: no shift

    def shard(self, rank: int, world: int) -> "AugmentDraws":
        """The draws of this rank's images (global[rank::world])."""
        return AugmentDraws(shard(self.flip, rank, world), shard(self.perm, rank, world),
                            None if self.shift is None else shard(self.shift, rank, world))


def draw_augment(B: int, shift: int, generator: torch.Generator, device: torch.device) -> AugmentDraws:
    """Random flips, colour permutations (half the images) and shifts of up to ``shift`` pixels."""
    flip = torch.rand(B, device=device, generator=generator) < 0.5  # (B,)
    perm_id = torch.randint(0, 6, (B,), device=device, generator=generator)  # (B,)
    perm_id = torch.where(torch.rand(B, device=device, generator=generator) < 0.5, perm_id, 0)  # (B,)
    t = torch.randint(-shift, shift + 1, (B, 2), device=device, generator=generator) if shift > 0 else None  # (B, 2)
    return AugmentDraws(flip, perm_id, t)


def augment(x: torch.Tensor, shift: int, generator: torch.Generator, draws: AugmentDraws | None = None) -> torch.Tensor:
    """Random horizontal flip, colour-channel permutation (half the images) and an integer
    shift of up to ``shift`` pixels (edges repeated), per image. x: (B, 3, S, S) in [-1, 1].
    ``draws``: use these choices (one per image of x) instead of drawing them from ``generator``."""
    B, _, S, _ = x.shape
    dev = x.device
    d = draws if draws is not None else draw_augment(B, shift, generator, dev)
    x = torch.where(d.flip[:, None, None, None], x.flip(-1), x)  # (B, 3, S, S)
    idx = PERMUTATIONS.to(dev)[d.perm][:, :, None, None].expand(-1, -1, S, S)  # (B, 3, S, S)
    x = torch.gather(x, 1, idx)  # (B, 3, S, S)
    if d.shift is not None:
        t = d.shift.float() * (2.0 / S)  # (B, 2) in the [-1, 1] coordinates of affine_grid
        theta = torch.zeros(B, 2, 3, device=dev)  # (B, 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = t
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, S, S, 2)
        x = F.grid_sample(x, grid, mode="nearest", padding_mode="border", align_corners=False)  # (B, 3, S, S)
    return x
