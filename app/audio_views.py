"""The Audio tab's views of one analysed clip, formatted: the status and numbers lines, the
waveform and spectrogram, the tokens, codebook usage, and bits per second against the classical
codecs. ``tokenworks.audio.inspect`` computes, ``tokenworks.viz.audio`` draws, this formats.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tokenworks.errors import InvalidInput

from .audio_input import AudioView, TokenizerChoices

MAX_PLAYERS = 8  # players in the "every k" row (k = 1..K; evenly spread when K is larger)
MAX_TOKEN_FRAMES = 4000  # the token image shows at most this many frames (mu-law: 0.25 s)
INTRO = (
    "Tokenize a clip with an audio tokenizer and hear it decoded from the **first k codebooks** "
    "(a residual codec refines its first codebook with every further one; each adds bits/s). "
    "Input is read as **16 kHz mono**: other rates are resampled and stereo is down-mixed, and the status says "
    "so. Files: WAV, FLAC or OGG up to {limit:g} s; metrics look at the first {quality:g} s."
)


def missing_markdown(choices: TokenizerChoices) -> str:
    """One line per tokenizer that does not load, with the command that trains or fetches it."""
    if not choices.missing:
        return ""
    lines = ["**Not available here** (not listed above):"]
    for ref, msg in choices.missing.items():
        first, _, rest = msg.partition("\n")
        cmd = next((ln.strip() for ln in rest.splitlines() if ln.startswith("  ")), "")
        why = "its checkpoint has not been trained yet" if "not been trained" in first else first
        lines.append(f"- `{ref}`: {why}" + (f"; make it with `{cmd}`" if cmd else ""))
    return "\n".join(lines)


def player(wave: np.ndarray, sr: int = 16000) -> tuple[int, np.ndarray]:
    """A gr.Audio value: (rate, int16 samples)."""
    return sr, (np.clip(np.nan_to_num(wave), -1.0, 1.0) * 32767.0).round().astype(np.int16)


def ladder_ks(K: int, n: int = MAX_PLAYERS) -> list[int]:
    """The k of each player in the row: 1..K, or n of them evenly spread (1 and K included)."""
    if K <= n:
        return list(range(1, K + 1))
    return sorted({int(round(x)) for x in np.linspace(1, K, n)})


def _num(value: float, fmt: str, reason: str | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a" + (f" ({reason})" if reason else "")
    if math.isinf(value):
        return "∞ (exact)" if value > 0 else "−∞"
    return format(value, fmt)


def _short(reason: str | None) -> str | None:
    if not reason:
        return None
    r = reason.split(";")[0].split("(")[0].strip()
    return r[:90]


def numbers_markdown(view: AudioView, k: int) -> str:
    """The numbers line at k: frames/s, bits/s, SI-SDR, PESQ-WB, STOI, mel distance."""
    a = view.analysis
    lv = a.level(k)
    q, notes = lv.quality, lv.quality.notes
    bits = math.log2(a.vocab_size)
    line = (f"**k = {k} of {a.num_codebooks}** codebook{'s' if a.num_codebooks > 1 else ''} · "
            f"{a.frame_rate:g} frames/s × {k} × {bits:.3g} bits = **{lv.bits_per_second:,.0f} bits/s** · "
            f"SI-SDR **{_num(q.si_sdr, '.1f', _short(notes.get('si_sdr')))}**"
            f"{'' if math.isnan(q.si_sdr) or math.isinf(q.si_sdr) else ' dB'} · "
            f"PESQ-WB **{_num(q.pesq, '.2f', _short(notes.get('pesq')))}** · "
            f"STOI **{_num(q.stoi, '.2f', _short(notes.get('stoi')))}** · "
            f"mel distance **{_num(q.mel_distance, '.3f', _short(notes.get('mel_distance')))}**")
    if a.quality_seconds < a.clip.duration_s:
        line += f" (metrics on the first {a.quality_seconds:g} s)"
    return line


def status_markdown(view: AudioView) -> str:
    a = view.analysis
    clip = a.clip
    K, T, V = a.num_codebooks, a.num_frames, a.vocab_size
    lines = [f"**{a.tokenizer}** read the {view.state.source} ({clip.duration_s:.2f} s at {clip.sample_rate} Hz mono) as "
             f"**{K} codebook{'s' if K > 1 else ''} × {T:,} frames** ({a.frame_rate:g} frames/s), "
             f"V = {V:,} ({math.log2(V):.3g} bits a token), {a.level(K).bits_per_second:,.0f} bits/s with all "
             f"{K}." + (" K = 1: there is no codebook ladder to slide through." if K == 1 else "")]
    inp = []
    if clip.resampled:
        inp.append(f"resampled from {clip.original_rate:,} Hz to {clip.sample_rate:,} Hz")
    if clip.downmixed:
        inp.append(f"down-mixed {clip.original_channels} channels to mono")
    others = [n for n in a.notes if not n.startswith(("resampled from", "down-mixed"))]
    if inp:
        lines.append("Input: " + "; ".join(inp) + ".")
    if others:
        lines.append("⚠️ " + " · ".join(others))
    t = a.timings
    lines.append(f"<small>encode {t.get('encode', 0):.2f} s · decode every k {t.get('decode', 0):.2f} s · the "
                 "metrics are scored as a view first shows them</small>")
    return "\n\n".join(lines)


# ---- the views -----------------------------------------------------------------------------

def waveform_figure(view: AudioView, k: int):
    from tokenworks.viz import audio as va

    a = view.analysis
    return va.waveform_spectrogram(a.clip.wave, a.recon(k), a.clip.sample_rate,
                                   title=f"Original vs decoded from the first {k} codebook{'s' if k > 1 else ''}")


def tokens_figure(view: AudioView):
    from tokenworks.viz import audio as va

    a = view.analysis
    T = a.num_frames
    if T <= MAX_TOKEN_FRAMES:
        return va.codebook_tokens(a.ids, a.frame_rate, a.vocab_size)
    title = (f"The first {MAX_TOKEN_FRAMES:,} of {T:,} frames ({MAX_TOKEN_FRAMES / a.frame_rate:.2f} s of "
             f"{T / a.frame_rate:.2f} s at {a.frame_rate:g} frames/s)")
    return va.codebook_tokens(a.ids[:, :MAX_TOKEN_FRAMES], a.frame_rate, a.vocab_size, title=title)


def usage_figure(view: AudioView):
    from tokenworks.viz import audio as va

    a = view.analysis
    note = ""
    if a.num_frames < a.vocab_size:
        note = f"<br><sup>{a.num_frames:,} frames can use at most {a.num_frames:,} of {a.vocab_size:,} codes per level</sup>"
    return va.codebook_usage(a.usage, title=f"Codebook usage per level on this clip{note}")


@dataclass
class Baselines:
    """The classical codecs on the clip of one AudioView."""

    points: list = field(default_factory=list)  # viz.audio.RatePoint markers
    skipped: list[str] = field(default_factory=list)  # baselines that could not run, and why
    seconds: float = 0.0  # wall time of the comparison


def compare(view: AudioView) -> Baselines:
    """Opus, MP3, Codec2 and mu-law on this clip (``inspect.DEFAULT_BASELINES``), same metrics."""
    import time

    from tokenworks.audio.inspect import baseline_runs

    t0 = time.perf_counter()
    runs, skipped = baseline_runs(view.analysis.clip)
    return Baselines([r.point for r in runs], skipped, time.perf_counter() - t0)


def rate_figure(view: AudioView, baselines: Baselines | None, metric: str) -> tuple[Any, str]:
    """(figure, note): the codebook ladder and the baselines, bits/s against ``metric``. A metric no
    point has a value for (PESQ on silence) falls back to the mel distance, and the note says so."""
    from tokenworks.audio.inspect import METRIC_LABELS, METRICS
    from tokenworks.viz import audio as va

    if metric not in METRICS:
        raise InvalidInput(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    a = view.analysis
    codecs = list(baselines.points) if isinstance(baselines, Baselines) else []
    notes = []
    order = [metric] + [m for m in ("mel_distance", "si_sdr") if m != metric]
    for m in order:
        points = a.rate_points((m,)) + codecs  # the ladder scored on this metric only (the others stay lazy)
        if any(np.isfinite(p.metrics.get(m, np.nan)) for p in points):
            if m != metric:
                reason = a.level().quality.notes.get(metric, "undefined on this clip")
                notes.append(f"{METRIC_LABELS[metric]} is undefined here ({_short(reason)}): showing "
                             f"{METRIC_LABELS[m]} instead.")
            title = f"Bits per second vs {METRIC_LABELS[m]} on this clip"
            if a.quality_seconds < a.clip.duration_s:
                title += f" (first {a.quality_seconds:g} s)"
            fig = va.bitrate_quality(points, metric=m, title=title)
            if isinstance(baselines, Baselines):
                notes.append(f"Classical codecs: {len(baselines.points)} run in {baselines.seconds:.1f} s; bits/s "
                             "measured from their bitstreams (payload, container excluded).")
                notes += [f"Skipped {s}" for s in baselines.skipped]
            else:
                notes.append("Press **Compare with classical codecs** to add Opus, MP3, Codec2 and mu-law "
                             "at their measured bitrates.")
            return fig, " ".join(notes)
    return None, "No metric is defined on this clip (is it silent?)."


