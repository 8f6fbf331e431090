"""Export what a view shows as files: figures as PNG and SVG, tables as CSV, tokens as JSON, images as
PNG, sounds as WAV, and one zip of it all. No Gradio here: notebooks call the same functions as the app.

    from tokenworks.viz.export import figure_files, export_bundle, Sound
    figure_files({"loss curve": fig}, "out/")                  # out/loss-curve.png, out/loss-curve.svg
    b = export_bundle("exports/", name="image", figures={...}, tables={...}, jsons={...}, images={...},
                      sounds={"decoded k=3": Sound(wave, 16000)})
    b.files, b.zip_path, b.notes                              # every file, the zip, what was skipped

Figures are drawn by plotly's static-image engine, kaleido 1.x, which drives a headless Chromium.
Starting the browser is the slow part: ``plotly.io.to_image`` starts one per call (about 2 s a
file here), so every figure and format of a batch renders in one browser session instead, and the
browser stays open ``_render_session.KEEP_WARM_S`` seconds for the next batch (the Image tab's 8
figures as PNG and SVG: about 3 s cold, 2 s warm, against 40 s one ``to_image`` call per file).
At most one batch renders at a time in a process (a class shares few cores), and a batch that
takes longer than ``timeout_s`` is stopped with a clear error instead of hanging.

Without Chromium (or without kaleido) figures cannot be drawn: ``figure_files`` raises
``FigureExportUnavailable``; ``export_bundle`` notes it and still writes the tables, JSON and
images.

File names come from the labels, slugged: lowercase ASCII letters, digits, ``-`` and ``_`` only,
so a label such as ``../../etc/passwd`` becomes ``etc-passwd`` inside the folder.
"""
from __future__ import annotations

import asyncio
import csv
import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import InvalidInput, TokenworksError

FORMATS = ("png", "svg")  # the figure formats written by default; "pdf", "jpg" and "webp" work too
IMAGE_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "webp")
SCALE = 2  # PNG pixels per layout pixel (a 700 x 500 figure becomes 1400 x 1000)
TIMEOUT_S = 120.0  # the longest one batch of renders may take, browser start included
MAX_SLUG = 60  # longest file stem made from a label
INSTALL_HINT = "figure export needs Chromium: apt-get install chromium (make browser-deps)"

_RENDER_LOCK = threading.Lock()  # at most one render batch at a time in this process


class FigureExportUnavailable(TokenworksError, RuntimeError):
    """Figures cannot be drawn as PNG/SVG here: no Chromium, kaleido missing, or the render timed out."""


@dataclass
class ExportBundle:
    folder: Path  # the fresh folder that holds every file
    files: list[Path]  # every file written, in order (figures, tables, JSON, images), the zip not included
    zip_path: Path  # one zip of ``files``
    notes: list[str] = field(default_factory=list)  # what was skipped and why, one sentence each


# ---- names ---------------------------------------------------------------------------------

def slug(label: Any, default: str = "item") -> str:
    """A safe file stem from any label: ASCII letters, digits, ``-`` and ``_``; never empty, never a path."""
    text = unicodedata.normalize("NFKD", str(label)).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9_]+", "-", text).strip("-_")
    return text[:MAX_SLUG].strip("-_") or default


def _unique(folder: Path, stem: str, suffix: str, taken: set[str]) -> Path:
    """``folder/stem.suffix``, with -2, -3, ... added until the name is new (in ``taken`` and on disk)."""
    name, n = f"{stem}.{suffix}", 1
    while name in taken or (folder / name).exists():
        n += 1
        name = f"{stem}-{n}.{suffix}"
    taken.add(name)
    return folder / name


# ---- tables, JSON, images ------------------------------------------------------------------

def _table_rows(table: Any) -> tuple[list[str] | None, list[list[Any]]]:
    """(header or None, rows) of a pandas/polars DataFrame, a list of dicts, a list of lists, or a
    Gradio-style dict ``{"headers": [...], "data": [[...], ...]}``."""
    if hasattr(table, "columns") and hasattr(table, "to_numpy"):  # pandas (or polars) DataFrame
        return [str(c) for c in table.columns], [list(r) for r in table.to_numpy().tolist()]
    if isinstance(table, Mapping) and "data" in table:
        header = table.get("headers")
        return ([str(h) for h in header] if header else None), [list(r) for r in table["data"] or []]
    if isinstance(table, np.ndarray):
        table = table.tolist()
    if isinstance(table, Sequence) and not isinstance(table, (str, bytes)):
        rows = list(table)
        if rows and all(isinstance(r, Mapping) for r in rows):
            header = list(dict.fromkeys(k for r in rows for k in r))
            return [str(h) for h in header], [[r.get(h, "") for h in header] for r in rows]
        if all(isinstance(r, Sequence) and not isinstance(r, (str, bytes)) for r in rows):
            return None, [list(r) for r in rows]
    raise InvalidInput(f"a table must be a DataFrame, a list of dicts or a list of rows, not {type(table).__name__}")


