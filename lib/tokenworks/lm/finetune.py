"""A short fine-tune of a transplanted model's new embedding rows, everything else frozen.

    python -m tokenworks.train lm-embeddings --tokenizer text/cl100k_base --preset cpu   # a registered run
    PYTHONPATH=lib python -m tokenworks.lm.finetune --preset cpu-tiny --out runs/lm/smollm2-cl100k-ft
    PYTHONPATH=lib python -m tokenworks.lm.finetune --resume runs/lm/smollm2-cl100k-ft.run

The model is ``tokenworks.lm.transplant``'s (base network, new embedding matrix, initialised by
``method``, TokenAdapt by default). Only what belongs to tokens new to the model trains: a token
whose bytes are a base token keeps that token's vector exactly, and so does every special token
(the document-start token has the base model's). Input and output embeddings are untied for the
new tokens: each has an input vector (its transplanted row) and an output vector (``out_first`` of
its first SmolLM2 piece's vector, the rest its transplanted row), and its logit gets a bias: one
number shared by all new tokens plus one of its own. Before step 1 the shared bias is set on
``calibrate_windows`` windows of training text (the value of a grid with the least cross-entropy):
a transplanted model gives its new tokens too much probability (measured on held-out prose with
TokenAdapt on cl100k_base: 22% of the mass where the next token is a shared one, whose base rate
is 10%). Then (``fit_steps`` > 0) the output rows and biases of every new token are rebuilt from
numbers they all share, fitted on the same windows (``lm.output_fit``): the tokens no training
window holds move too. Then the loss is next-token cross-entropy on the new tokenizer's tokens of the training
text (the train split of an English prose corpus of ``tokenworks.text.corpora``: by default
``pydocs``, Python's reference documentation and standard-library docstrings), each window read
after the document-start token, as bits per byte is measured. SparseAdam updates only the rows of
tokens in the batch (``Embedded.sparse_grad`` says why). The network stays in eval mode (LLaMA has
no dropout: train mode would change nothing) and none of its weights takes a gradient.

Evaluation ("eval" events): bits per byte on the held-out prose (``lm.heldout``, never trained on;
each paragraph a document read after the document-start token, as ``lm.score`` reads it) at the start, every ``eval_every`` steps and at the end, beside the base model's on the same text;
``ratio`` is the issue's target (cpu preset: at most 1.10 for cl100k_base).

Checkpoints: ``<run>/last`` (and ``best``) hold the loop's resume state (the new rows, Adam,
RNGs, step); every time last/ is written, ``out`` is rewritten as a transplant checkpoint
(kind "lm/transplant": the input and output matrices, the logit bias and the TransplantConfig) that ``tw.load_lm`` loads by
name or folder. Both are written atomically.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import math
import os
import sys
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InvalidInput, TokenworksError
from ..paths import runs_dir
from ..train.common import drain, log_event, lr_factor, seed_everything
from ..train.config_cli import (
    add_config_options,
    add_resume_option,
    given_options,
    resume_overrides,
)
from ..train.loop import (
    CheckpointEvent,
    DoneEvent,
    Event,
    LoopConfig,
    LoopState,
    PreviewEvent,
    SavedState,
    StepContext,
    StepEvent,
    StepOutput,
    StopFlag,
    load_for_resume,
    log_loop_event,
    restore,
    run_paths,
    run_steps,
)
from ..train.memory import check_fits
from .continuation import cached_continuation
from .finetune_config import (
    PRESETS,
    TEXT_CORPORA,
    FinetuneConfig,
    check_config,
    estimate_memory,
    preset_config,
)
from .new_embeddings import METHODS
from .output_fit import OutputFit, PieceFeatures, SplitLogits, fit_output, piece_features, split_logits

TRAINER = "tokenworks.lm.finetune"
RESUME_OVERRIDES = ("steps", "minutes", "threads", "checkpoint_every", "eval_every", "eval_bytes", "log_every")
LN2 = math.log(2.0)


@dataclass
class HeldoutEval:
    step: int
    bits_per_byte: float  # the fine-tuned model on the held-out prose
    base_bits_per_byte: float  # the base model, its own tokenizer, the same text
    n_bytes: int
    tokens: int  # new-tokenizer tokens scored
    seconds: float
    shift: float = 0.0  # mean |change| of the new input rows' numbers since the start of the run
    new_bias: float = 0.0  # the logit bias every new token shares

    @property
    def ratio(self) -> float:
        return self.bits_per_byte / self.base_bits_per_byte


@dataclass
class FinetuneResult:
    folder: Path  # the transplant checkpoint (tw.load_lm loads it)
    evals: list[HeldoutEval]  # the first at the start (or the resumed step), the last at the end
    new_rows: int  # rows that trained
    steps: int
    seconds: float  # training wall time, across resumes (without evaluation and save)
    reason: str  # steps | minutes | stopped
    run_dir: Path | None
    history: list[dict[str, Any]]  # the logged step lines


class NewRows(torch.nn.Module):
    """The trainable part: the new tokens' input vectors and output vectors (both (N, D), both
    starting from the transplant's row), a bias per new token's logit (N,) and one bias shared by
    every new token (1,), both starting at 0."""

    def __init__(self, init: torch.Tensor, out_init: torch.Tensor) -> None:
        super().__init__()
        self.rows = torch.nn.Parameter(init.clone())  # (N, D) input vectors
        self.out_rows = torch.nn.Parameter(out_init.clone())  # (N, D) output vectors
        self.bias = torch.nn.Parameter(torch.zeros(len(init)))  # (N,)
        self.shift = torch.nn.Parameter(torch.zeros(1))  # (1,)


class Embedded:
    """The transplanted network read through input and output matrices assembled from frozen rows
    and ``NewRows``, with a logit bias that is 0 for every token the base model knows."""

    def __init__(self, module: torch.nn.Module, matrix: np.ndarray, index: np.ndarray, device: str,
                 out_init: np.ndarray) -> None:
        self.module, self.device = module, device
        self.fixed = torch.from_numpy(matrix).to(device)  # (V, D) every row as initialised; never trains
        self.index = torch.from_numpy(index).to(device)  # (N,) the ids of the rows that train
        self.new = NewRows(self.fixed[self.index], torch.from_numpy(out_init).to(device)).to(device)
        self.row_of = torch.full((matrix.shape[0],), -1, dtype=torch.long, device=device)  # (V,) id -> new row or -1
        self.row_of[self.index] = torch.arange(len(index), device=device)

    def matrices(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W_in (V, D), W_out (V, D), bias (V,)); gradients reach the new rows only."""
        n = self.new
        bias = torch.zeros(len(self.fixed), device=self.device).index_copy(0, self.index, n.bias + n.shift)
        return self.fixed.index_copy(0, self.index, n.rows), self.fixed.index_copy(0, self.index, n.out_rows), bias

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T) nats of x[:, 1:] after x[:, :-1]; x is (B, T + 1), row 0 of each the document start."""
        return token_nll(self.module, *self.matrices(), x)

    def sparse_grad(self, x: torch.Tensor, clip: float, out: bool = True) -> float:
        """Keep the gradient of the rows whose token is in ``x`` (an input or a target), clipped to
        norm ``clip``, as sparse gradients (for SparseAdam), and return the norm before clipping.
        Every other row has a gradient too (the softmax pushes down the tokens that did not come),
        but it is tiny and always points the same way, so Adam, which sizes its steps by the
        gradient's history, would move each of them a full step every time (measured: held-out
        bits per byte rose 5% in 100 steps). Rows seen in no window keep their initial vectors;
        the push-down that all new tokens share goes to ``shift``, one number. With ``out`` False
        only the input rows keep a gradient (the output side stays as calibrated and fitted)."""
        rows = self.row_of[torch.unique(x)]
        rows = rows[rows >= 0]  # (n,)
        n = self.new
        parts = [(n.rows, n.rows.grad[rows])]
        if out:
            parts += [(n.out_rows, n.out_rows.grad[rows]), (n.bias, n.bias.grad[rows])]
        norm = math.sqrt(sum(float(g.pow(2).sum()) for _, g in parts) + (float(n.shift.grad.pow(2).sum()) if out else 0.0))
        scale = min(1.0, clip / max(norm, 1e-12))
        for p, g in parts:
            p.grad = torch.sparse_coo_tensor(rows[None], g * scale, p.shape)
        if out:
            n.shift.grad = torch.sparse_coo_tensor(torch.zeros(1, 1, dtype=torch.long, device=self.device),
                                                   n.shift.grad * scale, n.shift.shape)
        else:
            n.out_rows.grad = n.bias.grad = n.shift.grad = None
        return norm


def token_nll(module: torch.nn.Module, W_in: torch.Tensor, W_out: torch.Tensor, bias: torch.Tensor | None,
              x: torch.Tensor) -> torch.Tensor:
    """(B, T) nats: a LLaMA body between an input matrix and an output matrix, both (V, D), and a
    logit bias (V,) or None."""
    h = module.model(inputs_embeds=torch.nn.functional.embedding(x[:, :-1], W_in),
                     use_cache=False).last_hidden_state  # (B, T, D) after the final norm
    logits = h @ W_out.T  # (B, T, V)
    if bias is not None:
        logits = logits + bias
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), x[:, 1:].flatten(),
                                             reduction="none").view(x.shape[0], -1)  # (B, T)


def output_init(matrix: np.ndarray, index: np.ndarray, pieces: list[list[int]], E_base: np.ndarray,
                share: float) -> np.ndarray:
    """(N, D) the new tokens' first output vectors: ``share`` of the base vector of the token's
    first piece and the rest its transplanted row. The logit of a token made of pieces p1 p2 ... is
    about log P(p1) + log P(p2 ... | p1): the first piece's output vector carries the first term;
    the second, a negative number, is what the shared logit bias (``calibrate``) stands in for."""
    out = matrix[index].copy()  # (N, D)
    for r, i in enumerate(index.tolist()):
        if pieces[i]:
            out[r] = (1 - share) * out[r] + share * E_base[pieces[i][0]]
    return out


def final_states(emb: Embedded, windows: torch.Tensor, chunk: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """(states (B T, D), next tokens (B T,)): the network's final states over ``windows``
    (B, T + 1) of training text, read through the current input rows, ``chunk`` windows at a time."""
    with torch.no_grad():
        W_in = emb.matrices()[0]  # (V, D)
        h = torch.cat([emb.module.model(inputs_embeds=torch.nn.functional.embedding(windows[i:i + chunk, :-1], W_in),
                                        use_cache=False).last_hidden_state.flatten(0, 1)
                       for i in range(0, len(windows), chunk)])  # (B T, D)
    return h, windows[:, 1:].flatten()


def calibrate(emb: Embedded, states: torch.Tensor, targets: torch.Tensor, grid: np.ndarray,
              parts: SplitLogits | None = None) -> tuple[float, float]:
    """Set the logit bias shared by the new tokens to the value of ``grid`` with the least
    cross-entropy of ``targets`` (P,) after ``states`` (P, D) (``final_states``); return (that
    bias, its nats per token). ``parts``: ``split_logits`` of those states under the current
    output rows, when already computed (every grid value is then a few sums, no new pass)."""
    with torch.no_grad():
        parts = parts or split_logits(states, targets, emb.matrices()[1], emb.index)
        losses = [parts.loss_with_bias(float(b)) for b in grid]
        best = int(np.argmin(losses))
        emb.new.shift.fill_(float(grid[best]))
    return float(grid[best]), losses[best]


def fit_shared_output(emb: Embedded, states: torch.Tensor, targets: torch.Tensor, features: PieceFeatures,
                      cfg: FinetuneConfig, parts: SplitLogits | None = None) -> OutputFit:
    """Replace the new tokens' output rows and biases by ``output_fit``'s shared fit on the
    calibration states (starting from the calibrated shared bias); the shared bias goes back to 0."""
    out, bias, fit = fit_output(states, targets, emb.fixed, emb.index, features, out_first=cfg.out_first,
                                start_bias=float(emb.new.shift.detach()), steps=cfg.fit_steps, lr=cfg.fit_lr,
                                seed=cfg.seed, parts=parts)
    with torch.no_grad():
        emb.new.out_rows.copy_(out)
        emb.new.bias.copy_(bias)
        emb.new.shift.zero_()
    return fit


def heldout_bits(module, W_in, W_out, bias, tok, bos: int, texts: list[str], context: int,
                 device: str) -> tuple[float, int]:
    """Bits of every paragraph of ``texts``, each read after the document-start token (in windows of
    ``context`` positions when longer), and how many tokens."""
    bits, n = 0.0, 0
    with torch.inference_mode():
        for t in texts:
            ids = tok.encode(t).ids.tolist()
            for c in range(0, len(ids), context - 1):
                x = torch.tensor([[bos] + ids[c:c + context - 1]], device=device)  # (1, T + 1)
                bits += float(token_nll(module, W_in, W_out, bias, x).sum()) / LN2
            n += len(ids)
    return bits, n


def eval_texts(eval_bytes: int) -> list[str]:
    """Whole held-out paragraphs, in order, up to ``eval_bytes`` (0: all)."""
    from .heldout import heldout_paragraphs

    out, size = [], 0
    for p in heldout_paragraphs():
        if eval_bytes and out and size + len(p.encode()) > eval_bytes:
            break
        out.append(p)
        size += len(p.encode())
    return out


def base_bits_per_byte(lm, texts: list[str]) -> float:
    with lm.net.lock:
        m = lm.net.module
        bits, _ = heldout_bits(m, m.get_input_embeddings().weight, m.get_output_embeddings().weight, None, lm.tokenizer,
                               lm.bos_id, texts, lm.info.context or 2048, lm.net.device)
    return bits / sum(len(t.encode()) for t in texts)


def training_tokens(cfg: FinetuneConfig, tok, bos: int) -> tuple[np.ndarray, str]:
    """The training corpus as one stream of new-tokenizer ids, each document after the document-start
    token; and a hash of what was read (a resumed run refuses other data)."""
    from ..text.corpora import load_corpus

    corpus = load_corpus(cfg.corpus, "train", limit_bytes=cfg.train_bytes)
    parts = [np.concatenate([[bos], tok.encode(d).ids]) for d in corpus.documents if d.strip()]
    h = hashlib.sha256(f"{corpus.data_hash}:{tok.name}".encode()).hexdigest()[:16]
    return np.concatenate(parts).astype(np.int64), h  # (N,)


def _paths(cfg: FinetuneConfig, tok_name: str) -> tuple[Path, Path | None]:
    base = cfg.model.split("/")[-1].split("-")[0]
    default = runs_dir() / "lm" / f"{base}-{tok_name.split('/')[-1]}-{cfg.method}-ft-{cfg.preset}"
    return run_paths(cfg.out, default, cfg.run_dir, cfg.checkpoint_every)


def finetune(cfg: FinetuneConfig, *, resume_from: SavedState | None = None, stop: StopFlag = None) -> FinetuneResult:
    """Train, evaluate, save (see the module docstring)."""
    return drain(iter_finetune(cfg, resume_from=resume_from, stop=stop))


def resume(run_dir: str | Path, *, stop: StopFlag = None, **overrides: Any) -> FinetuneResult:
    """Continue the run whose ``last/`` is in ``run_dir``; only ``RESUME_OVERRIDES`` may change."""
    cfg, saved = load_for_resume(run_dir, TRAINER, FinetuneConfig, overrides, RESUME_OVERRIDES)
    return finetune(cfg, resume_from=saved, stop=stop)


def iter_finetune(cfg: FinetuneConfig, *, resume_from: SavedState | None = None,
                  stop: StopFlag = None) -> Generator[Event, None, FinetuneResult]:
    """``finetune`` as a generator of the loop's events; returns the FinetuneResult."""
    import tokenworks as tw

    from . import transplant as tp
    from .vocab import vocab_for

    check_config(cfg)
    if cfg.method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)} (got {cfg.method!r})")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    tok = tp._load_tokenizer(cfg.tokenizer)  # an unknown name: UnknownTokenizer, with the known ones
    V = len(vocab_for(tok).token_bytes)  # a lossy vocabulary is refused here, with the reason
    lm = tw.load_lm(cfg.model)
    device = str(lm.net.device)
    check_fits(estimate_memory(cfg, lm.net.module.config, V, V, device),
               hint="the tokenizer's vocabulary (every new row trains)")
    texts = eval_texts(cfg.eval_bytes)
    t = tp.transplant(lm, cfg.tokenizer, cfg.method, seed=cfg.seed, texts=texts)  # its pre-flight reads them
    nv = vocab_for(t.lm.tokenizer)
    index = np.flatnonzero((t.plan.shared < 0) & ~nv.special).astype(np.int64)  # (N,) the rows that train
    module = t.lm.net.module
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()
    E_base = lm.net.module.get_input_embeddings().weight.detach().cpu().numpy()  # (V_base, D)
    emb = Embedded(module, t.matrix, index, device, output_init(t.matrix, index, t.plan.pieces, E_base, cfg.out_first))
    stream, data_hash = training_tokens(cfg, t.lm.tokenizer, t.lm.bos_id)
    if len(stream) < cfg.seq_len + 2:
        raise InvalidInput(f"the {cfg.corpus} text gives {len(stream)} tokens, fewer than one window of {cfg.seq_len}; "
                   "raise train_bytes or lower seq_len")
    n_bytes, context = sum(len(x.encode()) for x in texts), lm.info.context or 2048
    base_bpb = base_bits_per_byte(lm, texts)
    out, run_dir = _paths(cfg, tok.name)
    cfg = dataclasses.replace(cfg, out=str(out), run_dir=str(run_dir) if run_dir else None)
    name = cfg.name or "lm/" + (out.parent.name if out.name == "model" else out.name)

    n = emb.new
    opt = torch.optim.SparseAdam([{"params": [n.rows, n.out_rows], "scale": 1.0},
                                  {"params": [n.bias, n.shift], "scale": cfg.bias_lr / cfg.lr}], lr=cfg.lr)
    state = LoopState(model=emb.new, optimizer=opt, rng=np.random.default_rng(cfg.seed),
                      config=dataclasses.asdict(cfg), name=name, data_hash=data_hash, trainer=TRAINER)
    if resume_from is not None:
        restore(state, resume_from)

    def batches(rng: np.random.Generator, n: int | None = None) -> torch.Tensor:
        starts = rng.integers(0, len(stream) - cfg.seq_len, size=n or cfg.batch_size)
        x = np.stack([np.concatenate([[t.lm.bos_id], stream[s:s + cfg.seq_len]]) for s in starts])
        return torch.from_numpy(x).to(device)  # (B, T + 1)

    def step_fn(x: torch.Tensor, ctx: StepContext) -> StepOutput:
        for g in opt.param_groups:
            g["lr"] = cfg.lr * g["scale"] * lr_factor(ctx.step, ctx.progress, cfg.warmup_steps, cfg.min_lr_frac)
        loss = emb.nll(x).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = emb.sparse_grad(x, cfg.grad_clip, cfg.train_out)
        opt.step()
        return StepOutput(losses={"loss": loss.detach()}, metrics={"grad_norm": torch.tensor(gnorm)},
                          items=int(x.shape[0] * (x.shape[1] - 1)))

    def evaluate(st: LoopState | None = None) -> HeldoutEval:
        t0 = time.perf_counter()
        with torch.no_grad():
            W_in, W_out, bias = emb.matrices()  # (V, D), (V, D), (V,)
            shift = float((emb.new.rows - emb.fixed[emb.index]).abs().mean())
        bits, n = heldout_bits(module, W_in, W_out, bias, t.lm.tokenizer, t.lm.bos_id, texts, context, device)
        return HeldoutEval(state.step, bits / n_bytes, base_bpb, n_bytes, n, time.perf_counter() - t0, shift,
                           float(emb.new.shift.detach()))

    def export(metrics: dict[str, Any]) -> Path:
        from ..checkpoint import save_checkpoint

        with torch.no_grad():
            W_in, W_out, bias = (m.detach().cpu().contiguous() for m in emb.matrices())  # (V, D), (V, D), (V,)
        return save_checkpoint(out, kind=tp.KIND, name=name, config=t.config,
                               tensors={"embed_tokens": W_in, "lm_head": W_out, "lm_head_bias": bias},
                               metrics={"preflight": dataclasses.asdict(t.preflight), "finetune": metrics,
                                        "train": dataclasses.asdict(cfg)})

    log_event("start", model=cfg.model, tokenizer=tok.name, method=cfg.method, preset=cfg.preset, seed=cfg.seed,
              device=device, vocab=V, new_rows=len(index), train_tokens=len(stream), heldout_bytes=n_bytes,
              out=str(out), run_dir=str(run_dir) if run_dir else None, resume_step=state.step,
              train_config=dataclasses.asdict(cfg))
    if resume_from is None and cfg.calibrate_windows:
        windows = batches(np.random.default_rng(cfg.seed + 1), cfg.calibrate_windows)  # (W, T + 1)
        states, targets = final_states(emb, windows)  # (W T, D), (W T,)
        parts = split_logits(states, targets, emb.matrices()[1], emb.index)  # one pass over the vocabulary for both
        b, nats = calibrate(emb, states, targets, np.arange(-8.0, 1.01, 0.25), parts)
        log_event("calibrate", new_bias=b, loss=round(nats, 4), tokens=int(targets.numel()))
        if cfg.fit_steps:
            cont = None
            if cfg.continuation:
                cont, cached = cached_continuation(lm.net.module, lm.bos_id, [t.plan.pieces[i] for i in index],
                                                   cfg.model, tok.name)
                log_event("continuation", tokens=len(cont), cached=cached)
            feats = piece_features(t.matrix[index], index, t.plan.pieces, nv.token_bytes, E_base, cont)
            fit = fit_shared_output(emb, states, targets, feats, cfg, parts)
            log_event("fit_output", **{k: (round(v, 4) if isinstance(v, float) else v)
                                       for k, v in dataclasses.asdict(fit).items()})
    evals = [_log_eval(evaluate())]
    history: list[dict[str, Any]] = []
    loop = LoopConfig(steps=cfg.steps, minutes=cfg.minutes, log_every=cfg.log_every, preview_every=cfg.eval_every,
                      checkpoint_every=cfg.checkpoint_every, run_dir=str(run_dir) if run_dir else None)
    done = DoneEvent(reason="steps", steps=state.step, seconds=state.elapsed)
    for ev in run_steps(state, step_fn, batches, loop, stop=stop, preview_fn=evaluate):
        if isinstance(ev, StepEvent):
            history.append(log_event("step", step=ev.step, steps=ev.steps, loss=round(ev.losses["loss"], 4),
                                     bits_per_token=round(ev.losses["loss"] / LN2, 4), lr=round(ev.lr, 6),
                                     grad_norm=round(ev.metrics["grad_norm"], 3), items_per_s=round(ev.items_per_s, 1),
                                     unit="tokens", elapsed=round(ev.elapsed, 1),
                                     eta_s=None if ev.eta_seconds is None else round(ev.eta_seconds, 1)))
        elif isinstance(ev, PreviewEvent):
            evals.append(_log_eval(ev.data))
        elif isinstance(ev, CheckpointEvent) and ev.kind == "last":
            export(_metrics(evals[-1]))
        elif isinstance(ev, DoneEvent):
            done = ev
        if not isinstance(ev, (StepEvent, PreviewEvent)):
            log_loop_event(ev)
        yield ev
    if evals[-1].step != state.step:
        evals.append(_log_eval(evaluate()))
    metrics = {**_metrics(evals[-1]), "start_bits_per_byte": round(evals[0].bits_per_byte, 5),
               "train_steps": done.steps, "train_seconds": round(done.seconds, 1), "new_rows": len(index)}
    folder = export(metrics)
    log_event("saved", folder=str(folder), name=name, bytes=sum(p.stat().st_size for p in folder.iterdir()))
    return FinetuneResult(folder, evals, len(index), done.steps, done.seconds, done.reason, run_dir, history)


