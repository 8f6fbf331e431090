"""Several tokenizers on the same text: where their token boundaries differ, and how far apart
their token counts are. Also the merge history of one token, for the Text tab's click-a-token view.

    cmp = compare("aé", ["text/chars", "text/bytes"])
    cmp.shared                      # [1]: both cut between "a" and "é"
    cmp["text/bytes"].differing     # [2]: only text/bytes cuts inside "é" (between 0xC3 and 0xA9)
    cmp.spread                      # CountSpread(min=2, max=3, ratio=1.5, fewest='text/chars', most='text/bytes')

A *boundary* is a UTF-8 byte offset strictly inside the text where a token starts or ends
(0 and the end of the text are not boundaries). Boundaries are compared on byte offsets, so a
tokenizer that splits a character into its bytes differs from one that keeps it whole. A
boundary *differs* when at least one of the compared tokenizers does not cut there: each
Segmentation's ``differing`` is its boundaries minus ``Comparison.shared`` (the boundaries every
tokenizer has). Tokenizers that drop text (BERT drops spaces) have tokens that do not touch;
both ends of each token count.

Symbols: T tokens, B boundaries.
"""
from __future__ import annotations

from dataclasses import dataclass
import weakref
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..core import LazySpans, SpanTable, TokenSeq, Tokenizer
from ..errors import InvalidInput
from ._common import as_text_input

MIN_COMPARE = 2  # fewest tokenizers a comparison takes
MAX_COMPARE = 4  # most tokenizers a comparison takes (side by side they stop being readable)


@dataclass
class Segmentation:
    """How one tokenizer cut the text."""

    tokenizer: str  # its name (TokenSeq.tokenizer)
    ref: str  # how it was asked for: a registry name or "run:..." (what load_ref takes)
    vocab_size: int
    seq: TokenSeq
    byte_start: np.ndarray  # (T,) int64
    byte_end: np.ndarray  # (T,) int64
    boundaries: np.ndarray  # (B,) sorted inner byte offsets where this tokenizer cuts
    differing: np.ndarray  # (D,) the boundaries that at least one other tokenizer lacks
    diff_start: np.ndarray  # (T,) bool: the token starts at a differing boundary
    diff_end: np.ndarray  # (T,) bool: the token ends at a differing boundary

    @property
    def n_tokens(self) -> int:
        return len(self.seq)

    @property
    def lossless(self) -> bool:
        return self.seq.lossless


@dataclass(frozen=True)
class CountSpread:
    """How far apart the token counts are."""

    min: int
    max: int
    ratio: float | None  # max / min; None when a tokenizer made no tokens (empty text)
    fewest: str  # the tokenizer with the fewest tokens (the first one on ties)
    most: str  # the tokenizer with the most tokens