def _cell(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return "" if math.isnan(x) else str(x)
    return x


def table_csv(table: Any, path: str | Path) -> Path:
    """Write ``table`` (see ``_table_rows`` for the kinds accepted) as UTF-8 CSV with a header row
    when it has one; missing values (None, NaN) become empty cells. Rows are written as they are,
    shorter or longer than the header included."""
    header, rows = _table_rows(table)
    path = Path(path)
    with path.open("w", encoding="utf-8", errors="backslashreplace", newline="") as f:  # a lone surrogate: \udXXX
        w = csv.writer(f)
        if header is not None:
            w.writerow(header)
        for r in rows:
            w.writerow(["" if c is None else _cell(c) for c in r])
    return path


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def json_file(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as pretty UTF-8 JSON (numpy arrays and scalars become lists and numbers)."""
    path = Path(path)
    try:
        text = json.dumps(obj, ensure_ascii=False, indent=1, default=_json_default, allow_nan=False)
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (not UTF-8): escaped as \udXXX, still valid JSON
        data = json.dumps(obj, ensure_ascii=True, indent=1, default=_json_default, allow_nan=False).encode("ascii")
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidInput(f"cannot write this as JSON: {e}") from None
    path.write_bytes(data + b"\n")
    return path


def image_png(array: Any, path: str | Path) -> Path:
    """Write an image array as PNG: (H, W) grey or (H, W, 3|4) RGB(A); uint8, or floats in [0, 1]."""
    from PIL import Image

    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]  # (H, W)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))) or a.size == 0:
        raise InvalidInput(f"an image must be (H, W), (H, W, 3) or (H, W, 4); got shape {a.shape}")
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        if a.max(initial=0) <= 1.0:
            a = a * 255.0
        a = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
    path = Path(path)
    Image.fromarray(a).save(path, format="PNG")
    return path


@dataclass(frozen=True)
class Sound:
    """A mono clip to export as WAV."""

    wave: Any  # (N,) samples in [-1, 1] (clipped when written)
    sample_rate: int  # samples per second


def wav_file(sound: Sound, path: str | Path) -> Path:
    """Write a Sound as a 16-bit PCM mono WAV file (``tokenworks.audio.io.write_wav``), refusing what
    would not be the sound shown: no samples, NaN or infinite samples, an impossible rate."""
    from ..audio.io import write_wav

    if not isinstance(sound, Sound):
        raise InvalidInput(f"a sound to export is a Sound(wave, sample_rate), got {type(sound).__name__}")
    a = np.asarray(sound.wave, dtype=np.float32)
    if a.size == 0:
        raise InvalidInput("a sound must be a non-empty mono wave (N,); this one has no samples")
    if not np.isfinite(a).all():
        raise InvalidInput("a sound holds NaN or infinite samples; nothing was written")
    if not 1000 <= int(sound.sample_rate) <= 384000:
        raise InvalidInput(f"a sound's sample rate must be 1000 to 384000 Hz, got {sound.sample_rate}")
    return write_wav(path, a, int(sound.sample_rate))


# ---- figures -------------------------------------------------------------------------------

def _browser_path() -> str | None:
    """The Chromium kaleido would start: $BROWSER_PATH when set, else the one choreographer finds
    (the PATH, or a copy fetched with ``kaleido_get_chrome``); None when there is none."""
    set_path = os.environ.get("BROWSER_PATH")
    if set_path:
        return set_path if os.path.isfile(set_path) and os.access(set_path, os.X_OK) else None
    try:
        from choreographer.browsers.chromium import Chromium

        return Chromium.find_browser(skip_local=False) or None
    except Exception:  # noqa: BLE001 - a best-effort search; the PATH is the fallback
        return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def figure_export_available() -> str | None:
    """None when figures can be drawn here; else the reason (the install hint)."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return f"{INSTALL_HINT}; and the Python package kaleido (pip install kaleido)"
    if _browser_path() is None:
        where = os.environ.get("BROWSER_PATH")
        return INSTALL_HINT + (f" (BROWSER_PATH={where!r} is not a browser)" if where else "")
    return None


def _render(jobs: list[dict[str, Any]], browser: str, timeout_s: float) -> None:
    """Write the jobs in the shared browser session; its errors as FigureExportUnavailable."""
    from ._render_session import SESSION

    try:
        SESSION.render(jobs, browser, timeout_s)
    except (asyncio.TimeoutError, TimeoutError):
        raise FigureExportUnavailable(f"drawing the figures took longer than {timeout_s:g} s and was stopped") from None
    except Exception as err:  # noqa: BLE001 - kaleido and choreographer raise many kinds
        name = type(err).__name__
        if "Chrome" in name or "Browser" in name or isinstance(err, (FileNotFoundError, PermissionError)):
            raise FigureExportUnavailable(f"{INSTALL_HINT} (the browser did not start: {name}: {err})") from err
        raise FigureExportUnavailable(f"a figure could not be drawn ({name}: {err})") from err


def figure_files(figs: Mapping[str, Any], folder: str | Path, formats: Sequence[str] = FORMATS, scale: float = SCALE,
                 timeout_s: float = TIMEOUT_S, *, _taken: set[str] | None = None) -> list[Path]:
    """Write every plotly figure in ``figs`` (label -> go.Figure or figure dict) in every format,
    named ``<slug(label)>.<format>`` inside ``folder``, in one browser session. Returns the paths
    in order (label by label, format by format). Raises ``FigureExportUnavailable`` when no Chromium
    (or kaleido) is here, or when the batch takes longer than ``timeout_s``."""
    formats = [str(f).lower() for f in formats]
    bad = [f for f in formats if f not in IMAGE_FORMATS]
    if bad or not formats:
        raise InvalidInput(f"figure formats must be some of {', '.join(IMAGE_FORMATS)}; got {', '.join(bad) or 'none'}")
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise InvalidInput(f"scale must be a number from 0.1 to 10, got {scale!r}") from None
    if not 0.1 <= scale <= 10:
        raise InvalidInput(f"scale must be a number from 0.1 to 10, got {scale:g}")
    if not figs:
        return []
    reason = figure_export_available()
    if reason is not None:
        raise FigureExportUnavailable(reason)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    taken = set() if _taken is None else _taken
    jobs, paths = [], []
    for label, fig in figs.items():
        stem = slug(label, "figure")
        for fmt in formats:
            path = _unique(folder, stem, fmt, taken)
            jobs.append({"fig": fig, "path": path, "opts": {"format": fmt, "scale": scale}})
            paths.append(path)
    with _acquire(timeout_s):
        _render(jobs, _browser_path() or "", timeout_s)
    missing = [p.name for p in paths if not p.is_file() or p.stat().st_size == 0]
    if missing:
        raise FigureExportUnavailable(f"the figure renderer wrote no {', '.join(missing)}")
    return paths


class _acquire:
    """The process-wide render lock, waited for at most ``timeout_s``."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s

    def __enter__(self) -> None:
        if not _RENDER_LOCK.acquire(timeout=self.timeout_s):
            raise FigureExportUnavailable(f"another figure export has been running for over {self.timeout_s:g} s; "
                                          "try again in a minute")

    def __exit__(self, *exc: Any) -> None:
        _RENDER_LOCK.release()


# ---- the bundle ----------------------------------------------------------------------------

def _zip(files: Iterable[Path], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(f, arcname=f.name)
    return path


def export_bundle(root: str | Path, *, name: str = "export", figures: Mapping[str, Any] | None = None,
                  tables: Mapping[str, Any] | None = None, jsons: Mapping[str, Any] | None = None,
                  images: Mapping[str, Any] | None = None, sounds: Mapping[str, Sound] | None = None,
                  notes: Sequence[str] = (), formats: Sequence[str] = FORMATS, scale: float = SCALE,
                  timeout_s: float = TIMEOUT_S) -> ExportBundle:
    """Everything into a fresh folder under ``root`` (``<slug(name)>-<time>-<random>``), plus one zip
    ``tokenworks-<slug(name)>.zip`` of it all. Figures -> PNG and SVG (see ``figure_files``), tables
    -> CSV, jsons -> JSON, images -> PNG, sounds -> WAV; each named after its label. When the figures cannot be
    drawn, the reason goes into ``notes`` and the rest is still written; when nothing at all could
    be written, the error is raised."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stem = slug(name, "export")
    folder = Path(tempfile.mkdtemp(prefix=f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-", dir=root))
    notes = list(notes)
    taken: set[str] = set()
    files: list[Path] = []
    first_error: TokenworksError | None = None
    if figures:
        try:
            files += figure_files(figures, folder, formats, scale, timeout_s, _taken=taken)
        except FigureExportUnavailable as e:
            notes.append(f"Figures not exported ({', '.join(figures)}): {e}")
            first_error = e
    writers = (("csv", tables, table_csv), ("json", jsons, json_file), ("png", images, image_png),
               ("wav", sounds, wav_file))
    for suffix, items, write in writers:
        for label, value in (items or {}).items():
            path = _unique(folder, slug(label, suffix), suffix, taken)
            try:
                files.append(write(value, path))
            except InvalidInput as e:
                path.unlink(missing_ok=True)
                notes.append(f"{label} not exported: {e}")
                first_error = first_error or e
    if not files and first_error is not None:
        shutil.rmtree(folder, ignore_errors=True)
        raise first_error
    zip_path = _zip(files, _unique(folder, f"tokenworks-{stem}", "zip", taken))
    return ExportBundle(folder=folder, files=files, zip_path=zip_path, notes=notes)


__all__ = ["FORMATS", "SCALE", "TIMEOUT_S", "ExportBundle", "FigureExportUnavailable", "Sound", "export_bundle",
           "figure_export_available", "figure_files", "image_png", "json_file", "slug", "table_csv", "wav_file"]
