"""Speed perturbation (audio/augment.py) and its use in the codec trainer."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tokenworks.audio.augment import check_factors, play_faster, speed_copies
from tokenworks.errors import InvalidInput

SR = 16000


def _tone(freq: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SR)[spec.argmax()])


@pytest.mark.parametrize("factor", [0.8, 0.9, 1.1, 1.22])
def test_play_faster_scales_pitch_and_length(factor):
    y = play_faster(_tone(440.0), factor)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - SR / factor) <= SR * 0.01  # tempo: length / factor (p/q rounding within 1%)
    assert _peak_hz(y) == pytest.approx(440.0 * factor, rel=0.01)  # pitch and formants: x factor
    assert np.abs(y).max() <= 1.0


def test_faster_play_does_not_alias_high_content():
    # a 7.5 kHz tone played 1.2x as fast would be 9 kHz, above Nyquist (8 kHz): the polyphase filter removes it
    y = play_faster(_tone(7500.0), 1.2)
    assert np.sqrt(np.mean(y[200:-200] ** 2)) < 0.02  # the tone in has 0.35 rms


def test_speed_copies_keeps_the_clips_first():
    waves = [_tone(200.0, 0.5), _tone(300.0, 0.25)]
    out = speed_copies(waves, [0.9, 1.1])
    assert len(out) == 6 and out[0] is waves[0] and out[1] is waves[1]
    assert len(out[2]) > len(waves[0]) > len(out[4])  # 0.9x is longer, 1.1x shorter
    assert speed_copies(waves, []) == waves


@pytest.mark.parametrize("bad, match", [([1.0], "not be 1"), ([0.3], r"lie in \[0.5, 2.0\]"), ([2.5], "lie in"),
                                        ([0.9, 0.9], "must differ"), (["fast"], "a number such as 0.9")])
def test_bad_factors_are_refused_with_the_rule(bad, match):
    with pytest.raises(InvalidInput, match=match):
        check_factors(bad)


def test_codec_training_with_speed_factors_records_them(tmp_path, capsys):
    from tokenworks.audio.train import main
    from tokenworks.audio.pack import pack_clips

    pack = tmp_path / "train.twpack.npz"
    pack_clips([_tone(150.0, 1.5), _tone(220.0, 1.2)], ["a", "b"], pack, bits=16)
    rc = main(["--preset", "cpu-tiny", "--wav-dir", str(pack), "--eval-clips", "0", "--steps", "2",
               "--speed-factors", "0.9, 1.1", "--out", str(tmp_path / "ck")])
    out = capsys.readouterr().out
    assert rc == 0
    start = json.loads(next(line for line in out.splitlines() if '"event": "start"' in line))
    assert start["train_clips"] == 6  # the 2 clips and their 0.9x and 1.1x copies
    info = json.loads((tmp_path / "ck" / "config.json").read_text())
    assert info["train"]["speed_factors"] == [0.9, 1.1]
    for arg, msg in (("1.0", "not be 1"), ("0.9,x", "numbers separated by commas")):
        rc = main(["--preset", "cpu-tiny", "--wav-dir", str(pack), "--eval-clips", "0", "--steps", "1",
                   "--speed-factors", arg, "--out", str(tmp_path / "bad")])
        err = capsys.readouterr().err
        assert rc == 2 and msg in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()
