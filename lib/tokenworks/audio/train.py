"""Train the neural speech codec (``audio/codec.py``) and save it as a tokenworks checkpoint.

    PYTHONPATH=lib python3 -m tokenworks.audio.train --preset cpu --seed 0 \
        --out data/checkpoints/audio/rvq-speech16k

Presets (``train_config``): ``cpu-tiny`` (a toy for tests), ``cpu`` (C = 128, two CPU cores against
a wall-clock budget), ``gpu`` (the model that ships, see data/checkpoints/audio/README.md);
``--design single`` trains the single-codebook variant (one token per frame). Training audio
(``train_data``): the train split of ``tokenworks.audio.data`` (synthetic multilingual speech), or
``--wav-dir`` (any folder of audio files, or a .twpack.npz). Held-out evaluation (``evaluate``):
that module's held-out split (sentences and a voice never trained on), or ``--eval-dir``.
``--init FOLDER`` warm-starts from a saved codec (``warm_start``); ``--speed-factors 0.9,1.1``
adds sped-up copies of the training clips (``augment``); ``--augment`` makes most training crops
sound recorded (``recording_augment``: room, background noise from ``background``, microphone,
level, clipping; evaluation clips never are).

Resumable (``tokenworks.train.loop``): ``--checkpoint-every N`` writes ``<out>.run/last/``
(weights, codebooks, optimizer, step, RNG states, config) every N steps and when training ends,
and ``<out>.run/best/`` (lowest training loss over the last log window); after a crash or kill,

    PYTHONPATH=lib python3 -m tokenworks.audio.train --resume runs/audio/rvq-cpu-s0.run

continues with the saved config and, on the CPU and without a ``--minutes`` budget, ends with the
same weights as a run never interrupted (every crop, gain and quantizer-dropout draw comes from
the saved RNG states).

It logs one JSON object per line (``"event": "start" | "step" | "checkpoint" | "done" | "eval" |
"saved"``; the numbers of a "step" line are means over the steps since the last one), stops at
``steps`` or at ``minutes`` (the learning-rate schedule follows whichever comes first), evaluates
every k = 1..K codebooks on the held-out clips and saves the checkpoint atomically with those
metrics in its config.json.
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

from ..errors import InvalidInput, TokenworksError
from ..paths import runs_dir
from ..train.common import (adamw, check_fields, drain, log_event, lr_factor, parse_set_overrides, pick_device,
                            seed_everything)
from ..train.config_cli import add_config_options, add_resume_option, given_options, resume_overrides
from ..train.loop import (DoneEvent, Event, LoopConfig, LoopState, SavedState, StepContext, StepEvent, StepOutput,
                          StopFlag, load_for_resume, log_loop_event, restore, run_paths, run_steps)
from ..train.memory import check_fits, estimate_training_memory
from .augment import check_factors, speed_copies
from .background import BackgroundSet, background_sounds
from .codec import Codec, CodecConfig
from .codec_loss import CodecLoss, LossConfig
from .codec_tokenizer import CodecTokenizer
from .evaluate import evaluate_checkpoint, evaluate_codec
from .recording_augment import RecordingAugmentConfig, augment_batch, augment_config, check_config
from .train_config import DESIGNS, NAMES, PRESETS, CodecTrainConfig, preset_config
from .train_data import AudioSet, crop_batch, load_split, read_folder
from .warm_start import load_warm_start

TRAINER = "tokenworks.audio.train"  # recorded in the run checkpoints, checked by resume() (train.loop.TRAINER_ALIASES:
# runs written as tokenworks.audio.codec_train resume here too)
RESUME_OVERRIDES = ("steps", "minutes", "threads", "device", "checkpoint_every", "eval_clips", "eval_dir")


@dataclass
class CodecTrainResult:
    folder: Path  # the saved checkpoint
    model: Codec  # the trained model (CPU, eval mode)
    metrics: dict[str, Any]  # held-out evaluation, also in config.json
    steps: int
    seconds: float  # training wall time (without eval and save)
    history: list[dict[str, Any]]  # the logged step events
    reason: str = "steps"  # why training ended: steps | minutes | stopped
    run_dir: Path | None = None  # the folder of last/ and best/ (None: none were written)


def train_codec(cfg: CodecTrainConfig, *, resume_from: SavedState | None = None,
                stop: StopFlag = None) -> CodecTrainResult:
    """Train, evaluate on the held-out clips, save; see the module docstring. ``resume_from``
    (``load_last(run_dir)``) continues a run; ``stop`` ends it cleanly between steps."""
    return drain(iter_train_codec(cfg, resume_from=resume_from, stop=stop))


def resume(run_dir: str | Path, *, stop: StopFlag = None, **overrides: Any) -> CodecTrainResult:
    """Continue the run whose ``last/`` is in ``run_dir`` with the config saved there.

    Only ``RESUME_OVERRIDES`` may change (e.g. ``steps`` to train longer; that also stretches the
    LR schedule, so the result is no longer the one of the original run). A run warm-started with
    ``init`` reads that checkpoint's model config again (its weights come from ``last/``)."""
    cfg, saved = load_for_resume(run_dir, TRAINER, CodecTrainConfig, overrides, RESUME_OVERRIDES)
    return train_codec(cfg, resume_from=saved, stop=stop)


