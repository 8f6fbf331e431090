"""audio/mel-units (tokenworks.audio.mel_units): k-means units of log-mel frames, on synthetic tones."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tokenworks.audio.mel_units import MelUnitsConfig, MelUnitsTokenizer, kmeans
from tokenworks.core import TokenSeq, capabilities
from tokenworks.errors import InvalidIds, InvalidInput

SR = 16000
FREQS = (300.0, 1200.0, 3000.0)


def tone(freq: float, seconds: float = 1.0, amp: float = 0.4, sr: int = SR) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def fitted():
    waves = [tone(f, 1.0, amp) for f in FREQS for amp in (0.3, 0.5)]
    return MelUnitsTokenizer.fit(waves, MelUnitsConfig(units=6, kmeans_iters=20, griffin_lim_iters=16))


def test_kmeans_finds_separated_clusters_deterministically():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.1 * torch.randn(50, 2, generator=g) for c in centres])  # (150, 2)
    a, b = kmeans(x, 3, seed=1), kmeans(x, 3, seed=1)
    assert torch.equal(a.centroids, b.centroids) and torch.equal(a.assignments, b.assignments)
    groups = a.assignments.reshape(3, 50)
    assert all(len(set(row.tolist())) == 1 for row in groups)  # each cluster one unit
    assert len(set(groups[:, 0].tolist())) == 3  # and different units
    assert a.inertia[-1] <= a.inertia[0] and a.inertia[-1] < 0.05
    with pytest.raises(InvalidInput, match="1 <= k"):
        kmeans(x[:2], 3)


def test_units_separate_the_tones(fitted):
    tok, report = fitted
    assert report.frames == 6 * 51 and report.clips == 6
    units = []
    for f in FREQS:
        ids = tok.encode((tone(f, 0.6), SR)).ids[0, 2:-2]  # inner frames (the edges see padding)
        values, counts = np.unique(ids, return_counts=True)
        assert counts.max() / ids.size >= 0.9  # one unit holds the tone
        units.append(int(values[counts.argmax()]))
    assert len(set(units)) == 3  # three tones, three different units


def test_encode_shapes_spans_and_meta(fitted):
    tok, _ = fitted
    wave = tone(1200.0, 0.5)
    seq = tok.encode((wave, SR))
    T = 1 + wave.size // 320
    assert seq.ids.shape == (1, T) and seq.ids.dtype == np.int64
    assert len(seq.spans) == T
    starts = np.array([s.start for s in seq.spans])
    ends = np.array([s.end for s in seq.spans])
    assert starts[0] == 0 and ends[-1] == wave.size and np.array_equal(starts[1:], ends[:-1])  # tile [0, N)
    assert np.all(ends >= starts)
    assert seq.meta["lossless"] is False and "Griffin-Lim" in seq.meta["note"]
    assert seq.meta["frame_rate"] == 50 and seq.meta["codebooks"] == 1
    assert seq.meta["bits_per_second"] == pytest.approx(50 * np.log2(6), abs=1e-3)
    assert {"render_token", "codebook", "save"} <= capabilities(tok)
    assert tok.codebook().shape == (6, 80)


def test_resampled_stereo_input(fitted):
    tok, _ = fitted
    stereo = np.stack([tone(300.0, 0.5, sr=48000)] * 2, 1)  # (N, 2) at 48 kHz
    seq = tok.encode((stereo, 48000))
    assert seq.meta["resampled_from"] == 48000 and seq.meta["downmixed"] is True
    assert seq.ids.shape == (1, 1 + 8000 // 320)
    with pytest.raises(InvalidInput, match="NaN"):
        tok.encode((np.full(100, np.nan, np.float32), SR))
    with pytest.raises(InvalidInput, match="waveform, sample_rate"):
        tok.encode(tone(300.0))


def test_decode_shapes_and_pitch(fitted):
    tok, _ = fitted
    wave = tone(1200.0, 0.5)
    seq = tok.encode((wave, SR))
    y, sr = tok.decode(seq)
    assert sr == SR and y.dtype == np.float32 and y.shape == wave.shape
    assert abs(np.abs(np.fft.rfft(y)).argmax() * SR / y.size - 1200.0) < 80
    y1, _ = tok.decode(seq, keep=1)
    assert np.array_equal(y, y1)  # keep=1 is the whole thing
    bare, _ = tok.decode(seq.ids[0])  # plain ids: (T - 1) * hop samples
    assert bare.shape == ((seq.ids.shape[1] - 1) * 320,)
    sound, sr = tok.render_token(2)
    assert sr == SR and sound.ndim == 1 and sound.size >= 0.3 * SR and np.abs(sound).max() > 0


def test_bad_keep_and_ids(fitted):
    tok, _ = fitted
    seq = tok.encode((tone(300.0, 0.2), SR))
    for keep in (0, 2, 8):
        with pytest.raises(InvalidIds, match="one codebook"):
            tok.decode(seq, keep=keep)
    with pytest.raises(InvalidIds, match="valid ids are 0..5"):
        tok.decode(np.array([[0, 6]]))
    with pytest.raises(InvalidIds, match=r"\(1, T\)"):
        tok.decode(np.zeros((2, 3), np.int64))
    with pytest.raises(InvalidIds, match="0..5"):
        tok.render_token(6)


def test_save_load_exact(fitted, runs_dir):
    import tokenworks as tw

    tok, _ = fitted
    folder = tok.save(runs_dir / "mel-units-test", metrics={"note": "test"})
    assert (folder / "units.txt").read_text().count("\n") == 7
    back = tw.load_checkpoint("mel-units-test")  # through the registry's checkpoint kind
    assert isinstance(back, MelUnitsTokenizer) and back.config == tok.config
    for f in FREQS:
        x = (tone(f, 0.4) + 0.1 * tone(f * 1.5, 0.4)).astype(np.float32)
        a, b = tok.encode((x, SR)), back.encode((x, SR))
        assert np.array_equal(a.ids, b.ids) and a == TokenSeq(b.ids, b.spans, "audio", a.tokenizer, b.meta)
    assert np.array_equal(tok.decode(a)[0], back.decode(b)[0])


def test_fit_refuses_too_little_audio():
    with pytest.raises(InvalidInput, match="at least V=500 frames"):
        MelUnitsTokenizer.fit([tone(300.0, 0.5)])


def test_shipped_checkpoint_is_small_and_loads():
    import tokenworks as tw
    from tokenworks.paths import data_dir

    folder = data_dir() / "checkpoints" / "audio" / "mel-units"
    assert sum(p.stat().st_size for p in folder.iterdir()) < 1_000_000
    assert (folder / "README.md").is_file()
    tok = tw.load("audio/mel-units")
    assert isinstance(tok, MelUnitsTokenizer) and tok.vocab_size == 500 and tok.frame_rate == 50
    assert tok.metrics["fit_minutes"] >= 9.5 and "heldout" in tok.metrics
    x = tone(220.0, 1.0) + tone(660.0, 1.0, 0.2)
    seq = tok.encode((x, SR))
    assert seq.ids.shape == (1, 51)
    y, sr = tok.decode(seq)
    assert y.shape == x.shape and np.isfinite(y).all()
    silent, _ = tok.decode(tok.encode((np.zeros(SR, np.float32), SR)))
    assert np.abs(silent).max() < 0.01  # training speech has pauses: silence has a unit of its own
