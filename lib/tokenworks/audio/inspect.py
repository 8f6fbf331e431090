"""Looking inside an audio tokenizer on one clip: the codebook ladder, its quality, the baselines.

    from tokenworks.audio.inspect import analyze, baseline_points
    a = analyze(tok, clip)                  # AudioAnalysis: ids (K, T), reconstructions for k = 1..K
    a.recon(3)                              # (N,) float32 16 kHz: decoded from the first 3 codebooks
    a.level(3).pesq, a.level(3).bits_per_second
    a.rate_points()                         # the ladder as viz.audio.RatePoint (ladder=True)
    baseline_points(clip)                   # Opus / MP3 / Codec2 / mu-law on this clip, same metrics

The app's Audio tab and notebook 05_audio_tokens call these; ``viz.audio`` draws the results.

Bounds: the tokens and reconstructions cover the whole clip (at most ``io.MAX_SECONDS``); the
quality metrics and the baselines look at its first ``QUALITY_SECONDS`` only (a note says so),
so one analysis stays within a few seconds on two CPU cores. PESQ and STOI need some speech:
on clips shorter than ``MIN_QUALITY_SECONDS`` they are NaN and ``notes`` says why (as for any
other NaN metric: silence, PESQ finding no utterance, a missing PyPI package).

Step-by-step looks for notebook 05_audio_tokens (the second half of this file):

    companding_curve(bits=4)                 # CompandingCurve: x, mu-law y, the quantized x
    mulaw_depths(wave, (8, 6, 4))            # one DepthResult per bit depth: bits/s, SI-SDR, wave
    residual_levels(codec, wave)             # ResidualLevels: residual energy after each RVQ level
    griffin_lim_bound(wave)                  # the mel front end alone: log-mel -> Griffin-Lim, no units

Symbols: N samples, T frames, K codebooks, D latent dim, M mel bands.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from ..errors import InvalidInput, TokenworksError
from ..metrics import audio as am
from ..viz.audio import RatePoint
from .io import SAMPLE_RATE, AudioClip, prepare

QUALITY_SECONDS = 20.0  # the metrics and baselines look at the first this-many seconds of a clip
MIN_QUALITY_SECONDS = 0.5  # PESQ-WB and STOI are left out (NaN + reason) on shorter clips
METRICS = ("si_sdr", "mel_distance", "pesq", "stoi")  # the keys of every metrics dict here
METRIC_LABELS = {"si_sdr": "SI-SDR (dB)", "mel_distance": "mel distance", "pesq": "PESQ-WB", "stoi": "STOI"}
# the baselines compared by default: the low-rate ones a speech codec competes with, and one
# sample-level anchor (mu-law 8 bits); the rest of baselines.BASELINE_NAMES on request
DEFAULT_BASELINES = ("opus-6k", "opus-8k", "opus-12k", "mp3-8k", "mp3-16k", "codec2-700C", "codec2-3200", "mulaw-8")


class Quality:
    """The metrics of one reconstruction against the original (NaN: undefined, see ``notes``).

    Each metric is computed the first time it is read, and kept: a view that shows one metric of
    every k and all four at one k (the Audio tab, the rate chart) pays for nothing else. ``notes``
    (metric -> why it is NaN) and ``as_dict()`` compute all four."""

    def __init__(self, ref: np.ndarray | None = None, est: np.ndarray | None = None, sr: int = SAMPLE_RATE,
                 values: dict[str, float] | None = None, notes: dict[str, str] | None = None) -> None:
        self._ref, self._est, self._sr = ref, est, sr  # (N,) each, views of arrays kept elsewhere
        self._values: dict[str, float] = dict(values or {})
        self._notes: dict[str, str] = dict(notes or {})

    def value(self, name: str) -> float:
        """Metric ``name`` (one of METRICS), computed now if it has not been."""
        if name not in METRICS:
            raise InvalidInput(f"metric must be one of {', '.join(METRICS)}, got {name!r}")
        if name not in self._values:
            self._values[name] = _score(name, self._ref, self._est, self._sr, self._notes)
        return self._values[name]

    si_sdr = property(lambda self: self.value("si_sdr"), doc="dB, higher is better (+inf: exact)")
    mel_distance = property(lambda self: self.value("mel_distance"), doc="multi-resolution log-mel L1, lower is better")
    pesq = property(lambda self: self.value("pesq"), doc="PESQ-WB MOS-LQO 1.04 .. 4.64, higher is better")
    stoi = property(lambda self: self.value("stoi"), doc="0 .. 1, higher is better")

    @property
    def notes(self) -> dict[str, str]:
        """metric -> why it is NaN (every metric computed first)."""
        self.as_dict()
        return self._notes

    def as_dict(self) -> dict[str, float]:
        return {m: float(self.value(m)) for m in METRICS}

    def __repr__(self) -> str:
        shown = ", ".join(f"{m}={v:.4g}" for m, v in self._values.items())
        return f"Quality({shown or 'nothing computed yet'})"


@dataclass
class LevelResult:
    """Decoding from the first k codebooks."""

    k: int  # codebooks kept, 1..K
    bits_per_second: float  # k codebooks' bitrate
    quality: Quality

    def __getattr__(self, name: str) -> Any:  # a.level(2).pesq reads the quality
        if name in METRICS:
            return getattr(self.quality, name)
        raise AttributeError(name)


@dataclass
class AudioAnalysis:
    """One clip through one tokenizer: what the Audio tab and the notebook show."""

    tokenizer: str  # the tokenizer's name
    clip: AudioClip  # the input as the tokenizer sees it (16 kHz mono), whole
    ids: np.ndarray  # (K, T) int64: K codebooks x T frames
    ks: list[int]  # the k of each reconstruction, ascending
    recons: np.ndarray  # (len(ks), N) float32 at 16 kHz: decoded from the first k codebooks
    levels: list[LevelResult]  # one per k in ks
    usage: am.CodebookUsage  # per codebook level over this clip
    vocab_size: int  # V per codebook
    frame_rate: float  # frames (token columns) per second
    quality_seconds: float  # seconds of the clip the metrics looked at
    timings: dict[str, float] = field(default_factory=dict)  # seconds: encode, decode (metrics: when read)
    notes: list[str] = field(default_factory=list)  # what was done, for people
    meta: dict = field(default_factory=dict)  # TokenSeq.meta

    @property
    def num_codebooks(self) -> int:  # K
        return int(self.ids.shape[0])

    @property
    def num_frames(self) -> int:  # T
        return int(self.ids.shape[1])

    def _index(self, k: int) -> int:
        if k not in self.ks:
            raise InvalidInput(f"k must be one of {self.ks} (codebooks kept), got {k!r}")
        return self.ks.index(k)

    def recon(self, k: int | None = None) -> np.ndarray:
        """(N,) float32: the reconstruction from the first k codebooks (all by default)."""
        return self.recons[self._index(self.ks[-1] if k is None else k)]

    def level(self, k: int | None = None) -> LevelResult:
        return self.levels[self._index(self.ks[-1] if k is None else k)]

    def rate_points(self, metrics: Sequence[str] = METRICS) -> list[RatePoint]:
        """The ladder as ``viz.audio.RatePoint`` (one line; label "k=..") with ``metrics`` scored."""
        return [RatePoint(self.tokenizer, lv.bits_per_second, {m: lv.quality.value(m) for m in metrics}, f"k={lv.k}",
                          ladder=True) for lv in self.levels]


# ---- metrics ---------------------------------------------------------------------------------


def _metric(notes: dict[str, str], name: str, fn, *args) -> float:
    """fn(*args); a MetricWarning or a missing package becomes NaN with its reason in ``notes``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", am.MetricWarning)
        try:
            value = float(fn(*args))
        except TokenworksError as e:  # AssetMissing (pesq / pystoi not installed), InvalidInput
            notes[name] = str(e).split("\n", 1)[0]
            return float("nan")
    for w in caught:
        if issubclass(w.category, am.MetricWarning):
            notes[name] = str(w.message)
    return value


