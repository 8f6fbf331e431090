"""How the app shares two CPU cores among many users: one queue for quick requests, one for compute.

Gradio gives every event its own queue with ``default_concurrency_limit`` workers, so ten kinds of
model request could run twenty at once, and a quick request (tokenize a line of text, click a token)
would wait behind them for the CPU and for the interpreter lock. Here every event joins one of two
queues, decided in one place:

- ``quick``: text tokenization and comparison, token clicks, the link, small UI updates, stop and
  delete a run. Cheap and latency-critical; up to QUICK_LIMIT at once.
- ``compute``: everything that runs a model, decodes audio, measures metrics or draws many figures.
  At most COMPUTE_LIMIT at once (one per core is the most that helps); the rest wait in the queue
  in arrival order, and the UI shows their place.

Compute handlers run on COMPUTE_LIMIT threads of their own at CPU niceness COMPUTE_NICE, so the
operating system runs the server's own thread (which answers every request) and the quick handlers
first, and the compute ones on what CPU they leave. The app also runs torch on COMPUTE_THREADS
threads per request, so that one image or audio request
does not take every core from the others, and a training run started from the Train tab runs at a
lower CPU priority (``tokenworks.train.jobs.TRAIN_NICE``).
"""
from __future__ import annotations

import concurrent.futures
import functools
import inspect
import os
import threading
from typing import Any, Callable

QUICK = "quick"  # concurrency ids
COMPUTE = "compute"
QUICK_LIMIT = 8  # quick requests at once
COMPUTE_LIMIT = int(os.environ.get("TOKENWORKS_COMPUTE_LIMIT", 1))  # compute requests at once (env overrides)
COMPUTE_THREADS = 1  # torch threads in the app process (env TOKENWORKS_APP_THREADS overrides)

# Events that stay quick whatever their inputs, by api name or (UI-only events) handler name, plain
# or with its module ("text_tab.restore": every tab's page-load handler is named restore).
QUICK_EVENTS = frozenset({
    # Text tab
    "text_view", "show", "tokenize", "compare", "token_clicked", "merge_tree", "text_tab.restore",
    # every tab's "Link to this view" (builds a query string), opening a tab from a link, and the
    # page-load handlers that only set controls (the tab's select then computes)
    "link", "select_plain_tab", "learn_tab.restore", "languages_tab.restore",
    # Learn tab: one step of a merge or encoding animation
    "learn_train_step", "learn_encode_step", "training_step", "encoding_step",
    # small UI updates and lists
    "image_tokenizers", "audio_tokenizers", "image_edit_position", "on_modality", "asset_status", "runs_table",
    "image_tab.chosen_by_hand",  # the Image tab notes that the tokenizer was picked by hand
    # Train tab: stop/delete a run, the dashboard refresh (reads a few files)
    "train_stop", "train_delete", "stop_run", "delete_run", "refresh",
    # LM tab: choosing a token reads the scored text's cached top-10 (scoring and the mid-word panel compute)
    "lm_token", "lm_token_clicked",
    # Transfer tab: a link's page load only sets the controls (its buttons compute)
    "transfer_tab.restore",
    # Tournament tab: starting the background tournament, reading its log, a link's page load
    "tournament_start", "tournament_status", "tournament_tab.restore",
})
# "show" is the Text tab's view handler, but also the Languages and Metrics tabs' (their api names
# differ and are listed here as compute).
COMPUTE_EVENTS = frozenset({"languages", "metrics",
                            "undertrained", "undertrained_find",  # the Under-trained tab: verification runs SmolLM2
                            # the Transfer tab: transplants (5 s to 4 min), scores, saves ~100 MB checkpoints
                            "transfer_preflight", "transfer_score", "transfer_token", "transfer_save",
                            "transfer_finetune",
                            # the Tournament tab: reads a leaderboard and draws it; runs a tiny model over a text
                            "tournament_show", "tournament_kept"})


