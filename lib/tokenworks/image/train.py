"""Train an image tokenizer (grid VQ-VAE or ordered 1D flex1d) on one of the image data sets.

    PYTHONPATH=lib python3 -m tokenworks.image.train --model flex1d --data emoji64 --preset gpu \
        --seed 0 --out data/checkpoints/image/flex1d-emoji64

The shipped checkpoints (trained on one H100, 2-3 runs sharing it; the gpu preset stops on its
wall-clock budget, so the step count reached is recorded in config.json):

    --model flex1d --data emoji64 --preset gpu             --out data/checkpoints/image/flex1d-emoji64
    --model flex1d --data photo64 --preset gpu --lr 3e-4   --out data/checkpoints/image/flex1d-photo64
    --model grid   --data emoji32 --preset gpu             --out data/checkpoints/image/grid-emoji32
    --model grid   --data photo32 --preset gpu --minutes 8 --out data/checkpoints/image/grid-photo32

Resumable: ``--checkpoint-every N`` writes ``<out>.run/last/`` (weights, optimizer, step, RNG
states, config) every N steps and when training ends, and ``<out>.run/best/`` (lowest training
loss over the last log window); after a crash or kill,

    PYTHONPATH=lib python3 -m tokenworks.image.train --resume data/checkpoints/image/flex1d-emoji64.run

continues with the saved config and, on the CPU and without a ``--minutes`` budget, ends with the
same weights as a run never interrupted (tokenworks.train.loop).

Warm start (fine-tuning): ``--init FOLDER`` starts from a saved grid or flex1d checkpoint's
weights (as float32, codebooks and their EMA buffers included); its architecture wins, so
``--set`` and the preset may change only the training-time fields of ``WARM_START_FIELDS``
(grid: commitment_weight, dead_code_steps; flex1d: keep_power, keep_log_prob, keep_all_prob,
keep_grid_prob); ``--model`` and ``--data`` default to the checkpoint's own and must match its
kind and image size; ``--steps 0`` only evaluates and re-saves it:

    PYTHONPATH=lib python3 -m tokenworks.image.train --init data/checkpoints/image/flex1d-emoji64 \
        --preset gpu --minutes 3 --lr 2e-4 --set keep_all_prob=0.2 --out runs/image/flex1d-emoji64-ft

Several processes, one model (DistributedDataParallel, tokenworks.train.distributed):

    PYTHONPATH=lib torchrun --nproc_per_node=4 -m tokenworks.image.train --model flex1d --data emoji64 \
        --preset gpu --seed 0 --out runs/image/flex1d-emoji64-4gpu

trains on 4 GPUs (nccl), each on batch_size / 4 images of every global batch (``--device cpu``:
CPU processes, gloo). Only rank 0 logs and writes checkpoints; ``--resume`` works the same way.

Self-contained on purpose: it imports only torch, numpy, pillow, safetensors and tokenworks
modules that import only those, so it runs on a bare GPU machine with the data set caches
(``.cache/tokenworks/datasets/*.npz``) copied over. It logs one JSON object per line to stdout
(``"event": "start" | "step" | "checkpoint" | "done" | "eval" | "saved"``), stops at ``steps`` or at the ``minutes``
budget (the learning-rate schedule follows whichever comes first), evaluates on the test split
and saves the checkpoint atomically with the metrics in its config.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generator

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InvalidInput, TokenworksError
from ..train.common import drain, log_event, lr_factor, parse_set_overrides, seed_everything, set_quiet
from ..train.distributed import (agree, all_reduce_mean, broadcast_object, cleanup, init_distributed,
                                 local_batch_size, main_first, same_on_all_ranks, shard, wrap_ddp)
from ..train.loop import (DoneEvent, Event, LoopConfig, LoopState, PreviewEvent,
                          SavedState, StepContext, StepEvent, StepOutput, StopFlag, load_for_resume, log_loop_event, restore,
                          run_paths, run_steps, stop_requested)
from ..paths import runs_dir
from ..train.memory import check_fits, estimate_training_memory
from ..quantizers import CodebookHealth
from ._nn import num_params, to_pixels
from .data import load_dataset
from .flex1d import bytes_for_tokens, tokens_for_bytes
from .preview import PREVIEW_IMAGES, Preview, write_preview
from .tokenizer import MODELS, Flex1DTokenizer, GridTokenizer, ImageTokenizer, build_model, round_to_half
from .warm_start import WARM_START_FIELDS, init_source, load_warm_start, preset_fields_for_init

BYTE_BUDGETS = (100, 200, 300)  # equal-bytes points compared against JPEG / WebP
TRAINER = "tokenworks.image.train"  # recorded in the run checkpoints, checked by resume()
RESUME_OVERRIDES = ("steps", "minutes", "threads", "device", "checkpoint_every", "eval_limit", "eval_batch")


@dataclass
class TrainConfig:
    model: str = "flex1d"  # grid | flex1d
    data: str = "emoji64"  # a data set of tokenworks.image.data (emoji32, emoji64, photo32, photo64, mnist32),
    # or a folder with train.npz and test.npz (tokenworks.image.upload: your own pictures)
    preset: str = "cpu-tiny"  # cpu-tiny | default | gpu: the model size and training settings
    seed: int = 0
    out: str | None = None  # checkpoint folder; None: runs/image/<model>-<data>-<preset>-s<seed>
    name: str | None = None  # the tokenizer name saved in the checkpoint; None: image/<model>-<data>
    steps: int = 300  # optimizer steps at most
    minutes: float | None = None  # wall-clock budget for the training steps (eval and save come after); None or 0: none
    batch_size: int = 32
    lr: float = 2e-3  # peak learning rate of AdamW
    min_lr_frac: float = 0.05  # the cosine ends at lr * min_lr_frac
    warmup_steps: int = 30  # linear warmup
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0  # max gradient norm
    device: str = "auto"  # auto (cuda when present) | cuda | cpu
    bf16: bool = False  # autocast matmuls to bfloat16 (CUDA only)
    compile: bool = False  # torch.compile the model for training (CUDA only)
    loss: str = "log_mse"  # mse | log_mse: mean over images of log(MSE), i.e. mean PSNR (every k weighs alike)
    pairs: bool = False  # flex1d: decode each image at two prefix lengths ...
    monotone_weight: float = 0.0  # ... and penalise the longer prefix being worse: w * relu(log mse_long - log mse_short)
    augment: bool = True  # random horizontal flips, colour-channel permutations, small shifts
    shift: int = 4  # largest shift in pixels of that augmentation
    train_limit: int | None = None  # use only the first n training images
    eval_limit: int | None = None  # evaluate on the first n test images (None: all)
    eval_batch: int = 256
    log_every: int = 25  # steps between log lines (the logged losses are means over those steps)
    checkpoint_every: int = 0  # write <run_dir>/last (weights, optimizer, RNGs) every n steps and at the end; 0: never
    run_dir: str | None = None  # where last/ and best/ go; None: <out>.run when checkpoint_every > 0
    preview_every: int = 0  # write <run_dir>/preview.png (test images and their reconstructions) every n steps; 0: never
    weights: str = "float32"  # float32 | float16: how the checkpoint stores the parameters (float16: half the size)
    threads: int | None = None  # torch CPU threads (None: torch's default)
    model_config: dict[str, Any] = field(default_factory=dict)  # overrides of the model config
    init: str | None = None  # warm start from this image checkpoint: its architecture and weights (float32,
    # codebooks included); model must be its kind and model_config may change only WARM_START_FIELDS
    refit_codebook: int = 0  # with init, a VQ model: before training, this many Lloyd iterations with splitting of
    # its codebook over the training images' encoder outputs (quantizers.refit, LBG); 0: none


# ---- presets: model size + training settings -------------------------------------------------
# "default" is the model that ships in data/checkpoints; "gpu" trains that same model in about
# 8 minutes on one H100 (several such runs can share the GPU); "cpu-tiny" is a toy for tests.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "flex1d": {
        "cpu-tiny": {"model": dict(width=64, heads=2, encoder_layers=2, decoder_layers=2, tokens=32,
                                   tokens_per_slot=2, refine_channels=8, refine_features=4),
                     "train": dict(steps=6000, batch_size=32, lr=2e-3, warmup_steps=100, minutes=3.0,
                                   train_limit=1024, eval_limit=64, log_every=100)},
        "default": {"model": dict(keep_grid_prob=0.25, keep_power=1.0),
                    "train": dict(steps=60000, batch_size=128, lr=1e-3, warmup_steps=1000, pairs=True,
                                  monotone_weight=5.0, weights="float16")},
        "gpu": {"model": dict(keep_grid_prob=0.25, keep_power=1.0),
                "train": dict(steps=40000, minutes=8.5, batch_size=256, lr=1e-3, warmup_steps=1000,
                              bf16=True, compile=True, pairs=True, monotone_weight=5.0, log_every=200,
                              weights="float16")},
    },
    "grid": {
        "cpu-tiny": {"model": dict(channels=(16, 32, 64), codebook_size=64, code_dim=32, lookup_dim=8),
                     "train": dict(steps=6000, batch_size=32, lr=2e-3, warmup_steps=100, minutes=2.0,
                                   train_limit=1024, eval_limit=64, shift=2, loss="mse", log_every=100)},
        "default": {"model": {},
                    "train": dict(steps=30000, batch_size=128, lr=1e-3, warmup_steps=500, shift=2, loss="mse",
                                  weights="float16")},
        "gpu": {"model": {},
                "train": dict(steps=40000, minutes=6.0, batch_size=256, lr=1e-3, warmup_steps=500,
                              bf16=True, log_every=200, shift=2, loss="mse", weights="float16")},
    },
}


def preset_config(model: str, preset: str, **overrides: Any) -> TrainConfig:
    """The TrainConfig of a preset, with ``overrides`` (None values are ignored). With ``init`` (a
    warm start) the preset's architecture fields are dropped: the checkpoint's architecture wins."""
    if model not in PRESETS:
        raise InvalidInput(f"unknown image model {model!r}; choose one of {', '.join(PRESETS)}")
    if preset not in PRESETS[model]:
        raise InvalidInput(f"unknown preset {preset!r} for {model}; choose one of {', '.join(PRESETS[model])}")
    p = PRESETS[model][preset]
    kw: dict[str, Any] = {**p["train"], "model": model, "preset": preset}
    preset_model = preset_fields_for_init(model, p["model"]) if overrides.get("init") else p["model"]
    kw["model_config"] = {**preset_model, **(overrides.pop("model_config", None) or {})}
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**kw)


@dataclass
class TrainResult:
    folder: Path  # the saved checkpoint
    tokenizer: ImageTokenizer  # the trained tokenizer (on the CPU)
    metrics: dict[str, Any]  # the test-split evaluation, also in config.json
    steps: int  # optimizer steps taken
    seconds: float  # wall-clock training time (without eval and save)
    history: list[dict[str, Any]]  # the logged step events
    reason: str = "steps"  # why training ended: steps | minutes | stopped
    run_dir: Path | None = None  # the folder of last/ and best/ (None: none were written)
    world_size: int = 1  # processes that trained it (torchrun); only rank 0 evaluated and saved


# ---- helpers ----------------------------------------------------------------------------------


_PERMS = torch.tensor([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])  # (6, 3)


@dataclass
class AugmentDraws:
    """The random choices of ``augment`` for B images (drawn for a global batch, then sharded)."""

    flip: torch.Tensor  # (B,) bool: mirror left-right
    perm: torch.Tensor  # (B,) int64: row of _PERMS (0: colours unchanged)
    shift: torch.Tensor | None  # (B, 2) int64 pixels (x, y); None: no shift

    def shard(self, rank: int, world: int) -> "AugmentDraws":
        """The draws of this rank's images (global[rank::world])."""
        return AugmentDraws(shard(self.flip, rank, world), shard(self.perm, rank, world),
                            None if self.shift is None else shard(self.shift, rank, world))