_SCORES = {"si_sdr": lambda r, e, sr: am.si_sdr(r, e), "mel_distance": am.mel_distance, "pesq": am.pesq_wb,
           "stoi": am.stoi}


def _score(name: str, ref: np.ndarray, est: np.ndarray, sr: int, notes: dict[str, str]) -> float:
    """One metric of ``est`` against ``ref`` (lengths matched by trimming or zero-padding est)."""
    ref = np.asarray(ref, dtype=np.float64)
    est = np.asarray(est, dtype=np.float64)
    est = np.pad(est[: ref.size], (0, max(0, ref.size - est.size)))  # (N,)
    seconds = ref.size / sr
    if name in ("pesq", "stoi") and seconds < MIN_QUALITY_SECONDS:
        notes[name] = (f"left out: the clip is {seconds:.2f} s long; PESQ-WB and STOI need at least "
                       f"{MIN_QUALITY_SECONDS:g} s of speech")
        return float("nan")
    return _metric(notes, name, _SCORES[name], ref, est, sr)


def quality(ref: np.ndarray, est: np.ndarray, sr: int = SAMPLE_RATE) -> Quality:
    """SI-SDR, mel distance, PESQ-WB and STOI of ``est`` against ``ref`` (both (N,), no delay search:
    tokenizer reconstructions are aligned by construction), each computed when first read."""
    return Quality(np.asarray(ref), np.asarray(est), sr)


