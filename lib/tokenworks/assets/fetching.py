"""Fetching: download each package once, extract and verify its members, install atomically."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .archive import _extract
from .catalog import CATALOG, SOURCES, Asset, AssetFile
from .download import DOWNLOADERS, FetchError
from .report import human_size
from .store import _dest, _full_state, _get, all_present, assets_dir


@dataclass
class FetchResult:
    name: str
    ok: bool
    message: str
    action: str = ""  # "fetched" | "present" | "failed"
    seconds: float = 0.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale_partials() -> None:
    """Remove staging and download folders left by fetches that were killed."""
    base = assets_dir()
    if not base.is_dir():
        return
    for p in base.glob(".partial-*"):
        m = re.match(r"^\.partial-.*-(\d+)-[A-Za-z0-9_]+$", p.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def _lock(asset: Asset) -> Iterator[None]:
    assets_dir().mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    locks = assets_dir() / ".locks"
    locks.mkdir(exist_ok=True)
    with open(locks / asset.name, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _install(staging_item: Path, dest: Path, trash: Path) -> None:
    """Move a verified file or folder into place with os.replace (atomic on one filesystem)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if staging_item.is_dir():
        if dest.exists() or dest.is_symlink():
            os.replace(dest, trash)  # a kill between the two replaces leaves it *missing*
        os.replace(staging_item, dest)
    else:
        if dest.is_dir() and not dest.is_symlink():
            os.replace(dest, trash)
        os.chmod(staging_item, 0o644)
        os.replace(staging_item, dest)


def _fetch_one(asset: Asset, archive: Path, force: bool, log: Callable[[str], None]
               ) -> FetchResult:
    with _lock(asset):
        if force:
            wanted = list(asset.files)
        else:
            wanted = [f for f in asset.files if _full_state(asset, f)[0] != "present"]
        if not wanted:
            return FetchResult(asset.name, True, "already present (verified)", "present")
        assets_dir().mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".partial-{asset.name}-{os.getpid()}-",
                                        dir=assets_dir()))
        try:
            found = _extract(asset, archive, wanted, staging)
            problems: list[str] = []
            installed = 0
            for f in wanted:
                if f.member not in found:
                    problems.append(f"{f.member} is not in {archive.name}")
                    continue
                sha, size = found[f.member]
                if sha != f.sha256 or size != f.size:
                    problems.append(
                        f"checksum mismatch for {f.member}: got sha256 {sha[:12]}... "
                        f"({size} bytes), expected {f.sha256[:12]}... ({f.size} bytes)")
                    continue
                trash = staging / f".old-{installed}"
                _install(staging / f.member.rstrip("/"), _dest(asset, f), trash)
                installed += 1
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if problems:
        return FetchResult(
            asset.name, False,
            f"{asset.spec}: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
            + "; nothing unverified was installed (the package may have changed upstream, "
              "or the download is damaged)", "failed")
    return FetchResult(asset.name, True,
                       f"fetched {installed} member(s), {human_size(sum(f.size for f in wanted))}",
                       "fetched")


def _select(names: Iterable[str] | None, minimal: bool, all: bool) -> list[Asset]:
    names = list(names or [])
    chosen = [_get(n) for n in names]  # raises UnknownAsset before anything is fetched
    if all:
        chosen += list(CATALOG.values())
    elif minimal or not names:
        chosen += [a for a in CATALOG.values() if a.minimal]
    seen, out = set(), []
    for a in chosen:
        if a.name not in seen:
            seen.add(a.name)
            out.append(a)
    return out


def fetch(names: Iterable[str] | None = None, *, minimal: bool = False, all: bool = False,
          force: bool = False, log: Callable[[str], None] = print) -> list[FetchResult]:
    """Fetch assets into the cache; without names or flags, the minimal set.

    Each package is downloaded once per call (several assets may share one) into a temporary
    folder that is removed afterwards. Present, verified files are not fetched again unless
    ``force``. One asset failing does not stop the others: read each ``FetchResult``.
    """
    selected = _select(names, minimal, all)
    results: dict[str, FetchResult] = {}
    todo: list[Asset] = []
    for a in selected:
        if not force and all_present(a):
            results[a.name] = FetchResult(a.name, True, "already present (verified)", "present")
            log(f"{a.name}: already present (verified)")
        else:
            todo.append(a)
    if todo:
        assets_dir().mkdir(parents=True, exist_ok=True)
        _clean_stale_partials()
    groups: dict[tuple[str, str, str], list[Asset]] = {}
    for a in todo:
        groups.setdefault((a.source, a.package, a.version), []).append(a)
    for (source, _, _), group in groups.items():
        spec = group[0].spec
        t0 = time.monotonic()
        log(f"{', '.join(a.name for a in group)}: downloading {spec} ...")
        # downloads go to a folder in the cache named for this process, so that one left by
        # a killed fetch is recognised and removed by the next fetch
        tmp = Path(tempfile.mkdtemp(prefix=f".partial-download-{os.getpid()}-",
                                    dir=assets_dir()))
        try:
            try:
                downloader = DOWNLOADERS[source]
            except KeyError:
                raise FetchError(f"unknown source '{source}'; valid: {', '.join(SOURCES)}") \
                    from None
            archive = downloader(group[0], tmp)
            for a in group:
                try:
                    res = _fetch_one(a, archive, force, log)
                except FetchError as e:
                    res = FetchResult(a.name, False, f"{a.spec}: {e}", "failed")
                except OSError as e:
                    res = FetchResult(a.name, False, f"{a.spec}: could not write the cache "
                                      f"({assets_dir()}): {e}", "failed")
                res.seconds = time.monotonic() - t0
                results[a.name] = res
                log(f"{a.name}: {'ok' if res.ok else 'FAILED'}: {res.message}")
        except FetchError as e:
            for a in group:
                results[a.name] = FetchResult(a.name, False, str(e), "failed",
                                              time.monotonic() - t0)
                log(f"{a.name}: FAILED: {e}")
        except Exception as e:  # a bug or an unexpected environment: report, keep going
            for a in group:
                results[a.name] = FetchResult(a.name, False,
                                              f"{spec}: {type(e).__name__}: {e}", "failed",
                                              time.monotonic() - t0)
                log(f"{a.name}: FAILED: {type(e).__name__}: {e}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return [results[a.name] for a in selected]


def measure(name: str | Asset, log: Callable[[str], None] = print) -> Asset:
    """Download an asset's package and return the asset with measured checksums and sizes.

    For maintainers: the catalog's numbers come from this. Nothing is written to the cache.
    """
    asset = _get(name) if isinstance(name, str) else name
    tmp = Path(tempfile.mkdtemp(prefix="tokenworks-measure-"))
    try:
        dl = tmp / "download"
        dl.mkdir()
        log(f"{asset.name}: downloading {asset.spec} ...")
        archive = DOWNLOADERS[asset.source](asset, dl)
        staging = tmp / "x"
        staging.mkdir()
        found = _extract(asset, archive, list(asset.files), staging)
        missing = [f.member for f in asset.files if f.member not in found]
        if missing:
            raise FetchError(f"not in {archive.name}: {', '.join(missing)}")
        files = tuple(AssetFile(f.member, *found[f.member]) for f in asset.files)
        return replace(asset, files=files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
