"""Archives: read a wheel/zip, a tarball, a .deb or a folder, and extract declared members."""
from __future__ import annotations

import contextlib
import hashlib
import subprocess
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterator

from .catalog import Asset, AssetFile
from .download import FetchError, _last_line
from .store import _CHUNK, _tree_files, tree_digest


def _clean_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


@contextlib.contextmanager
def _deb_tar(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise FetchError("dpkg-deb not found: Debian assets need a Debian or Ubuntu system") \
            from None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tf:
            yield tf
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        if proc.wait() not in (0, -13) and err.strip():  # -13: SIGPIPE if we stopped early
            raise FetchError(f"dpkg-deb could not read {path.name}: {_last_line(err)}")


def _iter_archive(path: Path) -> Iterator[tuple[str, Callable[[], BinaryIO]]]:
    """Yield (member name, open()) for every regular file; open() is valid during the step."""
    if path.is_dir():
        for rel, p in _tree_files(path):
            yield rel, (lambda p=p: open(p, "rb"))
        return
    name = path.name.lower()
    if name.endswith((".whl", ".zip")):
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise FetchError(f"{path.name} is not a valid zip archive: {e}") from None
        with zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                yield _clean_name(info.filename), (lambda i=info: zf.open(i))
        return
    if name.endswith(".deb"):
        cm = _deb_tar(path)
    else:
        try:
            cm = tarfile.open(path, mode="r|*")
        except tarfile.TarError as e:
            raise FetchError(f"{path.name} is not a readable tar archive: {e}") from None
    try:
        with cm as tf:
            for m in tf:
                if m.isfile():
                    yield _clean_name(m.name), (lambda m=m, tf=tf: tf.extractfile(m))
    except (tarfile.TarError, EOFError, OSError) as e:
        raise FetchError(f"{path.name} is damaged or truncated: {e}") from None


def _extract(asset: Asset, archive: Path, wanted: list[AssetFile], staging: Path
             ) -> dict[str, tuple[str, int]]:
    """Copy the wanted members from the archive into staging/<member>.

    Returns {member: (sha256, size)} measured while writing (for a directory member, the
    tree digest of what was extracted). Members absent from the archive are absent here.
    """
    files = {f.member: f for f in wanted if not f.is_dir}
    dirs = [f for f in wanted if f.is_dir]
    found: dict[str, tuple[str, int]] = {}
    dir_seen: set[str] = set()
    for name, opener in _iter_archive(archive):
        target: Path | None = None
        if name in files:
            target = staging / name
        else:
            for d in dirs:
                if name.startswith(d.member):
                    rel = PurePosixPath(name[len(d.member):])
                    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                        raise FetchError(f"unsafe path '{name}' in {archive.name}")
                    target = staging / d.member / rel
                    dir_seen.add(d.member)
                    break
        if target is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        h, size = hashlib.sha256(), 0
        try:
            with opener() as src, open(target, "wb") as out:
                for chunk in iter(lambda: src.read(_CHUNK), b""):
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as e:
            raise FetchError(f"{archive.name} is damaged or truncated ({name}: {e})") from None
        if name in files:
            found[name] = (h.hexdigest(), size)
    for d in dirs:
        if d.member in dir_seen:
            found[d.member] = tree_digest(staging / d.member)
    return found

