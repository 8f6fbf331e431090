"""Train a text tokenizer on an offline corpus, save it as a run, measure it on held-out text.

One entry point for every algorithm, so the CLI (``tokenworks train text``), the app and the
notebooks share it::

    result = train_text(TextTrainRequest(algo="bpe", vocab_size=8000, corpus="shakespeare"))
    result.folder           # runs/text/shakespeare-bpe-8000 (loadable with tw.load_checkpoint)
    result.heldout          # bytes per token etc. on the corpus's held-out split

    for ev in iter_train_text(req, stop=flag):   # the same run as tokenworks.train.loop events
        ...                 # TextStepEvent (train_events) | CheckpointEvent | DoneEvent

As a job whose stdout is a run log (one JSON line per event, like the image trainer)::

    PYTHONPATH=lib python -m tokenworks.text.train --algo bytebpe --vocab 4000 --corpus stdlib \
        --limit-mb 1 --out runs/text/stdlib-bytebpe-4000

Presets name the domain and granularity recipes (``PRESETS``): code, executables shown as hex,
English prose, and a small character-level BPE.
"""
from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator

from ..errors import InvalidInput, TokenworksError
from ..train.common import log_event
from ..train.loop import CheckpointEvent, DoneEvent, Event, StopFlag
from ..train.common import drain
from .corpora import CORPORA, Corpus, load_corpus
from .train_counts import TrainTokenCount
from .train_events import MergeEvents, hf_step_event, text_step_record

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
    history: list[dict[str, Any]] = field(default_factory=list)  # the step records (train_events.text_step_record)
    reason: str = "steps"  # why training ended: steps (ran to the end) | stopped


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
    lo = 257 if req.algo == "superbpe" else 256 if req.algo in ("bpe", "bytebpe") else 2
    if isinstance(req.vocab_size, bool) or not isinstance(req.vocab_size, int) or req.vocab_size < lo:
        raise InvalidInput(f"vocab_size for {req.algo} must be an integer of at least {lo}"
                           f"{' (256 byte tokens)' if lo >= 256 else ''}, got {req.vocab_size!r}")
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


@dataclass
class _Trained:
    tokenizer: Any
    report: dict[str, Any]  # the trainer's summary, saved in the checkpoint's metrics
    reason: str  # steps (ran to the end) | stopped
    step: int  # the last step reported (merges, or the vocabulary size for HF)


@dataclass(frozen=True)
class _Say:
    """A prose progress line on its way from the training thread to the consumer."""

    text: str


class _Stopped(Exception):
    """Raised inside a merge callback to end own-engine training early."""


def _own_engine(req: TextTrainRequest, binary: bool) -> bool:
    """True when tokenworks' own trainer runs (byte-level BPE traced merge by merge), else HF tokenizers."""
    return req.algo in ("bytebpe", "superbpe") or (req.algo == "bpe" and (req.engine == "tokenworks" or binary))


def _train_own(req: TextTrainRequest, corpus: Corpus, name: str, put: Callable[[Any], None],
               halt: Callable[[], bool], t0: float) -> _Trained:
    """Byte-level BPE or SuperBPE with tokenworks' trainer, merge by merge (``MergeEvents``)."""
    from .bpe import GPT4_PATTERN, BPEConfig, ByteBPE
    from .bpe_train import TrainReport
    from .superbpe import SUPERWORD_PATTERN, SuperBPE, SuperBPEConfig

    docs = corpus.documents
    superbpe = req.algo == "superbpe"
    pattern = BINARY_PATTERN if corpus.binary else GPT4_PATTERN
    total = req.vocab_size - 256

    def counter(stage: int, merges: list[tuple[int, int]]) -> TrainTokenCount:
        return TrainTokenCount(docs, SUPERWORD_PATTERN if stage == 2 else pattern, merges)

    events = MergeEvents(total, counter, put, lambda text: put(_Say(text)), t0, staged=superbpe)

    def on_merge(m: Any) -> None:
        if halt():
            raise _Stopped
        events.add(m, getattr(m, "stage", 1))

    try:
        if superbpe:
            tok = SuperBPE.train(docs, req.vocab_size, transition_vocab_size=req.transition_vocab_size,
                                 progress=on_merge, name=name)
        else:
            tok = ByteBPE.train(docs, req.vocab_size, pattern=pattern, progress=on_merge, name=name)
        reason = "steps"
        report = tok.training.summary()
    except _Stopped:  # the merges learned so far make a smaller, complete tokenizer
        n = len(events.merges)
        why = f"stopped after {n:,} of {total:,} merges"
        reason = "stopped"
        pairs = [m.pair for m in events.merges]
        if superbpe:
            stage1 = sum(1 for m in events.merges if getattr(m, "stage", 1) == 1)
            tok = SuperBPE(pairs, SuperBPEConfig(name=name, vocab_size=256 + n, transition_vocab_size=256 + stage1))
            report = {"algorithm": "superbpe", "requested_vocab_size": req.vocab_size, "vocab_size": 256 + n,
                      "transition_vocab_size": 256 + stage1, "stopped_early": True, "reason": why}
        else:
            training = TrainReport(requested_vocab_size=req.vocab_size, vocab_size=256 + n, merges=list(events.merges),
                                   stopped_early=True, reason=why, corpus_bytes=events.count.nbytes if events.count else 0,
                                   seconds=time.perf_counter() - t0)
            tok = ByteBPE(pairs, BPEConfig(name=name, pattern=pattern), training=training)
            report = training.summary()
    if corpus.binary:
        tok.config.display = "hex"
    events.finish()
    return _Trained(tok, report, reason, events.step)


