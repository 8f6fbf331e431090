"""Audio rows of ``make bench``: speed as a multiple of real time, quality against bitrate on
held-out speech (synthetic voices and sentences never trained on, and real recordings), and the
targets of the audio issue, each PASS or FAIL with its numbers.

    tokenworks bench --only audio             # these rows alone (--quick: a few short clips)
    TOKENWORKS_AUDIO_BENCH_CLIPS=8 tokenworks bench --only audio    # fewer held-out clips (default 20)

What is measured, and how:

- Speed: encode + decode of ``speed_seconds`` (10 s) of held-out speech by each audio tokenizer
  that loads, median (and best) of ``repeats`` runs after a warm-up, as seconds of audio per
  second of wall time ("x real time"), on the CPU with torch's thread count stated, and on the
  GPU when torch sees one; codec models also on one thread. The anchor is Opus at 8 kbit/s
  (opusenc + opusdec) on the same audio in the same run. On a CPU shared with other jobs, set
  ``OMP_WAIT_POLICY=PASSIVE``: spinning OpenMP threads that are not scheduled can make torch many
  times slower (the rows say which policy was in force).
- Quality: ``clips`` held-out clips of synthetic speech (``tokenworks.audio.data``: UDHR articles
  25-30, half in voices training never hears), each cut to ``max_seconds``; then ``clips`` more
  in unseen voices only (the harder half, judged on its own); and separately the recorded speech (CMU ARCTIC, ALSA voices) when those assets are present. Every system codes
  every clip: the codec at every k = 1..K, the single-codebook codec, mel-units and every
  baseline (Opus, MP3, Codec2, mu-law). Per clip: bits/s measured from what was coded (ids x
  bits per id, or the codec's payload bytes), PESQ-WB, STOI, SI-SDR, mel distance; WER with
  PocketSphinx on the English clips whose transcript still matches (a clip that had to be cut
  loses its transcript) for the subset ``wer_labels``. Rows give the mean over clips.
- Codebook usage over ``usage_clips`` whole held-out clips (tens of thousands of frames).
- Targets (a)-(e) of the issue on these numbers (``bench.targets.audio_targets``): (a)-(c) on each split.

The codec checkpoints may be missing (they are trained separately); each missing one gives a
row saying "not trained: <the command that trains it>", and its targets "NOT JUDGED".
Symbols: K codebooks, V codes per codebook, T frames, N samples.
"""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..bench.harness import BenchContext, Row, wall_times
from ..bench.targets import AUDIO_CODEC, AUDIO_SPEED, AUDIO_USAGE, audio_targets, target_row
from .io import SAMPLE_RATE
from .rate_quality import (
    REFERENCE, SPLIT_TEXT, CodecSystem, QualityResult, ReferenceSystem, SpeedResult, TokenizerSystem, UsageSample,
    baseline_systems, evaluate_split, short_name,
)

RVQ, VQ1, MEL, MULAW = AUDIO_CODEC, "audio/vq1-speech16k", "audio/mel-units", "audio/mulaw8"
SPEED_TOKENIZERS = (MULAW, MEL, RVQ, VQ1)
ANCHOR = "opus-8k"  # every quality row is compared with it, in the same run
CLIPS_ENV = "TOKENWORKS_AUDIO_BENCH_CLIPS"  # overrides AudioBenchConfig.clips (bounds the bench's time)


@dataclass
class AudioBenchConfig:
    clips: int = 20  # held-out synthetic speech clips scored
    max_seconds: float = 6.0  # longer clips are cut to their first max_seconds (and lose their transcript)
    real_clips: int | None = None  # recorded speech clips scored (None: every one present)
    speed_seconds: float = 10.0  # audio timed for the speed rows
    repeats: int = 5  # timed runs per speed row (after one warm-up)
    seed: int = 0  # of the held-out synthetic speech
    wer: bool = True  # PocketSphinx WER for the subset (the slowest metric)
    baselines: tuple[str, ...] | None = None  # None: every baseline in audio.baselines
    # codebook usage is counted on more held-out speech than the quality rows score: V = 1024 codes
    # need tens of thousands of frames before an unused code means anything (20 clips of 6 s: 6,000)
    usage_clips: int = 120  # held-out clips encoded (uncut) for the usage rows and target (d)

    @classmethod
    def quick(cls) -> "AudioBenchConfig":
        """A few short clips: for tests and ``--quick``."""
        return cls(clips=3, max_seconds=3.0, real_clips=2, speed_seconds=3.0, repeats=2, usage_clips=4)


