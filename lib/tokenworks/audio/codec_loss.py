"""The reconstruction losses of the neural codec (no adversarial terms: it has to train on a CPU).

- Multi-resolution log-mel L1 (as in HiFi-GAN's mel loss, over several FFT sizes like DAC).
- Multi-resolution STFT loss (Yamamoto et al., "Parallel WaveGAN", 2020): spectral convergence
  plus log-magnitude L1, at the same resolutions.
- Compressed complex-spectrum MSE at the codec's own resolution (|X|^0.3 e^{i phase}, as in
  speech enhancement): the only term that sees phase, so the waveform lines up with the input,
  which SI-SDR and PESQ reward.

Symbols: B batch, N samples, F bins, M mel bands, Tf frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .mel import MelConfig, mel_filterbank

RESOLUTIONS = ((512, 128, 64), (1024, 256, 80), (2048, 512, 128))  # (n_fft, hop, mel bands)


@dataclass
class LossConfig:
    mel_weight: float = 1.0  # multi-resolution log-mel L1
    stft_weight: float = 1.0  # multi-resolution spectral convergence + log-magnitude L1
    complex_weight: float = 1.0  # compressed complex-spectrum MSE at (n_fft, hop) of the codec
    compress: float = 0.3  # the power of that compression
    n_fft: int = 640  # the codec's STFT (set from its config)
    hop: int = 160


@dataclass
class LossParts:
    total: torch.Tensor  # () weighted sum (without the quantizer's loss)
    mel: torch.Tensor  # () mean log-mel L1 over resolutions
    stft: torch.Tensor  # () mean spectral convergence + log-magnitude L1
    complex: torch.Tensor  # () compressed complex MSE


class CodecLoss(nn.Module):
    def __init__(self, config: LossConfig | None = None, sample_rate: int = 16000) -> None:
        super().__init__()
        self.config = c = config or LossConfig()
        self.resolutions = RESOLUTIONS
        for i, (n_fft, hop, mels) in enumerate(RESOLUTIONS):
            fb = mel_filterbank(MelConfig(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop, win_length=n_fft,
                                          n_mels=mels))  # (M, F)
            self.register_buffer(f"fb{i}", fb, persistent=False)
            self.register_buffer(f"win{i}", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("win_c", torch.hann_window(c.n_fft), persistent=False)

    def forward(self, recon: torch.Tensor, target: torch.Tensor) -> LossParts:
        """recon, target: (B, N) float waveforms."""
        c = self.config
        recon, target = recon.float(), target.float()
        mel_l, stft_l = [], []
        for i, (n_fft, hop, _) in enumerate(self.resolutions):
            win, fb = getattr(self, f"win{i}"), getattr(self, f"fb{i}")
            R = torch.stft(recon, n_fft, hop, window=win, return_complex=True).abs()  # (B, F, Tf)
            X = torch.stft(target, n_fft, hop, window=win, return_complex=True).abs()  # (B, F, Tf)
            mel_r = torch.log(torch.einsum("mf,bft->bmt", fb, R).clamp_min(1e-5))  # (B, M, Tf)
            mel_x = torch.log(torch.einsum("mf,bft->bmt", fb, X).clamp_min(1e-5))  # (B, M, Tf)
            mel_l.append((mel_r - mel_x).abs().mean())
            sc = torch.linalg.vector_norm(X - R, dim=(1, 2)) / torch.linalg.vector_norm(X, dim=(1, 2)).clamp_min(1e-5)  # (B,)
            log_mag = (torch.log(R.clamp_min(1e-5)) - torch.log(X.clamp_min(1e-5))).abs().mean()
            stft_l.append(sc.mean() + log_mag)
        Rc = torch.stft(recon, c.n_fft, c.hop, window=self.win_c, return_complex=True)  # (B, F, Tf)
        Xc = torch.stft(target, c.n_fft, c.hop, window=self.win_c, return_complex=True)  # (B, F, Tf)
        Rc = Rc * (Rc.abs() + 1e-7).pow(c.compress - 1.0)
        Xc = Xc * (Xc.abs() + 1e-7).pow(c.compress - 1.0)
        complex_l = (Rc - Xc).abs().pow(2).mean()
        mel, stft = torch.stack(mel_l).mean(), torch.stack(stft_l).mean()
        total = c.mel_weight * mel + c.stft_weight * stft + c.complex_weight * complex_l
        return LossParts(total=total, mel=mel, stft=stft, complex=complex_l)
