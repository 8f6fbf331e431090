"""Recording augmentation (audio/recording_augment.py, audio/background.py) and the codec trainer's switch."""
from __future__ import annotations

import json

import numpy as np
import pytest
from tokenworks.audio import recording_augment as RA
from tokenworks.audio.background import background_sounds
from tokenworks.errors import InvalidInput

SR = 16000


def _speechlike(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A voiced-sounding test signal: harmonics of a gliding pitch under a syllable-rate envelope."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 25))
    env = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
    return (0.2 * x * env + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


def _band_power(x: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(spec[(f >= lo) & (f < hi)].sum())


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---- each stage: deterministic, same length, finite ------------------------------------------

STAGES = {
    "reverberate": lambda x, r: RA.reverberate(x, SR, 0.5, 3.0, r),
    "coloured_noise": lambda x, r: RA.add_noise(x, RA.coloured_noise(len(x), 1.0, r), 10.0),
    "clip_noise": lambda x, r: RA.add_noise(x, RA.fit_noise(_speechlike(0.3, 9), len(x), r), 10.0),
    "band_limit": lambda x, r: RA.band_limit(x, SR, 200.0, 3400.0, 4),
    "peaking_eq": lambda x, r: RA.peaking_eq(x, SR, 1000.0, 6.0, 1.0),
    "hard_clip": lambda x, r: RA.clip(x, 0.05),
    "soft_clip": lambda x, r: RA.clip(x, 0.05, soft=True),
    "set_peak": lambda x, r: RA.set_peak(x, -20.0),
    "augment": lambda x, r: RA.augment(x, SR, r, RA.RecordingAugmentConfig(p_any=1.0)),
}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_each_stage_is_deterministic_for_a_seed_and_keeps_length(name):
    x = _speechlike()
    a, b = STAGES[name](x, _rng(5)), STAGES[name](x, _rng(5))
    assert a.shape == x.shape and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)


def test_augment_output_is_float32_in_range_for_many_chains_and_inputs():
    bank = [_speechlike(0.2, 7), _speechlike(2.5, 8)]
    cfg = RA.RecordingAugmentConfig(p_any=1.0, p_clip=0.5, p_level=0.5)
    inputs = [_speechlike(), np.zeros(4000, np.float32), _speechlike(0.01), 0.99 * np.sign(_speechlike(0.5))]
    seen = set()
    for seed in range(40):
        rng = _rng(seed)
        for x in inputs:
            chain = RA.draw_chain(rng, cfg, len(bank))
            seen.update(line.split()[0] for line in chain.describe())
            y = RA.apply_chain(x, SR, chain, rng, bank)
            assert y.dtype == np.float32 and y.shape == x.shape
            assert np.all(np.isfinite(y)) and np.abs(y).max() <= 1.0
    assert not np.any(RA.augment(np.zeros(800, np.float32), SR, _rng(), cfg))  # silence stays silence
    assert {"room", "background", "high-pass", "low-pass", "EQ", "hard", "soft", "peak"} <= seen


def test_augment_differs_across_seeds_and_p_any_zero_is_identity():
    x = _speechlike()
    cfg = RA.RecordingAugmentConfig(p_any=1.0)
    outs = [RA.augment(x, SR, _rng(s), cfg) for s in range(6)]
    assert sum(not np.array_equal(outs[0], o) for o in outs[1:]) >= 4
    np.testing.assert_allclose(RA.augment(x, SR, _rng(), RA.RecordingAugmentConfig(p_any=0.0)), x, atol=1e-7)


def test_without_a_level_stage_the_peak_is_kept():
    x = _speechlike()
    cfg = RA.RecordingAugmentConfig(p_any=1.0, p_level=0.0, p_reverb=1.0, p_noise=1.0)
    for seed in range(5):
        y = RA.augment(x, SR, _rng(seed), cfg)
        assert float(np.abs(y).max()) == pytest.approx(float(np.abs(x).max()), rel=1e-5)


# ---- each stage does what it says -------------------------------------------------------------


def test_reverb_fills_the_silence_after_a_sound_and_longer_rt60_decays_slower():
    x = np.zeros(SR, np.float32)
    x[:1600] = np.random.default_rng(1).standard_normal(1600) * 0.3  # 0.1 s burst, then 0.9 s of silence
    tail = slice(int(0.15 * SR), int(0.4 * SR))  # 50-300 ms after the burst ends
    energies = {}
    for rt60 in (0.2, 0.8):
        y = RA.reverberate(x, SR, rt60, 0.0, _rng(2))
        assert y.shape == x.shape
        energies[rt60] = float(np.sum(y[tail] ** 2))
    assert np.sum(x[tail] ** 2) == 0 and energies[0.2] > 0
    assert energies[0.8] > 20 * energies[0.2]  # the longer room rings on
    h = RA.room_impulse_response(SR, 0.5, 6.0, _rng(3), first_reflection_ms=2.0)
    assert h[0] == 1.0 and not np.any(h[1:33]) and h.size == 1 + 32 + 8000
    assert 10 * np.log10(1.0 / np.sum(h[1:] ** 2)) == pytest.approx(6.0, abs=1e-6)  # the DRR asked for
    early, late = np.sum(h[33:33 + 800] ** 2), np.sum(h[33 + 4000:33 + 4800] ** 2)  # 0-50 ms vs 250-300 ms
    assert 10 * np.log10(early / late) == pytest.approx(30.0, abs=3.0)  # 60 dB per 0.5 s: 30 dB in 0.25 s


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 25.0, 40.0])
@pytest.mark.parametrize("kind", ["white", "pink", "brown", "clip"])
def test_noise_reaches_the_asked_snr(snr_db, kind):
    x = _speechlike()
    rng = _rng(4)
    if kind == "clip":
        noise = RA.fit_noise(_speechlike(0.37, 11), len(x), rng)  # a short clip, repeated
    else:
        noise = RA.coloured_noise(len(x), {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind], rng)
    y = RA.add_noise(x, noise, snr_db)
    measured = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean((y - x) ** 2))
    assert abs(measured - snr_db) < 0.5


