"""The tournament's contestants: lossless byte-level tokenizers trained on a train split, saved as runs.

    from tokenworks.lm.tiny.data import load_text
    from tokenworks.lm.tiny.tokenizers import train_contestant_tokenizer, load_contestant

    train = load_text("english", "train", limit_bytes=2_000_000)
    c = train_contestant_tokenizer("unigram", 4096, train, "runs/tiny/english-unigram-4096")
    c.vocab_size, c.seconds, c.ref        # 4096, 3.1, "run:tiny/english-unigram-4096"
    tok = load_contestant(c.ref)          # the same tokenizer, read back from the checkpoint

The kinds (``KINDS``), all byte-level and lossless on any text, so bits per byte is defined:

    bytes     text/bytes, 256 ids; nothing is trained (vocab_size must be 256)
    bpe       byte-level BPE with GPT-4's pretokenization regex (HF tokenizers, ``hf_train``)
    superbpe  SuperBPE (``tokenworks.text.superbpe``): BPE whose last 20% of merges may cross spaces
    unigram   a byte-level Unigram LM (Kudo 2018) through HF tokenizers: pieces are byte strings in
              GPT-2's alphabet after the same regex split as bpe, all 256 bytes are pieces, and there
              is no unknown token. (``hf_train``'s "unigram" is SentencePiece-style, with ``▁`` and
              ``<unk>``: lossy, so it cannot enter.)

``vocab_size`` counts every id the tokenizer has; the tournament's model adds one more, the
document separator (``tokenworks.lm.tiny.data.encode_split``). When the training text holds too
few distinct pieces for it, the result is smaller and says so (``stopped_early``, ``reason``).

``ref`` is "run:<folder under a checkpoint root>" (what ``tokenworks.registry.load_ref`` reads)
when ``out`` lies in one (the runs folder, ``TOKENWORKS_RUNS``); otherwise the absolute folder,
which ``load_contestant`` (or ``load_checkpoint_tokenizer(path, allow_outside=True)``) reads. The
bytes kind's ref is "text/bytes".
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InvalidInput
from .data import TextSplit, check_lossless

KINDS = ("bytes", "bpe", "superbpe", "unigram")
MAX_VOCAB = 1_000_000
SUPERBPE_TRANSITION = 0.8  # superbpe: stage 2 (superwords) starts at this share of vocab_size


@dataclass
class ContestantTokenizer:
    kind: str  # one of KINDS
    requested_vocab_size: int
    vocab_size: int  # reached (every id of the tokenizer; the model adds a separator)
    folder: Path  # the checkpoint folder
    ref: str  # "run:<name>" (load_ref), an absolute folder path, or "text/bytes"; load_contestant reads all three
    tokenizer: Any  # the tokenizer, as loaded back from the checkpoint
    seconds: float  # training time (0 for bytes)
    train_bytes: int  # UTF-8 bytes it was trained on
    data_hash: str  # TextSplit.data_hash of the training text (also in the checkpoint)
    stopped_early: bool = False  # the text held too few distinct pieces for requested_vocab_size
    reason: str = ""


def _check_request(kind: str, vocab_size: int, split: TextSplit) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"unknown contestant kind {kind!r}; choose one of {', '.join(KINDS)}")
    if not isinstance(split, TextSplit):
        raise InvalidInput(f"train on a TextSplit from tokenworks.lm.tiny.data.load_text, got {type(split).__name__}")
    if split.split != "train":
        raise InvalidInput(f"contestants are trained on the train split only; got the {split.split!r} split of "
                           f"{split.corpus!r} (load_text({split.corpus!r}, 'train'))")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
        raise InvalidInput(f"vocab_size must be an integer, got {vocab_size!r}")
    if kind == "bytes" and vocab_size != 256:
        raise InvalidInput(f"kind 'bytes' has exactly 256 tokens (one per byte value); pass vocab_size=256, "
                           f"got {vocab_size}")
    if kind != "bytes" and not 257 <= vocab_size <= MAX_VOCAB:
        raise InvalidInput(f"vocab_size for {kind} must be between 257 (the 256 bytes plus one learned token) and "
                           f"{MAX_VOCAB:,}, got {vocab_size}")


def _train_bpe(docs: list[str], vocab_size: int, name: str):
    from ...text.hf_train import HFTrainConfig, train_hf

    tok = train_hf(docs, HFTrainConfig(algo="bpe", vocab_size=vocab_size, name=name))
    r = tok.report  # type: ignore[attr-defined]
    return tok, r.stopped_early, r.reason


def _train_superbpe(docs: list[str], vocab_size: int, name: str):
    from ...text.superbpe import SuperBPE

    t = max(256, min(vocab_size - 1, int(SUPERBPE_TRANSITION * vocab_size)))
    tok = SuperBPE.train(docs, vocab_size, transition_vocab_size=t, name=name)
    r = tok.training
    return tok, r.stopped_early, r.reason


def _train_unigram(docs: list[str], vocab_size: int, name: str):
    """Byte-level Unigram: GPT-4 regex split, then GPT-2's byte alphabet; every byte a piece, no <unk>."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    from ...text.bpe import GPT4_PATTERN
    from ...text.hf import HFTokenizer

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(GPT4_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, initial_alphabet=alphabet, max_piece_length=16,
                                      show_progress=False)  # no special tokens, no unk_token
    tok.train_from_iterator(docs, trainer, length=len(docs))
    pieces = tok.get_vocab()
    lost = [c for c in alphabet if c not in pieces]
    if lost or json.loads(tok.to_str())["model"].get("unk_id") is not None:  # never expected: say so loudly
        raise InvalidInput(f"the byte-level unigram lost {len(lost)} byte pieces or gained an unknown token; "
                           "it would not be lossless")
    reached = tok.get_vocab_size(with_added_tokens=True)
    if reached > vocab_size:
        raise InvalidInput(f"the byte-level unigram reached {reached} pieces for vocab_size {vocab_size}; "
                           "raise vocab_size")
    total = sum(len(d.encode("utf-8")) for d in docs)
    stopped = reached < vocab_size
    reason = (f"the corpus ({total:,} bytes) holds too few distinct pieces for {vocab_size:,} tokens; the "
              f"vocabulary has {reached:,}") if stopped else ""
    info = {"algo": "bytelevel-unigram",
            "config": {"vocab_size": vocab_size, "pattern": GPT4_PATTERN, "max_piece_length": 16},
            "metrics": {"algo": "bytelevel-unigram", "requested_vocab_size": vocab_size, "vocab_size": reached,
                        "stopped_early": stopped, "reason": reason, "corpus_bytes": total, "documents": len(docs)}}
    return HFTokenizer(label=name, spec=tok.to_str(), info=info), stopped, reason


