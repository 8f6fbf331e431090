"""Classical codec baselines: each runs on 2 s of speech at about its nominal bitrate."""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from tokenworks.audio import baselines as bl
from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.metrics import audio as am

SR = 16000
# on-disk rate each setting should reach; Codec2 700C stores its 28-bit frames in 4 bytes
EXPECTED_BPS = {b.name: b.nominal_bps for b in bl.BASELINES} | {"codec2-700C": 800}


def _need_tools(*tools: str, apt: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"{', '.join(missing)} not installed (Debian package {apt}; `make audio-deps`)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """2 s of flite speech at 16 kHz, float32 (N,)."""
    import soundfile as sf

    _need_tools("flite", apt="flite")
    out = tmp_path_factory.mktemp("speech") / "s.wav"
    text = "The quick brown fox jumps over the lazy dog."
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(out)], check=True, timeout=60)
    x, sr = sf.read(str(out), dtype="float32")
    assert sr == SR
    return x[: 2 * SR]


@pytest.fixture(scope="module")
def results(speech):
    """Every baseline whose tools are installed, run once on the 2 s clip."""
    out = {}
    for b in bl.BASELINES:
        if not bl.missing_tools(b.name):
            out[b.name] = bl.run_baseline(b.name, speech, SR)
    return out


def _result(results, name):
    s = bl.spec(name)
    _need_tools(*s.tools, apt=s.apt or "")
    return results[name]


@pytest.mark.parametrize("name", bl.BASELINE_NAMES)
def test_each_baseline_runs_at_its_bitrate(results, speech, name):
    r = _result(results, name)
    assert r.wave.shape == speech.shape and r.wave.dtype == np.float32
    assert np.isfinite(r.wave).all() and np.abs(r.wave).max() > 0.05
    assert r.sample_rate == SR and r.duration_s == pytest.approx(2.0)
    assert r.file_bytes >= r.payload_bytes > 0
    # payload rate within -1 % .. +10 % of nominal (the last frame and MP3's delay frames add a little)
    assert 0.99 <= r.bits_per_second / EXPECTED_BPS[name] <= 1.10, (r.bits_per_second, r.notes)
    assert r.file_bits_per_second >= r.bits_per_second
    # decoded speech is still speech: the envelope follows the input
    assert am.stoi(speech, r.wave, SR) > 0.5


def test_opus_hard_cbr_packets_are_equal_and_ogg_overhead_is_separate(results):
    r = _result(results, "opus-6k")
    assert r.payload_bytes % 15 == 0  # 6 kbit/s x 20 ms = 15 bytes in every packet
    assert r.file_bytes - r.payload_bytes > 100  # Ogg pages + OpusHead + OpusTags


def test_quality_is_ordered_by_rate(results, speech):
    opus12, opus6 = _result(results, "opus-12k"), _result(results, "opus-6k")
    assert am.pesq_wb(speech, opus12.wave, SR) > am.pesq_wb(speech, opus6.wave, SR)
    snr = {b: am.si_sdr(speech, _result(results, f"mulaw-{b}").wave) for b in (4, 6, 8)}
    assert snr[8] > snr[6] > snr[4]
    mp3_24, mp3_8 = _result(results, "mp3-24k"), _result(results, "mp3-8k")
    assert am.mel_distance(speech, mp3_24.wave, SR) < am.mel_distance(speech, mp3_8.wave, SR)


def test_codec_delays_are_removed(results, speech):
    mp3 = _result(results, "mp3-16k")
    assert mp3.delay > 0 and any("delay" in n for n in mp3.notes)
    assert am.si_sdr(speech, mp3.wave) > 10  # aligned to the sample, else SI-SDR collapses


def test_mp3_frame_walk_matches_the_file(tmp_path, speech):
    _need_tools("lame", apt="lame")
    bl.write_wav(tmp_path / "in.wav", speech, SR)
    subprocess.run(["lame", "--quiet", "-m", "m", "--cbr", "-b", "16", str(tmp_path / "in.wav"),
                    str(tmp_path / "o.mp3")], check=True, timeout=60)
    data = (tmp_path / "o.mp3").read_bytes()
    info = bl.mp3_frames(data)
    assert info.sample_rate == 16000 and info.bitrate_kbps == 16
    assert info.audio_bytes + info.tag_bytes == len(data)
    assert info.frames * 576 >= speech.size  # MPEG-2 layer III: 576 samples a frame
    with pytest.raises(InvalidInput, match="MPEG"):
        bl.mp3_frames(b"RIFF0000WAVEfmt " + bytes(40))


def test_inputs_are_prepared_and_notes_say_so():
    t = np.arange(48000) / 48000
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    stereo48 = (np.stack([tone, tone], axis=1) * 32767).astype(np.int16)  # (N, 2) int16 at 48 kHz
    r = bl.run_baseline("mulaw-8", stereo48, 48000)
    assert r.wave.shape == (16000,)
    text = " ".join(r.notes)
    assert "down-mixed" in text and "48000" in text
    assert r.payload_bytes == 16000  # 1 s x 16 kHz x 8 bits


def test_bad_names_inputs_and_missing_tools(monkeypatch):
    with pytest.raises(InvalidInput, match="opus-6k.*mulaw-8"):
        bl.run_baseline("opus-3k", np.zeros(SR), SR)
    with pytest.raises(InvalidInput, match="NaN"):
        bl.run_baseline("mulaw-8", np.full(SR, np.nan), SR)
    with pytest.raises(InvalidInput, match="600"):
        bl.run_baseline("mulaw-8", np.zeros(601 * 8000, np.float32), 8000)
    monkeypatch.setattr(bl.shutil, "which", lambda tool: None)
    with pytest.raises(AssetMissing, match="apt-get install opus-tools"):
        bl.run_baseline("opus-6k", np.zeros(SR), SR)
    assert bl.missing_tools("codec2-3200") == ["c2enc", "c2dec"]


def test_silence_and_very_short_clips_go_through():
    _need_tools("opusenc", "opusdec", apt="opus-tools")
    _need_tools("c2enc", "c2dec", apt="codec2")
    r = bl.run_baseline("opus-6k", np.zeros(SR, np.float32), SR)
    assert r.wave.shape == (SR,) and np.abs(r.wave).max() < 1e-3
    short = bl.run_baseline("codec2-3200", 0.1 * np.ones(40, np.float32), SR)  # under a frame
    assert short.wave.shape == (40,)
