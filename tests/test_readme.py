"""The READMEs' Python examples run, as they are written (minbpe's habit: the README example is a test).

Each ```python block of README.md and lib/tokenworks/README.md runs in a fresh namespace, the
blocks of one file in order (a later block may use what an earlier one made), in a scratch folder
that sees the checkout's data/ (so ``"data/samples/..."`` paths work and ``runs/`` is the scratch
folder's). A line ``expression  # <a Python literal>`` is also checked: the expression must equal
the literal (a list ending in ``...`` must start so). The gradio_client example talks to the app this test session serves.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = [ROOT / "README.md", ROOT / "lib" / "tokenworks" / "README.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
APP_URL = "http://127.0.0.1:7860/"


def blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def claims(code: str) -> list[tuple[str, object]]:
    """(expression, value) for each line ``expr  # literal`` whose comment is a whole Python literal."""
    out = []
    for line in code.splitlines():
        if "#" not in line or line.lstrip().startswith("#"):
            continue
        expr, _, comment = line.partition("  #")
        try:
            ast.parse(expr.strip(), mode="eval")
            value = ast.literal_eval(comment.strip())
        except (SyntaxError, ValueError):
            continue
        out.append((expr.strip(), value))
    return out


def test_the_readmes_have_python_examples():
    counts = {str(p.relative_to(ROOT)): len(blocks(p)) for p in READMES}
    assert all(n >= 1 for n in counts.values()), counts
    assert sum(len(claims(b)) for p in READMES for b in blocks(p)) >= 2  # some lines say what they give


def test_a_claim_is_read_from_a_line():
    assert claims("tok.decode(seq)        # 'héllo'\nx  # a comment\n# 3") == [("tok.decode(seq)", "héllo")]


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A folder whose data/ is the checkout's and whose runs/ is its own; the working directory."""
    (tmp_path / "data").symlink_to(ROOT / "data")
    (tmp_path / "runs").mkdir()
    monkeypatch.setenv("TOKENWORKS_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(path: Path, url: str | None = None) -> int:
    namespace: dict = {"__name__": f"readme_{path.stem}"}
    checked = 0
    for code in blocks(path):
        if APP_URL in code:
            if url is None:
                continue
            code = code.replace(APP_URL, url)
        elif url is not None:
            continue
        exec(compile(code, f"{path.name} example", "exec"), namespace)  # noqa: S102 - our own README
        for expr, value in claims(code):
            got = eval(expr, namespace)  # noqa: S307 - our own README
            if isinstance(value, list) and value and value[-1] is Ellipsis:  # [a, b, ...]: it starts so
                got, value = list(got)[: len(value) - 1], value[:-1]
            assert got == value, f"{path.name}: {expr} gives {got!r}, the README says {value!r}"
            checked += 1
    return checked


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_examples_run_and_give_what_they_say(readme, scratch):
    _run(readme)


@pytest.mark.app
def test_the_gradio_client_example_runs_against_the_app(app_url, scratch):
    assert any(APP_URL in b for b in blocks(ROOT / "README.md"))
    _run(ROOT / "README.md", url=app_url)
