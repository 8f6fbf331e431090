"""The server-side half of a tab's session state: what one analysis computed (arrays, figures'
data), kept here under a key, while the page's ``gr.State`` holds only the key and the settings.

Gradio deep-copies and walks a ``gr.State`` value on every event that reads or writes it, so a
state holding a clip's reconstructions or an image's decodes costs CPU on each slider move. Here
the state is a few fields; the arrays stay in one process-wide cache:

    key = CACHE.put(analysis, replaces=old_key)    # a new view replaces the session's old one
    analysis = CACHE.get(key)                      # None once evicted: recompute from the settings,
    CACHE.put(analysis, key=key)                   # and keep it under the key the page still holds

The cache is bounded (``MAX_ENTRIES``, least recently used out first). A session keeps one entry
per tab, because each new analysis replaces the one its state pointed at; a tab whose entry was
evicted (a busy server, a page left open for hours) recomputes it from the settings in its state.
"""
from __future__ import annotations

import os
import secrets
import threading
from collections import OrderedDict
from typing import Any

MAX_ENTRIES = int(os.environ.get("TOKENWORKS_SESSION_CACHE", 64))  # analyses kept, over every session and tab


class SessionCache:
    """A bounded, thread-safe map from random keys to values, least recently used evicted first."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, value: Any, replaces: str | None = None, key: str | None = None) -> str:
        """Keep ``value`` under ``key`` (None: a new random key; the entry ``replaces`` is dropped);
        returns the key."""
        key = secrets.token_hex(8) if key is None else key
        with self._lock:
            if replaces is not None:
                self._items.pop(replaces, None)
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return key

    def get(self, key: Any) -> Any:
        """The value under ``key``, or None when there is none (evicted, or never a key)."""
        if not isinstance(key, str):
            return None
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def __len__(self) -> int:
        return len(self._items)


CACHE = SessionCache()