def _paths(cfg: CodecTrainConfig) -> tuple[Path, Path | None]:
    """The final checkpoint folder and the run folder of last/ and best/ (None: no run checkpoints)."""
    return run_paths(cfg.out, runs_dir() / "audio" / f"{cfg.design}-{cfg.preset}-s{cfg.seed}", cfg.run_dir,
                     cfg.checkpoint_every)


def iter_train_codec(cfg: CodecTrainConfig, *, resume_from: SavedState | None = None,
                     stop: StopFlag = None) -> Generator[Event, None, CodecTrainResult]:
    """``train_codec`` as a generator: yields the loop's events (and prints them as JSON lines),
    then evaluates and saves, and returns the CodecTrainResult (``StopIteration.value``).
    ``steps=0`` trains nothing (e.g. ``--init`` to re-save a checkpoint with new metrics)."""
    if cfg.design not in DESIGNS:
        raise InvalidInput(f"unknown codec design {cfg.design!r}; choose one of {', '.join(DESIGNS)}")
    if cfg.steps < 0:
        raise InvalidInput(f"steps must be 0 (no training) or more, not {cfg.steps}")
    check_factors(cfg.speed_factors)
    aug = augment_config(cfg.augment_config) if cfg.augment else None  # checked before anything is built
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    check_fields(CodecConfig, cfg.model_config, "the codec")
    if cfg.init:
        warm = load_warm_start(cfg.init, cfg.model_config)
        mcfg = warm.config
        model = Codec(mcfg)
        model.load_state_dict(warm.state, strict=True)
        model = model.to(device)
    else:
        mcfg = CodecConfig(**cfg.model_config)
        samples = int(cfg.segment_seconds * mcfg.sample_rate)
        check_fits(estimate_training_memory(  # refuse a config too large for the memory before allocating it
            lambda: Codec(mcfg), lambda m, n: m(torch.zeros(n, samples)),
            batch_size=cfg.batch_size, data_bytes=int(cfg.data_minutes * 60 * mcfg.sample_rate * 4), device=device),
            hint="the codec (--set width=...) or segment_seconds")
        model = Codec(mcfg).to(device)
    loss_fn = CodecLoss(LossConfig(**{"n_fft": mcfg.n_fft, "hop": mcfg.hop, **cfg.loss}), mcfg.sample_rate).to(device)
    train = read_folder(cfg.wav_dir) if cfg.wav_dir else load_split("train", cfg.data_minutes, cfg.seed)
    if cfg.speed_factors:  # the data hash stays that of the clips; the factors are in the config
        train = dataclasses.replace(train, waves=speed_copies(train.waves, cfg.speed_factors))
    heldout = (AudioSet([], [], [], "") if not cfg.eval_clips else read_folder(cfg.eval_dir, cfg.eval_clips)
               if cfg.eval_dir else load_split("heldout", cfg.data_minutes, cfg.seed))
    name = cfg.name or NAMES[cfg.design]
    out, run_dir = _paths(cfg)
    cfg = dataclasses.replace(cfg, out=str(out), run_dir=str(run_dir) if run_dir else None)

    opt = adamw(model, cfg.lr, (0.8, 0.99), cfg.weight_decay)
    state = LoopState(model=model, optimizer=opt, rng=np.random.default_rng(cfg.seed),
                      config=dataclasses.asdict(cfg), name=name, data_hash=train.data_hash, trainer=TRAINER)
    if resume_from is not None:
        restore(state, resume_from)
    segment = int(cfg.segment_seconds * mcfg.sample_rate)
    sr = mcfg.sample_rate
    if aug is not None:
        check_config(aug, sr)
    noises = load_noises(aug)
    batches = training_batches(train.waves, segment, cfg.batch_size, sr, device, aug, noises.waves)

    def step_fn(x: torch.Tensor, ctx: StepContext) -> StepOutput:
        lr = cfg.lr * lr_factor(ctx.step, ctx.progress, cfg.warmup_steps, cfg.min_lr_frac)
        for g in opt.param_groups:
            g["lr"] = lr
        o = model(x)  # quantizer dropout draws k from the torch RNG (saved with the run)
        parts = loss_fn(o.recon, x)
        loss = parts.total + o.aux_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        return StepOutput(losses={"loss": loss.detach(), "mel": parts.mel.detach(), "stft": parts.stft.detach(),
                                  "complex": parts.complex.detach()},
                          metrics={"grad_norm": gnorm.detach(), "levels": float(o.keep)},
                          codebook={k: o.stats[k] for k in ("usage", "perplexity") if k in o.stats},
                          items=int(x.numel()))  # samples: step_record turns them into audio seconds

    loop = LoopConfig(steps=cfg.steps, minutes=cfg.minutes or None, log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every, run_dir=str(run_dir) if run_dir else None,
                      best_metric="loss", best_mode="min")
    log_event("start", design=cfg.design, preset=cfg.preset, seed=cfg.seed, device=str(device),
         train_clips=len(train.waves), train_seconds=round(sum(len(w) for w in train.waves) / sr, 1),
         heldout_clips=len(heldout.waves), out=str(out), run_dir=str(run_dir) if run_dir else None,
         **({"augment_noise": noises.source} if aug is not None else {}),
         resume_step=state.step, **model.describe(),
         model_config=dataclasses.asdict(mcfg), train_config=dataclasses.asdict(cfg))
    history: list[dict[str, Any]] = []
    model.train()
    done = DoneEvent(reason="steps", steps=state.step, seconds=state.elapsed)
    events = run_steps(state, step_fn, batches, loop, stop=stop) if cfg.steps > 0 else iter([done])
    for ev in events:
        if isinstance(ev, StepEvent):
            history.append(step_record(ev, sr))
        elif isinstance(ev, DoneEvent):
            done = ev
        log_loop_event(ev)
        yield ev

    model.eval()
    t_eval = time.perf_counter()
    metrics = evaluate_codec(model, heldout, cfg.eval_clips, sr) if cfg.eval_clips else {"evaluated": False}
    metrics.update(train_steps=done.steps, train_seconds=round(done.seconds, 1), device=str(device),
                   torch=torch.__version__, params=model.describe()["params"],
                   gpu=torch.cuda.get_device_name(0) if device.type == "cuda" else None)
    log_event("eval", seconds=round(time.perf_counter() - t_eval, 1), **metrics)
    model.to("cpu")
    tok = CodecTokenizer(model, name=name)
    folder = tok.save(out, data_hash=train.data_hash, metrics=metrics,
                      extra={"train": dataclasses.asdict(cfg),
                             "data": {"train_clips": len(train.waves), "heldout_hash": heldout.data_hash,
                                      **({"augment_noise": noises.source} if aug is not None else {})}})
    log_event("saved", folder=str(folder), bytes=sum(p.stat().st_size for p in Path(folder).iterdir()))
    return CodecTrainResult(Path(folder), model, metrics, done.steps, done.seconds, history, reason=done.reason,
                            run_dir=run_dir)


