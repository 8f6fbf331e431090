"""Notebook smoke test: jupytext sources -> .ipynb -> executed by nbmake with TOKENWORKS_FAST=1."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook
NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.py"))


def test_there_is_a_tour():
    assert any(p.name == "00_tour.py" for p in NOTEBOOKS)


def test_bpe_notebook_checks_every_exercise():
    """01_bpe_from_scratch (once 01_bpe_step_by_step) defines and checks each exercise."""
    from tokenworks.teach.bpe_exercises import EXERCISES

    source = next(p for p in NOTEBOOKS if p.stem == "01_bpe_from_scratch").read_text(encoding="utf-8")
    for name in EXERCISES:
        assert f"def {name}(" in source and f"ex.check_{name}({name})" in source, name


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(source, tmp_path):
    ipynb = tmp_path / (source.stem + ".ipynb")
    subprocess.run([sys.executable, "-m", "jupytext", "--to", "ipynb", "-o", str(ipynb), str(source)], check=True, capture_output=True)
    env = {**os.environ, "TOKENWORKS_FAST": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake", "--nbmake-timeout=600", str(ipynb)],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
