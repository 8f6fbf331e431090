"""Audio figures (tokenworks.viz.audio): each builds, holds the expected traces and axes, for K=1 and K=8."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.viz import audio as viz
from tokenworks.viz.audio import LevelUsage, RatePoint

SR = 16000


@pytest.fixture(scope="module")
def waves():
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    x = (0.4 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    y = (x + 0.05 * rng.standard_normal(x.size)).astype(np.float32)
    return x, y


def test_si_sdr_known_values(waves):
    x, y = waves
    assert viz.si_sdr(x, 3 * x) > 100  # scale does not matter
    noise = y - x
    expected = 10 * np.log10((x @ x) / (noise @ noise))
    assert viz.si_sdr(x, y) == pytest.approx(expected, abs=0.2)
    assert np.isnan(viz.si_sdr(np.zeros(100), np.ones(100)))


def test_waveform_spectrogram(waves):
    x, y = waves
    fig = viz.waveform_spectrogram(x, y[:-100], SR)  # different lengths are cut to the shorter
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names == ["original", "reconstruction", "original", "reconstruction", "difference"]
    assert "SI-SDR" in fig.layout.title.text and "dB" in fig.layout.title.text
    assert fig.layout.xaxis4.title.text == "time (s)"
    heat = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert heat[0].z.shape == heat[2].z.shape and heat[0].z.shape[0] == 80
    assert len(fig.data[0].x) <= viz.MAX_POINTS  # a second of audio is drawn as an envelope
    assert "n/a" in viz.waveform_spectrogram(np.zeros(800), np.zeros(800), SR).layout.title.text
    with pytest.raises(InvalidInput, match=r"\(N,\)"):
        viz.waveform_spectrogram(np.zeros((2, 100)), x, SR)


@pytest.mark.parametrize("K", [1, 8])
def test_codebook_tokens(K):
    rng = np.random.default_rng(K)
    ids = rng.integers(0, 1024, size=(K, 120))
    fig = viz.codebook_tokens(ids, frame_rate=50, vocab_size=1024)
    (h,) = fig.data
    assert isinstance(h, go.Heatmap) and np.asarray(h.z).shape == (K, 120)
    assert len(h.y) == K and h.y[0] == "level 1"
    assert np.asarray(h.customdata).shape == (K, 120, 2)
    assert h.x[-1] == pytest.approx(119 / 50)
    assert "frame" in h.hovertemplate and "level" in h.hovertemplate and "id" in h.hovertemplate
    assert h.zmax == 1023


def test_codebook_tokens_takes_1d_ids_and_refuses_floats():
    fig = viz.codebook_tokens(np.arange(10), frame_rate=16000)
    assert np.asarray(fig.data[0].z).shape == (1, 10)
    with pytest.raises(InvalidInput, match=r"\(K, T\)"):
        viz.codebook_tokens(np.zeros((2, 3)), frame_rate=50)


def test_bitrate_quality():
    pts = [RatePoint("audio/rvq", 750.0 * k, {"pesq": 1.5 + 0.3 * k}, f"k={k}", ladder=True) for k in range(1, 9)]
    pts += [RatePoint("opus", 6000, {"pesq": 3.0}, "6 kbps"), RatePoint("opus", 12000, {"pesq": 3.8}, "12 kbps"),
            RatePoint("mu-law", 64000, {"stoi": 1.0}, "8 bit")]
    fig = viz.bitrate_quality(pts, metric="pesq")
    assert [t.name for t in fig.data] == ["audio/rvq", "opus"]  # mu-law has no pesq: left out
    assert "lines" in fig.data[0].mode and fig.data[1].mode == "markers+text"
    assert list(fig.data[0].x) == sorted(fig.data[0].x) and len(fig.data[0].x) == 8
    assert fig.layout.xaxis.type == "log"
    assert "higher is better" in fig.layout.yaxis.title.text
    one = viz.bitrate_quality(pts[:1], metric="pesq")  # K=1: a one-point ladder
    assert len(one.data[0].x) == 1
    with pytest.raises(InvalidInput, match="pesq, stoi"):
        viz.bitrate_quality(pts, metric="wer")


@pytest.mark.parametrize("K", [1, 8])
def test_codebook_usage_from_ids(K):
    ids = np.stack([np.arange(200) % (8 * (k + 1)) for k in range(K)])  # level k uses 8(k+1) codes evenly
    fig = viz.codebook_usage(ids, vocab_size=64)
    used, ent = fig.data
    assert isinstance(used, go.Bar) and len(used.y) == K and len(ent.y) == K
    assert used.y[0] == pytest.approx(8 / 64)
    assert ent.y[0] == pytest.approx(np.log(8) / np.log(64), abs=0.02)
    assert any(s.y0 == viz.USAGE_TARGET for s in fig.layout.shapes)  # the 90% line
    with pytest.raises(InvalidInput, match="vocab_size"):
        viz.codebook_usage(ids)


def test_codebook_usage_from_levels_and_health_report():
    from tokenworks.quantizers.health import CodebookHealth

    fig = viz.codebook_usage([LevelUsage(1, 0.95, 0.9, 512), LevelUsage(2, 0.5, 0.7, 512)])
    assert list(fig.data[0].y) == [0.95, 0.5]
    h = CodebookHealth(codebook_size=16, num_codebooks=2)
    h.update(np.stack([np.arange(48) % 16, np.arange(48) % 4], 1))  # (M, k): level 2 uses 4 codes
    fig = viz.codebook_usage(h.result())
    assert list(fig.data[0].y) == pytest.approx([1.0, 0.25])
    assert fig.data[1].y[0] == pytest.approx(1.0)


def test_codebook_usage_from_audio_metrics():
    from tokenworks.metrics.audio import codebook_usage

    ids = np.stack([np.arange(100) % 32, np.zeros(100, np.int64)])  # (2, 100)
    fig = viz.codebook_usage(codebook_usage(ids, 64))
    assert list(fig.data[0].y) == pytest.approx([0.5, 1 / 64])
    assert fig.data[1].y[1] == pytest.approx(0.0)
