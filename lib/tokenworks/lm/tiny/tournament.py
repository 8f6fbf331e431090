"""The tokenizer tournament: the same small model trained with every way of reading text, at the
same training FLOPs, scored in held-out bits per byte. ``tokenworks lm tournament``.

    tokenworks lm tournament --preset cpu --out runs/tournament      # 82 minutes on 2 CPU cores (measured)
    board = run_tournament(TournamentConfig(preset="cpu-tiny"))      # -> Leaderboard

For each corpus (``data.CORPORA``): the contestants' tokenizers are trained on its train split;
every contestant and seed is trained (``train.train_tiny``, the preset's model and FLOPs budget),
scored on the held-out split and probed (``probes``). The results go to ``<out>``:

    leaderboard.csv / leaderboard.json   one row per corpus and contestant, seeds aggregated
    runs.csv                             one row per trained model
    leaderboard.png                      bits per byte against compute and against bytes per token
    models/<corpus>-<contestant>-s<seed>/   the checkpoints (a finished one is not trained again,
                                         so a stopped tournament picks up where it was)
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...errors import InvalidInput
from ...paths import runs_dir
from .contestants import Contestant, pick
from .data import CORPORA, load_text
from .leaderboard import Leaderboard, RunRow, build_leaderboard, write_leaderboard
from .train_config import PRESETS, preset_config

# contestants of the cpu-tiny preset (CI): the kinds, at sizes its small corpus can train
TINY_VOCAB = {"bpe-1k": 512, "bpe-4k": 1024, "bpe-16k": 2048, "unigram-4k": 1024, "superbpe-4k": 1024}


@dataclass
class TournamentConfig:
    preset: str = "cpu-tiny"  # cpu-tiny | cpu | gpu: the model, corpus size and FLOPs budget of every run
    corpora: tuple[str, ...] = ("english", "multilingual")  # one leaderboard per corpus
    contestants: tuple[str, ...] = ()  # names from contestants.CONTESTANTS; empty: all
    seeds: int = 2  # seeds per contestant (their spread is shown)
    probe_bytes: int = 20_000  # held-out bytes the probes read
    spelling_pairs: int = 200  # word pairs of the spelling probe
    threads: int | None = None  # torch CPU threads
    device: str = "auto"  # auto | cpu | cuda
    out: str | None = None  # the tournament folder; None: runs/lm/tournament-<preset>


def check(cfg: TournamentConfig) -> None:
    if cfg.preset not in PRESETS:
        raise InvalidInput(f"unknown preset {cfg.preset!r}; choose one of {', '.join(PRESETS)}")
    bad = [c for c in cfg.corpora if c not in CORPORA]
    if bad or not cfg.corpora:
        raise InvalidInput(f"corpora must be some of {', '.join(CORPORA)}, not {', '.join(bad) or 'none'}")
    if cfg.seeds < 1 or cfg.probe_bytes < 0 or cfg.spelling_pairs < 0:
        raise InvalidInput(f"seeds must be at least 1, probe_bytes and spelling_pairs 0 or more "
                           f"(got {cfg.seeds}, {cfg.probe_bytes}, {cfg.spelling_pairs})")
    pick(cfg.contestants)


def vocab_of(c: Contestant, preset: str) -> int:
    return TINY_VOCAB.get(c.name, c.vocab_size) if preset == "cpu-tiny" else c.vocab_size


def _tokenizers(cfg: TournamentConfig, corpus: str, contestants: list[Contestant], folder: Path,
                say: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Train (or reuse) every contestant's tokenizer on the corpus's train split: name -> {ref, ...}."""
    from .tokenizers import train_contestant_tokenizer

    out: dict[str, dict[str, Any]] = {}
    need = [c for c in contestants if c.input == "tokens" and not c.tokenizer]
    if not need:
        return out
    split = load_text(corpus, "train", PRESETS[cfg.preset]["train_bytes"])
    for c in need:
        v = vocab_of(c, cfg.preset)
        where = folder / "tokenizers" / f"{corpus}-{c.kind}-{v}"
        t = train_contestant_tokenizer(c.kind, v, split, where)
        say(f"{corpus}: trained {c.name} ({c.kind}, {t.vocab_size:,} tokens) in {t.seconds:.1f} s")
        out[c.name] = {"ref": str(t.folder), "vocab_size": t.vocab_size, "seconds": t.seconds}
    return out


