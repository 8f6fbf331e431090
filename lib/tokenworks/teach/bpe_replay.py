"""Replay byte-level BPE merge by merge: training (what each merge does to a corpus) and encoding
(what each merge application does to a text). Built for the app's Learn tab and for notebooks.

Training replay records every merge ``ByteBPE.train`` learns (through its ``progress`` events:
the pair, its count, the new id) and can show the corpus as tokens after any number of merges::

    rep = replay_training("aaabdaaabac", n_merges=3)
    rep.steps[0].merged                  # 'aa' (the pair a + a, seen 4 times)
    rep.tokens_at(0)                     # the corpus as bytes
    rep.tokens_at(rep.n_steps)           # == rep.tokenizer.encode(corpus).ids

The corpus after ``k`` merges needs no stored snapshots: training rewrites every word with merge
0, then merge 1, ..., and the encoder (lowest new id first) reaches the same tokens, so the state
after ``k`` merges is the final encoding with every token whose new id is ``>= 256 + k`` unfolded
back into its two parts (recursively).

Encoding replay flattens ``encode(text, trace=True)`` (one ChunkTrace per pretokenized chunk)
into one list of merge applications over the whole text, either in the encoder's own order
(chunk by chunk, ``order="chunk"``) or in rank order across the text (every application of the
earliest merge first, ``order="rank"``; chunks are independent, so both end in the same ids).

Symbols: T tokens, M merges.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..core import TokenSeq
from ..errors import InvalidInput
from ..text.bpe import GPT4_PATTERN, ByteBPE, ChunkTrace
from ..text.spans import spans_from_lengths

MAX_TRAIN_CHARS = 20_000  # longest corpus a training replay accepts (a classroom example, not a dataset)
MAX_MERGES = 500  # most merges a training replay records
MAX_ENCODE_CHARS = 5_000  # longest text an encoding replay accepts
ORDERS = ("chunk", "rank")


@dataclass(frozen=True)
class TrainStep:
    """One merge learned during training."""

    step: int  # 1-based: the corpus after this step has had merges 1..step applied
    left: int  # the pair merged ...
    right: int
    new_id: int  # ... becomes this id (256 + step - 1)
    count: int  # how often the pair occurred (overlapping occurrences counted) when it was chosen
    left_text: str  # the tokens, printable (render_token)
    right_text: str
    merged: str  # the new token, printable


@dataclass
class TrainingReplay:
    """A small BPE training run, merge by merge."""

    corpus: str
    requested: int  # merges asked for
    steps: list[TrainStep]
    tokenizer: ByteBPE  # the trained tokenizer (all merges)
    final: TokenSeq  # the corpus encoded with every merge
    stopped_early: bool = False
    reason: str = ""

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    def _check_step(self, k: int) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= int(k) <= self.n_steps:
            raise InvalidInput(f"step must be an integer from 0 (bytes) to {self.n_steps} (every merge), got {k!r}")
        return int(k)

    def tokens_at(self, k: int) -> list[int]:
        """The corpus as ids after the first ``k`` merges (0: its UTF-8 bytes)."""
        k = self._check_step(k)
        limit = 256 + k  # ids below this exist after k merges
        children = self.tokenizer._children
        out: list[int] = []

        def unfold(i: int) -> None:
            if i < limit:
                out.append(i)
            else:
                a, b = children[i]
                unfold(a)
                unfold(b)

        for i in self.final.ids.tolist():
            unfold(i)
        return out

    def seq_at(self, k: int) -> TokenSeq:
        """The corpus after ``k`` merges as a TokenSeq with exact spans (for tokens_html)."""
        ids = self.tokens_at(k)
        return _seq(self.tokenizer, self.corpus, ids, f"after {k} merge{'s' if k != 1 else ''}")

    def table(self, k: int | None = None) -> list[dict[str, object]]:
        """The merge table of the first ``k`` steps (all by default), one dict per merge."""
        k = self.n_steps if k is None else self._check_step(k)
        return [{"step": s.step, "left": s.left_text, "right": s.right_text, "new token": s.merged,
                 "new id": s.new_id, "count": s.count} for s in self.steps[:k]]


@dataclass(frozen=True)
class EncodeStep:
    """One merge applied while encoding, placed in the whole text."""

    step: int  # 1-based position in the replay
    chunk: int  # which pretokenized chunk
    chunk_step: int  # 1-based: this is the chunk's n-th merge
    left: int
    right: int
    new_id: int
    byte_offset: int  # where the merged token starts in the text's UTF-8 bytes
    merged: str  # the new token, printable


@dataclass
class EncodingReplay:
    """An encoding, merge application by merge application."""

    text: str
    tokenizer: ByteBPE
    order: str  # "chunk" or "rank"
    chunks: list[ChunkTrace]
    steps: list[EncodeStep] = field(default_factory=list)

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    def tokens_at(self, k: int) -> list[int]:
        """The text's ids after the first ``k`` merge applications (0: bytes)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= int(k) <= self.n_steps:
            raise InvalidInput(f"step must be an integer from 0 (bytes) to {self.n_steps} (fully encoded), got {k!r}")
        done = [0] * len(self.chunks)
        for s in self.steps[: int(k)]:
            done[s.chunk] += 1
        out: list[int] = []
        for c, n in zip(self.chunks, done):
            out.extend(c.states()[n] if n else c.start_ids)
        return out

    def seq_at(self, k: int) -> TokenSeq:
        return _seq(self.tokenizer, self.text, self.tokens_at(k), f"after {k} merge application{'s' if k != 1 else ''}")


