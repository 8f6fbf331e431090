"""The offline audio corpus: a tiny build with every generator, and the held-out rules."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest

from tokenworks.errors import AssetMissing, InvalidInput

data = pytest.importorskip("tokenworks.audio.data")
from tokenworks.audio import _synth_speech as speech  # noqa: E402

DEBIAN = {"espeak-ng": "espeak-ng", "flite": "flite", "fluidsynth": "fluidsynth"}


def need(*tools: str) -> None:
    """Skip (fail on CI, where `make audio-deps` installs them) when a Debian tool is missing."""
    for tool in tools:
        if shutil.which(tool) is None:
            msg = f"'{tool}' is not installed (Debian package {DEBIAN[tool]}; `make audio-deps` as root)"
            if os.environ.get("CI"):
                pytest.fail(msg)
            pytest.skip(msg)


def need_udhr() -> None:
    try:
        speech.sentences("eng", "train")
    except AssetMissing as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"the UDHR asset is missing: {e}")


def _variant(voice: str) -> str:
    return voice.split("+", 1)[1] if "+" in voice else voice


def test_heldout_sentences_never_occur_in_training():
    need_udhr()
    for code in sorted(set(speech.ESPEAK_LANGUAGES.values())):
        train, held = set(speech.sentences(code, "train")), set(speech.sentences(code, "heldout"))
        assert train and held, code
        assert not train & held, f"{code}: {sorted(train & held)[:2]}"
    train_jobs = speech.plan_speech(400, "train", seed=0)
    held_jobs = speech.plan_speech(120, "heldout", seed=0)
    assert not {j.text for j in train_jobs} & {j.text for j in held_jobs}


def test_heldout_uses_voices_training_never_hears():
    need_udhr()
    train_jobs = speech.plan_speech(400, "train", seed=3)
    held_jobs = speech.plan_speech(120, "heldout", seed=3)
    train_voices = {(j.engine, _variant(j.voice)) for j in train_jobs}
    unseen = [j for j in held_jobs if j.unseen_voice]
    assert {j.engine for j in unseen} == {"espeak", "flite"}  # both engines have unseen voices
    for j in unseen:
        assert (j.engine, _variant(j.voice)) not in train_voices
    assert any(not j.unseen_voice for j in held_jobs)  # and seen voices, to tell the effects apart
    assert {_variant(j.voice) for j in train_jobs if j.engine == "flite"} <= set(speech.FLITE_TRAIN_VOICES)
    assert not set(speech.HELDOUT_VARIANTS) & set(speech.TRAIN_VARIANTS)


def test_wide_voices_change_training_clips_only():
    need_udhr()
    # the held-out split (and so every benchmark on it) is the same whichever training voices are used
    assert speech.plan_speech(120, "heldout", seed=0, voices="wide") == speech.plan_speech(120, "heldout", seed=0)
    wide = speech.plan_speech(600, "train", seed=0, voices="wide")
    variants = {_variant(j.voice) for j in wide if j.engine == "espeak"}
    assert len(variants) > 3 * len(speech.TRAIN_VARIANTS)  # many more speakers than the classic 10
    assert variants <= set(speech.WIDE_TRAIN_VARIANTS)
    assert not set(speech.WIDE_TRAIN_VARIANTS) & set(speech.HELDOUT_VARIANTS)  # unseen voices stay unseen
    assert set(speech.TRAIN_VARIANTS) <= set(speech.WIDE_TRAIN_VARIANTS)  # seen held-out voices stay seen
    pitches = [j.pitch for j in wide if j.engine == "espeak"]
    assert min(pitches) < 25 and max(pitches) >= 75  # beyond the classic 25-74 range
    with pytest.raises(InvalidInput, match="voices must be one of classic, wide"):
        speech.plan_speech(2, voices="many")
    # the classic corpus keeps the cache key it had before the field existed; wide is another corpus
    import hashlib

    classic = data.CorpusConfig(minutes=3.0)
    before = {k: v for k, v in dataclasses.asdict(classic).items() if k != "voices"}  # the config as it was
    blob = json.dumps({"v": data.CORPUS_VERSION, "config": before, "tools": {}, "samples": False},
                      sort_keys=True, default=list)
    assert data._key(classic, {}, False) == hashlib.sha256(blob.encode()).hexdigest()[:12]
    assert data._key(classic, {}, False) != data._key(dataclasses.replace(classic, voices="wide"), {}, False)


def test_plans_are_deterministic_and_validated():
    need_udhr()
    assert speech.plan_speech(20, "train", 5) == speech.plan_speech(20, "train", 5)
    assert speech.plan_speech(20, "train", 5) != speech.plan_speech(20, "train", 6)
    with pytest.raises(InvalidInput, match="split must be one of train, heldout"):
        speech.plan_speech(2, "test")
    with pytest.raises(InvalidInput, match="no espeak-ng language 'xx'; choose from"):
        speech.plan_speech(2, languages=("xx",))


def _check_clip(c, source: str) -> None:
    assert c.source == source and c.sample_rate == 16000
    assert c.wave.dtype == np.float32 and c.wave.ndim == 1
    assert 0.3 < c.seconds < 30 and np.abs(c.wave).max() <= 1.0
    assert np.abs(c.wave).max() > 0.01  # not silent


def test_espeak_in_two_languages():
    need("espeak-ng")
    need_udhr()
    clips = data.synth_speech(4, "train", seed=0, languages=("en-us", "de"), engines=("espeak",))
    assert len(clips) == 4
    assert {c.language for c in clips} == {"en-us", "de"}
    for c in clips:
        _check_clip(c, "espeak")
        assert c.text and c.split == "train" and not c.unseen_voice
        assert _variant(c.voice) in speech.TRAIN_VARIANTS


def test_flite_seen_and_unseen_voice():
    need("flite")
    need_udhr()
    clips = data.synth_speech(2, "heldout", seed=0, engines=("flite",))
    assert [c.unseen_voice for c in clips] == [False, True]
    assert clips[0].voice in speech.FLITE_TRAIN_VOICES and clips[1].voice == "kal16"
    for c in clips:
        _check_clip(c, "flite")
        assert c.language == "en-us" and c.text in speech.sentences("eng", "heldout")


def test_one_music_clip():
    need("fluidsynth")
    pytest.importorskip("music21")
    try:
        clips = data.music_clips(1, seed=0)
    except FileNotFoundError as e:  # the sound font (Debian timgm6mb-soundfont)
        if os.environ.get("CI"):
            raise
        pytest.skip(str(e))
    assert len(clips) == 1
    c = clips[0]
    _check_clip(c, "music")
    assert c.text is None and abs(c.seconds - data.MUSIC_CLIP_SECONDS) < 0.01
    assert np.abs(c.wave).max() <= 0.9 + 1e-6  # headroom kept


def test_a_tiny_corpus_is_built_once_and_reused(tmp_path, monkeypatch):
    need("espeak-ng", "flite", "fluidsynth")
    need_udhr()
    pytest.importorskip("music21")
    for code in {speech.ESPEAK_LANGUAGES[lang] for lang in ("en-us", "fr-fr")}:
        for split in ("train", "heldout"):
            speech.sentences(code, split)  # read (and kept) before the cache below hides the assets
    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path / "cache"))  # also hides the optional assets
    cfg = data.CorpusConfig(minutes=0.4, seed=1, languages=("en-us", "fr-fr"), music_share=0.1,
                            sample_share=0.0, include_real=False)
    corpus = data.build_corpus(config=cfg)
    assert not corpus.reused and corpus.folder.parent == tmp_path / "cache" / "audio"
    manifest = json.loads((corpus.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["minutes"] == 0.4 and manifest["clips"] == corpus.entries
    summary = corpus.summary()
    assert set(summary) == {"train", "heldout"}
    assert "espeak" in summary["train"] and "music" in summary["train"]
    for e in corpus.entries:
        assert (corpus.folder / e["file"]).is_file()
    clips = list(corpus.clips(split="heldout"))
    assert clips and all(c.split == "heldout" and c.sample_rate == 16000 for c in clips)
    again = data.build_corpus(config=cfg)
    assert again.reused and again.folder == corpus.folder and again.entries == corpus.entries
    other = data.corpus_folder(data.CorpusConfig(minutes=0.4, seed=2, languages=("en-us", "fr-fr"),
                                                 music_share=0.1, sample_share=0.0, include_real=False))
    assert other != corpus.folder  # a config change is a different corpus
    with pytest.raises(InvalidInput, match="split must be one of train, heldout, real"):
        corpus.select(split="test")


def test_real_speech_from_the_assets():
    clips = data.real_speech()
    if not clips:
        pytest.skip("real speech assets not fetched (tokenworks assets fetch arctic-a0007 arctic-a0009 alsa-sounds)")
    for c in clips:
        assert c.split == "real" and c.sample_rate == 16000 and c.wave.ndim == 1
    by = {c.name: c for c in clips}
    if "arctic-a0009" in by:
        assert by["arctic-a0009"].text.startswith("He turned sharply") and 3.0 < by["arctic-a0009"].seconds < 3.2
    if "alsa-Front_Left" in by:
        assert by["alsa-Front_Left"].text == "front left" and by["alsa-Noise"].text is None


def test_sonic_pi_samples():
    try:
        clips = data.sample_clips()
    except AssetMissing as e:
        pytest.skip(f"sonic-pi-samples not fetched: {e}")
    assert len(clips) > 100
    assert {c.split for c in clips} == {"train", "heldout"}
    assert all(c.seconds <= data.SAMPLE_CLIP_SECONDS + 1e-6 and c.source == "sample" for c in clips)
