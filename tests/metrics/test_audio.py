"""Audio metrics: the known identity scores, SI-SDR at a known SNR, mel distance, WER, usage."""
from __future__ import annotations

import math
import os
import shutil
import subprocess

import numpy as np
import pytest

from tokenworks.errors import InvalidInput
from tokenworks.metrics import audio as am

FOX = "The quick brown fox jumps over the lazy dog."


def _need(tool: str) -> None:
    """Skip when a Debian tool is missing, except on CI, where it must be there."""
    if shutil.which(tool) is None:
        msg = f"{tool} is not installed (Debian package {tool}; `make audio-deps`)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _read16(path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="int16")  # the file is 16-bit PCM
    return x.astype(np.float32) / 32768.0, int(sr)


@pytest.fixture(scope="module")
def flite_fox(tmp_path_factory):
    _need("flite")
    out = tmp_path_factory.mktemp("flite") / "fox.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", FOX, "-o", str(out)], check=True, timeout=60)
    return _read16(out)


@pytest.fixture(scope="module")
def espeak_fox(tmp_path_factory):
    _need("espeak-ng")
    out = tmp_path_factory.mktemp("espeak") / "fox.wav"
    subprocess.run(["espeak-ng", "-w", str(out), FOX], check=True, timeout=60)
    return _read16(out)


# ---- the known case -----------------------------------------------------------------


def test_clean_pcm_against_itself_scores_pesq_464_and_stoi_1(flite_fox):
    x, sr = flite_fox
    assert sr == 16000
    assert am.pesq_wb(x, x, sr) == pytest.approx(4.64, abs=0.01)
    assert am.stoi(x, x, sr) == pytest.approx(1.0, abs=1e-6)
    assert am.estoi(x, x, sr) == pytest.approx(1.0, abs=1e-6)


def test_pesq_resamples_other_rates(espeak_fox):
    x, sr = espeak_fox
    assert sr == 22050  # espeak-ng writes 22.05 kHz: pesq_wb must resample to 16 kHz itself
    assert am.pesq_wb(x, x, sr) == pytest.approx(4.64, abs=0.01)


def test_pesq_drops_with_noise(flite_fox):
    x, sr = flite_fox
    rng = np.random.default_rng(0)
    noisy = x + 0.02 * rng.standard_normal(x.size).astype(np.float32)
    assert am.pesq_wb(x, noisy, sr) < 3.0
    assert am.stoi(x, noisy, sr) < am.stoi(x, x, sr)


def test_pesq_and_stoi_undefined_cases_are_nan_with_a_reason(flite_fox):
    x, sr = flite_fox
    silent = np.zeros(2 * sr, np.float32)
    with pytest.warns(am.MetricWarning, match="silent reference"):
        assert math.isnan(am.pesq_wb(silent, silent, sr))
    with pytest.warns(am.MetricWarning, match="silent estimate"):
        assert math.isnan(am.pesq_wb(x, np.zeros_like(x), sr))
    short = x[: sr // 8]  # 0.125 s: PESQ needs 1/4 s, STOI about 0.4 s
    with pytest.warns(am.MetricWarning, match="PESQ-WB failed"):
        assert math.isnan(am.pesq_wb(short, short, sr))
    with pytest.warns(am.MetricWarning, match="30 speech frames"):
        assert math.isnan(am.stoi(short, short, sr))


# ---- SI-SDR ---------------------------------------------------------------------------------


def _noise_at_snr(x: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """Zero-mean noise orthogonal to x (zero-mean) with ||x||^2 / ||n||^2 = 10^(snr/10)."""
    rng = np.random.default_rng(seed)
    xc = x - x.mean()
    n = rng.standard_normal(x.size)
    n -= n.mean()
    n -= (n @ xc) / (xc @ xc) * xc  # orthogonal to x, so the SI-SDR target is x itself
    n -= n.mean()
    return n * np.sqrt((xc @ xc) / (n @ n) / 10 ** (snr_db / 10))


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0])
def test_si_sdr_equals_the_snr_of_added_noise(snr):
    t = np.arange(16000) / 16000
    x = np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    assert am.si_sdr(x, x + _noise_at_snr(x, snr)) == pytest.approx(snr, abs=1e-6)


def test_si_sdr_is_scale_invariant(flite_fox):
    x, _ = flite_fox
    est = x + _noise_at_snr(x, 15.0)
    base = am.si_sdr(x, est)
    for gain in (0.01, 3.0):
        assert am.si_sdr(x, gain * est) == pytest.approx(base, abs=1e-6)
    assert am.si_sdr(x, x) == math.inf
    assert am.si_sdr(x, -2 * x) == math.inf  # a negative gain is a scale too
    assert am.si_sdr(x, np.zeros_like(x)) == -math.inf
    with pytest.warns(am.MetricWarning, match="silent"):
        assert math.isnan(am.si_sdr(np.zeros(100), np.ones(100)))


# ---- mel distance ---------------------------------------------------------------------------


