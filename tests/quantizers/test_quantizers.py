"""Quantizers: the shared interface, each quantizer's own promise, and codebook health."""
from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from tokenworks.errors import InvalidInput
from tokenworks.quantizers import (
    FSQ,
    GLFQ,
    LFQ,
    RVQ,
    VQ,
    CodebookHealth,
    FSQConfig,
    GLFQConfig,
    LFQConfig,
    RVQConfig,
    VQConfig,
    make_quantizer,
    measure,
)

torch.set_num_threads(1)

# name -> (constructor, input dim D); small sizes so the whole file runs in seconds
MAKERS = {
    "vq": (lambda: VQ(VQConfig(dim=8, codebook_size=32)), 8),
    "vq-learned": (lambda: VQ(VQConfig(dim=8, codebook_size=32, ema=False)), 8),
    "vq-cosine": (lambda: VQ(VQConfig(dim=8, codebook_size=32, cosine=True)), 8),
    "vq-factorised": (lambda: VQ(VQConfig(dim=8, codebook_size=32, code_dim=4, cosine=True)), 8),
    "rvq": (lambda: RVQ(RVQConfig(dim=8, codebook_size=16, num_levels=3)), 8),
    "fsq": (lambda: FSQ(FSQConfig(levels=(8, 5, 5, 5))), 4),
    "fsq-projected": (lambda: FSQ(FSQConfig(levels=(4, 3, 3), dim=8)), 8),
    "lfq": (lambda: LFQ(LFQConfig(bits=6)), 6),
    "lfq-projected": (lambda: LFQ(LFQConfig(bits=5, dim=8)), 8),
    "glfq": (lambda: GLFQ(GLFQConfig(groups=3, bits_per_group=4)), 12),
}


def _make(name: str, seed: int = 0):
    torch.manual_seed(seed)
    maker, dim = MAKERS[name]
    return maker(), dim


def _warm(q, dim: int, steps: int = 3) -> torch.Tensor:
    """A few training forwards (k-means init, EMA), then eval mode; returns a fresh input."""
    q.train()
    for _ in range(steps):
        q(torch.randn(2, 64, dim) * 2)
    q.eval()
    return torch.randn(2, 40, dim) * 2  # (B, N, D)


def _mixture(n: int, d: int, k: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g) * 3  # (k, d)
    idx = torch.randint(0, k, (n,), generator=g)
    return centres[idx] + 0.5 * torch.randn(n, d, generator=g)  # (n, d)


