"""Train an image tokenizer (grid VQ-VAE or ordered 1D flex1d) on one of the image data sets.

    PYTHONPATH=lib python3 -m tokenworks.image.train --model flex1d --data emoji64 --preset gpu \
        --seed 0 --out data/checkpoints/image/flex1d-emoji64

The commands of the shipped checkpoints are in data/checkpoints/image/README.md (one H100, the gpu
preset stopping on its wall-clock budget; the steps reached are in each config.json).

Resumable: ``--checkpoint-every N`` writes ``<out>.run/last/`` (weights, optimizer, step, RNG
states, config) every N steps and when training ends, and ``<out>.run/best/`` (lowest training
loss over the last log window); after a crash or kill,

    PYTHONPATH=lib python3 -m tokenworks.image.train --resume data/checkpoints/image/flex1d-emoji64.run

continues with the saved config and, on the CPU and without a ``--minutes`` budget, ends with the
same weights as a run never interrupted (tokenworks.train.loop).

Warm start (fine-tuning): ``--init FOLDER`` starts from a saved grid or flex1d checkpoint's
weights (as float32, codebooks and their EMA buffers included); its architecture wins, so
``--set`` and the preset may change only the training-time fields of ``warm_start.WARM_START_FIELDS``;
``--model`` and ``--data`` default to the checkpoint's own and must match its architecture and
image size; ``--steps 0`` only evaluates and re-saves it:

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

This file is the training loop and its command line; the rest lives beside it, one idea a file:
``train_config`` (TrainConfig: every option, its comment the option's help; the presets),
``augment`` (flips, colour permutations, shifts), ``loss`` (log-MSE, the monotone pair penalty),
``evaluate`` (PSNR per k, budgets, codebook health), ``warm_start`` (--init, --refit-codebook) and
``train.distributed`` (DDP, the agreed clock).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generator

import numpy as np
import torch

from ..checkpoint import round_to_half
from ..errors import InvalidInput, TokenworksError
from ..paths import runs_dir
from ..train.common import (adamw, check_fields, drain, log_event, lr_factor, parse_set_overrides, seed_everything,
                            set_quiet)
from ..train.config_cli import add_config_options, add_resume_option, given_options, resume_overrides
from ..train.distributed import (Agreement, all_reduce_mean, broadcast_object, cleanup, fingerprint, init_distributed,
                                 local_batch_size, main_first, same_on_all_ranks, shard, wrap_ddp)
from ..train.loop import (DoneEvent, Event, LoopConfig, LoopState, PreviewEvent, SavedState, StepContext, StepEvent,
                          StepOutput, StopFlag, load_for_resume, log_loop_event, restore, run_paths, run_steps)
from ..train.memory import check_fits, estimate_training_memory
from ._nn import num_params, to_pixels
from .augment import augment, draw_augment
from .data import load_dataset
from .evaluate import evaluate
from .loss import LOSSES, reconstruction_loss
from .preview import PREVIEW_IMAGES, Preview, write_preview
from .tokenizer import MODELS, Flex1DTokenizer, GridTokenizer, ImageTokenizer, build_model
from .train_config import PRESETS, TrainConfig, preset_config
from .warm_start import WARM_START_FIELDS, init_source, load_warm_start, refit_to_images

TRAINER = "tokenworks.image.train"  # recorded in the run checkpoints, checked by resume()
RESUME_OVERRIDES = ("steps", "minutes", "threads", "device", "checkpoint_every", "eval_limit", "eval_batch")


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


def _model(cfg: TrainConfig, images: np.ndarray, W: int, device: torch.device,
           resumed: bool) -> tuple[torch.nn.Module, Any, dict[str, Any] | None]:
    """The model to train on ``images`` (N, S, S, 3), on ``device``: a new one (refused if it cannot fit
    in memory) or ``cfg.init``'s weights; its config; the codebook refit's report (None: no refit).
    A resumed run takes its weights and codebook from last/, not from init."""
    S = int(images.shape[1])
    _, config_cls = MODELS[cfg.model]
    check_fields(config_cls, cfg.model_config, cfg.model)
    warm = load_warm_start(cfg.init, cfg.model, cfg.model_config, S) if cfg.init else None
    mcfg = warm.config if warm else dataclasses.replace(config_cls(), **{**cfg.model_config, "image_size": S})
    check_fits(estimate_training_memory(  # refuse a config too large for the memory before allocating it
        lambda: build_model(cfg.model, mcfg), lambda m, n: m(torch.zeros(n, 3, S, S)),
        batch_size=local_batch_size(cfg.batch_size, W), data_bytes=int(images.nbytes), device=device),
        hint="the model (--set width=..., channels=...)")
    model = build_model(cfg.model, mcfg)
    if warm is not None and not resumed:
        model.load_state_dict(warm.state, strict=True)
    model = model.to(device)
    if not cfg.refit_codebook or resumed:
        return model, mcfg, None
    if not cfg.init:
        raise InvalidInput("refit_codebook refits the codebook of a trained model: use it with --init FOLDER")
    refit = refit_to_images(model, images, cfg.refit_codebook, device)
    log_event("refit", **refit)
    return model, mcfg, refit


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
    if cfg.loss not in LOSSES:
        raise InvalidInput(f"loss must be {' or '.join(LOSSES)}, not {cfg.loss!r}")
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
    model, mcfg, refit = _model(cfg, train.images, W, device, resumed=resume_from is not None)
    tok_cls = GridTokenizer if cfg.model == "grid" else Flex1DTokenizer
    name = cfg.name or f"image/{cfg.model}-{Path(cfg.data).name}"  # data: a data set name or a folder of yours
    out, run_dir = _paths(cfg)
    cfg = dataclasses.replace(cfg, out=str(out), run_dir=str(run_dir) if run_dir else None)

    images = torch.from_numpy(np.array(train.images)).to(device)  # (N, S, S, 3) uint8, all in memory
    N = images.shape[0]
    gen = torch.Generator(device=device)  # augmentation; reseeded from the batch rng every step
    opt = adamw(model, cfg.lr, cfg.betas, cfg.weight_decay, fused=cuda)
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
        loss, mse = reconstruction_loss(o, x, cfg.loss, cfg.monotone_weight if pairs else 0.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # DDP: the gradients are averaged over the ranks here
        return o, loss, mse

    agreed = Agreement(stop, cfg.minutes or None, state.elapsed, ddp.is_main) if W > 1 else None

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
    in_sync = W == 1 or same_on_all_ranks(fingerprint(model))  # every rank holds the same weights and buffers
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


def main(argv: list[str] | None = None) -> int:
    """The command line; under torchrun every process runs it (see ``iter_train_image``). A process
    group it joins itself it leaves again; one the caller created is left to the caller."""
    joined_before = torch.distributed.is_available() and torch.distributed.is_initialized()
    try:
        return _main(argv)
    except SystemExit as e:  # argparse said why, or printed --help: its exit status, as the text trainer's
        return int(e.code or 0)
    except TokenworksError as e:  # a bad option or run folder, an unknown data set, a config too big, a full disk
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if not joined_before:
            cleanup()


def parser() -> tuple[argparse.ArgumentParser, list[str]]:
    """The options: one for every TrainConfig field (its comment is the help), then those of the
    command alone; and the names of the field options."""
    ap = argparse.ArgumentParser(prog="python -m tokenworks.image.train", description=__doc__.split("\n\n")[0],
                                 epilog="A preset's settings replace the defaults shown; the options given replace both.")
    warm = "; ".join(f"{m}: {', '.join(f)}" for m, f in WARM_START_FIELDS.items())
    fields = add_config_options(
        ap, TrainConfig, skip=("model_config",),
        choices={"model": sorted(MODELS), "preset": sorted(PRESETS["flex1d"]), "loss": LOSSES,
                 "weights": ("float32", "float16")},
        metavars={"init": "FOLDER", "refit_codebook": "N", "out": "FOLDER", "run_dir": "FOLDER"},
        more_help={"init": f"(--model and --data default to its own; WARM_START_FIELDS: {warm})"})
    add_resume_option(ap, RESUME_OVERRIDES)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                    help="override a model config field, e.g. --set width=256 --set 'levels=[8,8,8,5]'")
    return ap, fields


def _main(argv: list[str] | None) -> int:
    ap, fields = parser()
    a = ap.parse_args(argv)
    if a.resume:
        resume(a.resume, **resume_overrides(a, RESUME_OVERRIDES))
        return 0
    given = given_options(a, fields)
    model, data = given.pop("model", None), given.pop("data", None)
    if a.init:  # a warm start: the architecture and the data set default to the checkpoint's own
        source = init_source(a.init)
        model, data = model or source.model, data or source.data
    cfg = preset_config(model or "flex1d", given.pop("preset", None) or "cpu-tiny", data=data or "emoji64",
                        model_config=parse_set_overrides(a.set), **given)
    train_image(cfg)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
