"""The audio bench rows (audio/benchmarks.py, audio/rate_quality.py) on a cpu-tiny codec with
random weights and two short clips: shapes, measured bitrates, WER only where asked, codebook
usage, the targets' verdicts and the wiring into ``tokenworks bench --only audio``. No timing
assertions: speed numbers are only checked to be computed from the times given."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from tokenworks.bench import report as bench_report
from tokenworks.bench import runner
from tokenworks.bench import targets as bt
from tokenworks.audio import benchmarks as ab
from tokenworks.audio import rate_quality as rq
from tokenworks.audio.codec import Codec, CodecConfig
from tokenworks.audio.codec_tokenizer import CodecTokenizer
from tokenworks.audio.train_config import preset_config
from tokenworks.audio.io import SAMPLE_RATE, prepare

TEXT = "The quick brown fox jumps over the lazy dog."


@dataclass
class TinyClip:  # the fields of audio.data.Clip the bench reads
    name: str
    wave: np.ndarray
    text: str | None = None
    language: str = "en-us"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[TinyClip]:
    """An English flite sentence (with its transcript) and 1.5 s of a gliding vowel-like tone in faint noise."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (Debian package flite)")
    import soundfile as sf

    out = tmp_path_factory.mktemp("bench") / "fox.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", TEXT, "-o", str(out)], check=True, timeout=60)
    data, sr = sf.read(str(out), dtype="float32")
    fox = prepare(data, sr).wave
    t = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 120 + 40 * t  # (N,) Hz
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    tone = sum(np.sin(h * phase) / h for h in range(1, 12)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    noise = np.random.default_rng(0).standard_normal(t.size) * 1e-3  # a room's floor, so no band is empty
    tone = (0.3 * tone / np.abs(tone).max() + noise).astype(np.float32)
    return [TinyClip("fox", fox, TEXT, "en-us"), TinyClip("tone", tone, None, "")]


@pytest.fixture(scope="module")
def tiny_codec() -> CodecTokenizer:
    """cpu-tiny rvq (K=8, V=64, 50 frames/s), random weights, under the shipped codec's name."""
    torch.manual_seed(0)
    model = Codec(CodecConfig(**preset_config("cpu-tiny", "rvq").model_config)).eval()
    return CodecTokenizer(model, name=ab.RVQ)


def _need_tools(*names: str) -> None:
    from tokenworks.audio.baselines import missing_tools

    missing = [t for n in names for t in missing_tools(n)]
    if missing:
        pytest.skip(f"baseline tools missing: {', '.join(missing)}")


@pytest.fixture(scope="module")
def result(clips, tiny_codec) -> rq.QualityResult:
    _need_tools("opus-8k", "codec2-3200")
    import tokenworks as tw

    systems = [rq.ReferenceSystem(), rq.CodecSystem(tiny_codec), rq.TokenizerSystem(tw.load("audio/mulaw8")),
               rq.BaselineSystem("opus-8k"), rq.BaselineSystem("codec2-3200")]
    return rq.evaluate_split("heldout", clips, systems)


def test_one_row_per_label_with_measured_bitrates(result, clips, tiny_codec):
    K = tiny_codec.num_codebooks
    labels = [r.label for r in result.rows]
    assert labels == [rq.REFERENCE] + [f"rvq-speech16k k={k}" for k in range(1, K + 1)] + ["mulaw8", "opus-8k", "codec2-3200"]
    assert all(r.clips == 2 and len(result.per_clip[r.label]) == 2 for r in result.rows)
    # the codec's bits/s come from the ids: k codebooks x T frames x log2 V bits over the clip's duration
    spt, bits = tiny_codec.config.samples_per_token, np.log2(tiny_codec.vocab_size)
    for k in (1, 3, K):
        per = result.per_clip[f"rvq-speech16k k={k}"]
        for c, s in zip(clips, per):
            T = int(np.ceil(len(c.wave) / spt))
            assert s.bits_per_second == pytest.approx(k * T * bits * SAMPLE_RATE / len(c.wave))
        assert result.row(f"rvq-speech16k k={k}").nominal_bps == tiny_codec.bitrate(k)
    assert result.row("mulaw8").bits_per_second == pytest.approx(8 * SAMPLE_RATE)
    assert result.row("opus-8k").bits_per_second == pytest.approx(8000, rel=0.05)
    assert result.row("codec2-3200").bits_per_second == pytest.approx(3200, rel=0.05)


def test_reference_scores_clean_and_untrained_codec_scores_poorly(result):
    ref = result.row(rq.REFERENCE)
    assert ref.pesq > 4.5 and ref.stoi > 0.99 and ref.si_sdr > 60 and ref.mel_distance < 0.01
    assert result.row("mulaw8").si_sdr > 30
    codec = result.row("rvq-speech16k k=8")
    assert codec.pesq < ref.pesq and codec.mel_distance > ref.mel_distance


def test_wer_only_for_the_subset_and_english_clips_with_text(result):
    assert result.row(rq.REFERENCE).wer_clips == 1  # the fox; the tone has no transcript
    assert result.row(rq.REFERENCE).wer is not None and result.row(rq.REFERENCE).wer < 0.5
    for label in ("rvq-speech16k k=1", "rvq-speech16k k=3", "rvq-speech16k k=8", "opus-8k", "codec2-3200", "mulaw8"):
        assert result.row(label).wer_clips == 1, label
    for label in ("rvq-speech16k k=2", "rvq-speech16k k=5"):
        assert result.row(label).wer is None and result.row(label).wer_clips == 0, label
    assert all(s.wer is None for s in result.per_clip[rq.REFERENCE] if s.clip == "tone")


def test_codebook_usage_counts_every_held_out_frame(result, clips, tiny_codec):
    spt = tiny_codec.config.samples_per_token
    frames = sum(int(np.ceil(len(c.wave) / spt)) for c in clips)
    assert result.frames["rvq-speech16k"] == frames
    usage = result.usage["rvq-speech16k"]
    assert len(usage.levels) == tiny_codec.num_codebooks and usage.codebook_size == 64
    assert all(0 < lv.usage <= 1 for lv in usage.levels)
    assert result.usage["mulaw8"].codebook_size == 256


def test_monotone_share():
    # (K=3, clips=3): clip 0 rises, clip 1 dips at k=2, clip 2 dips by 0.01 only
    per_k = [[1.0, 2.0, 1.00], [2.0, 1.0, 0.99], [3.0, 3.0, 1.50]]
    assert rq.monotone_share(per_k, higher_better=True) == pytest.approx(1 / 3)
    assert rq.monotone_share(per_k, higher_better=True, tol=0.05) == pytest.approx(2 / 3)
    assert rq.monotone_share(np.negative(per_k), higher_better=False, tol=0.05) == pytest.approx(2 / 3)
    assert np.isnan(rq.monotone_share([[1.0, 2.0]], True))


def test_targets_judge_the_numbers(result):
    fast = ab.SpeedResult(ab.RVQ, "CPU", 10.0, 0.1, 0.09, 2)
    slow = ab.SpeedResult(ab.RVQ, "CPU", 10.0, 1.0, 0.9, 2)
    ts = {t.key: t for t in bt.audio_targets([result], fast, cores=2)}
    assert sorted(ts) == ["a", "b", "c", "d", "e"]
    a, b = ts["a"], ts["b"]
    mine, opus = result.row("rvq-speech16k k=8"), result.row("opus-8k")  # k=8 of the tiny codec is 2400 bit/s
    assert a.passed == (mine.pesq > opus.pesq and mine.stoi > opus.stoi) and a.anchor == "opus-8k"
    three = result.row("rvq-speech16k k=5")  # 5 x 300 = 1500 bit/s: the most codebooks within 1.5 kbps
    c2 = result.row("codec2-3200")
    assert b.value == three.pesq and b.passed == (three.pesq > c2.pesq and three.stoi > c2.stoi)
    assert "rvq-speech16k k=5" in b.detail
    pesq = [result.row(f"rvq-speech16k k={k}").pesq for k in range(1, 9)]
    mel = [result.row(f"rvq-speech16k k={k}").mel_distance for k in range(1, 9)]
    assert ts["c"].passed == bool(np.all(np.diff(pesq) >= 0) and np.all(np.diff(mel) <= 0))
    assert ts["d"].passed == (min(lv.usage for lv in result.usage["rvq-speech16k"].levels) >= 0.9)
    assert ts["e"].passed is True and ts["e"].value == pytest.approx(100.0)
    assert bt.speed_target(slow, "", 2).passed is False
    for t in ts.values():
        row = bt.target_row(t)
        assert row.group == "audio" and row.name.startswith(f"TARGET ({t.key})")
        assert row.notes.startswith(f"**{t.verdict}**") and t.verdict in ("PASS", "FAIL")


def test_usage_sample_over_whole_clips_judges_target_d(result, clips, tiny_codec):
    sample = ab.measure_usage({"rvq-speech16k": tiny_codec}, clips)
    spt = tiny_codec.config.samples_per_token
    assert sample.frames["rvq-speech16k"] == sum(int(np.ceil(len(c.wave) / spt)) for c in clips)
    assert sample.clips == len(clips) and sample.seconds == pytest.approx(sum(len(c.wave) for c in clips) / 16000)
    levels = [lv.usage for lv in sample.usage["rvq-speech16k"].levels]
    fast = ab.SpeedResult(ab.RVQ, "CPU", 10.0, 0.1, 0.09, 2)
    d = {t.key: t for t in bt.audio_targets([result], fast, cores=2, usage=sample)}["d"]
    assert d.value == min(levels) and d.passed == (min(levels) >= bt.AUDIO_USAGE)
    assert f"{sample.frames['rvq-speech16k']} frames" in d.detail
    row = ab.usage_rows(sample)[0]
    assert f"{len(clips)} whole clips" in row.name and row.value == min(levels)


def test_targets_without_the_codec_are_not_judged(clips):
    _need_tools("opus-8k")
    res = rq.evaluate_split("heldout", clips[:1], [rq.ReferenceSystem(), rq.BaselineSystem("opus-8k")])
    why = "not trained: python -m tokenworks.audio.train ..."
    ts = bt.audio_targets([res], None, why, cores=2)
    assert {t.key for t in ts} == {"a", "b", "c", "d", "e"}
    assert all(t.passed is None and t.verdict == "NOT JUDGED" and why in t.detail for t in ts)


def test_quality_and_usage_rows(result):
    rows = ab.quality_rows(result)
    assert len(rows) == len(result.rows)
    opus = next(r for r in rows if r.name.startswith("opus-8k "))
    assert opus.anchor == "opus-8k" and opus.ratio == pytest.approx(1.0)
    assert all(r.group == "audio" and r.unit == "PESQ-WB" and "bit/s measured" in r.notes for r in rows)
    assert any("WER" in r.notes for r in rows) and not any("WER" in r.notes for r in rows if " k=2" in r.name)
    usage = {r.name.split(" ")[0]: r for r in ab.usage_rows(result)}
    assert set(usage) == {"rvq-speech16k", "mulaw8"}
    assert usage["rvq-speech16k"].value == min(lv.usage for lv in result.usage["rvq-speech16k"].levels)


def test_rate_points_draw(result):
    from tokenworks.viz.audio import bitrate_quality

    pts = rq.rate_points(result)
    ladder = [p for p in pts if p.ladder]
    assert [p.label for p in ladder] == [f"k={k}" for k in range(1, 9)] and {p.name for p in ladder} == {"rvq-speech16k"}
    fig = bitrate_quality(pts, metric="pesq")
    assert len(fig.data) >= 2


def test_a_missing_checkpoint_names_its_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENWORKS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path / "runs"))
    ld = ab.load_tokenizer(ab.RVQ)
    assert ld.tok is None and ld.why.startswith("not trained: ") and "tokenworks.audio.train --design rvq" in ld.why
    ld = ab.load_tokenizer(ab.MEL)
    assert ld.tok is None and ld.why.startswith("not trained: ") and "mel_units fit" in ld.why
    assert ab.load_tokenizer(ab.MULAW).tok is not None


