"""Offline assets: each vocabulary, model and data set the project uses, declared once.

Every asset comes from a package in a registry this project can reach (PyPI, npm, Debian), at a
pinned version. ``fetch`` downloads the package into a temporary folder, extracts only the
declared members, checks each one's sha256 and size, and moves it into
``cache_dir()/assets/<asset name>/<member>``. Nothing from a downloaded package is installed,
built, imported or run.

    tokenworks assets list                  # name, status, size, source, licence, minimal?
    tokenworks assets fetch                 # the minimal set (what `make app` / `make test` need)
    tokenworks assets fetch --all           # everything
    tokenworks assets fetch udhr --force    # one asset, fetched again
    tokenworks assets verify                # rehash what is in the cache
    tokenworks assets path udhr package/index.js

From code::

    from tokenworks.assets import asset_path
    path = asset_path("bpe-openai", "bpe_openai/data/cl100k_base.tiktoken.gz")

``asset_path`` is cheap (existence and size, never a rehash) and raises ``AssetMissing`` with
the command that fixes it when the file is not there.

Members
-------
A member is a path inside the package archive, exactly as the archive spells it (without a
leading ``./``): ``bpe_openai/data/...`` in a wheel, ``openai_whisper-20250625/whisper/...``
in a source distribution, ``package/...`` in an npm tarball, ``usr/share/...`` in a ``.deb``.

A member ending in ``/`` is a *directory member*: every regular file under that folder in the
archive (symbolic links are skipped). Its ``sha256`` is the digest of a manifest, one line per
file in sorted order of the path relative to the folder::

    <sha256 of the file>  <size in bytes>  <relative/posix/path>\\n

and its ``size`` is the total of the file sizes (``tree_digest`` computes both). This keeps
a catalog entry for the 532 UDHR translations to one line while any changed, missing or extra
file still fails verification.

Maintainers bumping a version run ``tokenworks assets measure NAME``: it downloads the package
and prints the ``AssetFile`` lines with the measured checksums to paste into ``CATALOG``.

Modules: ``catalog`` (the declarations), ``store`` (cache layout, digests, status, verify,
``asset_path``), ``download`` (the downloaders and pip configuration), ``archive`` (reading
archives, extracting members), ``fetching`` (``fetch``, ``measure``, atomic install),
``report`` (tables and the markdown catalog) and ``cli`` (``main``).
"""
from __future__ import annotations

# The public API (``__all__``), plus what tests use: the downloaders, which tests replace in
# DOWNLOADERS or call directly, and all_present.
from .catalog import CATALOG, MINIMAL_BUDGET, SOURCES, Asset, AssetFile
from .download import (  # noqa: F401
    DOWNLOADERS, FetchError, _download_deb, _download_npm, _download_sdist, _download_wheel,
)
from .fetching import FetchResult, fetch, measure
from .report import catalog_markdown, human_size
from .store import (  # noqa: F401
    AssetStatus, UnknownAsset, all_present, asset_path, assets_dir, file_digest, status,
    status_all, tree_digest, verify,
)
from .cli import main

__all__ = [
    "Asset", "AssetFile", "AssetStatus", "FetchResult", "CATALOG", "SOURCES", "MINIMAL_BUDGET",
    "UnknownAsset", "FetchError", "asset_path", "status", "status_all", "fetch", "verify",
    "measure", "tree_digest", "file_digest", "assets_dir", "catalog_markdown", "human_size", "main",
]
