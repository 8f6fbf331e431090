"""Fast training through HF tokenizers: byte-level BPE, WordPiece and Unigram.

HF tokenizers trains in Rust and cannot be watched merge by merge; what can be watched is how
much of the corpus it has read and how long the training itself has run (it releases the GIL,
so a heartbeat thread reports while it works). The result is an ``HFTokenizer`` that saves as
a checkpoint (kind ``text/hf``: the tokenizer.json itself) and loads through the registry.

Vocabulary sizes are exact: the requested size counts the special tokens and the alphabet,
and when the corpus cannot fill it (too few distinct pairs or pieces) the report says so
(``stopped_early`` and why) instead of passing a smaller vocabulary off as the one asked for.

The three algorithms, as their papers and libraries define them:
- ``bpe``: GPT-2-style byte-level BPE (Sennrich et al. 2016; Radford et al. 2019): the regex
  pretokenizer, all 256 bytes in the alphabet, so every input encodes losslessly.
- ``charbpe``: BPE over Unicode characters rather than bytes, as in the original subword
  paper and SentencePiece's BPE: ``▁`` marks spaces, the alphabet is the corpus's characters,
  characters never seen in training become <unk>. Small vocabularies (4k) show BPE's
  granularity at its finest.
- ``wordpiece``: BERT's WordPiece (Schuster & Nakajima 2012; Devlin et al. 2019): splits on
  whitespace and punctuation, continuation pieces start with ``##``, unknown words are [UNK];
  lossy by design (whitespace is not kept), and optionally lower-cased.
- ``unigram``: the SentencePiece unigram language model (Kudo 2018): ``▁`` marks spaces,
  characters never seen in training become <unk>.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from ..errors import InvalidInput
from .bpe import GPT4_PATTERN, _named_pattern
from .hf import HFTokenizer

ALGORITHMS = ("bpe", "charbpe", "wordpiece", "unigram")


@dataclass
class HFTrainConfig:
    algo: str = "bpe"  # "bpe" (byte-level), "charbpe" (character-level), "wordpiece" (BERT-style) or "unigram" (SentencePiece-style)
    vocab_size: int = 8000  # the exact size of the result, special tokens and alphabet included
    name: str = ""  # what the tokenizer calls itself; "" -> "text/hf-<algo>-<vocab_size>"
    pattern: str | None = GPT4_PATTERN  # bpe: pretokenization regex, or a vocabulary name ("cl100k_base") for its regex; None: no split
    min_frequency: int = 0  # bpe/wordpiece: merge only pairs seen at least this often (0: any)
    lowercase: bool = False  # wordpiece: lower-case and strip accents (BERT uncased)
    special_tokens: tuple[str, ...] = ()  # extra special tokens, e.g. ("<|endoftext|>",)
    max_piece_length: int = 16  # unigram: longest piece in characters
    limit_alphabet: int | None = None  # charbpe/wordpiece: keep the most frequent characters only (the rest
    #                                    become unknown); None: a quarter of vocab_size (wordpiece), half (charbpe)
    heartbeat_s: float = 0.5  # seconds between progress events while the Rust trainer runs


@dataclass(frozen=True)
class HFTrainEvent:
    """A progress event: ``reading`` the corpus, ``training`` (heartbeats), then ``done``."""

    stage: str  # "reading" | "training" | "done"
    fraction: float | None  # share of the corpus read (reading), None while training, 1.0 when done
    bytes_read: int  # corpus bytes handed to the trainer so far
    elapsed_s: float  # seconds since training started
    message: str


@dataclass
class HFTrainReport:
    algo: str
    requested_vocab_size: int
    vocab_size: int  # what was reached
    stopped_early: bool = False
    reason: str = ""
    corpus_bytes: int = 0
    documents: int = 0
    seconds: float = 0.0
    events: list[HFTrainEvent] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "events"}


def _min_vocab(config: HFTrainConfig) -> int:
    specials = len(_specials(config))
    return 256 + specials if config.algo == "bpe" else 1 + specials


def _specials(config: HFTrainConfig) -> list[str]:
    own = {"bpe": [], "charbpe": ["<unk>"], "wordpiece": ["[UNK]"], "unigram": ["<unk>"]}[config.algo]
    return own + [s for s in config.special_tokens if s not in own]


def check_config(config: HFTrainConfig) -> None:
    if config.algo not in ALGORITHMS:
        raise InvalidInput(f"unknown training algorithm {config.algo!r}; choose one of {', '.join(ALGORITHMS)}")
    v = config.vocab_size
    lo = _min_vocab(config)
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        what = "256 byte tokens" if config.algo == "bpe" else "one token"
        raise InvalidInput(f"vocab_size for {config.algo} must be an integer of at least {lo} ({what} plus "
                           f"{len(_specials(config))} special token(s)), got {v!r}")
    if v > 1_000_000:
        raise InvalidInput(f"vocab_size {v} is larger than tokenworks trains (at most 1,000,000)")
    if any(not isinstance(s, str) or not s for s in config.special_tokens):
        raise InvalidInput(f"special tokens must be non-empty strings, got {list(config.special_tokens)}")


def _build(config: HFTrainConfig):
    """An untrained HF Tokenizer and its trainer, for ``config``."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    specials = _specials(config)
    if config.algo == "bpe":
        tok = Tokenizer(models.BPE())
        byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        pattern = _named_pattern(config.pattern)
        tok.pre_tokenizer = (pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pattern), behavior="isolated"), byte_level])
                             if pattern else byte_level)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=config.vocab_size, min_frequency=config.min_frequency,
                                      special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      show_progress=False)
    elif config.algo == "charbpe":
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(vocab_size=config.vocab_size, min_frequency=config.min_frequency,
                                      special_tokens=specials, show_progress=False,
                                      limit_alphabet=config.limit_alphabet or max(config.vocab_size // 2, 1))
    elif config.algo == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        if config.lowercase:
            tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=config.vocab_size, min_frequency=config.min_frequency,
                                            special_tokens=specials, show_progress=False,
                                            limit_alphabet=config.limit_alphabet or max(config.vocab_size // 4, 1))
    else:
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=config.vocab_size, special_tokens=specials, unk_token="<unk>",
                                          max_piece_length=config.max_piece_length, show_progress=False)
    return tok, trainer


def _documents(corpus: str | Iterable[str]) -> list[str]:
    if isinstance(corpus, str):
        return [corpus]
    if isinstance(corpus, (bytes, bytearray)):
        raise InvalidInput("HF tokenizers trains on text: give a str or a list of str (for raw bytes such as "
                           "executables use ByteBPE.train, which reads bytes)")
    docs = list(corpus)
    for d in docs:
        if not isinstance(d, str):
            raise InvalidInput(f"training documents must be str, got {type(d).__name__}")
    return docs


def train_hf(corpus: str | Iterable[str], config: HFTrainConfig | None = None,
             progress: Callable[[HFTrainEvent], None] | None = None) -> HFTokenizer:
    """Train a tokenizer with HF tokenizers; its ``info["report"]`` is the HFTrainReport."""
    config = config or HFTrainConfig()
    check_config(config)
    docs = _documents(corpus)
    sizes = [len(d.encode("utf-8", "surrogatepass")) for d in docs]
    total = sum(sizes)
    if total == 0:
        raise InvalidInput("the training corpus is empty: give some text to learn a vocabulary from")
    tok, trainer = _build(config)
    report = HFTrainReport(algo=config.algo, requested_vocab_size=config.vocab_size, vocab_size=0,
                           corpus_bytes=total, documents=len(docs))
    t0 = time.perf_counter()
    read = [0]
    lock = threading.Lock()

    def emit(stage: str, fraction: float | None, message: str) -> None:
        ev = HFTrainEvent(stage, fraction, read[0], time.perf_counter() - t0, message)
        with lock:
            report.events.append(ev)
            if progress is not None:
                progress(ev)

    def feed() -> Iterator[str]:
        step = max(total // 20, 1)
        mark = step
        for d, n in zip(docs, sizes):
            yield d
            read[0] += n
            if read[0] >= mark or read[0] == total:
                mark = read[0] + step
                emit("reading", read[0] / total, f"read {read[0]:,} of {total:,} bytes")

    done = threading.Event()

    def beat() -> None:
        while not done.wait(config.heartbeat_s):
            if read[0] >= total:
                emit("training", None, f"learning a {config.algo} vocabulary of {config.vocab_size:,}")

    hb = threading.Thread(target=beat, name="hf-train-heartbeat", daemon=True)
    hb.start()
    try:
        tok.train_from_iterator(_safe(feed()), trainer, length=len(docs))
    finally:
        done.set()
        hb.join()
    report.vocab_size = tok.get_vocab_size(with_added_tokens=True)
    report.seconds = time.perf_counter() - t0
    if report.vocab_size < config.vocab_size:
        report.stopped_early = True
        report.reason = (f"the corpus ({total:,} bytes) holds too few distinct pieces for {config.vocab_size:,} "
                         f"tokens; the vocabulary has {report.vocab_size:,}")
    elif report.vocab_size > config.vocab_size:  # WordPiece keeps the whole alphabet
        report.reason = (f"the corpus has more distinct characters than vocab_size {config.vocab_size:,} allows; "
                         f"the vocabulary has {report.vocab_size:,} (raise vocab_size)")
        raise InvalidInput(report.reason)
    emit("done", 1.0, f"{config.algo} vocabulary of {report.vocab_size:,} in {report.seconds:.2f} s"
         + (f" ({report.reason})" if report.stopped_early else ""))
    name = config.name or f"text/hf-{config.algo}-{config.vocab_size}"
    info = {"algo": config.algo, "config": {k: v for k, v in config.__dict__.items()},
            "metrics": report.summary()}
    out = HFTokenizer(label=name, spec=tok.to_str(), info=info)
    out.report = report  # type: ignore[attr-defined]
    return out


def _safe(docs: Iterator[str]) -> Iterator[str]:
    """Lone surrogates cannot cross into Rust: replace them (as encoding later does)."""
    for d in docs:
        try:
            d.encode("utf-8")
            yield d
        except UnicodeEncodeError:
            yield d.encode("utf-8", "replace").decode("utf-8")
