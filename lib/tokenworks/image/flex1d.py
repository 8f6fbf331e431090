"""An ordered, variable-length 1D image tokenizer (in the spirit of TiTok, FlexTok, One-D-Piece).

    image (B, 3, 64, 64) -> 64 patches of 8x8 -> encoder over [patches; S latent slots]
      -> each slot emits g tokens (FSQ, V = 1000) -> T = S * g tokens, ordered coarse to fine
    first k tokens -> decoder over [mask tokens for the patches; the slots of those k tokens]
      -> pixels

Ordering comes from two things:

- nested dropout (tail drop) in training: each image keeps only its first k tokens, k drawn
  per example and biased towards small k, so the first tokens must carry the most;
- a causal mask between slots in the encoder (FlexTok): slot j sees the patches and slots
  <= j only, so a prefix never depends on the tokens after it.

Slots: the transformers run over S = T / g slots rather than T tokens; slot j emits tokens
j*g .. j*g+g-1. A prefix that ends inside a slot gives the decoder that slot with its missing
tokens flagged as missing. With g = 4, T = 256 tokens cost 64 slots of compute, which keeps the
shipped model fast on a CPU.

``attention(x)`` reads where each token looks: the encoder's attention from the token's slot to
the patches, averaged over heads and renormalised over the patches (the slot also looks at
slots before it; that share is left out).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InvalidIds, InvalidInput
from ..metrics.rate import doubling_ks
from ..quantizers import make_quantizer
from ._nn import Block, ModelOutput, init_weights, patchify, unpatchify

KIND = "image/flex1d"


@dataclass
class Flex1DConfig:
    image_size: int = 64  # input images are (image_size, image_size, 3)
    patch_size: int = 8  # P = (image_size / patch_size)^2 patches: 64 for 64x64 images
    width: int = 256  # D of both transformers
    heads: int = 4  # attention heads (head dim = width / heads)
    encoder_layers: int = 4  # transformer blocks over [patches; slots]
    decoder_layers: int = 6  # transformer blocks over [mask tokens; slots] (decoding needs more than encoding)
    mlp_ratio: float = 2.0  # MLP hidden size = width * mlp_ratio
    tokens: int = 256  # T: the longest token sequence (k = 1..T may be decoded)
    tokens_per_slot: int = 4  # g: tokens emitted by one latent slot; S = T / g slots
    quantizer: str = "fsq"  # a name tokenworks.quantizers.make_quantizer knows: fsq | vq | lfq ...
    levels: tuple[int, ...] = (8, 5, 5, 5)  # FSQ levels of one token: V = prod(levels) = 1000
    codebook_size: int = 1024  # V when the quantizer is not FSQ
    code_dim: int = 8  # dimension of one token's vector when the quantizer is not FSQ
    causal_slots: bool = True  # slot j sees only slots <= j in the encoder (prefixes are self-contained)
    keep_power: float = 1.5  # training keeps k = ceil(T * u^p), u ~ U(0, 1): p > 1 favours short prefixes
    keep_log_prob: float = 0.3  # ... or, with this probability, k log-uniform in 1..T (many very short prefixes)
    keep_all_prob: float = 0.1  # ... or all T tokens with this probability
    keep_grid_prob: float = 0.0  # ... or, with this probability, k from the grid 1, 2, 4, ..., T (the strip's k)
    refine_channels: int = 32  # a small conv net at full resolution after the patch decoder (0: none);
    # it sees across patch borders, which a per-patch linear output cannot
    refine_features: int = 8  # extra feature channels per pixel the patch decoder hands to it


class Flex1D(nn.Module):
    def __init__(self, config: Flex1DConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or Flex1DConfig()
        if c.image_size % c.patch_size:
            raise InvalidInput(f"image_size {c.image_size} must be a multiple of patch_size {c.patch_size}")
        if c.tokens % c.tokens_per_slot:
            raise InvalidInput(f"tokens {c.tokens} must be a multiple of tokens_per_slot {c.tokens_per_slot}")
        self.grid = c.image_size // c.patch_size  # patches per side
        self.num_patches = P = self.grid**2  # P
        self.num_slots = S = c.tokens // c.tokens_per_slot  # S
        self.g = c.tokens_per_slot  # g
        D, pdim = c.width, 3 * c.patch_size**2
        if c.quantizer == "fsq":
            self.quantizer = make_quantizer("fsq", levels=tuple(c.levels))
        else:
            self.quantizer = make_quantizer(c.quantizer, dim=c.code_dim, codebook_size=c.codebook_size)
        self.code_dim = cd = self.quantizer.dim  # dimension of one token's vector

        # encoder
        self.patch_in = nn.Linear(pdim, D)
        self.enc_patch_pos = nn.Parameter(torch.randn(P, D) * 0.02)  # (P, D)
        self.slot_queries = nn.Parameter(torch.randn(S, D) * 0.02)  # (S, D) learned latent slots
        self.encoder = nn.ModuleList([Block(D, c.heads, c.mlp_ratio) for _ in range(c.encoder_layers)])
        self.enc_norm = nn.LayerNorm(D)
        self.to_codes = nn.Linear(D, self.g * cd)  # one slot -> its g token vectors
        # decoder
        self.slot_in = nn.Linear(self.g * (cd + 1), D)  # g x [token vector, missing flag] -> slot
        self.dec_slot_pos = nn.Parameter(torch.randn(S, D) * 0.02)  # (S, D)
        self.mask_tokens = nn.Parameter(torch.randn(P, D) * 0.02)  # (P, D) one per patch position
        self.decoder = nn.ModuleList([Block(D, c.heads, c.mlp_ratio) for _ in range(c.decoder_layers)])
        self.dec_norm = nn.LayerNorm(D)
        F_ = c.refine_features if c.refine_channels else 0
        self.out_channels = 3 + F_  # per pixel: RGB + features for the refiner
        self.to_pixels = nn.Linear(D, self.out_channels * c.patch_size**2)
        self.refine = None
        if c.refine_channels:
            C = c.refine_channels
            self.refine = nn.Sequential(
                nn.Conv2d(3 + F_, C, 3, padding=1), nn.GELU(approximate="tanh"),
                nn.Conv2d(C, C, 3, padding=1), nn.GELU(approximate="tanh"),
                nn.Conv2d(C, 3, 3, padding=1),
            )

        T = P + S
        mask = torch.ones(T, T, dtype=torch.bool)  # (T, T) True: query row may see key column
        mask[:P, P:] = False  # patches never see slots (no path from later slots to earlier ones)
        if c.causal_slots:
            mask[P:, P:] = torch.tril(torch.ones(S, S, dtype=torch.bool))
        self.register_buffer("enc_mask", mask if c.causal_slots else None, persistent=False)
        self.apply(init_weights)
        if self.refine is not None:  # start as the identity on the coarse RGB
            nn.init.zeros_(self.refine[-1].weight)
            nn.init.zeros_(self.refine[-1].bias)

    # ---- sizes ----------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return int(self.quantizer.codebook_size)  # V

    @property
    def num_tokens(self) -> int:
        return int(self.config.tokens)  # T

    # ---- encoder --------------------------------------------------------------------------
    def _encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        if x.dim() != 4 or x.shape[1:] != (3, c.image_size, c.image_size):
            raise InvalidInput(f"flex1d expects images (B, 3, {c.image_size}, {c.image_size}), got {tuple(x.shape)}")
        B = x.shape[0]
        p = self.patch_in(patchify(x, c.patch_size)) + self.enc_patch_pos  # (B, P, D)
        s = self.slot_queries.expand(B, -1, -1)  # (B, S, D)
        return torch.cat([p, s], dim=1)  # (B, P + S, D)

    def latents(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, T, code_dim) continuous token vectors (before quantizing)."""
        h = self._encoder_input(x)  # (B, P + S, D)
        for blk in self.encoder:
            h, _ = blk(h, self.enc_mask)
        z = self.to_codes(self.enc_norm(h[:, self.num_patches:]))  # (B, S, g * code_dim)
        return z.reshape(z.shape[0], self.num_tokens, self.code_dim)  # (B, T, code_dim)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B, T) int64 token ids."""
        return self.quantizer(self.latents(x)).codes  # (B, T)

    @torch.no_grad()
    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (L, B, T, P): per encoder layer, each token's attention to the patches
        (its slot's weights averaged over heads, renormalised to sum to 1 over the patches)."""
        h = self._encoder_input(x)  # (B, P + S, D)
        P, out = self.num_patches, []
        for blk in self.encoder:
            h, w = blk(h, self.enc_mask, need_weights=True)  # w: (B, P + S, P + S)
            a = w[:, P:, :P]  # (B, S, P) slots -> patches
            a = a / a.sum(-1, keepdim=True).clamp_min(1e-12)  # (B, S, P)
            out.append(a.repeat_interleave(self.g, dim=1))  # (B, T, P)
        return torch.stack(out)  # (L, B, T, P)

    # ---- decoder --------------------------------------------------------------------------
    def keep_tensor(self, keep: int | torch.Tensor | None, B: int, device: torch.device) -> torch.Tensor:
        """keep as a (B,) int64 tensor of prefix lengths in 1..T (None: all T)."""
        T = self.num_tokens
        if keep is None:
            return torch.full((B,), T, dtype=torch.long, device=device)
        if isinstance(keep, torch.Tensor):
            k = keep.to(device=device, dtype=torch.long).reshape(-1).expand(B) if keep.numel() == 1 else keep.to(device).long()
        else:
            k = torch.full((B,), int(keep), dtype=torch.long, device=device)
        if k.shape != (B,):
            raise InvalidIds(f"keep must be one int or one per image ({B}), got shape {tuple(k.shape)}")
        if not self.training and k.numel() and (int(k.min()) < 1 or int(k.max()) > T):
            raise InvalidIds(f"keep must be between 1 and {T} tokens (this model has T = {T}), "
                             f"got values {int(k.min())}..{int(k.max())}")
        return k

    def decode_vectors(self, q: torch.Tensor, keep: int | torch.Tensor | None = None,
                       truncate: bool = True) -> torch.Tensor:
        """Token vectors (B, T, code_dim) and prefix lengths -> images (B, 3, H, W) in about [-1, 1].

        Only the first ``keep`` tokens of each image are used. ``truncate`` drops the slots no
        image uses (faster, variable shapes); training keeps the shapes fixed and masks them.
        """
        c = self.config
        B, T, cd = q.shape
        if T != self.num_tokens:
            raise InvalidIds(f"flex1d decodes sequences of {self.num_tokens} token vectors, got {T}")
        k = self.keep_tensor(keep, B, q.device)  # (B,)
        S = self.num_slots
        if truncate:
            S = -(-int(k.max()) // self.g) if B else 1
            q = q[:, : S * self.g]  # (B, S * g, cd)
        present = torch.arange(S * self.g, device=q.device)[None, :] < k[:, None]  # (B, S * g)
        flags = present[..., None].to(q.dtype)  # (B, S * g, 1)
        inp = torch.cat([q * flags, 1.0 - flags], dim=-1).reshape(B, S, self.g * (cd + 1))  # (B, S, g*(cd+1))
        slots = self.slot_in(inp) + self.dec_slot_pos[:S]  # (B, S, D)
        h = torch.cat([self.mask_tokens.expand(B, -1, -1), slots], dim=1)  # (B, P + S, D)
        slot_valid = present[:, :: self.g]  # (B, S) a slot is used when its first token is kept
        mask = None
        if not truncate or not bool(slot_valid.all()):
            keys = torch.cat([torch.ones(B, self.num_patches, dtype=torch.bool, device=q.device), slot_valid], 1)
            mask = keys[:, None, None, :]  # (B, 1, 1, P + S)
        for blk in self.decoder:
            h, _ = blk(h, mask)
        out = self.to_pixels(self.dec_norm(h[:, : self.num_patches]))  # (B, P, (3 + F) * p * p)
        img = unpatchify(out, c.patch_size, self.grid, self.grid, self.out_channels)  # (B, 3 + F, H, W)
        if self.refine is None:
            return img  # (B, 3, H, W)
        return img[:, :3] + self.refine(img)  # (B, 3, H, W)

    @torch.no_grad()
    def decode(self, codes: torch.Tensor, keep: int | torch.Tensor | None = None) -> torch.Tensor:
        """(B, T) ids (or (B, k) ids, a prefix) -> (B, 3, H, W) in about [-1, 1]."""
        B, n = codes.shape
        if n > self.num_tokens or n < 1:
            raise InvalidIds(f"flex1d decodes 1..{self.num_tokens} tokens, got {n}")
        if keep is None:
            keep = n
        if n < self.num_tokens:  # a prefix: pad with code 0; the padding is never seen
            pad = torch.zeros(B, self.num_tokens - n, dtype=codes.dtype, device=codes.device)
            codes = torch.cat([codes, pad], dim=1)  # (B, T)
        k = self.keep_tensor(keep, B, codes.device)
        if k.numel() and int(k.max()) > n:
            raise InvalidIds(f"keep={int(k.max())} asks for more tokens than the {n} given")
        q = self.quantizer.decode_codes(codes)  # (B, T, code_dim)
        return self.decode_vectors(q, k)

    # ---- training -------------------------------------------------------------------------
    def sample_keep(self, B: int, device: torch.device, generator: torch.Generator | None = None) -> torch.Tensor:
        """Nested dropout: (B,) prefix lengths k = ceil(T * u^p); log-uniform with prob
        keep_log_prob; T with prob keep_all_prob."""
        c, T = self.config, self.num_tokens
        u = torch.rand(3, B, device=device, generator=generator)  # (3, B)
        k = torch.ceil(T * u[0].pow(c.keep_power)).long()  # (B,) power law
        k_log = torch.floor(torch.exp(u[0] * math.log(T + 1))).long()  # (B,) log-uniform in 1..T
        k = torch.where(u[1] < c.keep_log_prob, k_log, k)
        k = torch.where(u[2] < c.keep_all_prob, torch.full_like(k, T), k)
        if c.keep_grid_prob > 0:
            grid = torch.tensor(doubling_ks(T), device=device)  # (G,)
            v = torch.rand(2, B, device=device, generator=generator)  # (2, B)
            k_grid = grid[(v[0] * len(grid)).long().clamp_(max=len(grid) - 1)]  # (B,)
            k = torch.where(v[1] < c.keep_grid_prob, k_grid, k)
        return k.clamp_(1, T)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None, pairs: bool = False) -> ModelOutput:
        """Training pass: encode, quantize, decode the first ``keep`` tokens (sampled when None).

        ``pairs``: decode every image twice, with a sampled prefix length k and 2k, in one batched
        decoder call; ``recon`` and ``keep`` are then (2B, ...): the first B, then the second B.
        """
        B = x.shape[0]
        if keep is None and self.training:
            keep = self.sample_keep(B, x.device)  # (B,)
            if pairs:  # the second prefix doubles the first: the step the k = 1, 2, 4, ... strip takes
                keep = torch.cat([keep, (2 * keep).clamp_(max=self.num_tokens)])  # (2B,)
        out = self.quantizer(self.latents(x))
        q = torch.cat([out.quantized, out.quantized]) if pairs else out.quantized  # (B or 2B, T, cd)
        recon = self.decode_vectors(q, keep, truncate=False)  # (B or 2B, 3, H, W)
        k = keep if isinstance(keep, torch.Tensor) else None
        return ModelOutput(recon, out.codes, out.loss, out.stats, k)

def bytes_for_tokens(k: int, vocab_size: int) -> int:
    """Bytes to store k tokens of a vocabulary of V ids: ceil(k * log2(V) / 8)."""
    return math.ceil(k * math.log2(vocab_size) / 8)


def tokens_for_bytes(n: int, vocab_size: int) -> int:
    """The most tokens that fit in n bytes."""
    k = int(n * 8 / math.log2(vocab_size))
    while bytes_for_tokens(k + 1, vocab_size) <= n:
        k += 1
    while k > 0 and bytes_for_tokens(k, vocab_size) > n:
        k -= 1
    return k
