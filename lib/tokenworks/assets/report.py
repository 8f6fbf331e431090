"""Presentation: human sizes, plain-text tables and the catalog as markdown."""
from __future__ import annotations

import os

from .catalog import CATALOG, Asset


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def _where(asset: Asset) -> str:
    members = [f.member for f in asset.files]
    if len(members) <= 3:
        return ", ".join(f"`{m}`" for m in members)
    prefix = os.path.commonprefix(members)
    prefix = prefix[: prefix.rfind("/") + 1]
    return f"{len(members)} files under `{prefix}`"


def catalog_markdown() -> str:
    """The catalog as a markdown table (data/ASSETS_TABLE.md is this output)."""
    head = ["name", "source", "files", "size", "licence", "minimal", "used by", "what"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for a in CATALOG.values():
        cells = [f"`{a.name}`", f"`{a.spec}`", _where(a), human_size(a.size), a.licence,
                 "yes" if a.minimal else "", ", ".join(a.used_by), a.description]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    mini = sum(a.size for a in CATALOG.values() if a.minimal)
    total = sum(a.size for a in CATALOG.values())
    lines += ["", f"Minimal set ({sum(a.minimal for a in CATALOG.values())} assets, fetched "
              f"by `make app` / `make test`): {human_size(mini)}. Everything: {human_size(total)}.",
              "Sizes are of the extracted files; checksums are in `lib/tokenworks/assets/catalog.py`."]
    return "\n".join(lines) + "\n"
