"""PESQ in helper processes (tokenworks.metrics.pesq_process): the same numbers as in-process,
PESQ's own refusals come back as messages, a helper that dies is replaced, and helpers end with
their pipe."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pesq")

from tokenworks.metrics import pesq_process  # noqa: E402
from tokenworks.metrics.audio import pesq_wb  # noqa: E402


def _speechlike(seconds: float = 2.0, sr: int = 16000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    env = (np.sin(2 * np.pi * 3 * t) > 0).astype(np.float32)  # syllable-like on/off
    ref = (0.3 * env * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 440 * t))).astype(np.float32)
    est = (ref + 0.02 * rng.standard_normal(ref.size)).astype(np.float32)
    return ref, est


@pytest.fixture
def helpers():
    pesq_process.use_processes(1, nice=0)
    yield
    pesq_process.in_process()


def test_helper_gives_the_in_process_number(helpers):
    ref, est = _speechlike()
    here = pesq_process._here(16000, ref, est, "wb")
    assert pesq_process.active()
    there = pesq_process.pesq(16000, ref, est, "wb")
    assert there == pytest.approx(here, abs=1e-6)
    assert 1.0 < there < 4.7
    assert pesq_wb(ref, est, 16000) == pytest.approx(here, abs=1e-6)  # the metric goes through the helper


def test_refusal_comes_back_as_pesq_failed(helpers):
    short = np.zeros(100, np.float32)
    short[::7] = 0.5
    with pytest.raises(pesq_process.PesqFailed):
        pesq_process.pesq(16000, short, short, "wb")
    ref, est = _speechlike(seed=1)
    assert 1.0 < pesq_process.pesq(16000, ref, est, "wb") < 4.7  # the helper goes on after a refusal


def test_a_dead_helper_is_replaced(helpers):
    ref, est = _speechlike(seed=2)
    first = pesq_process.pesq(16000, ref, est, "wb")
    pid = pesq_process._HELPERS[0].proc.pid
    pesq_process._HELPERS[0].proc.kill()
    pesq_process._HELPERS[0].proc.wait()
    assert pesq_process.pesq(16000, ref, est, "wb") == pytest.approx(first, abs=1e-6)
    assert pesq_process._HELPERS[0].proc.pid != pid


def test_helpers_end_with_their_pipe(helpers):
    ref, est = _speechlike(seed=3)
    pesq_process.pesq(16000, ref, est, "wb")
    proc = pesq_process._HELPERS[0].proc
    pesq_process.in_process()
    assert proc.wait(timeout=10) == 0
    assert not pesq_process.active()
    assert pesq_process.pesq(16000, ref, est, "wb") > 1.0  # plain calls again
