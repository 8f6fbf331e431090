"""Log-mel features, the mel filterbank, its pseudo-inverse and fast Griffin-Lim (tokenworks.audio.mel)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tokenworks.audio import mel
from tokenworks.audio.mel import GriffinLimConfig, MelConfig
from tokenworks.errors import InvalidInput

SR = 16000


def sine(freq: float, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("scale", ["slaney", "htk"])
def test_mel_scale_round_trip(scale):
    f = np.array([0.0, 100.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0])
    assert np.allclose(mel.mel_to_hz(mel.hz_to_mel(f, scale), scale), f, atol=1e-6)
    assert np.all(np.diff(mel.hz_to_mel(f, scale)) > 0)  # monotone


def test_slaney_scale_is_linear_below_1khz():
    assert mel.hz_to_mel(1000.0) == pytest.approx(15.0)
    assert mel.hz_to_mel(500.0) == pytest.approx(7.5)


def test_filterbank_shape_and_rows():
    cfg = MelConfig()
    fb = mel.mel_filterbank(cfg)
    assert fb.shape == (80, 513)
    assert (fb >= 0).all()
    assert (fb.sum(1) > 0).all()  # no empty band at this resolution
    peaks = fb.argmax(1)
    assert (torch.diff(peaks) >= 0).all()  # bands ascend in frequency
    bin_hz = SR / cfg.n_fft
    area = fb.sum(1) * bin_hz  # slaney norm: every triangle has unit area (in Hz)
    assert torch.allclose(area[10:], torch.ones(70), atol=0.05)
    peak1 = mel.mel_filterbank(MelConfig(norm="none")).max(1).values  # peak-1 triangles
    assert float(peak1.max()) <= 1.0 + 1e-6 and float(peak1[10:].min()) > 0.7  # a bin lands near each peak


def test_bad_config_says_what_is_allowed():
    with pytest.raises(InvalidInput, match="slaney, htk"):
        mel.mel_filterbank(MelConfig(mel_scale="bark"))
    with pytest.raises(InvalidInput, match="sample_rate / 2"):
        mel.mel_filterbank(MelConfig(f_max=9000))


def test_log_mel_shape_and_peak_band():
    cfg = MelConfig()
    x = sine(1000.0)
    m = mel.log_mel(x, cfg)
    assert m.shape == (80, cfg.num_frames(x.size)) == (80, 51)
    centres = mel.mel_frequencies(cfg)[1:-1]
    band = int(m[:, 25].argmax())
    assert abs(centres[band] - 1000.0) < 100  # the loudest band sits on the tone
    assert float(m.min()) >= np.log(cfg.log_floor) - 1e-5


def test_log_mel_refuses_nan_and_empty():
    with pytest.raises(InvalidInput, match="NaN"):
        mel.log_mel(np.array([0.0, np.nan, 0.1], np.float32))
    with pytest.raises(InvalidInput, match=r"\(N,\)"):
        mel.log_mel(np.zeros(0, np.float32))


def test_mel_to_linear_shape_and_peak():
    cfg = MelConfig()
    m = mel.log_mel(sine(1500.0), cfg)  # (M, T)
    lin = mel.mel_to_linear(m, cfg)
    assert lin.shape == (513, m.shape[1])
    assert (lin >= 0).all()
    assert abs(float(lin[:, 25].argmax()) * SR / cfg.n_fft - 1500.0) < 100
    with pytest.raises(InvalidInput, match=r"\(80, T\)"):
        mel.mel_to_linear(torch.zeros(40, 5), cfg)


def test_griffin_lim_recovers_a_sine():
    cfg = MelConfig()
    x = sine(440.0)
    target = mel.linear_magnitude(x, cfg)  # (F, T)
    fast = mel.griffin_lim(target, cfg, GriffinLimConfig(n_iter=48, momentum=0.99), length=x.size)
    assert fast.wave.shape == x.shape and fast.wave.dtype == np.float32
    assert fast.spectral_convergence < 0.1
    assert len(fast.convergence_per_iter) == 48
    assert fast.convergence_per_iter[-1] < fast.convergence_per_iter[0]
    spectrum = np.abs(np.fft.rfft(fast.wave))
    assert abs(int(spectrum.argmax()) - 440) <= 2  # 1 Hz bins over one second
    slow = mel.griffin_lim(target, cfg, GriffinLimConfig(n_iter=48, momentum=0.0), length=x.size)
    assert fast.spectral_convergence < slow.spectral_convergence  # momentum helps


def test_griffin_lim_is_deterministic_and_checks_inputs():
    cfg = MelConfig()
    target = mel.linear_magnitude(sine(300.0, 0.3), cfg)
    a = mel.griffin_lim(target, cfg, GriffinLimConfig(n_iter=4, seed=3))
    b = mel.griffin_lim(target, cfg, GriffinLimConfig(n_iter=4, seed=3))
    assert np.array_equal(a.wave, b.wave)
    assert a.wave.size == (target.shape[1] - 1) * cfg.hop_length
    with pytest.raises(InvalidInput, match="momentum"):
        mel.griffin_lim(target, cfg, GriffinLimConfig(momentum=1.5))
    with pytest.raises(InvalidInput, match=r"\(513, T\)"):
        mel.griffin_lim(torch.zeros(80, 4), cfg)


def test_log_mel_to_wave_keeps_the_pitch():
    cfg = MelConfig()
    x = sine(1000.0)
    out = mel.log_mel_to_wave(mel.log_mel(x, cfg), cfg, GriffinLimConfig(n_iter=32), length=x.size)
    assert out.wave.shape == x.shape
    assert abs(int(np.abs(np.fft.rfft(out.wave)).argmax()) - 1000) < 60