def _metrics(e: HeldoutEval) -> dict[str, Any]:
    return {"step": e.step, "bits_per_byte": round(e.bits_per_byte, 5), "base_bits_per_byte": round(e.base_bits_per_byte, 5),
            "ratio": round(e.ratio, 4), "heldout_bytes": e.n_bytes}


def _log_eval(e: HeldoutEval) -> HeldoutEval:
    log_event("eval", **_metrics(e), tokens=e.tokens, shift=round(e.shift, 7), new_bias=round(e.new_bias, 4),
              seconds=round(e.seconds, 1))
    return e


def parser() -> tuple[argparse.ArgumentParser, list[str]]:
    ap = argparse.ArgumentParser(prog="python -m tokenworks.train lm-embeddings", description=__doc__.split("\n\n")[0],
                                 epilog="A preset's settings replace the defaults shown; the options given replace both.")
    fields = add_config_options(ap, FinetuneConfig, choices={"method": METHODS, "preset": sorted(PRESETS),
                                                             "corpus": TEXT_CORPORA},
                                metavars={"out": "FOLDER", "run_dir": "FOLDER"})
    add_resume_option(ap, RESUME_OVERRIDES)
    return ap, fields


def main(argv: list[str] | None = None) -> int:
    """The CLI; bad input prints its message (exit 2), not a traceback."""
    try:
        ap, fields = parser()
        a = ap.parse_args(argv)
        if a.resume:
            resume(a.resume, **resume_overrides(a, RESUME_OVERRIDES))
            return 0
        given = given_options(a, fields)
        finetune(preset_config(given.pop("preset", None) or "cpu-tiny", **given))
        return 0
    except SystemExit as e:
        return int(e.code or 0)
    except TokenworksError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