def load_noises(aug: RecordingAugmentConfig | None) -> BackgroundSet:
    """The background clips the augmentation mixes in (none when it is off or uses coloured noise only);
    ``noise_source="samples"`` without them raises, naming the asset."""
    if aug is None or aug.noise_source == "coloured":
        return BackgroundSet(source="coloured noise only" if aug is not None else "")
    bank = background_sounds()
    if not bank.waves and aug.noise_source == "samples":
        raise InvalidInput(f"augment_config noise_source 'samples' needs recorded background clips: {bank.source}")
    if not bank.waves:
        bank.source = f"coloured noise only: background clips {bank.source}"
    return bank


def training_batches(waves: list[np.ndarray], segment: int, batch: int, sr: int, device: torch.device | str,
                     aug: RecordingAugmentConfig | None = None, noises: list[np.ndarray] | tuple = ()):
    """The loop's batch function: rng -> (B, S) tensor of random crops (``crop_batch``), each made to
    sound recorded when ``aug`` is given; every random choice comes from the rng, so a resumed run
    draws the same. Only training batches come from here: evaluation reads its clips as they are."""

    def batches(rng: np.random.Generator) -> torch.Tensor:
        x = crop_batch(waves, segment, batch, rng)  # (B, S)
        if aug is not None:
            x = augment_batch(x, sr, rng, aug, noises)  # (B, S)
        return torch.from_numpy(x).to(device)  # (B, S)

    return batches


