"""How the app shares the CPU (app/scheduling.py): every event is in the quick or the compute
queue, compute handlers run on the niced compute threads, and training jobs run niced."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from app import scheduling


@pytest.fixture(scope="module")
def queues():
    from app.main import build_app

    demo = build_app()
    return demo, scheduling.assign_queues(demo)


def test_every_event_is_in_a_queue_and_text_is_quick(queues):
    demo, q = queues
    for block_fn in demo.fns.values():
        assert block_fn.concurrency_id in (scheduling.QUICK, scheduling.COMPUTE, "export") or \
            block_fn.concurrency_limit != "default", block_fn.api_name
    for name in ("tokenize", "compare", "text_view", "token_clicked", "merge_tree", "train_stop"):
        assert name in q[scheduling.QUICK]
    for name in ("image_sample", "image_k", "audio_sample", "audio_k", "metrics", "languages", "attention"):
        assert name in q[scheduling.COMPUTE]
    by_name = {f.api_name: f for f in demo.fns.values()}
    assert by_name["tokenize"].concurrency_limit == scheduling.QUICK_LIMIT
    assert by_name["audio_sample"].concurrency_limit == scheduling.COMPUTE_LIMIT
    assert by_name["export_image"].concurrency_id == "export"  # an event's own limit is kept


def test_queue_of_by_api_name_then_handler_name():
    assert scheduling.queue_of("tokenize", "tokenize") == scheduling.QUICK
    assert scheduling.queue_of("languages", "show") == scheduling.COMPUTE  # same handler name as the Text view
    assert scheduling.queue_of("false_3", "link") == scheduling.QUICK  # every tab's link box
    assert scheduling.queue_of("false_5", "text_tab.restore") == scheduling.QUICK  # qualified by its module
    assert scheduling.queue_of("false_6", "image_tab.restore") == scheduling.COMPUTE  # it tokenizes the sample
    assert scheduling.queue_of("false_7", "restore") == scheduling.COMPUTE  # a restore of no listed tab
    assert scheduling.queue_of("false_4", "<lambda>") == scheduling.COMPUTE  # unknown: compute, the safe side
    assert scheduling.queue_of("js_fn", None) == scheduling.QUICK


def test_page_load_restores_are_quick_only_where_they_compute_nothing(queues):
    """Every tab's page-load handler is named ``restore`` (through widgets.bind and friendly, which
    keep the name and module): those that only set controls are quick, those that compute are not."""
    demo, q = queues
    restores = {f.fn.__module__.rsplit(".", 1)[-1]: f for f in demo.fns.values()
                if getattr(f.fn, "__name__", None) == "restore"}
    assert set(restores) == {"text_tab", "learn_tab", "languages_tab", "metrics_tab", "image_tab", "audio_tab",
                             "attention_tab", "lm_tab", "transfer_tab", "tournament_tab"}
    for tab in ("text_tab", "learn_tab", "languages_tab", "transfer_tab", "tournament_tab"):
        assert restores[tab].concurrency_id == scheduling.QUICK, tab
        assert not getattr(restores[tab].fn, "on_compute_thread", False), tab
    for tab in ("metrics_tab", "image_tab", "audio_tab", "attention_tab", "lm_tab"):  # they compute what the link names
        assert restores[tab].concurrency_id == scheduling.COMPUTE, tab
        assert getattr(restores[tab].fn, "on_compute_thread", False), tab
    links = [f for f in demo.fns.values() if getattr(f.fn, "__name__", None) == "link"]
    assert len(links) == 10 and all(f.concurrency_id == scheduling.QUICK for f in links)
    by_name = {getattr(f.fn, "__name__", None): f for f in demo.fns.values()}
    for name in ("on_modality", "refresh", "select_plain_tab"):
        assert by_name[name].concurrency_id == scheduling.QUICK, name


def test_compute_handlers_run_on_the_compute_threads(queues):
    demo, _ = queues
    seen = {}

    def probe(x):
        seen["thread"] = threading.current_thread().name
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return x * 2

    wrapped = scheduling.on_compute_thread(probe)
    assert wrapped(21) == 42
    assert seen["thread"].startswith("tw-compute")
    assert seen["nice"] == max(os.nice(0), scheduling.COMPUTE_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == os.nice(0)  # this thread unchanged

    def gen():
        yield 1

    assert scheduling.on_compute_thread(gen) is gen  # generators stream from Gradio's own threads
    by_name = {f.api_name: f for f in demo.fns.values()}
    assert getattr(by_name["image_sample"].fn, "on_compute_thread", False)
    assert not getattr(by_name["tokenize"].fn, "on_compute_thread", False)  # quick: stays on Gradio's threads


def test_errors_come_back_from_the_compute_thread():
    def boom():
        raise ValueError("bad k")

    with pytest.raises(ValueError, match="bad k"):
        scheduling.on_compute_thread(boom)()


def test_training_jobs_lower_their_priority():
    code = ("import os; from tokenworks.train import jobs; before = os.nice(0); after = jobs.lower_priority(); "
            "print(before, after, jobs.lower_priority(3))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TOKENWORKS_TRAIN_NICE": "7"}, check=True).stdout.split()
    before, after, again = map(int, out)
    assert after == max(before, 7)  # env TOKENWORKS_TRAIN_NICE, never lower than it was
    assert again == after  # asking for less never raises the priority back
