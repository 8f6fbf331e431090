"""A bounded load test of the app: many ``gradio_client`` clients at once, on loopback, while a
training run is going. It drives this checkout's app (``python -m app.main``), so it lives in the
checkout, not in the library; run it from the checkout's root::

    python -m tools.loadtest --bench reports          # 30 clients x 10 requests; the load section of
                                                      # reports/bench.{json,md} (make bench runs it)
    python -m tools.loadtest --quick                  # 6 clients x 3 requests; prints the table

    from tools.loadtest import run_load
    report = run_load(clients=30, requests_per_client=10)      # launches the app itself

Every client is a process of its own (as a browser on its own machine would be: no client waits for
another's Python) with its own ``gradio_client.Client`` (its own session); all connect first, then
all start together, and each makes a fixed sequence of requests from ``PLAN``: text tokenization the majority, then image
reconstruction (a sample, then k tokens) and audio decoding (a sample, then k codebooks). The run
is bounded: a fixed number of requests, a timeout per request and a deadline for the whole run;
a request that does not answer in time is an error "timeout", and the run ends by itself even if
the server hangs. Only loopback URLs are accepted.

Latency percentiles are over the requests that answered without error; errors are counted apart
(with the first few messages). The targets the numbers are held to, and the report's format, are
the library's (``tokenworks.bench.targets.load_targets``, ``tokenworks.bench.report``).
"""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from tokenworks.bench import report as bench_report
from tokenworks.bench.harness import percentile
from tokenworks.bench.targets import Verdict, load_targets, verdict as judge
from tokenworks.errors import InvalidInput, TokenworksError

ROOT = Path(__file__).resolve().parents[1]  # the checkout (app/ lives here)
MAX_MESSAGES = 3  # error messages kept per endpoint
LOAD_CLIENTS = (30, 10)  # concurrent clients x requests each (the load)
LOAD_CLIENTS_QUICK = (6, 3)


@dataclass(frozen=True)
class Step:
    endpoint: str  # api name, e.g. "/tokenize"
    modality: str  # "text" | "image" | "audio"
    args: tuple[Any, ...]
    needs_state: bool = False  # works on what the previous step of this session loaded


# One cycle of requests; every client walks it from its own start (never a step that needs state).
TEXTS = ("hello world", "Tokenizers turn text into numbers: héllo, 世界, 👋🏽!", "def f(x):\n    return x ** 2\n",
         "مرحبا بالعالم " * 20)
PLAN: tuple[Step, ...] = (
    Step("/tokenize", "text", (TEXTS[0], ("text/bytes", "text/chars"))),
    Step("/tokenize", "text", (TEXTS[1], ("text/cl100k_base", "text/bytes"))),
    Step("/image_sample", "image", ("emoji-fox.png", "image/grid-emoji32")),
    Step("/image_k", "image", (64,), needs_state=True),
    Step("/tokenize", "text", (TEXTS[2], ("text/o200k_base", "text/chars"))),
    Step("/tokenize", "text", (TEXTS[3], ("text/bytes", "text/cl100k_base"))),
    Step("/audio_sample", "audio", ("flite-slt.wav", "audio/rvq-speech16k", "si_sdr")),
    Step("/audio_k", "audio", (2,), needs_state=True),
    Step("/tokenize", "text", (TEXTS[1], ("text/chars",))),
    Step("/tokenize", "text", (TEXTS[0], ("text/cl100k_base", "text/o200k_base"))),
)
STARTS = tuple(i for i, s in enumerate(PLAN) if not s.needs_state)


@dataclass
class LoadConfig:
    clients: int = 30  # concurrent clients (processes, one gradio_client.Client each)
    requests_per_client: int = 10  # requests each client makes, walking PLAN
    request_timeout_s: float = 60.0  # one request longer than this is an error "timeout"
    warmup: bool = True  # walk PLAN once, alone, before the load (loads the tokenizers; not counted)
    timeout_s: float = 300.0  # the whole load phase stops by then, answered or not
    with_training: bool = True  # a cpu-tiny image training run goes on during the load
    think_s: float = 1.0  # mean pause of a client before each request (exponential, seeded per client):
    # a person reads the last answer before the next click, and the clients do not all arrive in the
    # same millisecond. 0: back to back (a stress test: latency then measures the queue, by Little's
    # law clients / throughput)
    startup_timeout_s: float = 180.0  # for the app to answer and the training run to take its first steps


