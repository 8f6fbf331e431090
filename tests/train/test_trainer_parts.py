"""The pieces beside the trainers' loops, one idea a file: image augmentation, evaluation budgets
and loss, the DDP agreement (single process), the codec's training crops and warm start."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tokenworks.image.augment import PERMUTATIONS, AugmentDraws, augment, draw_augment
from tokenworks.image.evaluate import BYTE_BUDGETS, budgets
from tokenworks.image.flex1d import bytes_for_tokens
from tokenworks.image.loss import LOSSES, reconstruction_loss
from tokenworks.train import distributed as D
from tokenworks.train.loop import StepContext


def _images(B=6, S=8, seed=0) -> torch.Tensor:
    return torch.rand(B, 3, S, S, generator=torch.Generator().manual_seed(seed)) * 2 - 1  # (B, 3, S, S)


# ---- image.augment ------------------------------------------------------------------------------


def test_augment_is_drawn_from_the_generator_and_keeps_the_pixels():
    x = _images()
    a = augment(x, 2, torch.Generator().manual_seed(5))
    b = augment(x, 2, torch.Generator().manual_seed(5))
    assert a.shape == x.shape and torch.equal(a, b)  # the same seed, the same views
    # no shift: each image is a flip and a channel order of itself, so its sorted values are unchanged
    d = draw_augment(6, 0, torch.Generator().manual_seed(1), torch.device("cpu"))
    assert d.shift is None and d.flip.shape == (6,) and d.perm.shape == (6,)
    y = augment(x, 0, torch.Generator(), d)
    assert torch.equal(y.flatten(1).sort(1).values, x.flatten(1).sort(1).values)
    for i in range(6):  # undo the flip and the permutation: the image itself
        z = y[i].flip(-1) if d.flip[i] else y[i]
        inv = torch.argsort(PERMUTATIONS[d.perm[i]])
        assert torch.equal(z[inv], x[i])


def test_augment_draws_sharded_over_ranks_match_one_process():
    x, W = _images(B=8), 4
    d = draw_augment(8, 3, torch.Generator().manual_seed(2), torch.device("cpu"))
    whole = augment(x, 3, torch.Generator(), d)  # one process, the global batch
    for r in range(W):
        part = augment(x[r::W], 3, torch.Generator(), d.shard(r, W))
        assert torch.equal(part, whole[r::W])
    assert isinstance(d.shard(0, W), AugmentDraws) and d.shard(0, W).shift.shape == (2, 2)


# ---- image.evaluate, image.loss ------------------------------------------------------------------


def test_budgets_are_the_most_tokens_each_byte_budget_holds():
    b = budgets(256, 1024)  # 10 bits a token
    assert b == {100: 80, 200: 160, 300: 240} and set(b) == set(BYTE_BUDGETS)
    for n, k in b.items():
        assert bytes_for_tokens(k, 1024) <= n < bytes_for_tokens(k + 1, 1024)
    assert budgets(100, 1024) == {100: 80}  # 200 and 300 bytes hold more tokens than T
    assert budgets(32, 1024) == {}


def test_reconstruction_loss_mse_log_mse_and_the_monotone_hinge():
    x = torch.zeros(2, 3, 4, 4)  # (B, 3, S, S)
    err = torch.tensor([0.1, 0.2, 0.3, 0.05]).view(4, 1, 1, 1)  # per-image errors of a (2B,) pair decode
    out = SimpleNamespace(recon=err.expand(4, 3, 4, 4), aux_loss=torch.tensor(0.5),
                          keep=torch.tensor([4, 2, 8, 1]))  # image 0: k 4 then 8; image 1: k 2 then 1
    mse = (err.flatten() ** 2)  # (2B,)
    loss, m = reconstruction_loss(out, x, "mse")
    assert m == pytest.approx(mse.mean()) and loss == pytest.approx(mse.mean() + 0.5)
    loss, _ = reconstruction_loss(out, x, "log_mse")
    log = (mse + 1e-4).log()
    assert loss == pytest.approx(log.mean() + 0.5)
    # the longer prefix: image 0's second decode (k 8, worse), image 1's first (k 2, worse than k 1)
    hinge = torch.relu(torch.stack([log[2] - log[0], log[1] - log[3]])).mean()
    loss_w, _ = reconstruction_loss(out, x, "log_mse", monotone_weight=5.0)
    assert hinge > 0 and loss_w == pytest.approx(log.mean() + 0.5 + 5.0 * hinge)
    single = SimpleNamespace(recon=err[:2].expand(2, 3, 4, 4), aux_loss=torch.tensor(0.0))
    assert reconstruction_loss(single, x, "mse", monotone_weight=5.0)[0] == pytest.approx(mse[:2].mean())
    assert LOSSES == ("mse", "log_mse")


# ---- train.distributed: fingerprint, Agreement (one process) ------------------------------------


def test_fingerprint_tells_weights_apart():
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    fa = D.fingerprint(a)
    assert fa.shape == (4,) and fa.dtype == torch.float64  # (2 * tensors,): weight and bias
    b.load_state_dict(a.state_dict())
    assert torch.equal(fa, D.fingerprint(b)) and D.same_on_all_ranks(fa)
    with torch.no_grad():
        b.bias += 1
    assert not torch.equal(fa, D.fingerprint(b))


def test_agreement_follows_the_stop_flag_and_the_budget():
    flag = threading.Event()
    ag = D.Agreement(flag, None, 0.0, True)
    assert ag.progress(StepContext(step=5, steps=10, progress=0.5)) == pytest.approx(0.5) and not ag()
    flag.set()
    ag.progress(StepContext(step=6, steps=10, progress=0.6))
    assert ag() and ag.reason == "stopped"
    budget = D.Agreement(None, 1.0, 60.0, True)  # a minute trained before: the budget is spent
    assert budget.progress(StepContext(step=1, steps=100, progress=0.01)) == 1.0 and budget() and budget.reason == "minutes"


# ---- audio: training crops, warm start --------------------------------------------------------------


def test_crop_batch_is_drawn_from_its_rng():
    from tokenworks.audio.train_data import crop_batch

    t = np.arange(16000, dtype=np.float32) / 16000
    waves = [np.sin(2 * np.pi * 220 * t) * 0.5, np.sin(2 * np.pi * 330 * t[:3000]) * 0.2]
    a = crop_batch(waves, 4000, 5, np.random.default_rng(3))
    b = crop_batch(waves, 4000, 5, np.random.default_rng(3))
    assert a.shape == (5, 4000) and a.dtype == np.float32 and np.array_equal(a, b)
    peaks = np.abs(a).max(1)
    assert ((peaks >= 0.3 - 1e-6) & (peaks <= 0.95 + 1e-6)).all()  # each crop scaled to a random peak


def test_codec_warm_start_fields_and_refusal(tmp_path):
    from tokenworks.audio.codec import Codec, CodecConfig
    from tokenworks.audio.codec_tokenizer import CodecTokenizer
    from tokenworks.audio.warm_start import WARM_START_FIELDS, load_warm_start
    from tokenworks.errors import InvalidInput

    cfg = CodecConfig(width=16, encoder_blocks=1, decoder_blocks=1, latent_dim=8, codebook_size=16, num_levels=2)
    folder = CodecTokenizer(Codec(cfg), name="audio/t").save(tmp_path / "ck")
    warm = load_warm_start(folder, {"quantizer_dropout": 0.9})
    got = warm.config
    assert got.quantizer_dropout == 0.9 and got.width == 16 and "quantizer_dropout" in WARM_START_FIELDS
    assert all(v.dtype == torch.float32 for v in warm.state.values() if v.is_floating_point())
    assert warm.state.keys() == Codec(got).state_dict().keys()
    with pytest.raises(InvalidInput, match="width cannot change"):
        load_warm_start(folder, {"width": 32})
