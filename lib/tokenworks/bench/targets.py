"""Every acceptance target of ``make bench`` in one place: the number each must reach, and the judge
that holds a measurement to it. Each ``Target`` is PASS, FAIL or NOT JUDGED (nothing to judge: a
row that was not measured, a codec that is not trained; why in ``detail``), with the measured
number beside the one it was held to.

    text   the tokenizer's hot path against raw tiktoken (``hot_path_targets``, on the report's rows)
    audio  (a)-(e) of the audio issue on the held-out speech (``audio_targets``, during the run)
    load   the app under concurrent clients (``load_targets``, on the load section of the report)

The judges read measurements, never run anything: ``bench.runner`` and ``bench.report`` call them
on what the modality benches and the load test (``tools/loadtest.py`` in the checkout) measured.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..audio.rate_quality import SPLIT_TEXT, QualityResult, QualityRow, SpeedResult, UsageSample, monotone_share, short_name
from .harness import Row

# ---- the numbers --------------------------------------------------------------------------------

# text: the encoder's ratio to raw tiktoken on the same documents (> 1: faster), by row name
HOT_PATH: dict[str, float] = {
    "hot path: text/cl100k_base ids only, long documents": 1.5,
    "hot path: text/cl100k_base ids with spans read, long documents": 1.0,
    "hot path: text/cl100k_base ids only, 100-byte documents": 1.0,
    "hot path: text/cl100k_base ids with spans read, 100-byte documents": 0.8,
}

# audio: the codec the targets judge, and (d), (e)
AUDIO_CODEC = "audio/rvq-speech16k"
AUDIO_SPEED = 30.0  # x real time, encode + decode on 2 CPU cores
AUDIO_USAGE = 0.9  # share of each codebook's codes used on the held-out codes

# lm: exact next-byte probabilities on 1,000-character prompts, on 2 CPU cores (seconds)
LM_NEXT_BYTES_MEDIAN_S = 1.0
LM_NEXT_BYTES_P95_S = 3.0

# lm: a transplanted tokenizer's bits per byte on held-out English prose, as a ratio to the original
TRANSPLANT_ZERO_SHOT = {"text/cl100k_base": 1.25, "text/o200k_base": 1.30}  # best method, zero-shot
TRANSPLANT_FINETUNED = {"cpu": {"text/cl100k_base": 1.10, "text/o200k_base": 1.10},  # after a fine-tune preset
                        "gpu": {"text/cl100k_base": 1.03}}

# load: the load the targets are stated for, and the latencies
LOAD_CLIENTS = 30  # concurrent clients ...
LOAD_THINK_S = 1.0  # ... each pausing this long on average before a request
LOAD_TEXT_P95_MS = 300.0  # text endpoints, 95th percentile
LOAD_MEDIA_P50_MS = 5000.0  # image and audio endpoints, median


@dataclass
class Target:
    group: str  # "text" | "audio" | "load"
    key: str  # short and stable: "a".."e" (audio), "hot path ...", "text p95" ...
    claim: str  # what is required, in words
    split: str  # which data it was judged on ("" where that says nothing)
    passed: bool | None  # None: could not be judged (why in detail)
    value: float  # the measured number
    anchor: str  # what it is held to
    anchor_value: float
    unit: str
    detail: str

    @property
    def verdict(self) -> str:
        return "NOT JUDGED" if self.passed is None else ("PASS" if self.passed else "FAIL")


@dataclass
class Verdict:
    """Several targets judged together: passed unless one of them FAILs (NOT JUDGED does not)."""

    passed: bool
    target: str  # the claims, in words
    failures: list[str] = field(default_factory=list)  # the detail of each target that failed


def verdict(targets: Sequence[Target]) -> Verdict:
    failed = [t for t in targets if t.passed is False]
    return Verdict(passed=not failed, target="; ".join(t.claim for t in targets), failures=[t.detail for t in failed])


def target_from_dict(d: Mapping[str, Any]) -> Target:
    """Back from ``dataclasses.asdict`` (bench.json)."""
    return Target(**{k: d[k] for k in Target.__dataclass_fields__})


# ---- text -----------------------------------------------------------------------------------------


def hot_path_targets(rows: Sequence[Row | Mapping[str, Any]]) -> list[Target]:
    """The hot-path targets on the rows of a run (``Row`` or its dict); a missing row is NOT JUDGED."""
    by_name = {(r["name"] if isinstance(r, Mapping) else r.name): r for r in rows}
    out = []
    for name, need in HOT_PATH.items():
        claim = f"{name}: ratio to raw tiktoken >= {need:g}"
        r = by_name.get(name)
        if r is None:
            out.append(Target("text", name, claim, "", None, float("nan"), "raw tiktoken", need, "ratio",
                              "row not measured (text/benchmarks.py did not report it)"))
            continue
        get = r.get if isinstance(r, Mapping) else (lambda k, r=r: getattr(r, k))
        ratio = float(get("ratio"))
        ok = None if not np.isfinite(ratio) else ratio >= need
        out.append(Target("text", name, claim, "", ok, ratio, "raw tiktoken", need, "ratio",
                          f"{float(get('value')):.2f} {get('unit')} against {float(get('anchor_value')):.2f} "
                          f"({get('anchor')}); ratio {ratio:.3f}" + (f"; {get('notes')}" if get("notes") else "")))
    return out


# ---- audio (a)-(e) --------------------------------------------------------------------------------


def _codec_label(result: QualityResult, max_bps: float) -> QualityRow | None:
    """The codec row with the most codebooks whose nominal rate is at most max_bps."""
    rows = [r for r in result.rows if r.family == "codec" and r.label.startswith(short_name(AUDIO_CODEC))
            and r.nominal_bps <= max_bps]
    return max(rows, key=lambda r: r.nominal_bps) if rows else None


def _beats(result: QualityResult, max_bps: float, other: str, key: str, claim: str, why: str) -> Target:
    mine, theirs = _codec_label(result, max_bps), result.row(other)
    if mine is None or theirs is None:
        missing = (f"{AUDIO_CODEC} {why}" if mine is None else
                   f"{other} not run" + (f" ({result.skipped[other]})" if other in result.skipped else ""))
        return Target("audio", key, claim, result.split, None, float("nan"), other, float("nan"), "PESQ-WB", missing)
    ok = mine.pesq > theirs.pesq and mine.stoi > theirs.stoi
    detail = (f"{mine.label} ({mine.bits_per_second:.0f} bit/s) PESQ-WB {mine.pesq:.2f} vs {theirs.pesq:.2f}, "
              f"STOI {mine.stoi:.3f} vs {theirs.stoi:.3f} ({other}, {theirs.bits_per_second:.0f} bit/s); "
              f"{mine.clips} clips")
    return Target("audio", key, claim, result.split, ok, mine.pesq, other, theirs.pesq, "PESQ-WB", detail)


def monotone_target(result: QualityResult, why: str) -> Target:
    claim = "quality rises monotonically with the number of codebooks"
    prefix = short_name(AUDIO_CODEC) + " k="
    labels = [r.label for r in result.rows if r.family == "codec" and r.label.startswith(prefix)]
    if len(labels) < 2:
        return Target("audio", "c", claim, result.split, None, float("nan"), "", float("nan"), "share",
                      f"{AUDIO_CODEC} {why}")
    labels.sort(key=lambda lab: int(lab.rsplit("=", 1)[1]))
    pesq = [result.row(lab).pesq for lab in labels]
    mel = [result.row(lab).mel_distance for lab in labels]
    means_ok = bool(np.all(np.diff(pesq) >= 0) and np.all(np.diff(mel) <= 0))
    per_pesq = [[x.pesq for x in result.per_clip[lab]] for lab in labels]
    per_mel = [[x.mel_distance for x in result.per_clip[lab]] for lab in labels]
    share_p, share_m = monotone_share(per_pesq, True), monotone_share(per_mel, False)
    share_p05, share_m005 = monotone_share(per_pesq, True, 0.05), monotone_share(per_mel, False, 0.005)
    ks = [int(lab.rsplit("=", 1)[1]) for lab in labels]

    def worst(values: list[float], sign: int, fmt: str) -> str:
        d = np.diff(values) * sign  # < 0: gets worse as k grows
        i = int(np.argmin(d))
        return "none" if d[i] >= 0 else f"{-d[i]:{fmt}} from k={ks[i]} to k={ks[i + 1]}"

    detail = (f"mean PESQ over k: {', '.join(f'{v:.3f}' for v in pesq)} (largest fall: {worst(pesq, 1, '.3f')}); "
              f"mean mel distance: {', '.join(f'{v:.4f}' for v in mel)} (largest rise: {worst(mel, -1, '.4f')}); "
              f"clips monotone in PESQ {share_p:.0%} ({share_p05:.0%} within 0.05), in mel distance {share_m:.0%} "
              f"({share_m005:.0%} within 0.005); PASS needs both means monotone, strictly")
    return Target("audio", "c", claim, result.split, means_ok, share_p, "clips monotone in mel distance", share_m,
                  "share", detail)


def usage_target(result: QualityResult | UsageSample, why: str) -> Target:
    claim = f">= {AUDIO_USAGE:.0%} of each codebook used on the held-out codes"
    u = result.usage.get(short_name(AUDIO_CODEC))
    if u is None:
        return Target("audio", "d", claim, result.split, None, float("nan"), "target", AUDIO_USAGE, "share",
                      f"{AUDIO_CODEC} {why}")
    levels = [lv.usage for lv in u.levels]
    frames = result.frames.get(short_name(AUDIO_CODEC), 0)
    bound = f"; only {frames} frames for V={u.codebook_size} codes" if frames < 4 * u.codebook_size else ""
    detail = (f"usage per level {', '.join(f'{x:.2f}' for x in levels)} (min {min(levels):.2f}); normalised entropy "
              f"{', '.join(f'{lv.entropy:.2f}' for lv in u.levels)}; {frames} frames{bound}")
    return Target("audio", "d", claim, result.split, min(levels) >= AUDIO_USAGE, min(levels), "target", AUDIO_USAGE,
                  "share", detail)


def speed_target(speed: SpeedResult | None, why: str, cores: int | None) -> Target:
    claim = f"encode+decode >= {AUDIO_SPEED:g}x real time on 2 CPU cores"
    if speed is None:
        return Target("audio", "e", claim, "", None, float("nan"), "target", AUDIO_SPEED, "x real time",
                      f"{AUDIO_CODEC} {why}")
    detail = (f"{speed.realtime:.1f}x (median of runs; best {speed.realtime_best:.1f}x) on {speed.audio_seconds:.0f} s "
              f"of held-out speech, torch threads {speed.threads}, CPU cores available {cores}")
    return Target("audio", "e", claim, "", speed.realtime >= AUDIO_SPEED, speed.realtime, "target", AUDIO_SPEED,
                  "x real time", detail)


def audio_targets(results: Sequence[QualityResult], speed: SpeedResult | None, why: str = "not loaded",
                  cores: int | None = None, usage: UsageSample | None = None) -> list[Target]:
    """Targets (a)-(c) on each split given, (d) on ``usage`` (else on the first split: the
    synthetic held-out) and (e); ``why`` says why the codec is missing, where it is."""
    out: list[Target] = []
    for res in results:
        out.append(_beats(res, 4000.0, "opus-8k", "a", "at <= 4 kbps the codec beats Opus 8 kbps on PESQ-WB and STOI", why))
        out.append(_beats(res, 1500.0, "codec2-3200", "b", "at <= 1.5 kbps the codec beats Codec2 3200 on PESQ-WB and STOI", why))
        out.append(monotone_target(res, why))
    if usage is not None:
        out.append(usage_target(usage, why))
    elif results:
        out.append(usage_target(results[0], why))
    out.append(speed_target(speed, why, cores))
    return sorted(out, key=lambda t: t.key)


# ---- lm -------------------------------------------------------------------------------------------


def lm_targets(latency: tuple[float, float, int, str] | None, accuracy: Any | None) -> list[Target]:
    """next_bytes(exact) latency (median, p95) and exact's accuracy against token healing's."""
    out = []
    if latency is None:
        for key, claim in (("latency median", "next_bytes(exact) median < 1 s"), ("latency p95", "next_bytes(exact) p95 < 3 s")):
            out.append(Target("lm", key, claim, "", None, float("nan"), "limit", float("nan"), "s", "not measured"))
    else:
        med, p95, n, where = latency
        for key, value, limit, stat in (("latency median", med, LM_NEXT_BYTES_MEDIAN_S, "median"),
                                        ("latency p95", p95, LM_NEXT_BYTES_P95_S, "p95")):
            out.append(Target("lm", key, f"next_bytes(exact) {stat} < {limit:g} s on 1,000-character prompts", "",
                              value < limit, value, "limit", limit, "s",
                              f"{stat} {value:.2f} s over {n} prompts, {where}"))
    if accuracy is None:
        out.append(Target("lm", "accuracy", "exact top-1 >= token healing's", "", None, float("nan"), "healing",
                          float("nan"), "share", "not measured"))
    else:
        ex, he = accuracy.top1["exact"], accuracy.top1["healing"]
        out.append(Target("lm", "accuracy", "exact top-1 next-character accuracy >= token healing's", "held-out prose",
                          ex >= he, ex, "token healing", he, "share",
                          f"exact {ex:.1%}, healing {he:.1%}, naive {accuracy.top1['naive']:.1%} over {accuracy.cuts} cuts"))
    return out


def transplant_targets(ratios: Mapping[str, Mapping[str, float]]) -> list[Target]:
    """The best zero-shot method per target tokenizer against its limit (ratios: tokenizer -> method -> x)."""
    out = []
    for tok, limit in TRANSPLANT_ZERO_SHOT.items():
        got = ratios.get(tok)
        if not got:
            out.append(Target("lm", f"transplant {tok}", f"best zero-shot method <= {limit}x the original", "", None,
                              float("nan"), "limit", limit, "x", "not measured"))
            continue
        best = min(got, key=got.get)
        out.append(Target("lm", f"transplant {tok}", f"best zero-shot method <= {limit}x the original bits per byte",
                          "held-out English prose", got[best] <= limit, got[best], "limit", limit, "x",
                          f"best {best} {got[best]:.3f}x; " + ", ".join(f"{m} {v:.3f}x" for m, v in got.items())))
    return out


def finetune_targets(preset: str, ratios: Mapping[str, float], detail: Mapping[str, str]) -> list[Target]:
    """Held-out ratio after the ``preset`` fine-tune per target tokenizer against its limit (ratios: tokenizer -> x)."""
    out = []
    for tok, limit in TRANSPLANT_FINETUNED.get(preset, {}).items():
        got = ratios.get(tok)
        out.append(Target("lm", f"fine-tune {preset} {tok}", f"after the {preset} fine-tune <= {limit}x the original "
                          "bits per byte", "held-out English prose", None if got is None else got <= limit,
                          float("nan") if got is None else got, "limit", limit, "x",
                          detail.get(tok, f"not measured (the {preset} preset did not run for {tok})")))
    return out


def target_row(t: Target) -> Row:
    """A target as a row of its group's table of the audio table ("TARGET (a) ...", the verdict first in the notes)."""
    where = f" [{SPLIT_TEXT.get(t.split, t.split)}]" if t.split else ""
    ratio = t.value / t.anchor_value if t.anchor_value and np.isfinite(t.anchor_value) else float("nan")
    return Row(t.group, f"TARGET ({t.key}) {t.claim}{where}", t.value, t.unit, t.anchor, t.anchor_value, ratio,
               f"**{t.verdict}**: {t.detail}")


