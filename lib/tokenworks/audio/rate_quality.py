"""Bitrate against quality: code clips with every system, score each, average per system.

    systems = [ReferenceSystem(), CodecSystem(tw.load("audio/rvq-speech16k")), BaselineSystem("opus-8k")]
    res = evaluate_split("heldout", clips, systems)   # QualityResult
    res.row("rvq-speech16k k=3")                      # QualityRow: mean bits/s, PESQ-WB, STOI, SI-SDR, mel, WER
    res.per_clip["opus-8k"]                           # one ClipScore per clip
    rate_points(res)                                  # for viz.audio.bitrate_quality

A *system* takes a wave (N,) at 16 kHz and returns one or more coded versions of it, each with
the bits per second it measured from what it coded: a codec tokenizer gives one per k = 1..K
(one encode, every k decoded in one batch), a one-codebook tokenizer one, a baseline
(``audio.baselines``) one, and the reference (the input rounded to 16-bit PCM) one. Clips are
``audio.data.Clip``s (a wave, a transcript or None, a language). WER (PocketSphinx) is measured
only for English clips with a transcript and only for the labels asked for, as it is the slowest
metric. Used by ``audio.benchmarks`` (``make bench``) and notebook 05_audio_tokens.
Symbols: K codebooks, V codes per codebook, T frames, N samples.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .io import SAMPLE_RATE

REFERENCE = "clean 16-bit PCM"  # the input itself, rounded to 16 bits: PESQ ~4.64, STOI 1.0
WER_BASELINES = ("opus-6k", "opus-8k", "codec2-700C", "codec2-3200")  # baselines that also get a WER


def short_name(name: str) -> str:
    """"audio/rvq-speech16k" -> "rvq-speech16k"."""
    return name.split("/", 1)[-1]


# ---- systems: a wave in, one or more coded waves out ------------------------------------------


@dataclass
class Coded:
    wave: np.ndarray  # (N,) float32 at 16 kHz, as long as the input
    bits_per_second: float  # measured: what was coded, over the input's duration


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)[:n]
    return np.pad(y, (0, n - y.shape[0])) if y.shape[0] < n else y


class CodecSystem:
    """A codec tokenizer: one encode per clip, every k = 1..K (or those in ``ks``) decoded in one batch."""

    family = "codec"

    def __init__(self, tok, label: str | None = None, ks: Sequence[int] | None = None) -> None:
        self.tok = tok
        self.short = label or short_name(tok.name)
        K = tok.num_codebooks
        self.ks = sorted({int(k) for k in ks if 1 <= int(k) <= K}) if ks else list(range(1, K + 1))  # scored k
        self.labels = [f"{self.short} k={k}" for k in self.ks] if K > 1 else [self.short]
        self.nominal = {lab: float(tok.bitrate(k)) for lab, k in zip(self.labels, self.ks)}
        self.codes: list[np.ndarray] = []  # (K, T) per clip coded, for codebook usage

    def __call__(self, wave: np.ndarray) -> dict[str, Coded]:
        seq = self.tok.encode((wave, SAMPLE_RATE))
        ids = np.asarray(seq.ids)  # (K, T)
        self.codes.append(ids)
        ys = self.tok.decode_ladder(seq, self.ks)  # (len(ks), N)
        dur = wave.shape[0] / SAMPLE_RATE
        bits = math.log2(self.tok.vocab_size)
        return {lab: Coded(_fit(y, wave.shape[0]), k * ids.shape[1] * bits / dur)
                for lab, k, y in zip(self.labels, self.ks, ys)}


class TokenizerSystem:
    """Any audio tokenizer with one codebook (mel-units, mulaw8): encode, decode."""

    family = "tokenizer"

    def __init__(self, tok, label: str | None = None) -> None:
        self.tok = tok
        self.short = label or short_name(tok.name)
        self.labels = [self.short]
        bps = getattr(tok, "bits_per_second", None)
        self.nominal = {self.short: float(bps) if bps is not None else float("nan")}
        self.codes: list[np.ndarray] = []

    def __call__(self, wave: np.ndarray) -> dict[str, Coded]:
        seq = self.tok.encode((wave, SAMPLE_RATE))
        ids = np.asarray(seq.ids).reshape(1, -1)  # (1, T)
        self.codes.append(ids)
        y, _ = self.tok.decode(seq)
        bits = ids.size * math.log2(self.tok.vocab_size)
        return {self.short: Coded(_fit(y, wave.shape[0]), bits / (wave.shape[0] / SAMPLE_RATE))}


class BaselineSystem:
    """A classical codec through its Debian tool (``audio.baselines.run_baseline``)."""

    family = "baseline"

    def __init__(self, name: str) -> None:
        from .baselines import spec

        self.short = name
        self.labels = [name]
        self.nominal = {name: float(spec(name).nominal_bps)}

    def __call__(self, wave: np.ndarray) -> dict[str, Coded]:
        from .baselines import run_baseline

        r = run_baseline(self.short, wave, SAMPLE_RATE)
        return {self.short: Coded(_fit(r.wave, wave.shape[0]), r.bits_per_second)}


class ReferenceSystem:
    """The input rounded to 16-bit PCM: what a perfect codec at 256 kbit/s scores."""

    family = "reference"
    short = REFERENCE
    labels = [REFERENCE]
    nominal = {REFERENCE: 16.0 * SAMPLE_RATE}

    def __call__(self, wave: np.ndarray) -> dict[str, Coded]:
        y = (np.round(np.clip(wave, -1, 1) * 32767.0) / 32767.0).astype(np.float32)
        return {REFERENCE: Coded(y, 16.0 * SAMPLE_RATE)}


def baseline_systems(names: Sequence[str] | None = None) -> tuple[list[BaselineSystem], dict[str, str]]:
    """The baselines whose tools are installed, and why each other one is left out."""
    from .baselines import BASELINE_NAMES, missing_tools, spec

    out, skipped = [], {}
    for n in names or BASELINE_NAMES:
        miss = missing_tools(n)
        if miss:
            skipped[n] = f"{', '.join(miss)} not installed (Debian package {spec(n).apt})"
        else:
            out.append(BaselineSystem(n))
    return out, skipped


def default_wer_labels(systems: Sequence) -> set[str]:
    """Which labels get a WER: the reference, the codec at k = 1, 3 and K, the one-codebook
    systems, and Opus 6/8 and Codec2."""
    out = {REFERENCE, *WER_BASELINES}
    for s in systems:
        if isinstance(s, CodecSystem):
            ks = {1, min(3, s.ks[-1]), s.ks[-1]}
            out.update(lab for lab, k in zip(s.labels, s.ks) if k in ks)
        elif isinstance(s, TokenizerSystem):
            out.update(s.labels)
    return out


# ---- scoring --------------------------------------------------------------------------------


@dataclass
class ClipScore:
    clip: str
    label: str
    bits_per_second: float
    pesq: float  # PESQ-WB, ~1.04 .. 4.64
    stoi: float  # 0 .. 1
    si_sdr: float  # dB
    mel_distance: float  # multi-resolution log-mel L1, lower is better
    wer: float | None = None  # PocketSphinx word error rate (None: not asked for or no transcript)


def score(ref: np.ndarray, coded: Coded, clip: str, label: str, text: str | None = None) -> ClipScore:
    """The metrics of one coded clip (undefined ones are NaN, as ``metrics.audio`` gives them)."""
    from ..metrics import audio as am

    est = coded.wave
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", am.MetricWarning)
        out = ClipScore(clip, label, float(coded.bits_per_second), float(am.pesq_wb(ref, est, SAMPLE_RATE)),
                        float(am.stoi(ref, est, SAMPLE_RATE)), float(am.si_sdr(ref, est)),
                        float(am.mel_distance(ref, est, SAMPLE_RATE)))
        if text:
            out.wer = float(am.wer(text, est, SAMPLE_RATE).wer)
    return out


def _mean(xs: Sequence[float]) -> float:
    a = np.asarray([x for x in xs if x is not None], dtype=np.float64)
    a = a[np.isfinite(a)] if a.size else a
    return float(a.mean()) if a.size else float("nan")


@dataclass
class QualityRow:
    split: str  # "heldout" (synthetic) | "real" (recorded)
    label: str  # "rvq-speech16k k=3", "opus-8k", ...
    family: str  # codec | tokenizer | baseline | reference
    clips: int
    nominal_bps: float
    bits_per_second: float  # mean measured
    pesq: float  # means over clips (NaN clips left out)
    stoi: float
    si_sdr: float
    mel_distance: float
    wer: float | None = None  # mean over wer_clips, None when not measured
    wer_clips: int = 0


@dataclass
class QualityResult:
    split: str
    clips: int
    seconds: float  # of audio scored
    rows: list[QualityRow] = field(default_factory=list)
    per_clip: dict[str, list[ClipScore]] = field(default_factory=dict)  # label -> one per clip
    usage: dict[str, Any] = field(default_factory=dict)  # system -> metrics.audio.CodebookUsage
    frames: dict[str, int] = field(default_factory=dict)  # system -> frames its usage was counted on
    skipped: dict[str, str] = field(default_factory=dict)  # system -> why it is not in the rows

    def row(self, label: str) -> QualityRow | None:
        return next((r for r in self.rows if r.label == label), None)


# ---- splits, and the measurements beside quality (``audio.benchmarks``; ``bench.targets`` judges them) --


SPLIT_TEXT = {"heldout": "held-out synthetic speech", "unseen": "held-out synthetic speech, unseen voices only",
              "real": "real recorded speech (ARCTIC, ALSA)"}


@dataclass
class UsageSample:
    """Codebook usage of each codec over a set of held-out clips."""

    split: str  # "heldout"
    clips: int
    seconds: float  # audio encoded
    usage: dict[str, Any] = field(default_factory=dict)  # short name -> metrics.audio.CodebookUsage
    frames: dict[str, int] = field(default_factory=dict)  # short name -> frames counted


@dataclass
class SpeedResult:
    """Encode + decode of ``audio_seconds`` of speech by one tokenizer, timed."""

    name: str
    device: str  # "CPU" or "GPU <name>"
    audio_seconds: float
    median_s: float  # wall time of encode + decode
    best_s: float
    threads: int  # torch CPU threads

    @property
    def realtime(self) -> float:
        """x real time from the median run."""
        return self.audio_seconds / self.median_s

    @property
    def realtime_best(self) -> float:
        return self.audio_seconds / self.best_s


def monotone_share(per_k: Sequence[Sequence[float]], higher_better: bool, tol: float = 0.0) -> float:
    """Share of clips whose metric never gets worse (beyond ``tol``) as k grows; per_k[k][clip]."""
    a = np.asarray(per_k, dtype=np.float64)  # (K, clips)
    if a.shape[0] < 2 or a.shape[1] == 0:
        return float("nan")
    d = np.diff(a, axis=0) * (1 if higher_better else -1)  # (K-1, clips) > 0: better
    ok = np.all((d >= -tol) | ~np.isfinite(d), axis=0)  # (clips,)
    return float(ok.mean())


def evaluate_split(split: str, clips: Sequence, systems: Sequence, wer_labels: set[str] | None = None,
                   log: Callable[[str], None] | None = None) -> QualityResult:
    """Every system on every clip; mean metrics per label, per-clip scores, codebook usage."""
    from ..metrics.audio import codebook_usage

    log = log or (lambda m: None)
    wer_labels = default_wer_labels(systems) if wer_labels is None else wer_labels
    res = QualityResult(split, len(clips), float(sum(c.wave.shape[0] for c in clips)) / SAMPLE_RATE)
    family: dict[str, str] = {}
    nominal: dict[str, float] = {}
    for s in systems:
        t0 = time.perf_counter()
        try:
            for c in clips:
                wave = np.asarray(c.wave, dtype=np.float32)
                english = bool(c.text) and str(c.language).startswith("en")
                for label, coded in s(wave).items():
                    text = c.text if english and label in wer_labels else None
                    res.per_clip.setdefault(label, []).append(score(wave, coded, c.name, label, text))
                    family[label], nominal[label] = s.family, s.nominal.get(label, float("nan"))
        except Exception as e:  # noqa: BLE001 - one failing system is noted, the others still run
            res.skipped[s.short] = f"{type(e).__name__}: {e}"
            for label in s.labels:
                res.per_clip.pop(label, None)
            continue
        codes = getattr(s, "codes", None)
        if codes:
            ids = np.concatenate(codes, axis=1)  # (K, sum T)
            res.usage[s.short] = codebook_usage(ids, s.tok.vocab_size)
            res.frames[s.short] = int(ids.shape[1])
            codes.clear()
        log(f"{split}: {s.short} on {len(clips)} clips in {time.perf_counter() - t0:.1f} s")
    for label, scores in res.per_clip.items():
        wers = [x.wer for x in scores if x.wer is not None and np.isfinite(x.wer)]
        res.rows.append(QualityRow(
            split, label, family[label], len(scores), nominal[label], _mean([x.bits_per_second for x in scores]),
            _mean([x.pesq for x in scores]), _mean([x.stoi for x in scores]), _mean([x.si_sdr for x in scores]),
            _mean([x.mel_distance for x in scores]), float(np.mean(wers)) if wers else None, len(wers)))
    return res


def rate_points(result: QualityResult) -> list:
    """``viz.audio.RatePoint``s of a result (codec ladders as lines, the rest as markers)."""
    from ..viz.audio import RatePoint

    out = []
    for r in result.rows:
        ladder = " k=" in r.label
        name, _, k = r.label.partition(" k=")
        out.append(RatePoint(name if ladder else r.label, r.bits_per_second,
                             {"pesq": r.pesq, "stoi": r.stoi, "si_sdr": r.si_sdr, "mel_distance": r.mel_distance},
                             f"k={k}" if ladder else r.label, ladder))
    return out
