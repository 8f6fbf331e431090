"""What the app's Tournament tab shows, computed here (the tab only formats it).

    boards = tournament_choices()           # [(label, folder)]: the shipped leaderboards, then runs/lm/tournament-*
    v = analyze(folder)                     # -> TournamentView: table rows, the figure, the pooled models
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...paths import data_dir, runs_dir
from .leaderboard import Leaderboard, read_leaderboard

SHIPPED = "tournament"  # data/tournament/<preset>/: the leaderboards this repository ships
TABLE_COLUMNS = ["corpus", "rank", "contestant", "bits/byte", "± (seeds)", "bytes/token", "train FLOPs", "steps",
                 "train bytes/s", "inference bytes/s", "kept", "spelling", "worst perturbation"]


@dataclass
class TournamentView:
    board: Leaderboard
    rows: list[list[Any]]  # TABLE_COLUMNS
    figure: Any  # plotly Figure
    pooled_models: list[tuple[str, str]]  # (label, model folder) of the delete and words models
    folder: Path
    summary: str  # one paragraph: preset, date, machine, seeds, time


def tournament_choices() -> list[tuple[str, str]]:
    out = []
    shipped = data_dir() / SHIPPED
    for f in sorted(shipped.glob("*/leaderboard.json")) if shipped.is_dir() else []:
        out.append((f"{f.parent.name} (shipped)", str(f.parent)))
    lm_runs = runs_dir() / "lm"
    for f in sorted(lm_runs.glob("tournament*/leaderboard.json")) if lm_runs.is_dir() else []:
        out.append((f"{f.parent.name} (runs)", str(f.parent)))
    return out


def _worst(robustness: dict[str, float]) -> str:
    if not robustness:
        return ""
    k = max(robustness, key=lambda x: robustness[x] or 0)
    return f"{k} {robustness[k]:.2f}x"


def analyze(folder: str | Path) -> TournamentView:
    from ...viz.tournament import leaderboard_figure

    folder = Path(folder)
    board = read_leaderboard(folder)
    rows = [[r.corpus, r.rank, r.contestant, round(r.bits_per_byte, 4), round(r.spread, 4),
             round(1 / r.tokens_per_byte, 2), f"{r.train_flops:.3g}", round(r.train_steps), round(r.train_bytes_per_s),
             round(r.infer_bytes_per_s), "" if r.kept_share is None else f"{r.kept_share:.0%}",
             "" if r.spelling is None else f"{r.spelling:.0%}", _worst(r.robustness)] for r in board.rows]
    pooled = sorted({(f"{r.corpus} {r.contestant} seed {r.seed}", str(folder / "models" / f"{r.corpus}-{r.contestant}-s{r.seed}"))
                     for r in board.runs if r.input in ("delete", "words")
                     and (folder / "models" / f"{r.corpus}-{r.contestant}-s{r.seed}" / "config.json").is_file()})
    cfg = board.config
    summary = (f"Preset **{cfg.get('preset')}**, {cfg.get('seeds')} seed(s) per contestant, written {board.date} on "
               f"{board.machine}; the whole tournament took {board.seconds / 60:.0f} min. Every contestant trained "
               "at the same FLOPs budget with the same non-embedding parameters; lower bits per byte is better.")
    return TournamentView(board, rows, leaderboard_figure(board), pooled, folder, summary)


__all__ = ["SHIPPED", "TABLE_COLUMNS", "TournamentView", "analyze", "tournament_choices"]
