"""A small tournament end to end: tokenizers trained on the train split, models at equal FLOPs,
the leaderboard written as CSV, JSON (and PNG where Chromium is), probes and the deletion view."""
import csv
import json

import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm.tiny.deletion import deletion_view
from tokenworks.lm.tiny.leaderboard import read_leaderboard
from tokenworks.lm.tiny.load import load_tiny
from tokenworks.lm.tiny.tournament import TournamentConfig, run_tournament
from tokenworks.viz.tournament import deletion_html, leaderboard_figure


@pytest.fixture(scope="module")
def board_dir(tiny_tournament):
    return tiny_tournament


def test_leaderboard_files_and_equal_compute(board_dir):
    board = read_leaderboard(board_dir)
    assert [r.contestant for r in board.rows] == sorted([r.contestant for r in board.rows],
                                                        key=lambda n: next(x.bits_per_byte for x in board.rows
                                                                           if x.contestant == n))
    assert {r.contestant for r in board.rows} == {"bytes", "bpe-1k", "delete"}
    assert all(r.seeds == 2 and r.spread >= 0 for r in board.rows)
    flops = [r.train_flops for r in board.runs]
    assert max(flops) / min(flops) < 1.05  # the same budget, counted
    assert len({r.non_embedding_params for r in board.runs}) == 2  # equal but for the gate's C + 1
    assert max(r.non_embedding_params for r in board.runs) - min(r.non_embedding_params for r in board.runs) == 65
    assert len({r.bits_per_byte for r in board.runs}) == 6
    seeds = [r.bits_per_byte for r in board.runs if r.contestant == "delete"]
    assert seeds[0] != seeds[1]  # two seeds really differ
    with open(board_dir / "leaderboard.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["rank"] == "1" and float(rows[0]["bits_per_byte"]) == pytest.approx(board.rows[0].bits_per_byte)
    assert "robust_typos" in rows[0]
    info = json.loads((board_dir / "leaderboard.json").read_text())
    assert info["machine"] and info["date"] and info["config"]["preset"] == "cpu-tiny"
    bpe = next(r for r in board.runs if r.contestant == "bpe-1k")
    assert 0.5 <= bpe.spelling <= 1.0 and set(bpe.robustness) >= {"typos", "lookalikes", "double_spaces"}
    assert len(bpe.curve) > 3 and bpe.curve[-1][0] == pytest.approx(bpe.train_flops, rel=0.05)
    assert len(leaderboard_figure(board).data) >= 6


def test_a_finished_tournament_is_not_trained_again(board_dir, tmp_path):
    import shutil

    board_dir = shutil.copytree(board_dir, tmp_path / "copy")  # the session's tournament stays as it is
    stamp = (board_dir / "models" / "english-delete-s0" / "model.safetensors").stat().st_mtime_ns
    said = []
    run_tournament(TournamentConfig(preset="cpu-tiny", corpora=("english",), contestants=("delete",), seeds=1,
                                    probe_bytes=3000, spelling_pairs=20, out=str(board_dir)), say=said.append)
    assert (board_dir / "models" / "english-delete-s0" / "model.safetensors").stat().st_mtime_ns == stamp
    assert not any("bits per byte in" in s for s in said)


def test_deletion_view(board_dir):
    m = load_tiny(board_dir / "models" / "english-delete-s0")
    v = deletion_view(m, "It is a truth universally acknowledged.")
    assert len(v.chars) == len(v.kept) and v.n_bytes == 39 and v.kept[0] in (True, False)
    assert v.kept_bytes == int(v.byte_kept.sum())
    assert "bytes kept" in deletion_html(v)
    with pytest.raises(InvalidInput, match="keeps every position"):
        deletion_view(load_tiny(board_dir / "models" / "english-bpe-1k-s0"), "text")


def test_bad_tournament_configs(tmp_path):
    with pytest.raises(InvalidInput, match="unknown contestant chars"):
        run_tournament(TournamentConfig(contestants=("chars",), out=str(tmp_path)))
    with pytest.raises(InvalidInput, match="corpora must be some of english, multilingual"):
        run_tournament(TournamentConfig(corpora=("klingon",), out=str(tmp_path)))
    with pytest.raises(InvalidInput, match="no leaderboard.json"):
        read_leaderboard(tmp_path)


def test_bench_rows_read_the_last_cpu_tournament(board_dir, runs_dir, monkeypatch):
    import shutil

    from tokenworks.bench.harness import BenchContext
    from tokenworks.lm.tiny import bench

    shutil.copytree(board_dir, runs_dir / "lm" / "tournament-cpu")
    ctx = BenchContext(quick=True, repeats=1)
    bench.bench_tournament(ctx)
    names = [r.name for r in ctx.rows]
    assert any("english: bpe-1k, held-out bits/byte" in n for n in names)
    (t,) = ctx.targets
    assert t.key == "MrT5 english" and t.passed in (True, False) and t.anchor_value == 1.05
    speed = next(r for r in ctx.rows if "inference with real deletion" in r.name)
    assert speed.value > 0 and "deleted" in speed.notes


def test_copy_board_keeps_the_tables_and_the_pooled_models(board_dir, tmp_path):
    from tokenworks.lm.tiny.leaderboard import copy_board
    from tokenworks.lm.tiny.view import analyze

    dest = copy_board(board_dir, tmp_path / "shipped")
    assert sorted(p.name for p in (dest / "models").iterdir()) == ["english-delete-s0"]
    v = analyze(dest)
    assert [label for label, _ in v.pooled_models] == ["english delete seed 0"] and len(v.rows) == 3
