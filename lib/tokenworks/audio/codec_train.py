"""Train the neural speech codec (``audio/codec.py``) and save it as a tokenworks checkpoint.

    PYTHONPATH=lib python3 -m tokenworks.audio.codec_train --preset cpu --seed 0 \
        --out data/checkpoints/audio/rvq-speech16k

Presets: ``cpu-tiny`` (a toy for tests, seconds), ``cpu`` (a narrower model, C = 128, trained on
two CPU cores against a wall-clock budget), ``gpu`` (the model that ships: C = 256, 8.9 minutes on
one GPU with batch 64; see data/checkpoints/audio/README.md). ``--design single`` trains the single-codebook variant (one token per frame).
Training audio: the train split of ``tokenworks.audio.data`` (synthetic multilingual speech),
or ``--wav-dir`` (any folder of audio files, e.g. your own recordings). Held-out evaluation:
that module's held-out split (sentences and a voice never trained on), or ``--eval-dir``.

Resumable (``tokenworks.train.loop``): ``--checkpoint-every N`` writes ``<out>.run/last/``
(weights, codebooks, optimizer, step, RNG states, config) every N steps and when training ends,
and ``<out>.run/best/`` (lowest training loss over the last log window); after a crash or kill,

    PYTHONPATH=lib python3 -m tokenworks.audio.codec_train --resume runs/audio/rvq-cpu-s0.run

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
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generator, Sequence

import numpy as np
import torch

from ..errors import InvalidInput, TokenworksError
from ..train.common import (drain, float32_state, log_event, lr_factor, parse_set_overrides, pick_device,
                            seed_everything, warm_start_config)
from ..train.loop import (DoneEvent, Event, LoopConfig, LoopState, SavedState, StepContext,
                          StepEvent, StepOutput, StopFlag, load_for_resume, log_loop_event, restore, run_paths,
                          run_steps)
from ..paths import runs_dir
from ..train.memory import check_fits, estimate_training_memory
from .augment import check_factors, speed_copies
from .codec import Codec, CodecConfig
from .codec_loss import CodecLoss, LossConfig

TRAINER = "tokenworks.audio.codec_train"  # recorded in the run checkpoints, checked by resume()
RESUME_OVERRIDES = ("steps", "minutes", "threads", "device", "checkpoint_every", "eval_clips", "eval_dir")

@dataclass
class CodecTrainConfig:
    design: str = "rvq"  # rvq (K codebooks, bitrate ladder) | single (one large codebook)
    preset: str = "cpu-tiny"  # cpu-tiny | cpu | gpu
    seed: int = 0
    out: str | None = None  # checkpoint folder; None: runs/audio/<design>-<preset>-s<seed>
    name: str | None = None  # tokenizer name saved in the checkpoint
    steps: int = 200  # optimizer steps at most
    minutes: float | None = None  # wall-clock budget for the steps
    batch_size: int = 8
    segment_seconds: float = 1.0  # length of each training crop
    lr: float = 1e-3  # peak AdamW learning rate
    min_lr_frac: float = 0.05  # the cosine ends at lr * min_lr_frac
    warmup_steps: int = 50
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    device: str = "auto"  # auto | cuda | cpu
    threads: int | None = None  # torch CPU threads
    data_minutes: float = 30.0  # minutes of the tokenworks.audio.data corpus (about 55% of it is training speech)
    wav_dir: str | None = None  # train on this folder of audio files (or a .twpack.npz) instead
    speed_factors: list[float] = field(default_factory=list)  # speed perturbation (audio/augment.py): extra
    # copies of the training clips played this many times as fast, e.g. [0.9, 1.1]; []: none
    init: str | None = None  # warm start: weights and codebooks of this checkpoint (its model config wins;
    # model_config overrides only training-time fields such as quantizer_dropout)
    eval_dir: str | None = None  # evaluate on this folder instead of the held-out split
    eval_clips: int = 24  # held-out clips evaluated (PESQ/STOI on each, every k); 0: no evaluation
    # (e.g. on a GPU machine without pesq/pystoi: run ``--evaluate FOLDER`` later)
    log_every: int = 25  # steps between log lines (the logged numbers are means over those steps)
    checkpoint_every: int = 0  # write <run_dir>/last (weights, optimizer, RNGs) every n steps and at the end; 0: never
    run_dir: str | None = None  # where last/ and best/ go; None: <out>.run when checkpoint_every > 0
    loss: dict[str, Any] = field(default_factory=dict)  # overrides of LossConfig
    model_config: dict[str, Any] = field(default_factory=dict)  # overrides of CodecConfig


DESIGNS: dict[str, dict[str, Any]] = {
    # 50 tokens/s x 8 codebooks x 10 bits = 4 kbps; first 3 codebooks 1.5 kbps; 1 codebook 500 bps
    "rvq": dict(num_levels=8, codebook_size=1024, stride=2, hop=160, n_fft=640),
    # WavTokenizer-like: one codebook of 4096 at 40 tokens/s = 480 bits/s
    "single": dict(num_levels=1, codebook_size=4096, stride=2, hop=200, n_fft=800, quantizer_dropout=0.0),
}
NAMES = {"rvq": "audio/rvq-speech16k", "single": "audio/vq1-speech16k"}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "cpu-tiny": {"model": dict(width=32, encoder_blocks=1, decoder_blocks=2, latent_dim=16, codebook_size=64),
                 "train": dict(steps=30, batch_size=4, lr=2e-3, warmup_steps=5, data_minutes=1.0, eval_clips=3,
                               log_every=10)},
    # the cpu preset is a narrower model (C=128) so that two CPU cores get through enough steps
    "cpu": {"model": dict(width=128, encoder_blocks=3, decoder_blocks=4),
            "train": dict(steps=100000, minutes=40.0, batch_size=16, lr=1.5e-3, warmup_steps=200, log_every=50)},
    # the gpu preset is what ships as audio/rvq-speech16k: 11,003 steps in 8.9 min on one H100
    "gpu": {"model": dict(vq_decay=0.9, dead_code_steps=10),
            "train": dict(steps=100000, minutes=8.9, batch_size=64, segment_seconds=2.0, lr=2e-3,
                          warmup_steps=500, data_minutes=50.0, log_every=200)},
}


def preset_config(preset: str, design: str = "rvq", **overrides: Any) -> CodecTrainConfig:
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if design not in DESIGNS:
        raise InvalidInput(f"unknown codec design {design!r}; choose one of {', '.join(DESIGNS)}")
    p = PRESETS[preset]
    kw: dict[str, Any] = {**p["train"], "preset": preset, "design": design}
    kw["model_config"] = {**DESIGNS[design], **p["model"], **(overrides.pop("model_config", None) or {})}
    if design == "single" and "codebook_size" in p["model"]:
        kw["model_config"]["codebook_size"] = p["model"]["codebook_size"] * 4
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return CodecTrainConfig(**kw)


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


# ---- data -----------------------------------------------------------------------------------


@dataclass
class AudioSet:
    waves: list[np.ndarray]  # float32 (N,) mono clips at 16 kHz
    names: list[str]
    texts: list[str | None]  # transcripts where known (for word error rate)
    data_hash: str


def _hash_waves(waves: Sequence[np.ndarray]) -> str:
    import hashlib

    h = hashlib.sha256()
    for w in waves:
        h.update(np.ascontiguousarray(w, dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def read_folder(folder: str | Path, limit: int | None = None) -> AudioSet:
    """Every audio file in ``folder`` (sorted), as 16 kHz mono float32; or the clips of a pack
    file (``audio/pack.py``, ``*.twpack.npz``)."""
    from .io import read_audio
    from .pack import SUFFIX, unpack_clips

    if str(folder).endswith(SUFFIX):
        packed = unpack_clips(folder)
        if packed.sample_rate != 16000:
            raise InvalidInput(f"{folder} holds {packed.sample_rate} Hz clips; the codec trains on 16000 Hz")
        waves = packed.waves[:limit]
        return AudioSet(waves, packed.names[:limit], [None] * len(waves), _hash_waves(waves))

    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".wav", ".flac", ".ogg"))
    if not paths:
        raise InvalidInput(f"{folder} has no .wav, .flac or .ogg files to train or evaluate on")
    waves, names = [], []
    for p in paths[:limit]:
        clip = read_audio(p)
        waves.append(clip.wave)
        names.append(p.name)
    return AudioSet(waves, names, [None] * len(waves), _hash_waves(waves))


SPEECH_SOURCES = ("espeak", "flite")


def load_split(split: str, cfg: CodecTrainConfig) -> AudioSet:
    """The synthetic speech of the ``tokenworks.audio.data`` corpus: split "train" or "heldout"
    (held-out sentences, and voices never trained on). Music and samples are left out: this is
    a speech codec. Real recordings (split "real") are for the benchmarks only."""
    from . import data

    corpus = data.build_corpus(minutes=cfg.data_minutes, seed=cfg.seed)
    clips = [c for c in corpus.clips(split) if c.source in SPEECH_SOURCES]
    if split == "heldout":  # unseen voices first, so a short evaluation still covers them
        clips.sort(key=lambda c: (not c.unseen_voice, c.name))
    if not clips:
        raise InvalidInput(f"the audio corpus has no {split} speech; rebuild it with python -m tokenworks.audio.data")
    waves = [c.wave for c in clips]
    return AudioSet(waves, [c.name for c in clips], [c.text for c in clips], _hash_waves(waves))


def crop_batch(waves: list[np.ndarray], segment: int, batch: int, rng: np.random.Generator) -> np.ndarray:
    """One batch (B, segment) of random crops, clips drawn in proportion to their length, each
    with a random gain; near-silent crops are redrawn (up to 4 times) so batches hold speech.
    Every random choice comes from ``rng``, so a resumed run (whose rng state was saved) draws the same."""
    lengths = np.array([len(w) for w in waves], dtype=np.float64)  # (n clips,)
    p = lengths / lengths.sum()
    out = np.zeros((batch, segment), np.float32)  # (B, S)
    for b in range(batch):
        for _ in range(5):
            w = waves[rng.choice(len(waves), p=p)]
            if len(w) <= segment:
                seg = np.pad(w, (0, segment - len(w)))
            else:
                start = rng.integers(0, len(w) - segment)
                seg = w[start:start + segment]
            if np.sqrt(np.mean(seg**2)) > 1e-3:
                break
        peak = max(float(np.abs(seg).max()), 1e-4)
        out[b] = seg / peak * rng.uniform(0.3, 0.95)
    return out


# ---- evaluation ------------------------------------------------------------------------------


@torch.inference_mode()
def evaluate_codec(model: Codec, heldout: AudioSet, limit: int | None = None,
                   sample_rate: int = 16000) -> dict[str, Any]:
    """Per k = 1..K: mean SI-SDR, mel distance, PESQ-WB and STOI over the held-out clips, plus
    codebook usage per level and the encode+decode speed as a multiple of real time."""
    from ..metrics import audio as am

    model.eval()
    dev = next(model.parameters()).device
    K, V = model.num_codebooks, model.vocab_size
    waves = heldout.waves[:limit] if limit else heldout.waves
    per_k: dict[int, dict[str, list[float]]] = {k: {"si_sdr": [], "mel": [], "pesq": [], "stoi": []} for k in range(1, K + 1)}
    all_codes = []
    seconds = codec_seconds = 0.0
    for w in waves:
        x = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)).to(dev)[None]  # (1, N)
        t0 = time.perf_counter()
        codes = model.encode(x)  # (1, T, K)
        full = model.decode(codes)[0, :len(w)]  # (N,)
        codec_seconds += time.perf_counter() - t0
        seconds += len(w) / sample_rate
        all_codes.append(codes[0].cpu().numpy().T)  # (K, T)
        for k in range(1, K + 1):
            y = full if k == K else model.decode(codes, keep=k)[0, :len(w)]
            y = y.float().cpu().numpy()
            s = per_k[k]
            s["si_sdr"].append(am.si_sdr(w, y))
            s["mel"].append(am.mel_distance(w, y, sample_rate))
            s["pesq"].append(am.pesq_wb(w, y, sample_rate))
            s["stoi"].append(am.stoi(w, y, sample_rate))
    ids = np.concatenate(all_codes, axis=1)  # (K, sum T)
    usage = am.codebook_usage(ids, V)
    c = model.config
    m: dict[str, Any] = {"heldout_clips": len(waves), "heldout_seconds": round(seconds, 1),
                         "tokens_per_second": c.tokens_per_second, "codebook_size": V, "codebooks": K}
    m["per_k"] = {str(k): {"bits_per_second": c.bitrate(k),
                           **{name: round(float(np.nanmean(v)), 4) for name, v in s.items()}}
                  for k, s in per_k.items()}
    m["codebook_usage"] = [round(lv.usage, 4) for lv in usage.levels]
    m["codebook_entropy"] = [round(lv.entropy, 4) for lv in usage.levels]
    m["realtime_factor"] = round(seconds / max(codec_seconds, 1e-9), 1)
    return m


# ---- training --------------------------------------------------------------------------------

WARM_START_FIELDS = ("quantizer_dropout", "commitment_weight", "vq_decay", "dead_code_steps")


def _warm_start(folder: str, overrides: dict[str, Any]) -> tuple[CodecConfig, dict[str, torch.Tensor]]:
    """The config and state (parameters as float32, codebooks and their EMA state) of a saved codec."""
    from ..checkpoint import config_from_dict, load_checkpoint

    ckpt = load_checkpoint(folder, allow_outside=True)
    base = config_from_dict(CodecConfig, ckpt.config)
    return warm_start_config(base, overrides, WARM_START_FIELDS, folder), float32_state(ckpt.tensors)



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
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    known = {f.name for f in dataclasses.fields(CodecConfig)}
    unknown = sorted(set(cfg.model_config) - known)
    if unknown:
        raise InvalidInput(f"the codec has no config field {', '.join(unknown)}; its fields are {', '.join(sorted(known))}")
    if cfg.init:
        mcfg, init_state = _warm_start(cfg.init, cfg.model_config)
        model = Codec(mcfg)
        model.load_state_dict(init_state, strict=True)
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
    train = read_folder(cfg.wav_dir) if cfg.wav_dir else load_split("train", cfg)
    if cfg.speed_factors:  # the data hash stays that of the clips; the factors are in the config
        train = dataclasses.replace(train, waves=speed_copies(train.waves, cfg.speed_factors))
    heldout = (AudioSet([], [], [], "") if not cfg.eval_clips else
               read_folder(cfg.eval_dir, cfg.eval_clips) if cfg.eval_dir else load_split("heldout", cfg))
    name = cfg.name or NAMES[cfg.design]
    out, run_dir = _paths(cfg)
    cfg = dataclasses.replace(cfg, out=str(out), run_dir=str(run_dir) if run_dir else None)

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.8, 0.99))
    state = LoopState(model=model, optimizer=opt, rng=np.random.default_rng(cfg.seed),
                      config=dataclasses.asdict(cfg), name=name, data_hash=train.data_hash, trainer=TRAINER)
    if resume_from is not None:
        restore(state, resume_from)
    segment = int(cfg.segment_seconds * mcfg.sample_rate)
    sr = mcfg.sample_rate

    def batches(rng: np.random.Generator) -> torch.Tensor:
        """One training batch (B, S), every random choice drawn from ``rng``."""
        return torch.from_numpy(crop_batch(train.waves, segment, cfg.batch_size, rng)).to(device)  # (B, S)

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
    from .codec_tokenizer import CodecTokenizer

    tok = CodecTokenizer(model, name=name)
    folder = tok.save(out, data_hash=train.data_hash, metrics=metrics,
                      extra={"train": dataclasses.asdict(cfg),
                             "data": {"train_clips": len(train.waves), "heldout_hash": heldout.data_hash}})
    log_event("saved", folder=str(folder), bytes=sum(p.stat().st_size for p in Path(folder).iterdir()))
    return CodecTrainResult(Path(folder), model, metrics, done.steps, done.seconds, history, reason=done.reason,
                            run_dir=run_dir)


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


def evaluate_checkpoint(folder: str | Path, eval_clips: int = 24, data_minutes: float = 30.0,
                        eval_dir: str | None = None) -> dict[str, Any]:
    """Evaluate a saved codec checkpoint on the held-out split (or ``eval_dir``) and write the
    metrics into its config.json, keeping the training facts (steps, seconds, device) already there."""
    from ..checkpoint import load_checkpoint, read_info
    from .codec_tokenizer import CodecTokenizer

    ckpt = load_checkpoint(folder, allow_outside=True)  # a path the user typed
    folder = ckpt.folder
    tok = CodecTokenizer.from_checkpoint(ckpt)
    cfg = CodecTrainConfig(eval_clips=eval_clips, data_minutes=data_minutes)
    heldout = read_folder(eval_dir, eval_clips) if eval_dir else load_split("heldout", cfg)
    metrics = evaluate_codec(tok.model, heldout, eval_clips, tok.model.config.sample_rate)
    info = read_info(folder)
    kept = {k: v for k, v in (info.get("metrics") or {}).items() if k not in metrics and k != "evaluated"}
    info["metrics"] = {**metrics, **kept}
    info.setdefault("data", {})["heldout_hash"] = heldout.data_hash
    tmp = folder / "config.json.part"
    tmp.write_text(json.dumps(info, indent=1), encoding="utf-8")
    tmp.replace(folder / "config.json")
    return info["metrics"]


def train_command(design: str, out: str, preset: str = "cpu") -> str:
    return f"PYTHONPATH=lib python3 -m tokenworks.audio.codec_train --design {design} --preset {preset} --seed 0 --out {out}"


def main(argv: list[str] | None = None) -> int:
    """The CLI; a bad argument, folder, checkpoint or run folder prints its message (exit 2), not a traceback."""
    try:
        return _main(argv)
    except TokenworksError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tokenworks.audio.codec_train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--design", choices=sorted(DESIGNS), default=None, help="rvq (default) | single")
    ap.add_argument("--preset", choices=sorted(PRESETS), default=None, help="default cpu-tiny")
    ap.add_argument("--seed", type=int, default=None, help="default 0")
    ap.add_argument("--out", default=None, help="checkpoint folder (default: runs/audio/<design>-<preset>-s<seed>)")
    ap.add_argument("--name", default=None)
    ap.add_argument("--minutes", type=float, default=None, help="wall-clock budget for training (0: none)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--device", default=None, help="auto | cuda | cpu")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    ap.add_argument("--data-minutes", type=float, default=None)
    ap.add_argument("--wav-dir", default=None, help="train on this folder of audio files (or a .twpack.npz)")
    ap.add_argument("--eval-dir", default=None, help="evaluate on this folder of audio files")
    ap.add_argument("--eval-clips", type=int, default=None, help="held-out clips evaluated (0: no evaluation)")
    ap.add_argument("--speed-factors", default=None, metavar="F,F,...",
                    help="speed perturbation: also train on the clips played this many times as fast (e.g. 0.9,1.1)")
    ap.add_argument("--init", metavar="FOLDER", default=None, help="warm start from this codec checkpoint")
    ap.add_argument("--log-every", type=int, default=None, help="steps between log lines")
    ap.add_argument("--checkpoint-every", type=int, default=None,
                    help="write <run-dir>/last every N steps and at the end, so the run can be resumed (0: never)")
    ap.add_argument("--run-dir", default=None, help="folder of last/ and best/ (default <out>.run)")
    ap.add_argument("--resume", default=None, metavar="RUN_DIR",
                    help="continue the run in RUN_DIR with its saved config (only --steps, --minutes, --threads, "
                         "--device, --checkpoint-every, --eval-clips and --eval-dir may change)")
    ap.add_argument("--evaluate", metavar="FOLDER", default=None,
                    help="do not train: evaluate this checkpoint and write the metrics into its config.json")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=JSON", help="override a CodecConfig field")
    a = ap.parse_args(argv)
    if a.evaluate:
        m = evaluate_checkpoint(a.evaluate, a.eval_clips or 24, a.data_minutes or 30.0, a.eval_dir)
        log_event("eval", folder=a.evaluate, **m)
        return 0
    if a.resume:
        given = {"steps": a.steps, "minutes": a.minutes, "threads": a.threads, "device": a.device,
                 "checkpoint_every": a.checkpoint_every, "eval_clips": a.eval_clips, "eval_dir": a.eval_dir}
        others = {k: v for k, v in vars(a).items() if k not in given and k not in ("resume", "set") and v is not None}
        if others or a.set:
            bad = sorted(others) + (["set"] if a.set else [])
            raise InvalidInput(f"--resume keeps the saved config; {', '.join('--' + b.replace('_', '-') for b in bad)} "
                               f"cannot change (allowed: {', '.join('--' + k.replace('_', '-') for k in given)})")
        resume(a.resume, **given)
        return 0
    overrides = parse_set_overrides(a.set)
    speed = None if a.speed_factors is None else _parse_factors(a.speed_factors)
    cfg = preset_config(a.preset or "cpu-tiny", a.design or "rvq", seed=a.seed or 0, out=a.out, name=a.name,
                        minutes=a.minutes, steps=a.steps, batch_size=a.batch_size, lr=a.lr, device=a.device,
                        threads=a.threads, data_minutes=a.data_minutes, wav_dir=a.wav_dir, eval_dir=a.eval_dir,
                        eval_clips=a.eval_clips, init=a.init, log_every=a.log_every,
                        checkpoint_every=a.checkpoint_every, run_dir=a.run_dir, model_config=overrides,
                        speed_factors=speed)
    train_codec(cfg)
    return 0


def _parse_factors(text: str) -> list[float]:
    parts = [t for t in text.replace(" ", "").split(",") if t]
    try:
        factors = [float(t) for t in parts]
    except ValueError:
        raise InvalidInput(f"--speed-factors takes numbers separated by commas, such as 0.9,1.1; got {text!r}") from None
    return list(check_factors(factors))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
