"""Audio tab handlers called as plain functions, with a tiny untrained codec saved as a run.

``audio_input`` reads and analyses once (the analysis stays in the session cache, the page's state
holds an ``AudioState``), ``audio_views`` formats, ``audio_tab`` answers the events with
``{component: value}`` dicts, read here by name (``AudioUI.named()``: the ladder's players are
ladder1..ladder8)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from app import audio_input, audio_tab, audio_views
from app.audio_input import AudioState, AudioView, view_of
from app.audio_tab import AudioUI
from app.session_cache import CACHE, SessionCache
from tokenworks.audio.io import MAX_SECONDS
from tokenworks.errors import InvalidInput

pytestmark = [pytest.mark.app, pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request

RUN = "run:audio/tiny-codec"
SR = 16000
UI = AudioUI.named()
ERROR_OUTPUTS = (set(AudioUI.ANALYZED) - {"k"}) | set(UI.ladder)  # what a failed analysis blanks


@pytest.fixture(scope="module", autouse=True)
def tiny_run(tmp_path_factory, tiny_codec):
    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOKENWORKS_RUNS", str(runs))
        tiny_codec().save(runs / "audio" / "tiny-codec")
        yield runs


@pytest.fixture(scope="module")
def good():
    """The tab's output for the flite sample through the tiny codec (analysed once)."""
    return audio_tab.on_analyze(UI, None, "flite-slt.wav", RUN, "pesq", quiet=True)


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
        info = sf.info(str(audio_input.SAMPLES_DIR / n))
        assert info.samplerate == 16000 and info.channels == 1 and info.subtype == "PCM_16"
        assert 1.0 < info.duration <= 4.0


# ---- a good clip -----------------------------------------------------------------------------

def test_a_good_clip_gives_every_view(good):
    assert set(good) == set(AudioUI.ANALYZED) | set(UI.ladder) and UI.ladder == [f"ladder{i}" for i in range(1, 9)]
    state, status, original, slider, recon = good["state"], good["status"], good["original"], good["k"], good["recon"]
    wave_fig, numbers, toks, usage = good["wave_plot"], good["numbers"], good["tokens_plot"], good["usage_plot"]
    rate, note, players = good["rate_plot"], good["rate_note"], [good[p] for p in UI.ladder]
    assert isinstance(state, AudioState) and state.num_codebooks == 4 and state.source == "sample 'flite-slt.wav'"
    view = view_of(state)
    assert isinstance(view, AudioView) and view.baselines is None and view.state == state
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
    assert len(players) == audio_views.MAX_PLAYERS
    shown = [p for p in players if p.get("visible")]
    assert len(shown) == 4 and all(p["value"][1].size == original[1].size for p in shown)
    assert "Compare with classical codecs" in note


def test_k_changes_the_reconstruction(good):
    state = good["state"]
    view = view_of(state)
    r1, fig1, n1 = audio_tab.on_k(state, 1)
    r4, fig4, n4 = audio_tab.on_k(state, 4)
    assert r1[1].shape == r4[1].shape
    assert not np.array_equal(r1[1], r4[1])
    assert "k = 1 of 4" in n1 and "k = 4 of 4" in n4 and n1 != n4
    assert fig1.layout.title.text != fig4.layout.title.text
    lv = view.analysis.levels
    assert [x.bits_per_second for x in lv] == [250.0, 500.0, 750.0, 1000.0]  # 50 frames/s x 5 bits x k
    clamped = audio_tab.on_k(state, 99)  # out of range: clamped to K
    assert "k = 4 of 4" in clamped[2]
    assert audio_tab.k_views(view, 2)[2] == audio_tab.on_k(state, 2)[2]
    bad = audio_tab.on_k(state, "lots")
    assert "must be a number" in bad[2]
    assert "tokenize a clip first" in audio_tab.on_k(None, 2)[2]


