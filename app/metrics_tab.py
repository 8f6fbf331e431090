"""Metrics tab: the honest text metrics (``tokenworks.metrics.text``) of 1 to 4 text tokenizers on
a chosen corpus, one row per tokenizer x slice, exported as CSV.

Corpora: the bundled multilingual sample (one slice per line, "Label: text"), the held-out test
splits of shakespeare / austen / stdlib (capped in size), UDHR declarations chosen by code (one
slice per language, one document per article), or an uploaded text file
(``tokenworks.text.upload.read_corpus_upload``: UTF-8, or UTF-16/32 with a BOM; at most 50 MB).

Handlers are plain functions over the library (testable without a server):

    v = view(["text/o200k_base", "text/bert-base-uncased"], SAMPLE)
    v.status, v.frame, v.csv_path, v.metrics

Bad input (an unknown encoding, an empty corpus, an upload over the limit, a slice with no text)
comes back as a message in ``status``, never a traceback.
"""
from __future__ import annotations

import hashlib
import html
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from tokenworks.errors import InvalidInput, TokenworksError

from . import links
from .widgets import UPLOAD_INFO, Components, bind, chosen_names, export_row, friendly, link_box, link_info
from .widgets import link_notes, names_of, opens, params_of, selected, warnings_markdown, whole_number

log = logging.getLogger("tokenworks.app")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_FILE = ROOT / "data" / "samples" / "multilingual.txt"
SAMPLE = "Multilingual sample (one slice per line)"
UDHR = "UDHR declarations (one slice per language)"
UPLOAD = "Uploaded file"
CORPORA = {"Shakespeare (held-out works)": "shakespeare", "Austen (Persuasion, held out)": "austen",
           "Python stdlib (held-out files)": "stdlib"}
SOURCES = [SAMPLE, *CORPORA, UDHR, UPLOAD]
UPLOAD_SPLITS = {"Whole file, one slice": "whole", "One slice per line (Label: text)": "lines",
                 "One slice, a document per paragraph": "paragraphs"}
DEFAULT_TOKENIZERS = ["text/o200k_base", "text/r50k_base"]
DEFAULT_LANGUAGES = "eng, fra, cmn_hans, arb, hin"
DEFAULT_LIMIT = 200_000  # bytes per slice
MAX_TOKENIZERS = 4
INTRO = (
    "### Metrics\n"
    "The numbers the literature recommends for comparing tokenizers, side by side on the same text, one row per "
    "tokenizer and slice. **bytes/token** and **chars/token**: more is more text per token. **fertility**: tokens "
    "per word (per character for scripts written without spaces; *unit* says which). **lossy** rows hold UNK "
    "tokens or do not decode back to their text: their low counts are not efficiency."
)
# to_row key -> column title, in the order shown
COLUMNS = {
    "tokenizer": "tokenizer", "slice": "slice", "documents": "docs", "bytes": "bytes", "tokens": "tokens",
    "bytes_per_token": "bytes/token", "chars_per_token": "chars/token", "fertility": "fertility",
    "word_unit": "unit", "continued_word_ratio": "continued-word ratio", "round_trip_rate": "round-trip rate",
    "unk_rate": "UNK rate", "byte_fallback_rate": "byte-fallback rate", "vocab_utilisation": "vocab utilisation",
    "unreachable": "unreachable", "shannon_efficiency": "Shannon eff.", "renyi_efficiency": "Renyi eff. (2.5)",
    "zipf_slope": "Zipf slope", "lossy": "lossy", "flags": "flags",
}


def text_tokenizers() -> list[str]:
    """Registered text tokenizers, then the ones trained here (``run:...``)."""
    import tokenworks as tw

    return tw.available("text") + tw.trained_runs("text")


def _names(tokenizers: Any) -> list[str]:
    return chosen_names(tokenizers, MAX_TOKENIZERS, DEFAULT_TOKENIZERS)