@dataclass
class EndpointStats:
    endpoint: str
    modality: str  # text | image | audio
    n: int  # requests made
    errors: int
    messages: list[str]  # the first few error messages
    p50_ms: float | None  # over the requests answered without error (None: none was)
    p95_ms: float | None
    max_ms: float | None


@dataclass
class TrainingState:
    run_id: str | None
    running_throughout: bool  # running before the load and still running after it
    steps_before: int
    steps_after: int
    status_after: str  # the run's status when the load had ended (before it was stopped)


@dataclass
class LoadReport:
    url: str
    clients: int
    requests_per_client: int
    wall_s: float  # the load phase only
    endpoints: list[EndpointStats]
    training: TrainingState | None  # None: no training run was asked for
    unfinished: int  # requests never sent or not answered by the deadline (counted as "timeout" errors)
    client_cpu_s: float = 0.0  # CPU time of the client processes during the load
    app_cpu_s: float | None = None  # CPU time of the app's process during the load (None: an app not launched here)
    think_s: float = 0.0  # the clients' mean pause between an answer and the next request

    @property
    def errors(self) -> int:
        return sum(e.errors for e in self.endpoints)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LoadReport":
        """Back from ``dataclasses.asdict`` (bench.json; one written before ``kind`` was renamed
        ``modality`` reads the same)."""
        d = dict(d)
        d["endpoints"] = [EndpointStats(**{("modality" if k == "kind" else k): v for k, v in e.items()})
                          for e in d["endpoints"]]
        d["training"] = TrainingState(**d["training"]) if d.get("training") else None
        return cls(**d)


def check_loopback(url: str) -> str:
    """``url`` if it is http(s) on a loopback address, else InvalidInput."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    ok = host == "localhost"
    with contextlib.suppress(ValueError):
        ok = ok or ipaddress.ip_address(host).is_loopback
    if parts.scheme not in ("http", "https") or not ok:
        raise InvalidInput(f"the load test only runs against a loopback address (127.0.0.1, ::1 or localhost), "
                           f"not {url!r}")
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(env: dict[str, str], timeout_s: float, log: Path, root: Path = ROOT) -> Iterator[tuple[str, int]]:
    """Launch ``python -m app.main`` of checkout ``root`` on 127.0.0.1 and a free port; yield its URL
    and pid; stop it afterwards."""
    port = _free_port()
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "app.main", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise TokenworksError(f"the app exited with {proc.returncode}; its log ends:\n"
                                      f"{log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            if time.monotonic() > deadline:
                raise TokenworksError(f"the app did not answer within {timeout_s:.0f} s; see {log}")
            time.sleep(0.5)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- the training run ------------------------------------------------------------------------------

TRAIN_ARGV = ["--model", "grid", "--data", "shapes32", "--preset", "cpu-tiny", "--device", "cpu", "--threads", "1",
              "--steps", "1000000", "--minutes", "0", "--train-limit", "256", "--eval-limit", "8", "--log-every", "5",
              "--checkpoint-every", "100000"]


def _start_training(registry: Path, timeout_s: float) -> str:
    """Submit a long cpu-tiny image run into ``registry`` and wait until it has taken steps."""
    from tokenworks.train import jobs
    from tokenworks.train import runs as R

    info = jobs.submit("image", list(TRAIN_ARGV), {"model": "grid", "preset": "cpu-tiny", "purpose": "load test"},
                       root=registry)
    deadline = time.monotonic() + timeout_s
    while True:
        now = R.read_run(info.folder)
        if now.status == "running" and _last_step(info.folder) > 0:
            return info.id
        if now.status not in R.ACTIVE or time.monotonic() > deadline:
            err = (info.folder / "stderr.log").read_text(errors="replace")[-1500:]
            raise TokenworksError(f"the training run did not get going ({now.status}, step {_last_step(info.folder)}): {err}")
        time.sleep(0.5)


def _last_step(folder: Path) -> int:
    """The run's last logged step (run.json has the step count only at the end)."""
    from tokenworks.train import runs as R

    history = R.step_history(folder)
    return int(history[-1]["step"]) if history else 0


def _stop_training(registry: Path, run_id: str) -> None:
    from tokenworks.train import jobs
    from tokenworks.train import runs as R

    with contextlib.suppress(TokenworksError):
        R.request_stop(run_id, registry)
    with contextlib.suppress(TimeoutError, TokenworksError):
        jobs.wait_for(run_id, ("stopped", "done", "failed", "interrupted"), root=registry, timeout=60)


