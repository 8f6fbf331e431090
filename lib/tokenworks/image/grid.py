"""A small convolutional VQ-VAE whose tokens form an H x W grid.

    image (B, 3, 32, 32) -> conv encoder (residual blocks, GroupNorm, two stride-2 downsamples)
      -> (B, code_dim, 8, 8) -> VQ (EMA codebook, k-means init, dead-code restart) -> ids (B, 8, 8)
      -> conv decoder (nearest upsampling) -> (B, 3, 32, 32)

Each token sits on a cell of the grid and covers a ``downsample x downsample`` pixel box
(its receptive field is larger: neighbouring tokens shape its pixels too).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InvalidIds, InvalidInput
from ..quantizers import make_quantizer
from ._nn import ModelOutput, ResBlock, group_norm

KIND = "image/grid"


@dataclass
class GridConfig:
    image_size: int = 32  # input images are (image_size, image_size, 3)
    channels: tuple[int, ...] = (32, 64, 128)  # conv channels per resolution; len - 1 stride-2 steps (32 -> 8)
    blocks: int = 1  # residual blocks per resolution, in the encoder and the decoder
    groups: int = 8  # GroupNorm groups
    code_dim: int = 64  # D: the vector each grid cell hands the quantizer
    quantizer: str = "vq"  # a name tokenworks.quantizers.make_quantizer knows: vq | fsq | lfq ...
    codebook_size: int = 512  # V (VQ); at most 1024 for the shipped models
    lookup_dim: int = 16  # VQ looks codes up in this smaller space (factorised codes); code_dim: no projection
    cosine: bool = False  # VQ: l2-normalised codes and inputs
    commitment_weight: float = 0.25  # VQ: beta
    dead_code_steps: int = 20  # VQ: restart codes unused this many steps
    levels: tuple[int, ...] = (8, 8, 8)  # FSQ levels when quantizer == "fsq" (V = prod)


class Grid(nn.Module):
    def __init__(self, config: GridConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or GridConfig()
        ch = tuple(int(v) for v in c.channels)
        if len(ch) < 1:
            raise InvalidInput("channels needs at least one entry")
        self.downsample = 2 ** (len(ch) - 1)
        if c.image_size % self.downsample:
            raise InvalidInput(f"image_size {c.image_size} must be a multiple of {self.downsample} "
                               f"(2^(len(channels) - 1))")
        self.grid = c.image_size // self.downsample  # H = W of the token grid

        # encoder: stem, then per resolution `blocks` residual blocks and a stride-2 conv
        enc: list[nn.Module] = [nn.Conv2d(3, ch[0], 3, padding=1)]
        for i, cin in enumerate(ch):
            enc += [ResBlock(cin, cin, c.groups) for _ in range(c.blocks)]
            if i + 1 < len(ch):
                enc.append(nn.Conv2d(cin, ch[i + 1], 4, stride=2, padding=1))
        enc += [group_norm(ch[-1], c.groups), nn.SiLU(), nn.Conv2d(ch[-1], c.code_dim, 1)]
        self.encoder = nn.Sequential(*enc)

        if c.quantizer == "vq":
            self.quantizer = make_quantizer(
                "vq", dim=c.code_dim, codebook_size=c.codebook_size,
                code_dim=c.lookup_dim if c.lookup_dim and c.lookup_dim != c.code_dim else None,
                cosine=c.cosine, commitment_weight=c.commitment_weight, dead_code_steps=c.dead_code_steps)
        elif c.quantizer == "fsq":
            self.quantizer = make_quantizer("fsq", levels=tuple(c.levels), dim=c.code_dim)
        else:
            self.quantizer = make_quantizer(c.quantizer, dim=c.code_dim, codebook_size=c.codebook_size)

        # decoder: the mirror image, nearest-neighbour upsampling + conv
        dec: list[nn.Module] = [nn.Conv2d(c.code_dim, ch[-1], 3, padding=1)]
        for i in range(len(ch) - 1, -1, -1):
            dec += [ResBlock(ch[i], ch[i], c.groups) for _ in range(c.blocks)]
            if i > 0:
                dec += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ch[i], ch[i - 1], 3, padding=1)]
        dec += [group_norm(ch[0], c.groups), nn.SiLU(), nn.Conv2d(ch[0], 3, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    # ---- sizes ----------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return int(self.quantizer.codebook_size)  # V

    @property
    def num_tokens(self) -> int:
        return self.grid * self.grid  # T = H * W

    # ---- the model ------------------------------------------------------------------------
    def latents(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) in [-1, 1] -> (B, H*W, code_dim) continuous cell vectors, raster order."""
        c = self.config
        if x.dim() != 4 or x.shape[1:] != (3, c.image_size, c.image_size):
            raise InvalidInput(f"grid expects images (B, 3, {c.image_size}, {c.image_size}), got {tuple(x.shape)}")
        z = self.encoder(x)  # (B, code_dim, H, W)
        return z.flatten(2).transpose(1, 2)  # (B, H*W, code_dim)

    def decode_vectors(self, q: torch.Tensor) -> torch.Tensor:
        """(B, H*W, code_dim) -> (B, 3, S, S) in about [-1, 1]."""
        B = q.shape[0]
        z = q.transpose(1, 2).reshape(B, -1, self.grid, self.grid)  # (B, code_dim, H, W)
        return self.decoder(z)  # (B, 3, S, S)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) -> (B, H, W) int64 token ids."""
        codes = self.quantizer(self.latents(x)).codes  # (B, H*W)
        return codes.reshape(-1, self.grid, self.grid)  # (B, H, W)

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, H, W) or (B, H*W) ids -> (B, 3, S, S) in about [-1, 1]."""
        B = codes.shape[0]
        if codes[0].numel() != self.num_tokens:
            raise InvalidIds(f"grid decodes {self.grid}x{self.grid} = {self.num_tokens} tokens per image, "
                             f"got shape {tuple(codes.shape[1:])}")
        q = self.quantizer.decode_codes(codes.reshape(B, self.num_tokens))  # (B, H*W, code_dim)
        return self.decode_vectors(q)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> ModelOutput:
        """Training pass (``keep`` is accepted for a uniform signature and ignored)."""
        out = self.quantizer(self.latents(x))
        recon = self.decode_vectors(out.quantized)  # (B, 3, S, S)
        return ModelOutput(recon, out.codes.reshape(-1, self.grid, self.grid), out.loss, out.stats)
