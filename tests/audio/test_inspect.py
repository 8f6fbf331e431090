"""tokenworks.audio.inspect: one clip through an audio tokenizer, its ladder and its metrics
(computed when a view first reads them), and the classical codecs on the same clip."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tokenworks.audio.inspect as ins
from tokenworks.audio.inspect import METRICS, QUALITY_SECONDS, analyze, baseline_runs, quality
from tokenworks.audio.io import read_audio
from tokenworks.errors import InvalidInput
from tokenworks.paths import data_dir

SR = 16000
SAMPLES = data_dir() / "samples" / "audio"


def test_baseline_runs_measure_rate_and_quality():
    clip = read_audio(SAMPLES / "flite-slt.wav")
    runs, skipped = baseline_runs(clip, ["opus-8k", "mulaw-8"])
    got = {r.point.label: r for r in runs}
    for name, s in (("opus-8k", "opus-tools"), ("mulaw-8", None)):
        if name not in got:  # only a missing Debian tool may skip one, and it says which package
            assert s and any(s in line for line in skipped)
            continue
    if "mulaw-8" in got:
        assert got["mulaw-8"].point.bits_per_second == 128000 and got["mulaw-8"].quality.stoi > 0.95
    if "opus-8k" in got:
        p = got["opus-8k"].point
        assert p.name == "opus" and 7500 < p.bits_per_second < 8600 and not p.ladder
        assert set(p.metrics) == {"si_sdr", "mel_distance", "pesq", "stoi"}
    with pytest.raises(InvalidInput, match="opus-6k"):
        baseline_runs(clip, ["opus-7k"])


def test_short_clips_leave_pesq_and_stoi_out_with_a_reason(tone):
    w = tone(0.3)
    q = quality(w, w * 0.5)
    assert math.isnan(q.pesq) and math.isnan(q.stoi)
    assert "0.30 s" in q.notes["pesq"] and "0.5 s" in q.notes["stoi"]
    assert q.si_sdr > 50 and q.mel_distance > 0.2  # a scaled copy: SI-SDR ignores the scale, mel does not


def test_long_clips_are_scored_on_their_first_seconds(monkeypatch, tiny_codec, tone):
    import tokenworks.audio.inspect as ins

    monkeypatch.setattr(ins, "QUALITY_SECONDS", 1.0)
    a = analyze(tiny_codec(), (tone(2.5), SR), ks=[1, 4])
    assert a.ks == [1, 4] and a.recons.shape == (2, int(2.5 * SR))
    assert a.quality_seconds == 1.0 and any("first 1 s" in n for n in a.notes)
    assert [p.label for p in a.rate_points()] == ["k=1", "k=4"] and all(p.ladder for p in a.rate_points())
    assert QUALITY_SECONDS == 20.0  # the tab's bound (monkeypatched only here)


def test_metrics_are_scored_when_first_read_and_kept(monkeypatch, tiny_codec, tone):
    calls = {m: 0 for m in METRICS}
    for name in METRICS:
        real = ins._SCORES[name]

        def counted(*args, _name=name, _real=real):
            calls[_name] += 1
            return _real(*args)

        monkeypatch.setitem(ins._SCORES, name, counted)
    a = analyze(tiny_codec(), (tone(1.0), SR))
    assert calls == {m: 0 for m in METRICS}  # nothing scored by the analysis itself
    points = a.rate_points(("si_sdr",))
    assert [set(p.metrics) for p in points] == [{"si_sdr"}] * 4 and calls["si_sdr"] == 4 and calls["pesq"] == 0
    a.rate_points(("si_sdr",))
    assert calls["si_sdr"] == 4  # kept: read again, not scored again
    q = a.level(4).quality
    assert math.isfinite(q.stoi) and calls["stoi"] == 1 and calls["pesq"] == 0
    assert set(q.notes) <= set(METRICS) and calls == {"si_sdr": 4, "mel_distance": 1, "pesq": 1, "stoi": 1}
    assert q.as_dict() == {m: q.value(m) for m in METRICS} and "pesq=" in repr(q)
    with pytest.raises(InvalidInput, match="si_sdr, mel_distance, pesq, stoi"):
        q.value("loudness")


def test_a_lazy_quality_equals_the_metrics_computed_directly(tone):
    from tokenworks.metrics import audio as am

    w = tone(1.0)
    e = (w * 0.7 + 0.01 * np.sin(np.arange(w.size))).astype(np.float32)
    q = quality(w, e)
    assert q.si_sdr == pytest.approx(am.si_sdr(w.astype(np.float64), e.astype(np.float64)))
    assert q.mel_distance == pytest.approx(am.mel_distance(w.astype(np.float64), e.astype(np.float64), SR))


def test_metrics_false_leaves_every_metric_nan_with_a_note(tiny_codec, tone):
    a = analyze(tiny_codec(), (tone(1.0), SR), metrics=False)
    q = a.level().quality
    assert all(math.isnan(q.value(m)) for m in METRICS) and set(q.notes) == set(METRICS)
    assert "not computed" in q.notes["pesq"]
