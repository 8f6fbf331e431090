"""Audio quality metrics: SI-SDR, multi-resolution mel distance, STOI/ESTOI, PESQ-WB, WER.

Every metric takes a reference and an estimate as mono float waveforms (N,) at one sample rate
``sr`` (int16 arrays are scaled by 1/32768). The pairwise metrics need equal lengths; ``align``
or ``evaluate`` make them so.

- ``si_sdr(ref, est)``: scale-invariant signal-to-distortion ratio in dB (Le Roux et al. 2019,
  "SDR - half-baked or well done?"). Both signals have their mean removed; the target is the
  projection of est onto ref, alpha = <est, ref> / ||ref||^2, and SI-SDR = 10 log10(||alpha
  ref||^2 / ||est - alpha ref||^2). Identical signals give +inf, a silent estimate -inf; a silent
  reference has no SI-SDR (NaN with a ``MetricWarning``).
- ``mel_distance(ref, est, sr)``: multi-resolution log-mel L1. For each FFT size in
  ``MEL_FFT_SIZES`` = (512, 1024, 2048): Hann window of that length, hop n_fft / 4, frames
  centred (reflect padding of n_fft / 2), magnitude |STFT|, an HTK-mel triangular filterbank of
  n_fft / 16 bands (32, 64, 128) from 0 Hz to sr / 2 (peak 1, no area normalisation), then
  log10(max(mel, 1e-5)); the distance is the mean absolute difference over bands and frames,
  averaged over the three resolutions. 0 for identical signals; NOT gain-invariant (est at half
  the level scores log10(2) = 0.30). The filterbank always spans 0..sr/2, so compare clips at
  one rate (16 kHz here).
- ``stoi(ref, est, sr)`` / ``estoi``: short-time objective intelligibility (Taal et al. 2011)
  and its extended form (Jensen & Taal 2016), from PyPI ``pystoi`` 0.4.1 (which resamples to
  10 kHz and drops silent frames itself). Fewer than 30 speech frames (about 0.4 s) left after
  that: NaN with a ``MetricWarning`` instead of pystoi's 1e-5.
- ``pesq_wb(ref, est, sr)``: ITU-T P.862.2 wide-band PESQ (MOS-LQO, about 1.04 .. 4.64) from
  PyPI ``pesq`` 0.0.4 at 16 kHz (other rates are resampled first with resample_poly; 8 kHz
  audio upsampled has no content above 4 kHz and scores lower, as narrow-band speech should).
  PESQ's own failures ("no utterances detected", buffer too short) give NaN with a
  ``MetricWarning`` that says why. Clean 16-bit speech against itself scores about 4.64.
- ``wer(text, wave, sr)``: word error rate of PocketSphinx 5.1.1 (PyPI ``pocketsphinx``, its
  bundled en-US acoustic model, language model and dictionary; fully offline) on ``wave``
  against ``text``: Levenshtein distance over normalised words (lower case; every character
  other than a-z, 0-9 and the apostrophe becomes a space; digits are NOT spelled out) divided by
  the number of reference words. The recogniser is built once per process and reused.
- ``codebook_usage(ids, V)``: per codebook level, the fraction of the V codes used, the entropy
  in bits and normalised (H / log V), and the perplexity.
- ``evaluate(ref, est, sr, text=None)``: all of the above in one ``AudioScores``, after
  ``align`` (a constant codec delay found by cross-correlation, then trim or zero-pad est to the
  reference length). Metrics that are undefined for this input are NaN and ``notes`` says why.

Undefined values are NaN, never an exception, and each comes with a ``MetricWarning`` whose
message is the reason; ``evaluate`` collects those messages. Wrong input (NaN samples, empty,
stereo, unequal lengths, more than ``MAX_SECONDS``) raises ``InvalidInput``.
"""
from __future__ import annotations

import math
import re
import threading
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.signal import fftconvolve, resample_poly

from ..errors import AssetMissing, InvalidInput

