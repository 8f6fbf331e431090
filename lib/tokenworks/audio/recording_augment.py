"""Make synthetic speech sound recorded: a room, background noise, a microphone, levels, clipping.

    cfg = RecordingAugmentConfig()                       # the ranges below; augment_config({...}) overrides them
    y = augment(wave, 16000, rng, cfg)                   # (N,) -> (N,): a random chain, every draw from rng
    y = augment(wave, 16000, rng, cfg, noises=bank)      # background noise from recorded clips (audio/background.py)
    x = augment_batch(x, 16000, rng, cfg, noises=bank)   # (B, S) training crops, one chain each

Synthesizers (espeak-ng, flite) give clean, dry, full-band, well-levelled speech; recordings have
what a room, a place and a microphone add. Each stage is a pure numpy/scipy function of a (N,)
float waveform, so it can be heard and tested on its own; ``augment`` draws a chain from
``RecordingAugmentConfig`` (each stage with its own probability) and applies it in the order
sound takes to a file:

1. ``reverberate``: the room. Impulse response from Polack's statistical model (J.-D. Polack,
   "Playing billiards in the concert hall", Applied Acoustics 38, 1993): the direct sound, then
   Gaussian noise whose amplitude decays by 60 dB over RT60 after the first reflection; its
   energy relative to the direct sound sets the direct-to-reverberant ratio (DRR).
2. ``add_noise``: the place, at a signal-to-noise ratio: recorded background sounds when given,
   else coloured noise ``coloured_noise`` (power spectrum 1/f^beta: 0 white hiss, 1 pink, 2 brown rumble).
3. ``band_limit`` and ``peaking_eq``: the microphone and the line: Butterworth high-pass (small
   capsules, wind and handling filters) and low-pass (narrowband telephony, cheap converters), and
   one gentle peaking bump or dip (RBJ Audio EQ Cookbook biquad) for the capsule's colour.
4. ``clip``: an overdriven preamp or converter, hard (digital full scale) or soft (tanh, analogue).
5. ``set_peak``: the level the file was saved at.

Without the level stage the output keeps the input's peak, so ``augment`` changes what a crop
sounds like and leaves its level to whoever drew it (``train_data.crop_batch``). Output is
float32, finite, in [-1, 1], as long as the input.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInput

NOISE_SOURCES = ("auto", "coloured", "samples")


@dataclass
class RecordingAugmentConfig:
    p_any: float = 0.8  # share of crops augmented at all; the rest stay clean (the codec must still code clean speech)
    # ---- room (reverberate)
    p_reverb: float = 0.5  # chance of a simulated room
    rt60_s: tuple[float, float] = (0.15, 0.9)  # reverberation time range (s, 60 dB decay). Rooms speech is
    # recorded in: ~0.2-0.5 s treated/furnished rooms, 0.5-1 s offices, halls and stairwells; REVERB challenge
    # (Kinoshita et al., 2016) simulated 0.25 / 0.5 / 0.7 s and recorded in a 0.7 s room
    drr_db: tuple[float, float] = (-2.0, 15.0)  # direct-to-reverberant ratio range (dB): high = close
    # microphone, near 0 and below = distant talker; the ACE challenge rooms (Eaton et al., IEEE/ACM TASLP 2016)
    # measured roughly -3 to +15 dB across near and far positions
    first_reflection_ms: tuple[float, float] = (1.0, 8.0)  # gap between direct sound and the reverberant tail
    # (ms): 0.3-3 m of extra path at 343 m/s
    # ---- background noise (add_noise)
    p_noise: float = 0.6  # chance of background noise
    snr_db: tuple[float, float] = (10.0, 40.0)  # signal-to-noise ratio range (dB). The DNS challenge training
    # mixtures span 0-40 dB (Reddy et al., Interspeech 2020); speaker-embedding training mixes MUSAN noise at 0-15 dB
    # and music at 5-15 dB (Snyder et al., ICASSP 2018); here the floor is 10 dB: a codec trained on ordinary
    # recordings, not a denoiser
    noise_source: str = "auto"  # auto: recorded background sounds when the trainer has them (audio/background.py),
    # half the time, else coloured noise | coloured: coloured noise only | samples: recorded sounds only (required)
    noise_exponent: tuple[float, float] = (0.0, 2.0)  # coloured noise spectrum 1/f^beta, beta range: 0 white
    # (sensor and converter hiss), 1 pink, 2 brown (rumble, traffic, ventilation)
    # ---- microphone and line (band_limit, peaking_eq)
    p_highpass: float = 0.5  # chance of a high-pass (bass roll-off of the capsule or a low-cut filter)
    highpass_hz: tuple[float, float] = (50.0, 300.0)  # high-pass cutoff range (Hz): 50 Hz wideband telephony
    # (ITU-T G.722, 50-7000 Hz) to 300 Hz narrowband telephony (ITU-T G.712, 300-3400 Hz)
    p_lowpass: float = 0.3  # chance of a low-pass (band-limited line or converter)
    lowpass_hz: tuple[float, float] = (3400.0, 7000.0)  # low-pass cutoff range (Hz): 3400 narrowband (G.712)
    # to 7000 wideband (G.722); must stay below the Nyquist frequency
    filter_order: tuple[int, int] = (2, 6)  # Butterworth order range of both (12-36 dB per octave)
    p_eq: float = 0.5  # chance of one peaking bump or dip (the capsule's colour)
    eq_hz: tuple[float, float] = (150.0, 6000.0)  # its centre frequency range (Hz), drawn log-uniformly
    eq_gain_db: tuple[float, float] = (-6.0, 6.0)  # its gain range (dB): gentle, as a microphone's response
    # departs a few dB from flat over the speech band
    eq_q: tuple[float, float] = (0.5, 2.0)  # its quality factor range (bandwidth about f0 / Q)
    # ---- level and clipping (clip, set_peak)
    p_clip: float = 0.1  # chance of clipping (an overdriven preamp or converter)
    clip_overdrive_db: tuple[float, float] = (1.0, 10.0)  # how far (dB) the peak is driven past the clip level
    p_soft_clip: float = 0.5  # of the clipped crops, the share clipped softly (tanh) instead of hard
    p_level: float = 0.5  # chance of a new level
    peak_dbfs: tuple[float, float] = (-30.0, -1.0)  # its peak level range (dB full scale): quiet recordings
    # leave 20-30 dB of headroom; normalised ones peak near -1 dBFS (EBU R 128 true-peak maximum)


def augment_config(overrides: dict[str, Any] | None = None) -> RecordingAugmentConfig:
    """The default RecordingAugmentConfig with ``overrides`` (lists become tuples), checked."""
    known = {f.name: f for f in dataclasses.fields(RecordingAugmentConfig)}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise InvalidInput(f"the recording augmentation has no setting {', '.join(unknown)}; "
                           f"its settings are {', '.join(known)}")
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    cfg = RecordingAugmentConfig(**kw)
    check_config(cfg)
    return cfg


def check_config(cfg: RecordingAugmentConfig, sample_rate: int | None = None) -> None:
    """InvalidInput naming the first setting out of its allowed range."""
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if f.name.startswith("p_") and not 0.0 <= float(v) <= 1.0:
            raise InvalidInput(f"{f.name} is a probability in [0, 1], got {v}")
        if isinstance(v, tuple) and (len(v) != 2 or not float(v[0]) <= float(v[1])):
            raise InvalidInput(f"{f.name} is a range (low, high) with low <= high, got {v}")
    if cfg.noise_source not in NOISE_SOURCES:
        raise InvalidInput(f"noise_source must be one of {', '.join(NOISE_SOURCES)}, got {cfg.noise_source!r}")
    rules = (("rt60_s", 0.01, 5.0), ("first_reflection_ms", 0.0, 100.0), ("highpass_hz", 1.0, 2000.0),
             ("lowpass_hz", 500.0, 1e6), ("filter_order", 1, 12), ("eq_hz", 20.0, 1e6), ("eq_q", 0.1, 20.0),
             ("eq_gain_db", -24.0, 24.0), ("clip_overdrive_db", 0.0, 40.0), ("peak_dbfs", -80.0, 0.0),
             ("noise_exponent", -2.0, 3.0))
    for name, lo, hi in rules:
        a, b = getattr(cfg, name)
        if a < lo or b > hi:
            raise InvalidInput(f"{name} must lie within [{lo}, {hi}], got {(a, b)}")
    if sample_rate is not None:
        nyq = sample_rate / 2
        for name in ("lowpass_hz", "eq_hz"):
            if getattr(cfg, name)[1] >= nyq:
                raise InvalidInput(f"{name} must stay below the Nyquist frequency {nyq:g} Hz at {sample_rate} Hz, "
                                   f"got {getattr(cfg, name)}")


# ---- the stages ------------------------------------------------------------------------------


def room_impulse_response(sr: int, rt60: float, drr_db: float, rng: np.random.Generator,
                          first_reflection_ms: float = 3.0) -> np.ndarray:
    """(L,) impulse response: 1 at 0 (the direct sound), then from ``first_reflection_ms`` Gaussian
    noise with amplitude exp(-ln(1000) t / rt60) (60 dB down at rt60), scaled so that direct energy /
    tail energy = ``drr_db``. L covers the 60 dB decay (at most 2 s)."""
    if rt60 <= 0:
        raise InvalidInput(f"rt60 must be positive (seconds), got {rt60}")
    gap = round(first_reflection_ms * 1e-3 * sr)
    n_tail = max(1, int(min(rt60, 2.0) * sr))
    t = np.arange(n_tail) / sr
    tail = rng.standard_normal(n_tail) * np.exp(-np.log(1000.0) * t / rt60)  # (n_tail,)
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    h = np.zeros(1 + gap + n_tail)
    h[0] = 1.0
    h[1 + gap:] = tail
    return h


def reverberate(wave: np.ndarray, sr: int, rt60: float, drr_db: float, rng: np.random.Generator,
                first_reflection_ms: float = 3.0) -> np.ndarray:
    """``wave`` (N,) played in a simulated room (``room_impulse_response``), cut to N samples; the
    response has unit energy, so the mean power of a long input is about kept."""
    from scipy.signal import fftconvolve

    h = room_impulse_response(sr, rt60, drr_db, rng, first_reflection_ms)
    h /= np.sqrt(np.sum(h**2))
    x = np.asarray(wave, np.float64)
    return fftconvolve(x, h)[: len(x)]


def coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """(n,) noise with power spectrum proportional to 1/f^exponent (0 white, 1 pink, 2 brown), unit RMS."""
    white = rng.standard_normal(n)
    spec = np.fft.rfft(white)  # (n // 2 + 1,)
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = f[1] if len(f) > 1 else 1.0  # no infinite DC
    y = np.fft.irfft(spec * f ** (-exponent / 2), n)
    y -= y.mean()
    return y / max(float(np.sqrt(np.mean(y**2))), 1e-12)


def fit_noise(noise: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``noise`` cut to n samples from a random start, or repeated (from a random start) when shorter."""
    noise = np.asarray(noise, np.float64)
    if len(noise) == 0:
        raise InvalidInput("a background noise clip has no samples")
    start = int(rng.integers(0, len(noise)))
    reps = -(-(start + n) // len(noise))  # ceil
    return np.tile(noise, reps)[start:start + n]


def add_noise(wave: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``wave`` + ``noise`` (same length) scaled so that mean power of wave / mean power of the
    scaled noise = ``snr_db``. A silent wave or a silent noise is returned unchanged."""
    x = np.asarray(wave, np.float64)
    noise = np.asarray(noise, np.float64)
    if noise.shape != x.shape:
        raise InvalidInput(f"noise must be as long as the wave: {noise.shape} vs {x.shape} (see fit_noise)")
    ps, pn = float(np.mean(x**2)), float(np.mean(noise**2))
    if ps <= 0 or pn <= 0:
        return x.copy()
    return x + noise * np.sqrt(ps / (pn * 10 ** (snr_db / 10)))


def band_limit(wave: np.ndarray, sr: int, highpass_hz: float | None = None, lowpass_hz: float | None = None,
               order: int = 4) -> np.ndarray:
    """``wave`` through a causal Butterworth high-pass and/or low-pass of ``order`` (like a
    microphone or a line: with their phase shift). None leaves that side open."""
    from scipy.signal import butter, sosfilt

    y = np.asarray(wave, np.float64)
    nyq = sr / 2
    for kind, fc in (("highpass", highpass_hz), ("lowpass", lowpass_hz)):
        if fc is None:
            continue
        if not 0 < fc < nyq:
            raise InvalidInput(f"the {kind} cutoff must lie between 0 and {nyq:g} Hz (Nyquist at {sr} Hz), got {fc}")
        y = sosfilt(butter(int(order), fc, btype=kind, fs=sr, output="sos"), y)
    return y


def peaking_eq(wave: np.ndarray, sr: int, freq_hz: float, gain_db: float, q: float = 1.0) -> np.ndarray:
    """``wave`` through one peaking biquad: ``gain_db`` at ``freq_hz``, 0 dB far from it, bandwidth
    about freq_hz / q (Robert Bristow-Johnson's Audio EQ Cookbook)."""
    from scipy.signal import lfilter

    if not 0 < freq_hz < sr / 2:
        raise InvalidInput(f"the EQ frequency must lie between 0 and {sr / 2:g} Hz, got {freq_hz}")
    a_lin = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * freq_hz / sr
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a_lin, -2 * np.cos(w0), 1 - alpha * a_lin])
    a = np.array([1 + alpha / a_lin, -2 * np.cos(w0), 1 - alpha / a_lin])
    return lfilter(b / a[0], a / a[0], np.asarray(wave, np.float64))


def clip(wave: np.ndarray, threshold: float, soft: bool = False) -> np.ndarray:
    """``wave`` clipped at ``threshold``: hard (cut flat, as a converter at full scale) or soft
    (threshold * tanh(x / threshold), as an analogue stage). |output| <= threshold."""
    if threshold <= 0:
        raise InvalidInput(f"the clip threshold must be positive, got {threshold}")
    x = np.asarray(wave, np.float64)
    return threshold * np.tanh(x / threshold) if soft else np.clip(x, -threshold, threshold)


def set_peak(wave: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """``wave`` scaled to a peak of ``peak_dbfs`` dB full scale (a silent wave as it is)."""
    x = np.asarray(wave, np.float64)
    peak = float(np.abs(x).max()) if x.size else 0.0
    return x if peak <= 0 else x * (10 ** (peak_dbfs / 20) / peak)


# ---- the chain -------------------------------------------------------------------------------


@dataclass
class AugmentChain:
    """What ``draw_chain`` chose for one clip; a None stage is skipped."""

    reverb: tuple[float, float, float] | None = None  # (rt60 s, drr dB, first reflection ms)
    noise_snr_db: float | None = None  # background noise at this SNR
    noise_clip: int | None = None  # index into the background clips, or None: coloured noise
    noise_exponent: float = 0.0  # beta of the coloured noise
    highpass_hz: float | None = None
    lowpass_hz: float | None = None
    filter_order: int = 4
    eq: tuple[float, float, float] | None = None  # (centre Hz, gain dB, Q)
    clip: tuple[float, bool] | None = None  # (overdrive dB, soft)
    peak_dbfs: float | None = None

    def describe(self) -> list[str]:
        """One short line per stage applied, e.g. "room RT60 0.42 s, DRR 6.1 dB"."""
        out = []
        if self.reverb:
            out.append(f"room RT60 {self.reverb[0]:.2f} s, DRR {self.reverb[1]:.1f} dB")
        if self.noise_snr_db is not None:
            what = f"background clip {self.noise_clip}" if self.noise_clip is not None else \
                f"1/f^{self.noise_exponent:.2f} noise"
            out.append(f"{what} at SNR {self.noise_snr_db:.1f} dB")
        for kind, fc in (("high-pass", self.highpass_hz), ("low-pass", self.lowpass_hz)):
            if fc:
                out.append(f"{kind} {fc:.0f} Hz (order {self.filter_order})")
        if self.eq:
            out.append(f"EQ {self.eq[1]:+.1f} dB at {self.eq[0]:.0f} Hz, Q {self.eq[2]:.2f}")
        if self.clip:
            out.append(f"{'soft' if self.clip[1] else 'hard'} clip, {self.clip[0]:.1f} dB overdrive")
        if self.peak_dbfs is not None:
            out.append(f"peak {self.peak_dbfs:.1f} dBFS")
        return out


def _uniform(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(rng.uniform(r[0], r[1]))


def draw_chain(rng: np.random.Generator, cfg: RecordingAugmentConfig, n_noises: int = 0) -> AugmentChain:
    """The random chain for one clip (every draw from ``rng``, in a fixed order, so a seed gives one chain).
    ``n_noises``: how many background clips there are to draw from."""
    c = AugmentChain()
    if rng.random() >= cfg.p_any:
        return c
    if rng.random() < cfg.p_reverb:
        c.reverb = (_uniform(rng, cfg.rt60_s), _uniform(rng, cfg.drr_db), _uniform(rng, cfg.first_reflection_ms))
    if rng.random() < cfg.p_noise:
        use_clip = n_noises > 0 and (cfg.noise_source == "samples" or (cfg.noise_source == "auto" and rng.random() < 0.5))
        if cfg.noise_source == "samples" and n_noises == 0:
            raise InvalidInput("noise_source is 'samples' but there are no background clips; fetch them with "
                               "`tokenworks assets fetch sonic-pi-samples`, or use noise_source 'auto' or 'coloured'")
        c.noise_snr_db = _uniform(rng, cfg.snr_db)
        if use_clip:
            c.noise_clip = int(rng.integers(n_noises))
        else:
            c.noise_exponent = _uniform(rng, cfg.noise_exponent)
    c.filter_order = int(rng.integers(cfg.filter_order[0], cfg.filter_order[1] + 1))
    if rng.random() < cfg.p_highpass:
        c.highpass_hz = float(np.exp(rng.uniform(*np.log(cfg.highpass_hz))))
    if rng.random() < cfg.p_lowpass:
        c.lowpass_hz = float(np.exp(rng.uniform(*np.log(cfg.lowpass_hz))))
    if rng.random() < cfg.p_eq:
        c.eq = (float(np.exp(rng.uniform(*np.log(cfg.eq_hz)))), _uniform(rng, cfg.eq_gain_db), _uniform(rng, cfg.eq_q))
    if rng.random() < cfg.p_clip:
        c.clip = (_uniform(rng, cfg.clip_overdrive_db), bool(rng.random() < cfg.p_soft_clip))
    if rng.random() < cfg.p_level:
        c.peak_dbfs = _uniform(rng, cfg.peak_dbfs)
    return c


def apply_chain(wave: np.ndarray, sr: int, chain: AugmentChain, rng: np.random.Generator,
                noises: Sequence[np.ndarray] = ()) -> np.ndarray:
    """``wave`` (N,) through ``chain``: float32 (N,), finite, in [-1, 1]. The impulse response and the
    noise draw from ``rng``. Without a level stage the input's peak is kept."""
    x = np.asarray(wave, np.float64)
    if x.ndim != 1:
        raise InvalidInput(f"augment takes one mono waveform shaped (N,), got shape {x.shape}")
    x = np.nan_to_num(x)
    peak_in = float(np.abs(x).max()) if x.size else 0.0
    if peak_in <= 0:  # silence stays silence: no level to set noise or clipping against
        return x.astype(np.float32)
    y = x
    if chain.reverb:
        y = reverberate(y, sr, chain.reverb[0], chain.reverb[1], rng, chain.reverb[2])
    if chain.noise_snr_db is not None:
        if chain.noise_clip is not None:
            noise = fit_noise(noises[chain.noise_clip], len(y), rng)
        else:
            noise = coloured_noise(len(y), chain.noise_exponent, rng)
        y = add_noise(y, noise, chain.noise_snr_db)
    if chain.highpass_hz or chain.lowpass_hz:
        lp = chain.lowpass_hz if chain.lowpass_hz and chain.lowpass_hz < sr / 2 else None
        y = band_limit(y, sr, chain.highpass_hz, lp, chain.filter_order)
    if chain.eq and chain.eq[0] < sr / 2:
        y = peaking_eq(y, sr, *chain.eq)
    if chain.clip:
        peak = float(np.abs(y).max())
        if peak > 0:
            y = clip(y, peak * 10 ** (-chain.clip[0] / 20), soft=chain.clip[1])
    y = set_peak(y, chain.peak_dbfs if chain.peak_dbfs is not None else 20 * np.log10(peak_in))
    return np.clip(np.nan_to_num(y), -1.0, 1.0).astype(np.float32)


def augment(wave: np.ndarray, sr: int, rng: np.random.Generator, cfg: RecordingAugmentConfig | None = None,
            noises: Sequence[np.ndarray] = ()) -> np.ndarray:
    """``wave`` (N,) as if recorded: a random chain (``draw_chain``) applied (``apply_chain``).
    ``noises``: background clips at ``sr`` to draw from (none: coloured noise only)."""
    cfg = cfg or RecordingAugmentConfig()
    return apply_chain(wave, sr, draw_chain(rng, cfg, len(noises)), rng, noises)


def augment_batch(x: np.ndarray, sr: int, rng: np.random.Generator, cfg: RecordingAugmentConfig,
                  noises: Sequence[np.ndarray] = ()) -> np.ndarray:
    """(B, S) crops, each through its own random chain; float32 (B, S)."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise InvalidInput(f"augment_batch takes crops shaped (B, S), got shape {x.shape}")
    return np.stack([augment(row, sr, rng, cfg, noises) for row in x]).astype(np.float32)  # (B, S)