def draw_augment(B: int, shift: int, generator: torch.Generator, device: torch.device) -> AugmentDraws:
    """Random flips, colour permutations (half the images) and shifts of up to ``shift`` pixels."""
    flip = torch.rand(B, device=device, generator=generator) < 0.5  # (B,)
    perm_id = torch.randint(0, 6, (B,), device=device, generator=generator)  # (B,)
    perm_id = torch.where(torch.rand(B, device=device, generator=generator) < 0.5, perm_id, 0)
    t = torch.randint(-shift, shift + 1, (B, 2), device=device, generator=generator) if shift > 0 else None  # (B, 2)
    return AugmentDraws(flip, perm_id, t)


def augment(x: torch.Tensor, shift: int, generator: torch.Generator, draws: AugmentDraws | None = None) -> torch.Tensor:
    """Random horizontal flip, colour-channel permutation (half the images) and an integer
    shift of up to ``shift`` pixels (edges repeated), per image. x: (B, 3, S, S) in [-1, 1].
    ``draws``: use these choices (one per image of x) instead of drawing them from ``generator``."""
    B, _, S, _ = x.shape
    dev = x.device
    d = draws if draws is not None else draw_augment(B, shift, generator, dev)
    x = torch.where(d.flip[:, None, None, None], x.flip(-1), x)
    idx = _PERMS.to(dev)[d.perm][:, :, None, None].expand(-1, -1, S, S)  # (B, 3, S, S)
    x = torch.gather(x, 1, idx)
    if d.shift is not None:
        t = d.shift.float() * (2.0 / S)  # (B, 2)
        theta = torch.zeros(B, 2, 3, device=dev)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = t
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, S, S, 2)
        x = F.grid_sample(x, grid, mode="nearest", padding_mode="border", align_corners=False)
    return x