def test_mulaw_has_no_ladder_slider():
    out = audio_tab.on_analyze(UI, None, "espeak-de-heldout.wav", "audio/mulaw8", "pesq", quiet=True)
    view, slider, players = view_of(out["state"]), out["k"], [out[p] for p in UI.ladder]
    assert view.K == 1 and out["state"].num_codebooks == 1 and slider["visible"] is False
    assert sum(bool(p.get("visible")) for p in players) == 1
    lv = view.analysis.level(1)
    assert lv.bits_per_second == 128000 and lv.quality.stoi > 0.95
    toks = out["tokens_plot"]
    assert toks.data[0].z.shape == (1, audio_views.MAX_TOKEN_FRAMES) and "first 4,000" in toks.layout.title.text
    assert "no codebook ladder" in out["status"]


def test_the_rate_chart_and_the_baselines(good):
    view = view_of(good["state"])
    fig, note = audio_views.rate_figure(view, None, "mel_distance")
    assert [len(t.x) for t in fig.data] == [4]
    base = audio_views.Baselines(points=[], skipped=["codec2-700C: needs c2enc"], seconds=0.1)
    from tokenworks.viz.audio import RatePoint

    base.points.append(RatePoint("opus", 6012.0, {"pesq": 1.5, "stoi": 0.8, "si_sdr": 3.0, "mel_distance": 0.6},
                                 "opus-6k"))
    fig, note = audio_views.rate_figure(view, base, "pesq")
    assert len(fig.data) == 2 and "Skipped codec2-700C" in note
    with pytest.raises(InvalidInput):
        audio_views.rate_figure(view, None, "loudness")


# ---- bad input: a message, never an exception --------------------------------------------------

def _bad(upload, ref=RUN):
    out = audio_tab.on_analyze(UI, upload, None, ref, "pesq", quiet=True)
    assert set(out) == ERROR_OUTPUTS  # every view blanked, the slider left as it was
    assert out["state"] is None and out["status"].startswith("⚠️")
    assert out["recon"] is None and out["numbers"] == "" and all(out[p] == {"__type__": "update", "value": None}
                                                                  for p in UI.ladder)
    return out["status"]


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


def test_nan_samples(tmp_path, tone):
    w = tone(1.0)
    w[100:110] = np.nan
    msg = _bad(_wav(tmp_path / "nan.wav", w, SR, subtype="FLOAT"))
    assert "NaN" in msg and "finite" in msg


def test_no_input_and_unknown_names():
    assert "upload or record" in audio_tab.on_analyze(UI, None, None, RUN, quiet=True)["status"]
    assert "unknown sample" in audio_tab.on_analyze(UI, None, "nope.wav", RUN, quiet=True)["status"]
    msg = audio_tab.on_analyze(UI, None, "flite-slt.wav", "text/bytes", quiet=True)["status"]
    assert "text tokenizer" in msg
    msg = audio_tab.on_analyze(UI, None, "flite-slt.wav", "", quiet=True)["status"]
    assert "choose an audio tokenizer" in msg
    assert "'upload.wav' is gone; upload it again" in audio_tab.on_analyze(UI, "/no/such/upload.wav", None, RUN,
                                                                           quiet=True)["status"]


def test_missing_checkpoint_says_how_to_train_it():
    ch = audio_tab.tokenizer_choices()
    if "audio/rvq-speech16k" not in ch.missing:
        pytest.skip("the shipped codec is trained here")
    msg = audio_tab.on_analyze(UI, None, "flite-slt.wav", "audio/rvq-speech16k", quiet=True)["status"]
    assert "not been trained" in msg and "tokenworks.audio.train" in msg


def test_silence_is_shown_with_a_note(tmp_path):
    out = audio_tab.on_analyze(UI, _wav(tmp_path / "quiet.wav", np.zeros(SR, np.int16), SR), None, RUN, "pesq",
                               quiet=True)
    view, status, numbers, rate, note = view_of(out["state"]), out["status"], out["numbers"], out["rate_plot"], \
        out["rate_note"]
    assert isinstance(view, AudioView)
    assert "silent" in status
    assert "n/a" in numbers  # SI-SDR, PESQ, STOI undefined
    assert rate is not None and "mel distance instead" in note


