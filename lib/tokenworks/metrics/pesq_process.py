"""PESQ in helper processes, for a server: PESQ's C code holds Python's interpreter lock for its
whole run (about 20 ms a clip here), and in a server every other thread, the one that answers
requests included, would wait for it.

A server calls ``use_processes(n, nice)`` once; from then on ``pesq(rate, ref, est, mode)`` sends the
two signals to one of ``n`` helper processes (``python -m tokenworks.metrics.pesq_process``, at CPU
niceness ``nice``) and waits, and this process's other threads go on meanwhile. Without it (a
notebook, a script, the benchmarks) ``pesq`` is a plain call here.

The pipe carries a JSON header line and the raw float32 samples, and a JSON line back (no pickle).
A helper ends when its pipe closes, so it never outlives the server; one that died is replaced and
the call is made again, once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import TokenworksError

LIB = str(Path(__file__).resolve().parents[2])  # lib/, for the helper's PYTHONPATH


class PesqFailed(ValueError):
    """PESQ refused the signals (no utterances, too short ...); the message is PESQ's own."""


class _Helper:
    def __init__(self, nice: int) -> None:
        env = {**os.environ, "PYTHONPATH": LIB + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")}
        cmd = [sys.executable, "-m", "tokenworks.metrics.pesq_process"]
        if nice > 0 and os.path.exists("/usr/bin/nice"):
            cmd = ["/usr/bin/nice", "-n", str(nice), *cmd]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, close_fds=True)
        self.lock = threading.Lock()

    def ask(self, rate: int, ref: np.ndarray, est: np.ndarray, mode: str) -> float:
        r, e = np.ascontiguousarray(ref, np.float32), np.ascontiguousarray(est, np.float32)
        head = json.dumps({"rate": rate, "mode": mode, "n_ref": int(r.size), "n_est": int(e.size)}) + "\n"
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(head.encode() + r.tobytes() + e.tobytes())
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise BrokenPipeError("the PESQ helper process ended")
        answer = json.loads(line)
        if "error" in answer:
            raise PesqFailed(answer["error"])
        return float(answer["value"])

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_HELPERS: list[_Helper] = []
_NICE = 0
_LOCK = threading.Lock()


def use_processes(n: int = 1, nice: int = 0) -> None:
    """From now on compute PESQ in ``n`` helper processes at niceness ``nice`` (started on first use)."""
    global _NICE
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    with _LOCK:
        stop_processes_locked()
        _NICE = nice
        _HELPERS.extend(None for _ in range(n))  # type: ignore[misc]  # started lazily


def stop_processes_locked() -> None:
    for h in _HELPERS:
        if h is not None:
            h.close()
    _HELPERS.clear()


def in_process() -> None:
    """Back to plain calls here (stops the helpers)."""
    with _LOCK:
        stop_processes_locked()


def active() -> bool:
    return bool(_HELPERS)


def _take() -> tuple[int, _Helper]:
    """A free helper (started if need be), its lock held; waits for one when all are busy."""
    while True:
        with _LOCK:
            if not _HELPERS:
                raise LookupError("no helpers")
            for i, h in enumerate(_HELPERS):
                if h is None or h.proc.poll() is not None:
                    h = _HELPERS[i] = _Helper(_NICE)
                if h.lock.acquire(blocking=False):
                    return i, h
            first = _HELPERS[0]
        with first.lock:  # all busy: wait for the first to be free, then look again
            pass


def pesq(rate: int, ref: np.ndarray, est: np.ndarray, mode: str = "wb") -> float:
    """PESQ MOS-LQO of ``est`` against ``ref`` (both at ``rate``): in a helper process after
    ``use_processes``, else here. PESQ's own refusals raise PesqFailed (a ValueError)."""
    if not _HELPERS:
        return _here(rate, ref, est, mode)
    for attempt in range(2):
        try:
            i, h = _take()
        except LookupError:
            return _here(rate, ref, est, mode)
        try:
            return h.ask(rate, ref, est, mode)
        except (BrokenPipeError, OSError, ValueError) as e:
            if isinstance(e, PesqFailed):
                raise
            h.close()  # replaced on the next _take
            if attempt:
                raise TokenworksError(f"the PESQ helper process failed twice ({e})") from None
        finally:
            h.lock.release()
    raise AssertionError("unreachable")


def _here(rate: int, ref: np.ndarray, est: np.ndarray, mode: str) -> float:
    import pesq as pesq_mod

    try:
        return float(pesq_mod.pesq(rate, np.asarray(ref, np.float32), np.asarray(est, np.float32), mode))
    except (pesq_mod.PesqError, ValueError) as err:  # NoUtterancesError, BufferTooShortError, NaN levels
        raise PesqFailed(_message(err)) from None


def _message(err: Exception) -> str:
    msg = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else str(err)
    return msg or type(err).__name__


def _serve(inp: IO[bytes], out: IO[bytes]) -> None:
    """The helper's loop: a header line and the samples in, a JSON line out, until the pipe closes."""
    while True:
        line = inp.readline()
        if not line:
            return
        head = json.loads(line)
        ref = np.frombuffer(inp.read(4 * head["n_ref"]), np.float32)
        est = np.frombuffer(inp.read(4 * head["n_est"]), np.float32)
        try:
            answer = {"value": _here(int(head["rate"]), ref, est, str(head["mode"]))}
        except PesqFailed as e:
            answer = {"error": str(e)}
        except Exception as e:  # noqa: BLE001 - reported to the caller, the helper goes on
            answer = {"error": f"{type(e).__name__}: {e}"}
        out.write((json.dumps(answer) + "\n").encode())
        out.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
