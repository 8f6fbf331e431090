"""What every tab shares: the upload folder, error messages a person can read, a tab's components by
name, the "Link to this view" box and the Export row.

Handlers return ``{component: value}`` dicts built by ``Components.set``; a test builds
``SomeUI.named()``, whose every component is its own name, and reads a handler's result by name:

    ui = ImageUI.named()
    out = image_tab.on_encode(ui, None, "emoji-fox.png", "image/flex1d-emoji64")
    out["status"], out["k"]["maximum"]
"""
from __future__ import annotations

import dataclasses
import functools
import html
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import gradio as gr

from tokenworks.errors import InvalidInput, TokenworksError

from . import links

log = logging.getLogger("tokenworks.app")
F = TypeVar("F", bound=Callable[..., Any])

# Uploads live in Gradio's cache folder: every hour, files older than six hours are deleted (and the
# whole cache when the server stops). A tab asked to re-read a deleted upload says "upload it again".
# (The Train tab copies training data into runs/uploads/ on purpose: a run needs its data to resume.)
DELETE_CACHE = (3600, 6 * 3600)  # (how often to clean, in s; age of a file that is deleted, in s)


def upload_dir() -> Path:
    """The app's own folder for uploads under the system temp folder ($GRADIO_TEMP_DIR wins)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "tokenworks-gradio")


# ---- errors and notes ----------------------------------------------------------------------------

def friendly(fn: F) -> F:
    """Wrap a handler: library errors become a gr.Error with their message; anything else is
    logged with its traceback on the server and shown as a short message, never a stack trace."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except TokenworksError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # noqa: BLE001 - the UI must never show a traceback
            log.exception("handler %s failed", getattr(fn, "__name__", "?"))
            raise gr.Error(
                f"Something went wrong in {getattr(fn, '__name__', 'a handler')} ({type(e).__name__}). "
                "The details are in the server log; please report them.",
                print_exception=False,
            ) from None

    return wrapper  # type: ignore[return-value]


def warn(msg: str) -> None:
    """A toast with the first line of ``msg`` (nothing outside a request)."""
    try:
        gr.Warning(msg.split("\n", 1)[0])
    except Exception:  # noqa: BLE001 - outside a request there is no toast to show
        pass


def warnings_markdown(lines: Sequence[str]) -> str:
    """One warning paragraph per line, escaped for Markdown/HTML."""
    return "\n\n".join(f"⚠️ {html.escape(s, quote=False)}" for s in lines)


def error_markdown(e: Exception) -> str:
    """A library error as Markdown: its first line in bold, indented lines (commands) as code."""
    first, _, rest = str(e).partition("\n")
    out = f"⚠️ **Could not tokenize this.** {first}"
    for line in rest.splitlines():
        out += f"\n\n    {line.strip()}" if line.startswith("  ") else f"\n\n{line}"
    return out


# ---- control values ------------------------------------------------------------------------------

def name_list(names: Any, what: str = "tokenizers") -> list[str]:
    """A dropdown's value as a list of strings: one name, a list of names, or None (no names)."""
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    if isinstance(names, (list, tuple)) and all(isinstance(n, str) or n is None for n in names):
        return [n for n in names if n]
    raise InvalidInput(f"{what} must be a name or a list of names, not {type(names).__name__} {names!r:.60}")


def chosen_names(tokenizers: Any, limit: int, examples: list[str]) -> list[str]:
    """The tokenizer names picked in a dropdown (one or many), deduplicated, 1 to ``limit`` of them."""
    names = list(dict.fromkeys(name_list(tokenizers)))
    if not names:
        raise InvalidInput(f"choose 1 to {limit} tokenizers, e.g. {', '.join(examples)}")
    if len(names) > limit:
        raise InvalidInput(f"choose at most {limit} tokenizers (got {len(names)}); remove some")
    return names


def names_of(value: Any) -> tuple[str, ...]:
    """A multiselect dropdown's names (one name, a list, or nothing usable): never raises."""
    listed = value if isinstance(value, (list, tuple)) else [value]
    return tuple(n for n in listed if isinstance(n, str) and n)


def whole_number(x: Any) -> int | None:
    """A control's value as a whole number (a slider gives floats), or None when it is not a number."""
    try:
        return int(round(float(x)))
    except (TypeError, ValueError, OverflowError):
        return None


