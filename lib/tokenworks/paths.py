"""Where tokenworks keeps things on disk.

- ``project_root()``: the source checkout (the folder holding ``lib/`` and ``data/``), or None
  when tokenworks is installed from a wheel.
- ``cache_dir()``: downloaded assets; ``$TOKENWORKS_CACHE``, else ``<checkout>/.cache/tokenworks``
  (git-ignored), else ``~/.cache/tokenworks``.
- ``data_dir()``: small committed samples and the default checkpoints (``<checkout>/data``).
- ``runs_dir()``: training runs; ``$TOKENWORKS_RUNS``, else ``<checkout>/runs`` (git-ignored),
  else ``~/.cache/tokenworks/runs``.
- ``checkpoint_roots()``: the only folders a checkpoint *name* may resolve into.
"""
from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def project_root() -> Path | None:
    root = _PKG.parent.parent  # lib/tokenworks -> lib -> checkout
    if (root / "lib" / "tokenworks").is_dir() and (root / "pyproject.toml").is_file():
        return root
    return None


def _home_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tokenworks"


def cache_dir() -> Path:
    env = os.environ.get("TOKENWORKS_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    root = project_root()
    return (root / ".cache" / "tokenworks") if root else _home_cache()


def data_dir() -> Path:
    env = os.environ.get("TOKENWORKS_DATA")
    if env:
        return Path(env).expanduser().resolve()
    root = project_root()
    return (root / "data") if root else (_PKG / "data")


def runs_dir() -> Path:
    env = os.environ.get("TOKENWORKS_RUNS")
    if env:
        return Path(env).expanduser().resolve()
    root = project_root()
    return (root / "runs") if root else (_home_cache() / "runs")


def checkpoint_roots() -> list[Path]:
    """Folders a checkpoint given by name may live in (resolved, existing or not)."""
    return [(data_dir() / "checkpoints").resolve(), runs_dir().resolve()]
