"""The tournament's results: one row per trained model, aggregated per corpus and contestant.

    board = read_leaderboard("runs/lm/tournament-cpu")    # -> Leaderboard
    board.rows[0].bits_per_byte, board.rows[0].spread

Files (``write_leaderboard``): ``leaderboard.csv`` (the table), ``runs.csv`` (every model),
``leaderboard.json`` (all of it, with the date, the machine and the config); ``tournament.draw``
adds ``leaderboard.png`` (the view of ``tokenworks.viz.tournament``).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InvalidInput
from .contestants import Contestant


@dataclass
class RunRow:
    corpus: str
    contestant: str
    input: str
    seed: int
    bits_per_byte: float  # held-out, hard gate
    tokens_per_byte: float  # held-out ids per byte
    train_flops: float
    train_steps: int
    train_seconds: float
    train_bytes_per_s: float
    infer_bytes_per_s: float
    forward_flops_per_byte: float  # inference
    non_embedding_params: int
    vocab_size: int
    seq_len: int
    kept_share: float | None = None  # pooled models
    soft_bits_per_byte: float | None = None  # delete: held-out with the soft gate
    robustness: dict[str, float] = field(default_factory=dict)  # perturbation -> bits per byte ratio to clean
    spelling: float | None = None  # spelling probe accuracy (0.5 is chance)
    curve: list[tuple[float, float]] = field(default_factory=list)  # (training FLOPs, training bits per byte)

    @classmethod
    def from_saved(cls, corpus: str, c: Contestant, seed: int, loaded: Any, probes: dict[str, Any],
                   history: list[dict[str, Any]]) -> "RunRow":
        m = loaded.metrics
        steps = max(1, int(m["train_steps"]))
        per_step = float(m["train_flops"]) / steps
        tpb = float(m.get("train_tokens_per_byte", m["tokens_per_byte"]))
        curve = [(h["step"] * per_step, h["bits_per_token"] * tpb) for h in history]
        return cls(corpus=corpus, contestant=c.name, input=c.input, seed=seed, bits_per_byte=m["bits_per_byte"],
                   tokens_per_byte=m["tokens_per_byte"], train_flops=m["train_flops"], train_steps=m["train_steps"],
                   train_seconds=m["train_seconds"], train_bytes_per_s=m["train_bytes_per_s"],
                   infer_bytes_per_s=m["bytes_per_s"], forward_flops_per_byte=m["forward_flops_per_byte"],
                   non_embedding_params=m["non_embedding_params"], vocab_size=m.get("vocab_size", 0),
                   seq_len=m.get("seq_len", 0), kept_share=m.get("kept_share"),
                   soft_bits_per_byte=m.get("soft_bits_per_byte"),
                   robustness={r["kind"]: r["bits_per_byte"] / r["clean_bits_per_byte"]
                               for r in probes.get("robustness", [])},
                   spelling=(probes.get("spelling") or {}).get("accuracy"), curve=curve)


@dataclass
class LeaderRow:
    rank: int  # within the corpus, by bits per byte
    corpus: str
    contestant: str
    input: str
    seeds: int
    bits_per_byte: float  # mean over seeds
    spread: float  # half the range over seeds (0 with one seed)
    tokens_per_byte: float
    train_flops: float
    train_steps: float
    train_bytes_per_s: float
    infer_bytes_per_s: float
    forward_flops_per_byte: float
    non_embedding_params: int
    kept_share: float | None
    spelling: float | None
    robustness: dict[str, float]  # mean ratio per perturbation


@dataclass
class Leaderboard:
    rows: list[LeaderRow]
    runs: list[RunRow]
    date: str  # when it was written (UTC)
    machine: str  # where it ran
    config: dict[str, Any]
    tokenizers: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # the whole tournament's wall time

    def corpus(self, name: str) -> list[LeaderRow]:
        return [r for r in self.rows if r.corpus == name]


def _mean(xs: list[float | None]) -> float | None:
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and np.isnan(x))]
    return float(np.mean(xs)) if xs else None


def build_leaderboard(runs: list[RunRow], *, config: dict[str, Any], tokenizers: dict[str, Any] | None = None,
                      seconds: float = 0.0) -> Leaderboard:
    groups: dict[tuple[str, str], list[RunRow]] = {}
    for r in runs:
        groups.setdefault((r.corpus, r.contestant), []).append(r)
    rows = []
    for (corpus, name), rs in groups.items():
        b = [r.bits_per_byte for r in rs]
        kinds = sorted({k for r in rs for k in r.robustness})
        rows.append(LeaderRow(0, corpus, name, rs[0].input, len(rs), float(np.mean(b)), (max(b) - min(b)) / 2,
                              _mean([r.tokens_per_byte for r in rs]), _mean([r.train_flops for r in rs]),
                              _mean([r.train_steps for r in rs]), _mean([r.train_bytes_per_s for r in rs]),
                              _mean([r.infer_bytes_per_s for r in rs]), _mean([r.forward_flops_per_byte for r in rs]),
                              rs[0].non_embedding_params, _mean([r.kept_share for r in rs]),
                              _mean([r.spelling for r in rs]),
                              {k: _mean([r.robustness.get(k) for r in rs]) for k in kinds}))
    rows.sort(key=lambda r: (r.corpus, r.bits_per_byte))
    for corpus in {r.corpus for r in rows}:
        for i, r in enumerate(x for x in rows if x.corpus == corpus):
            r.rank = i + 1
    return Leaderboard(rows, runs, dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine(),
                       config, tokenizers or {}, seconds)


def machine() -> str:
    """The CPU (and GPU) the tournament ran on, in words."""
    cpu = platform.processor() or platform.machine()
    try:
        import torch

        gpu = f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    except Exception:  # torch without CUDA support
        gpu = ""
    return f"{cpu}, {os.cpu_count()} CPU cores{gpu}, {platform.system()}"


CSV_COLUMNS = ("rank", "corpus", "contestant", "input", "seeds", "bits_per_byte", "spread", "tokens_per_byte",
               "train_flops", "train_steps", "train_bytes_per_s", "infer_bytes_per_s", "forward_flops_per_byte",
               "non_embedding_params", "kept_share", "spelling")


def _csv(path: Path, records: list[dict[str, Any]], columns: list[str]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for rec in records:
            w.writerow({k: ("" if rec.get(k) is None else rec.get(k)) for k in columns})
    os.replace(tmp, path)


def write_leaderboard(board: Leaderboard, folder: str | Path) -> Path:
    """leaderboard.csv, runs.csv and leaderboard.json in ``folder`` (each written whole; the figure is
    the runner's: ``tournament.draw``)."""

    folder = Path(folder)
    kinds = sorted({k for r in board.rows for k in r.robustness})
    _csv(folder / "leaderboard.csv", [{**asdict(r), **{f"robust_{k}": v for k, v in r.robustness.items()}}
                                      for r in board.rows], [*CSV_COLUMNS, *(f"robust_{k}" for k in kinds)])
    run_cols = [f.name for f in fields(RunRow) if f.name not in ("robustness", "curve")]
    _csv(folder / "runs.csv", [asdict(r) for r in board.runs], run_cols)
    tmp = folder / "leaderboard.json.tmp"
    tmp.write_text(json.dumps(asdict(board), indent=1))
    os.replace(tmp, folder / "leaderboard.json")
    return folder


def leaderboard_markdown(board: Leaderboard) -> str:
    """The leaderboard as a Markdown table (the README's), one block per corpus."""
    kinds = ("typos", "lookalikes")
    head = ("| corpus | rank | contestant | bits/byte (± seeds) | bytes/token | steps | kept | spelling | "
            + " | ".join(f"{k} x" for k in kinds) + " |")
    lines = [head, "|" + "---|" * 3 + "---:|" * (5 + len(kinds))]
    for r in board.rows:
        rob = " | ".join(f"{r.robustness[k]:.2f}" if r.robustness.get(k) else "" for k in kinds)
        lines.append(f"| {r.corpus} | {r.rank} | {r.contestant} | {r.bits_per_byte:.3f} ± {r.spread:.3f} | "
                     f"{1 / r.tokens_per_byte:.2f} | {r.train_steps:.0f} | "
                     f"{'' if r.kept_share is None else f'{r.kept_share:.0%}'} | "
                     f"{'' if r.spelling is None else f'{r.spelling:.0%}'} | {rob} |")
    return "\n".join(lines)


def copy_board(src: str | Path, dest: str | Path, keep: tuple[str, ...] = ("delete", "words"),
               seeds: tuple[int, ...] = (0,)) -> Path:
    """The leaderboard files of the tournament in ``src`` and the models of the ``keep`` contestants
    (``seeds``; for the deletion view) copied to ``dest`` (how ``data/tournament/cpu`` was made)."""
    import shutil

    src, dest = Path(src), Path(dest)
    read_leaderboard(src)  # refuses a folder with no finished tournament
    (dest / "models").mkdir(parents=True, exist_ok=True)
    for name in ("leaderboard.csv", "leaderboard.json", "leaderboard.png", "runs.csv"):
        if (src / name).is_file():
            shutil.copy2(src / name, dest / name)
    for model in sorted((src / "models").iterdir()):
        corpus_name, _, seed = model.name.rpartition("-s")
        if model.is_dir() and corpus_name.split("-", 1)[-1] in keep and seed.isdigit() and int(seed) in seeds:
            shutil.copytree(model, dest / "models" / model.name, dirs_exist_ok=True)
    return dest


def read_leaderboard(folder: str | Path) -> Leaderboard:
    """InvalidInput when ``folder`` holds no finished tournament."""
    path = Path(folder) / "leaderboard.json"
    if not path.is_file():
        raise InvalidInput(f"{folder} holds no leaderboard.json: run `tokenworks lm tournament --out {folder}` first")
    d = json.loads(path.read_text())
    runs = [RunRow(**{**r, "curve": [tuple(p) for p in r["curve"]]}) for r in d["runs"]]
    return Leaderboard([LeaderRow(**r) for r in d["rows"]], runs, d["date"], d["machine"], d["config"],
                       d.get("tokenizers", {}), d.get("seconds", 0.0))


__all__ = ["CSV_COLUMNS", "LeaderRow", "Leaderboard", "RunRow", "build_leaderboard", "copy_board",
           "leaderboard_markdown", "machine",
           "read_leaderboard", "write_leaderboard"]