def _cap(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes of ``text``, cut on a character boundary."""
    data = text.encode("utf-8", "surrogatepass")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def _cap_slices(slices: dict[str, list[str]], limit: int) -> tuple[dict[str, list[str]], list[str]]:
    out, cut = {}, []
    for name, docs in slices.items():
        kept, size = [], 0
        for d in docs:
            n = len(d.encode("utf-8", "surrogatepass"))
            if size + n > limit:
                if size < limit:
                    kept.append(_cap(d, limit - size))
                cut.append(name)
                break
            kept.append(d)
            size += n
        out[name] = kept
    return out, cut


def _language_codes(languages: Any) -> list[str]:
    codes = languages.replace(";", ",").split(",") if isinstance(languages, str) else list(languages or [])
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        raise InvalidInput(f"give one or more UDHR language codes, comma-separated, e.g. {DEFAULT_LANGUAGES}")
    return codes


def _upload_path(upload: Any) -> str | None:
    if upload is None:
        return None
    if isinstance(upload, (str, Path)):
        return str(upload)
    return getattr(upload, "name", None) or getattr(upload, "path", None) or (
        upload.get("path") if isinstance(upload, dict) else None)


def load_slices(source: str, languages: Any = DEFAULT_LANGUAGES, upload: Any = None,
                split: str = "whole", limit: int = DEFAULT_LIMIT) -> tuple[dict[str, list[str]], list[str]]:
    """({slice: [documents]}, notes) for the chosen corpus; InvalidInput for bad input."""
    from tokenworks.text.upload import check_slices, read_corpus_upload, split_slices

    limit = int(limit or DEFAULT_LIMIT)
    if limit <= 0:
        raise InvalidInput(f"bytes per slice must be positive, got {limit}")
    notes: list[str] = []
    if source == SAMPLE:
        slices = split_slices(SAMPLE_FILE.read_text(encoding="utf-8"), "lines", SAMPLE_FILE.name)
    elif source in CORPORA:
        from tokenworks.text.corpora import load_corpus

        c = load_corpus(CORPORA[source], "test", limit_bytes=limit)
        slices = check_slices({f"{c.name} (test)": c.documents}, where=source)
        notes.append(f"{source}: {len(c.documents)} document(s), {c.nbytes:,} bytes (capped at {limit:,})")
    elif source == UDHR:
        from tokenworks.text.udhr import load_udhr

        udhr = load_udhr()
        slices = {}
        for code in _language_codes(languages):
            lang = udhr[code]  # an unknown code: InvalidInput with close matches
            docs = [lang.articles[n] for n in sorted(lang.articles) if lang.articles[n].strip()]
            if not docs:
                raise InvalidInput(f"UDHR language {code!r} ({lang.name}) has no text in udhr@{udhr.version} "
                                   f"(0 of 30 articles); choose another language")
            slices[f"{code} · {lang.name}"] = docs
    elif source == UPLOAD:
        path = _upload_path(upload)
        if not path:
            raise InvalidInput("upload a text file first (UTF-8, or UTF-16/32 with a BOM; at most 50 MB)")
        up = read_corpus_upload(path)
        mode = UPLOAD_SPLITS.get(split, split)
        slices = split_slices(up.text, mode, up.name)
        notes.append(f"{up.name}: {up.nbytes:,} bytes read as {up.encoding}")
    else:
        raise InvalidInput(f"unknown corpus {source!r}; choose one of {', '.join(SOURCES)}")
    slices, cut = _cap_slices(slices, limit)
    if cut:
        notes.append(f"{len(cut)} slice(s) cut to their first {limit:,} bytes: {', '.join(cut[:5])}")
    return slices, notes


def frame(metrics: list) -> pd.DataFrame:
    """The shown table: one row per tokenizer x slice, the columns in COLUMNS (rates rounded)."""
    from tokenworks.metrics.text import to_rows

    rows = []
    for r in to_rows(metrics):
        rec = {title: r.get(key) for key, title in COLUMNS.items()}
        for k, v in rec.items():
            if isinstance(v, float):
                rec[k] = round(v, 4)
        rec["lossy"] = "LOSSY" if r["lossy"] else ""
        rows.append(rec)
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS.values()))


_CSV_DIR: Path | None = None


def write_csv(metrics: list, label: str) -> str:
    """to_csv of the metrics in this process's temp folder; its path."""
    from tokenworks.metrics.text import to_csv

    global _CSV_DIR
    if _CSV_DIR is None or not _CSV_DIR.exists():
        _CSV_DIR = Path(tempfile.mkdtemp(prefix="tw-metrics-"))
    path = _CSV_DIR / f"metrics-{hashlib.sha1(label.encode()).hexdigest()[:8]}.csv"
    to_csv(metrics, path)
    return str(path)


@dataclass
class MetricsView:
    status: str
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(COLUMNS.values())))
    csv_path: str | None = None
    metrics: list = field(default_factory=list)




