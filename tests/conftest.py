"""Shared fixtures: an isolated runs folder, and the app served on a free loopback port."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Launch `python -m app.main` on 127.0.0.1 and yield its URL; stop it afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.main", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail(f"the app did not answer within 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