# ---- the clients -----------------------------------------------------------------------------------


@dataclass
class _Result:
    step: Step
    ms: float | None  # None when it did not answer
    error: str | None


def _client_plan(index: int, n: int) -> list[Step]:
    start = STARTS[index % len(STARTS)]
    return [PLAN[(start + j) % len(PLAN)] for j in range(n)]


def _run_client(url: str, plan: list[Step], request_timeout_s: float, deadline: float,
                out: list[_Result], lock: threading.Lock) -> None:
    """Connect one client (its own session) and walk ``plan``; results go into ``out``."""
    client = _connect(url, plan, out, lock)
    if client is None:
        return
    try:
        _walk(client, plan, request_timeout_s, deadline, out, lock)
    finally:
        with contextlib.suppress(Exception):
            client.close()


def _connect(url: str, plan: list[Step], out: list[_Result], lock: threading.Lock) -> Any:
    """A ``gradio_client.Client`` for ``url``, or None after recording every step of ``plan`` as failed."""
    from gradio_client import Client

    try:
        # ssl_verify=False: gradio_client otherwise builds a certificate store for every request
        # (~35 ms of the client's CPU each, measured), which on a 2-core machine the clients would take
        # from the app; the URL is loopback only (check_loopback), so there is no certificate to check
        return Client(url, verbose=False, download_files=False, ssl_verify=False)
    except Exception as e:  # noqa: BLE001 - every failure is a measured error
        with lock:
            out.extend(_Result(s, None, f"connect: {e}") for s in plan)
        return None


def _walk(client: Any, plan: list[Step], request_timeout_s: float, deadline: float,
          out: list[_Result], lock: threading.Lock, think: list[float] | None = None) -> None:
    for i, step in enumerate(plan):
        if think:  # the person reads the last answer (before the first: clients arrive at their own moments)
            time.sleep(max(0.0, min(think[i], deadline - time.monotonic())))
        left = deadline - time.monotonic()
        if left <= 0:
            with lock:
                out.append(_Result(step, None, "timeout"))
            continue
        t0 = time.perf_counter()
        job = client.submit(*step.args, api_name=step.endpoint)
        try:
            job.result(timeout=min(request_timeout_s, left))
            res = _Result(step, (time.perf_counter() - t0) * 1000, None)
        except TimeoutError:
            job.cancel()
            res = _Result(step, None, "timeout")
        except Exception as e:  # noqa: BLE001
            res = _Result(step, (time.perf_counter() - t0) * 1000, f"{type(e).__name__}: {str(e)[:300]}")
        with lock:
            out.append(res)


def think_times(index: int, n: int, mean_s: float) -> list[float]:
    """The pauses of client ``index`` before each of its ``n`` requests: exponential with mean
    ``mean_s``, seeded by the index (the same run of the test gives the same pauses)."""
    import random

    rng = random.Random(1000 + index)
    return [rng.expovariate(1 / mean_s) if mean_s > 0 else 0.0 for _ in range(n)]


def _client_process(url: str, plan: list[Step], request_timeout_s: float, timeout_s: float,
                    barrier: Any, results: Any, think: list[float] | None = None) -> None:
    """One client in a process of its own (like a browser on its own machine, it never waits for
    another client's Python): connect, wait until every client has connected, walk ``plan``, then put
    (results, CPU seconds of this process) on ``results``."""
    out: list[_Result] = []
    lock = threading.Lock()
    client = _connect(url, plan, out, lock)
    with contextlib.suppress(Exception):
        barrier.wait(timeout=timeout_s)
    cpu0 = time.process_time()
    if client is not None:
        try:
            _walk(client, plan, request_timeout_s, time.monotonic() + timeout_s, out, lock, think)
        finally:
            with contextlib.suppress(Exception):
                client.close()
    results.put((out, time.process_time() - cpu0))


def _stats(results: list[_Result]) -> list[EndpointStats]:
    rows = []
    for endpoint in dict.fromkeys(s.endpoint for s in PLAN):
        mine = [r for r in results if r.step.endpoint == endpoint]
        if not mine:
            continue
        ok = [r.ms for r in mine if r.error is None and r.ms is not None]
        bad = [r.error for r in mine if r.error is not None]
        rows.append(EndpointStats(
            endpoint=endpoint, modality=mine[0].step.modality, n=len(mine), errors=len(bad),
            messages=list(dict.fromkeys(bad))[:MAX_MESSAGES],
            p50_ms=round(percentile(ok, 50), 1) if ok else None,
            p95_ms=round(percentile(ok, 95), 1) if ok else None,
            max_ms=round(max(ok), 1) if ok else None))
    return rows


