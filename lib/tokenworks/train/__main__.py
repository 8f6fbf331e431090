"""``python -m tokenworks.train``: training runs in the run registry.

    python -m tokenworks.train image --model grid --data emoji32 --preset cpu-tiny   # a new run
    python -m tokenworks.train audio --preset cpu-tiny
    python -m tokenworks.train text --algo bpe --vocab 2000 --corpus shakespeare
    python -m tokenworks.train lm-embeddings --tokenizer text/cl100k_base --preset cpu   # tokenworks.lm.finetune
    python -m tokenworks.train lm --input bytes --preset cpu   # a tiny LM from scratch (tokenworks.lm.tiny.train)
    python -m tokenworks.train list [--modality image]
    python -m tokenworks.train show RUN_ID
    python -m tokenworks.train stop RUN_ID          # the run ends at its next step, writing last/
    python -m tokenworks.train resume RUN_ID [--steps N]
    python -m tokenworks.train delete RUN_ID
    torchrun --nproc_per_node=N -m tokenworks.train image ...   # DistributedDataParallel

A new run trains in the foreground (its JSON-lines log on stdout and in <run>/events.jsonl); it
waits while another run holds the device (``--no-wait``: give up instead). The trainer's own
options follow the modality (``python -m tokenworks.train image --help``); --out, --run-dir and
--resume are set by the registry.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from ..errors import TokenworksError
from . import jobs
from . import runs as R

SUMMARY_KEYS = {"--model": "model", "--input": "model", "--data": "data", "--preset": "preset", "--design": "design",
                "--algo": "algo", "--corpus": "data", "--vocab": "vocab_size", "--seed": "seed",
                "--wav-dir": "data"}


def summarize(modality: str, argv: list[str]) -> dict[str, str]:
    """model / data / preset ... read from the trainer's arguments, for listings."""
    out: dict[str, str] = {"modality": modality}
    for flag, key in SUMMARY_KEYS.items():
        v = jobs._option(argv, flag)
        if v is not None:
            out[key] = os.path.basename(v.rstrip("/")) if flag == "--wav-dir" else v
    if modality == "lm-embeddings":  # the model is the base one; the tokenizer names the run
        out["model"] = jobs._option(argv, "--tokenizer") or "default tokenizer"
    if modality == "lm" and out.get("model") == "tokens":  # a tiny model reading tokens: the tokenizer names it
        out["model"] = jobs._option(argv, "--tokenizer") or "tokens"
    if modality == "text" and "algo" in out:
        out.setdefault("model", out["algo"])
    return out


def _new_run(modality: str, argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        import importlib

        return importlib.import_module(jobs.TRAINERS[modality]).main(argv)
    wait = "--no-wait" not in argv
    argv = [a for a in argv if a != "--no-wait"]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        return _new_run_distributed(modality, argv)
    info = R.new_run(modality, argv, summarize(modality, argv), device=jobs.device_name(argv, modality))
    print(f"run {info.id}: {info.folder}", file=sys.stderr, flush=True)
    rc = jobs.run_job(info.folder, wait=wait)
    _say_end(info.id)
    return rc


def _new_run_distributed(modality: str, argv: list[str]) -> int:
    """Under torchrun: rank 0 registers the run and holds the device; every rank trains."""
    from .distributed import broadcast_object, init_distributed

    dist = init_distributed(jobs._option(argv, "--device") or "auto")
    folder = None
    if dist.rank == 0:
        summary = {**summarize(modality, argv), "world_size": str(dist.world_size)}
        info = R.new_run(modality, argv, summary, device=jobs.device_name(argv, modality), status="running")
        print(f"run {info.id}: {info.folder} ({dist.world_size} processes)", file=sys.stderr, flush=True)
        folder = str(info.folder)
    folder = broadcast_object(folder)
    from pathlib import Path

    info = R.read_run(Path(folder), check_alive=False)
    if dist.rank == 0:
        return jobs.run_job(info.folder)
    import importlib
    import signal

    from .loop import request_stop

    for s in (signal.SIGTERM, signal.SIGINT):  # a stop on any rank ends every rank after the same step
        signal.signal(s, lambda *_: request_stop())
    return importlib.import_module(jobs.TRAINERS[modality]).main(jobs.trainer_argv(info, resume=False))


def _say_end(run_id: str) -> None:
    info = R.read_run(R.run_folder(run_id))
    line = f"run {info.id}: {info.status}"
    if info.error:
        line += f": {info.error}"
    print(line, file=sys.stderr, flush=True)


def _list(modality: str | None, as_json: bool) -> int:
    rows = R.list_runs(modality=modality)
    if as_json:
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return 0
    if not rows:
        print(f"no runs in {R.registry_root()}")
        return 0
    print(f"{'run':52} {'status':11} {'step':>12}  model")
    for r in rows:
        steps = f"{r.step}/{r.steps}" if r.steps else str(r.step)
        what = " ".join(str(r.summary.get(k)) for k in ("model", "data", "preset") if r.summary.get(k))
        print(f"{r.id:52} {r.status:11} {steps:>12}  {what}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in jobs.TRAINERS:
        try:
            return _new_run(argv[0], argv[1:])
        except TokenworksError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    ap = argparse.ArgumentParser(prog="python -m tokenworks.train", description=__doc__.split("\n\n")[0],
                                 epilog="To start a run: python -m tokenworks.train image|audio|text [trainer options]")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list", help="the registered runs, newest first")
    p.add_argument("--modality", choices=R.MODALITIES)
    p.add_argument("--json", action="store_true")
    for name, helptext in (("show", "a run's run.json"), ("stop", "ask a run to stop at its next step"),
                           ("delete", "delete a run that is not running"),
                           ("job", "train a registered run (what the app starts)")):
        sub.add_parser(name, help=helptext).add_argument("run_id")
    p = sub.add_parser("resume", help="continue a stopped or interrupted run from its last checkpoint")
    p.add_argument("run_id")
    p.add_argument("--steps", type=int, default=None, help="a new step budget (default: the saved one)")
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:  # argparse said what was wrong (or printed --help)
        return int(e.code or 0)
    try:
        if a.cmd == "list":
            return _list(a.modality, a.json)
        if a.cmd == "show":
            print(json.dumps(R.read_run(R.run_folder(a.run_id)).to_json(), indent=2))
            return 0
        if a.cmd == "stop":
            R.request_stop(a.run_id)
            print(f"asked run {a.run_id} to stop")
            return 0
        if a.cmd == "delete":
            R.delete_run(a.run_id)
            print(f"deleted run {a.run_id}")
            return 0
        folder = R.run_folder(a.run_id)
        if a.cmd == "job":
            return jobs.run_job(folder)
        raw = R.read_run(folder, check_alive=False)
        if not (raw.status == "queued" and raw.pid is None):  # else: queued for resuming by resume_run,
            jobs.check_resumable(R.read_run(folder))  # which cleared STOP (a STOP now is a new request)
            (folder / R.STOP_FILE).unlink(missing_ok=True)
        rc = jobs.run_job(folder, resume=True, extra=(["--steps", str(a.steps)] if a.steps else None))
        _say_end(a.run_id)
        return rc
    except TokenworksError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