def load_tokenizer(ref: Any, modality: str, choices: Callable[[], list[str]]) -> Any:
    """The shared tokenizer for ``ref`` (a registry name or ``run:...``); none, or one of another
    modality, is refused naming the valid ones (``choices()``, asked only then)."""
    import tokenworks as tw

    if not ref:
        raise InvalidInput(f"choose {'an' if modality[0] in 'aeiou' else 'a'} {modality} tokenizer: "
                           f"{', '.join(choices()) or 'none loads here'}")
    tok = tw.load_ref(ref)
    if getattr(tok, "modality", None) != modality:
        raise InvalidInput(f"{ref} is a {getattr(tok, 'modality', '?')} tokenizer; choose one of {', '.join(choices())}")
    return tok


def uploaded(upload: Any) -> bool:
    """Whether a file control holds an upload."""
    return upload is not None and not (isinstance(upload, str) and not upload)


# ---- a tab's components by name ------------------------------------------------------------------

class Components:
    """Base of a tab's dataclass of components. ``set(name=value, ...)`` is a handler's result,
    ``{component: value}`` (components that are None, such as the tabs outside gr.Tabs, are left
    out); ``outputs(*names)`` lists the components an event may update (all: no names)."""

    @classmethod
    def named(cls, **given: Any) -> Any:
        """An instance whose every component is its own name (tests read results by name)."""
        return cls(**{f.name: given.get(f.name, f.name) for f in dataclasses.fields(cls)})  # type: ignore[call-arg]

    def set(self, **values: Any) -> dict:
        return {getattr(self, k): v for k, v in values.items() if getattr(self, k) is not None}

    def outputs(self, *names: str) -> list:
        """The components ``names`` (all of them when none is named), leaving out those that are None."""
        names = names or tuple(f.name for f in dataclasses.fields(self))  # type: ignore[arg-type]
        return [getattr(self, n) for n in names if getattr(self, n) is not None]


def bind(fn: Callable[..., Any], ui: Components) -> Callable[..., Any]:
    """``fn(ui, *args)`` as a handler of ``*args``, keeping ``fn``'s name and (for gr.Request
    injection) its signature without ``ui``."""
    import inspect

    @functools.wraps(fn)
    def handler(*args: Any, **kwargs: Any) -> Any:
        return fn(ui, *args, **kwargs)

    sig = inspect.signature(fn)
    handler.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
    return handler


# ---- "Link to this view" -------------------------------------------------------------------------

LINK_INFO = "Opens this view: this tab and its settings."
UPLOAD_INFO = ("An uploaded {what} cannot travel in a link: the link keeps the other settings and opens the "
               "default {instead}.")
KEYS = links.all_keys()  # every link parameter: the address bar replaces these, keeps the rest

# Each tab's query (built in Python, in a hidden box) goes into its "Link to this view" box; the
# open tab's also goes into the address bar (history.replaceState), replacing every link parameter
# and keeping the others (Gradio's own, e.g. __theme). window.twTab is the open tab: the link's
# tab at first, then the tab last selected.
_OPEN_TAB_JS = """
  if (window.twTab === undefined) {
    const t = (new URLSearchParams(window.location.search).get('tab') || 'text').toLowerCase();
    window.twTab = %(tabs)s.includes(t) ? t : 'text';
  }
  const rest = new URLSearchParams(window.location.search);
  %(keys)s.forEach((k) => rest.delete(k));
  const search = [q, rest.toString()].filter(Boolean).join('&');
  const url = window.location.pathname + (search ? '?' + search : '') + window.location.hash;
"""
_WRITE_JS = "try { window.history.replaceState(window.history.state, '', url); } catch (e) { /* a sandboxed frame */ }"
_HEAD_JS = _OPEN_TAB_JS % {"tabs": json.dumps(list(links.TAB_IDS)), "keys": json.dumps(KEYS)}


def link_js(tab: str) -> str:
    """JS for a tab's hidden query box: (query) -> the full link; writes the address bar when
    ``tab`` is open, and keeps the query (window.twQueries) for when the tab is selected."""
    t = json.dumps(tab)
    return ("(q) => {\n  window.twQueries = Object.assign(window.twQueries || {}, {%s: q});%s"
            "  if (window.twTab === %s) { %s }\n  return window.location.origin + url;\n}" % (t, _HEAD_JS, t, _WRITE_JS))


def select_js(tab: str) -> str:
    """JS for a tab's select event: it is the open tab now; the address bar takes its query (the
    last one its link box had; tab=<tab> for a tab without a link box). The select Gradio sends
    for the first tab as the page mounts is ignored when the link names another tab, and a tab
    whose query has not come yet writes nothing (its link box will)."""
    t = json.dumps(tab)
    fallback = json.dumps(f"{links.TAB}={tab}" if tab in links.PLAIN_TABS else "")
    return ("() => {\n  const first = window.twTab === undefined;\n  const q = (window.twQueries || {})[%s] || %s;%s"
            "  if (first && window.twTab !== %s) return;  // the select sent as the page mounts\n"
            "  window.twTab = %s;\n  if (!q) return;\n  %s\n}" % (t, fallback, _HEAD_JS, t, t, _WRITE_JS))


