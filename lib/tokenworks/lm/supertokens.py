"""Supertokens on a real model: SmolLM2 given a SuperBPE vocabulary trained in the workbench.

    r = supertokens(tw.load_lm(), vocab_size=50_000, transition=40_000)   # trains, transplants, scores
    r.token_reduction     # 1 - tokens_new / tokens_base on the held-out prose
    r.zero_shot_ratio     # bits per byte, transplanted (TokenAdapt) / original, same text
    r.finetuned_ratio     # ... after a fine-tune preset (finetune=None skips it)

SuperBPE (``tokenworks.text.superbpe``) learns ordinary BPE up to ``transition`` tokens, then
merges across spaces ("superwords" such as ``,␣and`` or ``␣of␣the``). It trains on the train split
of ``corpus`` (by default ``pydocs``: technical English prose, like the held-out file), never on the
held-out prose (``lm.heldout``), which is what is measured: how many fewer tokens the same text
takes than with SmolLM2's own tokenizer, and what the model pays for it in bits per byte when its
new rows come from ``lm.transplant`` (zero-shot) and after ``lm.finetune``.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput
from ..paths import runs_dir


@dataclass
class SupertokenReport:
    tokenizer: str  # the SuperBPE run ("run:<folder>")
    vocab_size: int
    transition: int  # where merges across spaces started
    corpus: str  # what it trained on (train split)
    train_seconds: float
    heldout_bytes: int
    tokens_base: int  # SmolLM2's tokens on the held-out prose
    tokens_new: int  # the SuperBPE's
    superword_tokens: int  # of tokens_new, those holding a space after their first byte
    method: str  # how the new rows started (lm.new_embeddings)
    base_bits_per_byte: float  # the original model, its tokenizer
    zero_shot_bits_per_byte: float
    finetuned_bits_per_byte: float | None = None  # after ``finetune_preset``; None when not run
    finetune_preset: str | None = None
    finetune_steps: int = 0

    @property
    def token_reduction(self) -> float:
        return 1.0 - self.tokens_new / self.tokens_base

    @property
    def zero_shot_ratio(self) -> float:
        return self.zero_shot_bits_per_byte / self.base_bits_per_byte

    @property
    def finetuned_ratio(self) -> float | None:
        f = self.finetuned_bits_per_byte
        return None if f is None else f / self.base_bits_per_byte


def _superword(b: bytes) -> bool:
    return b" " in b[1:].rstrip(b" ")


def supertokens(lm, vocab_size: int = 50_000, transition: int = 40_000, corpus: str = "pydocs",
                limit_mb: float = 4.0, method: str = "tokenadapt", finetune: str | None = "cpu",
                out: str | Path | None = None) -> SupertokenReport:
    """Train the SuperBPE (into ``out``, default ``runs/text/<corpus>-superbpe-<vocab_size>``),
    transplant it onto ``lm`` with ``method``, score the held-out prose, then fine-tune with the
    ``finetune`` preset (None: skip) and score again."""
    from ..text.train import TextTrainRequest, train_text
    from .finetune import eval_texts, finetune as run_finetune
    from .finetune_config import preset_config
    from .transplant import transplant

    if not 0 < transition < vocab_size:
        raise InvalidInput(f"transition must be between 0 and vocab_size ({vocab_size:,}), not {transition:,}")
    folder = Path(out) if out else runs_dir() / "text" / f"{corpus}-superbpe-{vocab_size}"
    trained = train_text(TextTrainRequest(algo="superbpe", vocab_size=vocab_size, transition_vocab_size=transition,
                                          corpus=corpus, limit_mb=limit_mb, out=str(folder)))
    ref = f"run:{trained.folder}"
    texts = eval_texts(0)
    n_bytes = sum(len(t.encode()) for t in texts)
    base_bits = sum(lm.score(t).total_bits for t in texts)
    tokens_base = sum(len(lm.tokenizer.encode(t).ids) for t in texts)
    t = transplant(lm, ref, method, texts=texts)
    vocab = t.lm.vocab.token_bytes
    ids = [i for x in texts for i in t.lm.tokenizer.encode(x).ids.tolist()]
    zero = sum(t.lm.score(x).total_bits for x in texts)
    report = SupertokenReport(ref, vocab_size, transition, corpus, trained.seconds, n_bytes, tokens_base, len(ids),
                              sum(_superword(vocab[i]) for i in ids), method, base_bits / n_bytes, zero / n_bytes)
    del t
    if finetune:
        with tempfile.TemporaryDirectory(prefix="tw-supertokens-") as tmp:
            r = run_finetune(preset_config(finetune, tokenizer=ref, method=method, out=f"{tmp}/model"))
        report.finetuned_bits_per_byte = r.evals[-1].bits_per_byte
        report.finetune_preset, report.finetune_steps = finetune, r.steps
    return report


__all__ = ["SupertokenReport", "supertokens"]
