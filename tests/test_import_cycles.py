"""No import cycles in the library (lib/tokenworks/) or the app (app/).

Every module is read with ``ast`` (nothing is imported or run) and every import in it becomes an
edge of a graph, wherever it stands: at module level, inside a function, under ``if`` or ``try``.
A lazy import inside a function is still an edge: it only postpones the cycle to the first call;
one under ``if TYPE_CHECKING:`` is too: a type named across a loop ties the two modules as much.

How an import becomes an edge:

- ``import a.b.c`` -> the module ``a.b.c``; ``from a.b import c`` -> ``a.b.c`` when ``c`` is a
  module (a file or a package), else ``a.b`` (the package's ``__init__``, which defines or
  re-exports ``c``). Relative imports are resolved against the importing module's package.
- Package ``__init__`` files: an ``__init__`` that re-exports its submodules' names has edges to
  them, and a module that imports a package by name (``import tokenworks as tw``, ``from
  tokenworks import load``) has an edge to that ``__init__``; so a re-export that loops back
  (``tokenworks/__init__`` -> ``registry`` -> ... -> ``import tokenworks``) is a cycle. The implicit
  step Python takes before every submodule, running its parent packages' ``__init__`` first, is
  not an edge: it is the same for every module and never the author's choice.
- Imports of modules outside the area (numpy, torch, the library seen from the app) are not edges.
- An import line that carries a marker comment ``# plugin: <why>`` is not an edge: a deliberate
  late-bound import (e.g. a runner that imports each modality's plugins). The reason text is
  required; a bare marker fails the test.

Each area is a parameter of its own, so a failure says which one; the message names every cycle
(its strongly connected component) and the import lines that make it.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AREAS = {  # area -> (folder on sys.path, top-level package)
    "lib": (ROOT / "lib", "tokenworks"),
    "app": (ROOT, "app"),
}
MARKER = re.compile(r"#\s*plugin:(?P<why>.*)$")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, e.g. "tokenworks.bench.run"
    target: str  # imported module of the same area
    where: str  # "lib/tokenworks/bench/run.py:12"


def modules(base: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under base/package."""
    out = {}
    for path in sorted((base / package).rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(node: ast.ImportFrom, module: str, path: Path) -> str:
    """The absolute dotted name ``from X import ...`` names."""
    if not node.level:
        return node.module or ""
    parts = _package_of(module, path).split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str, known: dict[str, Path]) -> str | None:
    """``name`` or its longest prefix that is a module of the area (None: outside it)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def imports(module: str, path: Path, known: dict[str, Path], root: Path = ROOT) -> tuple[list[Edge], list[str]]:
    """The edges out of ``module``, and the marker lines without a reason (``file:line``, relative to root)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    rel = path.relative_to(root).as_posix()
    edges: list[Edge] = []
    bare: list[str] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        # the marker may stand on any line of the statement (a parenthesised import spans several)
        text = lines[node.lineno - 1: (node.end_lineno or node.lineno)]
        marks = [m for m in (MARKER.search(t) for t in text) if m]
        if marks:
            if not all(m.group("why").strip() for m in marks):
                bare.append(f"{rel}:{node.lineno}")
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = _resolve(node, module, path)
            for a in node.names:
                sub = f"{base}.{a.name}"
                targets.append(sub if sub in known else base)
        for t in targets:
            hit = _known(t, known)
            if hit is not None and hit != module:
                edges.append(Edge(module, hit, f"{rel}:{node.lineno}"))
    return edges, bare


def graph(area: str) -> tuple[dict[str, list[Edge]], list[str]]:
    base, package = AREAS[area]
    known = modules(base, package)
    out: dict[str, list[Edge]] = {}
    bare: list[str] = []
    for name, path in known.items():
        edges, b = imports(name, path, known)
        out[name] = edges
        bare += b
    return out, bare


def cycles(g: dict[str, list[Edge]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in g:
        if root in index:
            continue
        work = [(root, iter(e.target for e in g[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(e.target for e in g.get(w, []))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return sorted(found)


def describe(g: dict[str, list[Edge]], comp: list[str]) -> str:
    inside = set(comp)
    lines = [f"cycle of {len(comp)} modules: {', '.join(comp)}"]
    for m in comp:
        for e in g[m]:
            if e.target in inside:
                lines.append(f"    {e.source} -> {e.target}  ({e.where})")
    return "\n".join(dict.fromkeys(lines))


@pytest.mark.parametrize("area", sorted(AREAS))
def test_no_import_cycles(area):
    g, _ = graph(area)
    found = cycles(g)
    assert not found, f"import cycles in {area}/:\n" + "\n".join(describe(g, c) for c in found)


@pytest.mark.parametrize("area", sorted(AREAS))
def test_plugin_markers_give_a_reason(area):
    _, bare = graph(area)
    assert not bare, "'# plugin:' markers without a reason (say why the late import is no cycle): " + ", ".join(bare)


# ---- the checker itself, on small made-up packages ----------------------------------------------


def _write(tmp: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _graph_of(tmp: Path, package: str) -> dict[str, list[Edge]]:
    known = modules(tmp, package)
    return {n: imports(n, p, known, tmp)[0] for n, p in known.items()}


def test_checker_finds_lazy_relative_and_reexport_cycles(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "from .a import f\n",
        "pkg/a.py": "def f():\n    from .sub import b  # lazy\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/b.py": "import pkg as p\n",  # back to the package's __init__
        "pkg/c.py": "from . import d\n",
        "pkg/d.py": "import os\nfrom pkg.c import thing\n",
        "pkg/e.py": "from .c import thing  # plugin: loaded late on purpose\n",
        "pkg/g.py": "from pkg import (  # plugin:\n    c)\n",
    })
    g = _graph_of(tmp_path, "pkg")
    assert {(e.source, e.target) for e in g["pkg.a"]} == {("pkg.a", "pkg.sub.b")}
    assert [e.target for e in g["pkg.sub.b"]] == ["pkg"]
    assert g["pkg.e"] == [] and g["pkg.g"] == []
    assert cycles(g) == [["pkg", "pkg.a", "pkg.sub.b"], ["pkg.c", "pkg.d"]]
    known = modules(tmp_path, "pkg")
    assert imports("pkg.g", known["pkg.g"], known, tmp_path)[1] == ["pkg/g.py:1"]
    assert imports("pkg.e", known["pkg.e"], known, tmp_path)[1] == []
    assert "pkg.c -> pkg.d  (pkg/c.py:1)" in describe(g, ["pkg.c", "pkg.d"])


# ---- tests share fixtures, not modules -----------------------------------------------------------

def imports_of_test_modules(tests: Path, root: Path = ROOT) -> list[tuple[str, str]]:
    """(file, imported name) for every import of a test module (``test_*``) or a conftest by a file
    under ``tests``: what should be a fixture in a conftest.py instead."""
    found = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                last = name.split(".")[-1]
                if last.startswith("test_") or last == "conftest":
                    found.append((str(path.relative_to(root)), name))
    return found


def test_no_test_module_imports_another():
    assert imports_of_test_modules(ROOT / "tests") == [], "share these through fixtures in a conftest.py instead"


def test_the_import_finder_sees_test_module_imports(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "test_x.py").write_text("from test_y import f\nimport tests.b.test_z\nfrom .conftest import g\n"
                                              "import numpy\nfrom tests import text_samples\n")
    assert imports_of_test_modules(tmp_path, tmp_path) == [("a/test_x.py", "test_y"), ("a/test_x.py", "tests.b.test_z"),
                                                           ("a/test_x.py", "conftest")]