def psnr_per_image(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 x 2 -> (N,) PSNR in dB (peak 255; identical images give 100 dB)."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(1)  # (N,)
    return np.where(mse > 0, 10 * np.log10(255.0**2 / np.maximum(mse, 1e-12)), 100.0)


def prefix_ks(T: int, vocab_size: int) -> tuple[list[int], dict[int, int]]:
    """The k grid of the evaluation: 1, 2, 4, ..., T (T included) and the k at each byte budget."""
    ks = sorted({2**i for i in range(int(math.log2(T)) + 1)} | {T})
    budget = {b: tokens_for_bytes(b, vocab_size) for b in BYTE_BUDGETS}
    budget = {b: k for b, k in budget.items() if 1 <= k <= T}  # only the budgets T tokens can fill
    return ks, budget


# ---- evaluation -------------------------------------------------------------------------------


@torch.inference_mode()
def prefix_metrics(tok: Flex1DTokenizer, ids: np.ndarray, images: np.ndarray, batch: int = 256) -> dict[str, Any]:
    """PSNR of flex1d ids (N, T) against their images (N, S, S, 3) at every k of ``prefix_ks`` and at
    the byte budgets, and the shares of images whose PSNR never falls as k grows."""
    T, V = tok.num_tokens, tok.vocab_size
    ks, budget = prefix_ks(T, V)
    all_ks = sorted(set(ks) | set(budget.values()))
    table = np.zeros((len(images), len(all_ks)))  # (N, len(all_ks)) PSNR
    for i in range(0, len(images), batch):
        chunk = images[i:i + batch]
        for j, k in enumerate(all_ks):
            table[i:i + len(chunk), j] = psnr_per_image(tok.decode_batch(ids[i:i + batch], keep=k), chunk)
    mean = table.mean(0)
    m: dict[str, Any] = {"psnr_per_k": {str(k): round(float(p), 3) for k, p in zip(all_ks, mean)}}
    for b, k in budget.items():
        m[f"psnr@{b}B"] = round(float(mean[all_ks.index(k)]), 3)
        m[f"k@{b}B"] = k
    m["psnr"] = round(float(mean[-1]), 3)
    grid = table[:, [all_ks.index(k) for k in ks]]  # (N, len(ks)) on the powers-of-two grid
    steps = np.diff(grid, axis=1)  # (N, len(ks) - 1)
    m["monotone_frac"] = float((steps >= 0).all(1).mean())  # PSNR never falls as k doubles
    m["monotone_frac_0.1dB"] = float((steps >= -0.1).all(1).mean())
    m["monotone_frac_all_k"] = float((np.diff(table, axis=1) >= 0).all(1).mean())
    return m


@torch.inference_mode()
def evaluate(tok: ImageTokenizer, images: np.ndarray, batch: int = 256) -> dict[str, Any]:
    """Test-split metrics: PSNR (per k for flex1d), monotonicity in k, codebook health."""
    model = tok.model.eval()
    V, T = tok.vocab_size, tok.num_tokens
    health = CodebookHealth(V)
    m: dict[str, Any] = {"test_images": int(len(images)), "vocab_size": V, "tokens": T}
    if isinstance(tok, GridTokenizer):
        ps = []
        for i in range(0, len(images), batch):
            ids = tok.encode_batch(images[i:i + batch])  # (n, H, W)
            health.update(ids)
            ps.append(psnr_per_image(tok.decode_batch(ids), images[i:i + batch]))
        m.update(psnr=float(np.concatenate(ps).mean()), bytes=bytes_for_tokens(T, V))
    else:
        assert isinstance(tok, Flex1DTokenizer)
        ids = []
        for i in range(0, len(images), batch):
            ids.append(tok.encode_batch(images[i:i + batch]))  # (n, T)
            health.update(ids[-1])
        m.update(prefix_metrics(tok, np.concatenate(ids), images, batch))
    rep = health.result()
    m["codebook"] = {"usage": round(rep.usage, 4), "entropy": round(rep.entropy, 4),
                     "perplexity": round(rep.perplexity, 1), "dead": rep.dead}
    return m


# ---- training ---------------------------------------------------------------------------------


@torch.no_grad()
def _refit(model: torch.nn.Module, images: np.ndarray, cfg: TrainConfig, device: torch.device) -> dict[str, Any]:
    """Refit a warm-started VQ codebook to the encoder outputs of all training images (no augmentation)."""
    from ..quantizers.refit import RefitConfig, check_refit, refit_codebook
    from ..quantizers.vq import VQ

    if not cfg.init:
        raise InvalidInput("refit_codebook refits the codebook of a trained model: use it with --init FOLDER")
    if not isinstance(getattr(model, "quantizer", None), VQ):
        raise InvalidInput(f"refit_codebook needs a model with a VQ codebook (grid with quantizer vq); "
                           f"this {cfg.model} has {type(model.quantizer).__name__}")
    rcfg = RefitConfig(iters=cfg.refit_codebook, final_lloyd=max(0, min(RefitConfig.final_lloyd, cfg.refit_codebook - 1)))
    check_refit(rcfg)  # before encoding the whole training set
    model.eval()
    q, xs = model.quantizer, []
    for i in range(0, len(images), 512):
        z = model.latents(to_pixels(images[i:i + 512], device))  # (b, N, D)
        xs.append(q.project_in(z).reshape(-1, q.embed.shape[1]).float().cpu())  # (b * N, C)
    return refit_codebook(q, torch.cat(xs), rcfg).as_dict()


def train_image(cfg: TrainConfig, *, resume_from: SavedState | None = None, stop: StopFlag = None) -> TrainResult:
    """Train, evaluate on the test split, save; see the module docstring. ``resume_from``
    (``load_last(run_dir)``) continues a run; ``stop`` ends it cleanly between steps."""
    return drain(iter_train_image(cfg, resume_from=resume_from, stop=stop))


def resume(run_dir: str | Path, *, stop: StopFlag = None, **overrides: Any) -> TrainResult:
    """Continue the run whose ``last/`` is in ``run_dir`` with the config saved there.

    Only ``RESUME_OVERRIDES`` may change (e.g. ``steps`` to train longer; that also stretches the
    LR schedule, so the result is no longer the one of the original run). A run warm-started with
    ``init`` reads that checkpoint's model config again; its weights come from ``last/``."""
    cfg, saved = load_for_resume(run_dir, TRAINER, TrainConfig, overrides, RESUME_OVERRIDES)
    return train_image(cfg, resume_from=saved, stop=stop)


def _paths(cfg: TrainConfig) -> tuple[Path, Path | None]:
    """The final checkpoint folder and the run folder of last/ and best/ (None: no run checkpoints)."""
    return run_paths(cfg.out, runs_dir() / "image" / f"{cfg.model}-{Path(cfg.data).name}-{cfg.preset}-s{cfg.seed}",
                     cfg.run_dir, cfg.checkpoint_every)


def iter_train_image(cfg: TrainConfig, *, resume_from: SavedState | None = None,
                     stop: StopFlag = None) -> Generator[Event, None, TrainResult]:
    """``train_image`` as a generator: yields the loop's events (and prints them as JSON lines),
    then evaluates and saves, and returns the TrainResult (``StopIteration.value``).

    Under torchrun (W processes, ``train.distributed``) every rank runs this with the same config:
    the same model from the same seed, wrapped in DistributedDataParallel; the same global batch of
    ``batch_size`` images drawn from the state's rng, of which rank r trains on images r::W (their
    augmentation and flex1d's prefix lengths drawn for the whole global batch, then sliced), so
    the averaged gradient is the one a single process computes on the global batch. Only rank 0
    logs, writes last/ and best/, evaluates and saves; a stop flag or the minutes budget is agreed
    on by all ranks each step, so all of them end at the same step.

    ``init`` starts from a saved checkpoint's weights (``warm_start.load_warm_start``); ``steps=0``
    then trains nothing and only evaluates and re-saves it.
    """
    if cfg.model not in MODELS:
        raise InvalidInput(f"unknown image model {cfg.model!r}; choose one of {', '.join(MODELS)}")
    if cfg.loss not in ("mse", "log_mse"):
        raise InvalidInput(f"loss must be mse or log_mse, not {cfg.loss!r}")
    if cfg.steps < 0:
        raise InvalidInput(f"steps must be 0 (no training) or more, not {cfg.steps}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    ddp = init_distributed(cfg.device)  # without torchrun: world 1, no process group, pick_device(cfg.device)
    W, rank = ddp.world_size, ddp.rank
    local_batch_size(cfg.batch_size, W)  # B must split evenly over the ranks (each holds B / W of a batch)
    if W > 1:
        set_quiet(not ddp.is_main)
    seed_everything(cfg.seed)
    device = ddp.device
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    with main_first():  # a data set cache that is missing is built by rank 0 alone
        train = load_dataset(cfg.data, "train", cfg.train_limit)
        test = load_dataset(cfg.data, "test", cfg.eval_limit)
    S = int(train.images.shape[1])
    _, config_cls = MODELS[cfg.model]
    known = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(cfg.model_config) - known)
    if unknown:
        raise InvalidInput(f"{cfg.model} has no config field {', '.join(unknown)}; its fields are {', '.join(sorted(known))}")
    warm = load_warm_start(cfg.init, cfg.model, cfg.model_config, S) if cfg.init else None
    mcfg = warm.config if warm else dataclasses.replace(config_cls(), **{**cfg.model_config, "image_size": S})
    check_fits(estimate_training_memory(  # refuse a config too large for the memory before allocating it
        lambda: build_model(cfg.model, mcfg), lambda m, n: m(torch.zeros(n, 3, S, S)),
        batch_size=local_batch_size(cfg.batch_size, W), data_bytes=int(train.images.nbytes), device=device),
        hint="the model (--set width=..., channels=...)")
    model = build_model(cfg.model, mcfg)
    if warm is not None and resume_from is None:  # a resumed run takes its weights from last/
        model.load_state_dict(warm.state, strict=True)
    model = model.to(device)
    refit = None
    if cfg.refit_codebook and resume_from is None:  # a resumed run's codebook is in last/
        refit = _refit(model, train.images, cfg, device)
        log_event("refit", **refit)
    tok_cls = GridTokenizer if cfg.model == "grid" else Flex1DTokenizer
    name = cfg.name or f"image/{cfg.model}-{Path(cfg.data).name}"  # data: a data set name or a folder of yours
    out, run_dir = _paths(cfg)
    cfg = dataclasses.replace(cfg, out=str(out), run_dir=str(run_dir) if run_dir else None)

    images = torch.from_numpy(np.array(train.images)).to(device)  # (N, S, S, 3) uint8, all in memory
    N = images.shape[0]
    gen = torch.Generator(device=device)  # augmentation; reseeded from the batch rng every step
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=cfg.betas, fused=cuda)
    state = LoopState(model=model, optimizer=opt, rng=np.random.default_rng(cfg.seed),
                      config=dataclasses.asdict(cfg), name=name, data_hash=train.data_hash, trainer=TRAINER)
    if resume_from is not None:
        restore(state, resume_from)  # every rank restores the same last/
    if W > 1 and cuda:  # restore() puts rank 0's GPU RNG on every GPU index; this rank's GPU must follow rank 0's
        torch.cuda.set_rng_state(broadcast_object(torch.cuda.get_rng_state()))
    net = wrap_ddp(model, device)  # DistributedDataParallel under torchrun, else the model itself
    fns = [torch.compile(net) if (cfg.compile and cuda) else net]  # fns[0]: the model called in training
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if (cfg.bf16 and cuda) else torch.autocast(
        device.type, enabled=False)
    pairs = cfg.pairs and cfg.model == "flex1d"

    def batches(rng: np.random.Generator) -> torch.Tensor:
        """This rank's part of one training batch, every random choice drawn from ``rng`` (so a
        resumed run draws the same); the global batch is drawn alike on every rank."""
        idx = torch.from_numpy(shard(rng.integers(0, N, cfg.batch_size), rank, W)).to(device)  # (B / W,)
        x = to_pixels(images[idx])  # (B / W, 3, S, S)
        if cfg.augment:
            gen.manual_seed(int(rng.integers(0, 2**63 - 1)))
            draws = None if W == 1 else draw_augment(cfg.batch_size, cfg.shift, gen, device).shard(rank, W)
            x = augment(x, cfg.shift, gen, draws)
        return x

    def forward_backward(fn, x: torch.Tensor):
        keep = None
        if W > 1 and cfg.model == "flex1d":  # nested dropout drawn for the global batch, then sliced
            k = shard(model.sample_keep(cfg.batch_size, device), rank, W)  # (B / W,)
            keep = torch.cat([k, (2 * k).clamp_(max=model.num_tokens)]) if pairs else k  # as Flex1D.forward
        with autocast:
            if keep is not None:
                o = fn(x, keep=keep, pairs=pairs)
            else:
                o = fn(x, pairs=True) if pairs else fn(x)
        target = torch.cat([x, x]) if pairs else x  # (B or 2B, 3, S, S)
        per_image = (o.recon.float() - target).pow(2).flatten(1).mean(1)  # (B or 2B,)
        mse = per_image.mean()
        log_mse = per_image.add(1e-4).log()  # (B or 2B,)
        rec = log_mse.mean() if cfg.loss == "log_mse" else mse
        loss = rec + o.aux_loss.float()
        if pairs and cfg.monotone_weight > 0:
            B = x.shape[0]
            k1, k2 = o.keep[:B], o.keep[B:]  # (B,) each
            l1, l2 = log_mse[:B], log_mse[B:]
            worse = torch.where(k2 > k1, l2 - l1, torch.where(k1 > k2, l1 - l2, torch.zeros_like(l1)))  # (B,)
            loss = loss + cfg.monotone_weight * torch.relu(worse).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()  # DDP: the gradients are averaged over the ranks here
        return o, loss, mse

    agreed = _Agreement(stop, cfg.minutes or None, state.elapsed, ddp.is_main) if W > 1 else None

    def step_fn(x: torch.Tensor, ctx: StepContext) -> StepOutput:
        progress = ctx.progress if agreed is None else agreed.progress(ctx)
        lr = cfg.lr * lr_factor(ctx.step, progress, cfg.warmup_steps, cfg.min_lr_frac)
        for group in opt.param_groups:
            group["lr"] = lr
        try:
            o, loss, mse = forward_backward(fns[0], x)
        except Exception as e:  # noqa: BLE001 - a compiler failure must not cost the run
            if fns[0] is net:
                raise
            log_event("compile_failed", error=f"{type(e).__name__}: {e}"[:500])
            fns[0] = net
            o, loss, mse = forward_backward(net, x)
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        losses = {"loss": loss.detach(), "mse": mse.detach()}
        if W > 1:  # log the global mean over the B images (equal shards: the mean of the ranks' means)
            both = all_reduce_mean(torch.stack([loss.detach().float(), mse.detach().float()]))  # (2,)
            losses = {"loss": both[0], "mse": both[1]}
        # grad_norm is the global one (after DDP's average); the codebook stats are this rank's shard's
        return StepOutput(losses=losses, metrics={"grad_norm": gnorm.detach()},
                          codebook=dict(o.stats), items=int(x.shape[0]) * W)

    # Under DDP the loop has no clock of its own: ranks would read theirs differently and part ways;
    # the minutes budget and the stop flag come from `agreed` (rank 0's clock, any rank's stop).
    # Rank 0 alone writes last/, best/ and the previews.
    loop = LoopConfig(steps=cfg.steps, minutes=(cfg.minutes or None) if W == 1 else None, log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every,
                      run_dir=str(run_dir) if (run_dir and ddp.is_main) else None,
                      best_metric="loss", best_mode="min",
                      preview_every=cfg.preview_every if (run_dir and ddp.is_main) else 0)

    def preview_fn(st: LoopState) -> Preview:
        """The first test images reconstructed by the model as it is now (the loop restores its mode and RNGs)."""
        st.model.eval()
        return write_preview(tok_cls(st.model, name=name), test.images[:PREVIEW_IMAGES], run_dir)

    log_event("start", model=cfg.model, data=cfg.data, preset=cfg.preset, seed=cfg.seed, device=str(device),
         train_images=int(N), test_images=int(len(test.images)), params=num_params(model),
         vocab_size=model.vocab_size, tokens=model.num_tokens, out=str(out),
         run_dir=str(run_dir) if run_dir else None, resume_step=state.step, world_size=W, backend=ddp.backend,
         model_config=dataclasses.asdict(mcfg), train_config=dataclasses.asdict(cfg))
    history: list[dict[str, Any]] = []
    model.train()
    done = DoneEvent(reason="steps", steps=state.step, seconds=state.elapsed)
    events = run_steps(state, step_fn, batches, loop, stop=stop if agreed is None else agreed,
                       preview_fn=preview_fn) if cfg.steps > 0 else iter([done])
    for ev in events:
        if isinstance(ev, StepEvent):
            history.append(step_record(ev))
        elif isinstance(ev, PreviewEvent):
            log_event("preview", step=ev.step, path=str(ev.data.path), rows=ev.data.rows)
        elif isinstance(ev, DoneEvent):
            if agreed is not None and ev.reason == "stopped":
                ev = dataclasses.replace(ev, reason=agreed.reason)
            done = ev
        log_loop_event(ev)
        yield ev

    model.eval()
    tok = tok_cls(model, name=name)
    in_sync = W == 1 or same_on_all_ranks(_fingerprint(model))  # every rank holds the same weights and buffers
    if not in_sync:
        log_event("warning", message=f"the {W} ranks ended with different weights or buffers")
    if not ddp.is_main:  # rank 0 evaluates and saves
        return TrainResult(folder=out, tokenizer=tok, metrics={}, steps=done.steps, seconds=done.seconds,
                           history=history, reason=done.reason, run_dir=run_dir, world_size=W)
    if cfg.weights == "float16":
        round_to_half(model)  # evaluate exactly the weights the checkpoint will hold
    t_eval = time.perf_counter()
    metrics = evaluate(tok, test.images, cfg.eval_batch)
    metrics.update(train_steps=done.steps, train_seconds=round(done.seconds, 1),
                   final_train_mse=history[-1]["mse"] if history else None,
                   params=num_params(model), device=str(device),
                   torch=torch.__version__, gpu=torch.cuda.get_device_name(device) if cuda else None,
                   world_size=W)
    if W > 1:
        metrics["ranks_in_sync"] = in_sync
    if refit is not None:
        metrics["codebook_refit"] = refit
    log_event("eval", seconds=round(time.perf_counter() - t_eval, 1), **metrics)
    tok.to("cpu")
    folder = tok.save(out, data_hash=train.data_hash, metrics=metrics,
                      extra={"train": dataclasses.asdict(cfg),
                             "data": {"name": cfg.data, "train_images": int(N), "test_hash": test.data_hash},
                             "distributed": {"world_size": W, "backend": ddp.backend}},
                      weights=cfg.weights)
    log_event("saved", folder=str(folder), bytes=sum(p.stat().st_size for p in Path(folder).iterdir()))
    return TrainResult(folder=Path(folder), tokenizer=tok, metrics=metrics, steps=done.steps, seconds=done.seconds,
                       history=history, reason=done.reason, run_dir=run_dir, world_size=W)


