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
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

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


@dataclass
class Quality:
    """The metrics of one reconstruction against the original (NaN: undefined, see ``notes``)."""

    si_sdr: float  # dB, higher is better (+inf: exact)
    mel_distance: float  # multi-resolution log-mel L1, lower is better
    pesq: float  # PESQ-WB MOS-LQO 1.04 .. 4.64, higher is better
    stoi: float  # 0 .. 1, higher is better
    notes: dict[str, str] = field(default_factory=dict)  # metric -> why it is NaN

    def as_dict(self) -> dict[str, float]:
        return {m: float(getattr(self, m)) for m in METRICS}


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
    timings: dict[str, float] = field(default_factory=dict)  # seconds: encode, decode, metrics
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

    def rate_points(self) -> list[RatePoint]:
        """The ladder as ``viz.audio.RatePoint`` (one line; label "k=..")."""
        return [RatePoint(self.tokenizer, lv.bits_per_second, lv.quality.as_dict(), f"k={lv.k}", ladder=True)
                for lv in self.levels]


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


def quality(ref: np.ndarray, est: np.ndarray, sr: int = SAMPLE_RATE) -> Quality:
    """SI-SDR, mel distance, PESQ-WB and STOI of ``est`` against ``ref`` (both (N,), no delay search:
    tokenizer reconstructions are aligned by construction). Lengths are matched by trimming or
    zero-padding est."""
    ref = np.asarray(ref, dtype=np.float64)
    est = np.asarray(est, dtype=np.float64)
    est = np.pad(est[: ref.size], (0, max(0, ref.size - est.size)))  # (N,)
    notes: dict[str, str] = {}
    q = Quality(si_sdr=_metric(notes, "si_sdr", am.si_sdr, ref, est),
                mel_distance=_metric(notes, "mel_distance", am.mel_distance, ref, est, sr),
                pesq=float("nan"), stoi=float("nan"), notes=notes)
    seconds = ref.size / sr
    if seconds < MIN_QUALITY_SECONDS:
        why = (f"left out: the clip is {seconds:.2f} s long; PESQ-WB and STOI need at least "
               f"{MIN_QUALITY_SECONDS:g} s of speech")
        notes["pesq"] = notes["stoi"] = why
        return q
    q.pesq = _metric(notes, "pesq", am.pesq_wb, ref, est, sr)
    q.stoi = _metric(notes, "stoi", am.stoi, ref, est, sr)
    return q


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
            q = quality(clip.wave[:n_q], rec[:n_q])
        else:
            nan = float("nan")
            q = Quality(nan, nan, nan, nan, {m: "not computed (metrics=False)" for m in METRICS})
        levels.append(LevelResult(k, bits_per_second(tok, k, K, fr, seq.meta), q))
    t3 = time.perf_counter()
    return AudioAnalysis(
        tokenizer=str(getattr(tok, "name", type(tok).__name__)), clip=clip, ids=ids, ks=ks, recons=recons,
        levels=levels, usage=am.codebook_usage(ids, V), vocab_size=V, frame_rate=fr,
        quality_seconds=n_q / SAMPLE_RATE,
        timings={"encode": t1 - t0, "decode": t2 - t1, "metrics": t3 - t2}, notes=notes, meta=dict(seq.meta))


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
