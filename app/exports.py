"""What the Export row every tab ends with writes (no Gradio here; ``widgets.export_row`` lays the
row out): what the tab shows right now as files (figures as PNG and SVG, tables as CSV, tokens as
JSON, images as PNG, sounds as WAV) plus a zip of them all.

    export_row("image", figures={"strip": strip_plot}, tables={"rd points": rd_table},
               images={"input": shown_in}, extra=Extra([state], image_tokens))     # in a tab's build()

What a component hands a handler as an *input* in Gradio 6.31 (and what is made of it here):
* gr.Plot: ``PlotData(type="plotly", plot=<the figure's JSON string>)`` or None; ``plotly.io.from_json``
  turns it back into the figure. A figure with no traces counts as nothing shown.
* gr.Dataframe: a pandas DataFrame (columns = headers); no rows, or rows of empty cells only, count
  as nothing shown.
* gr.JSON: the dict or list itself, or None.
* gr.Image (type="numpy"): an (H, W, 3) uint8 array, or None.

Each export goes into a fresh folder under the app's upload folder (``exports/`` in $GRADIO_TEMP_DIR,
which is Gradio's cache when the app runs), so one person's export is never another's. Gradio serves
the files from there and the app's ``delete_cache`` removes them after six hours; a later export
removes the folders once older than ``KEEP_S``.
Exports share one queue (``concurrency_id="export"``, one at a time), so a class exporting at once
waits in line instead of crowding the CPU.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.viz.export import ExportBundle, export_bundle

KEEP_S = 6 * 3600  # export folders older than this (s) are removed by the next export (widgets.DELETE_CACHE's age)
BUTTON = "Export figures and tables"
FILES_LABEL = "Files: PNG and SVG per figure, CSV per table, JSON, PNG per image, and a zip of them all"


class NothingToExport(TokenworksError, ValueError):
    """The tab shows nothing that could be exported yet."""


@dataclass
class Items:
    """What one export writes, label -> value (labels become file names, slugged)."""

    figures: dict[str, Any] = field(default_factory=dict)  # plotly figures
    tables: dict[str, Any] = field(default_factory=dict)  # DataFrames, lists of dicts or rows
    jsons: dict[str, Any] = field(default_factory=dict)  # JSON-ready objects
    images: dict[str, Any] = field(default_factory=dict)  # (H, W, 3) arrays
    sounds: dict[str, Any] = field(default_factory=dict)  # tokenworks.viz.export.Sound clips (WAV)
    notes: list[str] = field(default_factory=list)  # what was skipped, for people

    def count(self) -> int:
        return len(self.figures) + len(self.tables) + len(self.jsons) + len(self.images) + len(self.sounds)

    def add(self, other: "Items") -> None:
        for mine, theirs in ((self.figures, other.figures), (self.tables, other.tables), (self.jsons, other.jsons),
                             (self.images, other.images), (self.sounds, other.sounds)):
            mine.update(theirs)
        self.notes += other.notes


@dataclass
class Extra:
    """More to export, computed from other components' values (e.g. the tokens of the text shown)."""

    inputs: list  # components whose values ``fn`` reads, in order
    fn: Callable[..., Items]  # fn(*values) -> Items; a TokenworksError becomes a note


# ---- values as handlers receive them -> figures, frames, objects -----------------------------

def figure_of(value: Any) -> Any:
    """A gr.Plot input value (PlotData, its dict form, a go.Figure or None) as a plotly figure, or
    None when nothing is shown."""
    import json

    import plotly.graph_objects as go

    if value is None:
        return None
    if isinstance(value, go.Figure):
        return value if len(value.data) else None
    kind = getattr(value, "type", None) if not isinstance(value, dict) else value.get("type")
    plot = getattr(value, "plot", None) if not isinstance(value, dict) else value.get("plot")
    if kind != "plotly" or not isinstance(plot, str):
        raise InvalidInput(f"only plotly figures can be exported; this plot is {kind or type(value).__name__}")
    try:
        spec = json.loads(plot)  # what plotly.io.from_json reads; checked first: "{}" would become a scatter
        if not isinstance(spec, dict) or not isinstance(spec.get("data", []), list):
            raise ValueError("not a figure: no list of traces")
        if not spec.get("data"):
            return None
        return go.Figure(spec, skip_invalid=True)
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"this plot is not a readable plotly figure ({e})") from None


def _empty_cell(c: Any) -> bool:
    return c is None or (isinstance(c, str) and not c.strip()) or (isinstance(c, float) and c != c)