class _Agreement:
    """Under DDP, what every rank must see alike at each step: rank 0's clock (the minutes budget
    and the LR schedule follow it) and the stop flag (set on any rank, e.g. rank 0's job runner).
    One small all-reduce on the CPU per step; the run then ends on every rank after the same step.
    It is the loop's stop flag."""

    def __init__(self, stop: StopFlag, minutes: float | None, elapsed: float, is_main: bool) -> None:
        self.stop, self.budget, self.is_main = stop, (minutes * 60.0 if minutes else None), is_main
        self.elapsed0, self.t0 = elapsed, time.perf_counter()  # seconds trained before this process
        self.stopping, self.reason = False, "stopped"

    def progress(self, ctx: StepContext) -> float:
        """Agree before step ``ctx.step``; the larger of steps done and rank 0's budget used."""
        asked = stop_requested(self.stop)  # as run_steps: None means a job runner's signal or STOP file
        mine = self.elapsed0 + time.perf_counter() - self.t0 if self.is_main else 0.0
        votes, elapsed = agree([float(asked), mine])  # (any rank's stop, rank 0's seconds)
        out_of_time = self.budget is not None and elapsed >= self.budget
        self.stopping = votes > 0 or out_of_time
        self.reason = "stopped" if votes > 0 else "minutes"
        return min(1.0, max(ctx.step / ctx.steps, elapsed / self.budget if self.budget else 0.0))

    def __call__(self) -> bool:
        return self.stopping