# ---- load -----------------------------------------------------------------------------------------


def _endpoints(load: Mapping[str, Any], modality: str) -> list[Mapping[str, Any]]:
    # "kind" is what bench.json files written before the field was renamed call the modality
    return [e for e in load["endpoints"] if e.get("modality", e.get("kind")) == modality]


def _latency(load: Mapping[str, Any], modality: str, stat: str, limit_ms: float) -> Target:
    """Every endpoint of ``modality`` under ``limit_ms`` at ``stat`` ("p50_ms", "p95_ms")."""
    q = stat.split("_")[0]
    under = f"{limit_ms / 1000:g} s" if limit_ms >= 1000 else f"{limit_ms:.0f} ms"
    stated = "" if modality == "text" else f" ({LOAD_CLIENTS} clients, think time {LOAD_THINK_S:g} s)"
    claim = f"{modality} endpoints {q} < {under}{stated}"
    eps = _endpoints(load, modality)
    if not eps:
        return Target("load", f"{modality} {q}", claim, "", None, float("nan"), "target", limit_ms, "ms",
                      f"no {modality} endpoint was measured")
    fails, worst = [], 0.0
    for e in eps:
        got = e[stat]
        worst = float("inf") if got is None else max(worst, float(got))
        if got is None or got >= limit_ms:
            shown = "no answer" if got is None else (f"{got / 1000:.1f} s" if limit_ms >= 1000 else f"{got:.0f} ms")
            fails.append(f"{e['endpoint']}: {q} {shown}, target < {under}")
    load_text = f"{load['clients']} clients x {load['requests_per_client']} requests, think time {load.get('think_s', 0):g} s"
    detail = "; ".join(fails) if fails else (
        ", ".join(f"{e['endpoint']} {q} {e[stat]:.0f} ms" for e in eps) + f" ({load_text})")
    return Target("load", f"{modality} {q}", claim, "", not fails, worst, "target", limit_ms, "ms", detail)


