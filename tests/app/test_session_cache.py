"""app/session_cache.py: the bounded, thread-safe LRU of analyses a page's gr.State points into."""
from __future__ import annotations

import threading

import pytest

from app import session_cache
from app.session_cache import SessionCache


def test_put_gives_a_new_random_key_and_get_gives_the_value_back():
    cache = SessionCache(max_entries=4)
    a, b = cache.put("A"), cache.put("B")
    assert a != b and len(a) == len(b) == 16 and int(a, 16) >= 0  # 64 random bits, as hex
    assert cache.get(a) == "A" and cache.get(b) == "B" and len(cache) == 2
    same = cache.put("A")
    assert same not in (a, b) and cache.get(same) == "A"  # the same value again: another entry


def test_unknown_none_and_odd_keys_give_none():
    cache = SessionCache(max_entries=2)
    cache.put("kept")
    for key in (None, "", "0123456789abcdef", 12, b"bytes", ["list"], {"a": 1}):
        assert cache.get(key) is None
    assert len(cache) == 1


def test_the_least_recently_used_entry_goes_first():
    cache = SessionCache(max_entries=3)
    a, b, c = cache.put("a"), cache.put("b"), cache.put("c")
    assert cache.get(a) == "a"  # a is now the most recently used
    d = cache.put("d")  # over the bound: b, the least recently used, goes
    assert cache.get(b) is None and [cache.get(k) for k in (a, c, d)] == ["a", "c", "d"]
    assert len(cache) == 3
    for i in range(10):
        cache.put(i)
    assert len(cache) == 3 and cache.get(a) is None  # never more than max_entries


def test_replaces_drops_the_old_entry_of_the_session():
    cache = SessionCache(max_entries=3)
    old, other = cache.put("old view"), cache.put("another session")
    new = cache.put("new view", replaces=old)
    assert cache.get(old) is None and cache.get(new) == "new view" and cache.get(other) == "another session"
    assert len(cache) == 2  # one entry per session and tab
    again = cache.put("again", replaces=old)  # an old key already gone (or evicted): nothing else is dropped
    assert cache.get(new) == "new view" and cache.get(again) == "again" and len(cache) == 3
    cache.put("x", replaces=None)
    assert len(cache) == 3


def test_a_bound_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        SessionCache(max_entries=0)
    one = SessionCache(max_entries=1)
    first = one.put(1)
    second = one.put(2)
    assert one.get(first) is None and one.get(second) == 2


def test_the_apps_cache_is_bounded_by_the_environment():
    assert isinstance(session_cache.CACHE, SessionCache)
    assert session_cache.CACHE.max_entries == session_cache.MAX_ENTRIES >= 1


def test_threads_putting_and_getting_at_once():
    """A smoke test: 8 threads put, get and replace at once; the bound holds, nothing raises, and
    every value read back is the one put under that key."""
    cache = SessionCache(max_entries=50)
    errors, wrong = [], []

    def work(t: int) -> None:
        try:
            key = None
            for i in range(2_000):
                value = (t, i)
                key = cache.put(value, replaces=key if i % 3 else None)
                got = cache.get(key)
                if got is not None and got != value:
                    wrong.append((key, got, value))
                cache.get("not a key")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and wrong == []
    assert 0 < len(cache) <= 50
