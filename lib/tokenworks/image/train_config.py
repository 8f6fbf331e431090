"""What an image training run is: its config (``TrainConfig``, one field per setting, the comment
its help text on the command line) and the presets of model size and training settings.

    cfg = preset_config("flex1d", "gpu", data="emoji64", lr=3e-4)   # a preset, then the overrides

"default" is the model that ships in data/checkpoints; "gpu" trains that same model in about
8 minutes on one H100 (several such runs can share the GPU); "cpu-tiny" is a toy for tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from .warm_start import preset_fields_for_init


@dataclass
class TrainConfig:
    model: str = "flex1d"  # grid | flex1d
    data: str = "emoji64"  # a data set of tokenworks.image.data (emoji32, emoji64, photo32, photo64, mnist32),
    # or a folder with train.npz and test.npz (tokenworks.image.upload: your own pictures)
    preset: str = "cpu-tiny"  # cpu-tiny | default | gpu: the model size and training settings
    seed: int = 0  # seeds the model's initialisation, the batches and every random draw
    out: str | None = None  # checkpoint folder; None: runs/image/<model>-<data>-<preset>-s<seed>
    name: str | None = None  # the tokenizer name saved in the checkpoint; None: image/<model>-<data>
    steps: int = 300  # optimizer steps at most
    minutes: float | None = None  # wall-clock budget for the training steps (eval and save come after); None or 0: none
    batch_size: int = 32  # images per optimizer step (under torchrun: of all processes together)
    lr: float = 2e-3  # peak learning rate of AdamW
    min_lr_frac: float = 0.05  # the cosine ends at lr * min_lr_frac
    warmup_steps: int = 30  # linear warmup
    weight_decay: float = 0.05  # AdamW's, on the weight matrices (not on biases and norms)
    betas: tuple[float, float] = (0.9, 0.95)  # AdamW's beta1, beta2
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
    eval_batch: int = 256  # test images encoded and decoded together
    log_every: int = 25  # steps between log lines (the logged losses are means over those steps)
    checkpoint_every: int = 0  # write <run_dir>/last (weights, optimizer, RNGs) every n steps and at the end; 0: never
    run_dir: str | None = None  # where last/ and best/ go; None: <out>.run when checkpoint_every > 0
    preview_every: int = 0  # write <run_dir>/preview.png (test images and their reconstructions) every n steps; 0: never
    weights: str = "float32"  # float32 | float16: how the checkpoint stores the parameters (float16: half the size)
    threads: int | None = None  # torch CPU threads (None: torch's default)
    model_config: dict[str, Any] = field(default_factory=dict)  # overrides of the model config (--set FIELD=JSON)
    init: str | None = None  # warm start from this image checkpoint: its architecture and weights (float32,
    # codebooks included); model must be its architecture and model_config may change only WARM_START_FIELDS
    refit_codebook: int = 0  # with init, a VQ model: before training, this many Lloyd iterations with splitting of
    # its codebook over the training images' encoder outputs (quantizers.refit, LBG); 0: none


# ---- presets: model size + training settings -------------------------------------------------
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