def test_coloured_noise_has_its_slope():
    n = 1 << 16
    for beta in (0.0, 1.0, 2.0):
        x = RA.coloured_noise(n, beta, _rng(6))
        assert np.sqrt(np.mean(x**2)) == pytest.approx(1.0)
        ratio_db = 10 * np.log10(_band_power(x, 250, 500) / _band_power(x, 2000, 4000))  # per Hz: x8 wider band
        assert ratio_db + 10 * np.log10(8) == pytest.approx(10 * beta * np.log10(8), abs=1.5)


def test_fit_noise_repeats_a_short_clip_and_cuts_a_long_one():
    short = np.arange(10, dtype=np.float64)
    y = RA.fit_noise(short, 35, _rng())
    assert y.shape == (35,) and set(np.unique(y)) <= set(short)
    assert RA.fit_noise(np.arange(1000.0), 100, _rng()).shape == (100,)
    with pytest.raises(InvalidInput, match="no samples"):
        RA.fit_noise(np.zeros(0), 5, _rng())
    with pytest.raises(InvalidInput, match="as long as the wave"):
        RA.add_noise(np.ones(5), np.ones(4), 10.0)


def test_band_limit_removes_energy_beyond_the_cutoffs():
    x = RA.coloured_noise(4 * SR, 0.0, _rng(7))
    y = RA.band_limit(x, SR, lowpass_hz=3000.0, order=4)
    assert _band_power(y, 4500, 8000) < 0.01 * _band_power(x, 4500, 8000)  # > 20 dB down
    assert _band_power(y, 100, 2000) > 0.8 * _band_power(x, 100, 2000)  # the pass band stays
    y = RA.band_limit(x, SR, highpass_hz=300.0, order=4)
    assert _band_power(y, 1, 150) < 0.01 * _band_power(x, 1, 150)
    np.testing.assert_array_equal(RA.band_limit(x, SR), x)
    with pytest.raises(InvalidInput, match="Nyquist"):
        RA.band_limit(x, SR, lowpass_hz=9000.0)