def _fingerprint(model: torch.nn.Module) -> torch.Tensor:
    """(2 * tensors,) float64: the sum and the sum of squares of every weight and buffer."""
    ts = [t.detach().double() for t in model.state_dict().values()]
    return torch.stack([v for t in ts for v in (t.sum(), t.pow(2).sum())])


def step_record(ev: StepEvent) -> dict[str, Any]:
    """Print a StepEvent as the JSON line the image trainer has always logged, and return it."""
    mse = ev.losses["mse"]
    return log_event("step", step=ev.step, steps=ev.steps, loss=round(ev.losses["loss"], 5), mse=round(mse, 5),
                     psnr_train=round(10 * math.log10(4.0 / max(mse, 1e-10)), 2),
                     lr=round(ev.lr, 7), grad_norm=round(ev.metrics["grad_norm"], 3),
                     img_per_s=round(ev.items_per_s, 1), items_per_s=round(ev.items_per_s, 1), unit="images",
                     elapsed=round(ev.elapsed, 1),
                     eta_s=None if ev.eta_seconds is None else round(ev.eta_seconds, 1),
                     **{f"q_{k}": round(v, 4) for k, v in ev.codebook.items()})


def train_command(model: str, data: str, out: str, preset: str = "gpu") -> str:
    """The command line that trains a shipped checkpoint (named in CheckpointNotFound errors)."""
    return (f"PYTHONPATH=lib python3 -m tokenworks.image.train --model {model} --data {data} "
            f"--preset {preset} --seed 0 --out {out}")