def _train_hf(req: TextTrainRequest, corpus: Corpus, name: str, put: Callable[[Any], None], t0: float) -> _Trained:
    """HF tokenizers: reading / heartbeat / done progress as TextStepEvents (``hf_step_event``).
    The Rust trainer cannot be interrupted: a stop flag set while it runs is not seen."""
    from .hf_train import HFTrainConfig, train_hf

    total = corpus.nbytes

    def on_progress(ev: Any) -> None:
        if ev.stage != "done":  # the done event is sent below, with the vocabulary size reached
            put(hf_step_event(ev, req.vocab_size, total, t0))
        put(_Say(ev.message))

    tok = train_hf(corpus.documents, HFTrainConfig(algo=req.algo, vocab_size=req.vocab_size, name=name),
                   progress=on_progress)
    put(hf_step_event(tok.report.events[-1], req.vocab_size, total, t0, reached=tok.vocab_size))
    return _Trained(tok, tok.report.summary(), "steps", tok.vocab_size)


def _in_thread(work: Callable[[Callable[[Any], None], Callable[[], bool]], _Trained],
               stop: StopFlag) -> Generator[Any, None, _Trained]:
    """Run ``work(put, halt)`` in a thread and yield what it puts (events, _Say lines) here, in the
    consumer's thread; return its result, or raise its exception. The trainers report through
    callbacks, so a thread turns them into a generator. ``halt()`` is true once ``stop`` is set or
    the consumer has closed this generator (the trainer then ends at its next merge)."""
    q: queue.SimpleQueue = queue.SimpleQueue()
    gone = threading.Event()

    def halt() -> bool:
        return gone.is_set() or _stopped(stop)

    def target() -> None:
        try:
            q.put(("result", work(lambda item: q.put(("item", item)), halt)))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            q.put(("error", e))

    threading.Thread(target=target, name="tokenworks-text-train", daemon=True).start()
    try:
        while True:
            tag, value = q.get()  # ("item" | "result" | "error", what the thread put)
            if tag == "item":
                yield value
            elif tag == "result":
                return value
            else:
                raise value
    finally:
        gone.set()


def _stopped(stop: StopFlag) -> bool:
    if stop is None:
        return False
    return stop.is_set() if isinstance(stop, threading.Event) else bool(stop())


