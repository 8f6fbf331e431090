"""Vocabularies from vocab-only GGUF files (llama.cpp), rebuilt as SentencePiece models.

A GGUF file stores a tokenizer as plain arrays: ``tokenizer.ggml.tokens`` (the pieces),
``scores``, ``token_type`` and, for BPE vocabularies, ``merges``; ``tokenizer.ggml.model`` says
which algorithm reads them. Two kinds become a SentencePiece ``ModelProto`` here:

    "llama"  SentencePiece BPE with byte fallback (LLaMA-1/2, Mistral): scores are merge
             priorities, 256 <0xNN> byte pieces catch every character outside the vocabulary.
    "t5"     SentencePiece Unigram (T5, XLM-R): scores are log-probabilities; the normaliser is
             the model's own ``precompiled_charsmap`` (NFKC-like), so text is rewritten first.

    vocab = read_gguf_vocab(path)            # GGUFVocab: the arrays and flags, typed
    proto = sentencepiece_proto(vocab)       # bytes of a serialized ModelProto
    sentencepiece.SentencePieceProcessor(model_proto=proto)

Test vectors shipped beside llama.cpp's vocab files (``.gguf.inp`` / ``.gguf.out``) are read by
``read_test_vectors``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InvalidInput

# token_type values in GGUF; SentencePiece's ModelProto.SentencePiece.Type uses the same numbers
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

# tokenizer.ggml.model -> SentencePiece TrainerSpec.ModelType (UNIGRAM = 1, BPE = 2)
SPM_MODELS = {"llama": 2, "t5": 1}


@dataclass(frozen=True)
class GGUFVocab:
    """The tokenizer part of a GGUF file. V = len(tokens)."""

    model: str  # tokenizer.ggml.model: "llama" (SPM BPE), "t5" (unigram), "gpt2", "bert", ...
    tokens: tuple[str, ...]  # (V,) pieces, "▁" for a space, "<0xNN>" for byte pieces
    scores: np.ndarray  # (V,) float32: merge priority (BPE) or log-probability (unigram)
    token_types: np.ndarray  # (V,) int32: NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE
    merges: tuple[str, ...] = ()  # "a b" pairs, BPE-type vocabularies only
    bos_id: int = -1
    eos_id: int = -1
    unk_id: int = -1
    pad_id: int = -1
    add_bos: bool = False
    add_eos: bool = False
    add_space_prefix: bool = True  # SentencePiece's dummy prefix: "hello" is read as " hello"
    remove_extra_whitespaces: bool = False  # collapse runs of spaces, strip the ends
    precompiled_charsmap: bytes = b""  # the normaliser of unigram models (empty: identity)


def _field(reader, key: str, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


@lru_cache(maxsize=4)
def read_gguf_vocab(path: str | Path) -> GGUFVocab:
    """Read the tokenizer arrays and flags of a GGUF file with ``gguf.GGUFReader`` (cached per path)."""
    from gguf import GGUFReader

    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no GGUF file at {path}")
    reader = GGUFReader(str(path))
    model = _field(reader, "tokenizer.ggml.model")
    tokens = _field(reader, "tokenizer.ggml.tokens")
    if model is None or tokens is None:
        raise InvalidInput(f"{path.name} has no tokenizer (tokenizer.ggml.model / tokenizer.ggml.tokens missing)")
    n = len(tokens)
    scores = np.asarray(_field(reader, "tokenizer.ggml.scores", [0.0] * n), dtype=np.float32)  # (V,)
    types = np.asarray(_field(reader, "tokenizer.ggml.token_type", [NORMAL] * n), dtype=np.int32)  # (V,)
    charsmap = reader.fields.get("tokenizer.ggml.precompiled_charsmap")
    cm = b""
    if charsmap is not None:
        cm = np.concatenate([np.asarray(charsmap.parts[i]).ravel() for i in charsmap.data]).astype(np.uint8).tobytes()

    def ident(key: str) -> int:
        v = _field(reader, f"tokenizer.ggml.{key}")
        return -1 if v is None else int(v)

    return GGUFVocab(
        model=str(model), tokens=tuple(tokens), scores=scores, token_types=types,
        merges=tuple(_field(reader, "tokenizer.ggml.merges", ()) or ()),
        bos_id=ident("bos_token_id"), eos_id=ident("eos_token_id"),
        unk_id=ident("unknown_token_id"), pad_id=ident("padding_token_id"),
        add_bos=bool(_field(reader, "tokenizer.ggml.add_bos_token", False)),
        add_eos=bool(_field(reader, "tokenizer.ggml.add_eos_token", False)),
        add_space_prefix=bool(_field(reader, "tokenizer.ggml.add_space_prefix", True)),
        remove_extra_whitespaces=bool(_field(reader, "tokenizer.ggml.remove_extra_whitespaces", False)),
        precompiled_charsmap=cm,
    )


def sentencepiece_proto(vocab: GGUFVocab) -> bytes:
    """A serialized SentencePiece ModelProto that tokenizes exactly as llama.cpp does.

    "llama" -> BPE with byte fallback, identity normaliser, whitespace-only pieces allowed
    (so "   " can be one piece, as in LLaMA's own tokenizer.model); "t5" -> Unigram with the
    file's precompiled charsmap as normaliser.
    """
    from sentencepiece import sentencepiece_model_pb2 as pb

    if vocab.model not in SPM_MODELS:
        raise InvalidInput(
            f"GGUF tokenizer model {vocab.model!r} is not a SentencePiece vocabulary; "
            f"this builder reads {', '.join(repr(m) for m in SPM_MODELS)}"
        )
    m = pb.ModelProto()
    for piece, score, token_type in zip(vocab.tokens, vocab.scores.tolist(), vocab.token_types.tolist()):
        p = m.pieces.add()
        p.piece, p.score = piece, score
        p.type = token_type if token_type in (NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE) else NORMAL
    ts = m.trainer_spec
    ts.model_type = SPM_MODELS[vocab.model]
    ts.vocab_size = len(vocab.tokens)
    ts.byte_fallback = bool((vocab.token_types == BYTE).any())
    ts.unk_id, ts.bos_id, ts.eos_id, ts.pad_id = vocab.unk_id, vocab.bos_id, vocab.eos_id, vocab.pad_id
    for key, i in (("unk_piece", vocab.unk_id), ("bos_piece", vocab.bos_id),
                   ("eos_piece", vocab.eos_id), ("pad_piece", vocab.pad_id)):
        if i >= 0:
            setattr(ts, key, vocab.tokens[i])
    ts.allow_whitespace_only_pieces = vocab.model == "llama"
    ts.split_digits = vocab.model == "llama"
    ns = m.normalizer_spec
    ns.name = "nmt_nfkc" if vocab.precompiled_charsmap else "identity"
    ns.precompiled_charsmap = vocab.precompiled_charsmap
    ns.add_dummy_prefix = vocab.add_space_prefix
    ns.remove_extra_whitespaces = vocab.remove_extra_whitespaces
    ns.escape_whitespaces = True
    return m.SerializeToString()


@lru_cache(maxsize=8)
def gguf_sentencepiece_proto(path: str) -> bytes:
    """``sentencepiece_proto(read_gguf_vocab(path))``, cached per file (reading a 250k vocab takes seconds)."""
    return sentencepiece_proto(read_gguf_vocab(path))


TEST_SEPARATOR = "\n__ggml_vocab_test__\n"


def read_test_vectors(inp: str | Path, out: str | Path | None = None) -> list[tuple[str, list[int]]]:
    """llama.cpp's tokenizer test vectors: ``(text, ids)`` pairs, ids without BOS/EOS.

    ``.inp`` holds the texts separated by ``__ggml_vocab_test__`` lines; ``.out`` one line of
    space-separated ids per text.
    """
    inp = Path(inp)
    out = Path(out) if out is not None else inp.with_suffix(".out")
    raw = inp.read_text(encoding="utf-8")
    if raw.endswith(TEST_SEPARATOR):  # every text is followed by the separator line
        raw = raw[: -len(TEST_SEPARATOR)]
    texts = raw.split(TEST_SEPARATOR)
    ids = [[int(t) for t in line.split()] for line in out.read_text(encoding="utf-8").split("\n")]
    while len(ids) > len(texts) and not ids[-1]:
        ids.pop()
    if len(ids) != len(texts):
        raise InvalidInput(f"{inp.name} has {len(texts)} texts but {out.name} has {len(ids)} id lines")
    return list(zip(texts, ids))