def _seq(tok: ByteBPE, text: str, ids: list[int], label: str) -> TokenSeq:
    arr = np.asarray(ids, dtype=np.int64)  # (T,)
    lengths = tok._lengths[arr] if len(arr) else np.zeros(0, dtype=np.int64)  # (T,)
    return TokenSeq(ids=arr, spans=spans_from_lengths(text, lengths), modality="text",
                    tokenizer=f"{tok.name} ({label})", meta={"input_type": "str", "lossless": True})


def _check_text(text: object, limit: int, what: str) -> str:
    if not isinstance(text, str):
        raise InvalidInput(f"the {what} must be text (str), got {type(text).__name__}")
    if not text.strip():
        raise InvalidInput(f"the {what} is empty: type a few sentences")
    if len(text) > limit:
        raise InvalidInput(f"the {what} has {len(text):,} characters; a replay takes at most {limit:,} "
                           f"(it is for classroom-size examples)")
    return text


def replay_training(corpus: str, n_merges: int, pattern: str | None = GPT4_PATTERN) -> TrainingReplay:
    """Train ByteBPE on ``corpus`` for up to ``n_merges`` merges (1..MAX_MERGES), recording each.

    Stops early (``stopped_early``, ``reason``) when the corpus runs out of pairs.
    """
    corpus = _check_text(corpus, MAX_TRAIN_CHARS, "corpus")
    if isinstance(n_merges, float) and n_merges.is_integer():
        n_merges = int(n_merges)
    if isinstance(n_merges, bool) or not isinstance(n_merges, (int, np.integer)) or not 1 <= n_merges <= MAX_MERGES:
        raise InvalidInput(f"the number of merges must be an integer from 1 to {MAX_MERGES}, got {n_merges!r}")
    tok = ByteBPE.train(corpus, 256 + int(n_merges), pattern=pattern, name="text/bpe-learn")
    rep = tok.training
    steps = [TrainStep(step=m.index + 1, left=m.pair[0], right=m.pair[1], new_id=m.new_id, count=m.count,
                       left_text=tok.render_token(m.pair[0]), right_text=tok.render_token(m.pair[1]),
                       merged=tok.render_token(m.new_id)) for m in rep.merges]
    return TrainingReplay(corpus=corpus, requested=int(n_merges), steps=steps, tokenizer=tok,
                          final=tok.encode(corpus), stopped_early=rep.stopped_early, reason=rep.reason)


def replay_encoding(text: str, tokenizer: ByteBPE, order: Literal["chunk", "rank"] = "chunk") -> EncodingReplay:
    """Encode ``text`` with ``tokenizer`` (a ByteBPE) and list every merge application."""
    text = _check_text(text, MAX_ENCODE_CHARS, "text")
    if order not in ORDERS:
        raise InvalidInput(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if not isinstance(tokenizer, ByteBPE):
        raise InvalidInput(f"an encoding replay needs a ByteBPE tokenizer (it traces merges), got {type(tokenizer).__name__}")
    seq = tokenizer.encode(text, trace=True)
    chunks: list[ChunkTrace] = seq.meta["trace"]
    raw = [(ci, j, s, c.byte_start) for ci, c in enumerate(chunks) for j, s in enumerate(c.steps)]
    if order == "rank":  # stable: a chunk's own merges already come in rank order
        raw.sort(key=lambda r: r[2].new_id)
    steps = [EncodeStep(step=n + 1, chunk=ci, chunk_step=j + 1, left=s.left, right=s.right, new_id=s.new_id,
                        byte_offset=start + s.offset, merged=tokenizer.render_token(s.new_id))
             for n, (ci, j, s, start) in enumerate(raw)]
    return EncodingReplay(text=text, tokenizer=tokenizer, order=order, chunks=chunks, steps=steps)
