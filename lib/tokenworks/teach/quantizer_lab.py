"""VQ from scratch: a small quantizer lab on 2-D points and image patches.

A tiny autoencoder (MLP encoder -> quantizer -> MLP decoder) trained on low-dimensional data,
small enough to watch every code. It is the setting of notebook 03: nearest-code assignment
(Voronoi cells), the straight-through estimator, codebook collapse and its fixes::

    data = make_points(seed=0)                           # LabData: train (N, 2), test (M, 2)
    run = train_lab(LabConfig(method="vq"), data)        # plain gradient VQ from a bad init
    run.final.usage                                      # fraction of the V codes in use (test set)
    runs = compare(["vq", "kmeans", "ema", "restart", "cosine", "fsq", "lfq"], data)

The quantizers are the library's own (``quantizers/vq.py``, ``fsq.py``, ``lfq.py``); a *method* is a
recipe of their options (``METHODS``). Every VQ recipe but ``kmeans`` and ``all`` starts from the
same bad initialisation: codes drawn N(0, init_scale^2) (init_scale 6) while the untrained encoder's
outputs lie within about 0.2 of the origin, so only the few codes that happen to land near
the data are ever nearest to anything. Plain gradient VQ moves only the codes it picks (the
codebook loss ||sg(z) - e||^2 has no gradient for a code nobody chose), so the rest stay dead.

Health is measured on the held-out points every ``eval_every`` steps with ``CodebookHealth``:
usage, normalised entropy, perplexity and dead codes over the whole test set, not one batch.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidInput
from ..image._shapes import synthetic_shapes
from ..quantizers.fsq import FSQ, FSQConfig
from ..quantizers.health import CodebookHealth, HealthReport
from ..quantizers.lfq import LFQ, LFQConfig
from ..quantizers.vq import VQ, VQConfig, nearest_codes

# ---- data ---------------------------------------------------------------------------------------


@dataclass
class LabData:
    name: str  # e.g. "blobs" or "patches4 of emoji64"
    train: torch.Tensor  # (N, D) float32, roughly zero mean and unit scale
    test: torch.Tensor  # (M, D) float32, held out: health is measured here
    patch: int | None = None  # patches: side p of the (p, p, 3) patch each row holds (D = 3 p^2)
    note: str = ""  # where the data came from

    @property
    def dim(self) -> int:
        return int(self.train.shape[1])  # D


def make_points(shape: str = "square", n: int = 4096, seed: int = 0, test: int = 2048) -> LabData:
    """2-D points: ``square`` (uniform in [-1, 1]^2: every code has a region to serve),
    ``blobs`` (12 Gaussian blobs on a ring and one in the middle) or ``ring`` (a noisy circle)."""
    g = torch.Generator().manual_seed(seed)

    def sample(m: int) -> torch.Tensor:
        if shape == "blobs":
            angle = torch.arange(12) * (2 * math.pi / 12)  # (12,)
            centres = torch.cat([torch.stack([angle.cos(), angle.sin()], 1), torch.zeros(1, 2)])  # (13, 2)
            which = torch.randint(0, len(centres), (m,), generator=g)  # (m,)
            return centres[which] + 0.08 * torch.randn(m, 2, generator=g)  # (m, 2)
        if shape == "ring":
            a = torch.rand(m, generator=g) * 2 * math.pi  # (m,)
            r = 1 + 0.1 * torch.randn(m, generator=g)  # (m,)
            return torch.stack([r * a.cos(), r * a.sin()], 1)  # (m, 2)
        if shape == "square":
            return torch.rand(m, 2, generator=g) * 2 - 1  # (m, 2)
        raise InvalidInput(f"unknown point set {shape!r}; choose blobs, ring or square")

    return LabData(shape, sample(n), sample(test), note=f"synthetic 2-D points ({shape}), seed {seed}")


@dataclass
class SampleImages:
    images: np.ndarray  # (N, S, S, 3) uint8
    label: str  # what they are, to print beside any figure of them
    synthetic: bool  # True: synthetic_shapes stood in for a missing data set
    note: str  # why (the missing asset and how to fetch it), empty when the data set was there


def images_or_shapes(name: str = "emoji64", split: str = "test", limit: int | None = None,
                     fallback_n: int = 200, seed: int = 0) -> SampleImages:
    """A data set of ``tokenworks.image.data`` when its cache or assets are here, else
    ``fallback_n`` synthetic shapes of the same size, labelled as such (never silently)."""
    from ..errors import AssetMissing
    from ..image.data import DATASETS, load_dataset

    try:
        ds = load_dataset(name, split, limit)
        return SampleImages(np.asarray(ds.images), f"{name} ({split} split, {len(ds)} images)", False, "")
    except AssetMissing as e:
        size = DATASETS[name].size if name in DATASETS else 64
        n = min(fallback_n, limit) if limit else fallback_n
        note = f"{name} is not available here, so {n} synthetic shapes stand in for it ({e})"
        return SampleImages(synthetic_shapes(n, size, seed), f"synthetic shapes ({n} images, stand-ins for {name})",
                            True, note)


def synthetic_dataset(split: str = "train", n: int = 1024, size: int = 64, seed: int = 0):
    """``synthetic_shapes`` as a ``tokenworks.image.data.ImageDataset`` named ``shapes{size}``
    (train and test use different seeds), for training an image tokenizer without any assets."""
    import hashlib

    from ..image.data import ImageDataset

    images = synthetic_shapes(n, size, seed + (0 if split == "train" else 10_000))
    images.flags.writeable = False
    names = [f"shape/{split}/{i:05d}" for i in range(n)]
    return ImageDataset(name=f"shapes{size}", split=split, images=images, names=names, sources=names,
                        data_hash=hashlib.sha256(images.tobytes()).hexdigest(),
                        meta={"description": "synthetic coloured shapes (tokenworks.image._shapes.synthetic_shapes)"})


def image_patches(images: np.ndarray, patch: int = 4, n: int = 8192, test: int = 2048, seed: int = 0,
                  name: str = "images", note: str = "") -> LabData:
    """Random (patch, patch, 3) crops of ``images`` (N, H, W, 3) uint8 as rows of D = 3 patch^2
    in [-1, 1]. The first 80% of the images give training patches, the rest test patches."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise InvalidInput(f"image_patches takes (N, H, W, 3) uint8 images, got {images.shape} {images.dtype}")
    if len(images) < 2:
        raise InvalidInput("image_patches needs at least 2 images (some train, some test)")
    rng = np.random.default_rng(seed)
    cut = max(1, int(0.8 * len(images)))

    def crops(pool: np.ndarray, m: int) -> torch.Tensor:
        H, W = pool.shape[1:3]
        i = rng.integers(0, len(pool), m)  # (m,)
        y = rng.integers(0, H - patch + 1, m)  # (m,)
        x = rng.integers(0, W - patch + 1, m)  # (m,)
        off = np.arange(patch)
        rows = pool[i[:, None, None], (y[:, None] + off)[:, :, None], (x[:, None] + off)[:, None, :]]  # (m, p, p, 3)
        return torch.from_numpy(rows.reshape(m, -1).astype(np.float32) / 127.5 - 1.0)  # (m, 3 p^2)

    return LabData(f"patches{patch} of {name}", crops(images[:cut], n), crops(images[cut:], test),
                   patch=patch, note=note or f"{patch}x{patch} crops of {name}")


