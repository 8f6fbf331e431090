"""The Tournament tab's handlers (app/tournament_tab.py): the leaderboard table and figure of a
finished tournament, the deletion view, the background cpu-tiny run, the link, and messages
instead of tracebacks (the library: tests/lm/tiny/)."""
from __future__ import annotations

import shutil
import time

import pytest

pytest.importorskip("gradio")


@pytest.fixture
def boards(tiny_tournament, runs_dir):
    """The session's small tournament, copied where the tab looks for tournaments run here."""
    dest = runs_dir / "lm" / "tournament-test"
    shutil.copytree(tiny_tournament, dest)
    return dest


def test_leaderboard_and_deletion_view(boards):
    from app import tournament_tab as tab

    labels = [label for label, _ in tab.board_choices()]
    assert "tournament-test (runs)" in labels
    frame, fig, status, models = tab.show_board("tournament-test (runs)")
    assert set(frame["contestant"]) == {"bytes", "bpe-1k", "delete"} and len(frame) == 3
    assert frame["rank"].tolist() == [1, 2, 3] and "same FLOPs budget" in status and "cpu-tiny" in status
    assert len(fig.data) >= 6
    choices = models["choices"]
    assert [label for label, _ in choices] == ["english delete seed 0", "english delete seed 1"]
    html, note = tab.show_deletion(choices[0][1], "It is a truth universally acknowledged.")
    assert "bytes kept" in html and "the learned gate kept" in note
    html, note = tab.show_deletion(choices[0][1], "x" * 3000)
    assert html == "" and "at most 2,000 characters" in note
    html, note = tab.show_deletion(str(boards / "models" / "english-bpe-1k-s0"), "text")
    assert html == "" and "keeps every position" in note


def test_messages_not_tracebacks(runs_dir):
    from app import tournament_tab as tab

    frame, fig, status, _ = tab.show_board("no such board")
    assert frame.empty and fig is None and "pick a leaderboard" in status
    html, note = tab.show_deletion(None, "text")
    assert "pick a delete or words model" in note
    assert "No cpu-tiny tournament has run here yet" in tab.tiny_status()


def test_one_click_starts_one_background_tournament(runs_dir, monkeypatch):
    from app import tournament_tab as tab
    from tokenworks.lm.tiny import job

    started = []

    class FakeProc:  # the child process is not run here: its start and the second-start refusal are
        pid = 4242

    monkeypatch.setattr(job.subprocess, "Popen", lambda cmd, **kw: started.append(cmd) or FakeProc())
    monkeypatch.setattr(job, "_alive", lambda pid: pid == 4242)
    msg = tab.start_tiny()
    assert "Running (pid 4242)" in msg
    assert started[0][-4:] == ["--preset", "cpu-tiny", "--out", str(runs_dir / "lm" / tab.TINY_FOLDER)]
    assert "already running" in tab.start_tiny() and len(started) == 1
    monkeypatch.setattr(job, "_alive", lambda pid: False)
    assert "stopped before writing the leaderboard" in tab.tiny_status()


def test_link_round_trip(boards):
    from app import links
    from app import tournament_tab as tab

    folder = dict(tab.board_choices())["tournament-test (runs)"]
    q = tab.link(folder, "Hello")
    assert "tab=tournament" in q and "board=tournament-test" in q and "text=Hello" in q
    from urllib.parse import parse_qs

    parsed = links.parse_link({k: v for k, v in parse_qs(q).items()}, tab.link_spec())
    assert parsed.state.board == "tournament-test (runs)" and not parsed.notes