@dataclasses.dataclass
class LinkBox:
    """The link widgets of one tab."""
    link: Any  # gr.Textbox "Link to this view": the full link, read only, with a copy button
    query: Any  # hidden gr.Textbox: the query built in Python; its change writes the link (and the address bar)
    note: Any  # gr.Markdown: what an opened link could not use
    tabs: Any  # the app's gr.Tabs (a restore selects the link's tab); None outside gr.Tabs


def _enclosing_tabs() -> Any:
    block = gr.context.Context.block
    while block is not None and not isinstance(block, gr.Tabs):
        block = getattr(block, "parent", None)
    return block


def link_box(tab: str, info: str = LINK_INFO) -> LinkBox:
    """Lay out the link box of ``tab`` (a links.TAB_IDS id) here and wire it to the address bar."""
    link = gr.Textbox(label="Link to this view", info=info, lines=1, max_lines=1, interactive=False,
                      buttons=["copy"], elem_id=f"tw-{tab}-link")
    query = gr.Textbox(value="", visible="hidden", elem_id=f"tw-{tab}-query")
    note = gr.Markdown("", elem_id=f"tw-{tab}-url-note")
    query.change(None, inputs=query, outputs=link, js=link_js(tab), api_name=False, show_progress="hidden")
    return LinkBox(link=link, query=query, note=note, tabs=_enclosing_tabs())


def params_of(request: Any) -> dict:
    """A page's query parameters ({} for no request, as in tests that pass None)."""
    params = getattr(request, "query_params", None) if request is not None else None
    try:
        return dict(params or {})
    except (TypeError, ValueError):
        return {}


def opens(params: dict, tab: str) -> bool:
    """Whether the link names ``tab``."""
    return links.parse_tab(params).tab == tab


def link_notes(notes: Sequence[str]) -> str:
    """What an opened link could not use, as Markdown."""
    return warnings_markdown([f"From the link: {n}" for n in notes]) if notes else ""


def link_info(info: str = "") -> Any:
    """The link box with its info line (LINK_INFO, or why part of the view is not in the link)."""
    return gr.update(info=info or LINK_INFO)


def selected(tab: str) -> Any:
    return gr.Tabs(selected=tab)


def select_plain_tab(request: gr.Request) -> Any:
    """Page load: a link to a tab without settings (Train, Library, Attention) selects it."""
    tab = links.parse_tab(params_of(request)).tab
    return selected(tab) if tab in links.PLAIN_TABS else gr.skip()


def wire_tab_selects(tabs: dict[str, Any]) -> None:
    """When a tab is selected (by a click or by a link), the address bar takes its link."""
    for tab_id, tab in tabs.items():
        tab.select(None, js=select_js(tab_id), api_name=False, show_progress="hidden")


# ---- the Export row ------------------------------------------------------------------------------

def export_row(key: str, *, figures: dict[str, Any] | None = None, tables: dict[str, Any] | None = None,
               jsons: dict[str, Any] | None = None, images: dict[str, Any] | None = None,
               extra: Any = None) -> Any:
    """Add the Export row to the current Blocks context (at the end of a tab's ``build``): a button,
    a note and the file list. ``figures`` etc. map a label (the file name) to the component shown;
    ``extra`` is an ``exports.Extra``. Returns the button. (``app/exports.py`` writes the files.)"""
    from . import exports

    figures, tables, jsons, images = figures or {}, tables or {}, jsons or {}, images or {}
    with gr.Accordion("Export", open=False, elem_id=f"tw-{key}-export-box"):
        button = gr.Button(exports.BUTTON, size="sm", elem_id=f"tw-{key}-export")
        note = gr.Markdown(elem_id=f"tw-{key}-export-notes")
        files = gr.File(label=exports.FILES_LABEL, file_count="multiple", interactive=False, height=140,
                        elem_id=f"tw-{key}-export-files")
    fn = exports.make_handler(key, list(figures), list(tables), list(jsons), list(images), extra,
                              root=lambda: upload_dir() / "exports")
    inputs = [*figures.values(), *tables.values(), *jsons.values(), *images.values(), *(extra.inputs if extra else [])]
    button.click(friendly(fn), inputs=inputs, outputs=[files, note], api_name=f"export_{key}",
                 concurrency_limit=1, concurrency_id="export")
    return button