def frame_of(value: Any) -> Any:
    """A gr.Dataframe input value (a pandas DataFrame, or a Gradio-style dict) as a DataFrame, or
    None when it has no row with content."""
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, dict) and "data" in value:  # {"headers": [...], "data": [[...], ...]}
        headers, rows = value.get("headers") or None, value.get("data") or []
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise InvalidInput("a table's data must be a list of rows")
        width = len(headers) if headers else max((len(r) for r in rows), default=0)
        value = pd.DataFrame([(r + [None] * width)[:width] for r in rows], columns=headers)
    if not isinstance(value, pd.DataFrame):
        raise InvalidInput(f"a table to export must be a DataFrame, not {type(value).__name__}")
    keep = [not all(_empty_cell(c) for c in row) for row in value.itertuples(index=False)]
    frame = value[keep]
    return frame if len(frame) else None


def json_of(value: Any) -> Any:
    """A gr.JSON input value, or None when it is empty."""
    if hasattr(value, "model_dump"):  # JsonData, as a handler called outside a request may get it
        value = value.model_dump()
    if value is None or (isinstance(value, (dict, list, str)) and not value):
        return None
    return value


def image_of(value: Any) -> Any:
    """A gr.Image (type="numpy") input value as an array, or None."""
    import numpy as np

    if value is None:
        return None
    if hasattr(value, "mode") and hasattr(value, "size"):  # a PIL image
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise InvalidInput(f"an image to export must be an array, not {type(value).__name__}")
    return value if value.size else None


# ---- one export ------------------------------------------------------------------------------

def prune(root: Path, keep_s: float = KEEP_S) -> None:
    """Remove export folders under ``root`` older than ``keep_s`` seconds."""
    if not root.is_dir():
        return
    now = time.time()
    for d in root.iterdir():
        try:
            if d.is_dir() and not d.is_symlink() and now - d.stat().st_mtime > keep_s:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def collect(figures: dict[str, Any] | None = None, tables: dict[str, Any] | None = None,
            jsons: dict[str, Any] | None = None, images: dict[str, Any] | None = None) -> Items:
    """Handler input values -> Items; what is empty or unreadable is left out with a note."""
    items = Items()
    for values, convert, into in ((figures, figure_of, items.figures), (tables, frame_of, items.tables),
                                  (jsons, json_of, items.jsons), (images, image_of, items.images)):
        for label, value in (values or {}).items():
            try:
                v = convert(value)
            except InvalidInput as e:
                items.notes.append(f"{label}: skipped, {e}")
                continue
            if v is None:
                items.notes.append(f"{label}: nothing shown yet, skipped")
            else:
                into[label] = v
    return items


def export_view(key: str, items: Items, root: Path) -> ExportBundle:
    """Write ``items`` (see ``collect``) for tab ``key`` into a fresh folder under ``root``; raises
    NothingToExport when it is empty."""
    if not items.count():
        raise NothingToExport(f"nothing to export yet: the {key} tab shows no figure, table or tokens. "
                              "Run the tab first (press its main button), then export.")
    root = Path(root)
    prune(root)

    def named(d: dict[str, Any]) -> dict[str, Any]:
        return {f"{key} {label}": v for label, v in d.items()}

    return export_bundle(root, name=key, figures=named(items.figures), tables=named(items.tables),
                         jsons=named(items.jsons), images=named(items.images), sounds=named(items.sounds),
                         notes=items.notes)


def notes_markdown(bundle: ExportBundle) -> str:
    n = len(bundle.files)
    head = f"{n} file{'s' if n != 1 else ''} and a zip of them all."
    return "\n".join([head] + [f"- {note}" for note in bundle.notes])


def make_handler(key: str, figures: list[str], tables: list[str], jsons: list[str], images: list[str],
                 extra: Extra | None = None, root: Path | Callable[[], Path] = Path("exports")
                 ) -> Callable[..., tuple[list[str], str]]:
    """The click handler: (*values in the order figures, tables, jsons, images, extra inputs) ->
    (file paths, notes as Markdown); files go under ``root`` (a folder, or a function giving it at
    click time, as ``widgets.export_row`` does with the app's upload folder)."""
    sizes = [len(figures), len(tables), len(jsons), len(images)]

    def export(*values: Any) -> tuple[list[str], str]:
        parts, at = [], 0
        for n in sizes:
            parts.append(values[at:at + n])
            at += n
        items = collect(*(dict(zip(labels, vals)) for labels, vals in zip((figures, tables, jsons, images), parts)))
        if extra is not None:
            try:
                items.add(extra.fn(*values[at:]))
            except TokenworksError as e:
                items.notes.append(str(e))
        bundle = export_view(key, items, root() if callable(root) else root)
        return [str(p) for p in bundle.files + [bundle.zip_path]], notes_markdown(bundle)

    export.__name__ = f"export_{key}"
    return export
