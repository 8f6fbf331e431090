"""What a codec training run is: its config (``CodecTrainConfig``, one field per setting, the comment
its help text on the command line), the codec designs and the presets.

    cfg = preset_config("gpu", "rvq", wav_dir="train50.twpack.npz", lr=1e-3)   # a preset, then the overrides

Presets: ``cpu-tiny`` (a toy for tests, seconds), ``cpu`` (a narrower model, C = 128, trained on
two CPU cores against a wall-clock budget), ``gpu`` (the model that ships: C = 256, 8.9 minutes on
one GPU with batch 64; see data/checkpoints/audio/README.md). Designs: ``rvq`` (K codebooks, a
bitrate ladder) and ``single`` (one token per frame).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput


@dataclass
class CodecTrainConfig:
    design: str = "rvq"  # rvq (K codebooks, bitrate ladder) | single (one large codebook)
    preset: str = "cpu-tiny"  # cpu-tiny | cpu | gpu
    seed: int = 0  # seeds the model's initialisation, the corpus, the crops and every random draw
    out: str | None = None  # checkpoint folder; None: runs/audio/<design>-<preset>-s<seed>
    name: str | None = None  # tokenizer name saved in the checkpoint; None: audio/rvq-speech16k or audio/vq1-speech16k
    steps: int = 200  # optimizer steps at most
    minutes: float | None = None  # wall-clock budget for the steps (eval and save come after); None or 0: none
    batch_size: int = 8  # crops per optimizer step
    segment_seconds: float = 1.0  # length of each training crop
    lr: float = 1e-3  # peak AdamW learning rate
    min_lr_frac: float = 0.05  # the cosine ends at lr * min_lr_frac
    warmup_steps: int = 50  # linear warmup
    weight_decay: float = 0.01  # AdamW's, on the weight matrices (not on biases and norms)
    grad_clip: float = 1.0  # max gradient norm
    device: str = "auto"  # auto | cuda | cpu
    threads: int | None = None  # torch CPU threads
    data_minutes: float = 30.0  # minutes of the tokenworks.audio.data corpus (about 55% of it is training speech)
    wav_dir: str | None = None  # train on this folder of audio files (or a .twpack.npz) instead
    speed_factors: list[float] = field(default_factory=list)  # speed perturbation (audio/augment.py): extra
    # copies of the training clips played this many times as fast, e.g. 0.9,1.1
    augment: bool = False  # make training crops sound recorded (audio/recording_augment.py): room reverb,
    # background noise, microphone band limits and EQ, level and clipping; never evaluation clips
    augment_config: dict[str, Any] = field(default_factory=dict)  # overrides of RecordingAugmentConfig
    # (no option: from Python only), e.g. {"p_reverb": 0.3, "snr_db": [15, 40]}
    init: str | None = None  # warm start: weights and codebooks of this checkpoint (its model config wins;
    # model_config overrides only training-time fields such as quantizer_dropout)
    eval_dir: str | None = None  # evaluate on this folder instead of the held-out split
    eval_clips: int = 24  # held-out clips evaluated (PESQ/STOI on each, every k); 0: no evaluation
    # (e.g. on a GPU machine without pesq/pystoi: run ``--evaluate FOLDER`` later)
    log_every: int = 25  # steps between log lines (the logged numbers are means over those steps)
    checkpoint_every: int = 0  # write <run_dir>/last (weights, optimizer, RNGs) every n steps and at the end; 0: never
    run_dir: str | None = None  # where last/ and best/ go; None: <out>.run when checkpoint_every > 0
    loss: dict[str, Any] = field(default_factory=dict)  # overrides of LossConfig (no option: from Python only)
    model_config: dict[str, Any] = field(default_factory=dict)  # overrides of CodecConfig (--set FIELD=JSON)


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
    """The CodecTrainConfig of a preset and design, with ``overrides`` (None values are ignored)."""
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