# -- the shared interface ----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_shapes_codes_in_range_and_decode_matches(name):
    q, dim = _make(name)
    z = _warm(q, dim)
    out = q(z)
    assert out.quantized.shape == z.shape
    K = q.num_codebooks
    assert out.codes.shape == ((2, 40) if K == 1 else (2, 40, K))
    assert out.codes.dtype == torch.int64
    assert int(out.codes.min()) >= 0 and int(out.codes.max()) < q.codebook_size
    assert out.loss.dim() == 0 and torch.isfinite(out.loss)
    assert all(isinstance(v, float) for v in out.stats.values())
    torch.testing.assert_close(q.decode_codes(out.codes), out.quantized, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_gradients_flow_straight_through(name):
    q, dim = _make(name)
    q.train()
    z = (torch.randn(2, 64, dim) * 2).requires_grad_()
    out = q(z)
    w = torch.randn_like(out.quantized)
    (out.quantized * w).sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    if name in ("vq", "vq-learned", "rvq", "lfq", "glfq"):
        torch.testing.assert_close(z.grad, w)  # identity straight-through: d quantized / d z = I


def test_fsq_gradient_is_the_tanh_bound():
    q, _ = _make("fsq")
    z = torch.zeros(1, 1, 4, requires_grad=True)
    q(z).quantized.sum().backward()
    assert (z.grad > 0).all()  # rounding passes gradients; only the tanh bound shapes them


def test_learned_codebook_gets_gradients():
    q, dim = _make("vq-learned")
    q.train()
    q(torch.randn(2, 64, dim)).loss.backward()
    assert q.embed.grad is not None and q.embed.grad.abs().sum() > 0


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_safetensors_round_trip_gives_identical_codes(name, tmp_path):
    q, dim = _make(name, seed=0)
    z = _warm(q, dim)
    path = tmp_path / "q.safetensors"
    save_file({k: v.contiguous() for k, v in q.state_dict().items()}, str(path))
    q2, _ = _make(name, seed=123)  # different random init
    q2.load_state_dict(load_file(str(path)))
    q2.eval()
    a, b = q(z), q2(z)
    assert torch.equal(a.codes, b.codes)
    torch.testing.assert_close(a.quantized, b.quantized)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_codebook_table(name):
    q, dim = _make(name)
    _warm(q, dim)
    cb = q.codebook()
    width = q.bits if isinstance(q, GLFQ) else dim
    assert cb.shape == (q.codebook_size, width)
    if not isinstance(q, (GLFQ, RVQ)):
        ids = torch.arange(q.codebook_size)
        torch.testing.assert_close(q.decode_codes(ids), cb)


def test_bad_input_and_codes_say_what_is_allowed():
    q, _ = _make("vq")
    with pytest.raises(InvalidInput, match=r"\(B, N, D=8\)"):
        q(torch.randn(4, 8))
    with pytest.raises(InvalidInput, match=r"\[0, 32\)"):
        q.decode_codes(torch.tensor([[32]]))
    with pytest.raises(InvalidInput, match="between 1 and 3"):
        _make("rvq")[0](torch.randn(1, 4, 8), keep=4)


def test_make_quantizer_builds_every_kind_and_names_valid_ones():
    sizes = {
        "vq": dict(dim=8, codebook_size=16),
        "rvq": dict(dim=8, codebook_size=16, num_levels=2),
        "fsq": dict(levels=(3, 3), dim=8),
        "lfq": dict(bits=4, dim=8),
        "glfq": dict(groups=2, bits_per_group=2, dim=8),
    }
    for kind, cfg in sizes.items():
        q = make_quantizer(kind, **cfg)
        assert q(torch.randn(1, 5, 8)).quantized.shape == (1, 5, 8)
    with pytest.raises(InvalidInput) as err:
        make_quantizer("pq")
    for kind in ("vq", "rvq", "fsq", "lfq", "glfq"):
        assert repr(kind) in str(err.value)
    with pytest.raises(InvalidInput, match="codebook_size"):
        make_quantizer("vq", size=3)


# -- VQ ----------------------------------------------------------------------------------------
def _mse(q, x: torch.Tensor) -> float:
    q.eval()
    with torch.no_grad():
        return float((q(x).quantized - x).pow(2).mean())


def test_vq_ema_moves_codes_toward_the_data():
    torch.manual_seed(0)
    x = (_mixture(2048, 4) + 6.0).view(1, -1, 4)  # data far from the N(0, 1) initial codes
    q = VQ(VQConfig(dim=4, codebook_size=16, kmeans_init=False, dead_code_steps=0))
    before, cb0 = _mse(q, x), q.codebook()
    q.train()
    for _ in range(30):
        q(x)
    assert not torch.equal(q.codebook(), cb0)
    assert list(q.parameters()) == []  # the EMA codebook is state, not a parameter
    assert _mse(q, x) < 0.25 * before


def test_kmeans_init_beats_random_init():
    x = _mixture(2048, 4).view(1, -1, 4)
    errs = {}
    for kmeans in (True, False):
        torch.manual_seed(0)
        q = VQ(VQConfig(dim=4, codebook_size=32, kmeans_init=kmeans, dead_code_steps=0))
        q.train()
        q(x)  # one training step: k-means (or not) and one EMA update
        errs[kmeans] = _mse(q, x)
    assert errs[True] < 0.5 * errs[False]


@pytest.mark.parametrize("ema", [True, False])
def test_dead_code_restart_revives_a_collapsed_codebook(ema):
    data = _mixture(4096, 4)
    V = 64

    def usage_after_fit(dead_code_steps: int) -> tuple[float, float]:
        torch.manual_seed(0)
        q = VQ(VQConfig(dim=4, codebook_size=V, kmeans_init=False, ema=ema, dead_code_steps=dead_code_steps))
        with torch.no_grad():  # collapse: 4 codes in the data, 60 far away where nothing reaches
            q.embed[:4] = data[:4]
            q.embed[4:] = 100.0
            if ema:
                q.ema_sum.copy_(q.embed * q.ema_count[:, None])
        opt = torch.optim.SGD(q.parameters(), lr=0.5) if not ema else None
        start = measure(q, [data.view(1, -1, 4)]).usage
        q.train()
        for _ in range(40):
            out = q(data[torch.randint(0, len(data), (512,))].view(1, -1, 4))
            if opt:
                opt.zero_grad()
                out.loss.backward()
                opt.step()
        return start, measure(q, [data.view(1, -1, 4)]).usage

    start, without = usage_after_fit(0)
    assert start <= 4 / V and without <= 4 / V
    _, revived = usage_after_fit(5)
    assert revived >= 0.9


def test_vq_training_mode_state_is_saved_and_measure_leaves_it_alone():
    q, dim = _make("vq")
    q.train()
    q(torch.randn(1, 64, dim))
    keys = set(q.state_dict())
    assert {"embed", "ema_count", "ema_sum", "initialised", "unused_steps"} <= keys
    before = {k: v.clone() for k, v in q.state_dict().items()}
    measure(q, [torch.randn(1, 64, dim) for _ in range(3)])
    assert q.training  # restored
    assert all(torch.equal(before[k], v) for k, v in q.state_dict().items())


# -- RVQ ---------------------------------------------------------------------------------------
def test_rvq_error_falls_as_levels_are_kept():
    torch.manual_seed(0)
    data = torch.randn(4096, 8)
    q = RVQ(RVQConfig(dim=8, codebook_size=32, num_levels=4))
    q.train()
    for _ in range(20):
        q(data[torch.randint(0, 4096, (1024,))].view(1, -1, 8))
    q.eval()
    x = data.view(1, -1, 8)
    errs = []
    for k in range(1, 5):
        out = q(x, keep=k)
        assert out.codes.shape == (1, 4096, k)
        torch.testing.assert_close(q.decode_codes(out.codes), out.quantized, atol=1e-5, rtol=1e-5)
        errs.append(float((out.quantized - x).pow(2).mean()))
    assert all(b <= a for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < 0.5 * errs[0]
    full = q(x).codes  # decode with keep= uses the first k levels of full codes
    torch.testing.assert_close(q.decode_codes(full, keep=2), q(x, keep=2).quantized, atol=1e-5, rtol=1e-5)


def test_rvq_quantizer_dropout_samples_the_number_of_levels():
    torch.manual_seed(0)
    q = RVQ(RVQConfig(dim=8, codebook_size=8, num_levels=4, dropout=1.0))
    q.train()
    seen = {q(torch.randn(1, 32, 8)).codes.shape[-1] for _ in range(40)}
    assert seen == {1, 2, 3, 4}
    q.eval()
    assert q(torch.randn(1, 32, 8)).codes.shape[-1] == 4  # no dropout outside training


# -- FSQ ---------------------------------------------------------------------------------------
def test_fsq_codebook_enumerates_distinct_vectors_and_mixed_radix_round_trips():
    q = FSQ(FSQConfig(levels=(8, 5, 5, 5)))
    assert q.codebook_size == 1000
    cb = q.codebook()
    assert cb.shape == (1000, 4) and torch.unique(cb, dim=0).shape[0] == 1000
    assert cb.min() >= -1 and cb.max() <= 1
    ids = torch.arange(1000)
    digits = q.codes_to_digits(ids)  # (V, 4)
    assert torch.equal(q.digits_to_codes(digits), ids)
    assert torch.equal(digits.max(0).values, torch.tensor([7, 4, 4, 4]))
    assert torch.equal(digits[1], torch.tensor([1, 0, 0, 0]))  # first level varies fastest
    assert torch.equal(digits[8], torch.tensor([0, 1, 0, 0]))
    # every level of every dim is reachable (even L included), and nothing outside them
    torch.manual_seed(0)
    seen = q.codes_to_digits(q(torch.randn(1, 4000, 4) * 3).codes).view(-1, 4)  # (M, 4)
    for i, L in enumerate(q.levels):
        assert torch.unique(seen[:, i]).tolist() == list(range(L))


# -- LFQ and group-wise LFQ --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["lfq", "glfq"])
def test_entropy_loss_pushes_usage_up(kind):
    cfg = dict(bits=6, dim=6) if kind == "lfq" else dict(groups=2, bits_per_group=4)
    data = torch.randn(4096, 4)

    def fit(entropy_weight: float) -> float:
        torch.manual_seed(0)
        q = make_quantizer(kind, entropy_weight=entropy_weight, **cfg)
        enc = nn.Linear(4, q.dim)
        with torch.no_grad():  # a collapsed encoder: every bit is +1 for every input
            enc.weight.mul_(0.05)
            enc.bias.fill_(0.5)
        opt = torch.optim.Adam(enc.parameters(), lr=1e-2)
        q.train()
        for _ in range(120):
            out = q(enc(data[torch.randint(0, 4096, (512,))].view(1, -1, 4)))
            opt.zero_grad()
            out.loss.backward()
            opt.step()
        q.eval()
        return measure(lambda x: q(enc(x)), [data.view(1, -1, 4)], q.codebook_size, q.num_codebooks).usage

    without, with_entropy = fit(0.0), fit(0.1)
    assert without <= 0.07
    assert with_entropy >= 0.4 and with_entropy > 5 * without


def test_glfq_with_one_group_is_lfq():
    torch.manual_seed(0)
    z = torch.randn(2, 50, 5, requires_grad=True)
    a = LFQ(LFQConfig(bits=5)).train()(z)
    b = GLFQ(GLFQConfig(groups=1, bits_per_group=5)).train()(z)
    assert torch.equal(a.codes, b.codes[..., 0])
    torch.testing.assert_close(a.loss, b.loss)


def test_lfq_codes_are_binary_numbers():
    q = LFQ(LFQConfig(bits=3))
    z = torch.tensor([[[1.0, -1.0, -1.0], [-1.0, 2.0, 0.5], [-0.1, -0.2, -0.3]]])  # (1, 3, 3)
    assert q(z).codes.tolist() == [[1, 6, 0]]
    assert LFQ(LFQConfig(bits=20)).codebook() is None  # too many to list


# -- codebook health ---------------------------------------------------------------------------
def test_health_uniform_and_single_code():
    V = 16
    uniform = CodebookHealth(V).update(torch.arange(V).repeat(10)).result()
    assert uniform.usage == 1.0 and uniform.dead == 0
    assert uniform.entropy == pytest.approx(1.0) and uniform.perplexity == pytest.approx(V)
    one = CodebookHealth(V).update(torch.full((100,), 3)).result()
    assert one.entropy == 0.0 and one.perplexity == pytest.approx(1.0)
    assert one.usage == 1 / V and one.dead == V - 1
    assert one.levels[0].counts[3] == 100 and one.levels[0].total == 100


def test_health_is_over_the_whole_dataset_not_one_batch():
    V = 8
    health = CodebookHealth(V)
    health.update(torch.tensor([0, 1, 2, 3]))  # each batch alone uses half the codebook
    health.update(torch.tensor([4, 5, 6, 7]))
    report = health.result()
    assert report.usage == 1.0 and report.entropy == pytest.approx(1.0)
    skewed = CodebookHealth(4).update(torch.tensor([0, 0, 0, 1])).result()
    p = torch.tensor([0.75, 0.25])
    h = float(-(p * p.log()).sum())
    assert skewed.entropy == pytest.approx(h / math.log(4))
    assert skewed.perplexity == pytest.approx(math.exp(h))


def test_health_per_level_and_bad_codes():
    health = CodebookHealth(4, num_codebooks=3)
    health.update(torch.tensor([[[0, 1, 2], [1, 1, 2]]]))  # (B, N, K)
    health.update(torch.tensor([[[2, 3]]]))  # keep=2: only the first two levels
    report = health.result()
    assert [lv.total for lv in report.levels] == [3, 3, 2]
    assert report.levels[1].counts.tolist() == [0, 2, 0, 1]
    assert set(report.as_dict()) >= {"usage", "entropy", "perplexity", "dead", "usage/2"}
    with pytest.raises(InvalidInput, match=r"\[0, 4\)"):
        health.update(torch.tensor([[4, 0, 0]]))
    with pytest.raises(InvalidInput):
        health.update(torch.tensor([[0, 0, 0, 0]]))  # four levels for three codebooks


# -- demo: a short fit reaches healthy codebooks -------------------------------------------------
@pytest.mark.parametrize(("d", "V"), [(2, 256), (8, 256), (8, 1024)])
def test_demo_fit_keeps_the_codebook_healthy(d, V):
    """A tiny autoencoder with VQ in the middle on a Gaussian mixture, 300 steps, default config.

    With the health fixes (k-means init, dead-code restart) usage >= 95% and normalised entropy
    >= 0.9 over the whole dataset; without them the codebook collapses to a few codes.
    """
    data = _mixture(16384, d)

    def fit(fixes: bool):
        torch.manual_seed(0)
        enc = nn.Sequential(nn.Linear(d, 32), nn.GELU(), nn.Linear(32, 16))
        dec = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, d))
        cfg = VQConfig(dim=16, codebook_size=V) if fixes else VQConfig(
            dim=16, codebook_size=V, kmeans_init=False, dead_code_steps=0
        )
        q = VQ(cfg)
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=3e-3)
        q.train()
        for _ in range(300):
            x = data[torch.randint(0, len(data), (1024,))].view(1, -1, d)  # (1, 1024, d)
            out = q(enc(x))
            loss = (dec(out.quantized) - x).pow(2).mean() + out.loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        q.eval()
        return measure(lambda x: q(enc(x)), data.view(16, 1, -1, d), V, 1)

    healthy = fit(True)
    assert healthy.usage >= 0.95 and healthy.entropy >= 0.9, healthy.as_dict()
    if d == 8 and V == 256:  # the contrast, once: no fixes -> collapse
        collapsed = fit(False)
        assert collapsed.usage < 0.5 and collapsed.entropy < healthy.entropy
