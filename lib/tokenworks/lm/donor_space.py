"""A space where the tokens of two vocabularies both have vectors: MiniLM's word embeddings.

OMP (Goddard & Neto 2025) and TokenAdapt's global estimate need vectors for old and new tokens
in one space. The paper takes them from a donor model trained on the new vocabulary; no such donor
exists offline here. What does: all-MiniLM-L6-v2 (asset ``minilm-model``), whose input embedding
table covers any text through its WordPiece vocabulary. A token's vector is the mean of the
MiniLM embeddings of the WordPieces of its text. This space is lower-cased and ignores spaces
(MiniLM's tokenizer does both), so ``" The"`` and ``"the"`` share a vector there, and tokens that
are part of a UTF-8 character have none (``ok`` is False for them): say so wherever it is used.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NAME = "all-MiniLM-L6-v2 word embeddings (mean over the token text's WordPieces; lower-cased, spaces dropped)"


@dataclass
class DonorVectors:
    vectors: np.ndarray  # (N, 384) float32
    ok: np.ndarray  # (N,) bool: the token's text gave at least one WordPiece


def donor_vectors(token_bytes: list[bytes]) -> DonorVectors:
    """MiniLM-space vectors of byte strings (one per token)."""
    from ..text.attention import _load, model_dir

    model, tok, _ = _load(model_dir())
    W = model.embeddings.word_embeddings.weight.detach().float().cpu().numpy()  # (30522, 384)
    texts, where = [], []
    for i, b in enumerate(token_bytes):
        try:
            t = b.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if t.strip():
            texts.append(t)
            where.append(i)
    out = np.zeros((len(token_bytes), W.shape[1]), dtype=np.float32)
    ok = np.zeros(len(token_bytes), dtype=bool)
    unk = tok.token_to_id("[UNK]")
    for i, enc in zip(where, tok.encode_batch(texts, add_special_tokens=False)):
        ids = [j for j in enc.ids if j != unk]
        if ids:
            out[i] = W[ids].mean(axis=0)
            ok[i] = True
    return DonorVectors(out, ok)