def test_mel_distance_zero_for_identical_and_grows_with_damage(flite_fox):
    x, sr = flite_fox
    assert am.mel_distance(x, x, sr) == 0.0
    d = [am.mel_distance(x, x + _noise_at_snr(x, snr), sr) for snr in (30.0, 15.0, 0.0)]
    assert 0 < d[0] < d[1] < d[2]
    # not gain-invariant: half the level is log10(2) away wherever the floor does not bite
    assert am.mel_distance(x, 0.5 * x, sr) == pytest.approx(math.log10(2), abs=0.01)


@pytest.mark.parametrize("n_fft", am.MEL_FFT_SIZES)
def test_every_mel_band_sees_some_fft_bin(n_fft):
    fb = am.mel_filterbank(16000, n_fft, n_fft // 16)  # (n_mels, F)
    assert fb.shape == (n_fft // 16, n_fft // 2 + 1)
    assert (fb.sum(axis=1) > 0).all()


# ---- WER ------------------------------------------------------------------------------------


def test_word_errors_counts():
    same = am.word_errors("The cat sat.", ["the", "CAT", "sat"])
    assert same.wer == 0.0 and (same.substitutions, same.deletions, same.insertions) == (0, 0, 0)
    sub = am.word_errors("a b c d", "a x c d")
    assert sub.wer == pytest.approx(0.25) and sub.substitutions == 1
    dele = am.word_errors("a b c", "a c")
    assert dele.wer == pytest.approx(1 / 3) and dele.deletions == 1
    ins = am.word_errors("a b", "a b c")
    assert ins.wer == pytest.approx(0.5) and ins.insertions == 1
    assert am.word_errors("a b", "").wer == 1.0
    assert am.normalise_words("Don't STOP, 42!") == ["don't", "stop", "42"]


def test_pocketsphinx_recognises_a_clear_flite_utterance(flite_fox):
    x, sr = flite_fox
    res = am.wer(FOX, x, sr)
    assert res.wer <= 0.2, f"PocketSphinx heard {' '.join(res.hypothesis)!r}"
    assert am.wer(FOX, x, sr).hypothesis == res.hypothesis  # the cached recogniser is reusable
    with pytest.raises(InvalidInput, match="no words"):
        am.wer("...", x, sr)


# ---- align, evaluate, input checks -----------------------------------------------------------


@pytest.mark.parametrize("delay", [-200, 0, 300, 1105])
def test_align_recovers_a_constant_delay(flite_fox, delay):
    x, _ = flite_fox
    est = np.concatenate([np.zeros(delay), x]) if delay >= 0 else x[-delay:]
    al = am.align(x, 0.7 * est)
    assert al.delay == delay
    assert al.est.shape == x.shape
    assert am.si_sdr(x[2000:-2000], al.est[2000:-2000]) > 60


def test_evaluate_a_delayed_copy(flite_fox):
    x, sr = flite_fox
    sc = am.evaluate(x, np.concatenate([np.zeros(300), x, np.zeros(50)]), sr, text=FOX)
    assert sc.delay == 300 and sc.length_fix == "trimmed 50 samples"
    assert sc.si_sdr == math.inf and sc.mel_distance == 0.0
    assert sc.pesq_wb == pytest.approx(4.64, abs=0.01) and sc.stoi == pytest.approx(1.0)
    assert sc.wer <= 0.2 and sc.notes == {}


def test_evaluate_silence_gives_nan_and_notes():
    z = np.zeros(32000, np.float32)
    sc = am.evaluate(z, z, 16000)
    assert math.isnan(sc.si_sdr) and math.isnan(sc.pesq_wb) and math.isnan(sc.stoi)
    assert {"si_sdr", "pesq_wb", "stoi", "estoi"} <= set(sc.notes)
    assert "silent" in sc.notes["pesq_wb"]


def test_bad_inputs_are_refused_with_clear_messages():
    x = np.zeros(100)
    with pytest.raises(InvalidInput, match="NaN"):
        am.si_sdr(x, np.full(100, np.nan))
    with pytest.raises(InvalidInput, match="mono"):
        am.mel_distance(np.zeros((100, 2)), np.zeros((100, 2)), 16000)
    with pytest.raises(InvalidInput, match="same length.*align"):
        am.si_sdr(x, x[:50])
    with pytest.raises(InvalidInput, match="empty"):
        am.si_sdr([], [])
    with pytest.raises(InvalidInput, match="at most 600 s"):
        am.evaluate(np.zeros(601 * 1000), np.zeros(601 * 1000), 1000)


# ---- codebook usage -------------------------------------------------------------------------


def test_codebook_usage_per_level():
    V = 8
    ids = np.stack([np.tile(np.arange(V), 4), np.full(4 * V, 3)])  # (K=2, T=32)
    u = am.codebook_usage(ids, V)
    assert u.usage == [1.0, 1 / V]
    assert u.entropy_bits == pytest.approx([3.0, 0.0])
    assert u.levels[0].entropy == pytest.approx(1.0) and u.levels[0].perplexity == pytest.approx(8)
    assert u.levels[1].dead == V - 1
    with pytest.raises(InvalidInput, match=r"\[0, 7\]"):
        am.codebook_usage(ids + 5, V)
