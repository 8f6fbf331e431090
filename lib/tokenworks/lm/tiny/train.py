"""Train one tournament contestant from scratch: ``python -m tokenworks.train lm ...``.

    python -m tokenworks.train lm --input bytes --preset cpu --seed 0
    python -m tokenworks.train lm --input tokens --tokenizer text/cl100k_base --preset cpu-tiny
    PYTHONPATH=lib python -m tokenworks.lm.tiny.train --input delete --preset cpu-tiny --out /tmp/del

The text is a corpus of ``tokenworks.lm.tiny.data`` (train split; the test split is held out by
document), encoded by the contestant's tokenizer (bytes for the byte inputs). The budget is
training FLOPs (``train_config``); the model, the steps and the FLOPs actually spent are saved
with the checkpoint, and the held-out score (``evaluate``) goes into its config.json.

Resumable (``tokenworks.train.loop``): ``--checkpoint-every N`` writes ``<out>.run/last`` every N
steps; ``--resume RUN_DIR`` continues with the saved config and, on the CPU, ends with the same
weights as a run never interrupted.

Several processes, one model (DistributedDataParallel, ``tokenworks.train.distributed``):

    torchrun --nproc_per_node=2 -m tokenworks.lm.tiny.train --input bytes --preset cpu

Every rank draws the same global batch of ``batch_size`` windows and trains on its share (rank r
takes windows r::W); DDP averages the gradients, so the step is the one a single process takes on
the global batch. Rank 0 alone logs, writes checkpoints, evaluates and saves.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generator

import numpy as np
import torch

from ...checkpoint import save_checkpoint
from ...errors import InvalidInput, TokenworksError
from ...paths import runs_dir
from ...train.common import adamw, drain, log_event, lr_factor, seed_everything, set_quiet
from ...train.distributed import (Agreement, all_reduce_mean, all_reduce_sum, cleanup, init_distributed,
                                  fingerprint, local_batch_size, same_on_all_ranks, shard, wrap_ddp)
from ...train.config_cli import add_config_options, add_resume_option, given_options, resume_overrides
from ...train.loop import (DoneEvent, Event, LoopConfig, LoopState, SavedState, StepContext, StepEvent, StepOutput,
                           StopFlag, load_for_resume, log_loop_event, restore, run_paths, run_steps)
from ...train.memory import check_fits, estimate_training_memory
from .config import BYTE_INPUTS, TinyConfig, check_config
from .data import CORPORA, EncodedSplit, encode_split, load_text
from .evaluate import HeldOutScore, evaluate
from .flops import TRAIN_FACTOR
from .model import TinyLM
from .train_config import PRESETS, TinyTrainConfig, check_train_config, preset_config

TRAINER = "tokenworks.lm.tiny.train"
KIND = "lm/tiny"  # checkpoint kind
RESUME_OVERRIDES = ("minutes", "threads", "device", "checkpoint_every", "eval_bytes")
BYTES = "text/bytes"


@dataclass
class TinyTrainResult:
    folder: Path  # the saved checkpoint
    model: TinyLM  # trained (CPU, eval mode)
    config: TinyConfig
    score: HeldOutScore | None  # held-out, with the hard gate (None on ranks other than 0)
    metrics: dict[str, Any]  # everything in config.json's metrics
    steps: int
    seconds: float  # training wall time
    flops: float  # training FLOPs spent (counted)
    history: list[dict[str, Any]]  # the logged step events
    reason: str = "steps"  # steps | minutes | stopped
    run_dir: Path | None = None


def contestant(cfg: TinyTrainConfig) -> str:
    """A short name: bytes, delete, words, or the tokenizer's name without its folder."""
    if cfg.input in BYTE_INPUTS:
        return cfg.input
    return cfg.tokenizer.rstrip("/").split("/")[-1].split(":")[-1]


def load_tokenizer(cfg: TinyTrainConfig) -> Any:
    """text/bytes for the byte inputs; else a registry name, run:<folder> or a saved tokenizer folder."""
    from .tokenizers import load_contestant

    return load_contestant(BYTES if cfg.input in BYTE_INPUTS else cfg.tokenizer)


@dataclass
class Prepared:
    model_config: TinyConfig
    train: EncodedSplit
    test: EncodedSplit


