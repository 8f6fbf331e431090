"""Vector quantization (VQ) with the fixes that keep a codebook healthy.

van den Oord, Vinyals, Kavukcuoglu, "Neural Discrete Representation Learning" (VQ-VAE), 2017:
nearest-code lookup, straight-through gradients, codebook and commitment losses.
Razavi et al., "Generating Diverse High-Fidelity Images with VQ-VAE-2", 2019: codebook as an
exponential moving average (EMA) of the vectors assigned to each code, with Laplace smoothing.
Yu et al., "Vector-quantized Image Modeling with Improved VQGAN" (ViT-VQGAN), 2021: factorised
(low-dimensional) and l2-normalised codes.
Dhariwal et al., "Jukebox", 2020 / Zeghidour et al., "SoundStream", 2021: k-means initialisation
and restarting dead codes from recent encoder outputs.

In training mode a forward pass (1) runs k-means on the first batch when the codebook is not
initialised yet, (2) quantizes, (3) updates the EMA codebook and the unused-step counters and
(4) restarts codes unused for ``dead_code_steps`` steps with vectors of this batch, drawn with
probability proportional to their squared quantization error (k-means++ style). All this
state lives in registered buffers, so it is saved in a state_dict / safetensors file. In training
mode the codebook moves after the lookup, so ``decode_codes`` equals ``quantized`` exactly in
eval mode (and up to that one update in training mode).

Under DDP (torch.distributed initialised, more than one rank; rank r holds the items r::W of the
global batch) the codebook stays identical on every rank and equal to the one a single process
computes on the whole global batch: the EMA counts and sums are all-reduced before the update;
k-means and dead-code restarts run on every rank on the vectors of the global batch (all-gathered
in global order), which keeps the torch RNG in step everywhere, and rank 0's result is broadcast.
In a single process none of this does anything.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInput
from ..train.distributed import all_reduce_sum, broadcast_tensor, gather_shards
from .base import Quantizer, QuantizerOutput, code_stats


@dataclass
class VQConfig:
    dim: int = 64  # D: size of the input vectors
    codebook_size: int = 1024  # V: number of code vectors
    code_dim: int | None = None  # look up in a smaller space (factorised codes, ViT-VQGAN); None: D
    cosine: bool = False  # l2-normalise inputs and codes: the nearest code is the largest cosine
    ema: bool = True  # True: codes follow an EMA of their vectors; False: learned with a codebook loss
    decay: float = 0.95  # EMA decay of counts and sums (0.95: ~20-step memory, keeps up with a
    #                      moving encoder in short runs; 0.99 is the classic choice for long ones)
    eps: float = 1e-5  # Laplace smoothing of the EMA counts (no code divides by zero)
    commitment_weight: float = 0.25  # beta: weight of ||z - sg(e)||^2 that keeps z near its code
    codebook_weight: float = 1.0  # weight of ||sg(z) - e||^2 (only when ema=False)
    kmeans_init: bool = True  # initialise the codes by k-means on the first training batch
    kmeans_iters: int = 10  # Lloyd iterations of that k-means
    dead_code_steps: int = 20  # restart codes unused for this many training steps; 0: never


def _sample_rows(x: torch.Tensor, n: int) -> torch.Tensor:
    """n random rows of x (M, C); with replacement and a little noise when M < n."""
    m = x.shape[0]
    if m >= n:
        return x[torch.randperm(m, device=x.device)[:n]]  # (n, C)
    rows = x[torch.randint(0, m, (n,), device=x.device)]  # (n, C)
    return rows + 1e-3 * x.std().clamp_min(1e-6) * torch.randn_like(rows)


def nearest_codes(
    x: torch.Tensor, table: torch.Tensor, cosine: bool, chunk: int = 8192
) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest row of table (V, C) for each row of x (M, C): codes (M,) int64, squared distances (M,)."""
    codes, dists = [], []
    t_sq = (table * table).sum(-1)  # (V,)
    for xs in x.split(chunk):
        sim = xs @ table.t()  # (m, V)
        if cosine:  # unit vectors: ||x - e||^2 = 2 - 2 x.e
            best, idx = sim.max(-1)
            dist = 2 - 2 * best
        else:  # ||x - e||^2 = ||x||^2 - (2 x.e - ||e||^2)
            best, idx = (2 * sim - t_sq).max(-1)
            dist = (xs * xs).sum(-1) - best
        codes.append(idx)
        dists.append(dist.clamp_min(0))
    if not codes:
        empty = x.new_zeros(0)
        return empty.long(), empty
    return torch.cat(codes), torch.cat(dists)


