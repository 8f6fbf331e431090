"""Audio tab handlers called as plain functions, with a tiny untrained codec saved as a run."""
from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from app import audio_tab
from tokenworks.audio.inspect import QUALITY_SECONDS, analyze, baseline_runs, quality
from tokenworks.audio.io import MAX_SECONDS, read_audio
from tokenworks.errors import InvalidInput

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

TINY = dict(width=32, encoder_blocks=1, decoder_blocks=2, latent_dim=16, codebook_size=32, num_levels=4)
RUN = "run:audio/tiny-codec"
SR = 16000


def _tone(seconds: float, sr: int = SR, f: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * f * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def tiny_codec(name: str = "audio/tiny-codec"):
    """A 4-level codec with 32 codes a level, untrained except one k-means pass over tones."""
    import torch

    from tokenworks.audio.codec import Codec, CodecConfig
    from tokenworks.audio.codec_tokenizer import CodecTokenizer

    torch.manual_seed(0)
    model = Codec(CodecConfig(**TINY))
    model.train()
    with torch.no_grad():  # one training pass initialises every level's codebook
        model(torch.from_numpy(np.stack([_tone(0.5, f=f) for f in (110, 220, 440, 880)])), keep=4)
    return CodecTokenizer(model.eval(), name=name)


@pytest.fixture(scope="module", autouse=True)
def tiny_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOKENWORKS_RUNS", str(runs))
        tiny_codec().save(runs / "audio" / "tiny-codec")
        yield runs


@pytest.fixture(scope="module")
def good():
    """The tab's output for the flite sample through the tiny codec (analysed once)."""
    return audio_tab.on_analyze(None, "flite-slt.wav", RUN, "pesq", quiet=True)


def _wav(path, wave, sr, subtype="PCM_16"):
    sf.write(str(path), wave, sr, subtype=subtype)
    return str(path)


# ---- lists and samples -----------------------------------------------------------------------

def test_only_tokenizers_that_load_are_listed_and_the_missing_say_how():
    ch = audio_tab.tokenizer_choices()
    assert "audio/mulaw8" in ch.names and RUN in ch.names
    assert not set(ch.names) & set(ch.missing)
    md = audio_tab.missing_markdown(ch)
    for ref in ch.missing:  # a codec whose checkpoint is not trained: named, with its command
        assert f"`{ref}`" in md
        if "not been trained" in ch.missing[ref]:
            assert "tokenworks.audio.train" in md


def test_samples_are_short_16k_mono_16bit():
    names = audio_tab.sample_names()
    assert {"espeak-en.wav", "flite-slt.wav", "espeak-de-heldout.wav"} <= set(names)
    for n in names:
        info = sf.info(str(audio_tab.SAMPLES_DIR / n))
        assert info.samplerate == 16000 and info.channels == 1 and info.subtype == "PCM_16"
        assert 1.0 < info.duration <= 4.0


# ---- a good clip -----------------------------------------------------------------------------

def test_a_good_clip_gives_every_view(good):
    view, base, status, original, slider, recon, wave_fig, numbers, toks, usage, rate, note, *players = good
    assert isinstance(view, audio_tab.AudioView) and base is None
    assert view.K == 4 and view.analysis.ids.shape[0] == 4
    T = view.analysis.num_frames
    assert T == math.ceil(view.analysis.clip.n_samples / 320)  # 50 frames/s
    assert "tiny-codec" in status and "4 codebooks" in status and "sample 'flite-slt.wav'" in status
    assert original[0] == SR and original[1].dtype == np.int16 and original[1].size == view.analysis.clip.n_samples
    assert recon[0] == SR and recon[1].size == original[1].size
    assert slider["maximum"] == 4 and slider["value"] == 4 and slider["visible"] is True
    assert "k = 4 of 4" in numbers and "bits/s" in numbers and "PESQ-WB" in numbers and "STOI" in numbers
    for fig in (wave_fig, toks, usage, rate):
        assert fig is not None and len(fig.data) >= 1
    assert toks.data[0].z.shape == (4, T)
    assert len(players) == audio_tab.MAX_PLAYERS
    shown = [p for p in players if p.get("visible")]
    assert len(shown) == 4 and all(p["value"][1].size == original[1].size for p in shown)
    assert "Compare with classical codecs" in note


def test_k_changes_the_reconstruction(good):
    view = good[0]
    r1, fig1, n1 = audio_tab.on_k(view, 1)
    r4, fig4, n4 = audio_tab.on_k(view, 4)
    assert r1[1].shape == r4[1].shape
    assert not np.array_equal(r1[1], r4[1])
    assert "k = 1 of 4" in n1 and "k = 4 of 4" in n4 and n1 != n4
    assert fig1.layout.title.text != fig4.layout.title.text
    lv = view.analysis.levels
    assert [x.bits_per_second for x in lv] == [250.0, 500.0, 750.0, 1000.0]  # 50 frames/s x 5 bits x k
    clamped = audio_tab.on_k(view, 99)  # out of range: clamped to K
    assert "k = 4 of 4" in clamped[2]
    bad = audio_tab.on_k(view, "lots")
    assert "must be a number" in bad[2]
    assert "tokenize a clip first" in audio_tab.on_k(None, 2)[2]


def test_mulaw_has_no_ladder_slider():
    out = audio_tab.on_analyze(None, "espeak-de-heldout.wav", "audio/mulaw8", "pesq", quiet=True)
    view, slider, players = out[0], out[4], out[12:]
    assert view.K == 1 and slider["visible"] is False
    assert sum(bool(p.get("visible")) for p in players) == 1
    lv = view.analysis.level(1)
    assert lv.bits_per_second == 128000 and lv.quality.stoi > 0.95
    toks = out[8]
    assert toks.data[0].z.shape == (1, audio_tab.MAX_TOKEN_FRAMES) and "first 4,000" in toks.layout.title.text


def test_the_rate_chart_and_the_baselines(good):
    view = good[0]
    fig, note = audio_tab.rate_figure(view, None, "mel_distance")
    assert [len(t.x) for t in fig.data] == [4]
    base = audio_tab.Baselines(points=[], skipped=["codec2-700C: needs c2enc"], seconds=0.1)
    from tokenworks.viz.audio import RatePoint

    base.points.append(RatePoint("opus", 6012.0, {"pesq": 1.5, "stoi": 0.8, "si_sdr": 3.0, "mel_distance": 0.6},
                                 "opus-6k"))
    fig, note = audio_tab.rate_figure(view, base, "pesq")
    assert len(fig.data) == 2 and "Skipped codec2-700C" in note
    with pytest.raises(InvalidInput):
        audio_tab.rate_figure(view, None, "loudness")


def test_baseline_runs_measure_rate_and_quality():
    clip = read_audio(audio_tab.SAMPLES_DIR / "flite-slt.wav")
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


# ---- bad input: a message, never an exception --------------------------------------------------

def _bad(upload, ref=RUN):
    out = audio_tab.on_analyze(upload, None, ref, "pesq", quiet=True)
    assert len(out) == audio_tab.N_OUTPUTS
    assert out[0] is None and out[2].startswith("⚠️")
    return out[2]


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    msg = _bad(str(p))
    assert "empty" in msg and "0 bytes" in msg and "WAV" in msg
    assert str(tmp_path) not in msg  # names the file, not the server's folder


def test_non_audio_file(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("this is text, not sound\n" * 20)
    msg = _bad(str(p))
    assert "not a readable audio file" in msg and "WAV, FLAC or OGG" in msg


def test_too_long_file_is_refused_with_the_limit(tmp_path):
    p = _wav(tmp_path / "long.wav", np.zeros(int((MAX_SECONDS + 5) * 8000), np.int16), 8000)
    msg = _bad(p)
    assert f"{MAX_SECONDS:g} s" in msg and "limit" in msg


def test_nan_samples(tmp_path):
    w = _tone(1.0)
    w[100:110] = np.nan
    msg = _bad(_wav(tmp_path / "nan.wav", w, SR, subtype="FLOAT"))
    assert "NaN" in msg and "finite" in msg


def test_no_input_and_unknown_names():
    assert "upload or record" in audio_tab.on_analyze(None, None, RUN, quiet=True)[2]
    assert "unknown sample" in audio_tab.on_analyze(None, "nope.wav", RUN, quiet=True)[2]
    msg = audio_tab.on_analyze(None, "flite-slt.wav", "text/bytes", quiet=True)[2]
    assert "text tokenizer" in msg
    msg = audio_tab.on_analyze(None, "flite-slt.wav", "", quiet=True)[2]
    assert "choose an audio tokenizer" in msg


def test_missing_checkpoint_says_how_to_train_it():
    ch = audio_tab.tokenizer_choices()
    if "audio/rvq-speech16k" not in ch.missing:
        pytest.skip("the shipped codec is trained here")
    msg = audio_tab.on_analyze(None, "flite-slt.wav", "audio/rvq-speech16k", quiet=True)[2]
    assert "not been trained" in msg and "tokenworks.audio.train" in msg


def test_silence_is_shown_with_a_note(tmp_path):
    out = audio_tab.on_analyze(_wav(tmp_path / "quiet.wav", np.zeros(SR, np.int16), SR), None, RUN, "pesq", quiet=True)
    view, status, numbers, rate, note = out[0], out[2], out[7], out[10], out[11]
    assert isinstance(view, audio_tab.AudioView)
    assert "silent" in status
    assert "n/a" in numbers  # SI-SDR, PESQ, STOI undefined
    assert rate is not None and "mel distance instead" in note


@pytest.mark.parametrize("rate,channels", [(8000, 1), (48000, 2)])
def test_other_rates_and_stereo_are_converted_and_said(tmp_path, rate, channels):
    w = _tone(1.5, rate)
    data = np.stack([w, _tone(1.5, rate, 330)], 1) if channels == 2 else w  # (N, C) or (N,)
    p = _wav(tmp_path / f"in{rate}.wav", data, rate)
    out = audio_tab.on_analyze(p, None, RUN, "pesq", quiet=True)
    view, status = out[0], out[2]
    assert isinstance(view, audio_tab.AudioView)
    assert view.analysis.clip.sample_rate == SR and view.analysis.clip.n_samples == int(1.5 * SR)
    assert f"resampled from {rate:,} Hz to 16,000 Hz" in status
    assert ("down-mixed 2 channels to mono" in status) == (channels == 2)
    assert out[3][1].size == int(1.5 * SR)


def test_flac_and_ogg_uploads(tmp_path):
    w = _tone(1.0)
    for ext, fmt in (("flac", "FLAC"), ("ogg", "OGG")):
        p = tmp_path / f"x.{ext}"
        sf.write(str(p), w, SR, format=fmt, **({"subtype": "VORBIS"} if fmt == "OGG" else {}))
        view = audio_tab.on_analyze(str(p), None, "audio/mulaw8", "pesq", quiet=True)[0]
        assert isinstance(view, audio_tab.AudioView) and view.analysis.clip.n_samples == SR


# ---- the library: inspect ----------------------------------------------------------------------

def test_short_clips_leave_pesq_and_stoi_out_with_a_reason():
    w = _tone(0.3)
    q = quality(w, w * 0.5)
    assert math.isnan(q.pesq) and math.isnan(q.stoi)
    assert "0.30 s" in q.notes["pesq"] and "0.5 s" in q.notes["stoi"]
    assert q.si_sdr > 50 and q.mel_distance > 0.2  # a scaled copy: SI-SDR ignores the scale, mel does not


def test_long_clips_are_scored_on_their_first_seconds(monkeypatch):
    import tokenworks.audio.inspect as ins

    monkeypatch.setattr(ins, "QUALITY_SECONDS", 1.0)
    a = analyze(tiny_codec(), (_tone(2.5), SR), ks=[1, 4])
    assert a.ks == [1, 4] and a.recons.shape == (2, int(2.5 * SR))
    assert a.quality_seconds == 1.0 and any("first 1 s" in n for n in a.notes)
    assert [p.label for p in a.rate_points()] == ["k=1", "k=4"] and all(p.ladder for p in a.rate_points())
    assert QUALITY_SECONDS == 20.0  # the tab's bound (monkeypatched only here)
