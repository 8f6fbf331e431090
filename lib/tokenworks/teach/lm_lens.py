"""Under-trained tokens at a glance, for notebook 07: embedding outliers (Land & Bartolo 2024).

Land & Bartolo 2024 ("Fishing for Magikarp: Automatically Detecting Under-trained Tokens in Large
Language Models") find tokens a model barely saw in training by their embeddings: tokens the
tokenizer can never produce get (almost) no gradient, so their vectors stay where initialisation
and weight decay left them, and other under-trained tokens sit close to them. ``embedding_outliers``
is the notebook-sized version of one of their indicators:

1. the reference set: tokens the model never sees in ordinary text. Ordinary tokens the tokenizer
   can never produce: bytes that occur in no valid UTF-8 text (in a byte-level BPE, the bytes
   0xC0, 0xC1 and 0xF5-0xFF) or text that encodes to other ids (``encode(bytes) != [id]``). And
   control tokens the model does not use: every special token except the document start and the
   chat markers (SmolLM2 has no ordinary token it cannot produce; its reference set is its 14
   repository and Jupyter markers, ``<filename>``, ``<gh_stars>`` ...);
2. the (tied) embedding matrix, centred, with its first principal component removed (it is
   shared by every token and would dominate every cosine);
3. each token's cosine to the mean of the reference set's vectors: the higher, the more it looks
   like a token that was never trained.

This is a candidate list, not a verdict. The full analysis (several indicators, each candidate
verified by prompting the model to repeat it) is ``tokenworks.lm.undertrained`` and the app's
Under-trained tab.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInput
from ..text._common import bytes_label

# bytes that may come before a token which starts inside a character: a lead byte and 0 to 2
# continuation bytes (three values, so the tighter ranges after E0, ED, F0 and F4 are covered)
CHAT_MARKERS = ("<|im_start|>", "<|im_end|>")  # control tokens a chat model uses (ChatML)
_BEFORE = [bytes([lead]) + bytes([cont]) * k for lead in range(0xC2, 0xF5) for cont in (0x80, 0x90, 0xA0)
           for k in range(3)]


def in_some_utf8(data: bytes) -> bool:
    """Whether ``data`` occurs inside some valid UTF-8 text (a character may start before it and
    end after it)."""
    for before in (b"", *_BEFORE):
        try:
            (before + data).decode("utf-8")
            return True
        except UnicodeDecodeError as e:
            if e.reason == "unexpected end of data":  # valid up to a character the text would finish
                return True
    return False


def never_produced(vocab) -> tuple[np.ndarray, np.ndarray]:
    """Ordinary tokens no text produces: (ids whose bytes occur in no UTF-8 text, ids whose text
    encodes to other ids). ``vocab`` is a ``tokenworks.lm.vocab.TokenVocab``."""
    texts, text_ids, no_utf8 = [], [], []
    for i, data in enumerate(vocab.token_bytes):
        if vocab.special[i] or not data:
            continue
        try:
            texts.append(data.decode("utf-8"))
            text_ids.append(i)
        except UnicodeDecodeError:
            if not in_some_utf8(data):
                no_utf8.append(i)
    other = [i for i, ids in zip(text_ids, vocab.encode_many(texts)) if list(ids) != [i]]
    return np.asarray(no_utf8, dtype=np.int64), np.asarray(other, dtype=np.int64)


@dataclass(frozen=True)
class OutlierToken:
    id: int
    label: str  # the token's bytes as text (stray bytes as <0xNN>)
    cosine: float  # to the mean vector of the reference set
    reference: bool  # one of the ordinary tokens the tokenizer can never produce


@dataclass
class EmbeddingOutliers:
    """Tokens ranked by how much their embedding looks like a never-trained token's."""

    top: list[OutlierToken]  # the k highest cosines, highest first
    cosine: np.ndarray = field(repr=False)  # (V,) cosine of every token; nan for special tokens
    no_utf8_ids: np.ndarray = field(repr=False)  # (R1,) reference: bytes no UTF-8 text contains
    round_trip_ids: np.ndarray = field(repr=False)  # (R2,) reference: text that encodes to other ids
    control_ids: np.ndarray = field(repr=False)  # (R3,) reference: control tokens the model does not use
    pc1_share: float = 0.0  # share of the embeddings' variance along the removed first component

    @property
    def reference_ids(self) -> np.ndarray:
        return np.union1d(np.union1d(self.no_utf8_ids, self.round_trip_ids), self.control_ids)


def unused_controls(lm) -> np.ndarray:
    """Control tokens other than the document start and the chat markers."""
    names = getattr(lm.vocab, "special_names", {})
    used = {lm.bos_id} | {i for i, name in names.items() if name in CHAT_MARKERS}
    return np.asarray([i for i in np.flatnonzero(lm.vocab.special).tolist() if i not in used], dtype=np.int64)


def embedding_outliers(lm, k: int = 20) -> EmbeddingOutliers:
    """Rank ``lm``'s ordinary tokens by the cosine of their embedding to the mean of the unused ones."""
    import torch

    if not isinstance(k, int) or k < 1:
        raise InvalidInput(f"k must be a whole number of tokens, at least 1 (got {k!r})")
    vocab = lm.vocab
    no_utf8, round_trip = never_produced(vocab)
    controls = unused_controls(lm)
    ref = np.union1d(np.union1d(no_utf8, round_trip), controls)
    if len(ref) == 0:
        raise InvalidInput(f"{lm.name}: every token is produced by some text or used as a marker, "
                           "so there is no reference set of unused tokens")
    V = len(vocab.token_bytes)
    special = np.asarray(vocab.special, dtype=bool)  # (V,)
    W = lm.net.module.get_input_embeddings().weight.detach().float().cpu()[:V]  # (V, D) tied with the output
    keep = torch.from_numpy(~special)  # (V,)
    X = W - W[keep].mean(0)  # (V, D) centred
    cov = X[keep].T @ X[keep] / int(keep.sum())  # (D, D)
    evals, evecs = torch.linalg.eigh(cov)  # ascending
    pc1 = evecs[:, -1]  # (D,)
    X = X - (X @ pc1)[:, None] * pc1[None]  # (V, D) first principal component removed
    r = X[torch.from_numpy(ref)].mean(0)  # (D,) the unused direction (control tokens included)
    cos = (X @ r / (X.norm(dim=1) * r.norm()).clamp_min(1e-12)).double().numpy()  # (V,)
    cos[special] = np.nan  # control tokens are not ranked (the unused ones are the reference)
    order = np.argsort(-np.nan_to_num(cos, nan=-np.inf), kind="stable")[:k]
    ref_set = set(ref.tolist())
    top = [OutlierToken(int(i), bytes_label(vocab.token_bytes[i]), float(cos[i]), int(i) in ref_set) for i in order]
    share = float(evals[-1] / evals.sum())
    return EmbeddingOutliers(top, cos, no_utf8, round_trip, controls, share)
