"""What a tournament training run is (``python -m tokenworks.train lm``): its config, one field per
setting (the comment is its help on the command line), and the presets.

    cfg = preset_config("cpu", input="tokens", tokenizer="text/cl100k_base", seed=1)

The budget is compute, not time: ``flops`` training FLOPs (``tokenworks.lm.tiny.flops``) buy as
many steps as they pay for, so a contestant with a costlier step (a large vocabulary's output
layer, bytes' long windows) takes fewer of them. Every contestant's window covers about
``context_bytes`` bytes of text: a tokenizer at 4 bytes a token gets a quarter of the positions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidInput
from .config import INPUTS

MODEL_FIELDS = ("d_model", "n_head", "d_ff", "n_layer", "enc_layers", "dec_layers", "max_word", "delete_target",
                "delete_ramp", "gate_floor", "dropout")  # TinyConfig fields a run may set


@dataclass
class TinyTrainConfig:
    input: str = "bytes"  # what the model reads: tokens | bytes | delete | words
    tokenizer: str = ""  # input tokens: a registry name (text/cl100k_base), run:<folder> or a tokenizer folder
    corpus: str = "english"  # training and held-out text: english | multilingual (tokenworks.lm.tiny.data)
    preset: str = "cpu-tiny"  # cpu-tiny | cpu | gpu
    seed: int = 0  # seeds the weights, the window order and the gate's noise
    train_bytes: int = 2_000_000  # at most this many bytes of the train split (whole documents)
    eval_bytes: int = 200_000  # held-out bytes scored at the end (whole documents; 0: the whole test split)
    context_bytes: int = 512  # bytes a window covers: seq_len = context_bytes / the tokenizer's bytes per token
    model: dict[str, Any] = field(default_factory=dict)  # TinyConfig fields (d_model, n_layer, ...; see MODEL_FIELDS)
    batch_size: int = 16  # windows per optimizer step
    flops: float = 1e13  # training budget in FLOPs; the steps follow from it
    steps: int = 0  # 0: as many steps as the FLOPs budget pays for; n: exactly n (FLOPs still counted)
    lr: float = 3e-3  # peak AdamW learning rate
    weight_decay: float = 0.1  # AdamW weight decay of the weight matrices
    warmup_steps: int = 20  # linear warmup
    min_lr_frac: float = 0.1  # the cosine ends at lr * min_lr_frac
    grad_clip: float = 1.0  # max gradient norm
    minutes: float | None = None  # wall-clock cap, a safety net (the budget is FLOPs); None: none
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    threads: int | None = None  # torch CPU threads
    log_every: int = 10  # steps between log lines (means over those steps)
    checkpoint_every: int = 0  # write <run_dir>/last every n steps; 0: only at the end
    out: str | None = None  # the model's checkpoint folder; None: runs/lm/tiny/<corpus>-<contestant>-<preset>-s<seed>
    run_dir: str | None = None  # where last/ and best/ go; None: <out>.run when checkpoint_every > 0
    name: str | None = None  # the checkpoint's name; None: lm/tiny-<contestant>


TINY_MODEL = dict(d_model=64, n_head=2, d_ff=256, n_layer=3)
CPU_MODEL = dict(d_model=128, n_head=4, d_ff=512, n_layer=4)
GPU_MODEL = dict(d_model=384, n_head=6, d_ff=1536, n_layer=8, enc_layers=2, dec_layers=2)

PRESETS: dict[str, dict[str, Any]] = {
    # CI: seconds a run on two CPU cores
    "cpu-tiny": dict(model=TINY_MODEL, train_bytes=200_000, eval_bytes=20_000, context_bytes=128, batch_size=8,
                     flops=1.5e11, warmup_steps=5, log_every=5),
    # the whole tournament (8 contestants x 2 seeds x 2 corpora) took 82 minutes on two CPU cores; small
    # batches, many steps: measured on bytes, batch 8 x 256 bytes reached 2.95 bits per byte where 16 x 512
    # (a quarter of the steps) reached 3.56 at the same FLOPs
    "cpu": dict(model=CPU_MODEL, train_bytes=3_000_000, eval_bytes=150_000, context_bytes=256, batch_size=8,
                flops=8e12, warmup_steps=20, log_every=10),
    "gpu": dict(model=GPU_MODEL, train_bytes=20_000_000, eval_bytes=1_000_000, context_bytes=1024, batch_size=32,
                flops=3e15, lr=1.5e-3, warmup_steps=100, log_every=25),
}


def preset_config(preset: str = "cpu-tiny", **overrides: Any) -> TinyTrainConfig:
    """The TinyTrainConfig of a preset with ``overrides`` (None values are ignored; ``model`` is merged)."""
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    model = {**PRESETS[preset]["model"], **given.pop("model", {})}
    return TinyTrainConfig(**{**PRESETS[preset], "preset": preset, **given, "model": model})


def check_train_config(cfg: TinyTrainConfig) -> None:
    """InvalidInput naming the first field out of range."""
    if cfg.input not in INPUTS:
        raise InvalidInput(f"input must be one of {', '.join(INPUTS)}, not {cfg.input!r}")
    if cfg.input == "tokens" and not cfg.tokenizer:
        raise InvalidInput("input tokens needs a tokenizer: a registry name such as text/cl100k_base, run:<folder> "
                           "or a tokenizer folder")
    unknown = sorted(set(cfg.model) - set(MODEL_FIELDS))
    if unknown:
        raise InvalidInput(f"model has no field {', '.join(unknown)}; a run may set {', '.join(MODEL_FIELDS)}")
    for name, lo in (("train_bytes", 1000), ("context_bytes", 8), ("batch_size", 1), ("log_every", 1)):
        if getattr(cfg, name) < lo:
            raise InvalidInput(f"{name} must be at least {lo}, not {getattr(cfg, name)}")
    if cfg.steps < 0 or cfg.eval_bytes < 0 or cfg.checkpoint_every < 0 or not cfg.flops > 0 or not cfg.lr > 0:
        raise InvalidInput("flops and lr must be positive; steps, eval_bytes and checkpoint_every 0 or more "
                           f"(got {cfg.flops}, {cfg.lr}, {cfg.steps}, {cfg.eval_bytes}, {cfg.checkpoint_every})")
    if cfg.minutes is not None and cfg.minutes <= 0:
        raise InvalidInput(f"minutes must be positive or left out, not {cfg.minutes}")


__all__ = ["MODEL_FIELDS", "PRESETS", "TinyTrainConfig", "check_train_config", "preset_config"]