def iter_train_text(req: TextTrainRequest, *, stop: StopFlag = None, say: Callable[[str], None] | None = None,
                    log: bool = False) -> Generator[Event, None, TextTrainResult]:
    """Train as a generator of ``tokenworks.train.loop`` events; return the TextTrainResult.

    Yields TextStepEvents while the vocabulary grows (``train_events`` says what a step is for
    each algorithm), a CheckpointEvent when the tokenizer is saved (``kind="last"``, ``metric``:
    held-out bytes per token) and a DoneEvent last. ``stop`` (a threading.Event or a callable)
    ends own-engine BPE / SuperBPE after the merge in progress: the merges learned so far are
    saved as a smaller tokenizer and the DoneEvent says ``reason="stopped"`` (HF trainers run
    to the end). ``say`` gets prose progress lines; ``log=True`` prints the JSON lines
    ("start", "step", "eval", "checkpoint", "saved", "done") with ``log_event``.
    """
    from ..paths import runs_dir

    check_request(req)
    say = say or (lambda msg: None)
    t0 = time.perf_counter()
    limit = int(req.limit_mb * (1 << 20))
    train = load_corpus(req.corpus, "train", limit_bytes=limit)
    test = load_corpus(req.corpus, "test", limit_bytes=max(limit // 8, 1 << 18))
    say(f"corpus {req.corpus}: {len(train.documents)} training documents, {train.nbytes:,} bytes; "
        f"{len(test.documents)} held out")
    slug = f"{req.corpus}-{req.algo}-{req.vocab_size}"
    name = req.name or f"text/{slug}"
    folder = Path(req.out) if req.out else runs_dir() / "text" / slug
    own = _own_engine(req, train.binary)
    if log:
        log_event("start", algo=req.algo, engine="tokenworks" if own else "hf", corpus=req.corpus,
                  vocab_size=req.vocab_size, train_documents=len(train.documents), train_bytes=train.nbytes,
                  test_documents=len(test.documents), out=str(folder), request=asdict(req))

    def work(put: Callable[[Any], None], halt: Callable[[], bool]) -> _Trained:
        return _train_own(req, train, name, put, halt, t0) if own else _train_hf(req, train, name, put, t0)

    history: list[dict[str, Any]] = []
    run = _in_thread(work, stop)
    while True:
        try:
            item = next(run)
        except StopIteration as fin:
            trained: _Trained = fin.value
            break
        if isinstance(item, _Say):
            say(item.text)
            continue
        history.append(text_step_record(item))
        if log:
            log_event("step", **history[-1])
        yield item
    tok = trained.tokenizer
    seconds = time.perf_counter() - t0
    t_eval = time.perf_counter()
    held = heldout_stats(tok, test.documents)
    if log:
        log_event("eval", seconds=round(time.perf_counter() - t_eval, 2), **held.__dict__)
    report = {**trained.report, "heldout": held.__dict__, "corpus": req.corpus, "train_bytes": train.nbytes,
              "train_documents": len(train.documents)}
    saved = Path(tok.save(folder, data_hash=train.data_hash, metrics=report))
    if log:
        log_event("checkpoint", kind="last", step=trained.step, path=str(saved), metric=round(held.bytes_per_token, 5))
        log_event("saved", folder=str(saved), bytes=sum(p.stat().st_size for p in saved.iterdir() if p.is_file()))
    yield CheckpointEvent(path=saved, kind="last", step=trained.step, metric=held.bytes_per_token)
    say(f"saved {saved}; held-out: {held.bytes_per_token:.2f} bytes/token over {held.documents} documents")
    if log:
        log_event("done", reason=trained.reason, steps=trained.step, seconds=round(seconds, 2))
    yield DoneEvent(reason=trained.reason, steps=trained.step, seconds=seconds)  # type: ignore[arg-type]
    return TextTrainResult(tokenizer=tok, folder=saved, request=req, train_bytes=train.nbytes, seconds=seconds,
                           heldout=held, report=report, history=history, reason=trained.reason)


def train_text(req: TextTrainRequest, progress: Callable[[str], None] | None = None) -> TextTrainResult:
    """Train, save atomically as a run, and measure on the held-out split (``iter_train_text``
    run to the end; ``progress`` gets its prose lines)."""
    return drain(iter_train_text(req, say=progress))


# ---- the command line: `tokenworks train text` (prose) and this module (JSON lines) -----------


def add_arguments(ap: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``tokenworks train text`` and ``python -m tokenworks.text.train``."""
    ap.epilog = "presets: " + "; ".join(f"{p.name} ({p.description}: {p.algo}, {p.vocab_size}, {p.corpus})"
                                        for p in PRESETS.values())
    ap.add_argument("--preset", choices=sorted(PRESETS), help="a named recipe (flags below override it)")
    ap.add_argument("--algo", choices=ALGOS, help="bpe (byte-level), bytebpe (tokenworks' own trainer), superbpe, "
                    "charbpe, wordpiece, unigram")
    ap.add_argument("--vocab", type=int, help="exact vocabulary size")
    ap.add_argument("--corpus", choices=CORPORA)
    ap.add_argument("--engine", choices=ENGINES, default="hf", help="for bpe: hf (fast) or tokenworks (traced)")
    ap.add_argument("--limit-mb", type=float, help="training megabytes taken from the corpus")
    ap.add_argument("--transition", type=int, help="superbpe: vocabulary size where superword merges start")
    ap.add_argument("--out", help="checkpoint folder (default: runs/text/<corpus>-<algo>-<vocab>)")
    return ap


def request_from_args(args: argparse.Namespace) -> TextTrainRequest:
    """The TextTrainRequest of parsed ``add_arguments`` options (a preset, then the flags)."""
    preset = PRESETS[args.preset] if args.preset else None
    return TextTrainRequest(
        algo=args.algo or (preset.algo if preset else "bpe"),
        vocab_size=args.vocab or (preset.vocab_size if preset else 8000),
        corpus=args.corpus or (preset.corpus if preset else "shakespeare"),
        engine=args.engine,
        limit_mb=args.limit_mb or (preset.limit_mb if preset else 8.0),
        transition_vocab_size=args.transition,
        out=args.out,
    )


def main(argv: list[str] | None = None) -> int:
    """Train as a job whose stdout is a run log: one JSON line per event (see ``iter_train_text``).
    Bad options: a message on stderr and exit status 2."""
    ap = add_arguments(argparse.ArgumentParser(
        prog="python -m tokenworks.text.train",
        description="Train a text tokenizer on an offline corpus; print the run as JSON lines."))
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:  # argparse has printed the usage and the message
        return int(e.code or 0)
    try:
        req = request_from_args(args)
        check_request(req)
        from ..train.loop import PROCESS_STOP

        drain(iter_train_text(req, log=True, stop=PROCESS_STOP))  # a job's stop request ends it after a merge
        return 0
    except InvalidInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TokenworksError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
