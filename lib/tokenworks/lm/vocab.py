"""What the byte-level view of a language model needs to know about its tokenizer.

``TokenVocab`` is a small protocol, so the exact next-byte computation (``byte_probs``) runs the
same on SmolLM2's 49k byte-level BPE and on the toy BPE the tests enumerate by brute force:

    vocab.token_bytes[i]        # bytes of token i (b"" for special tokens)
    vocab.special               # (V,) bool: control tokens, which stand for no bytes
    vocab.encode(text)          # the tokenizer's canonical ids of a text (special-token strings
                                #   in the text are read as the special tokens, as HF does)
    vocab.encode_many(texts)    # the same for a batch
    vocab.last_pretoken(text)   # character offset where the text's last pre-token starts
    vocab.pretoken_spans(text)  # (start, end) character offsets of the pre-tokens (no special tokens)

``HFVocab`` adapts any byte-level ``HFTokenizer`` (``text/smollm2``, ``text/llama3``, a trained
tokenizer.json); ``TiktokenVocab`` the OpenAI vocabularies (``text/cl100k_base`` ...); ``ByteBPEVocab`` the
workbench's own byte-level BPE and SuperBPE runs;
``vocab_for(tok)`` picks one and refuses a tokenizer whose bytes are not exact (WordPiece,
Unigram with an unknown token), because such a model has no exact bits per byte.
"""
from __future__ import annotations

import bisect
import re
from functools import cached_property
from typing import Protocol, Sequence

import numpy as np


class TokenVocab(Protocol):
    token_bytes: list[bytes]
    special: np.ndarray

    def encode(self, text: str) -> list[int]: ...

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]: ...

    def last_pretoken(self, text: str) -> int: ...

    def pretoken_spans(self, text: str) -> list[tuple[int, int]]: ...


class PrefixIndex:
    """Token ids whose bytes start with a given byte string, by binary search over sorted bytes."""

    def __init__(self, token_bytes: Sequence[bytes], special: np.ndarray):
        order = sorted((b, i) for i, b in enumerate(token_bytes) if b and not special[i])
        self._keys = [b for b, _ in order]
        self._ids = np.array([i for _, i in order], dtype=np.int64)
        self.lengths = np.array([len(b) for b in token_bytes], dtype=np.int64)  # (V,)

    def starting_with(self, prefix: bytes) -> np.ndarray:
        """Ids of the (non-special) tokens whose bytes start with ``prefix`` (all of them for b"")."""
        if not prefix:
            return self._ids
        lo = bisect.bisect_left(self._keys, prefix)
        head = prefix.rstrip(b"\xff")  # the smallest byte string above every extension of prefix
        hi = bisect.bisect_left(self._keys, head[:-1] + bytes([head[-1] + 1]), lo) if head else len(self._keys)
        return self._ids[lo:hi]


def index_of(vocab: TokenVocab) -> PrefixIndex:
    idx = getattr(vocab, "_prefix_index", None)
    if idx is None:
        idx = PrefixIndex(vocab.token_bytes, vocab.special)
        try:
            vocab._prefix_index = idx  # type: ignore[attr-defined]
        except AttributeError:
            pass
    return idx


class HFVocab:
    """``TokenVocab`` over a byte-level ``tokenworks.text.hf.HFTokenizer``."""

    def __init__(self, tok):
        if not getattr(tok, "byte_level", False):
            raise ValueError(f"{tok.name} is not a byte-level vocabulary; byte probabilities need token bytes")
        self.tok = tok
        n = tok.vocab_size
        added = tok.hf.get_added_tokens_decoder()
        self.special = np.zeros(n, dtype=bool)  # (V,)
        for i, t in added.items():
            if getattr(t, "special", False):
                self.special[i] = True
        self.token_bytes = [b"" if self.special[i] or tok._bytes[i] is None else tok._bytes[i] for i in range(n)]
        names = sorted((added[i].content for i in np.flatnonzero(self.special)), key=len, reverse=True)
        self._special_re = re.compile("|".join(map(re.escape, names))) if names else None

    @cached_property
    def special_names(self) -> dict[int, str]:
        return {int(i): self.tok.hf.id_to_token(int(i)) for i in np.flatnonzero(self.special)}

    def encode(self, text: str) -> list[int]:
        return self.tok.hf.encode(text, add_special_tokens=False).ids if text else []

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.hf.encode_batch(list(texts), add_special_tokens=False)]

    def pretoken_spans(self, text: str) -> list[tuple[int, int]]:
        return [span for _, span in self.tok.hf.pre_tokenizer.pre_tokenize_str(text)]

    def last_pretoken(self, text: str) -> int:
        start = 0
        if self._special_re is not None:  # special tokens are cut out before pre-tokenization
            for m in self._special_re.finditer(text):
                start = m.end()
        pieces = self.tok.hf.pre_tokenizer.pre_tokenize_str(text[start:])
        return start + pieces[-1][1][0] if pieces else start