def view(tokenizers: Any = None, source: str = SAMPLE, languages: Any = DEFAULT_LANGUAGES, upload: Any = None,
         split: str = "whole", limit: Any = DEFAULT_LIMIT) -> MetricsView:
    """Everything the tab shows. A tokenizer that fails is reported and the others still shown."""
    from tokenworks.metrics.text import text_metrics

    try:
        names = _names(tokenizers if tokenizers is not None else DEFAULT_TOKENIZERS)
        slices, notes = load_slices(source, languages, upload, split, int(limit or DEFAULT_LIMIT))
    except TokenworksError as e:
        return MetricsView(status=warnings_markdown([str(e)]))
    except (TypeError, ValueError, OverflowError) as e:
        return MetricsView(status=warnings_markdown([f"bad setting: {e}"]))
    metrics, problems = [], []
    for name in names:
        for sl, docs in slices.items():
            try:
                metrics.append(text_metrics(name, docs, slice_name=sl))
            except TokenworksError as e:
                problems.append(f"{name} on {sl!r}: {e}")
            except Exception as e:  # noqa: BLE001 - one broken tokenizer must not take the tab down
                log.exception("metrics for %s on %s failed", name, sl)
                problems.append(f"{name} on {sl!r} failed ({type(e).__name__}); the details are in the server log")
    if not metrics:
        return MetricsView(status=warnings_markdown(problems or ["nothing could be measured"]))
    lossy = sum(m.lossy for m in metrics)
    parts = [f"**{len(names)} tokenizer(s) × {len(slices)} slice(s)**: {len(metrics)} rows."
             + (f" **{lossy} lossy** (flagged in the *lossy* and *flags* columns)." if lossy else "")]
    parts += notes
    path = write_csv(metrics, f"{names}|{source}|{languages}|{_upload_path(upload)}|{split}|{limit}")
    status = "\n\n".join(html.escape(p, quote=False) if i else p for i, p in enumerate(parts))
    if problems:
        status += "\n\n" + warnings_markdown(problems)
    return MetricsView(status=status, frame=frame(metrics), csv_path=path, metrics=metrics)


def show(tokenizers: Any, source: str, languages: Any, upload: Any, split: str, limit: Any) -> tuple:
    """UI handler: (status, table, CSV file)."""
    v = view(tokenizers, source, languages, upload, split, limit)
    return v.status, v.frame, v.csv_path


# ---- the link -------------------------------------------------------------------------------

CORPUS_LINKS = {"sample": SAMPLE, **{v: k for k, v in CORPORA.items()}, "udhr": UDHR}  # link value -> the tab's choice
SPLIT_LINKS = {v: k for k, v in UPLOAD_SPLITS.items()}
SPEC = links.metrics_spec((), (), 1, (), (), "", "", "", 1)  # the parameters only: building a link needs no choices


def _key(mapping: dict[str, Any], value: Any) -> str | None:
    return next((k for k, v in mapping.items() if v == value), None)


def link_spec() -> links.TabSpec:
    return links.metrics_spec(text_tokenizers(), DEFAULT_TOKENIZERS, MAX_TOKENIZERS, tuple(CORPUS_LINKS),
                              tuple(SPLIT_LINKS), "sample", DEFAULT_LANGUAGES, next(iter(SPLIT_LINKS)), DEFAULT_LIMIT)


