"""Dynamic tokenization at inference: merge a document's most frequent token pairs, then score it.

Feher et al. 2024 ("Retrofitting Language Models with Dynamic Tokenization") merge the frequent
subword sequences of a batch BPE-style on the fly and predict each merged token's embedding from
its parts. Here, with no trained embedding predictor offline, a merged token's vector is an
estimate from its parts (``fvt``: the mean of the base vectors of the base tokens it is made of),
so these numbers are the zero-shot cost of shorter sequences, before any training:

    r = dynamic_score(lm, text, rounds=32)
    r.tokens_before, r.tokens_after, r.reduction     # how much shorter the sequence got
    r.bpb_before, r.bpb_after                         # what it cost in bits per byte

Merged tokens are appended to the vocabulary for this document (or this batch: ``dynamic_merges``
counts pairs over several documents at once); the model's output layer is tied, so it can also
predict them, and bits per byte stays exact: every byte of the text is still scored once.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInput

MAX_ROUNDS = 4096


@dataclass
class Merges:
    """BPE-style merges learned on one document or batch. V base tokens; merged ids are V, V+1, ..."""

    base_vocab: int
    pairs: list[tuple[int, int]]  # merge k made id base_vocab + k from this pair
    parts: list[list[int]] = field(default_factory=list)  # base ids each merged token is made of

    def apply(self, ids: list[int]) -> list[int]:
        """``ids`` with every merge applied in order (a merged token may take part in a later merge)."""
        out = list(ids)
        for k, (a, b) in enumerate(self.pairs):
            new, merged, i = self.base_vocab + k, [], 0
            while i < len(out):
                if i + 1 < len(out) and out[i] == a and out[i + 1] == b:
                    merged.append(new)
                    i += 2
                else:
                    merged.append(out[i])
                    i += 1
            out = merged
        return out


def dynamic_merges(docs: list[list[int]], rounds: int, base_vocab: int, keep: set[int] = frozenset()) -> Merges:
    """Up to ``rounds`` merges of the most frequent adjacent pair over ``docs`` (a pair must occur at
    least twice; ties go to the pair seen first). Tokens in ``keep`` (special tokens) never merge."""
    if not isinstance(rounds, int) or not 0 <= rounds <= MAX_ROUNDS:
        raise InvalidInput(f"rounds must be a whole number in 0..{MAX_ROUNDS} (got {rounds!r})")
    seqs = [list(d) for d in docs]
    m = Merges(base_vocab, [], [])
    parts = {}
    for k in range(rounds):
        counts: Counter = Counter()
        for s in seqs:
            counts.update(p for p in zip(s, s[1:]) if p[0] not in keep and p[1] not in keep)
        if not counts:
            break
        pair, n = counts.most_common(1)[0]
        if n < 2:
            break
        new = base_vocab + k
        m.pairs.append(pair)
        parts[new] = parts.get(pair[0], [pair[0]]) + parts.get(pair[1], [pair[1]])
        m.parts.append(parts[new])
        seqs = [Merges(new, [pair]).apply(s) for s in seqs]
    return m


@dataclass
class DynamicScore:
    label: str
    rounds: int
    merges: int  # merges actually made (a pair must occur twice)
    tokens_before: int
    tokens_after: int
    bpb_before: float
    bpb_after: float
    n_bytes: int

    @property
    def reduction(self) -> float:
        """Share of tokens removed."""
        return 1 - self.tokens_after / self.tokens_before if self.tokens_before else 0.0

    @property
    def cost(self) -> float:
        """bits per byte after / before."""
        return self.bpb_after / self.bpb_before


def _score_ids(lm, module, ids: list[int]) -> float:
    """Total bits of ``ids`` after the document-start token, with ``module`` (one window)."""
    import torch

    with lm.net.lock, torch.inference_mode():
        x = torch.tensor([[lm.bos_id] + ids], device=lm.net.device)  # (1, T+1)
        logp = torch.log_softmax(module(x, use_cache=False).logits[0].float(), -1)  # (T+1, V')
        got = logp[torch.arange(len(ids)), torch.tensor(ids)]  # (T,)
    return -float(got.double().sum()) / math.log(2)


def dynamic_score(lm, text: str, rounds: int, label: str = "", max_tokens: int = 1000) -> DynamicScore:
    """Bits per byte of ``text`` before and after ``rounds`` merges learned on the text itself."""
    from .transplant import _with_embeddings

    ids = lm.tokenizer.encode(text).ids.tolist()
    if not ids:
        raise InvalidInput("the text is empty: give some text to merge")
    if len(ids) > max_tokens:
        raise InvalidInput(f"the text has {len(ids)} tokens; dynamic scoring takes at most {max_tokens} (one window)")
    V = len(lm.vocab.token_bytes)
    keep = set(np.flatnonzero(lm.vocab.special).tolist())
    m = dynamic_merges([ids], rounds, V, keep)
    merged = m.apply(ids)
    with lm.net.lock:
        E = lm.net.module.get_input_embeddings().weight.detach().float().cpu().numpy()[:V]  # (V, D)
    rows = np.stack([E[p].mean(axis=0) for p in m.parts]) if m.parts else np.zeros((0, E.shape[1]), np.float32)
    module = _with_embeddings(lm.net.module, np.concatenate([E, rows]).astype(np.float32)).to(lm.net.device)
    n_bytes = len(text.encode("utf-8"))
    before = _score_ids(lm, lm.net.module, ids) / n_bytes
    after = _score_ids(lm, module, merged) / n_bytes
    return DynamicScore(label, rounds, len(m.pairs), len(ids), len(merged), before, after, n_bytes)