# ---- the ladder ------------------------------------------------------------------------------


def _as_clip(x: Any) -> AudioClip:
    if isinstance(x, AudioClip):
        return x if x.sample_rate == SAMPLE_RATE else prepare(x.wave, x.sample_rate)
    if isinstance(x, tuple) and len(x) == 2:
        return prepare(x[0], x[1])
    raise InvalidInput(f"give an AudioClip (tokenworks.audio.io.read_audio / prepare) or (wave, sample_rate); "
                       f"got {type(x).__name__}")


def bits_per_second(tok: Any, k: int, K: int, frame_rate: float, meta: dict) -> float:
    """The bitrate of k of the K codebooks: the tokenizer's own ``bitrate(k)`` when it has one."""
    if hasattr(tok, "bitrate"):
        return float(tok.bitrate(k))
    total = meta.get("bits_per_second") or getattr(tok, "bits_per_second", None)
    if total:
        return float(total) * k / K
    return float(frame_rate * math.log2(max(int(tok.vocab_size), 2)) * k)


def _frame_rate(tok: Any, meta: dict, T: int, seconds: float) -> float:
    for value in (getattr(tok, "frame_rate", None), meta.get("frame_rate")):
        if value:
            return float(value)
    return T / seconds if seconds > 0 else 0.0


def _check_ks(ks: Sequence[int] | None, K: int) -> list[int]:
    if ks is None:
        return list(range(1, K + 1))
    out = sorted({int(k) for k in ks})
    if not out or out[0] < 1 or out[-1] > K:
        raise InvalidInput(f"ks must be codebook counts in 1..{K}, got {list(ks)!r}")
    return out


def decode_ladder(tok: Any, seq: Any, ks: list[int], n: int) -> np.ndarray:
    """(len(ks), n) float32: decode_ladder when the tokenizer has it, else one decode per k."""
    K = int(np.asarray(seq.ids).shape[0])
    if hasattr(tok, "decode_ladder") and K > 1:
        rows = list(np.asarray(tok.decode_ladder(seq, ks), dtype=np.float32))  # len(ks) x (N',)
    else:
        rows = [np.asarray((tok.decode(seq, keep=k) if K > 1 else tok.decode(seq))[0], dtype=np.float32)
                for k in ks]
    out = np.zeros((len(ks), n), dtype=np.float32)  # (len(ks), N)
    for i, r in enumerate(rows):
        m = min(n, r.size)
        out[i, :m] = np.nan_to_num(r[:m])
    return np.clip(out, -1.0, 1.0)


def analyze(tok: Any, clip: Any, ks: Sequence[int] | None = None, *, metrics: bool = True) -> AudioAnalysis:
    """Encode ``clip`` with ``tok``, decode it from the first k codebooks for every k in ``ks``
    (default 1..K) and score each reconstruction on the first ``QUALITY_SECONDS``.

    ``metrics=False`` skips the scores (NaN with a note): tokens and reconstructions only.
    """
    clip = _as_clip(clip)
    notes = list(clip.notes)
    t0 = time.perf_counter()
    seq = tok.encode(clip)
    t1 = time.perf_counter()
    ids = np.asarray(seq.ids, dtype=np.int64)
    if ids.ndim == 1:
        ids = ids[None]  # (1, T)
    K, T = ids.shape
    ks = _check_ks(ks, K)
    recons = decode_ladder(tok, seq, ks, clip.n_samples)  # (len(ks), N)
    t2 = time.perf_counter()
    V = int(tok.vocab_size)
    fr = _frame_rate(tok, seq.meta, T, clip.duration_s)
    n_q = min(clip.n_samples, int(QUALITY_SECONDS * SAMPLE_RATE))
    if n_q < clip.n_samples:
        notes.append(f"the quality metrics and the classical codecs look at the first {QUALITY_SECONDS:g} s "
                     f"of this {clip.duration_s:.1f} s clip")
    if clip.is_silent:
        notes.append("the clip is silent: SI-SDR, PESQ and STOI are undefined for it")
    levels = []
    for k, rec in zip(ks, recons):
        if metrics:
            q = quality(clip.wave[:n_q], rec[:n_q])  # views: scored when a view first reads them
        else:
            q = Quality(values={m: float("nan") for m in METRICS},
                        notes={m: "not computed (metrics=False)" for m in METRICS})
        levels.append(LevelResult(k, bits_per_second(tok, k, K, fr, seq.meta), q))
    return AudioAnalysis(
        tokenizer=str(getattr(tok, "name", type(tok).__name__)), clip=clip, ids=ids, ks=ks, recons=recons,
        levels=levels, usage=am.codebook_usage(ids, V), vocab_size=V, frame_rate=fr,
        quality_seconds=n_q / SAMPLE_RATE,
        timings={"encode": t1 - t0, "decode": t2 - t1}, notes=notes, meta=dict(seq.meta))