class TiktokenVocab:
    """``TokenVocab`` over a ``tokenworks.text.tiktoken_tok.TiktokenTokenizer`` (special-token strings
    in text are read as text, as ``encode_ordinary`` does)."""

    def __init__(self, tok):
        import regex

        from ..text.openai_vocab import load_openai_vocab

        self.tok = tok
        n = tok.vocab_size
        self.special = np.array([b is None or i in tok.special_ids for i, b in enumerate(tok._bytes)], dtype=bool)  # (V,)
        self.token_bytes = [b"" if self.special[i] else tok._bytes[i] for i in range(n)]
        self._pattern = regex.compile(load_openai_vocab(tok.vocab).pattern)
        self.special_names = {int(i): tok._bytes[i].decode() for i in tok.special_ids}

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text).ids.tolist() if text else []

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def pretoken_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self._pattern.finditer(text)]

    def last_pretoken(self, text: str) -> int:
        spans = self.pretoken_spans(text)
        return spans[-1][0] if spans else 0


class ByteBPEVocab:
    """``TokenVocab`` over the workbench's own byte-level BPE (``ByteBPE``, ``SuperBPE`` runs).

    A vocabulary trained without a document-start token (SuperBPE takes no special tokens) gets
    one more id, ``V``, named ``<|endoftext|>``: the tokenizer never produces it, a model reads
    it first and may predict it as the end of the document.
    """

    def __init__(self, tok):
        self.tok = tok
        n = tok.vocab_size
        specials = {i: s for s, i in tok.special_tokens.items()}
        self.appended_doc_start = "<|endoftext|>" not in tok.special_tokens
        if self.appended_doc_start:
            specials[n] = "<|endoftext|>"
            n += 1
        self.special = np.array([i in specials for i in range(n)], dtype=bool)  # (V,)
        self.token_bytes = [b"" if i in specials else tok.token_bytes(i) for i in range(n)]
        self.special_names = specials

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text).ids.tolist() if text else []

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def pretoken_spans(self, text: str) -> list[tuple[int, int]]:
        pat = self.tok._pat
        return [m.span() for m in pat.finditer(text)] if pat is not None else ([(0, len(text))] if text else [])

    def last_pretoken(self, text: str) -> int:
        spans = self.pretoken_spans(text)
        return spans[-1][0] if spans else 0


def vocab_for(tok):
    """The ``TokenVocab`` of a text tokenizer; ``InvalidInput`` for one whose tokens are not exact bytes."""
    from ..errors import InvalidInput
    from ..text.bpe import ByteBPE
    from ..text.hf import HFTokenizer
    from ..text.tiktoken_tok import TiktokenTokenizer

    if isinstance(tok, TiktokenTokenizer):
        return TiktokenVocab(tok)
    if isinstance(tok, ByteBPE):
        return ByteBPEVocab(tok)
    if isinstance(tok, HFTokenizer) and tok.byte_level:
        return HFVocab(tok)
    kind = getattr(tok, "model_type", None) or type(tok).__name__
    raise InvalidInput(
        f"{tok.name} is not a byte-level vocabulary ({kind}): its tokens are not exact bytes (it normalises text or "
        "has an unknown token), so a model on it has no exact bits per byte. Byte-level BPE vocabularies work: "
        "text/cl100k_base, text/o200k_base, text/r50k_base, text/llama3, text/qwen3, text/smollm2, or a trained "
        "byte-level BPE run")
