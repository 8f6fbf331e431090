"""Text training as tokenworks.train.loop events: iter_train_text for own-engine BPE and SuperBPE
(exact training bytes per token), an HF algorithm (reading / done, no invented steps), stop, and
``python -m tokenworks.text.train`` (JSON lines, exit 2 on bad options)."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import tokenworks as tw
from tokenworks.text.bpe import ByteBPE
from tokenworks.text.corpora import load_corpus
from tokenworks.text.train_events import TextStepEvent
from tokenworks.text.train import TextTrainRequest, iter_train_text, main
from tokenworks.train.loop import CheckpointEvent, DoneEvent
from tokenworks.train.watch import drain

LIMIT_MB = 0.08  # ~84 KB of the standard library's source: code, so runs of spaces get merged


def _run(req: TextTrainRequest, stop=None):
    events: list = []
    result = drain(iter_train_text(req, stop=stop), events.append)
    return events, result


def _train_docs(req: TextTrainRequest) -> list:
    return load_corpus(req.corpus, "train", limit_bytes=int(req.limit_mb * (1 << 20))).documents


def _tokens(tok, docs) -> int:
    return sum(len(tok.encode(d)) for d in docs)


@pytest.fixture(scope="module")
def bpe_run(tmp_path_factory):
    req = TextTrainRequest(algo="bytebpe", vocab_size=900, corpus="stdlib", limit_mb=LIMIT_MB,
                           out=str(tmp_path_factory.mktemp("ev") / "bpe"))
    return (req, *_run(req))


def test_bpe_step_events_follow_the_merges(bpe_run):
    req, events, result = bpe_run
    steps = [e for e in events if isinstance(e, TextStepEvent)]
    total = req.vocab_size - 256
    assert 100 <= len(steps) <= 205  # throttled: ~150 plus the first and the last
    assert [e.step for e in steps] == sorted({e.step for e in steps})  # strictly increasing
    assert steps[0].step == 1 and steps[-1].step == total and all(e.steps == total for e in steps)
    assert all(e.phase == "merging" and e.unit == "merges" for e in steps)
    assert sum(e.window for e in steps) == total  # every merge falls in exactly one window
    merges = result.tokenizer.training.merges
    assert steps[0].losses["pair_count"] == merges[0].count
    w = steps[5]  # a window's pair_count is the mean count of its merges
    first = w.step - w.window
    assert w.losses["pair_count"] == pytest.approx(sum(m.count for m in merges[first:w.step]) / w.window)
    bpt = [e.metrics["train_bytes_per_token"] for e in steps]
    assert all(b > a for a, b in zip(bpt, bpt[1:]))  # every merge saves at least one token
    assert steps[0].eta_seconds is None and steps[-1].eta_seconds == 0
    assert all(e.items_per_s > 0 for e in steps[1:])
    assert [e.elapsed for e in steps] == sorted(e.elapsed for e in steps)


def test_bpe_bytes_per_token_is_exact_at_every_point_checked(bpe_run):
    """The event's token count equals encoding the training corpus with the merges so far,
    also after merges of a token with itself (whose count overstates what they save)."""
    req, events, result = bpe_run
    docs = _train_docs(req)
    nbytes = sum(len(d.encode("utf-8")) for d in docs)
    merges = result.tokenizer.training.merges
    steps = [e for e in events if isinstance(e, TextStepEvent)]
    self_pairs = [m.index for m in merges if m.pair[0] == m.pair[1]]
    assert self_pairs and self_pairs[0] < 100, "the corpus should make the trainer merge runs of spaces"
    checked = [e for e in steps if e.step > self_pairs[0]][:1] + [steps[len(steps) // 2], steps[-1]]
    for e in checked:
        partial = ByteBPE([m.pair for m in merges[:e.step]])
        exact = _tokens(partial, docs)
        assert e.metrics["train_tokens"] == exact, e.step
        assert e.metrics["train_bytes_per_token"] == pytest.approx(nbytes / exact, rel=1e-12)
    naive = nbytes - sum(m.count for m in merges)  # what the counts alone would claim
    assert naive < steps[-1].metrics["train_tokens"]


def test_bpe_run_ends_with_a_loadable_checkpoint_then_done(bpe_run):
    req, events, result = bpe_run
    ck, done = events[-2], events[-1]
    assert isinstance(ck, CheckpointEvent) and isinstance(done, DoneEvent)
    assert ck.kind == "last" and ck.step == req.vocab_size - 256 and ck.path == result.folder
    assert ck.metric == pytest.approx(result.heldout.bytes_per_token)
    assert done.reason == "steps" and done.steps == ck.step and result.reason == "steps"
    tok = tw.load_checkpoint(ck.path, allow_outside=True)
    assert tok.vocab_size == req.vocab_size
    assert len(result.history) == sum(isinstance(e, TextStepEvent) for e in events)
    assert result.history[-1]["train_bytes_per_token"] == round(events[-3].metrics["train_bytes_per_token"], 5)


def test_superbpe_events_cover_both_stages_exactly(tmp_path):
    req = TextTrainRequest(algo="superbpe", vocab_size=700, transition_vocab_size=500, corpus="stdlib",
                           limit_mb=LIMIT_MB, out=str(tmp_path / "super"))
    events, result = _run(req)
    steps = [e for e in events if isinstance(e, TextStepEvent)]
    phases = [e.phase for e in steps]
    assert phases == sorted(phases) and set(phases) == {"stage1", "stage2"}  # stage 1's events, then stage 2's
    last1 = [e for e in steps if e.phase == "stage1"][-1]
    assert last1.step == 500 - 256  # the last merge of stage 1 has an event of its own
    for stage in ("stage1", "stage2"):
        bpt = [e.metrics["train_bytes_per_token"] for e in steps if e.phase == stage]
        assert all(b > a for a, b in zip(bpt, bpt[1:]))
    docs = _train_docs(req)
    assert steps[-1].metrics["train_tokens"] == _tokens(result.tokenizer, docs)
    assert steps[-1].step == 700 - 256 and isinstance(events[-1], DoneEvent)


def test_wordpiece_reports_reading_and_done_without_inventing_steps(tmp_path):
    req = TextTrainRequest(algo="wordpiece", vocab_size=500, corpus="stdlib", limit_mb=LIMIT_MB,
                           out=str(tmp_path / "wp"))
    events, result = _run(req)
    steps = [e for e in events if isinstance(e, TextStepEvent)]
    assert steps[0].phase == "reading" and steps[-1].phase == "done"
    assert all(e.step == 0 for e in steps[:-1])  # nothing is known about pieces until the end
    assert steps[-1].step == result.tokenizer.vocab_size == 500 and all(e.steps == 500 for e in steps)
    read = [e.metrics["read_fraction"] for e in steps]
    assert read == sorted(read) and read[-1] == 1.0
    assert all(e.eta_seconds is None for e in steps)
    assert all(e.unit == "bytes" and e.items_per_s > 0 for e in steps if e.phase == "reading")
    assert all(e.unit == "" for e in steps if e.phase != "reading")
    assert "pair_count" not in steps[-1].losses and "train_bytes_per_token" not in steps[-1].metrics
    assert isinstance(events[-2], CheckpointEvent) and isinstance(events[-1], DoneEvent)
    assert events[-1].reason == "steps"


def test_stop_ends_own_engine_training_with_a_smaller_saved_tokenizer(tmp_path):
    stop = threading.Event()
    req = TextTrainRequest(algo="bytebpe", vocab_size=2000, corpus="stdlib", limit_mb=LIMIT_MB,
                           out=str(tmp_path / "stopped"))
    events: list = []

    def on_event(e):
        events.append(e)
        if isinstance(e, TextStepEvent):
            stop.set()

    result = drain(iter_train_text(req, stop=stop), on_event)
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.reason == "stopped" and result.reason == "stopped"
    n = result.tokenizer.vocab_size - 256
    assert 1 <= n < 2000 - 256 and done.steps == n
    assert [e for e in events if isinstance(e, TextStepEvent)][-1].step == n  # the last merge has its event
    info = json.loads((result.folder / "config.json").read_text())
    assert info["metrics"]["stopped_early"] and "stopped after" in info["metrics"]["reason"]
    again = tw.load_checkpoint(result.folder, allow_outside=True)
    assert again.vocab_size == 256 + n
    text = "def f(x):\n        return x  # indented\n"
    assert again.decode(again.encode(text)) == text


def test_main_prints_a_run_log_and_saves_a_loadable_checkpoint(tmp_path, capsys):
    out = tmp_path / "job"
    rc = main(["--algo", "bytebpe", "--vocab", "400", "--corpus", "stdlib", "--limit-mb", "0.05", "--out", str(out)])
    printed = capsys.readouterr().out.splitlines()
    assert rc == 0
    lines = [json.loads(x) for x in printed]  # every line is JSON
    kinds = [x["event"] for x in lines]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds[kinds.index("step"):].count("step") == kinds.count("step") >= 2
    assert kinds[-4:] == ["eval", "checkpoint", "saved", "done"]
    start, ev, ck = lines[0], lines[-4], lines[-3]
    assert start["algo"] == "bytebpe" and start["vocab_size"] == 400 and start["engine"] == "tokenworks"
    step = lines[-5]
    assert step["step"] == step["steps"] == 144 and step["unit"] == "merges" and "lr" not in step
    assert ev["bytes_per_token"] > 1.0 and ev["documents"] > 0
    assert Path(ck["path"]) == out.resolve() or Path(ck["path"]) == out
    assert lines[-1]["reason"] == "steps" and lines[-1]["steps"] == 144
    tok = tw.load_checkpoint(out, allow_outside=True)
    assert tok.vocab_size == 400


@pytest.mark.parametrize("argv, words", [
    (["--algo", "nope"], ["--algo", "invalid choice"]),
    (["--vocab", "many"], ["--vocab", "invalid int"]),
    (["--algo", "bpe", "--vocab", "10", "--corpus", "stdlib", "--limit-mb", "0.05", "--engine", "tokenworks"],
     ["vocab_size", "at least 256"]),
    (["--algo", "wordpiece", "--engine", "tokenworks"], ["wordpiece trains with engine 'hf'"]),
    (["--limit-mb", "-1"], ["limit_mb"]),
])
def test_main_refuses_bad_options_with_exit_2(argv, words, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert all(w in captured.err for w in words), captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_module_runs_as_a_job():
    r = subprocess.run([sys.executable, "-m", "tokenworks.text.train", "--corpus", "wikipedia"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "invalid choice" in r.stderr and r.stdout == ""