def link(tokenizers: Any, source: Any, languages: Any, split: Any, limit: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the tab's settings as they are."""
    state = links.MetricsLink(tokenizers=names_of(tokenizers), corpus=_key(CORPUS_LINKS, source),
                              languages=languages if isinstance(languages, str) else None,
                              split=_key(SPLIT_LINKS, split), limit=whole_number(limit))
    info = UPLOAD_INFO.format(what="file", instead="corpus") if source == UPLOAD else ""
    return links.build_link(SPEC, state), link_info(info)


@dataclass
class MetricsUI(Components):
    names: Any  # the settings
    source: Any
    languages: Any
    split: Any
    limit: Any
    status: Any  # the view
    table: Any
    csv: Any
    query: Any  # the link box
    note: Any
    tabs: Any


def restore(ui: MetricsUI, tokenizers: Any, source: Any, languages: Any, split: Any, limit: Any,
            request: gr.Request) -> dict:
    """Page load: a link to this tab sets its settings, computes their metrics (the Compute button
    has no other trigger) and selects the tab; any other page load only writes the query."""
    params = params_of(request)
    if not opens(params, "metrics"):
        return ui.set(note="", query=link(tokenizers, source, languages, split, limit)[0])
    spec = link_spec()
    parsed = links.parse_link(params, spec)
    s = parsed.state
    v = view(list(s.tokenizers), CORPUS_LINKS[s.corpus], s.languages, None, SPLIT_LINKS[s.split], s.limit)
    return ui.set(names=gr.update(choices=spec.param("tokenizers").choices, value=list(s.tokenizers)),
                  source=CORPUS_LINKS[s.corpus], languages=s.languages, split=SPLIT_LINKS[s.split], limit=s.limit,
                  status=v.status, table=v.frame, csv=v.csv_path, note=link_notes(parsed.notes),
                  query=links.build_link(spec, s), tabs=selected("metrics"))


def build(tab: Any = None) -> None:
    """Lay out the Metrics tab inside the current gr.Blocks context."""
    gr.Markdown(INTRO)
    box = link_box("metrics")
    with gr.Row():
        names = gr.Dropdown(choices=text_tokenizers(), value=DEFAULT_TOKENIZERS, multiselect=True,
                            max_choices=MAX_TOKENIZERS, label="Tokenizers", scale=3,
                            info=f"1 to {MAX_TOKENIZERS} text tokenizers, or runs you trained (run:...).",
                            elem_id="tw-metrics-tokenizers")
        source = gr.Dropdown(choices=SOURCES, value=SAMPLE, label="Corpus", scale=2, elem_id="tw-metrics-source")
        limit = gr.Number(value=DEFAULT_LIMIT, precision=0, minimum=1_000, label="Bytes per slice (cap)", scale=1,
                          elem_id="tw-metrics-limit")
    with gr.Row():
        languages = gr.Textbox(value=DEFAULT_LANGUAGES, label="UDHR languages", scale=2,
                               info="Package codes, comma-separated (eng, fra, cmn_hans, arb, hin, ...); "
                                    "used when the corpus is UDHR.", elem_id="tw-metrics-languages")
        upload = gr.File(label="Upload a text file (UTF-8, or UTF-16/32 with a BOM; at most 50 MB)",
                         file_types=[".txt", ".md", ".csv", ".tsv", ".json", ".py", ".html"], scale=2,
                         elem_id="tw-metrics-upload")
        split = gr.Radio(choices=list(UPLOAD_SPLITS), value=next(iter(UPLOAD_SPLITS)), label="Uploaded file as",
                         scale=2, elem_id="tw-metrics-split")
    run = gr.Button("Compute", variant="primary", elem_id="tw-metrics-run")
    status = gr.Markdown("Choose tokenizers and a corpus, then press Compute.", elem_id="tw-metrics-status")
    table = gr.Dataframe(label="Metrics (one row per tokenizer and slice; click a header to sort)",
                         interactive=False, wrap=True, max_height=480, elem_id="tw-metrics-table")
    csv = gr.File(label="Download CSV (every metric, with flags and notes)", interactive=False,
                  elem_id="tw-metrics-csv")
    upload.upload(lambda: UPLOAD, outputs=source, api_name=False)
    ui = MetricsUI(names=names, source=source, languages=languages, split=split, limit=limit, status=status,
                   table=table, csv=csv, query=box.query, note=box.note, tabs=box.tabs)
    settings = [names, source, languages, split, limit]
    gr.on(triggers=[c.change for c in settings], fn=friendly(link), inputs=settings,
          outputs=[box.query, box.link], api_name=False, trigger_mode="always_last", show_progress="hidden")
    root = gr.context.Context.root_block
    if root is not None:  # a link to this tab: its settings and their metrics
        root.load(friendly(bind(restore, ui)), inputs=settings, outputs=ui.outputs(),
                  api_name=False)
    gr.on(triggers=[run.click], fn=friendly(show), inputs=[names, source, languages, upload, split, limit],
          outputs=[status, table, csv], api_name="metrics", trigger_mode="always_last")
    export_row("metrics", tables={"metrics": table})