def test_bench_only_audio_runs_the_audio_rows(clips, tiny_codec, monkeypatch):
    """``tokenworks bench --only audio`` wiring, shrunk: one clip, one baseline, the tiny codec."""
    _need_tools("opus-8k")
    assert "audio" in runner.GROUPS
    assert [b for b in runner.benches() if b.__module__.endswith(".audio.benchmarks")] == ab.BENCHES
    cfg = ab.AudioBenchConfig(clips=1, max_seconds=2.0, real_clips=0, speed_seconds=1.0, repeats=1, wer=False,
                              baselines=("opus-8k",))
    monkeypatch.setattr(ab.AudioBenchConfig, "quick", classmethod(lambda cls: cfg))
    monkeypatch.setattr(ab, "heldout_speech", lambda n, max_seconds=6.0, seed=0: [ab._cut(clips[0], max_seconds)])
    monkeypatch.setattr(ab, "real_speech_clips", lambda limit=None, max_seconds=6.0: [])
    monkeypatch.setattr(ab, "unseen_voice_speech", lambda n, max_seconds=6.0, seed=0: [])
    fake = {ab.RVQ: ab.Loaded(ab.RVQ, tiny_codec)}
    monkeypatch.setattr(ab, "load_tokenizer", lambda n: fake.get(n) or ab.Loaded(n, None, f"not trained: make {n}"))
    report = runner.run(quick=True, groups=("audio",))
    rows = report["rows"]
    assert rows and all(r["group"] == "audio" for r in rows)
    names = [r["name"] for r in rows]
    assert any(n.startswith("audio/rvq-speech16k encode+decode") and n.endswith("CPU") for n in names)
    assert any(r["notes"] == "not trained: make audio/vq1-speech16k" for r in rows)
    assert any(n.startswith("rvq-speech16k k=8 PESQ-WB, held-out synthetic speech (1 clips)") for n in names)
    assert any("real recorded speech" in n and "skipped: no clips" in r["notes"] for n, r in zip(names, rows))
    assert any(n.startswith("rvq-speech16k codebook usage, held-out synthetic speech, 1 whole clips") for n in names)
    tgt = [r for r in rows if r["name"].startswith("TARGET")]
    assert [r["name"][:10] for r in tgt] == ["TARGET (a)", "TARGET (b)", "TARGET (c)", "TARGET (d)", "TARGET (e)"]
    judged = [r for r in tgt if not r["name"].startswith("TARGET (b)")]
    assert all(r["notes"].startswith(("**PASS**", "**FAIL**")) for r in judged)
    assert tgt[1]["notes"] == "**NOT JUDGED**: codec2-3200 not run"  # not among the baselines asked for
    md = bench_report.to_markdown(report)
    assert "| audio | TARGET (e) encode+decode >= 30x real time on 2 CPU cores |" in md


def test_codec_system_scores_only_the_ks_asked_for(clips, tiny_codec):
    s = rq.CodecSystem(tiny_codec, ks=(8, 1, 99))
    assert s.ks == [1, 8] and s.labels == ["rvq-speech16k k=1", "rvq-speech16k k=8"]
    coded = s(clips[1].wave)
    full = tiny_codec.decode_ladder(tiny_codec.encode((clips[1].wave, SAMPLE_RATE)))  # (K, N)
    assert list(coded) == s.labels
    np.testing.assert_allclose(coded["rvq-speech16k k=8"].wave, full[-1][:len(clips[1].wave)], atol=1e-5)
    assert coded["rvq-speech16k k=8"].bits_per_second == pytest.approx(8 * coded["rvq-speech16k k=1"].bits_per_second)
