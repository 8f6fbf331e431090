"""Log-mel spectrograms, their pseudo-inverse and fast Griffin-Lim, with torch.stft / istft.

    cfg = MelConfig()                                    # 16 kHz, n_fft 1024, hop 320 (50 frames/s), 80 bands
    m = log_mel(wave, cfg)                               # (M, T) natural-log mel magnitudes
    mag = mel_to_linear(m, cfg)                          # (F, T) linear magnitude (least squares, >= 0)
    out = griffin_lim(mag, cfg, GriffinLimConfig(n_iter=64))   # GriffinLimResult: wave (N,), convergence

The mel filterbank is built here (``mel_filterbank``): triangles spaced evenly on the Slaney
mel scale (linear below 1 kHz, logarithmic above) or the HTK one (2595 log10(1 + f/700)),
optionally area-normalised ("slaney" norm: each triangle integrates to the same amount).

Griffin-Lim recovers a phase for a magnitude by alternating two projections: onto consistent
spectrograms (istft then stft) and onto the given magnitude. "Fast Griffin-Lim" (Perraudin,
Balazs and Sondergaard, 2013) extrapolates each step: t_n = c_n + alpha (c_n - c_{n-1}), with
alpha about 0.99, which converges in far fewer iterations than alpha = 0 (plain Griffin-Lim).

Symbols: N samples, F = n_fft // 2 + 1 frequency bins, M mel bands, T frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..errors import InvalidInput

MEL_SCALES = ("slaney", "htk")
NORMS = ("slaney", "none")


@dataclass
class MelConfig:
    sample_rate: int = 16000  # Hz; the working rate of tokenworks audio
    n_fft: int = 1024  # FFT size: F = n_fft // 2 + 1 = 513 bins of 15.6 Hz
    hop_length: int = 320  # samples between frames: 320 at 16 kHz = 50 frames/s (20 ms)
    win_length: int = 1024  # Hann window length (<= n_fft)
    n_mels: int = 80  # M mel bands
    f_min: float = 0.0  # Hz, lower edge of the lowest band
    f_max: float = 8000.0  # Hz, upper edge of the highest band (<= sample_rate / 2)
    mel_scale: str = "slaney"  # "slaney" (linear below 1 kHz, log above) or "htk"
    norm: str = "slaney"  # "slaney": each triangle has unit area (divided by its width); "none": peak 1
    log_floor: float = 1e-5  # magnitudes are clamped to this before the log (-11.5 nats)

    def check(self) -> "MelConfig":
        if self.mel_scale not in MEL_SCALES:
            raise InvalidInput(f"mel_scale must be one of {', '.join(MEL_SCALES)}, got {self.mel_scale!r}")
        if self.norm not in NORMS:
            raise InvalidInput(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        if not 0 < self.win_length <= self.n_fft or not 0 < self.hop_length <= self.win_length:
            raise InvalidInput(f"need 0 < hop_length <= win_length <= n_fft, got hop {self.hop_length}, "
                               f"win {self.win_length}, n_fft {self.n_fft}")
        if not 0 <= self.f_min < self.f_max <= self.sample_rate / 2:
            raise InvalidInput(f"need 0 <= f_min < f_max <= sample_rate / 2 = {self.sample_rate / 2:g} Hz, "
                               f"got f_min {self.f_min:g}, f_max {self.f_max:g}")
        if self.n_mels < 1 or self.log_floor <= 0:
            raise InvalidInput(f"n_mels must be >= 1 and log_floor > 0, got {self.n_mels}, {self.log_floor}")
        return self

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1  # F

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length  # frames per second

    def num_frames(self, n_samples: int) -> int:
        """T for a waveform of N samples (centred frames: one every hop, the first at sample 0)."""
        return 1 + n_samples // self.hop_length


@dataclass
class GriffinLimConfig:
    n_iter: int = 64  # iterations (each one istft + one stft)
    momentum: float = 0.99  # alpha of fast Griffin-Lim; 0 is the original algorithm (< 1 for stability)
    init: str = "random"  # "random" (uniform phases, seeded) or "zeros" (all phases 0)
    seed: int = 0  # for the random initial phases: the same input gives the same waveform


@dataclass
class GriffinLimResult:
    wave: np.ndarray  # (N,) float32 waveform
    spectral_convergence: float  # || |STFT(wave)| - target ||_F / || target ||_F, lower is better
    convergence_per_iter: list[float]  # the same after each iteration (how fast it converged)


# ---- the mel scale and filterbank -------------------------------------------------------------

_F_SP = 200.0 / 3  # Slaney: Hz per mel in the linear part
_MIN_LOG_HZ = 1000.0  # Slaney: where the log part starts
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # 15 mel
_LOGSTEP = math.log(6.4) / 27.0  # Slaney: log-spaced part, 27 steps per factor 6.4


def hz_to_mel(f: np.ndarray | float, scale: str = "slaney") -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + f / 700.0)
    if scale != "slaney":
        raise InvalidInput(f"mel scale must be one of {', '.join(MEL_SCALES)}, got {scale!r}")
    lin = f / _F_SP
    log = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, log, lin)


def mel_to_hz(m: np.ndarray | float, scale: str = "slaney") -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    if scale != "slaney":
        raise InvalidInput(f"mel scale must be one of {', '.join(MEL_SCALES)}, got {scale!r}")
    lin = _F_SP * m
    log = _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, log, lin)


def mel_frequencies(cfg: MelConfig) -> np.ndarray:
    """(M + 2,) Hz: the band edges; band m rises from edge m, peaks at m + 1, falls to m + 2."""
    lo, hi = hz_to_mel(cfg.f_min, cfg.mel_scale), hz_to_mel(cfg.f_max, cfg.mel_scale)
    return mel_to_hz(np.linspace(lo, hi, cfg.n_mels + 2), cfg.mel_scale)  # (M + 2,)


def mel_filterbank(cfg: MelConfig) -> torch.Tensor:
    """(M, F) float32 triangular filters: ``mel = fb @ magnitude``."""
    cfg.check()
    return _filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.f_min, cfg.f_max, cfg.mel_scale, cfg.norm).clone()


@lru_cache(maxsize=8)
def _filterbank(sr: int, n_fft: int, n_mels: int, f_min: float, f_max: float, scale: str, norm: str) -> torch.Tensor:
    freqs = np.linspace(0.0, sr / 2, n_fft // 2 + 1)  # (F,) Hz of each bin
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min, scale), hz_to_mel(f_max, scale), n_mels + 2), scale)  # (M + 2,)
    widths = np.diff(edges)  # (M + 1,)
    rise = (freqs[None, :] - edges[:-2, None]) / widths[:-1, None]  # (M, F) 0 at the left edge, 1 at the peak
    fall = (edges[2:, None] - freqs[None, :]) / widths[1:, None]  # (M, F) 1 at the peak, 0 at the right edge
    fb = np.maximum(0.0, np.minimum(rise, fall))  # (M, F)
    if norm == "slaney":
        fb *= (2.0 / (edges[2:] - edges[:-2]))[:, None]  # (M, F) unit area per triangle
    return torch.from_numpy(fb.astype(np.float32))


@lru_cache(maxsize=8)
def _pinv(sr: int, n_fft: int, n_mels: int, f_min: float, f_max: float, scale: str, norm: str) -> torch.Tensor:
    fb = _filterbank(sr, n_fft, n_mels, f_min, f_max, scale, norm).double()  # (M, F)
    return torch.linalg.pinv(fb).float()  # (F, M)


# ---- spectrograms ---------------------------------------------------------------------------


def _as_wave(wave: np.ndarray | torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(wave, dtype=np.float32) if not isinstance(wave, torch.Tensor) else wave)
    if x.dim() != 1 or x.numel() == 0:
        raise InvalidInput(f"expected a mono waveform of shape (N,) with N >= 1, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise InvalidInput("the waveform holds NaN or infinite samples; replace them (e.g. np.nan_to_num) first")
    return x.float()


def _window(cfg: MelConfig, device: torch.device) -> torch.Tensor:
    return torch.hann_window(cfg.win_length, periodic=True, device=device)  # (win,)


def stft(wave: np.ndarray | torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """(N,) -> (F, T) complex STFT, centred frames (zero padding at both ends)."""
    x = _as_wave(wave)  # (N,)
    return torch.stft(x, cfg.n_fft, cfg.hop_length, cfg.win_length, _window(cfg, x.device), center=True,
                      pad_mode="constant", return_complex=True)  # (F, T)


def istft(spec: torch.Tensor, cfg: MelConfig, length: int | None = None) -> torch.Tensor:
    """(F, T) complex -> (N,) waveform; N = (T - 1) * hop unless ``length`` is given."""
    return torch.istft(spec, cfg.n_fft, cfg.hop_length, cfg.win_length, _window(cfg, spec.device), center=True,
                       length=length)  # (N,)


def linear_magnitude(wave: np.ndarray | torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """(N,) -> (F, T) STFT magnitude."""
    return stft(wave, cfg).abs()  # (F, T)


def mel_magnitude(wave: np.ndarray | torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """(N,) -> (M, T) mel-weighted magnitudes (not logged)."""
    cfg.check()
    fb = _filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.f_min, cfg.f_max, cfg.mel_scale, cfg.norm)  # (M, F)
    return fb @ linear_magnitude(wave, cfg)  # (M, T)


def log_mel(wave: np.ndarray | torch.Tensor, cfg: MelConfig | None = None) -> torch.Tensor:
    """(N,) -> (M, T) float32 natural log of the mel magnitudes, floored at ``cfg.log_floor``."""
    cfg = cfg or MelConfig()
    return torch.log(mel_magnitude(wave, cfg).clamp_min(cfg.log_floor))  # (M, T)


def mel_to_linear(log_mel_spec: torch.Tensor | np.ndarray, cfg: MelConfig | None = None) -> torch.Tensor:
    """(M, T) log-mel -> (F, T) non-negative linear magnitude: the least-squares (pseudo-inverse)
    solution of ``fb @ mag = exp(log_mel)``, clipped at 0. Detail finer than a mel band is lost."""
    cfg = (cfg or MelConfig()).check()
    m = torch.as_tensor(log_mel_spec, dtype=torch.float32)  # (M, T)
    if m.dim() != 2 or m.shape[0] != cfg.n_mels:
        raise InvalidInput(f"expected a log-mel spectrogram of shape ({cfg.n_mels}, T), got {tuple(m.shape)}")
    pinv = _pinv(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.f_min, cfg.f_max, cfg.mel_scale, cfg.norm)  # (F, M)
    return (pinv.to(m.device) @ torch.exp(m)).clamp_min(0.0)  # (F, T)


# ---- Griffin-Lim ----------------------------------------------------------------------------


def spectral_convergence(wave: np.ndarray | torch.Tensor, target: torch.Tensor, cfg: MelConfig) -> float:
    """|| |STFT(wave)| - target ||_F / || target ||_F over the frames both have."""
    mag = linear_magnitude(wave, cfg)  # (F, T')
    T = min(mag.shape[1], target.shape[1])
    diff = torch.linalg.norm(mag[:, :T] - target[:, :T])
    return float(diff / torch.linalg.norm(target[:, :T]).clamp_min(1e-12))


@torch.no_grad()
def griffin_lim(magnitude: torch.Tensor | np.ndarray, cfg: MelConfig | None = None,
                gl: GriffinLimConfig | None = None, length: int | None = None) -> GriffinLimResult:
    """(F, T) linear magnitude -> a waveform whose STFT magnitude is close to it (fast Griffin-Lim).

    ``length``: samples of the output (default (T - 1) * hop, what T centred frames span).
    """
    cfg = (cfg or MelConfig()).check()
    gl = gl or GriffinLimConfig()
    if gl.n_iter < 0 or not 0.0 <= gl.momentum < 1.0 or gl.init not in ("random", "zeros"):
        raise InvalidInput(f"Griffin-Lim needs n_iter >= 0, 0 <= momentum < 1 and init 'random' or 'zeros'; "
                           f"got n_iter {gl.n_iter}, momentum {gl.momentum}, init {gl.init!r}")
    mag = torch.as_tensor(magnitude, dtype=torch.float32)  # (F, T)
    if mag.dim() != 2 or mag.shape[0] != cfg.n_freqs:
        raise InvalidInput(f"expected a magnitude of shape ({cfg.n_freqs}, T), got {tuple(mag.shape)}")
    T = mag.shape[1]
    n = length if length is not None else (T - 1) * cfg.hop_length
    if gl.init == "random":
        g = torch.Generator().manual_seed(gl.seed)
        phase = torch.exp(2j * math.pi * torch.rand(mag.shape, generator=g)).to(mag.device)  # (F, T) unit complex
    else:
        phase = torch.ones(mag.shape, dtype=torch.complex64, device=mag.device)  # (F, T)
    prev = torch.zeros(mag.shape, dtype=torch.complex64, device=mag.device)  # (F, T) c_{n-1}
    norm = torch.linalg.norm(mag).clamp_min(1e-12)
    history: list[float] = []
    for _ in range(gl.n_iter):
        wave = istft(mag * phase, cfg, length=n)  # (N,) consistent signal for the current phase
        proj = torch.stft(wave, cfg.n_fft, cfg.hop_length, cfg.win_length, _window(cfg, wave.device), center=True,
                          pad_mode="constant", return_complex=True)[:, :T]  # (F, T) c_n
        history.append(float(torch.linalg.norm(proj.abs() - mag) / norm))
        t = proj + gl.momentum * (proj - prev)  # (F, T) t_n, the extrapolated point
        phase = t / t.abs().clamp_min(1e-12)  # (F, T) keep its phase, impose the magnitude next round
        prev = proj
    wave = istft(mag * phase, cfg, length=n)  # (N,)
    out = wave.clamp(-1.0, 1.0).cpu().numpy().astype(np.float32)  # (N,)
    sc = spectral_convergence(out, mag, cfg) if out.size else 0.0
    return GriffinLimResult(wave=out, spectral_convergence=sc, convergence_per_iter=history)


def log_mel_to_wave(log_mel_spec: torch.Tensor | np.ndarray, cfg: MelConfig | None = None,
                    gl: GriffinLimConfig | None = None, length: int | None = None) -> GriffinLimResult:
    """(M, T) log-mel -> waveform: pseudo-inverse to a linear magnitude, then Griffin-Lim."""
    cfg = cfg or MelConfig()
    return griffin_lim(mel_to_linear(log_mel_spec, cfg), cfg, gl, length=length)