@pytest.mark.parametrize("rate,channels", [(8000, 1), (48000, 2)])
def test_other_rates_and_stereo_are_converted_and_said(tmp_path, tone, rate, channels):
    w = tone(1.5, rate)
    data = np.stack([w, tone(1.5, rate, 330)], 1) if channels == 2 else w  # (N, C) or (N,)
    p = _wav(tmp_path / f"in{rate}.wav", data, rate)
    out = audio_tab.on_analyze(UI, p, None, RUN, "pesq", quiet=True)
    view, status = view_of(out["state"]), out["status"]
    assert isinstance(view, AudioView) and out["state"].source == f"upload 'in{rate}.wav'"
    assert view.analysis.clip.sample_rate == SR and view.analysis.clip.n_samples == int(1.5 * SR)
    assert f"resampled from {rate:,} Hz to 16,000 Hz" in status
    assert ("down-mixed 2 channels to mono" in status) == (channels == 2)
    assert out["original"][1].size == int(1.5 * SR)


def test_flac_and_ogg_uploads(tmp_path, tone):
    w = tone(1.0)
    for ext, fmt in (("flac", "FLAC"), ("ogg", "OGG")):
        p = tmp_path / f"x.{ext}"
        sf.write(str(p), w, SR, format=fmt, **({"subtype": "VORBIS"} if fmt == "OGG" else {}))
        view = view_of(audio_tab.on_analyze(UI, str(p), None, "audio/mulaw8", "pesq", quiet=True)["state"])
        assert isinstance(view, AudioView) and view.analysis.clip.n_samples == SR


# ---- the session cache, the codecs comparison, opening the tab, the export ----------------------

def _one_codec(seconds=0.25):
    from tokenworks.viz.audio import RatePoint

    opus = RatePoint("opus", 6012.0, {"pesq": 1.5, "stoi": 0.8, "si_sdr": 3.0, "mel_distance": 0.6}, "opus-6k")
    return audio_views.Baselines([opus], ["mp3: no lame"], seconds)


def test_the_codecs_compared_stay_with_the_clips_analysis(monkeypatch):
    calls = []
    monkeypatch.setattr(audio_tab, "compare", lambda view: calls.append(view) or _one_codec())
    state = audio_tab.on_analyze(UI, None, "flite-slt.wav", RUN, "pesq", quiet=True)["state"]
    assert len(audio_tab.on_metric(state, "stoi")[0].data) == 1  # the ladder only, before a comparison
    fig, note = audio_tab.on_compare(state, "pesq")
    assert len(calls) == 1 and calls[0].state == state
    assert len(fig.data) == 2 and "Classical codecs: 1 run in 0.2 s" in note and "Skipped mp3: no lame" in note
    assert isinstance(view_of(state).baselines, audio_views.Baselines)  # in the cache, not in the page's state
    fig, note = audio_tab.on_metric(state, "stoi")  # another metric: the same codecs, no new comparison
    assert len(fig.data) == 2 and "STOI" in fig.layout.title.text and len(calls) == 1
    assert audio_tab.on_metric(None, "stoi") == ({"__type__": "update"}, "")
    assert "tokenize a clip first" in audio_tab.on_compare(None, "pesq")[1]
    again = audio_tab.on_analyze(UI, None, "espeak-en.wav", RUN, "pesq", state=state, quiet=True)
    assert CACHE.get(state.key) is None  # the new clip replaced the old one's entry
    assert view_of(again["state"]).baselines is None and len(again["rate_plot"].data) == 1
    assert "Press **Compare with classical codecs**" in again["rate_note"]