def prepare(cfg: TinyTrainConfig) -> Prepared:
    """Load and encode the text; size the window to ``context_bytes``."""
    if cfg.corpus not in CORPORA:
        raise InvalidInput(f"corpus must be one of {', '.join(CORPORA)}, not {cfg.corpus!r}")
    tok = load_tokenizer(cfg)
    train = encode_split(tok, load_text(cfg.corpus, "train", cfg.train_bytes))
    test = encode_split(tok, load_text(cfg.corpus, "test", cfg.eval_bytes or None))
    seq_len = cfg.context_bytes if cfg.input in BYTE_INPUTS else max(8, round(cfg.context_bytes / train.bytes_per_token))
    if len(train.ids) < 4 * (seq_len + 1) * cfg.batch_size:
        raise InvalidInput(f"the {cfg.corpus} train text ({train.n_bytes:,} bytes, {len(train.ids):,} ids) is too small "
                           f"for this preset: one batch alone is {cfg.batch_size} windows of {seq_len + 1} ids. "
                           "Raise train_bytes or lower batch_size or context_bytes")
    mcfg = TinyConfig(input=cfg.input, vocab_size=train.vocab_size, seq_len=seq_len, **cfg.model)
    check_config(mcfg)
    return Prepared(mcfg, train, test)