def test_peaking_eq_gain_at_its_centre_and_flat_far_away():
    t = np.arange(SR) / SR
    for gain in (-6.0, 4.0):
        for f, expect in ((1000.0, gain), (60.0, 0.0), (7000.0, 0.0)):
            x = np.sin(2 * np.pi * f * t)
            y = RA.peaking_eq(x, SR, 1000.0, gain, q=2.0)
            got = 20 * np.log10(np.std(y[SR // 2:]) / np.std(x[SR // 2:]))
            assert got == pytest.approx(expect, abs=0.3)


@pytest.mark.parametrize("soft", [False, True])
def test_clipping_bounds_the_peak(soft):
    x = _speechlike() * 4.0
    y = RA.clip(x, 0.3, soft=soft)
    assert np.abs(y).max() <= 0.3 + 1e-12
    small = np.abs(x) < 0.01
    np.testing.assert_allclose(y[small], x[small], rtol=0 if not soft else 1e-3, atol=1e-4)
    with pytest.raises(InvalidInput, match="positive"):
        RA.clip(x, 0.0)
    chain = RA.AugmentChain(clip=(12.0, soft))  # clipped 12 dB below the peak, then the input peak restored
    z = RA.apply_chain(x / 4, SR, chain, _rng())
    assert np.abs(z).max() == pytest.approx(np.abs(x / 4).max(), rel=1e-5)
    assert np.mean(np.abs(z) > 0.9 * np.abs(z).max()) > 5 * np.mean(np.abs(x) > 0.9 * np.abs(x).max())


def test_set_peak():
    y = RA.set_peak(_speechlike(), -12.0)
    assert 20 * np.log10(np.abs(y).max()) == pytest.approx(-12.0)
    assert not np.any(RA.set_peak(np.zeros(5), -3.0))


# ---- the config ------------------------------------------------------------------------------


def test_config_defaults_are_valid_and_overrides_are_checked():
    RA.check_config(RA.RecordingAugmentConfig(), SR)
    cfg = RA.augment_config({"snr_db": [20, 30], "p_reverb": 0.2})
    assert cfg.snr_db == (20, 30) and cfg.p_reverb == 0.2
    for bad, match in (({"p_noise": 1.5}, "probability"), ({"snr": 3}, "has no setting snr"),
                       ({"rt60_s": [0.9, 0.2]}, "low <= high"), ({"noise_source": "rain"}, "auto, coloured, samples"),
                       ({"peak_dbfs": [-10, 3]}, r"within \[-80.0, 0.0\]")):
        with pytest.raises(InvalidInput, match=match):
            RA.augment_config(bad)
    with pytest.raises(InvalidInput, match="Nyquist"):
        RA.check_config(RA.augment_config({"lowpass_hz": [3400, 7000]}), 8000)
    every_field_has_help = RA.RecordingAugmentConfig.__dataclass_fields__
    from tokenworks.train.config_cli import field_comments

    assert set(field_comments(RA.RecordingAugmentConfig)) == set(every_field_has_help)


def test_samples_only_without_clips_says_how_to_get_them():
    cfg = RA.augment_config({"p_any": 1.0, "p_noise": 1.0, "noise_source": "samples"})
    with pytest.raises(InvalidInput, match="assets fetch sonic-pi-samples"):
        RA.draw_chain(_rng(), cfg, 0)
    assert RA.draw_chain(_rng(), cfg, 3).noise_clip is not None
    coloured = RA.augment_config({"p_any": 1.0, "p_noise": 1.0, "noise_source": "coloured"})
    assert RA.draw_chain(_rng(), coloured, 3).noise_clip is None


def test_background_sounds_keeps_background_names_of_the_training_split(tmp_path):
    import soundfile as sf
    from tokenworks.audio.data import sample_split

    names = ["ambi_drone", "ambi_glass_hum", "loop_amen", "vinyl_hiss", "bd_808", "drum_snare_hard"]
    for i, n in enumerate(names):
        sf.write(str(tmp_path / f"{n}.flac"), 0.1 * _speechlike(0.5, i), 44100)
    bank = background_sounds(tmp_path)
    expect = [n for n in names if n.startswith(("ambi_", "loop_", "vinyl_hiss")) and sample_split(n) == "train"]
    assert bank.names == expect and len(bank.waves) == len(expect) and "Sonic Pi" in bank.source
    assert sample_split("ambi_glass_hum") == "heldout"  # as data.sample_clips has always split them
    assert "ambi_glass_hum" in background_sounds(tmp_path, split="heldout").names
    empty = background_sounds(tmp_path / "nowhere")
    assert empty.waves == [] and empty.source.startswith("none")


# ---- the trainer's switch --------------------------------------------------------------------


def test_training_batches_change_with_the_switch_and_stay_the_same_without_it():
    from tokenworks.audio.train import training_batches
    from tokenworks.audio.train_data import crop_batch

    waves = [_speechlike(1.5, 1), _speechlike(2.0, 2)]
    plain = training_batches(waves, 8000, 6, SR, "cpu")(_rng(3)).numpy()
    np.testing.assert_array_equal(plain, crop_batch(waves, 8000, 6, _rng(3)))  # off: the draws of old runs
    aug = RA.augment_config({"p_any": 1.0})
    a = training_batches(waves, 8000, 6, SR, "cpu", aug)(_rng(3)).numpy()
    b = training_batches(waves, 8000, 6, SR, "cpu", aug)(_rng(3)).numpy()
    assert a.shape == plain.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert all(not np.allclose(a[i], plain[i]) for i in range(6))


def test_codec_training_switch_augments_training_inputs_never_evaluation_inputs(tmp_path, monkeypatch, capsys):
    import tokenworks.audio.train as CT
    from tokenworks.audio.pack import pack_clips

    train_pack = pack_clips([_speechlike(1.5, 1), _speechlike(1.2, 2)], ["a", "b"], tmp_path / "train.twpack.npz",
                            bits=16)
    eval_pack = pack_clips([_speechlike(1.0, 3), _speechlike(1.0, 4)], ["c", "d"], tmp_path / "eval.twpack.npz",
                           bits=16)
    seen: dict[str, dict[str, list[np.ndarray]]] = {}
    real_run_steps = CT.run_steps

    def run(augment: bool) -> dict:
        key = "on" if augment else "off"
        seen[key] = {"train": [], "eval": []}

        def spy_run_steps(state, step_fn, batches, loop, stop=None):
            def spy_batches(rng):
                x = batches(rng)
                seen[key]["train"].append(x.numpy().copy())
                return x
            return real_run_steps(state, step_fn, spy_batches, loop, stop=stop)

        def spy_eval(model, heldout, n, sr):
            seen[key]["eval"] = [w.copy() for w in heldout.waves[:n]]
            return {"evaluated": True}

        monkeypatch.setattr(CT, "run_steps", spy_run_steps)
        monkeypatch.setattr(CT, "evaluate_codec", spy_eval)
        cfg = CT.preset_config("cpu-tiny", "rvq", out=str(tmp_path / f"ck-{key}"), wav_dir=str(train_pack),
                               eval_dir=str(eval_pack), eval_clips=2, device="cpu", threads=1, seed=1, steps=2,
                               log_every=1, augment=augment, augment_config={"p_any": 1.0})
        CT.train_codec(cfg)
        return json.loads((tmp_path / f"ck-{key}" / "config.json").read_text())

    off, on = run(False), run(True)
    assert len(seen["on"]["train"]) == len(seen["off"]["train"]) == 2
    for a, b in zip(seen["on"]["train"], seen["off"]["train"]):
        assert a.shape == b.shape and not np.allclose(a, b)  # training inputs changed
    assert len(seen["on"]["eval"]) == 2
    for a, b in zip(seen["on"]["eval"], seen["off"]["eval"]):
        np.testing.assert_array_equal(a, b)  # evaluation inputs never
    assert on["train"]["augment"] is True and off["train"]["augment"] is False
    assert on["train"]["augment_config"] == {"p_any": 1.0}
    assert on["data"]["augment_noise"] and "augment_noise" not in off["data"]
    out = capsys.readouterr().out
    assert '"augment_noise"' in out


def test_the_switch_is_off_by_default_and_on_the_command_line():
    from tokenworks.audio.train import parser, train_codec
    from tokenworks.audio.train_config import CodecTrainConfig, preset_config
    from tokenworks.checkpoint import config_from_dict

    assert CodecTrainConfig().augment is False and preset_config("gpu").augment is False
    ap, _ = parser()
    assert ap.parse_args(["--augment"]).augment is True and ap.parse_args([]).augment is None
    old = {k: v for k, v in CodecTrainConfig().__dict__.items() if k not in ("augment", "augment_config")}
    assert config_from_dict(CodecTrainConfig, old).augment is False  # configs saved before the switch still load
    with pytest.raises(InvalidInput, match="has no setting"):
        train_codec(preset_config("cpu-tiny", augment=True, augment_config={"loudness": 1}))