def main(argv: list[str] | None = None) -> int:
    """The command line; under torchrun every process runs it (see ``iter_train_image``). A process
    group it joins itself it leaves again; one the caller created is left to the caller."""
    joined_before = torch.distributed.is_available() and torch.distributed.is_initialized()
    try:
        return _main(argv)
    finally:
        if not joined_before:
            cleanup()


def _main(argv: list[str] | None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tokenworks.image.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default=None, help="grid | flex1d (default flex1d)")
    ap.add_argument("--data", default=None, help="emoji32 | emoji64 (default) | photo32 | photo64 | mnist32")
    ap.add_argument("--preset", choices=["cpu-tiny", "default", "gpu"], default=None, help="default cpu-tiny")
    ap.add_argument("--seed", type=int, default=None, help="default 0")
    ap.add_argument("--out", default=None, help="checkpoint folder (default: runs/image/<model>-<data>-<preset>-s<seed>)")
    ap.add_argument("--name", default=None, help="tokenizer name saved in the checkpoint (default image/<model>-<data>)")
    ap.add_argument("--minutes", type=float, default=None, help="wall-clock budget for training (0: none)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--device", default=None, help="auto | cuda | cpu")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    ap.add_argument("--compile", action="store_true", default=None, help="torch.compile the model (CUDA)")
    ap.add_argument("--no-bf16", dest="bf16", action="store_false", default=None)
    ap.add_argument("--pairs", action="store_true", default=None, help="flex1d: decode two prefixes per image")
    ap.add_argument("--monotone-weight", type=float, default=None, help="flex1d with --pairs: penalty weight")
    ap.add_argument("--no-augment", dest="augment", action="store_false", default=None)
    ap.add_argument("--train-limit", type=int, default=None)
    ap.add_argument("--eval-limit", type=int, default=None)
    ap.add_argument("--log-every", type=int, default=None, help="steps between log lines")
    ap.add_argument("--checkpoint-every", type=int, default=None,
                    help="write <run-dir>/last every N steps and at the end, so the run can be resumed (0: never)")
    ap.add_argument("--run-dir", default=None, help="folder of last/ and best/ (default <out>.run)")
    ap.add_argument("--preview-every", type=int, default=None,
                    help="write <run-dir>/preview.png (test images reconstructed) every N steps (0: never)")
    ap.add_argument("--resume", default=None, metavar="RUN_DIR",
                    help="continue the run in RUN_DIR with its saved config (only --steps, --minutes, "
                         "--threads, --device, --checkpoint-every and --eval-limit may change)")
    ap.add_argument("--init", metavar="FOLDER", default=None,
                    help="warm start from this image checkpoint (its architecture and weights; --model and "
                         "--data default to its own; --set may change only "
                         + "; ".join(f"{m}: {', '.join(f)}" for m, f in WARM_START_FIELDS.items()) + ")")
    ap.add_argument("--refit-codebook", type=int, default=None, metavar="N",
                    help="with --init and a VQ model: N Lloyd iterations with splitting of the codebook over the "
                         "training images before training (LBG; quantizers.refit)")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                    help="override a model config field, e.g. --set width=256 --set 'levels=[8,8,8,5]'")
    a = ap.parse_args(argv)
    if a.resume:
        given = {"steps": a.steps, "minutes": a.minutes, "threads": a.threads, "device": a.device,
                 "checkpoint_every": a.checkpoint_every, "eval_limit": a.eval_limit}
        others = {k: v for k, v in vars(a).items() if k not in given and k not in ("resume", "set") and v is not None}
        if others or a.set:
            bad = sorted(others) + (["set"] if a.set else [])
            ap.error(f"--resume keeps the saved config; {', '.join('--' + b.replace('_', '-') for b in bad)} "
                     f"cannot change (allowed: {', '.join('--' + k.replace('_', '-') for k in given)})")
        try:
            resume(a.resume, **given)
        except TokenworksError as e:  # a missing or foreign run folder: say so without a traceback
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    overrides = parse_set_overrides(a.set)
    try:
        return _train_from_args(a, overrides)
    except TokenworksError as e:  # an unknown data set, a config too big for the memory, a full disk
        print(f"error: {e}", file=sys.stderr)
        return 2


def _train_from_args(a: argparse.Namespace, overrides: dict[str, Any]) -> int:
    model, data = a.model, a.data
    if a.init:  # a warm start: the model kind and data set default to the checkpoint's own
        source = init_source(a.init)
        model, data = model or source.model, data or source.data
    cfg = preset_config(model or "flex1d", a.preset or "cpu-tiny", data=data or "emoji64", seed=a.seed or 0,
                        out=a.out, name=a.name, minutes=a.minutes, steps=a.steps, batch_size=a.batch_size, lr=a.lr,
                        device=a.device, threads=a.threads, compile=a.compile, bf16=a.bf16, pairs=a.pairs,
                        monotone_weight=a.monotone_weight, augment=a.augment, train_limit=a.train_limit,
                        eval_limit=a.eval_limit, log_every=a.log_every, checkpoint_every=a.checkpoint_every,
                        run_dir=a.run_dir, preview_every=a.preview_every, init=a.init,
                        refit_codebook=a.refit_codebook, model_config=overrides)
    train_image(cfg)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
