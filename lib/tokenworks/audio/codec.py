"""A small neural speech codec: STFT front end, ConvNeXt encoder, residual VQ, iSTFT decoder.

    model = Codec(CodecConfig())                  # 16 kHz, 50 tokens/s, K=8 codebooks of V=1024
    out = model(wave)                             # CodecOutput: recon (B, N), codes (B, T, k), aux loss
    codes = model.encode(wave)                    # (B, T, K) int64
    wave = model.decode(codes, keep=3)            # (B, N') from the first 3 codebooks: 1.5 kbps

Design (chosen so that a model that trains on a CPU in minutes still sounds like speech):

- Front end: the complex STFT (``n_fft`` window, ``hop`` samples) as three features per bin:
  log magnitude and the power-law compressed real and imaginary parts (|X|^0.3 e^{i phase}),
  so the encoder sees phase as well as magnitude.
- Encoder: ConvNeXt blocks (depthwise conv + pointwise MLP; Liu et al. 2022) over STFT frames, a
  strided conv down to the token rate ``sample_rate / (hop * stride)``, and a projection to
  ``latent_dim``.
- Residual VQ (``quantizers.rvq``; Zeghidour et al., SoundStream, 2021) with quantizer dropout,
  so the first k codebooks alone decode (a ladder of bitrates from one model).
- Decoder: ConvNeXt blocks at the token rate, nearest-neighbour upsampling back to the STFT frame
  rate, more blocks, and a head predicting each bin's log magnitude and phase (as an unnormalised
  (cos, sin) pair) that the inverse STFT turns into samples. This is the Fourier-domain head of
  Vocos (Siuzdak, 2023) and WavTokenizer (Ji et al., 2024): no transposed-conv upsampling to
  16 kHz, so it is cheap on a CPU.

With ``num_levels=1`` and a large ``codebook_size`` it is a single-codebook codec in the spirit of
WavTokenizer (one token per frame, 40-75 tokens/s).
Symbols: B batch, N samples, F frequency bins (n_fft/2+1), Tf STFT frames, T tokens, K codebooks,
C channels (width), D latent dim, V codebook size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInput
from ..quantizers.rvq import RVQ, RVQConfig


@dataclass
class CodecConfig:
    sample_rate: int = 16000  # Hz of the waveform in and out
    n_fft: int = 640  # STFT window of the front end and of the inverse-STFT head (40 ms)
    hop: int = 160  # STFT hop in samples (10 ms: 100 frames/s)
    stride: int = 2  # STFT frames per token: tokens/s = sample_rate / (hop * stride) = 50
    width: int = 256  # C: channels of the ConvNeXt stacks
    encoder_blocks: int = 4  # ConvNeXt blocks at the frame rate before the downsampling conv
    decoder_blocks: int = 6  # ConvNeXt blocks, half at the token rate, half at the frame rate
    kernel: int = 7  # depthwise kernel of each block
    in_kernel: int = 3  # kernel of the first conv over the 3F spectrum features (the widest layer)
    mlp_ratio: float = 3.0  # hidden channels of a block's pointwise MLP, as a multiple of C
    latent_dim: int = 64  # D: the vectors the quantizer sees
    codebook_size: int = 1024  # V per codebook (10 bits per token)
    num_levels: int = 8  # K residual codebooks: K * log2(V) * tokens/s bits per second
    quantizer_dropout: float = 0.5  # chance per batch of training with only the first k ~ U{1..K}
    commitment_weight: float = 0.25  # RVQ commitment loss weight (every level)
    vq_decay: float = 0.95  # EMA decay of the codebooks
    dead_code_steps: int = 30  # restart codes unused for this many steps
    compress: float = 0.3  # power-law compression of the complex spectrum features
    max_log_mag: float = 6.0  # clamp of the predicted log magnitude (exp(6) ~ 400)

    @property
    def samples_per_token(self) -> int:
        return self.hop * self.stride

    @property
    def tokens_per_second(self) -> float:
        return self.sample_rate / self.samples_per_token

    @property
    def bits_per_token(self) -> float:
        return math.log2(self.codebook_size)

    def bitrate(self, keep: int | None = None) -> float:
        """Bits per second with the first ``keep`` codebooks (all when None)."""
        k = self.num_levels if keep is None else keep
        return k * self.bits_per_token * self.tokens_per_second

    def check(self) -> None:
        if self.n_fft < self.hop or self.n_fft % 2:
            raise InvalidInput(f"n_fft must be even and at least hop ({self.hop}), got {self.n_fft}")
        if self.stride < 1 or self.num_levels < 1 or self.codebook_size < 2:
            raise InvalidInput("stride, num_levels must be >= 1 and codebook_size >= 2")


@dataclass
class CodecOutput:
    recon: torch.Tensor  # (B, N) reconstructed waveform (same length as the input)
    codes: torch.Tensor  # (B, T, k) int64: the codes of the k levels used
    aux_loss: torch.Tensor  # () the quantizer's commitment loss
    keep: int  # k: levels used (fewer than K under quantizer dropout)
    stats: dict[str, float] = field(default_factory=dict)  # quantizer health (usage, perplexity per level)


class ConvNeXtBlock(nn.Module):
    """x + gamma * MLP(LayerNorm(depthwise_conv(x))) over (B, C, T)."""

    def __init__(self, dim: int, kernel: int, mlp_ratio: float) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.dw = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dw(x).transpose(1, 2)  # (B, T, C)
        h = self.fc2(F.gelu(self.fc1(self.norm(h))))  # (B, T, C)
        return x + (self.gamma * h).transpose(1, 2)  # (B, C, T)


def _stack(n: int, dim: int, kernel: int, mlp_ratio: float) -> nn.Sequential:
    return nn.Sequential(*[ConvNeXtBlock(dim, kernel, mlp_ratio) for _ in range(n)])


class Codec(nn.Module):
    def __init__(self, config: CodecConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or CodecConfig()
        c.check()
        bins = c.n_fft // 2 + 1  # F
        self.bins = bins
        self.register_buffer("window", torch.hann_window(c.n_fft), persistent=False)
        # encoder
        self.enc_in = nn.Conv1d(3 * bins, c.width, c.in_kernel, padding=c.in_kernel // 2)
        self.enc_blocks = _stack(c.encoder_blocks, c.width, c.kernel, c.mlp_ratio)
        self.down = nn.Conv1d(c.width, c.width, 2 * c.stride, stride=c.stride, padding=c.stride // 2) if c.stride > 1 else nn.Identity()
        self.enc_norm = nn.LayerNorm(c.width)
        self.enc_out = nn.Linear(c.width, c.latent_dim)
        # quantizer
        self.quantizer = RVQ(RVQConfig(dim=c.latent_dim, codebook_size=c.codebook_size, num_levels=c.num_levels,
                                       dropout=c.quantizer_dropout, commitment_weight=c.commitment_weight,
                                       decay=c.vq_decay, dead_code_steps=c.dead_code_steps))
        # decoder
        low = c.decoder_blocks // 2
        self.dec_in = nn.Conv1d(c.latent_dim, c.width, c.kernel, padding=c.kernel // 2)
        self.dec_low = _stack(low, c.width, c.kernel, c.mlp_ratio)
        self.up = nn.Conv1d(c.width, c.width, c.kernel, padding=c.kernel // 2)
        self.dec_high = _stack(c.decoder_blocks - low, c.width, c.kernel, c.mlp_ratio)
        self.dec_norm = nn.LayerNorm(c.width)
        self.head = nn.Linear(c.width, 3 * bins)

    # ---- sizes ---------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self.config.codebook_size  # V

    @property
    def num_codebooks(self) -> int:
        return self.config.num_levels  # K

    def padded_length(self, n: int) -> int:
        """Samples after padding n up to a whole number of tokens."""
        s = self.config.samples_per_token
        return max(1, math.ceil(n / s)) * s

    def num_tokens(self, n: int) -> int:
        return self.padded_length(n) // self.config.samples_per_token

    # ---- STFT ----------------------------------------------------------------------------------
    def _stft(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N') with N' a multiple of hop*stride -> complex (B, F, N'/hop)."""
        c = self.config
        spec = torch.stft(x, c.n_fft, c.hop, window=self.window, center=True, return_complex=True)  # (B, F, N'/hop + 1)
        return spec[..., :-1]  # (B, F, Tf): one frame per hop

    def _features(self, spec: torch.Tensor) -> torch.Tensor:
        mag = spec.abs()  # (B, F, Tf)
        comp = spec * (mag + 1e-7).pow(self.config.compress - 1.0)  # (B, F, Tf) |X|^0.3 e^{i phase}
        return torch.cat([torch.log(mag + 1e-5), comp.real, comp.imag], dim=1)  # (B, 3F, Tf)

    # ---- encoder / decoder ---------------------------------------------------------------------
    def encode_latents(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N) waveform -> (B, T, D) latents (N padded with zeros to a whole token)."""
        n = x.shape[-1]
        x = F.pad(x, (0, self.padded_length(n) - n))  # (B, N')
        h = self.enc_in(self._features(self._stft(x.float())))  # (B, C, Tf)
        h = self.down(self.enc_blocks(h))  # (B, C, T)
        return self.enc_out(self.enc_norm(h.transpose(1, 2)))  # (B, T, D)

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        """(B, T, D) quantized latents -> (B, T * hop * stride) waveform."""
        c = self.config
        h = self.dec_low(self.dec_in(z.transpose(1, 2)))  # (B, C, T)
        if c.stride > 1:
            h = h.repeat_interleave(c.stride, dim=2)  # (B, C, Tf)
        h = self.dec_high(self.up(h))  # (B, C, Tf)
        out = self.head(self.dec_norm(h.transpose(1, 2))).transpose(1, 2)  # (B, 3F, Tf)
        log_mag, re, im = out.float().split(self.bins, dim=1)  # (B, F, Tf) each
        mag = torch.exp(log_mag.clamp(max=c.max_log_mag))  # (B, F, Tf)
        norm = torch.sqrt(re * re + im * im + 1e-8)  # (B, F, Tf)
        spec = torch.complex(mag * re / norm, mag * im / norm)  # (B, F, Tf)
        spec = F.pad(spec, (0, 1))  # (B, F, Tf + 1): the last centred frame is silent
        n = spec.shape[-1] - 1
        return torch.istft(spec, c.n_fft, c.hop, window=self.window, center=True, length=n * c.hop)  # (B, N')

    def forward(self, x: torch.Tensor, keep: int | None = None) -> CodecOutput:
        """x (B, N) -> reconstruction (B, N) through the quantizer (``keep``: first k levels)."""
        if x.dim() != 2:
            raise InvalidInput(f"the codec takes a batch of mono waveforms (B, N), got shape {tuple(x.shape)}")
        n = x.shape[-1]
        z = self.encode_latents(x)  # (B, T, D)
        q = self.quantizer(z, keep=keep)
        recon = self.decode_latents(q.quantized)[:, :n]  # (B, N)
        return CodecOutput(recon=recon, codes=q.codes, aux_loss=q.loss, keep=q.codes.shape[-1], stats=q.stats)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N) -> codes (B, T, K) int64."""
        q = self.quantizer(self.encode_latents(x))
        return q.codes

    @torch.no_grad()
    def decode(self, codes: torch.Tensor, keep: int | None = None) -> torch.Tensor:
        """codes (B, T, k) -> (B, T * samples_per_token) from the first ``keep`` levels."""
        z = self.quantizer.decode_codes(codes, keep=keep)  # (B, T, D)
        return self.decode_latents(z)

    def describe(self) -> dict[str, Any]:
        c = self.config
        return {"tokens_per_second": c.tokens_per_second, "bits_per_token": c.bits_per_token,
                "bitrates": {k: c.bitrate(k) for k in range(1, c.num_levels + 1)},
                "params": sum(p.numel() for p in self.parameters())}
