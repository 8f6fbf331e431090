"""Text tokenizer training as the step events of ``tokenworks.train.loop``.

The neural trainers yield ``StepEvent``s from ``run_steps``; text training reports through the
same type, so the app's Train tab and the notebooks follow every trainer alike. What a step is:

* **Own-engine byte-level BPE and SuperBPE** (``bpe_train.train_bpe``): a step is one merge;
  ``steps`` is the number of merges asked for (``vocab_size - 256``). ``MergeEvents`` turns the
  trainer's per-merge callbacks into about ``EVENTS_PER_RUN`` events (plus the first and the
  last merge, and the last merge of SuperBPE's stage 1) carrying
  ``losses["pair_count"]``: the mean count of the pairs merged in the window (falls as training
  runs out of frequent pairs: the loss-like curve) and ``metrics["train_bytes_per_token"]``:
  the training corpus's bytes over its tokens after this merge, exact (``train_counts``).
  ``items_per_s`` is merges per second over the window.
* **HF tokenizers** (``hf_train.train_hf``: BPE, char-BPE, WordPiece, Unigram) train in Rust and
  say nothing about merges or pieces until they finish. What is known is mapped as it is:
  ``phase="reading"`` events with the share of the corpus read (``metrics["read_fraction"]``,
  bytes per second as throughput), ``phase="training"`` heartbeats that only say the trainer
  is alive (elapsed time; step 0, no throughput, no ETA), and one ``phase="done"`` event whose
  step is the vocabulary size reached. No step count in between is invented.

``text_step_record(ev)`` is the JSON line (``tokenworks.train.common.log_event("step", ...)``)
of such an event.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from ..train.loop import StepEvent
from .bpe_train import TrainMerge
from .train_counts import TrainTokenCount

EVENTS_PER_RUN = 150  # step events of one own-engine run (plus the first, the last, the stage change)
SAYS_PER_RUN = 10  # prose progress lines of one own-engine run (every tenth of the merges)


@dataclass
class TextStepEvent(StepEvent):
    """A ``StepEvent`` of text training, with what kind of step it counts.

    ``lr`` is 0.0: counting pairs has no learning rate (``text_step_record`` leaves it out)."""

    phase: str = "merging"  # own engine: merging (ByteBPE) | stage1 | stage2 (SuperBPE); HF: reading | training | done
    unit: str = "merges"  # what items_per_s counts: merges; HF: bytes while reading, "" when nothing is counted
    message: str = ""  # one line for people, e.g. "merge 774/7,744: (101, 32) -> 1029 (count 12,345)"


class MergeEvents:
    """Per-merge callbacks of ``train_bpe`` -> throttled TextStepEvents (see the module docstring).

    ``counter(stage, merges_so_far)`` makes the exact token counter of a stage (called at its
    first merge); ``emit`` receives each event; ``say`` a prose line every tenth of the merges.
    """

    def __init__(self, total: int, counter: Callable[[int, list[tuple[int, int]]], TrainTokenCount],
                 emit: Callable[[TextStepEvent], None], say: Callable[[str], None], t0: float,
                 staged: bool = False, events: int = EVENTS_PER_RUN):
        self.total, self.counter, self.emit, self.say, self.t0, self.staged = total, counter, emit, say, t0, staged
        self.every = max(1, total // max(1, events))
        self.say_every = max(1, total // SAYS_PER_RUN)
        self.merges: list[TrainMerge] = []  # every merge so far, in order
        self.stage = 0
        self.count: TrainTokenCount | None = None
        self._window: list[int] = []  # pair counts since the last event
        self._t_window: float | None = None  # when the window began (None: before the first merge)
        self._pending: tuple[TrainMerge, str] | None = None  # the last merge, when no event has covered it

    def add(self, m: TrainMerge, stage: int = 1) -> None:
        """Account for one merge (in training order)."""
        if stage != self.stage:
            if self._pending is not None:
                self._flush()  # the last merge of stage 1 gets an event of its own
            self.count = self.counter(stage, [x.pair for x in self.merges])
            self.stage = stage
        assert self.count is not None
        self.count.add(m)
        self.merges.append(m)
        self._window.append(m.count)
        done = m.index + 1
        text = f"merge {done:,}/{m.total:,}: {m.pair} -> {m.new_id} (count {m.count:,})"
        text = f"stage {stage} {text}" if self.staged else text
        self._pending = (m, text)
        if done % self.say_every == 0 or done == self.total:
            self.say(text)
        if done == 1 or done % self.every == 0 or done == self.total:
            self._flush()

    def finish(self) -> None:
        """After the last merge: an event for it if none covered it (a run that stopped early)."""
        if self._pending is not None:
            self._flush()

    @property
    def step(self) -> int:
        return self.merges[-1].index + 1 if self.merges else 0

    def _flush(self) -> None:
        assert self._pending is not None and self.count is not None
        m, text = self._pending
        now = time.perf_counter()
        n = len(self._window)
        if self._t_window is None:  # the first merge: its time is the setup's (counting chunks), not a rate
            rate, eta = 0.0, None
        else:
            dt = max(now - self._t_window, 1e-9)
            rate = n / dt
            eta = (self.total - (m.index + 1)) / rate
        phase = f"stage{self.stage}" if self.staged else "merging"
        self.emit(TextStepEvent(
            step=m.index + 1, steps=self.total, losses={"pair_count": sum(self._window) / n},
            metrics={"train_bytes_per_token": self.count.bytes_per_token, "train_tokens": float(self.count.tokens)},
            codebook={}, lr=0.0, items_per_s=rate, elapsed=now - self.t0, eta_seconds=eta, window=n,
            phase=phase, unit="merges", message=text))
        self._window, self._t_window, self._pending = [], now, None


def hf_step_event(ev: Any, requested: int, total_bytes: int, t0: float, reached: int | None = None) -> TextStepEvent:
    """An ``hf_train.HFTrainEvent`` as a TextStepEvent (see the module docstring for what is known).

    ``reached``: the vocabulary size at the end (the done event's step)."""
    elapsed = time.perf_counter() - t0
    read = total_bytes if ev.stage != "reading" else ev.bytes_read
    reading = ev.stage == "reading"
    return TextStepEvent(
        step=int(reached or 0) if ev.stage == "done" else 0, steps=requested, losses={},
        metrics={"read_fraction": read / max(total_bytes, 1), "bytes_read": float(read)}, codebook={}, lr=0.0,
        items_per_s=read / max(ev.elapsed_s, 1e-9) if reading else 0.0, elapsed=elapsed, eta_seconds=None,
        window=0, phase=ev.stage, unit="bytes" if reading else "", message=ev.message)


def text_step_record(ev: StepEvent) -> dict[str, Any]:
    """The JSON-line dict of a text training StepEvent (no printing): step, steps, phase, the
    losses and metrics flat, throughput with its unit, elapsed and ETA (``eta_s``)."""
    rec: dict[str, Any] = {"step": ev.step, "steps": ev.steps, "phase": getattr(ev, "phase", "")}
    for k, v in {**ev.losses, **ev.metrics}.items():
        rec[k] = int(v) if k in ("train_tokens", "bytes_read") else round(float(v), 5)
    unit = getattr(ev, "unit", "")
    if unit:
        rec.update(items_per_s=round(ev.items_per_s, 1), unit=unit)
    rec.update(elapsed=round(ev.elapsed, 2), eta_s=None if ev.eta_seconds is None else round(ev.eta_seconds, 1))
    return rec