def step_record(ev: StepEvent, sample_rate: int) -> dict[str, Any]:
    """Print a StepEvent as the codec trainer's "step" JSON line (means over the log window) and
    return it; ``items_per_s`` is seconds of audio trained per wall-clock second."""
    lo = ev.losses
    return log_event("step", step=ev.step, steps=ev.steps, loss=round(lo["loss"], 4), mel=round(lo["mel"], 4),
                     stft=round(lo["stft"], 4), complex=round(lo["complex"], 5),
                     levels=round(ev.metrics["levels"], 2), usage=round(ev.codebook.get("usage", 0.0), 3),
                     lr=round(ev.lr, 6), grad_norm=round(ev.metrics["grad_norm"], 3),
                     items_per_s=round(ev.items_per_s / sample_rate, 1), unit="audio seconds",
                     elapsed=round(ev.elapsed, 1),
                     eta_s=None if ev.eta_seconds is None else round(ev.eta_seconds, 1),
                     **{f"q_{k}": round(v, 4) for k, v in ev.codebook.items()})


def main(argv: list[str] | None = None) -> int:
    """The CLI; a bad argument, folder, checkpoint or run folder prints its message (exit 2), not a traceback."""
    try:
        return _main(argv)
    except SystemExit as e:  # argparse said why, or printed --help: its exit status, as the text trainer's
        return int(e.code or 0)
    except TokenworksError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def parser() -> tuple[argparse.ArgumentParser, list[str]]:
    """The options: one for every CodecTrainConfig field (its comment is the help), then those of
    the command alone; and the names of the field options."""
    ap = argparse.ArgumentParser(prog="python -m tokenworks.audio.train", description=__doc__.split("\n\n")[0],
                                 epilog="A preset's settings replace the defaults shown; the options given replace both.")
    fields = add_config_options(ap, CodecTrainConfig, skip=("loss", "model_config", "augment_config"),
                                choices={"design": sorted(DESIGNS), "preset": sorted(PRESETS)},
                                metavars={"init": "FOLDER", "out": "FOLDER", "run_dir": "FOLDER", "wav_dir": "FOLDER",
                                          "eval_dir": "FOLDER"})
    add_resume_option(ap, RESUME_OVERRIDES)
    ap.add_argument("--evaluate", metavar="FOLDER", default=None,
                    help="do not train: evaluate this checkpoint and write the metrics into its config.json")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=JSON", help="override a CodecConfig field")
    return ap, fields


def _main(argv: list[str] | None = None) -> int:
    ap, fields = parser()
    a = ap.parse_args(argv)
    if a.evaluate:
        m = evaluate_checkpoint(a.evaluate, a.eval_clips or 24, a.data_minutes or 30.0, a.eval_dir)
        log_event("eval", folder=a.evaluate, **m)
        return 0
    if a.resume:
        resume(a.resume, **resume_overrides(a, RESUME_OVERRIDES))
        return 0
    given = given_options(a, fields)
    if "speed_factors" in given:
        given["speed_factors"] = list(check_factors(given["speed_factors"]))
    cfg = preset_config(given.pop("preset", None) or "cpu-tiny", given.pop("design", None) or "rvq",
                        model_config=parse_set_overrides(a.set), **given)
    train_codec(cfg)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