@dataclass
class Comparison:
    """Tokenizers side by side on one text."""

    text: str  # the text tokenized (str input; bytes input decoded for display)
    data: bytes  # the exact bytes the tokens' byte spans point into (UTF-8 of the text, or the input bytes)
    segmentations: list[Segmentation]
    shared: np.ndarray  # (S,) boundaries every tokenizer has
    spread: CountSpread

    @property
    def n_bytes(self) -> int:
        return len(self.data)

    def __getitem__(self, name: str) -> Segmentation:
        for s in self.segmentations:
            if name in (s.tokenizer, s.ref):
                return s
        raise KeyError(f"{name!r} is not in this comparison; it has {', '.join(s.tokenizer for s in self.segmentations)}")

    @property
    def n_differing(self) -> int:
        """Boundaries that not every tokenizer has (the union of the ``differing`` sets)."""
        return int(np.unique(np.concatenate([s.differing for s in self.segmentations])).size)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: counts, bytes per token, boundaries and the spread."""
        return {
            "n_bytes": self.n_bytes,
            "n_chars": len(self.text),
            "shared_boundaries": int(self.shared.size),
            "differing_boundaries": self.n_differing,
            "spread": {"min": self.spread.min, "max": self.spread.max, "ratio": self.spread.ratio,
                       "fewest": self.spread.fewest, "most": self.spread.most},
            "tokenizers": [
                {
                    "tokenizer": s.tokenizer,
                    "n_tokens": s.n_tokens,
                    "bytes_per_token": round(self.n_bytes / s.n_tokens, 4) if s.n_tokens else None,
                    "boundaries": int(s.boundaries.size),
                    "differing": s.differing.tolist(),
                    "lossless": s.lossless,
                    "ids": s.seq.tolist(),
                }
                for s in self.segmentations
            ],
        }


def byte_spans(seq: TokenSeq) -> tuple[np.ndarray, np.ndarray]:
    """``(byte_start, byte_end)``, each (T,) int64, read from the span columns when they are numpy."""
    spans = seq.spans
    if isinstance(spans, LazySpans):
        spans = spans.spans
    if isinstance(spans, SpanTable) and spans.byte_start is not None and spans.byte_end is not None:
        return spans.byte_start, spans.byte_end
    if any(s.byte_start is None for s in spans):
        raise InvalidInput(f"{seq.tokenizer} gives no byte offsets for its tokens, so its boundaries cannot be compared")
    return (np.fromiter((s.byte_start for s in spans), dtype=np.int64, count=len(spans)),
            np.fromiter((s.byte_end for s in spans), dtype=np.int64, count=len(spans)))


def compare_seqs(seqs: Sequence[TokenSeq], source: str | bytes, refs: Sequence[str] | None = None,
                 vocab_sizes: Sequence[int] | None = None) -> Comparison:
    """Compare TokenSeqs that encode the same ``source`` (any number, two or more)."""
    if len(seqs) < 2:
        raise InvalidInput(f"a comparison needs at least two tokenizations, got {len(seqs)}")
    inp = as_text_input(source, "compare")
    n = len(inp.data)
    starts, ends, bounds = [], [], []
    for seq in seqs:
        if seq.modality != "text":
            raise InvalidInput(f"{seq.tokenizer} is a {seq.modality} tokenizer; compare text tokenizers")
        b0, b1 = byte_spans(seq)
        cuts = np.concatenate([b0, b1])
        bounds.append(np.unique(cuts[(cuts > 0) & (cuts < n)]))  # (B,)
        starts.append(b0)
        ends.append(b1)
    shared = bounds[0]
    for b in bounds[1:]:
        shared = np.intersect1d(shared, b, assume_unique=True)
    segs = []
    for k, seq in enumerate(seqs):
        diff = np.setdiff1d(bounds[k], shared, assume_unique=True)  # (D,)
        segs.append(Segmentation(
            tokenizer=seq.tokenizer,
            ref=refs[k] if refs is not None else seq.tokenizer,
            vocab_size=vocab_sizes[k] if vocab_sizes is not None else 0,
            seq=seq, byte_start=starts[k], byte_end=ends[k], boundaries=bounds[k], differing=diff,
            diff_start=np.isin(starts[k], diff), diff_end=np.isin(ends[k], diff),
        ))
    counts = [len(s) for s in seqs]
    lo, hi = int(np.argmin(counts)), int(np.argmax(counts))
    spread = CountSpread(min=counts[lo], max=counts[hi], ratio=counts[hi] / counts[lo] if counts[lo] else None,
                         fewest=seqs[lo].tokenizer, most=seqs[hi].tokenizer)
    return Comparison(text=inp.text, data=inp.data, segmentations=segs, shared=shared, spread=spread)


def compare(text: str | bytes, tokenizers: Sequence[str | Tokenizer]) -> Comparison:
    """Encode ``text`` with 2 to 4 tokenizers (names for ``tw.load_ref``, or tokenizer objects) and compare."""
    from ..registry import load_ref

    if isinstance(tokenizers, str):
        tokenizers = [tokenizers]
    if not MIN_COMPARE <= len(tokenizers) <= MAX_COMPARE:
        raise InvalidInput(f"Compare takes {MIN_COMPARE} to {MAX_COMPARE} tokenizers; {len(tokenizers)} "
                           f"{'was' if len(tokenizers) == 1 else 'were'} chosen")
    toks = [load_ref(t) if isinstance(t, str) else t for t in tokenizers]
    for t in toks:
        if t.modality != "text":
            raise InvalidInput(f"{t.name} is a {t.modality} tokenizer; Compare takes text tokenizers")
    refs = [t if isinstance(t, str) else tok.name for t, tok in zip(tokenizers, toks)]
    return compare_seqs([t.encode(text) for t in toks], text, refs, [t.vocab_size for t in toks])


# ---- merge history ---------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _teaching_bpe(vocab: str):
    from .bpe import ByteBPE

    return ByteBPE.from_pretrained(vocab)  # derives the merges from the ranks (1-3 s, once)


_HF_RANKS: "weakref.WeakKeyDictionary[Any, dict[tuple[str, str], int]]" = weakref.WeakKeyDictionary()


def _hf_merge_tree(tok: Any, token_id: int):
    """The merge tree of a token of a byte-level BPE model read by HF tokenizers: BPE run on the
    token's own bytes with the merges of its tokenizer.json (lowest rank first), as the encoder would."""
    import json

    from .bpe import MergeNode
    from .hf import byte_alphabet

    ranks = _HF_RANKS.get(tok)
    if ranks is None:
        merges = (json.loads(tok.spec).get("model") or {}).get("merges") or []
        ranks = {}
        for r, m in enumerate(merges):
            a, b = m.split(" ", 1) if isinstance(m, str) else m
            ranks.setdefault((a, b), r)
        _HF_RANKS[tok] = ranks
    text = tok.hf.id_to_token(int(token_id))
    if text is None:
        raise InvalidInput(f"{tok.name} has no token with id {token_id}; ids are 0..{tok.vocab_size - 1}")
    if int(token_id) in tok.hf.get_added_tokens_decoder():
        return MergeNode(int(token_id), text.encode("utf-8"), special=True)
    alphabet = byte_alphabet()

    def node(s: str, left: Any = None, right: Any = None) -> MergeNode:
        i = tok.hf.token_to_id(s)
        data = bytes(alphabet[c] for c in s) if all(c in alphabet for c in s) else s.encode("utf-8")
        return MergeNode(-1 if i is None else i, data, left, right)

    syms = list(text)  # one character of GPT-2's byte alphabet per byte
    nodes = [node(c) for c in syms]
    while len(syms) > 1:
        best = min(((ranks[(a, b)], k) for k, (a, b) in enumerate(zip(syms, syms[1:])) if (a, b) in ranks), default=None)
        if best is None:
            break
        k = best[1]
        merged = syms[k] + syms[k + 1]
        syms[k:k + 2] = [merged]
        nodes[k:k + 2] = [node(merged, nodes[k], nodes[k + 1])]
    return nodes[0] if len(nodes) == 1 else node(text)  # a token no merge makes: shown whole


def merge_history(tok: Tokenizer, token_id: int):
    """How token ``token_id`` of ``tok`` was built: a ``bpe.MergeNode`` tree down to single bytes,
    or None when the tokenizer keeps no merge history.

    ByteBPE tokenizers (pretrained or trained here) have one; tiktoken vocabularies get it from the
    teaching ByteBPE built on the same ranks (the same ids, so the same tokens); BPE models read by
    HF tokenizers (text/llama3, text/qwen3, byte-level BPE runs) from the merges in their tokenizer.json.
    """
    if hasattr(tok, "merge_tree"):
        return tok.merge_tree(int(token_id))
    if getattr(tok, "model_type", None) == "BPE" and getattr(tok, "byte_level", False) and hasattr(tok, "spec"):
        return _hf_merge_tree(tok, int(token_id))
    vocab = getattr(tok, "vocab", None)
    encoding = getattr(tok, "encoding", None)
    if isinstance(vocab, str) and encoding is not None:
        from .bpe import PRETRAINED

        if vocab in PRETRAINED:
            tok.token_bytes(int(token_id))  # a clear error for an id it does not have
            return _teaching_bpe(vocab).merge_tree(int(token_id))
    return None
