"""tokenworks.audio.io: every kind of bad input gets a clear message, good input a clear note."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tokenworks.audio.io import (
    MAX_SECONDS, SAMPLE_RATE, AudioClip, prepare, read_audio, wav_bytes, write_wav,
)
from tokenworks.errors import InvalidInput

FORMATS = "WAV, FLAC or OGG"


def _tone(seconds: float, sr: int, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return amp * np.sin(2 * np.pi * freq * t)  # (N,)


def test_zero_byte_file_is_refused(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(InvalidInput, match=r"empty \(0 bytes\).*WAV, FLAC or OGG"):
        read_audio(p)
    with pytest.raises(InvalidInput, match="empty"):
        read_audio(b"")


def test_text_file_renamed_wav_is_refused(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("these are not samples, just words in a file called .wav\n" * 20)
    with pytest.raises(InvalidInput, match=r"'notes.wav' is not a readable audio file.*allowed formats: WAV, FLAC or OGG"):
        read_audio(p)
    with pytest.raises(InvalidInput, match="the uploaded data is not a readable audio file") as exc:
        read_audio(p.read_bytes())
    assert "BytesIO" not in str(exc.value)  # the message never shows a Python object


def test_missing_file_and_wrong_type_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="no audio file at"):
        read_audio(tmp_path / "nope.wav")
    with pytest.raises(InvalidInput, match="path or the file's bytes"):
        read_audio(123)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt,subtype", [("WAV", "PCM_16"), ("FLAC", "PCM_16"), ("OGG", "VORBIS")])
def test_8khz_int16_mono_is_resampled_with_a_note(tmp_path, fmt, subtype):
    p = tmp_path / f"tone8k.{fmt.lower()}"
    sf.write(str(p), (_tone(1.0, 8000) * 32767).astype(np.int16), 8000, format=fmt, subtype=subtype)
    clip = read_audio(p)
    assert isinstance(clip, AudioClip)
    assert clip.sample_rate == SAMPLE_RATE and clip.original_rate == 8000 and clip.original_channels == 1
    assert clip.wave.dtype == np.float32 and clip.wave.shape == (16000,)
    assert clip.resampled and not clip.downmixed
    assert any("resampled from 8000 Hz to 16000 Hz" in n for n in clip.notes)
    assert 0.45 < clip.peak < 0.55  # Vorbis is lossy


def test_48khz_stereo_int16_is_downmixed_and_resampled(tmp_path):
    left, right = _tone(2.0, 48000, 440, 0.6), _tone(2.0, 48000, 440, 0.2)
    pcm = (np.stack([left, right], axis=1) * 32767).astype(np.int16)  # (N, 2)
    p = tmp_path / "stereo48k.wav"
    sf.write(str(p), pcm, 48000, subtype="PCM_16")
    clip = read_audio(p)
    assert clip.wave.shape == (32000,) and clip.original_rate == 48000 and clip.original_channels == 2
    assert any("down-mixed 2 channels" in n for n in clip.notes)
    assert any("resampled from 48000 Hz" in n for n in clip.notes)
    assert abs(clip.peak - 0.4) < 0.01  # the average of the channels
    meta = clip.meta()
    assert meta["resampled_from"] == 48000 and meta["downmixed"] is True and meta["duration_s"] == 2.0


@pytest.mark.parametrize("layout", ["NC", "CN"])
def test_arrays_in_either_layout_and_any_integer_type(layout):
    x = (np.stack([_tone(0.5, 48000), _tone(0.5, 48000)], axis=1) * 2**31 * 0.5).astype(np.int32)  # (N, 2)
    clip = prepare(x if layout == "NC" else x.T, 48000)
    assert clip.wave.shape == (8000,) and clip.original_channels == 2
    assert abs(clip.peak - 0.25) < 0.01
    u8 = (128 + 100 * np.sin(np.linspace(0, 20, 1600))).astype(np.uint8)
    assert abs(prepare(u8, 16000).peak - 100 / 128) < 0.01


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_samples_are_refused(bad):
    x = _tone(0.1, 16000)
    x[37] = bad
    with pytest.raises(InvalidInput, match=r"1 NaN or infinite sample\(s\) \(first at sample 37.*give finite samples"):
        prepare(x, 16000)


def test_nan_in_a_file_is_refused(tmp_path):
    p = tmp_path / "nan.wav"
    x = _tone(0.1, 16000).astype(np.float32)
    x[5] = np.nan
    sf.write(str(p), x, 16000, subtype="FLOAT")
    with pytest.raises(InvalidInput, match="NaN or infinite"):
        read_audio(p)


def test_silence_is_accepted_and_noted(tmp_path):
    clip = prepare(np.zeros(16000, dtype=np.int16), 16000)
    assert clip.is_silent and clip.meta()["silent"] is True
    assert any("silent" in n for n in clip.notes)
    p = write_wav(tmp_path / "silence.wav", np.zeros(8000, dtype=np.float32))
    assert read_audio(p).is_silent
    assert not prepare(_tone(0.1, 16000), 16000).is_silent


def test_too_long_is_refused_from_the_header_before_decoding(tmp_path, monkeypatch):
    p = tmp_path / "long.wav"
    sf.write(str(p), np.zeros(int((MAX_SECONDS + 1) * 8000), dtype=np.int16), 8000, subtype="PCM_16")

    def no_decoding(*a, **k):
        raise AssertionError("the file was decoded before its length was checked")

    monkeypatch.setattr(sf, "read", no_decoding)
    with pytest.raises(InvalidInput, match=rf"61\.0 s long; the limit is {MAX_SECONDS:g} s"):
        read_audio(p)
    with pytest.raises(InvalidInput, match="limit is 5 s"):
        read_audio(p, max_seconds=5)


def test_ten_minute_array_is_refused_with_the_limit_and_allowed_without_it():
    x = np.zeros(10 * 60 * 8000, dtype=np.float32)
    with pytest.raises(InvalidInput, match=r"600\.0 s long; the limit is 60 s"):
        prepare(x, 8000)
    assert prepare(x[:80000], 8000, max_seconds=None).n_samples == 160000


def test_clipping_is_applied_and_noted():
    x = _tone(0.1, 16000, amp=1.5)
    clip = prepare(x, 16000)
    assert clip.peak == 1.0
    assert any("clipped" in n and "beyond [-1, 1]" in n and "peak 1.5" in n for n in clip.notes)
    assert not any("clipped" in n for n in prepare(_tone(0.1, 16000), 16000).notes)


@pytest.mark.parametrize("wave,sr,match", [
    (np.zeros(0), 16000, "no samples"),
    (np.zeros((3, 3)), 16000, "cannot tell samples from channels"),
    (np.zeros((2, 2, 2)), 16000, r"shaped \(N,\), \(N, C\) or \(C, N\)"),
    (np.array(["a", "b"]), 16000, "not supported"),
    (np.zeros(10, dtype=np.complex64), 16000, "not supported"),
    (np.zeros(10), 0, "not supported; allowed: 1000 to 384000 Hz"),
    (np.zeros(10), 22050.5, "whole number of Hz"),
    (np.zeros(10), "16k", "whole number of Hz"),
])
def test_other_bad_arrays_are_refused(wave, sr, match):
    with pytest.raises(InvalidInput, match=match):
        prepare(wave, sr)


def test_write_wav_round_trips_at_16_bit(tmp_path):
    x = _tone(0.25, 16000).astype(np.float32)
    p = write_wav(tmp_path / "sub" / "out.wav", x)
    info = sf.info(str(p))
    assert info.subtype == "PCM_16" and info.samplerate == 16000 and info.channels == 1
    back = read_audio(p)
    assert np.max(np.abs(back.wave - x)) <= 1 / 32768 + 1e-7 and back.notes == []
    assert read_audio(wav_bytes(x)).n_samples == x.shape[0]