def patches_to_images(rows: torch.Tensor | np.ndarray, patch: int) -> np.ndarray:
    """(V, 3 p^2) rows in [-1, 1] -> (V, p, p, 3) uint8 (a decoded codebook as little tiles)."""
    rows = torch.as_tensor(rows).detach().float().cpu()
    return ((rows.reshape(-1, patch, patch, 3) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


# ---- methods: recipes of the library's quantizers ---------------------------------------------


@dataclass(frozen=True)
class Method:
    name: str
    quantizer: str  # vq | fsq | lfq
    description: str
    vq: dict = field(default_factory=dict)  # VQConfig options (quantizer vq)
    bad_init: bool = True  # start from the bad initialisation (VQ only; k-means replaces it)


_PLAIN = dict(ema=False, kmeans_init=False, dead_code_steps=0)
METHODS: dict[str, Method] = {m.name: m for m in (
    Method("vq", "vq", "plain VQ-VAE: codebook learned by gradient, bad init, no fixes", dict(_PLAIN)),
    Method("kmeans", "vq", "k-means initialisation on the first batch of encoder outputs",
           dict(_PLAIN, kmeans_init=True), bad_init=False),
    Method("ema", "vq", "codes follow an EMA of their vectors (no codebook gradient)",
           dict(_PLAIN, ema=True)),
    Method("restart", "vq", "codes unused for 20 steps restart at encoder outputs",
           dict(_PLAIN, dead_code_steps=20)),
    Method("cosine", "vq", "l2-normalised codes and inputs: nearest = largest cosine",
           dict(_PLAIN, cosine=True)),
    Method("all", "vq", "k-means init + EMA + dead-code restart (tokenworks' VQ defaults)",
           dict(ema=True, kmeans_init=True, dead_code_steps=20), bad_init=False),
    Method("fsq", "fsq", "finite scalar quantization: a fixed grid, nothing to collapse"),
    Method("lfq", "lfq", "lookup-free quantization: signs of log2 V dims, entropy loss"),
)}


@dataclass
class LabConfig:
    method: str = "vq"  # a key of METHODS
    codebook_size: int = 64  # V (fsq: a square of levels in 2-D; lfq: a power of 2)
    latent_dim: int = 2  # d of VQ and FSQ codes (2: the Voronoi cells can be drawn); lfq uses log2 V
    hidden: int = 64  # width of the MLP encoder and decoder
    steps: int = 600  # optimizer steps
    batch_size: int = 256
    lr: float = 3e-3  # Adam
    init_scale: float = 6.0  # the bad init: codes ~ N(0, init_scale^2) (encoder outputs start within ~0.2)
    eval_every: int = 20  # steps between health measurements on the test set
    snapshots: int = 6  # codebook + latent snapshots kept (evenly spaced, first and last included)
    snapshot_points: int = 600  # test points kept per snapshot
    seed: int = 0


def fsq_levels(codebook_size: int, dims: int) -> tuple[int, ...]:
    """Equal FSQ levels whose product is ``codebook_size`` (e.g. 64 in 2-D -> (8, 8))."""
    L = round(codebook_size ** (1 / dims))
    if L < 2 or L**dims != codebook_size:
        raise InvalidInput(f"fsq in the lab needs codebook_size = L^{dims} for some L >= 2 (e.g. {[l**dims for l in range(2, 9)]}), got {codebook_size}")
    return (L,) * dims


class LabModel(nn.Module):
    """x (B, D) -> encoder -> z (B, d) -> quantizer -> q (B, d) -> decoder -> x_hat (B, D)."""

    def __init__(self, data_dim: int, config: LabConfig) -> None:
        super().__init__()
        c = config
        if c.method not in METHODS:
            raise InvalidInput(f"unknown method {c.method!r}; choose one of {', '.join(METHODS)}")
        self.method = m = METHODS[c.method]
        V = c.codebook_size
        if m.quantizer == "vq":
            self.quantizer: VQ | FSQ | LFQ = VQ(VQConfig(dim=c.latent_dim, codebook_size=V, **m.vq))
        elif m.quantizer == "fsq":
            self.quantizer = FSQ(FSQConfig(levels=fsq_levels(V, c.latent_dim)))
        else:
            bits = int(round(math.log2(V)))
            if 2**bits != V:
                raise InvalidInput(f"lfq needs a codebook_size that is a power of 2, got {V}")
            self.quantizer = LFQ(LFQConfig(bits=bits))
        d = self.quantizer.dim  # d
        self.encoder = nn.Sequential(nn.Linear(data_dim, c.hidden), nn.GELU(), nn.Linear(c.hidden, c.hidden),
                                     nn.GELU(), nn.Linear(c.hidden, d))
        self.decoder = nn.Sequential(nn.Linear(d, c.hidden), nn.GELU(), nn.Linear(c.hidden, c.hidden),
                                     nn.GELU(), nn.Linear(c.hidden, data_dim))
        if m.quantizer == "vq" and m.bad_init:
            g = torch.Generator().manual_seed(c.seed + 1)
            bad = torch.randn(V, d, generator=g) * c.init_scale  # (V, d)
            self.quantizer._set_codes(torch.arange(V), bad)

    @property
    def codebook_size(self) -> int:
        return int(self.quantizer.codebook_size)  # V

    def forward(self, x: torch.Tensor):
        z = self.encoder(x)  # (B, d)
        out = self.quantizer(z[:, None])  # quantized (B, 1, d), codes (B, 1)
        x_hat = self.decoder(out.quantized[:, 0])  # (B, D)
        return z, out, x_hat

    @torch.no_grad()
    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """(M, D) -> (M,) code ids (eval mode: the codebook does not move)."""
        was = self.training
        self.eval()
        try:
            return self.quantizer(self.encoder(x)[:, None]).codes[:, 0]  # (M,)
        finally:
            self.train(was)

    @torch.no_grad()
    def lookup_table(self) -> torch.Tensor | None:
        """(V, d) the vectors nearest-code lookup compares against (unit length for cosine)."""
        q = self.quantizer
        if isinstance(q, VQ):
            return q._table().detach().clone()
        return q.codebook()


# ---- training -----------------------------------------------------------------------------------


@dataclass
class LabStep:
    step: int  # optimizer steps taken when measured
    usage: float  # fraction of codes used on the test set
    entropy: float  # normalised entropy H / log V of the test set's codes
    perplexity: float  # exp(H): the effective number of codes
    dead: int  # codes no test vector uses
    recon_mse: float  # test reconstruction MSE
    restarted: int  # codes restarted so far (restart / all)


@dataclass
class LabSnapshot:
    step: int
    table: np.ndarray | None  # (V, 2) lookup vectors (None unless d = 2, e.g. lfq)
    latents: np.ndarray  # (n, d) encoder outputs of the first test points (cosine: normalised)
    codes: np.ndarray  # (n,) their codes
    counts: np.ndarray  # (V,) code counts over the whole test set


@dataclass
class LabRun:
    config: LabConfig
    method: Method
    data_name: str
    history: list[LabStep]  # one per eval_every steps, step 0 (before training) included
    snapshots: list[LabSnapshot]
    health: HealthReport  # the final test-set health
    model: LabModel
    seconds: float

    @property
    def final(self) -> LabStep:
        return self.history[-1]

    def series(self, metric: str) -> tuple[list[int], list[float]]:
        """(steps, values) of one LabStep field, e.g. ``run.series("usage")``."""
        if metric not in LabStep.__dataclass_fields__ or metric == "step":
            raise InvalidInput(f"metric must be one of {', '.join(f for f in LabStep.__dataclass_fields__ if f != 'step')}")
        return [h.step for h in self.history], [float(getattr(h, metric)) for h in self.history]


@torch.no_grad()
def _measure(model: LabModel, data: LabData, step: int) -> tuple[LabStep, HealthReport]:
    was = model.training
    model.eval()
    z, out, x_hat = model(data.test)
    model.train(was)
    rep = CodebookHealth(model.codebook_size).update(out.codes).result()
    restarted = int(model.quantizer.restarts) if isinstance(model.quantizer, VQ) else 0
    return LabStep(step=step, usage=rep.usage, entropy=rep.entropy, perplexity=rep.perplexity, dead=rep.dead,
                   recon_mse=float(F.mse_loss(x_hat, data.test)), restarted=restarted), rep


@torch.no_grad()
def _snapshot(model: LabModel, data: LabData, step: int, n: int, counts: np.ndarray) -> LabSnapshot:
    x = data.test[:n]  # (n, D)
    z = model.encoder(x)  # (n, d)
    q = model.quantizer
    if isinstance(q, VQ) and q.config.cosine:
        z = F.normalize(z, dim=-1)
    table = model.lookup_table()
    keep_table = table is not None and table.shape[1] == 2 == z.shape[1]
    return LabSnapshot(step=step, table=table.numpy() if keep_table else None, latents=z.numpy(),
                       codes=model.codes(x).numpy(), counts=counts.copy())


def train_lab(config: LabConfig, data: LabData, on_step: Callable[[LabStep], None] | None = None) -> LabRun:
    """Train the lab autoencoder with ``config.method``; measure health every ``eval_every`` steps.

    Loss = reconstruction MSE + the quantizer's own loss (commitment; codebook loss for gradient
    VQ; entropy terms for LFQ). ``on_step`` gets each LabStep as it is measured.
    """
    c = config
    if c.steps < 1 or c.eval_every < 1:
        raise InvalidInput(f"steps and eval_every must be >= 1, got {c.steps}, {c.eval_every}")
    torch.manual_seed(c.seed)
    model = LabModel(data.dim, c)
    opt = torch.optim.Adam(model.parameters(), lr=c.lr)
    g = torch.Generator().manual_seed(c.seed)
    snap_at = sorted({round(i * c.steps / max(c.snapshots - 1, 1)) for i in range(c.snapshots)})
    history: list[LabStep] = []
    snapshots: list[LabSnapshot] = []

    def record(step: int) -> HealthReport:
        s, rep = _measure(model, data, step)
        history.append(s)
        if on_step is not None:
            on_step(s)
        return rep

    rep = record(0)
    if 0 in snap_at:
        snapshots.append(_snapshot(model, data, 0, c.snapshot_points, rep.levels[0].counts))
    model.train()
    t0 = time.perf_counter()
    for step in range(1, c.steps + 1):
        idx = torch.randint(0, len(data.train), (c.batch_size,), generator=g)  # (B,)
        x = data.train[idx]  # (B, D)
        z, out, x_hat = model(x)
        loss = F.mse_loss(x_hat, x) + out.loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % c.eval_every == 0 or step == c.steps or step in snap_at:
            if step % c.eval_every == 0 or step == c.steps:
                rep = record(step)
            else:
                rep = _measure(model, data, step)[1]
            if step in snap_at:
                snapshots.append(_snapshot(model, data, step, c.snapshot_points, rep.levels[0].counts))
    seconds = time.perf_counter() - t0
    final = _measure(model, data, c.steps)[1]
    return LabRun(config=c, method=model.method, data_name=data.name, history=history, snapshots=snapshots,
                  health=final, model=model.eval(), seconds=seconds)


def compare(methods: Sequence[str], data: LabData, config: LabConfig | None = None,
            on_step: Callable[[str, LabStep], None] | None = None) -> dict[str, LabRun]:
    """The same data, steps and seed for each method: ``{method: LabRun}``."""
    base = config or LabConfig()
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InvalidInput(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    runs = {}
    for m in methods:
        cb = (lambda s, m=m: on_step(m, s)) if on_step else None
        runs[m] = train_lab(replace(base, method=m), data, cb)
    return runs


def summary_rows(runs: dict[str, LabRun]) -> list[dict[str, float | str]]:
    """One row per run: final usage, entropy, perplexity, dead codes, test MSE, seconds."""
    return [{"method": name, "usage": r.final.usage, "entropy": r.final.entropy, "perplexity": r.final.perplexity,
             "dead": r.final.dead, "recon_mse": r.final.recon_mse, "seconds": r.seconds} for name, r in runs.items()]


# ---- single ideas, one function each ------------------------------------------------------------


@dataclass
class Assignment:
    codes: np.ndarray  # (M,) nearest code of each point
    distances: np.ndarray  # (M,) squared distance to it (cosine: 2 - 2 cos)
    counts: np.ndarray  # (V,) points per code


def assign(points: torch.Tensor | np.ndarray, table: torch.Tensor | np.ndarray, cosine: bool = False) -> Assignment:
    """Nearest-code assignment of points (M, d) to a table (V, d): the step every VQ starts with."""
    x = torch.as_tensor(np.asarray(points), dtype=torch.float32)  # (M, d)
    e = torch.as_tensor(np.asarray(table), dtype=torch.float32)  # (V, d)
    if cosine:
        x, e = F.normalize(x, dim=-1), F.normalize(e, dim=-1)
    codes, dist = nearest_codes(x, e, cosine)  # (M,), (M,)
    return Assignment(codes.numpy(), dist.numpy(), torch.bincount(codes, minlength=len(e)).numpy())


@dataclass
class STEDemo:
    z: np.ndarray  # (n,) inputs of a scalar quantizer (round to the nearest integer)
    forward: np.ndarray  # (n,) what the decoder sees: round(z)
    grad_plain: np.ndarray  # (n,) d loss / d z through torch.round: zero everywhere
    grad_ste: np.ndarray  # (n,) d loss / d z with z + (round(z) - z).detach(): the gradient at round(z)
    target: float  # the loss is (q - target)^2


def straight_through_demo(target: float = 0.3, lo: float = -2.0, hi: float = 2.0, n: int = 401) -> STEDemo:
    """Rounding has zero gradient almost everywhere, so nothing upstream of it would learn. The
    straight-through estimator uses the rounded value forwards and the identity backwards."""
    z = torch.linspace(lo, hi, n, requires_grad=True)  # (n,)
    ((torch.round(z) - target) ** 2).sum().backward()
    grad_plain = z.grad.detach().clone()  # (n,) zeros
    z.grad = None
    q = z + (torch.round(z) - z).detach()  # (n,) value round(z), gradient 1
    ((q - target) ** 2).sum().backward()
    return STEDemo(z=z.detach().numpy(), forward=q.detach().numpy(), grad_plain=grad_plain.numpy(),
                   grad_ste=z.grad.detach().numpy(), target=target)


@torch.no_grad()
def decoded_codebook(run: LabRun) -> np.ndarray:
    """(V, D) what the decoder makes of each code (patch runs: reshape with ``patches_to_images``)."""
    q = run.model.quantizer
    ids = torch.arange(run.model.codebook_size)  # (V,)
    vec = q.decode_codes(ids[None])[0]  # (V, d)
    return run.model.decoder(vec).numpy()  # (V, D)
