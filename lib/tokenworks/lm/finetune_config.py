"""What an embedding fine-tune run is (``tokenworks.lm.finetune``): its config, one field per
setting (the comment is its help on the command line), the presets, and the memory it needs.

    cfg = preset_config("cpu", tokenizer="text/o200k_base", lr=1e-3)   # a preset, then the overrides

Presets: ``cpu-tiny`` (tests: about a minute on two CPU cores), ``cpu`` (10 minutes on two CPU
cores), ``gpu`` (a few minutes on one GPU).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput
from ..train.memory import MemoryEstimate, available_bytes

TEXT_CORPORA = ("pydocs", "austen", "shakespeare")  # English prose of tokenworks.text.corpora (train splits only)


@dataclass
class FinetuneConfig:
    model: str = "lm/smollm2-135m"  # the base model (a name tw.load_lm knows)
    tokenizer: str = "text/cl100k_base"  # the new tokenizer: a registry name or run:<folder>
    method: str = "tokenadapt"  # how tokens new to the model start (see tokenworks.lm.new_embeddings)
    preset: str = "cpu-tiny"  # cpu-tiny | cpu | gpu
    seed: int = 0  # seeds the initial vectors (random), the order of the training windows
    corpus: str = "pydocs"  # training text: the train split of pydocs, austen or shakespeare (never the held-out prose)
    train_bytes: int = 2_000_000  # at most this many bytes of the corpus (whole documents)
    seq_len: int = 128  # new-tokenizer tokens per training window (after the document-start token)
    batch_size: int = 8  # windows per optimizer step
    lr: float = 2e-3  # peak Adam learning rate of the new rows
    bias_lr: float = 1e-3  # peak Adam learning rate of the new tokens' logit biases (calibrate sets the shared one first)
    out_first: float = 0.5  # new output vectors start as this share of the first piece's vector (the rest: the input row)
    calibrate_windows: int = 32  # training windows that set the new tokens' output side before step 1 (0: start at 0)
    fit_steps: int = 300  # Adam steps fitting numbers every new output row shares on those windows (lm.output_fit; 0: the shared bias only)
    fit_lr: float = 0.05  # Adam learning rate of that fit
    continuation: bool = False  # give that fit the base model's cost of finishing each new token (lm.continuation; minutes, then cached)
    train_out: bool = True  # train the new tokens' output rows and biases too (False: only their input rows; the fitted output side stays)
    warmup_steps: int = 20  # linear warmup
    min_lr_frac: float = 0.1  # the cosine ends at lr * min_lr_frac
    grad_clip: float = 1.0  # max gradient norm
    steps: int = 300  # optimizer steps at most
    minutes: float | None = None  # wall-clock budget for the steps (evaluation and save come after); None: none
    eval_every: int = 100  # steps between held-out evaluations (also at the start and the end)
    eval_bytes: int = 0  # held-out bytes evaluated (whole paragraphs; 0: all of data/samples/lm_heldout_en.txt)
    threads: int | None = None  # torch CPU threads
    log_every: int = 10  # steps between log lines (the logged numbers are means over those steps)
    checkpoint_every: int = 0  # write <run_dir>/last (rows, optimizer, RNGs) and the model every n steps; 0: at the end
    out: str | None = None  # the transplant checkpoint folder; None: runs/lm/<model>-<tokenizer>-<method>-ft-<preset>
    run_dir: str | None = None  # where last/ and best/ go; None: <out>.run when checkpoint_every > 0
    name: str | None = None  # the model's name in the checkpoint; None: lm/<folder name>


PRESETS: dict[str, dict[str, Any]] = {
    "cpu-tiny": dict(train_bytes=300_000, seq_len=48, batch_size=4, lr=3e-3, warmup_steps=3, steps=24, fit_steps=20,
                     eval_every=24, eval_bytes=1500, log_every=4),
    # two CPU cores train about 60-120 new-tokenizer tokens a second: small batches, more steps. Measured
    # on cl100k_base (TokenAdapt start, calibrated 1.117x): lr 3e-3 ended at 1.130x, 3e-4 at 1.118x; the
    # shared output fit (lm.output_fit) starts it at 1.108x, 1.106x with the continuation term; training
    # the output rows after it ended at 1.107x, the input rows alone at 1.1055x
    "cpu": dict(train_bytes=3_000_000, seq_len=64, batch_size=4, lr=3e-4, warmup_steps=10, steps=100_000,
                calibrate_windows=128, continuation=True, train_out=False,
                minutes=10.0, eval_every=100, eval_bytes=0, log_every=10),
    # eager attention keeps 2 H T weights per layer and position: 8 x 512 is about 27 GiB by estimate_memory
    "gpu": dict(train_bytes=6_000_000, seq_len=512, batch_size=8, lr=2e-3, warmup_steps=50, steps=1500, continuation=True,
                minutes=8.0, eval_every=250, eval_bytes=0, log_every=25),
}


def preset_config(preset: str = "cpu-tiny", **overrides: Any) -> FinetuneConfig:
    """The FinetuneConfig of a preset with ``overrides`` (None values are ignored)."""
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return FinetuneConfig(**{**PRESETS[preset], "preset": preset,
                             **{k: v for k, v in overrides.items() if v is not None}})


def check_config(cfg: FinetuneConfig) -> None:
    """InvalidInput naming the first field out of range."""
    if cfg.corpus not in TEXT_CORPORA:
        raise InvalidInput(f"corpus must be one of {', '.join(TEXT_CORPORA)} (English prose with a train split), "
                           f"not {cfg.corpus!r}")
    for name, lo in (("seq_len", 8), ("batch_size", 1), ("steps", 1), ("eval_every", 1), ("log_every", 1),
                     ("train_bytes", 10_000)):
        if getattr(cfg, name) < lo:
            raise InvalidInput(f"{name} must be at least {lo}, not {getattr(cfg, name)}")
    if cfg.seq_len > 2048:
        raise InvalidInput(f"seq_len must be at most 2048 (SmolLM2's context is 2048 positions), not {cfg.seq_len}")
    if not cfg.lr > 0 or not cfg.bias_lr > 0 or cfg.eval_bytes < 0 or cfg.checkpoint_every < 0:
        raise InvalidInput("lr must be positive, eval_bytes and checkpoint_every 0 or more "
                           f"(got {cfg.lr}, {cfg.eval_bytes}, {cfg.checkpoint_every})")
    if not 0.0 <= cfg.out_first <= 1.0 or min(cfg.calibrate_windows, cfg.fit_steps) < 0:
        raise InvalidInput(f"out_first must be from 0 to 1, and calibrate_windows and fit_steps 0 or more "
                           f"(got {cfg.out_first}, {cfg.calibrate_windows}, {cfg.fit_steps})")
    if not cfg.fit_lr > 0:
        raise InvalidInput(f"fit_lr must be positive, not {cfg.fit_lr}")
    if cfg.minutes is not None and cfg.minutes <= 0:
        raise InvalidInput(f"minutes must be positive or left out (no budget), not {cfg.minutes}")


def estimate_memory(cfg: FinetuneConfig, module_config: Any, vocab: int, new_rows: int, device: str) -> MemoryEstimate:
    """What one training step takes beyond the loaded base model, counted from the shapes.

    State: the new input and output rows with their gradients and two Adam moments (16 bytes a
    number each), and the whole (V, D) matrix five times (the frozen rows, the input and output
    matrices assembled each step, their gradients).
    Activations, per window position: every layer keeps about 10 D + 4 I numbers (norms, q/k/v,
    residuals, the MLP's gate, up and product) and 2 H T attention weights (eager attention, before
    and after the softmax), doubled for the backward pass; the logits over V take three (V,) rows
    (logits, log-softmax, gradient)."""
    D, I, H, L = (int(module_config.hidden_size), int(module_config.intermediate_size),
                  int(module_config.num_attention_heads), int(module_config.num_hidden_layers))
    T = cfg.seq_len
    state = 2 * new_rows * D * 16 + vocab * D * 4 * 5
    per_token = (L * (10 * D + 4 * I + 2 * H * T) * 2 + 3 * vocab) * 4
    tokens = cfg.batch_size * (T + 1)
    return MemoryEstimate(device=device, params=new_rows * D, state_bytes=state, activation_bytes=tokens * per_token,
                          data_bytes=cfg.train_bytes * 4, batch_size=cfg.batch_size,
                          available_bytes=available_bytes(device))


__all__ = ["PRESETS", "TEXT_CORPORA", "FinetuneConfig", "check_config", "estimate_memory", "preset_config"]
