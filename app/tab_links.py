""""Link to this view" for the tabs with settings: the link box, and what every tab's handlers
share (``app/url_tabs.py`` parses and builds the links; ``app/media_links.py`` and
``app/text_links.py`` hold each tab's ``restore`` and ``link`` handlers).

Every such tab has a read-only "Link to this view" box (with a copy button) kept current as its
settings change; the open tab's link is also the page's address. Opening a link (a page load
with ``?tab=...``) selects the tab, restores its settings and shows their result; what the link
could not use is listed above the link box.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from . import url_state, url_tabs
from .shared import warnings_markdown

LINK_INFO = "Opens this view: this tab and its settings."
UPLOAD_INFO = ("An uploaded {what} cannot travel in a link: the link keeps the other settings and opens the "
               "default {instead}.")
KEYS = url_tabs.all_keys()  # every link parameter: the address bar replaces these, keeps the rest


@dataclass
class LinkBox:
    """The link widgets of one tab."""
    link: gr.Textbox  # "Link to this view": the full link, read only, with a copy button
    query: gr.Textbox  # hidden: the query built in Python; its change writes the link (and the address bar)
    note: gr.Markdown  # what an opened link could not use
    tabs: gr.Tabs | None  # the app's tabs (a restore selects the link's tab); None outside gr.Tabs

    @property
    def outputs(self) -> list:
        """What a restore handler ends with: the note, the query, then the tabs (when there are)."""
        return [self.note, self.query] + ([self.tabs] if self.tabs is not None else [])

    def restore(self, fn: Callable[..., tuple]) -> Callable[..., tuple]:
        """``fn`` (a restore handler ending with the tab to select) for ``outputs``, through friendly."""
        from .common import friendly

        if self.tabs is not None:
            return friendly(fn)

        @functools.wraps(fn)
        def without_tabs(*args: Any, **kwargs: Any) -> tuple:
            return fn(*args, **kwargs)[:-1]

        return friendly(without_tabs)


def enclosing_tabs() -> gr.Tabs | None:
    """The gr.Tabs around the block being built (None outside any)."""
    block = gr.context.Context.block
    while block is not None and not isinstance(block, gr.Tabs):
        block = getattr(block, "parent", None)
    return block


def link_box(tab: str) -> LinkBox:
    """Lay out the link box of ``tab`` (a url_state.TAB_IDS id) here and wire it to the address bar."""
    tabs = enclosing_tabs()
    link = gr.Textbox(label="Link to this view", info=LINK_INFO, lines=1, max_lines=1, interactive=False,
                      buttons=["copy"], elem_id=f"tw-{tab}-link")
    query = gr.Textbox(value="", visible="hidden", elem_id=f"tw-{tab}-query")
    note = gr.Markdown("", elem_id=f"tw-{tab}-url-note")
    query.change(None, inputs=query, outputs=link, js=url_tabs.link_js(tab, KEYS), api_name=False,
                 show_progress="hidden")
    return LinkBox(link=link, query=query, note=note, tabs=tabs)


def params_of(request: Any) -> dict:
    """A page's query parameters ({} for no request, as in tests that pass None)."""
    params = getattr(request, "query_params", None) if request is not None else None
    try:
        return dict(params or {})
    except (TypeError, ValueError):
        return {}


def opens(params: dict, tab: str) -> bool:
    """Whether the link names ``tab``."""
    return url_state.parse_tab(params).tab == tab


def whole_number(x: Any) -> int | None:
    """A control's value as a whole number (a slider gives floats), or None when it is not a number."""
    try:
        return int(round(float(x)))
    except (TypeError, ValueError, OverflowError):
        return None


def names_of(value: Any) -> tuple[str, ...]:
    """A multiselect dropdown's names (one name, a list, or nothing usable)."""
    listed = value if isinstance(value, (list, tuple)) else [value]
    return tuple(n for n in listed if isinstance(n, str) and n)


def notes_markdown(notes: list[str]) -> str:
    return warnings_markdown([f"From the link: {n}" for n in notes]) if notes else ""


def link_update(info: str = "") -> Any:
    """The link box with its info line (LINK_INFO, or why part of the view is not in the link)."""
    return gr.update(info=info or LINK_INFO)


def selected(tab: str) -> Any:
    return gr.Tabs(selected=tab)


def select_plain_tab(request: gr.Request) -> Any:
    """Page load: a link to a tab without settings (Train, Library, Attention) selects it."""
    tab = url_state.parse_tab(params_of(request)).tab
    return selected(tab) if tab in PLAIN_TABS else gr.skip()


PLAIN_TABS = ("train", "library", "attention")  # tabs a link can open, with no settings to restore


def wire_tab_selects(tabs: dict[str, Any]) -> None:
    """When a tab is selected (by a click or by a link), the address bar takes its link."""
    for tab_id, tab in tabs.items():
        tab.select(None, js=url_tabs.select_js(tab_id, KEYS, tab_id not in PLAIN_TABS), api_name=False,
                   show_progress="hidden")