def _cpu_s(pid: int | None = None) -> float | None:
    """User + system CPU seconds of process ``pid`` (None: this one); None if it cannot be read."""
    try:
        import psutil

        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except Exception:  # noqa: BLE001 - a missing number, not a failed load test
        return None


def _warm_up(url: str, cfg: LoadConfig) -> None:
    """One client walks PLAN once, alone, so that loading each tokenizer is not counted as load latency."""
    results: list[_Result] = []
    _run_client(url, list(PLAN), cfg.request_timeout_s, time.monotonic() + cfg.timeout_s, results, threading.Lock())
    bad = [f"{r.step.endpoint}: {r.error}" for r in results if r.error]
    if bad:
        raise TokenworksError("the app failed a request before any load, so the load test would measure nothing: "
                              + "; ".join(bad[:MAX_MESSAGES]))


def _drive(url: str, cfg: LoadConfig) -> tuple[list[_Result], float, int, float]:
    """All clients at once, each in a process of its own; returns their results, the wall time, how
    many requests never answered, and the clients' CPU seconds during the load."""
    import multiprocessing as mp
    import queue as queue_mod

    ctx = mp.get_context("spawn")  # a clean interpreter per client (no torch or threads inherited)
    plans = [_client_plan(i, cfg.requests_per_client) for i in range(cfg.clients)]
    barrier = ctx.Barrier(cfg.clients + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_client_process, args=(url, p, cfg.request_timeout_s, cfg.timeout_s, barrier, results,
                                                       think_times(i, len(p), cfg.think_s)),
                         daemon=True, name=f"load-client-{i}") for i, p in enumerate(plans)]
    for p in procs:
        p.start()
    done: list[_Result] = []
    cpu = 0.0
    try:
        barrier.wait(timeout=cfg.startup_timeout_s)  # every client has connected: the load starts now
    except Exception:  # noqa: BLE001 - a client that could not start counts its requests as timeouts
        pass
    t0 = time.monotonic()
    deadline = t0 + cfg.timeout_s + 10
    for _ in procs:
        try:
            out, spent = results.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue_mod.Empty:
            break
        done.extend(out)
        cpu += spent
    wall = time.monotonic() - t0
    for p in procs:
        p.join(timeout=max(0.1, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()
    missing = Counter(s for p in plans for s in p)
    missing.subtract(r.step for r in done)  # what a client stuck past the deadline never got
    lost = [s for s, n in missing.items() for _ in range(n)]
    return done + [_Result(s, None, "timeout") for s in lost], wall, len(lost), cpu


def run_load(url: str | None = None, clients: int = 30, requests_per_client: int = 10, *,
             with_training: bool = True, timeout_s: float = 300.0, request_timeout_s: float = 60.0,
             startup_timeout_s: float = 180.0, warmup: bool = True, think_s: float = LoadConfig.think_s,
             checkout: Path = ROOT) -> LoadReport:
    """Run the load test; ``url=None`` launches the app of ``checkout`` (this one by default; another
    gives a before/after pair on the same machine) on 127.0.0.1, and a training run beside it when
    ``with_training``, and stops both afterwards. A given ``url`` must be loopback; with it the
    training run goes into a temporary registry the app does not see."""
    cfg = LoadConfig(clients=clients, requests_per_client=requests_per_client, request_timeout_s=request_timeout_s,
                     timeout_s=timeout_s, with_training=with_training, startup_timeout_s=startup_timeout_s,
                     warmup=warmup, think_s=think_s)
    if think_s < 0:
        raise InvalidInput(f"think_s is a mean pause in seconds, 0 or more, not {think_s}")
    if clients < 1 or requests_per_client < 1:
        raise InvalidInput(f"clients and requests_per_client must be at least 1, not {clients} and {requests_per_client}")
    if url is not None:
        check_loopback(url)
    tmp = Path(tempfile.mkdtemp(prefix="tokenworks-load-"))
    registry = tmp / "runs" / "train"
    env = {**os.environ, "TOKENWORKS_RUNS": str(tmp / "runs"), "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(Path(checkout) / "lib") + (
               os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")}
    run_id, app_pid = None, None
    try:
        with contextlib.ExitStack() as stack:
            if url is None:
                url, app_pid = stack.enter_context(serve_app(env, cfg.startup_timeout_s, tmp / "app.log",
                                                             Path(checkout).resolve()))
            if cfg.warmup:
                _warm_up(url, cfg)
            training = None
            if with_training:
                from tokenworks.train import runs as R

                run_id = _start_training(registry, cfg.startup_timeout_s)
                step_before = _last_step(R.run_folder(run_id, registry))
            app_cpu0 = _cpu_s(app_pid) if app_pid else None
            results, wall, unfinished, client_cpu = _drive(url, cfg)
            app_cpu1 = _cpu_s(app_pid) if app_pid else None
            app_cpu = round(app_cpu1 - app_cpu0, 1) if app_cpu0 is not None and app_cpu1 is not None else None
            if run_id is not None:
                folder = R.run_folder(run_id, registry)
                status, step_after = R.read_run(folder).status, _last_step(folder)
                training = TrainingState(run_id=run_id, running_throughout=status == "running" and step_after > step_before,
                                         steps_before=step_before, steps_after=step_after, status_after=status)
            return LoadReport(url=url, clients=clients, requests_per_client=requests_per_client, wall_s=round(wall, 2),
                              endpoints=_stats(results), training=training, unfinished=unfinished,
                              client_cpu_s=round(client_cpu, 1), app_cpu_s=app_cpu,
                              think_s=cfg.think_s)
    finally:
        if run_id is not None:
            _stop_training(registry, run_id)
        shutil.rmtree(tmp, ignore_errors=True)


def verdict(report: LoadReport) -> Verdict:
    """The load targets (``tokenworks.bench.targets.load_targets``) judged on the measured numbers:
    no errors, text p95, image and audio p50, and (when one was asked for) the training run going
    throughout."""
    return judge(load_targets(asdict(report)))


def to_markdown(report: LoadReport) -> str:
    """The latency table and the verdict, as bench.md shows them."""
    return bench_report.load_markdown(asdict(report))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.loadtest",
                                 description="The app under concurrent gradio_client clients while a training run goes on.")
    ap.add_argument("--bench", type=Path, metavar="DIR",
                    help="add the load section to DIR/bench.json and DIR/bench.md (a new report if there is none)")
    ap.add_argument("--quick", action="store_true",
                    help=f"{LOAD_CLIENTS_QUICK[0]} clients x {LOAD_CLIENTS_QUICK[1]} requests "
                         f"(default {LOAD_CLIENTS[0]} x {LOAD_CLIENTS[1]})")
    ap.add_argument("--url", help="a running app on a loopback address (default: launch one)")
    ap.add_argument("--before", type=Path, metavar="CHECKOUT",
                    help="first run the same load on another checkout's app (e.g. a worktree of an older commit), "
                         "then this one's: the report shows both")
    args = ap.parse_args(argv)
    clients, per_client = LOAD_CLIENTS_QUICK if args.quick else LOAD_CLIENTS
    before = None
    try:
        if args.before is not None:
            if not (args.before / "app" / "main.py").is_file():
                ap.error(f"--before must be a checkout with app/main.py; {args.before} has none")
            before = run_load(clients=clients, requests_per_client=per_client, checkout=args.before)
            print(f"before ({args.before}):\n{to_markdown(before)}")
        report = run_load(args.url, clients=clients, requests_per_client=per_client)
    except TokenworksError as e:
        print(f"loadtest: {e}", file=sys.stderr)
        return 1
    if args.bench is not None:
        bench_report.add_load(args.bench, asdict(report), quick=args.quick,
                              before=None if before is None else {"checkout": _describe(args.before),
                                                                  "report": asdict(before)})
        print(f"wrote the load section into {args.bench / 'bench.json'} and {args.bench / 'bench.md'}")
    print(to_markdown(report))
    return 0


def _describe(checkout: Path) -> str:
    """A checkout as the report names it: its commit (short hash) when git can say, else its path."""
    try:
        out = subprocess.run(["git", "-C", str(checkout), "log", "-1", "--format=%h"], capture_output=True,
                             text=True, timeout=10)
        return f"commit {out.stdout.strip()}" if out.stdout.strip() else str(checkout)
    except (OSError, subprocess.SubprocessError):
        return str(checkout)


__all__ = ["PLAN", "Step", "LoadConfig", "EndpointStats", "TrainingState", "LoadReport", "Verdict", "run_load",
           "verdict", "to_markdown", "check_loopback", "percentile", "serve_app", "think_times", "main"]


if __name__ == "__main__":
    sys.exit(main())