def queue_of(api_name: Any, fn_name: str | None) -> str:
    """``QUICK`` or ``COMPUTE`` for an event, by its api name, else its handler's name."""
    if isinstance(api_name, str) and api_name in COMPUTE_EVENTS:
        return COMPUTE
    if isinstance(api_name, str) and api_name in QUICK_EVENTS:
        return QUICK
    if (api_name in (None, False) or str(api_name).startswith("false")) and fn_name in QUICK_EVENTS:
        return QUICK
    if fn_name is None:  # a JavaScript-only event: no Python runs
        return QUICK
    return COMPUTE


_POOL: concurrent.futures.ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _lower_this_thread() -> None:
    """Raise the calling thread's niceness to COMPUTE_NICE (Linux niceness is per thread)."""
    nice = int(os.environ.get("TOKENWORKS_COMPUTE_NICE", COMPUTE_NICE))
    try:
        now = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        if nice > now:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (OSError, AttributeError):  # not Linux, or not allowed: the same priority as the server
        pass


def compute_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The threads compute handlers run on (COMPUTE_LIMIT of them, each at COMPUTE_NICE)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = concurrent.futures.ThreadPoolExecutor(max_workers=COMPUTE_LIMIT, thread_name_prefix="tw-compute",
                                                          initializer=_lower_this_thread)
        return _POOL


def on_compute_thread(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run on a compute thread (the caller's thread waits, using no CPU); generator and async
    handlers are returned as they are."""
    if inspect.isgeneratorfunction(fn) or inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        return fn

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        return compute_pool().submit(fn, *args, **kwargs).result()

    run.on_compute_thread = True  # type: ignore[attr-defined]
    return run


def assign_queues(demo: Any) -> dict[str, list[str]]:
    """Put every event of ``demo`` (a built gr.Blocks, before ``queue()``) in the quick or compute
    queue, and run the compute ones on the compute threads; events that set their own concurrency
    limit keep it. Returns {queue: [event names]}."""
    out: dict[str, list[str]] = {QUICK: [], COMPUTE: []}
    for block_fn in getattr(demo, "fns", {}).values():
        if block_fn.concurrency_limit != "default":
            continue
        name = getattr(block_fn.fn, "__name__", None) if block_fn.fn is not None else None
        module = str(getattr(block_fn.fn, "__module__", "")).rsplit(".", 1)[-1]
        qualified = f"{module}.{name}"
        q = queue_of(block_fn.api_name, qualified if qualified in QUICK_EVENTS else name)
        block_fn.concurrency_id = q
        block_fn.concurrency_limit = QUICK_LIMIT if q == QUICK else COMPUTE_LIMIT
        if q == COMPUTE and block_fn.fn is not None:
            block_fn.fn = on_compute_thread(block_fn.fn)
        named = isinstance(block_fn.api_name, str) and not block_fn.api_name.startswith("false")
        out[q].append(block_fn.api_name if named else f"({name or 'js'})")
    return out


COMPUTE_NICE = 5  # niceness of the compute threads (0: same priority as the rest of the server)
SWITCH_INTERVAL_S = 0.001  # how long a thread may hold the interpreter lock while another waits (Python's default: 5 ms)


def offload_lock_holders() -> None:
    """PESQ (the Audio tab's quality numbers) holds the interpreter lock for its whole run: run it in
    a helper process at COMPUTE_NICE instead (tokenworks.metrics.pesq_process)."""
    from tokenworks.metrics import pesq_process

    pesq_process.use_processes(COMPUTE_LIMIT, nice=int(os.environ.get("TOKENWORKS_COMPUTE_NICE", COMPUTE_NICE)))


def limit_compute_threads() -> int:
    """Run torch on COMPUTE_THREADS threads in this process (env TOKENWORKS_APP_THREADS overrides); returns it."""
    import sys

    sys.setswitchinterval(float(os.environ.get("TOKENWORKS_SWITCH_INTERVAL", SWITCH_INTERVAL_S)))
    n = int(os.environ.get("TOKENWORKS_APP_THREADS", COMPUTE_THREADS))
    try:
        import torch

        torch.set_num_threads(max(1, n))
    except ImportError:
        pass
    return n


def configure_process() -> None:
    """The server process's settings (launch calls this once): torch threads and the switch
    interval (limit_compute_threads), and PESQ in helper processes (offload_lock_holders)."""
    limit_compute_threads()
    offload_lock_holders()
