"""Shared fixtures: an isolated runs folder, and the app served on a free loopback port."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [
    "",
    "hello world",
    "héllo wörld",
    "Tokenizers turn text into numbers: 世界, 👋🏽, 👨‍👩‍👧‍👦!",
    "مرحبا بالعالم",  # right-to-left
    "e\u0301\u0302 combining marks",
    "a" * 300,
    "tabs\tand\nnewlines\r\n",
    "def f(x):\n    return x ** 2  # code\n",
]


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A fresh runs folder (one of the checkpoint roots) for tests that save checkpoints."""
    d = tmp_path / "runs"
    d.mkdir()
    monkeypatch.setenv("TOKENWORKS_RUNS", str(d))
    return d


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Launch `python -m app.main` on 127.0.0.1 and yield its URL; stop it afterwards."""
    from tokenworks.errors import TokenworksError
    from tools.loadtest import serve_app

    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    try:
        with serve_app(env, 120, log) as (url, _pid):
            yield url
    except TokenworksError as e:  # it exited, or did not answer in time
        pytest.fail(str(e))