MAX_SECONDS = 600.0  # longest clip any metric accepts (10 minutes; PESQ and WER run ~real time / 10)
MEL_FFT_SIZES = (512, 1024, 2048)  # one resolution per FFT size; hop = n_fft // 4
MEL_LOG_FLOOR = 1e-5  # log10 floor of the mel magnitudes
MIN_STOI_FRAMES = 30  # pystoi's minimum number of 384-sample frames at 10 kHz
PESQ_RATE = 16000  # wide-band PESQ works at 16 kHz only
MAX_DELAY_S = 0.25  # largest codec delay ``align`` searches for, in seconds


def _need(module: str, pin: str):
    """Import a metric's PyPI package, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise AssetMissing(f"this metric needs the PyPI package {pin}: `.venv/bin/pip install {pin}` "
                           "(it is in the project's `audio` extra)") from err


class MetricWarning(UserWarning):
    """A metric is undefined for this input (the value is NaN); the message says why."""


def _undefined(reason: str) -> float:
    warnings.warn(reason, MetricWarning, stacklevel=3)
    return float("nan")


def _wave(x, what: str) -> np.ndarray:
    """x as float64 (N,), refusing what no metric can use."""
    a = np.asarray(x)
    if a.dtype == np.int16:
        a = a / 32768.0
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise InvalidInput(f"{what} must be a numeric waveform array; got dtype {a.dtype}")
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1:
        raise InvalidInput(f"{what} must be mono, shape (N,); got shape {a.shape}. Down-mix "
                           "first (tokenworks.audio.io.prepare does, or x.mean(axis=1))")
    if a.size == 0:
        raise InvalidInput(f"{what} is empty (0 samples); give at least one sample")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        raise InvalidInput(f"{what} has {int(bad.sum())} NaN/Inf samples (first at index "
                           f"{int(np.argmax(bad))}); give finite samples in [-1, 1]")
    return a


def _check_sr(sr) -> int:
    if not isinstance(sr, (int, np.integer)) or not 1000 <= sr <= 384000:
        raise InvalidInput(f"sr must be an int sample rate in Hz (1000..384000); got {sr!r}")
    return int(sr)


def _check_len(n: int, sr: int) -> None:
    if n > MAX_SECONDS * sr:
        raise InvalidInput(f"the clip is {n / sr:.1f} s long; audio metrics accept at most "
                           f"{MAX_SECONDS:.0f} s (MAX_SECONDS). Cut it into shorter pieces")


def _pair(ref, est, what: str) -> tuple[np.ndarray, np.ndarray]:
    r, e = _wave(ref, f"{what}: ref"), _wave(est, f"{what}: est")
    if r.shape != e.shape:
        raise InvalidInput(f"{what}: ref and est must have the same length; got {r.size} and "
                           f"{e.size} samples. Use tokenworks.metrics.audio.align(ref, est) or "
                           "evaluate(), which trim, pad and compensate a codec delay")
    return r, e


def _resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return x
    g = math.gcd(sr_from, sr_to)
    return resample_poly(x, sr_to // g, sr_from // g)


# --------------------------------------------------------------------------- SI-SDR


def si_sdr(ref, est) -> float:
    """Scale-invariant SDR in dB (Le Roux et al. 2019); +inf when est is a scaled copy of ref."""
    r, e = _pair(ref, est, "si_sdr")
    r, e = r - r.mean(), e - e.mean()
    rr = float(np.dot(r, r))
    if rr == 0.0:
        return _undefined("SI-SDR is undefined for a silent (constant) reference")
    target = (np.dot(e, r) / rr) * r  # (N,) projection of est onto ref
    noise = e - target  # (N,)
    tt, nn = float(np.dot(target, target)), float(np.dot(noise, noise))
    if tt == 0.0:  # est is constant (silent) or orthogonal to ref: nothing of ref is in it
        return -math.inf
    if nn == 0.0:
        return math.inf
    return 10.0 * math.log10(tt / nn)


# --------------------------------------------------------------------------- mel distance


@lru_cache(maxsize=16)
def mel_filterbank(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) HTK-mel triangles from 0 Hz to sr / 2, each peaking at 1
    (``tokenworks.audio.mel``'s filterbank with mel_scale="htk", norm="none")."""
    from ..audio.mel import _filterbank

    return _filterbank(sr, n_fft, n_mels, 0.0, sr / 2, "htk", "none").numpy().astype(np.float64)