# ---- the classical codecs --------------------------------------------------------------------


@dataclass
class BaselineRun:
    """One classical codec on this clip (``point`` is what the chart draws)."""

    point: RatePoint  # name = the codec family ("opus"), label = the baseline ("opus-6k")
    quality: Quality
    seconds: float  # wall time of coding, decoding and scoring
    notes: list[str] = field(default_factory=list)


def baseline_runs(clip: Any, names: Sequence[str] | None = None) -> tuple[list[BaselineRun], list[str]]:
    """Each baseline in ``names`` (default ``DEFAULT_BASELINES``) on the first ``QUALITY_SECONDS``
    of the clip: measured bits/s and the metrics of ``quality``. Returns (runs, skipped): a
    baseline whose Debian tool is missing is skipped with a line that names the package."""
    from . import baselines as bl

    clip = _as_clip(clip)
    names = list(DEFAULT_BASELINES if names is None else names)
    for n in names:
        bl.spec(n)  # an unknown name: the error lists the valid ones
    x = clip.wave[: int(QUALITY_SECONDS * SAMPLE_RATE)]  # (N,)
    runs, skipped = [], []
    for n in names:
        missing = bl.missing_tools(n)
        if missing:
            skipped.append(f"{n}: needs {', '.join(missing)} (Debian package {bl.spec(n).apt}: "
                           f"`sudo apt-get install {bl.spec(n).apt}`)")
            continue
        t0 = time.perf_counter()
        try:
            res = bl.run_baseline(n, x, SAMPLE_RATE)
        except TokenworksError as e:
            skipped.append(f"{n}: {str(e).splitlines()[0]}")
            continue
        q = quality(x, res.wave)
        point = RatePoint(res.codec, float(res.bits_per_second), q.as_dict(), n, ladder=False)
        runs.append(BaselineRun(point, q, time.perf_counter() - t0, list(res.notes)))
    return runs, skipped


def baseline_points(clip: Any, names: Sequence[str] | None = None) -> list[RatePoint]:
    """The baselines of ``baseline_runs`` as ``viz.audio.RatePoint`` markers (skipped ones left out)."""
    return [r.point for r in baseline_runs(clip, names)[0]]


# ---- step by step (notebook 05_audio_tokens) ---------------------------------------------------


@dataclass
class CompandingCurve:
    x: np.ndarray  # (n,) input amplitudes in [-1, 1]
    companded: np.ndarray  # (n,) mu-law y = sign(x) ln(1 + mu|x|) / ln(1 + mu)
    quantized: np.ndarray  # (n,) x after encode + decode at ``bits``
    bits: int
    mu: float

    @property
    def steps_near_zero(self) -> float:
        """Size of the smallest quantization step (around 0), in amplitude."""
        levels = np.unique(self.quantized)
        return float(np.min(np.diff(levels))) if levels.size > 1 else float("nan")

    @property
    def steps_near_full_scale(self) -> float:
        levels = np.unique(self.quantized)
        return float(levels[-1] - levels[-2]) if levels.size > 1 else float("nan")


def companding_curve(bits: int = 8, mu: float = 255.0, n: int = 2001) -> CompandingCurve:
    """The mu-law curve and its staircase at ``bits`` bits over n amplitudes in [-1, 1]."""
    from .mulaw import mulaw_quantize

    x = np.linspace(-1.0, 1.0, n)  # (n,)
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)  # (n,)
    return CompandingCurve(x, y, mulaw_quantize(x, bits, mu).astype(np.float64), bits, mu)