def _run_one(cfg: TournamentConfig, corpus: str, c: Contestant, seed: int, tokenizer: str, folder: Path,
             say: Callable[[str], None]) -> RunRow:
    from .load import load_tiny
    from .probes import probe
    from .train import train_tiny

    model_dir = folder / "models" / f"{corpus}-{c.name}-s{seed}"
    done = model_dir / "config.json"
    probes_file = model_dir.parent / f"{model_dir.name}.probes.json"
    if not done.is_file():
        tcfg = preset_config(cfg.preset, input=c.input, tokenizer=tokenizer, corpus=corpus, seed=seed,
                             out=str(model_dir), threads=cfg.threads, device=cfg.device, name=f"lm/tiny-{c.name}")
        r = train_tiny(tcfg)
        history = [{"step": h["step"], "bits_per_token": h["bits_per_token"]} for h in r.history]
        (model_dir.parent / f"{model_dir.name}.history.json").write_text(json.dumps(history))
        say(f"{corpus}: {c.name} seed {seed}: {r.score.bits_per_byte:.4f} bits per byte in {r.steps} steps")
    m = load_tiny(model_dir)
    if not probes_file.is_file():
        docs = load_text(corpus, "test", cfg.probe_bytes or None).documents if cfg.probe_bytes else []
        report = probe(m, docs, cfg.spelling_pairs, seed) if docs else None
        probes_file.write_text(json.dumps(asdict(report) if report else {}))
    history_file = model_dir.parent / f"{model_dir.name}.history.json"
    history = json.loads(history_file.read_text()) if history_file.is_file() else []
    return RunRow.from_saved(corpus, c, seed, m, json.loads(probes_file.read_text()), history)


def draw(board: Leaderboard, folder: Path) -> Path | None:
    """leaderboard.png in ``folder``; None where figures cannot be drawn (no Chromium for kaleido)."""
    from ...viz.export import FigureExportUnavailable, figure_files
    from ...viz.tournament import leaderboard_figure

    try:
        return figure_files({"leaderboard": leaderboard_figure(board)}, folder, formats=("png",), scale=1)[0]
    except FigureExportUnavailable:
        return None


def run_tournament(cfg: TournamentConfig, say: Callable[[str], None] = print) -> Leaderboard:
    """Train, score and probe every contestant; write the leaderboard files; return the Leaderboard."""
    check(cfg)
    folder = Path(cfg.out or runs_dir() / "lm" / f"tournament-{cfg.preset}").expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    contestants = pick(cfg.contestants)
    t0 = time.perf_counter()
    rows: list[RunRow] = []
    tokenizers: dict[str, dict[str, Any]] = {}
    for corpus in cfg.corpora:
        toks = _tokenizers(cfg, corpus, contestants, folder, say)
        tokenizers[corpus] = toks
        for c in contestants:
            ref = c.tokenizer or toks.get(c.name, {}).get("ref", "")
            for seed in range(cfg.seeds):
                rows.append(_run_one(cfg, corpus, c, seed, ref, folder, say))
    board = build_leaderboard(rows, config=asdict(cfg), tokenizers=tokenizers, seconds=time.perf_counter() - t0)
    write_leaderboard(board, folder)
    draw(board, folder)
    say(f"wrote {folder / 'leaderboard.csv'} and leaderboard.json, runs.csv, leaderboard.png")
    return board


__all__ = ["TINY_VOCAB", "TournamentConfig", "check", "draw", "run_tournament"]
