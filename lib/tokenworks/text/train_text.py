"""Train a text tokenizer on an offline corpus, save it as a run, measure it on held-out text.

One entry point for every algorithm, so the CLI (``tokenworks train text``), the app and the
notebooks share it::

    result = train_text(TextTrainRequest(algo="bpe", vocab_size=8000, corpus="shakespeare"))
    result.folder           # runs/text/shakespeare-bpe-8000 (loadable with tw.load_checkpoint)
    result.heldout          # bytes per token etc. on the corpus's held-out split

Presets name the domain and granularity recipes (``PRESETS``): code, executables shown as hex,
English prose, and a small character-level BPE.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import InvalidInput
from .corpora import CORPORA, Corpus, load_corpus
from .hf_train import ALGORITHMS as HF_ALGORITHMS

ALGOS = ("bpe", "bytebpe", "superbpe", "charbpe", "wordpiece", "unigram")
ENGINES = ("hf", "tokenworks")
# executables: runs of zero bytes are chunks of their own; other bytes in chunks of at most 16
BINARY_PATTERN = r"(?s)\x00+|[^\x00]{1,16}"


@dataclass(frozen=True)
class TextPreset:
    name: str
    corpus: str  # one of corpora.CORPORA
    algo: str  # one of ALGOS
    vocab_size: int
    limit_mb: float  # training bytes taken from the corpus (whole documents, in a fixed order)
    description: str


PRESETS: dict[str, TextPreset] = {p.name: p for p in [
    TextPreset("shakespeare", "shakespeare", "bpe", 8000, 8.0, "byte-level BPE on Shakespeare's works"),
    TextPreset("austen", "austen", "bpe", 8000, 8.0, "byte-level BPE on Jane Austen's novels"),
    TextPreset("code", "stdlib", "bpe", 8000, 4.0, "byte-level BPE on the Python standard library"),
    TextPreset("binary", "elf", "bytebpe", 4096, 2.0, "byte-level BPE on ELF executables, tokens shown as hex"),
    TextPreset("char4k", "shakespeare", "charbpe", 4000, 8.0, "character-level BPE with a 4k vocabulary"),
]}


@dataclass
class TextTrainRequest:
    algo: str = "bpe"  # see ALGOS; "bpe" is byte-level BPE
    vocab_size: int = 8000  # exact vocabulary size of the result
    corpus: str = "shakespeare"  # see corpora.CORPORA
    engine: str = "hf"  # bpe only: "hf" (HF tokenizers, fast) or "tokenworks" (ByteBPE.train, every merge traced)
    limit_mb: float = 8.0  # at most this many MB of the training split
    transition_vocab_size: int | None = None  # superbpe: where stage 2 starts (default: 80% of vocab_size)
    name: str = ""  # tokenizer name; "" -> "text/<corpus>-<algo>-<vocab_size>"
    out: str | None = None  # checkpoint folder; None -> <runs>/text/<corpus>-<algo>-<vocab_size>


@dataclass(frozen=True)
class HeldOut:
    documents: int
    bytes: int
    tokens: int
    bytes_per_token: float
    lossless_docs: float  # share of held-out documents that decode back exactly


@dataclass
class TextTrainResult:
    tokenizer: Any
    folder: Path
    request: TextTrainRequest
    train_bytes: int
    seconds: float
    heldout: HeldOut
    report: dict[str, Any] = field(default_factory=dict)


def check_request(req: TextTrainRequest) -> None:
    if req.algo not in ALGOS:
        raise InvalidInput(f"unknown algorithm {req.algo!r}; choose one of {', '.join(ALGOS)}")
    if req.corpus not in CORPORA:
        raise InvalidInput(f"unknown corpus {req.corpus!r}; choose one of {', '.join(CORPORA)}")
    if req.engine not in ENGINES:
        raise InvalidInput(f"unknown engine {req.engine!r}; choose one of {', '.join(ENGINES)}")
    if req.engine == "tokenworks" and req.algo not in ("bpe", "bytebpe", "superbpe"):
        raise InvalidInput(f"the tokenworks engine trains byte-level BPE (bpe, bytebpe, superbpe); "
                           f"{req.algo} trains with engine 'hf'")
    if not (0 < req.limit_mb <= 1024):
        raise InvalidInput(f"limit_mb must be between 0 and 1024, got {req.limit_mb}")
    if req.corpus == "elf" and req.algo not in ("bpe", "bytebpe", "superbpe"):
        raise InvalidInput(f"the elf corpus is raw bytes: train byte-level BPE (bpe or bytebpe), not {req.algo}")


def heldout_stats(tok: Any, docs: list) -> HeldOut:
    nbytes = tokens = exact = 0
    for d in docs:
        seq = tok.encode(d)
        tokens += len(seq)
        nbytes += len(d) if isinstance(d, bytes) else len(d.encode("utf-8", "surrogatepass"))
        exact += int(seq.lossless and tok.decode(seq) == d)
    return HeldOut(documents=len(docs), bytes=nbytes, tokens=tokens,
                   bytes_per_token=nbytes / max(tokens, 1), lossless_docs=exact / max(len(docs), 1))


def _train(req: TextTrainRequest, corpus: Corpus, name: str, progress: Callable[[str], None]) -> tuple[Any, dict]:
    docs = corpus.documents
    byte_level_own = req.algo == "bytebpe" or (req.algo == "bpe" and (req.engine == "tokenworks" or corpus.binary))
    if byte_level_own:
        from .bpe import GPT4_PATTERN, ByteBPE

        step = max((req.vocab_size - 256) // 10, 1)

        def on_merge(m: Any) -> None:
            if (m.index + 1) % step == 0 or m.index + 1 == m.total:
                progress(f"merge {m.index + 1:,}/{m.total:,}: {m.pair} -> {m.new_id} (count {m.count:,})")

        tok = ByteBPE.train(docs, req.vocab_size, pattern=BINARY_PATTERN if corpus.binary else GPT4_PATTERN,
                            progress=on_merge, name=name)
        if corpus.binary:
            tok.config.display = "hex"
        return tok, tok.training.summary()
    if req.algo == "superbpe":
        from .superbpe import SuperBPE

        step = max((req.vocab_size - 256) // 10, 1)

        def on_staged(m: Any) -> None:
            if (m.index + 1) % step == 0 or m.index + 1 == m.total:
                progress(f"stage {m.stage} merge {m.index + 1:,}/{m.total:,}: {m.pair} -> {m.new_id} (count {m.count:,})")

        tok = SuperBPE.train(docs, req.vocab_size, transition_vocab_size=req.transition_vocab_size,
                             progress=on_staged, name=name)
        return tok, tok.training.summary()
    if req.algo in HF_ALGORITHMS:
        from .hf_train import HFTrainConfig, train_hf

        tok = train_hf(docs, HFTrainConfig(algo=req.algo, vocab_size=req.vocab_size, name=name),
                       progress=lambda ev: progress(ev.message))
        return tok, tok.report.summary()
    raise InvalidInput(f"unknown algorithm {req.algo!r}; choose one of {', '.join(ALGOS)}")


def train_text(req: TextTrainRequest, progress: Callable[[str], None] | None = None) -> TextTrainResult:
    """Train, save atomically as a run, and measure on the held-out split."""
    from ..paths import runs_dir

    check_request(req)
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    limit = int(req.limit_mb * (1 << 20))
    train = load_corpus(req.corpus, "train", limit_bytes=limit)
    test = load_corpus(req.corpus, "test", limit_bytes=max(limit // 8, 1 << 18))
    say(f"corpus {req.corpus}: {len(train.documents)} training documents, {train.nbytes:,} bytes; "
        f"{len(test.documents)} held out")
    slug = f"{req.corpus}-{req.algo}-{req.vocab_size}"
    name = req.name or f"text/{slug}"
    tok, report = _train(req, train, name, say)
    seconds = time.perf_counter() - t0
    held = heldout_stats(tok, test.documents)
    folder = Path(req.out) if req.out else runs_dir() / "text" / slug
    report = {**report, "heldout": held.__dict__, "corpus": req.corpus, "train_bytes": train.nbytes,
              "train_documents": len(train.documents)}
    saved = tok.save(folder, data_hash=train.data_hash, metrics=report)
    say(f"saved {saved}; held-out: {held.bytes_per_token:.2f} bytes/token over {held.documents} documents")
    return TextTrainResult(tokenizer=tok, folder=saved, request=req, train_bytes=train.nbytes,
                           seconds=seconds, heldout=held, report=report)