@dataclass
class DepthResult:
    bits: int  # per sample
    levels: int  # 2 ** bits
    bits_per_second: float  # bits x 16000
    si_sdr: float  # dB against the input
    si_sdr_linear: float  # dB of plain (uniform, no companding) quantization at the same bits
    wave: np.ndarray  # (N,) float32 the mu-law decoded wave


def _uniform(wave: np.ndarray, bits: int) -> np.ndarray:
    half = 2 ** (bits - 1)
    return np.clip(np.round(wave * half), -half, half - 1) / half


def mulaw_depths(wave: np.ndarray, bits: Sequence[int] = (8, 6, 4), mu: float = 255.0) -> list[DepthResult]:
    """The wave (N,) at 16 kHz through mu-law at each bit depth, with uniform quantization beside it."""
    from ..metrics.audio import si_sdr
    from .mulaw import mulaw_quantize

    w = np.asarray(wave, dtype=np.float32)
    if w.ndim != 1 or w.size == 0:
        raise InvalidInput(f"mulaw_depths takes a mono wave shaped (N,), got shape {w.shape}")
    out = []
    for b in bits:
        y = mulaw_quantize(w, b, mu)
        out.append(DepthResult(b, 2 ** b, float(b * SAMPLE_RATE), float(si_sdr(w, y)),
                               float(si_sdr(w, _uniform(w, b))), y))
    return out


@dataclass
class ResidualLevels:
    energy: np.ndarray  # (K + 1,) mean ||z - sum of the first k code vectors||^2 / mean ||z||^2, k = 0..K
    code_norm: np.ndarray  # (K,) mean length of the code vector each level adds
    codes: np.ndarray  # (K, T) the codes
    latent_norm: float  # mean ||z|| per frame
    bits_per_second: np.ndarray  # (K,) bitrate with the first k = 1..K levels


@torch.inference_mode()
def residual_levels(codec, wave: np.ndarray) -> ResidualLevels:
    """Residual VQ level by level on one clip: the encoder's latents z (T, D), then what is left
    of them after the first k levels' code vectors are subtracted, k = 0..K. ``codec`` is an
    ``audio.codec.Codec`` or a ``CodecTokenizer``."""
    model = getattr(codec, "model", codec)
    w = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))[None]  # (1, N)
    w = w.to(next(model.parameters()).device)
    z = model.encode_latents(w).float()  # (1, T, D)
    codes = model.quantizer(z).codes  # (1, T, K)
    K = codes.shape[-1]
    total = (z ** 2).sum(-1).mean()  # mean ||z||^2 per frame
    energy, norms = [1.0], []
    prev = torch.zeros_like(z)  # (1, T, D)
    for k in range(1, K + 1):
        zk = model.quantizer.decode_codes(codes, keep=k)  # (1, T, D)
        energy.append(float(((z - zk) ** 2).sum(-1).mean() / total))
        norms.append(float((zk - prev).norm(dim=-1).mean()))
        prev = zk
    c = model.config
    return ResidualLevels(np.array(energy), np.array(norms), codes[0].T.cpu().numpy(),
                          float(z.norm(dim=-1).mean()), np.array([c.bitrate(k) for k in range(1, K + 1)]))


@dataclass
class MelRoundTrip:
    log_mel: np.ndarray  # (M, T) natural-log mel magnitudes of the input
    wave: np.ndarray  # (N,) float32 Griffin-Lim from those (unquantized) log-mels
    spectral_convergence: float  # Griffin-Lim's own fit to the magnitude (lower is better)


def griffin_lim_bound(wave: np.ndarray, n_iter: int = 48) -> MelRoundTrip:
    """The mel front end without units: log-mel (80 bands, 50 frames/s) and back by Griffin-Lim.
    The best mel-units can do; the gap to it is what quantizing to V units costs."""
    from .mel import GriffinLimConfig, MelConfig, log_mel, log_mel_to_wave

    cfg = MelConfig()
    w = np.asarray(wave, dtype=np.float32)
    m = log_mel(w, cfg)  # (M, T)
    gl = log_mel_to_wave(m, cfg, GriffinLimConfig(n_iter=n_iter), length=w.size)
    return MelRoundTrip(m.numpy(), np.asarray(gl.wave, dtype=np.float32), float(gl.spectral_convergence))