class VQ(Quantizer):
    def __init__(self, config: VQConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or VQConfig()
        if c.codebook_size < 1 or c.dim < 1:
            raise InvalidInput(f"VQ needs dim >= 1 and codebook_size >= 1, got {c.dim}, {c.codebook_size}")
        if not 0.0 <= c.decay < 1.0:
            raise InvalidInput(f"VQ decay must be in [0, 1), got {c.decay}")
        self.dim = c.dim  # D
        self.codebook_size = V = c.codebook_size  # V
        self.num_codebooks = 1  # K
        self.code_dim = C = c.code_dim or c.dim  # C: the lookup space
        factorised = C != c.dim
        self.project_in = nn.Linear(c.dim, C) if factorised else nn.Identity()
        self.project_out = nn.Linear(C, c.dim) if factorised else nn.Identity()
        init = torch.randn(V, C)  # (V, C)
        if c.cosine:
            init = F.normalize(init, dim=-1)
        if c.ema:
            self.register_buffer("embed", init)  # (V, C) follows the EMA
            self.register_buffer("ema_count", torch.ones(V))  # (V,) smoothed vectors per code
            self.register_buffer("ema_sum", init.clone())  # (V, C) smoothed sum of those vectors
        else:
            self.embed = nn.Parameter(init)  # (V, C) learned by the codebook loss
        self.register_buffer("initialised", torch.tensor(not c.kmeans_init))  # () bool
        self.register_buffer("unused_steps", torch.zeros(V, dtype=torch.long))  # (V,) steps since last use
        self.register_buffer("restarts", torch.zeros((), dtype=torch.long))  # () codes restarted so far

    # -- the codebook ---------------------------------------------------------------------
    def _table(self) -> torch.Tensor:
        """The code vectors used for lookup, (V, C) (unit length when cosine)."""
        e = self.embed
        return F.normalize(e, dim=-1) if (self.config.cosine and not self.config.ema) else e

    def _set_codes(self, rows: torch.Tensor, vectors: torch.Tensor, count: torch.Tensor | float = 1.0) -> None:
        """Overwrite the code vectors ``rows`` with ``vectors`` (n, C), and their EMA state."""
        if self.config.cosine:
            vectors = F.normalize(vectors, dim=-1)
        self.embed.data[rows] = vectors
        if self.config.ema:
            count = torch.as_tensor(count, dtype=vectors.dtype, device=vectors.device).expand(len(vectors))
            self.ema_count[rows] = count
            self.ema_sum[rows] = vectors * count[:, None]

    @torch.no_grad()
    def _kmeans_init(self, x: torch.Tensor) -> None:
        """A few Lloyd iterations on x (M, C) from V random rows; empty clusters keep their centre.
        Under DDP x is the global batch's (every rank computes the same) and rank 0's result is kept."""
        V, cos = self.codebook_size, self.config.cosine
        centres = _sample_rows(x, V)  # (V, C)
        counts = torch.ones(V, device=x.device)
        for _ in range(self.config.kmeans_iters):
            if cos:
                centres = F.normalize(centres, dim=-1)
            assign, _ = nearest_codes(x, centres, cos)  # (M,)
            counts = torch.bincount(assign, minlength=V).to(x.dtype)  # (V,)
            sums = torch.zeros_like(centres).index_add_(0, assign, x)  # (V, C)
            full = counts > 0
            centres[full] = sums[full] / counts[full, None]
        centres = broadcast_tensor(centres.contiguous())
        counts = broadcast_tensor(counts.contiguous())
        self._set_codes(torch.arange(V, device=x.device), centres, counts.clamp_min(1.0))
        self.initialised.fill_(True)

    @torch.no_grad()
    def _restart_dead(self, x: torch.Tensor, dist: torch.Tensor) -> int:
        """Replace codes unused for dead_code_steps steps with vectors of x (B, N, C).

        Vectors are drawn with probability proportional to their squared distance dist (B, N) to their
        code (as k-means++ seeds), so new codes go where the data is served worst. Under DDP x and
        dist are the global batch's (every rank draws the same) and rank 0's draw is kept.
        """
        steps = self.config.dead_code_steps
        if steps <= 0 or x.numel() == 0:
            return 0
        dead = (self.unused_steps >= steps).nonzero().squeeze(-1)  # (n,)
        if dead.numel() == 0:
            return 0
        n = dead.numel()
        x = gather_shards(x).reshape(-1, x.shape[-1])  # (M, C); DDP: the global batch's (W * M, C)
        dist = gather_shards(dist).reshape(-1)  # (M,) or (W * M,)
        if float(dist.sum()) > 0:
            rows = torch.multinomial(dist, n, replacement=n > int((dist > 0).sum()))  # (n,)
            vectors = x[rows]  # (n, C)
        else:
            vectors = _sample_rows(x, n)  # (n, C)
        vectors = broadcast_tensor(vectors.contiguous())
        self._set_codes(dead, vectors)
        self.unused_steps[dead] = 0
        self.restarts += dead.numel()
        return int(dead.numel())

    @torch.no_grad()
    def _update(self, x: torch.Tensor, codes: torch.Tensor) -> None:
        """EMA update of the codebook from x (M, C) and its codes (M,); unused-step counters."""
        V, c = self.codebook_size, self.config
        counts = all_reduce_sum(torch.bincount(codes, minlength=V).to(x.dtype))  # (V,) over the global batch
        self.unused_steps += 1
        self.unused_steps[counts > 0] = 0
        if not c.ema:
            return
        sums = all_reduce_sum(torch.zeros(V, x.shape[1], device=x.device).index_add_(0, codes, x))  # (V, C)
        self.ema_count.mul_(c.decay).add_(counts, alpha=1 - c.decay)
        self.ema_sum.mul_(c.decay).add_(sums, alpha=1 - c.decay)
        n = self.ema_count.sum()
        smoothed = (self.ema_count + c.eps) / (n + V * c.eps) * n  # (V,) Laplace smoothing
        embed = self.ema_sum / smoothed[:, None]  # (V, C)
        self.embed.copy_(F.normalize(embed, dim=-1) if c.cosine else embed)

    # -- the interface --------------------------------------------------------------------
    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        self._check_input(z)
        c = self.config
        B, N, _ = z.shape
        x = self.project_in(z).float()  # (B, N, C)
        if c.cosine:
            x = F.normalize(x, dim=-1)
        flat = x.reshape(B * N, self.code_dim)  # (M, C) with M = B * N
        if self.training and not bool(self.initialised):  # DDP: on the global batch, (W * M, C)
            self._kmeans_init(gather_shards(x.detach()).reshape(-1, self.code_dim))
        codes, dist = nearest_codes(flat.detach(), self._table().detach(), c.cosine)  # (M,), (M,)
        e = self._table()[codes]  # (M, C) with gradients to a learned codebook
        commit = F.mse_loss(flat, e.detach())
        loss = c.commitment_weight * commit
        if not c.ema:
            loss = loss + c.codebook_weight * F.mse_loss(e, flat.detach())
        restarted = 0
        if self.training:
            self._update(flat.detach(), codes)
            restarted = self._restart_dead(x.detach(), dist.view(B, N))
        q = flat + (e - flat).detach()  # (M, C) straight-through: value e, gradient to z
        quantized = self.project_out(q.view(B, N, self.code_dim)).to(z.dtype)  # (B, N, D)
        codes = codes.view(B, N)
        stats = code_stats(codes, self.codebook_size)
        stats.update(
            commit=float(commit.detach()),
            restarted=float(restarted),
            dead=float((self.unused_steps >= max(c.dead_code_steps, 1)).sum()),
        )
        return QuantizerOutput(quantized, codes, loss, stats)

    @torch.no_grad()
    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        self._check_codes(codes)
        return self.project_out(self._table()[codes.long()])  # (..., D)

    @torch.no_grad()
    def codebook(self) -> torch.Tensor:
        return self.project_out(self._table()).detach().clone()  # (V, D)
