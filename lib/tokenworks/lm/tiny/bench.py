"""Tournament bench rows (``tokenworks bench --only tournament``).

From the last cpu tournament (``runs/lm/tournament-cpu`` when one was run here, else the one this
repository ships in ``data/tournament/cpu``): every contestant's held-out bits per byte and its
training and inference throughput, each against the byte model of the same tournament run; the
delete gate's deletion rate and cost, with the MrT5 target (at least 50% deleted, at most 5% worse
than bytes). Measured live in this run: the delete model's inference speed with real deletion
against the same model with every position kept (its soft path), on the same held-out text.
"""
from __future__ import annotations

import time
from pathlib import Path

from ...bench.harness import BenchContext, Row
from ...bench.targets import Target, target_row
from ...paths import data_dir, runs_dir

DELETE_MIN = 0.5  # MrT5 target: at least this share of positions deleted ...
DELETE_COST = 1.05  # ... at most this times the byte model's bits per byte


def last_cpu_tournament() -> Path | None:
    for folder in (runs_dir() / "lm" / "tournament-cpu", data_dir() / "tournament" / "cpu"):
        if (folder / "leaderboard.json").is_file():
            return folder
    return None


def bench_tournament(ctx: BenchContext) -> None:
    from .leaderboard import read_leaderboard

    folder = last_cpu_tournament()
    if folder is None:
        print("[bench tournament] no cpu tournament here: run `tokenworks lm tournament --preset cpu`", flush=True)
        return
    board = read_leaderboard(folder)
    where = f"cpu tournament of {board.date} ({folder.name}, {board.machine})"
    for corpus in sorted({r.corpus for r in board.rows}):
        rows = board.corpus(corpus)
        base = next((r for r in rows if r.contestant == "bytes"), None)
        if base is None:
            continue
        for r in rows:
            ctx.rows.append(Row("tournament", f"{corpus}: {r.contestant}, held-out bits/byte (rank {r.rank})",
                                r.bits_per_byte, "bits/byte", "bytes, same tournament", base.bits_per_byte,
                                base.bits_per_byte / r.bits_per_byte,
                                f"± {r.spread:.4f} over {r.seeds} seeds; {1 / r.tokens_per_byte:.2f} bytes/token; "
                                f"{r.train_flops:.3g} training FLOPs; {where}"))
            ctx.rows.append(Row("tournament", f"{corpus}: {r.contestant}, training throughput", r.train_bytes_per_s,
                                "bytes/s", "bytes, same tournament", base.train_bytes_per_s,
                                r.train_bytes_per_s / base.train_bytes_per_s, f"{r.train_steps:.0f} steps"))
            ctx.rows.append(Row("tournament", f"{corpus}: {r.contestant}, inference throughput", r.infer_bytes_per_s,
                                "bytes/s", "bytes, same tournament", base.infer_bytes_per_s,
                                r.infer_bytes_per_s / base.infer_bytes_per_s,
                                f"{r.forward_flops_per_byte:.3g} forward FLOPs per byte"))
        d = next((r for r in rows if r.contestant == "delete"), None)
        if d is not None and d.kept_share is not None:
            deleted, cost = 1 - d.kept_share, d.bits_per_byte / base.bits_per_byte
            t = Target("tournament", f"MrT5 {corpus}", f"delete gate: at least {DELETE_MIN:.0%} of positions deleted "
                       f"with bits per byte at most {DELETE_COST:.2f}x the byte model's", "",
                       deleted >= DELETE_MIN and cost <= DELETE_COST, cost, "limit", DELETE_COST, "x",
                       f"{deleted:.1%} of positions deleted at inference, {d.bits_per_byte:.4f} vs "
                       f"{base.bits_per_byte:.4f} bits/byte ({cost:.3f}x); {where}")
            ctx.targets.append(t)
            ctx.rows.append(target_row(t))
    _bench_deletion_speed(ctx, folder, board)


def _bench_deletion_speed(ctx: BenchContext, folder: Path, board) -> None:
    """Inference bytes/s of the shipped delete model: real deletion against every position kept."""
    from .data import encode_split, load_text
    from .evaluate import evaluate
    from .load import load_tiny

    run = next((r for r in board.runs if r.contestant == "delete"), None)
    if run is None or not (folder / "models" / f"{run.corpus}-delete-s{run.seed}").is_dir():
        return
    m = load_tiny(folder / "models" / f"{run.corpus}-delete-s{run.seed}")
    test = encode_split(m.tokenizer, load_text(run.corpus, "test", 20_000 if ctx.quick else 100_000))
    best = {}
    for hard in (True, False):
        times = []
        for _ in range(1 if ctx.quick else 3):
            t0 = time.perf_counter()
            s = evaluate(m.model, test.ids, test.sep_id, test.n_bytes, hard=hard)
            times.append(time.perf_counter() - t0)
        best[hard] = (min(times), s)
    (th, sh), (ts, ss) = best[True], best[False]
    ctx.rows.append(Row("tournament", f"delete model ({run.corpus}, seed {run.seed}): inference with real deletion",
                        test.n_bytes / th, "bytes/s", "the same model, every position through the middle blocks",
                        test.n_bytes / ts, ts / th,
                        f"{1 - sh.kept_share:.1%} deleted; {sh.forward_flops_per_byte:.3g} vs "
                        f"{ss.forward_flops_per_byte:.3g} FLOPs/byte; bits/byte {sh.bits_per_byte:.4f} vs "
                        f"{ss.bits_per_byte:.4f}"))


__all__ = ["bench_tournament", "last_cpu_tournament"]
