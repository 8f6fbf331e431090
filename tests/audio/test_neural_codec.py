"""The neural speech codec: model shapes, the tokenizer contract, save/load, training smoke run."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tokenworks.audio.codec import Codec, CodecConfig
from tokenworks.audio.codec_loss import CodecLoss, LossConfig
from tokenworks.audio.codec_tokenizer import CodecTokenizer
from tokenworks.errors import InvalidIds, InvalidInput

TINY = dict(width=32, encoder_blocks=1, decoder_blocks=2, latent_dim=16, codebook_size=32, num_levels=4)


def _tone(seconds: float = 0.5, sr: int = 16000, f: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * f * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.fixture(scope="module")
def tok() -> CodecTokenizer:
    torch.manual_seed(0)
    model = Codec(CodecConfig(**TINY))
    model.train()
    with torch.no_grad():  # one training pass initialises every level's codebook (k-means)
        model(torch.from_numpy(np.stack([_tone(0.5, f=f) for f in (110, 220, 440, 880)])), keep=4)
    return CodecTokenizer(model.eval(), name="audio/test-codec")


def test_config_bitrates():
    c = CodecConfig()
    assert c.tokens_per_second == 50
    assert c.bitrate() == 4000 and c.bitrate(3) == 1500 and c.bitrate(1) == 500
    single = CodecConfig(num_levels=1, codebook_size=4096, hop=200, n_fft=800)
    assert single.tokens_per_second == 40 and single.bitrate() == 480


def test_model_shapes_and_padding():
    m = Codec(CodecConfig(**TINY)).eval()
    x = torch.randn(2, 5000) * 0.1  # not a whole number of tokens (320 samples each)
    out = m(x)
    assert out.recon.shape == (2, 5000)
    assert out.codes.shape == (2, math.ceil(5000 / 320), 4)
    codes = m.encode(x)
    assert m.decode(codes, keep=2).shape == (2, math.ceil(5000 / 320) * 320)
    with pytest.raises(InvalidInput):
        m(torch.randn(5000))


def test_loss_is_zero_for_a_perfect_copy_and_grows_with_error():
    loss = CodecLoss(LossConfig())
    x = torch.from_numpy(np.stack([_tone(0.5), _tone(0.5, f=330)]))
    same = loss(x, x)
    assert float(same.total) < 1e-4
    noisy = loss(x + 0.05 * torch.randn_like(x), x)
    worse = loss(x + 0.2 * torch.randn_like(x), x)
    assert float(noisy.total) > 0.01 and float(worse.total) > float(noisy.total)


def test_encode_contract(tok):
    wave = _tone(0.7)
    seq = tok.encode((wave, 16000))
    T = math.ceil(len(wave) / 320)
    assert seq.ids.shape == (4, T) and seq.modality == "audio"
    assert len(seq.spans) == T and seq.spans[0].start == 0 and seq.spans[-1].end == len(wave)
    assert all(a.end == b.start for a, b in zip(seq.spans[:-1], seq.spans[1:]))
    assert seq.meta["bits_per_second"] == tok.bitrate() and not seq.lossless
    y, sr = tok.decode(seq)
    assert sr == 16000 and y.shape == wave.shape and y.dtype == np.float32
    ladder = tok.decode_ladder(seq)
    assert ladder.shape == (4, len(wave))
    for k in (1, 2, 4):  # the batched ladder equals decoding each k alone
        np.testing.assert_allclose(ladder[k - 1], tok.decode(seq, keep=k)[0], atol=1e-4)


def test_encode_resamples_and_downmixes(tok):
    stereo = np.stack([_tone(0.5, 48000), _tone(0.5, 48000, 330)], axis=1)  # (N, 2) at 48 kHz
    seq = tok.encode((stereo, 48000))
    assert seq.meta["samples"] == 8000 and seq.meta["resampled_from"] == 48000
    assert seq.meta["original_channels"] == 2 and seq.meta["downmixed"]


def test_bad_ids_and_keep(tok):
    seq = tok.encode((_tone(0.3), 16000))
    with pytest.raises(InvalidIds, match="keep"):
        tok.decode(seq, keep=5)
    with pytest.raises(InvalidIds, match="keep"):
        tok.decode(seq, keep=0)
    bad = seq.ids.copy()
    bad[1, 2] = 32
    with pytest.raises(InvalidIds, match="0..31"):
        tok.decode(bad)
    with pytest.raises(InvalidIds, match="shape"):
        tok.decode(np.zeros((5, 3), np.int64))
    with pytest.raises(InvalidInput):
        tok.encode("not a waveform tuple or a file that exists.wav")


def test_save_load_exact(tok, tmp_path):
    folder = tok.save(tmp_path / "codec", metrics={"note": "test"})
    back = CodecTokenizer.from_checkpoint(__import__("tokenworks.checkpoint", fromlist=["x"]).load_checkpoint(folder, allow_outside=True))
    wave = _tone(0.4, f=300)
    a, b = tok.encode((wave, 16000)), back.encode((wave, 16000))
    assert np.array_equal(a.ids, b.ids)
    np.testing.assert_allclose(tok.decode(a)[0], back.decode(b)[0], atol=1e-5)
    assert back.metrics == {"note": "test"}


def test_render_token(tok):
    y, sr = tok.render_token(3, level=1, seconds=0.2)
    assert sr == 16000 and y.shape == (10 * 320,)
    with pytest.raises(InvalidIds):
        tok.render_token(32)


@pytest.mark.slow
def test_training_smoke_run_lowers_the_loss(tmp_path):
    from tokenworks.audio.train import train_codec
    from tokenworks.audio.train_config import preset_config
    from tokenworks.audio.io import write_wav

    rng = np.random.default_rng(0)
    train_dir, eval_dir = tmp_path / "train", tmp_path / "eval"
    for i in range(6):  # tones with vibrato and a little noise: something a tiny codec can learn
        f = 150 + 60 * i
        w = _tone(1.5, f=f) + 0.01 * rng.standard_normal(24000).astype(np.float32)
        write_wav((train_dir if i < 4 else eval_dir) / f"c{i}.wav", w, 16000)
    cfg = preset_config("cpu-tiny", "rvq", out=str(tmp_path / "ckpt"), wav_dir=str(train_dir),
                        eval_dir=str(eval_dir), steps=40, log_every=10)
    res = train_codec(cfg)
    assert res.steps == 40
    first, last = res.history[0]["loss"], res.history[-1]["loss"]
    assert last < first
    m = res.metrics
    assert set(m["per_k"]) == {str(k) for k in range(1, cfg.model_config["num_levels"] + 1)}
    assert len(m["codebook_usage"]) == cfg.model_config["num_levels"]
    assert (res.folder / "config.json").is_file()