_TRAINERS = {"bpe": _train_bpe, "superbpe": _train_superbpe, "unigram": _train_unigram}


def _ref_of(folder: Path) -> str:
    """"run:<name>" when load_ref finds ``folder`` by that name, else the absolute path."""
    from ...checkpoint import resolve_checkpoint
    from ...errors import TokenworksError
    from ...paths import checkpoint_roots
    from ...registry import RUN_PREFIX

    for root in checkpoint_roots():
        try:
            rel = folder.relative_to(root)
        except ValueError:
            continue
        try:
            found = resolve_checkpoint(rel.as_posix())
        except TokenworksError:
            continue
        if found == folder:  # not shadowed by a folder of the same name in an earlier root
            return RUN_PREFIX + rel.as_posix()
    return str(folder)


def load_contestant(ref: str) -> Any:
    """The tokenizer behind a ContestantTokenizer.ref: a registered name, "run:<name>" or a folder path."""
    from ...registry import RUN_PREFIX, available, load_checkpoint_tokenizer, load_ref

    if ref.startswith(RUN_PREFIX) or ref in available():
        return load_ref(ref)
    return load_checkpoint_tokenizer(ref, allow_outside=True)


def train_contestant_tokenizer(kind: str, vocab_size: int, split: TextSplit, out: str | Path) -> ContestantTokenizer:
    """Train a ``kind`` tokenizer of ``vocab_size`` ids on ``split`` (a train split), save it at ``out``
    (replacing what is there), read it back and check it is lossless on a sample of the documents."""
    _check_request(kind, vocab_size, split)
    folder = Path(out).expanduser().resolve()
    name = f"text/tiny-{split.corpus}-{kind}-{vocab_size}"
    t0 = time.perf_counter()
    if kind == "bytes":
        import tokenworks as tw

        tok, stopped, reason = tw.load("text/bytes"), False, ""
    else:
        tok, stopped, reason = _TRAINERS[kind](list(split.documents), vocab_size, name)
    seconds = time.perf_counter() - t0 if kind != "bytes" else 0.0
    if kind == "bytes":
        tok.save(folder)
        ref = "text/bytes"
    else:
        tok.save(folder, data_hash=split.data_hash,
                 metrics={"tournament_kind": kind, "corpus": split.corpus, "train_bytes": split.nbytes,
                          "seconds": round(seconds, 3)})
        ref = _ref_of(Path(folder))
    loaded = load_contestant(ref)
    check_lossless(loaded, split.documents[:: max(1, len(split.documents) // 32)])  # a spread of ~32 documents
    return ContestantTokenizer(kind=kind, requested_vocab_size=vocab_size, vocab_size=int(loaded.vocab_size),
                               folder=folder, ref=ref, tokenizer=loaded, seconds=seconds, train_bytes=split.nbytes,
                               data_hash=split.data_hash, stopped_early=stopped, reason=reason)
