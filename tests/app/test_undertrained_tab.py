"""The Under-trained tab's handlers (app/undertrained_tab.py): messages instead of tracebacks (empty
corpus, an upload that is not UTF-8, a missing model asset), and with SmolLM2 the ranked table and
the corpus finder (the library: tests/lm/test_undertrained.py, whose verification run of 12
candidates this one shares through TOKENWORKS_FAST=1)."""
from __future__ import annotations

import pytest

pytest.importorskip("gradio")


def test_handler_messages_not_tracebacks(tmp_path, monkeypatch):
    from app import undertrained_tab as tab

    for text in ("", "  \n ", None):
        frame, msg = tab.find_tokens(text, None)
        assert frame.empty and "empty" in msg and "Traceback" not in msg

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café olé".encode("latin-1"))
    frame, msg = tab.find_tokens("", str(latin1))
    assert frame.empty and "not valid UTF-8" in msg and "byte offset 3" in msg

    monkeypatch.setenv("TOKENWORKS_CACHE", str(tmp_path / "no-assets"))  # the model's asset is not there
    frame, msg = tab.ranked_table()
    assert frame.empty and "tokenworks assets fetch smollm2-135m" in msg and "Traceback" not in msg
    frame, msg = tab.find_tokens("some text", None)
    assert frame.empty and "tokenworks assets fetch smollm2-135m" in msg


@pytest.mark.usefixtures("smollm2")  # skips without the asset (tests/conftest.py)
def test_ranked_table_and_finder(monkeypatch, tmp_path):
    from app import undertrained_tab as tab

    monkeypatch.setenv("TOKENWORKS_FAST", "1")
    frame, msg = tab.ranked_table()
    assert list(frame.columns) == tab.TABLE_COLUMNS
    roles = frame["role"].tolist()
    assert roles.count("candidate") == 12 and "control" in roles and "reference" in roles
    cands = frame[frame["role"] == "candidate"]
    assert cands["rank"].is_monotonic_increasing and set(cands["verified"]) <= {"yes", "no"}
    the = frame[(frame["role"] == "control") & (frame["token"] == "␣the")]
    assert the["verified"].tolist() == ["no"]
    assert "of the top 12 candidates verified under-trained" in msg and "Reference set" in msg

    word = next(t for t in cands[cands["verified"] == "yes"]["token"] if "<" not in t).replace("␣", " ")
    upload = tmp_path / "log.txt"
    upload.write_text(f"first line\nkey={word};\nagain ({word})\n", encoding="utf-8")
    hits, msg = tab.find_tokens("ignored when there is an upload", str(upload))
    assert len(hits) == 2 and "**2 occurrences**" in msg and "log.txt" in msg
    assert hits["offset"].tolist()[0] == len("first line\nkey=")