# ---- inputs ---------------------------------------------------------------------------------


def _cut(clip, max_seconds: float):
    """The clip cut to max_seconds; a cut clip keeps no transcript (it no longer says all of it)."""
    from dataclasses import replace

    n = int(max_seconds * SAMPLE_RATE)
    if clip.wave.shape[0] <= n:
        return clip
    return replace(clip, wave=np.ascontiguousarray(clip.wave[:n]), text=None)


def heldout_speech(n: int, max_seconds: float = 6.0, seed: int = 0) -> list:
    """``n`` held-out synthetic speech clips (``data.Clip``; espeak-ng and flite saying UDHR
    articles 25-30, half in unseen voices), each cut to ``max_seconds``. Synthesised directly by
    the corpus's own generator, so no corpus has to be built first."""
    from .data import synth_speech

    clips = synth_speech(n + max(2, n // 5), "heldout", seed)  # a few spare: a voice may fail
    return [_cut(c, max_seconds) for c in clips[:n]]


def unseen_voice_speech(n: int, max_seconds: float = 6.0, seed: int = 0) -> list:
    """``n`` held-out clips in voices training never hears (the harder half of the held-out split:
    ``heldout_speech`` mixes them half and half with training voices saying unseen sentences)."""
    from .data import synth_speech

    clips = [c for c in synth_speech(2 * n + max(4, n // 2), "heldout", seed) if c.unseen_voice]
    return [_cut(c, max_seconds) for c in clips[:n]]


def real_speech_clips(limit: int | None = None, max_seconds: float = 6.0) -> list:
    """Recorded speech never trained on (ARCTIC, ALSA voices; the ALSA noise clip left out); []
    when the assets are not fetched."""
    from .data import real_speech

    clips = [c for c in real_speech() if c.language]
    return [_cut(c, max_seconds) for c in clips[:limit]]


def speech_for_speed(clips: Sequence, seconds: float) -> np.ndarray:
    """(N,) about ``seconds`` of the clips end to end (repeated if they are shorter)."""
    n = int(seconds * SAMPLE_RATE)
    parts, got, i = [], 0, 0
    while got < n and clips:
        w = clips[i % len(clips)].wave
        parts.append(w)
        got += w.shape[0]
        i += 1
    return np.concatenate(parts)[:n].astype(np.float32) if parts else np.zeros(n, np.float32)


# ---- the tokenizers -------------------------------------------------------------------------


@dataclass
class Loaded:
    name: str
    tok: Any | None  # None when it could not be loaded
    why: str = ""  # "not trained: <command>" or the error, when tok is None


def _make_command(name: str) -> str:
    from .. import registry

    if name == MEL:
        from .mel_units import FIT_COMMAND

        return FIT_COMMAND
    try:
        return str(registry.describe(name).kwargs.get("train_command") or "")
    except Exception:  # noqa: BLE001 - only for the message
        return ""


def load_tokenizer(name: str) -> Loaded:
    """The shipped tokenizer ``name``, or why it is not there (with the command that makes it)."""
    from .. import registry
    from ..errors import CheckpointNotFound, UnknownTokenizer

    try:
        try:
            return Loaded(name, registry.load(name))
        except UnknownTokenizer:
            if name != MEL:
                raise
            from .mel_units import load_default  # not (yet) in the registry

            return Loaded(name, load_default())
    except CheckpointNotFound:
        return Loaded(name, None, f"not trained: {_make_command(name)}")
    except Exception as e:  # noqa: BLE001 - a broken tokenizer is a row, not a crash
        return Loaded(name, None, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")



# ---- speed ----------------------------------------------------------------------------------


def _roundtrip(tok, wave: np.ndarray) -> Callable[[], object]:
    return lambda: tok.decode(tok.encode((wave, SAMPLE_RATE)))


def measure_speed(name: str, fn: Callable[[], object], audio_seconds: float, repeats: int,
                  device: str = "CPU") -> SpeedResult:
    import torch

    times = wall_times(fn, repeats)
    return SpeedResult(name, device, audio_seconds, statistics.median(times), min(times), torch.get_num_threads())


def opus_speed(wave: np.ndarray, repeats: int) -> SpeedResult | None:
    """Opus 8 kbit/s encode + decode (the opusenc/opusdec subprocesses, no delay search)."""
    from .baselines import missing_tools, run_baseline

    if missing_tools(ANCHOR):
        return None
    return measure_speed(ANCHOR, lambda: run_baseline(ANCHOR, wave, SAMPLE_RATE, compensate_delay=False),
                         wave.shape[0] / SAMPLE_RATE, repeats)


# ---- rows of make bench ---------------------------------------------------------------------


def quality_rows(result: QualityResult) -> list[Row]:
    anchor = result.row(ANCHOR) or result.row(REFERENCE)
    out = []
    for r in result.rows:
        wer = f"; WER {r.wer:.2f} on {r.wer_clips} English clips" if r.wer is not None else ""
        a_name, a_val = (anchor.label, anchor.pesq) if anchor else ("(none)", float("nan"))
        out.append(Row("audio", f"{r.label} PESQ-WB, {SPLIT_TEXT.get(r.split, r.split)} ({r.clips} clips)", r.pesq,
                       "PESQ-WB", a_name, a_val, r.pesq / a_val if a_val else float("nan"),
                       f"{r.bits_per_second:.0f} bit/s measured (nominal {r.nominal_bps:.0f}); STOI {r.stoi:.3f}; "
                       f"SI-SDR {r.si_sdr:.1f} dB; mel distance {r.mel_distance:.3f}{wer}"))
    for name, why in result.skipped.items():
        out.append(Row("audio", f"{name}, {SPLIT_TEXT.get(result.split, result.split)}", float("nan"), "PESQ-WB",
                       ANCHOR, float("nan"), float("nan"), f"skipped: {why}"))
    return out


def usage_rows(result: QualityResult | UsageSample) -> list[Row]:
    out = []
    where = SPLIT_TEXT.get(result.split, result.split)
    if isinstance(result, UsageSample):
        where += f", {result.clips} whole clips ({result.seconds / 60:.1f} min)"
    for name, u in result.usage.items():
        levels = [lv.usage for lv in u.levels]
        frames = result.frames.get(name, 0)
        out.append(Row("audio", f"{name} codebook usage, {where} "
                                f"(min over {len(levels)} level{'s' if len(levels) > 1 else ''}, V={u.codebook_size})",
                       min(levels), "share", "target", AUDIO_USAGE, min(levels) / AUDIO_USAGE,
                       f"per level {', '.join(f'{x:.2f}' for x in levels)}; {frames} frames"
                       + (f" (at most {frames} of {u.codebook_size} codes can be used)" if frames < u.codebook_size else "")))
    return out


# ---- the bench functions ----------------------------------------------------------------------


def _log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _state(ctx: BenchContext) -> dict[str, Any]:
    """What the audio bench functions share within one run (on the context)."""
    st = ctx.__dict__.setdefault("_audio", {})
    if "config" not in st:
        import os

        fast = ctx.quick or os.environ.get("TOKENWORKS_FAST", "0") == "1"
        cfg = AudioBenchConfig.quick() if fast else AudioBenchConfig(repeats=max(3, ctx.repeats))
        limit = os.environ.get(CLIPS_ENV, "").strip()
        if limit:
            if not limit.isdigit() or int(limit) < 1:
                raise SystemExit(f"{CLIPS_ENV} must be a whole number of clips >= 1, got {limit!r}")
            cfg.clips = int(limit)
        st["config"] = cfg
    return st


def _tokenizers(st: dict[str, Any]) -> dict[str, Loaded]:
    if "loaded" not in st:
        st["loaded"] = {n: load_tokenizer(n) for n in SPEED_TOKENIZERS}
    return st["loaded"]


def _heldout(st: dict[str, Any]) -> list:
    if "heldout" not in st:
        cfg: AudioBenchConfig = st["config"]
        st["heldout"] = heldout_speech(cfg.clips, cfg.max_seconds, cfg.seed)
    return st["heldout"]


def bench_audio_speed(ctx: BenchContext) -> None:
    """encode + decode of 10 s of held-out speech, x real time, against Opus 8k in the same run."""
    import os

    import torch

    st = _state(ctx)
    cfg: AudioBenchConfig = st["config"]
    wave = speech_for_speed(_heldout(st), cfg.speed_seconds)
    secs = wave.shape[0] / SAMPLE_RATE
    opus = opus_speed(wave, cfg.repeats)
    a_name = "opus-8k encode+decode (opusenc/opusdec)" if opus else "(opus-tools missing)"
    a_val = opus.realtime if opus else float("nan")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for name, ld in _tokenizers(st).items():
        if ld.tok is None:
            ctx.rows.append(Row("audio", f"{name} encode+decode {secs:.0f} s of held-out speech, CPU", float("nan"), "x real time",
                                a_name, a_val, float("nan"), ld.why))
            continue
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and hasattr(ld.tok, "model") else [])
        for dev in devices:
            label = "CPU" if dev == "cpu" else f"GPU {torch.cuda.get_device_name(0)}"
            if hasattr(ld.tok, "model"):
                ld.tok.model.to(dev)
            r = measure_speed(name, _roundtrip(ld.tok, wave), secs, cfg.repeats, label)
            if name == RVQ and dev == "cpu":
                st["rvq_speed"] = r
            target = (f"; target >= {AUDIO_SPEED:g}x on 2 CPU cores: {'met' if r.realtime >= AUDIO_SPEED else 'NOT met'}"
                      if name == RVQ and dev == "cpu" else "")
            ctx.rows.append(Row("audio", f"{name} encode+decode {secs:.0f} s of held-out speech, {label}", r.realtime,
                                "x real time", a_name, a_val, r.realtime / a_val if opus else float("nan"),
                                f"median of {cfg.repeats} (best {r.realtime_best:.1f}x); torch threads {r.threads}, "
                                f"{cores} CPU cores, OMP_WAIT_POLICY {os.environ.get('OMP_WAIT_POLICY', 'unset')}{target}"))
            if dev == "cpu" and hasattr(ld.tok, "model") and torch.get_num_threads() > 1:
                threads = torch.get_num_threads()  # the same on one thread: how much the second core adds
                torch.set_num_threads(1)
                try:
                    r1 = measure_speed(name, _roundtrip(ld.tok, wave), secs, cfg.repeats, "CPU, 1 thread")
                finally:
                    torch.set_num_threads(threads)
                ctx.rows.append(Row("audio", f"{name} encode+decode {secs:.0f} s of held-out speech, CPU, 1 torch thread",
                                    r1.realtime, "x real time", a_name, a_val,
                                    r1.realtime / a_val if opus else float("nan"),
                                    f"median of {cfg.repeats} (best {r1.realtime_best:.1f}x); "
                                    f"{threads} threads: {r.realtime:.1f}x"))
        if hasattr(ld.tok, "model"):
            ld.tok.model.to("cpu")
    _log(f"audio speed rows done ({secs:.0f} s of speech)")


def _systems(st: dict[str, Any]) -> tuple[list, dict[str, str]]:
    cfg: AudioBenchConfig = st["config"]
    loaded = _tokenizers(st)
    systems: list = [ReferenceSystem()]
    skipped: dict[str, str] = {}
    for name in (RVQ, VQ1, MEL):
        ld = loaded[name]
        if ld.tok is None:
            skipped[name] = ld.why
        elif hasattr(ld.tok, "decode_ladder"):
            systems.append(CodecSystem(ld.tok))
        else:
            systems.append(TokenizerSystem(ld.tok))
    base, missing = baseline_systems(cfg.baselines)
    return systems + base, {**skipped, **missing}


def bench_audio_quality(ctx: BenchContext) -> None:
    """Quality against bitrate on held-out synthetic speech (all of it, then its unseen voices alone)
    and on real recorded speech."""
    st = _state(ctx)
    cfg: AudioBenchConfig = st["config"]
    systems, skipped = _systems(st)
    splits = [("heldout", _heldout(st)), ("unseen", unseen_voice_speech(cfg.clips, cfg.max_seconds, cfg.seed)),
              ("real", real_speech_clips(cfg.real_clips, cfg.max_seconds))]
    results = []
    for split, clips in splits:
        if not clips:
            ctx.rows.append(Row("audio", f"quality on {SPLIT_TEXT[split]}", float("nan"), "PESQ-WB", ANCHOR,
                                float("nan"), float("nan"),
                                "skipped: no clips" + (" (fetch them: tokenworks assets fetch arctic-a0007 arctic-a0009 "
                                                       "alsa-sounds)" if split == "real" else " (is espeak-ng installed?)")))
            continue
        t0 = time.perf_counter()
        res = evaluate_split(split, clips, systems, None if cfg.wer else set(), log=_log)
        if not results:  # systems that are not there: said once, on the first split
            res.skipped.update(skipped)
        results.append(res)
        ctx.rows.extend(quality_rows(res))
        ctx.rows.extend(usage_rows(res))
        _log(f"audio quality on {split}: {len(clips)} clips, {res.seconds:.0f} s of audio in {time.perf_counter() - t0:.0f} s")
    st["results"] = results


def measure_usage(tokenizers: dict[str, Any], clips: Sequence) -> UsageSample:
    """Encode every clip with each codec (``tokenizers``: short name -> CodecTokenizer) and count
    its codebooks' usage over all the frames."""
    import torch

    from ..metrics.audio import codebook_usage

    sample = UsageSample("heldout", len(clips), sum(c.wave.shape[0] for c in clips) / SAMPLE_RATE)
    for short, tok in tokenizers.items():
        ids = []
        with torch.inference_mode():
            for c in clips:
                x = torch.from_numpy(np.ascontiguousarray(c.wave, dtype=np.float32))[None]  # (1, N)
                ids.append(tok.model.encode(x)[0].numpy().T)  # (K, T)
        all_ids = np.concatenate(ids, axis=1)  # (K, sum T)
        sample.usage[short] = codebook_usage(all_ids, tok.vocab_size)
        sample.frames[short] = int(all_ids.shape[1])
    return sample


def bench_audio_usage(ctx: BenchContext) -> None:
    """Codebook usage of the neural codecs over many whole held-out clips (target (d))."""
    st = _state(ctx)
    cfg: AudioBenchConfig = st["config"]
    loaded = _tokenizers(st)
    codecs = {short_name(n): loaded[n].tok for n in (RVQ, VQ1) if loaded[n].tok is not None}
    if not codecs:
        return
    t0 = time.perf_counter()
    clips = heldout_speech(cfg.usage_clips, 600.0, cfg.seed)
    sample = measure_usage(codecs, clips)
    st["usage"] = sample
    ctx.rows.extend(usage_rows(sample))
    _log(f"audio codebook usage: {sample.clips} clips, {sample.seconds:.0f} s in {time.perf_counter() - t0:.0f} s")


def bench_audio_targets(ctx: BenchContext) -> None:
    """The issue's targets (a)-(e), each PASS / FAIL / NOT JUDGED with its numbers."""
    import os

    st = _state(ctx)
    ld = _tokenizers(st)[RVQ]
    why = ld.why or "not measured"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ts = audio_targets(st.get("results", []), st.get("rvq_speed"), why, cores, st.get("usage"))
    ctx.targets.extend(ts)
    ctx.rows.extend(target_row(t) for t in ts)


BENCHES = [bench_audio_speed, bench_audio_quality, bench_audio_usage, bench_audio_targets]