def _log_mel(x: np.ndarray, sr: int, n_fft: int) -> np.ndarray:
    """(n_mels, frames) log10 mel magnitudes of x (N,)."""
    hop, pad = n_fft // 4, n_fft // 2
    mode = "reflect" if x.size > pad else "constant"
    xp = np.pad(x, pad, mode=mode)  # (N + n_fft,)
    n_frames = 1 + (xp.size - n_fft) // hop
    idx = np.arange(n_fft)[None] + hop * np.arange(n_frames)[:, None]  # (frames, n_fft)
    frames = xp[idx] * np.hanning(n_fft + 1)[:-1]  # (frames, n_fft) periodic Hann
    mag = np.abs(np.fft.rfft(frames, axis=1))  # (frames, F)
    mel = mel_filterbank(sr, n_fft, n_fft // 16) @ mag.T  # (n_mels, frames)
    return np.log10(np.maximum(mel, MEL_LOG_FLOOR))


def mel_distance(ref, est, sr: int) -> float:
    """Multi-resolution log-mel L1 distance (see the module docstring for the exact recipe)."""
    r, e = _pair(ref, est, "mel_distance")
    sr = _check_sr(sr)
    _check_len(r.size, sr)
    dists = [float(np.mean(np.abs(_log_mel(r, sr, n) - _log_mel(e, sr, n))))
             for n in MEL_FFT_SIZES]
    return float(np.mean(dists))


# --------------------------------------------------------------------------- STOI / ESTOI


def stoi(ref, est, sr: int, extended: bool = False) -> float:
    """STOI in [0, 1] (ESTOI with ``extended=True``) from pystoi 0.4.1; NaN if too little speech."""
    _pystoi = _need("pystoi", "pystoi==0.4.1").stoi
    r, e = _pair(ref, est, "stoi")
    sr = _check_sr(sr)
    _check_len(r.size, sr)
    name = "ESTOI" if extended else "STOI"
    if not np.any(r):
        return _undefined(f"{name} is undefined for a silent reference (no speech frames)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_pystoi(r, e, sr, extended=extended))
    for w in caught:
        if "frames" in str(w.message).lower():
            return _undefined(f"{name} needs at least {MIN_STOI_FRAMES} speech frames (about "
                              "0.4 s of non-silent reference, 256-sample frames at 10 kHz); "
                              f"this clip has fewer ({r.size / sr:.2f} s in all)")
    return value


def estoi(ref, est, sr: int) -> float:
    """Extended STOI (Jensen & Taal 2016), pystoi's ``extended=True``."""
    return stoi(ref, est, sr, extended=True)


# --------------------------------------------------------------------------- PESQ


def pesq_wb(ref, est, sr: int) -> float:
    """Wide-band PESQ (P.862.2) MOS-LQO at 16 kHz; NaN with a MetricWarning when PESQ fails."""
    _need("pesq", "pesq==0.0.4")
    from . import pesq_process

    r, e = _pair(ref, est, "pesq_wb")
    sr = _check_sr(sr)
    _check_len(r.size, sr)
    if not np.any(r):
        return _undefined("PESQ-WB is undefined for a silent reference (no utterances)")
    if not np.any(e):
        return _undefined("PESQ-WB is undefined for a silent estimate (PESQ cannot level-align "
                          "silence); the estimate carries no speech at all")
    r, e = _resample(r, sr, PESQ_RATE), _resample(e, sr, PESQ_RATE)
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            # in a helper process when the app asked for one (PESQ's C code holds the interpreter lock)
            return pesq_process.pesq(PESQ_RATE, r.astype(np.float32), e.astype(np.float32), "wb")
    except pesq_process.PesqFailed as err:  # NoUtterancesError, BufferTooShortError, NaN levels
        return _undefined(f"PESQ-WB failed: {err} "
                          f"({r.size / PESQ_RATE:.2f} s at 16 kHz; PESQ needs speech of at "
                          "least about 0.25 s in the reference)")


# --------------------------------------------------------------------------- WER


@dataclass
class WordErrors:
    wer: float  # (S + D + I) / len(reference); NaN when the reference has no words
    substitutions: int  # S
    deletions: int  # D: reference words missing from the hypothesis
    insertions: int  # I: hypothesis words not in the reference
    reference: list[str]  # normalised reference words
    hypothesis: list[str]  # normalised hypothesis words


def normalise_words(text: str | list[str]) -> list[str]:
    """Lower case; anything but a-z, 0-9 and ' is a space; split. Lists are normalised per word."""
    if not isinstance(text, str):
        text = " ".join(str(w) for w in text)
    return re.sub(r"[^a-z0-9']+", " ", text.lower()).split()


def word_errors(reference: str | list[str], hypothesis: str | list[str]) -> WordErrors:
    """Levenshtein alignment of normalised words, counted as substitutions/deletions/insertions."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    n, m = len(ref), len(hyp)
    # d[i, j]: edit distance between ref[:i] and hyp[:j]; back-traced for S/D/I counts
    d = np.zeros((n + 1, m + 1), dtype=np.int64)  # (n + 1, m + 1)
    d[:, 0], d[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]),
                          d[i - 1, j] + 1, d[i, j - 1] + 1)
    s = dl = ins = 0
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            s += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            dl, i = dl + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    wer_value = (s + dl + ins) / n if n else float("nan")
    return WordErrors(wer=float(wer_value), substitutions=int(s), deletions=dl, insertions=ins,
                      reference=ref, hypothesis=hyp)


_RECOGNISER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _recogniser():
    """PocketSphinx 5.1.1 with its bundled en-US model, built once per process."""
    pocketsphinx = _need("pocketsphinx", "pocketsphinx==5.1.1")
    pocketsphinx.set_loglevel("FATAL")
    return pocketsphinx.Decoder(samprate=PESQ_RATE)


def transcribe(wave, sr: int) -> str:
    """PocketSphinx's best hypothesis for an English utterance (lower case, '' for none)."""
    x = _wave(wave, "transcribe: wave")
    sr = _check_sr(sr)
    _check_len(x.size, sr)
    x = _resample(x, sr, PESQ_RATE)
    pcm = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2")  # (N,) 16-bit for the decoder
    with _RECOGNISER_LOCK:
        dec = _recogniser()
        dec.start_utt()
        dec.process_raw(pcm.tobytes(), full_utt=True)
        dec.end_utt()
        hyp = dec.hyp()
    return hyp.hypstr if hyp is not None else ""


def wer(reference_text: str, wave, sr: int) -> WordErrors:
    """Word error rate of PocketSphinx on ``wave`` against ``reference_text`` (``.wer``)."""
    if not normalise_words(reference_text):
        raise InvalidInput("wer: the reference text has no words (after keeping a-z, 0-9 and "
                           f"'); got {reference_text!r}")
    return word_errors(reference_text, transcribe(wave, sr))


# --------------------------------------------------------------------------- codebook usage


@dataclass
class LevelUsage:
    usage: float  # fraction of the V codes used at least once, in [0, 1]
    entropy_bits: float  # H in bits per code, in [0, log2 V]
    entropy: float  # H / log V, in [0, 1]
    perplexity: float  # 2 ** H: the effective number of codes
    dead: int  # codes never used


@dataclass
class CodebookUsage:
    codebook_size: int  # V
    levels: list[LevelUsage]  # one per codebook level (K)

    @property
    def usage(self) -> list[float]:
        return [lv.usage for lv in self.levels]

    @property
    def entropy_bits(self) -> list[float]:
        return [lv.entropy_bits for lv in self.levels]


def codebook_usage(ids, V: int) -> CodebookUsage:
    """Per-level code usage and entropy of ids (K, T) (or (T,) for one level) from V codes."""
    a = np.asarray(ids)
    if a.ndim == 1:
        a = a[None]  # (1, T)
    if a.ndim != 2:
        raise InvalidInput(f"ids must have shape (K, T) (codebooks x frames); got {a.shape}")
    if not isinstance(V, (int, np.integer)) or V < 1:
        raise InvalidInput(f"V (the codebook size) must be an int >= 1; got {V!r}")
    if a.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= V):
        raise InvalidInput(f"ids must be integers in [0, {V - 1}]; got {a.dtype} in "
                           f"[{a.min()}, {a.max()}]")
    levels = []
    for row in a.astype(np.int64):  # (T,) per level
        counts = np.bincount(row, minlength=V)  # (V,)
        p = counts[counts > 0] / max(row.size, 1)
        h = float(-(p * np.log2(p)).sum()) if p.size else 0.0
        levels.append(LevelUsage(usage=float((counts > 0).mean()), entropy_bits=h,
                                 entropy=h / math.log2(V) if V > 1 else 0.0,
                                 perplexity=float(2.0 ** h), dead=int((counts == 0).sum())))
    return CodebookUsage(codebook_size=int(V), levels=levels)


# --------------------------------------------------------------------------- align + evaluate


@dataclass
class Aligned:
    ref: np.ndarray  # (N,) float64, the reference unchanged
    est: np.ndarray  # (N,) float64, est shifted by ``delay`` then trimmed/zero-padded to N
    delay: int  # samples est lags ref by (negative: est leads); 0 when not searched
    trimmed: int  # samples of est cut off at the end
    padded: int  # zeros added at the end of est


ALIGN_HOP = 16  # samples between the log-mel frames of the coarse delay search
ALIGN_REFINE = 64  # the waveform search looks this many samples either side of the coarse delay


def _xcorr(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Full cross-correlation of b against a, (len(a) + len(b) - 1,), and the index of lag 0."""
    return fftconvolve(b, a[::-1], mode="full"), a.size - 1


def _coarse_log_mel(x: np.ndarray) -> np.ndarray:
    """(32, frames) mean-removed log-mel bands, 512-sample Hann windows every ALIGN_HOP samples."""
    n_fft, pad = 512, 256
    xp = np.pad(x, pad)  # (N + 512,)
    n_frames = 1 + (xp.size - n_fft) // ALIGN_HOP
    idx = np.arange(n_fft)[None] + ALIGN_HOP * np.arange(n_frames)[:, None]  # (frames, 512)
    mag = np.abs(np.fft.rfft(xp[idx] * np.hanning(n_fft), axis=1))  # (frames, 257)
    m = np.log(mel_filterbank(PESQ_RATE, n_fft, 32) @ mag.T + 1e-4)  # (32, frames)
    return m - m.mean(axis=1, keepdims=True)


def find_delay(ref, est, max_delay: int) -> int:
    """Samples est lags ref by (|delay| <= max_delay), found in two steps.

    1. Coarse, to ALIGN_HOP samples: the lag maximising the summed cross-correlation of the
       mean-removed log-mel bands. This works for parametric codecs too (Codec2 keeps the
       spectral envelope but not the waveform, so waveform correlation peaks at random lags).
    2. Fine, to one sample: the waveform cross-correlation peak within ALIGN_REFINE samples of
       the coarse lag (what waveform codecs such as Opus or MP3 need).
    """
    r, e = _wave(ref, "find_delay: ref"), _wave(est, "find_delay: est")
    if not np.any(r) or not np.any(e) or max_delay <= 0:
        return 0
    mr, me = _coarse_log_mel(r), _coarse_log_mel(e)  # (32, Fr), (32, Fe)
    xc = sum(_xcorr(mr[b], me[b])[0] for b in range(mr.shape[0]))  # (Fr + Fe - 1,)
    zero, m = mr.shape[1] - 1, max_delay // ALIGN_HOP
    lo, hi = max(0, zero - m), min(xc.size, zero + m + 1)
    coarse = (int(np.argmax(xc[lo:hi])) + lo - zero) * ALIGN_HOP
    wx, zero = _xcorr(r, e)  # (Nr + Ne - 1,)
    lo = max(0, zero + max(-max_delay, coarse - ALIGN_REFINE))
    hi = min(wx.size, zero + min(max_delay, coarse + ALIGN_REFINE) + 1)
    return int(np.argmax(wx[lo:hi]) + lo - zero) if hi > lo else coarse


def align(ref, est, sr: int = PESQ_RATE, max_delay_s: float = MAX_DELAY_S) -> Aligned:
    """Compensate a constant delay (cross-correlation, up to ``max_delay_s``), then make est as
    long as ref by trimming its end or padding zeros. ``max_delay_s=0`` only fixes the length."""
    r, e = _wave(ref, "align: ref"), _wave(est, "align: est")
    delay = find_delay(r, e, int(round(max_delay_s * sr)))
    if delay > 0:
        e = e[delay:]
    elif delay < 0:
        e = np.concatenate([np.zeros(-delay), e])
    trimmed, padded = max(0, e.size - r.size), max(0, r.size - e.size)
    e = np.pad(e[: r.size], (0, padded))
    return Aligned(ref=r, est=e, delay=delay, trimmed=trimmed, padded=padded)


@dataclass
class AudioScores:
    sample_rate: int  # the rate the metrics ran at (PESQ always at 16 kHz)
    duration_s: float  # reference length
    si_sdr: float  # dB, higher is better; +inf for a perfect copy
    mel_distance: float  # multi-resolution log-mel L1, lower is better, 0 for identical
    stoi: float  # [0, 1], higher is better
    estoi: float  # [0, 1], higher is better
    pesq_wb: float  # MOS-LQO ~1.04 .. 4.64, higher is better
    wer: float | None = None  # word error rate of PocketSphinx (None when no text was given)
    hypothesis: str | None = None  # what PocketSphinx heard
    delay: int = 0  # samples est lagged ref by (compensated before scoring)
    length_fix: str = ""  # what align did to the length of est
    notes: dict[str, str] = field(default_factory=dict)  # metric -> why it is NaN

    def as_dict(self) -> dict[str, float | str | None]:
        return {k: v for k, v in self.__dict__.items() if k != "notes"} | {
            f"note/{k}": v for k, v in self.notes.items()}


def evaluate(ref, est, sr: int, text: str | None = None, *, compensate_delay: bool = True,
             max_delay_s: float = MAX_DELAY_S) -> AudioScores:
    """Every metric on (ref, est) at ``sr`` after ``align``; WER too when ``text`` is given."""
    sr = _check_sr(sr)
    r = _wave(ref, "evaluate: ref")
    _check_len(r.size, sr)
    _check_len(_wave(est, "evaluate: est").size, sr)
    al = align(r, est, sr, max_delay_s if compensate_delay else 0.0)
    notes: dict[str, str] = {}

    def run(name, fn, *args):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MetricWarning)
            value = fn(*args)
        for w in caught:
            if issubclass(w.category, MetricWarning):
                notes[name] = str(w.message)
        return value

    scores = AudioScores(
        sample_rate=sr, duration_s=r.size / sr,
        si_sdr=run("si_sdr", si_sdr, al.ref, al.est),
        mel_distance=run("mel_distance", mel_distance, al.ref, al.est, sr),
        stoi=run("stoi", stoi, al.ref, al.est, sr),
        estoi=run("estoi", estoi, al.ref, al.est, sr),
        pesq_wb=run("pesq_wb", pesq_wb, al.ref, al.est, sr),
        delay=al.delay,
        length_fix=(f"trimmed {al.trimmed} samples" if al.trimmed else
                    f"padded {al.padded} zeros" if al.padded else "none"),
        notes=notes,
    )
    if text is not None:
        we = wer(text, al.est, sr)
        scores.wer, scores.hypothesis = we.wer, " ".join(we.hypothesis)
    return scores