def test_opening_the_tab_analyses_the_sample_once(good):
    assert audio_tab.on_open(UI, good["state"], None, "flite-slt.wav", RUN, "pesq") == {}  # a view exists
    assert audio_tab.on_open(UI, None, None, "flite-slt.wav", None, "pesq") == {}  # no tokenizer loads here
    out = audio_tab.on_open(UI, None, None, "flite-slt.wav", RUN, "stoi")
    assert set(out) == set(AudioUI.ANALYZED) | set(UI.ladder) and out["state"].source == "sample 'flite-slt.wav'"
    assert "STOI" in out["rate_plot"].layout.title.text
    assert UI.analyzed() == list(AudioUI.ANALYZED) + UI.ladder


def test_the_export_has_the_tokens_and_every_reconstruction(good):
    items = audio_tab.export_tokens_and_audio(good["state"])
    tokens = items.jsons["tokens"]
    a = view_of(good["state"]).analysis
    assert tokens["ref"] == RUN and tokens["source"] == "sample 'flite-slt.wav'"
    assert tokens["shape"] == [4, a.num_frames]
    assert tokens["ids"] == a.ids.tolist() and tokens["vocab_size"] == 32 and tokens["frame_rate"] == 50
    assert list(items.sounds) == ["input 16k mono", "decoded k=1", "decoded k=2", "decoded k=3", "decoded k=4"]
    assert all(s.sample_rate == SR for s in items.sounds.values())
    assert audio_tab.export_tokens_and_audio(None).notes == ["tokens: no clip tokenized yet"]


def test_an_evicted_clip_is_analysed_again_and_a_gone_upload_says_so(monkeypatch, tmp_path, tone):
    import tokenworks.audio.inspect as ins

    monkeypatch.setattr(audio_input, "CACHE", SessionCache(max_entries=1))
    p = _wav(tmp_path / "mine.wav", tone(1.0), SR)
    state = audio_tab.on_analyze(UI, p, None, RUN, "pesq", quiet=True)["state"]
    assert state.path == p and state.source == "upload 'mine.wav'"
    audio_input.analyze_input(None, "flite-slt.wav", RUN)  # the only entry now: the upload's analysis is let go
    assert audio_input.CACHE.get(state.key) is None
    calls = []
    original = ins.analyze
    monkeypatch.setattr(ins, "analyze", lambda *a, **k: calls.append(a) or original(*a, **k))
    recon, _, numbers = audio_tab.on_k(state, 2)  # read again from the file the state names
    assert len(calls) == 1 and numbers.startswith("**k = 2 of 4**") and recon[1].size == SR
    audio_input.analyze_input(None, "flite-slt.wav", RUN)
    (tmp_path / "mine.wav").unlink()  # Gradio's cache cleaner deleted the upload
    msg = audio_tab.on_k(state, 3)[2]
    assert "'mine.wav' is gone; upload it again" in msg and str(tmp_path) not in msg
    assert "upload it again" in audio_tab.on_compare(state, "pesq")[1]


def test_an_evicted_clip_is_analysed_again_only_once(monkeypatch):
    import tokenworks.audio.inspect as ins

    monkeypatch.setattr(audio_input, "CACHE", SessionCache(max_entries=1))
    monkeypatch.setattr(audio_tab, "compare", lambda view: _one_codec())
    state = audio_input.analyze_input(None, "flite-slt.wav", RUN).state
    audio_input.analyze_input(None, "espeak-en.wav", RUN)  # the flite clip's analysis is let go
    calls = []
    original = ins.analyze
    monkeypatch.setattr(ins, "analyze", lambda *a, **k: calls.append(a) or original(*a, **k))
    audio_tab.on_compare(state, "pesq")
    fig, _ = audio_tab.on_metric(state, "stoi")
    audio_tab.on_k(state, 2)
    assert len(calls) == 1 and len(fig.data) == 2  # analysed once, and the codecs compared are kept
