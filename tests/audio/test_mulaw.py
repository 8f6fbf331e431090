"""audio/mulaw8 and the mu-law baselines: known values, monotonicity, exact round trips."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokenworks as tw
from tokenworks.audio.mulaw import MuLawTokenizer, mulaw_decode, mulaw_encode, mulaw_quantize


def test_known_values_at_8_bits():
    ids = mulaw_encode(np.array([0.0, 1.0, -1.0, 1e-7, -1e-7, 2.0, -3.0]))
    assert ids.tolist() == [128, 255, 0, 128, 127, 255, 0]  # zero in the middle, extremes at the ends
    w = mulaw_decode(np.array([0, 127, 128, 255]))
    assert w.tolist() == [-1.0, 0.0, 0.0, 1.0]
    assert np.signbit(w[1]) and not np.signbit(w[2])  # G.711's two zeros: -0 and +0


def test_the_curve_is_mu_law():
    # the first step above zero is (256**(1/127) - 1) / 255: mu-law's finest step near 0
    assert mulaw_decode(np.array([129]))[0] == pytest.approx((256 ** (1 / 127) - 1) / 255, rel=1e-6)
    # steps grow with the amplitude (logarithmic companding)
    steps = np.diff(mulaw_decode(np.arange(128, 256)).astype(np.float64))
    assert np.all(np.diff(steps) > 0)


@pytest.mark.parametrize("bits", [4, 6, 8])
def test_ids_are_monotone_in_amplitude_and_round_trip(bits):
    x = np.linspace(-1, 1, 20001)
    ids = mulaw_encode(x, bits)
    assert ids.min() == 0 and ids.max() == 2**bits - 1
    assert np.all(np.diff(ids) >= 0)
    levels = np.arange(2**bits)
    amps = mulaw_decode(levels, bits)
    assert np.all(np.diff(amps) >= 0)
    assert np.array_equal(mulaw_encode(amps, bits), levels)  # every id round-trips
    q = mulaw_quantize(x, bits)
    assert np.array_equal(mulaw_quantize(q, bits), q)  # quantized values are fixed points


@pytest.mark.parametrize("bits,lo,hi", [(4, 12, 20), (6, 24, 31), (8, 35, 42)])
def test_snr_of_a_sine_grows_about_6_db_per_bit(bits, lo, hi):
    x = 0.5 * np.sin(np.linspace(0, 200 * np.pi, 16000))
    e = x - mulaw_quantize(x, bits)
    snr = 10 * np.log10(np.sum(x**2) / np.sum(e**2))
    assert lo < snr < hi


def test_bits_outside_the_choices_are_refused():
    with pytest.raises(tw.InvalidInput, match="one of 4, 6, 8"):
        mulaw_quantize(np.zeros(3), bits=5)
    with pytest.raises(tw.InvalidInput, match="one of 4, 6, 8"):
        MuLawTokenizer(bits=16)


def test_tokenizer_decode_is_the_quantized_16k_input():
    tok = tw.load("audio/mulaw8")
    rng = np.random.default_rng(1)
    wave = np.clip(0.3 * rng.standard_normal(22050), -1, 1).astype(np.float32)
    seq = tok.encode((wave, 22050))
    assert seq.ids.shape == (1, 16000) and seq.meta["resampled_from"] == 22050
    assert seq.meta["bits_per_second"] == 128000 and seq.meta["lossless"] is False
    out, sr = tok.decode(seq)
    from tokenworks.audio.io import prepare

    assert sr == 16000 and np.array_equal(out, mulaw_quantize(prepare(wave, 22050).wave))
    assert np.array_equal(tok.decode(seq.ids[0])[0], out)  # (N,) ids decode too
    assert not tok.decode(seq, keep=0)[0].any() and np.array_equal(tok.decode(seq, keep=1)[0], out)
    assert tok.codebook().shape == (256, 1) and tok.render_token(255) == "+1.0000"


def test_spans_are_one_sample_each():
    seq = tw.load("audio/mulaw8").encode((np.zeros(50, dtype=np.int16), 16000))
    assert [(s.start, s.end) for s in seq.spans[:3]] == [(0, 1), (1, 2), (2, 3)]
    assert seq.spans[-1].end == 50 and seq.meta["silent"] is True


def test_bad_ids_are_refused():
    tok = tw.load("audio/mulaw8")
    with pytest.raises(tw.InvalidIds, match=r"valid ids are 0\.\.255"):
        tok.decode(np.array([[0, 256]]))
    with pytest.raises(tw.InvalidIds, match="one codebook"):
        tok.decode(np.zeros((2, 5), dtype=np.int64))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_nan=False, width=32), min_size=1, max_size=200),
       st.sampled_from([4, 6, 8]))
def test_error_is_at_most_half_a_step_in_the_companded_domain(values, bits):
    x = np.asarray(values, dtype=np.float64)
    q = mulaw_quantize(x, bits).astype(np.float64)

    def compand(v):
        return np.sign(v) * np.log1p(255 * np.abs(v)) / np.log1p(255)

    step = 1 / (2 ** (bits - 1) - 1)  # uniform step of the companded magnitude
    assert np.all(np.abs(compand(x) - compand(q)) <= step / 2 + 1e-5)
    assert np.all(np.sign(q) * np.sign(x) >= 0)  # never flips the sign
