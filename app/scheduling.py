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

The app also runs torch on COMPUTE_THREADS threads per request, so that one image or audio request
does not take every core from the others, and a training run started from the Train tab runs at a
lower CPU priority (``tokenworks.train.jobs.TRAIN_NICE``).
"""
from __future__ import annotations

import os
from typing import Any

QUICK = "quick"  # concurrency ids
COMPUTE = "compute"
QUICK_LIMIT = 8  # quick requests at once
COMPUTE_LIMIT = max(1, min(2, os.cpu_count() or 1))  # compute requests at once: one per core, at most 2
COMPUTE_THREADS = 1  # torch threads in the app process (env TOKENWORKS_APP_THREADS overrides)

# Events that stay quick whatever their inputs, by api name or (UI-only events) handler name.
QUICK_EVENTS = frozenset({
    # Text tab
    "text_view", "show", "tokenize", "compare", "token_clicked", "merge_tree", "restore", "link_changed",
    # Learn tab: one step of a merge or encoding animation
    "learn_train_step", "learn_encode_step", "training_step", "encoding_step",
    # small UI updates and lists
    "image_tokenizers", "audio_tokenizers", "image_edit_position", "on_modality", "asset_status", "runs_table",
    # Train tab: stop/delete a run, the dashboard refresh (reads a few files)
    "train_stop", "train_delete", "stop_run", "delete_run", "refresh",
})
# "show" is the Text tab's view handler, but also the Languages and Metrics tabs' (their api names
# differ and are listed here as compute).
COMPUTE_EVENTS = frozenset({"languages", "metrics"})


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


def assign_queues(demo: Any) -> dict[str, list[str]]:
    """Put every event of ``demo`` (a built gr.Blocks, before ``queue()``) in the quick or compute
    queue; events that set their own concurrency limit keep it. Returns {queue: [event names]}."""
    out: dict[str, list[str]] = {QUICK: [], COMPUTE: []}
    for block_fn in demo.fns.values():
        if block_fn.concurrency_limit != "default":
            continue
        name = getattr(block_fn.fn, "__name__", None) if block_fn.fn is not None else None
        q = queue_of(block_fn.api_name, name)
        block_fn.concurrency_id = q
        block_fn.concurrency_limit = QUICK_LIMIT if q == QUICK else COMPUTE_LIMIT
        named = isinstance(block_fn.api_name, str) and not block_fn.api_name.startswith("false")
        out[q].append(block_fn.api_name if named else f"({name or 'js'})")
    return out


def limit_compute_threads() -> int:
    """Run torch on COMPUTE_THREADS threads in this process (env TOKENWORKS_APP_THREADS overrides); returns it."""
    n = int(os.environ.get("TOKENWORKS_APP_THREADS", COMPUTE_THREADS))
    try:
        import torch

        torch.set_num_threads(max(1, n))
    except ImportError:
        pass
    return n