def windows(ids: np.ndarray, T: int, B: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """B random windows of the stream: inputs (B, T) and next ids (B, T)."""
    starts = rng.integers(0, len(ids) - T - 1, size=B)
    idx = starts[:, None] + np.arange(T + 1)[None, :]  # (B, T + 1)
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def forward_flops_per_step(model: TinyLM, ids: np.ndarray, B: int, seed: int, device: torch.device) -> float:
    """Forward FLOPs of one training batch (the mean of 8 batches drawn apart from the run's own:
    the word model's middle length depends on the text)."""
    rng = np.random.default_rng(seed + 7919)
    total = 0
    with torch.no_grad():
        for _ in range(8):
            x, _y = windows(ids, model.cfg.seq_len, B, rng)
            total += model(torch.from_numpy(x).to(device)).flops.total  # the gate as in training
    return total / 8


def _paths(cfg: TinyTrainConfig) -> tuple[Path, Path | None]:
    return run_paths(cfg.out, runs_dir() / "lm" / "tiny" / f"{cfg.corpus}-{contestant(cfg)}-{cfg.preset}-s{cfg.seed}",
                     cfg.run_dir, cfg.checkpoint_every)


def train_tiny(cfg: TinyTrainConfig, *, resume_from: SavedState | None = None, stop: StopFlag = None,
               prepared: Prepared | None = None) -> TinyTrainResult:
    """Train, score the held-out text, save; see the module docstring."""
    return drain(iter_train_tiny(cfg, resume_from=resume_from, stop=stop, prepared=prepared))


def resume(run_dir: str | Path, *, stop: StopFlag = None, **overrides: Any) -> TinyTrainResult:
    """Continue the run whose last/ is in ``run_dir`` (only ``RESUME_OVERRIDES`` may change)."""
    cfg, saved = load_for_resume(run_dir, TRAINER, TinyTrainConfig, overrides, RESUME_OVERRIDES)
    return train_tiny(cfg, resume_from=saved, stop=stop)


def iter_train_tiny(cfg: TinyTrainConfig, *, resume_from: SavedState | None = None, stop: StopFlag = None,
                    prepared: Prepared | None = None) -> Generator[Event, None, TinyTrainResult]:
    """``train_tiny`` as a generator of the loop's events; returns the TinyTrainResult."""
    check_train_config(cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    ddp = init_distributed(cfg.device)  # without torchrun: world 1, no process group
    W, rank, device = ddp.world_size, ddp.rank, ddp.device
    local_batch_size(cfg.batch_size, W)  # the global batch must split evenly over the ranks
    if W > 1:
        set_quiet(not ddp.is_main)
    seed_everything(cfg.seed)
    p = prepared or prepare(cfg)
    mcfg, train, test = p.model_config, p.train, p.test
    T, B = mcfg.seq_len, cfg.batch_size
    check_fits(estimate_training_memory(lambda: TinyLM(mcfg), lambda m, n: m(torch.zeros(n, T, dtype=torch.long)),
                                        batch_size=B // W, data_bytes=train.ids.nbytes, device=device),
               hint="the model (--d-model, --n-layer through --set) or batch_size or context_bytes")
    model = TinyLM(mcfg).to(device)
    fwd = forward_flops_per_step(model, train.ids, B, cfg.seed, device)
    steps = cfg.steps or max(1, int(cfg.flops // (TRAIN_FACTOR * fwd)))
    out, run_dir = _paths(cfg)
    cfg = dataclasses.replace(cfg, out=str(out), run_dir=str(run_dir) if run_dir else None)
    name = cfg.name or f"lm/tiny-{contestant(cfg)}"
    opt = adamw(model, cfg.lr, (0.9, 0.95), cfg.weight_decay)
    state = LoopState(model=model, optimizer=opt, rng=np.random.default_rng(cfg.seed), config=dataclasses.asdict(cfg),
                      name=name, data_hash=train.data_hash, trainer=TRAINER)
    if resume_from is not None:
        restore(state, resume_from)
    net = wrap_ddp(model, device)  # DistributedDataParallel under torchrun, else the model itself
    ids = train.ids
    bytes_per_id = train.n_bytes / max(1, train.n_tokens)

    def batches(rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's windows of the global batch (every rank draws the same B from ``rng``)."""
        x, y = windows(ids, T, B, rng)
        return torch.from_numpy(shard(x, rank, W)).to(device), torch.from_numpy(shard(y, rank, W)).to(device)

    agreed = Agreement(stop, cfg.minutes, state.elapsed, ddp.is_main) if W > 1 else None

    def step_fn(batch: tuple[torch.Tensor, torch.Tensor], ctx: StepContext) -> StepOutput:
        progress = ctx.progress if agreed is None else agreed.progress(ctx)
        lr = cfg.lr * lr_factor(ctx.step, progress, cfg.warmup_steps, cfg.min_lr_frac)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch
        model.set_progress(progress)
        o = net(x, y)
        opt.zero_grad(set_to_none=True)
        o.loss.backward()  # DDP: the gradients are averaged over the ranks here
        gnorm = [torch.nn.utils.clip_grad_norm_(g, cfg.grad_clip) for g in model.clip_groups()][0]  # the gate apart
        opt.step()
        flops = torch.tensor(float(TRAIN_FACTOR * o.flops.total), dtype=torch.float64)
        losses = torch.stack([o.loss.detach().float(), o.nll.detach().float()])  # (2,)
        if W > 1:  # the global numbers: FLOPs summed over the ranks, the losses their mean (equal shards)
            flops, losses = all_reduce_sum(flops), all_reduce_mean(losses)
        model.train_flops += flops
        metrics = {"grad_norm": gnorm.detach(), "flops": float(flops)}
        if o.kept is not None:
            metrics["kept"] = float(o.kept[:, 1:].float().mean())
        return StepOutput(losses={"loss": losses[0], "nll": losses[1]}, metrics=metrics,
                          items=int(x.numel() * W * bytes_per_id))  # bytes of text

    loop = LoopConfig(steps=steps, minutes=cfg.minutes if W == 1 else None, log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every, run_dir=str(run_dir) if (run_dir and ddp.is_main) else None,
                      best_metric="nll", best_mode="min")
    log_event("start", contestant=contestant(cfg), input=cfg.input, tokenizer=cfg.tokenizer or BYTES, corpus=cfg.corpus,
              preset=cfg.preset, seed=cfg.seed, device=str(device), steps=steps, flops_budget=cfg.flops,
              flops_per_step=round(TRAIN_FACTOR * fwd), seq_len=T, vocab_size=mcfg.vocab_size,
              train_bytes=train.n_bytes, train_tokens=train.n_tokens, bytes_per_token=round(train.bytes_per_token, 3),
              non_embedding_params=model.non_embedding_params(), out=str(out),
              run_dir=str(run_dir) if run_dir else None, resume_step=state.step, world_size=W, backend=ddp.backend,
              model_config=dataclasses.asdict(mcfg), train_config=dataclasses.asdict(cfg))
    history: list[dict[str, Any]] = []
    model.train()
    done = DoneEvent(reason="steps", steps=state.step, seconds=state.elapsed)
    for ev in run_steps(state, step_fn, batches, loop, stop=stop if agreed is None else agreed):
        if isinstance(ev, StepEvent):
            history.append(step_record(ev))
        elif isinstance(ev, DoneEvent):
            if agreed is not None and ev.reason == "stopped":
                ev = dataclasses.replace(ev, reason=agreed.reason)
            done = ev
        log_loop_event(ev)
        yield ev
    in_sync = W == 1 or same_on_all_ranks(fingerprint(model))
    if not in_sync:
        log_event("warning", message=f"the {W} ranks ended with different weights or buffers")
    if not ddp.is_main:  # rank 0 evaluates and saves
        model.eval()
        return TinyTrainResult(out, model, mcfg, None, {}, done.steps, done.seconds, float(model.train_flops),
                               history, reason=done.reason, run_dir=run_dir)

    score = evaluate(model, test.ids, test.sep_id, test.n_bytes, batch_size=B)
    metrics = {**dataclasses.asdict(score), "train_steps": done.steps, "train_seconds": round(done.seconds, 1),
               "train_flops": float(model.train_flops), "train_bytes_per_s": round(done.steps * B * T * bytes_per_id
                                                                                  / max(done.seconds, 1e-9), 1),
               "train_tokens_per_byte": train.n_tokens / train.n_bytes, "seq_len": T, "vocab_size": mcfg.vocab_size,
               "non_embedding_params": model.non_embedding_params(), "device": str(device),
               "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None, "torch": torch.__version__,
               "world_size": W, "ranks_in_sync": in_sync,
               "heldout_hash": test.data_hash}
    if mcfg.input == "delete":
        soft = evaluate(model, test.ids, test.sep_id, test.n_bytes, batch_size=B, hard=False)
        metrics["soft_bits_per_byte"] = soft.bits_per_byte
    log_event("eval", **{k: (round(v, 5) if isinstance(v, float) else v) for k, v in metrics.items()})
    model.eval().to("cpu")
    folder = save_checkpoint(out, kind=KIND, name=name, config=mcfg, tensors=model.state_dict(),
                             data_hash=train.data_hash, metrics=metrics,
                             extra={"train": dataclasses.asdict(cfg), "tokenizer": cfg.tokenizer or BYTES,
                                    "contestant": contestant(cfg), "trainer": TRAINER})
    log_event("saved", folder=str(folder))
    return TinyTrainResult(Path(folder), model, mcfg, score, metrics, done.steps, done.seconds,
                           float(model.train_flops), history, reason=done.reason, run_dir=run_dir)


def step_record(ev: StepEvent) -> dict[str, Any]:
    """Print a StepEvent as a "step" JSON line and return it; items_per_s is text bytes a second."""
    m = ev.metrics
    return log_event("step", step=ev.step, steps=ev.steps, loss=round(ev.losses["loss"], 4),
                     bits_per_token=round(ev.losses["nll"] / np.log(2), 4), lr=round(ev.lr, 6),
                     grad_norm=round(m["grad_norm"], 3), kept=round(m["kept"], 3) if "kept" in m else None,
                     items_per_s=round(ev.items_per_s, 1), unit="bytes", elapsed=round(ev.elapsed, 1),
                     eta_s=None if ev.eta_seconds is None else round(ev.eta_seconds, 1))


def main(argv: list[str] | None = None) -> int:
    """The CLI; a bad argument prints its message (exit 2), not a traceback. Under torchrun every
    process runs it; a process group it joined itself it leaves again."""
    joined_before = torch.distributed.is_available() and torch.distributed.is_initialized()
    try:
        return _main(argv)
    except SystemExit as e:
        return int(e.code or 0)
    except TokenworksError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if not joined_before:
            cleanup()


def parser() -> tuple[argparse.ArgumentParser, list[str]]:
    ap = argparse.ArgumentParser(prog="python -m tokenworks.train lm", description=__doc__.split("\n\n")[0],
                                 epilog="A preset's settings replace the defaults shown; the options given replace both.")
    fields = add_config_options(ap, TinyTrainConfig, skip=("model",),
                                choices={"input": ["tokens", "bytes", "delete", "words"], "preset": sorted(PRESETS),
                                         "corpus": list(CORPORA)},
                                metavars={"out": "FOLDER", "run_dir": "FOLDER", "tokenizer": "NAME"})
    add_resume_option(ap, RESUME_OVERRIDES)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                    help="a TinyConfig field of the model, e.g. --set d_model=256 --set n_layer=6")
    return ap, fields


def _main(argv: list[str] | None = None) -> int:
    from ...train.common import parse_set_overrides

    ap, fields = parser()
    a = ap.parse_args(argv)
    if a.resume:
        resume(a.resume, **resume_overrides(a, RESUME_OVERRIDES))
        return 0
    given = given_options(a, fields)
    train_tiny(preset_config(given.pop("preset", None) or "cpu-tiny", model=parse_set_overrides(a.set), **given))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