def load_targets(load: Mapping[str, Any]) -> list[Target]:
    """The load targets on a load report in its dict form (``tools/loadtest.py``'s ``LoadReport``
    through ``dataclasses.asdict``, as bench.json keeps it): no errors on any endpoint, text p95,
    image and audio p50, and (when one was asked for) the training run going throughout."""
    eps = load["endpoints"]
    bad = [e for e in eps if e["errors"]]
    n = sum(e["n"] for e in eps)
    out = [Target("load", "errors", "no errors", "", not bad, float(sum(e["errors"] for e in eps)), "target", 0.0,
                  "requests", "; ".join(f"{e['endpoint']}: {e['errors']} of {e['n']} requests failed "
                                        f"({'; '.join(e['messages'])})" for e in bad) or f"0 errors in {n} requests")]
    out.append(_latency(load, "text", "p95_ms", LOAD_TEXT_P95_MS))
    out.append(_latency(load, "image", "p50_ms", LOAD_MEDIA_P50_MS))
    out.append(_latency(load, "audio", "p50_ms", LOAD_MEDIA_P50_MS))
    tr = load.get("training")
    if tr is not None:
        steps = f"steps {tr['steps_before']} -> {tr['steps_after']}"
        out.append(Target("load", "training", "a training run going throughout", "", bool(tr["running_throughout"]),
                          float(tr["steps_after"] - tr["steps_before"]), "steps", 1.0, "steps",
                          f"the training run {'went' if tr['running_throughout'] else 'was not running'} throughout "
                          f"(status {tr['status_after']}, {steps})"))
    return out
