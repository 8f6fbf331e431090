"""Text tab: tokenize text with one or more tokenizers and see every token, its id and its spans;
Compare 2 to 4 tokenizers side by side; click a token to see its merge tree.

The view lives in the page URL (``app/links.py``), so it can be shared as a link:

    http://127.0.0.1:7860/?tokenizers=text/o200k_base,text/r50k_base&mode=compare&text=Hello%20world

* ``tokenizers``: comma-separated names, in order (the ``text/`` prefix may be left out); at most
  6, Compare 2 to 4.
* ``text``: the text, percent-encoded UTF-8; at most 100,000 characters.
* ``mode``: ``tokens`` (or ``single``) or ``compare``.

Opening such a link restores the view; what it cannot use (an unknown tokenizer, too many, an
overlong text, an unknown mode) is dropped with a note above the tokens saying what is allowed.
As the tokenizers, text or mode change, the address bar is kept current (``history.replaceState``)
and "Link to this view" shows the link to copy; a text too long for a link (over about 8,000
characters once encoded) is left out of it and the link says so. A link without ``tab`` (or with
``tab=text``) is this tab's; the other tabs' links (``tab=image&...``) leave it as built.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

import tokenworks as tw
from tokenworks.errors import InvalidInput
from tokenworks.text.compare import MAX_COMPARE, MIN_COMPARE, compare as compare_texts, merge_history
from tokenworks.viz.text import compare_html, merge_tree_html, tokens_html

from . import links
from .exports import Extra, Items
from .widgets import Components, bind, export_row, friendly, link_box, link_info, link_notes, name_list, names_of
from .widgets import load_tokenizer, params_of

MAX_CHARS = 100_000  # longest text the tab accepts
MAX_TOKENIZERS = 6  # how many tokenizers one request may compare
DEFAULT_TEXT = "Tokenizers turn text into numbers: héllo, 世界, 👋🏽!"
DEFAULT_TOKENIZERS = ["text/cl100k_base", "text/bytes"]  # a real vocabulary beside the byte baseline
MODES = ("Tokens", "Compare")  # one tokenization under another, or 2 to 4 side by side with differences marked
MODE_VALUES = {"Tokens": "tokens", "Compare": "compare"}  # the tab's mode -> its value in a link
MODES_BY_LINK = {v: k for k, v in MODE_VALUES.items()}
LINK_INFO = "Opens this view: the tokenizers, the text and the mode."
MERGE_HINT = ("<div class='tw-mcaption'>Click a token to see how it was built: the merge tree of a byte-level BPE "
              "token, down to single bytes.</div>")
LEGEND = ("Each chip is one token, its id below and its colour fixed by the id. Spaces show as ␣, newlines as ↵, "
          "tabs as ⇥, other control characters as <U+XXXX>. A dashed chip holds only part of a character: UTF-8 "
          "writes é as the two bytes C3 A9 and 👋 as four, and a byte-level tokenizer may cut between them, so such a "
          "chip shows its exact bytes (<0xC3>). Hover a chip for its character and byte offsets.")

# the view's click listener: a click on a chip sends its tokenizer (data-ref of its block) and id
CLICK_JS = """
element.addEventListener('click', (e) => {
  const chip = e.target.closest('.tw-tok');
  const block = chip && chip.closest('.tw-tokens');
  if (!block || !element.contains(block)) return;
  element.querySelectorAll('.tw-selected').forEach((c) => c.classList.remove('tw-selected'));
  chip.classList.add('tw-selected');
  trigger('click', {ref: block.dataset.ref || '', id: Number(chip.dataset.id), index: Number(chip.dataset.index)});
});
"""
CLICK_CSS = ".tw-tok { cursor: pointer; } .tw-tok.tw-selected { outline: 2px solid #2563eb; outline-offset: 1px; }"


def text_tokenizers() -> list[str]:
    """Registered text tokenizers, then the ones trained here (``run:...``, see `tokenworks train text`)."""
    return tw.available("text") + tw.trained_runs("text")


def _check_text(text: Any) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InvalidInput(f"text must be a string, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"text has {len(text):,} characters; the limit is {MAX_CHARS:,}. Paste a shorter piece.")
    return text


def _names(tokenizers: list[str] | str | None) -> list[str]:
    names = name_list(tokenizers)
    if not names:
        raise InvalidInput(f"choose at least one tokenizer: {', '.join(text_tokenizers())}")
    return names


def _load_text(name: str):
    return load_tokenizer(name, "text", text_tokenizers)


def tokenize(text: str, tokenizers: list[str] | str | None) -> tuple[str, list[dict[str, Any]]]:
    """Tokenize ``text`` with each named tokenizer; return the HTML view and the tokens as JSON."""
    text = _check_text(text)
    names = _names(tokenizers)
    if len(names) > MAX_TOKENIZERS:
        raise InvalidInput(f"compare at most {MAX_TOKENIZERS} tokenizers at once (got {len(names)})")
    blocks, records = [], []
    for name in names:
        tok = _load_text(name)
        seq = tok.encode(text)
        blocks.append(f"<h4 class='tw-name'>{tok.name} <small>(vocabulary {tok.vocab_size:,})</small></h4>"
                      f"{tokens_html(seq, text, ref=name)}")
        records.append({"tokenizer": tok.name, "n_tokens": len(seq), "ids": seq.tolist(), "lossless": seq.lossless})
    return "".join(blocks), records


def compare(text: str, tokenizers: list[str] | str | None) -> tuple[str, dict[str, Any]]:
    """2 to 4 tokenizers side by side on ``text``: the HTML view (differing boundaries marked with
    class ``tw-diff``) and the comparison as JSON (counts, spread, differing byte offsets, ids)."""
    text = _check_text(text)
    names = _names(tokenizers)
    if not MIN_COMPARE <= len(names) <= MAX_COMPARE:
        raise InvalidInput(f"Compare shows {MIN_COMPARE} to {MAX_COMPARE} tokenizers side by side; "
                           f"{len(names)} {'is' if len(names) == 1 else 'are'} chosen. "
                           + ("Add another in Tokenizers." if len(names) < MIN_COMPARE else "Remove some in Tokenizers."))
    cmp = compare_texts(text, [_load_text(n) for n in names])
    for seg, name in zip(cmp.segmentations, names):
        seg.ref = name  # "run:..." names reload the run when a token is clicked
    return compare_html(cmp), cmp.summary()


def show(text: str, tokenizers: list[str] | str | None, mode: str = "Tokens") -> tuple[str, Any]:
    """The live view: ``tokenize`` or ``compare`` depending on ``mode`` (one of MODES)."""
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    return compare(text, tokenizers) if mode == "Compare" else tokenize(text, tokenizers)


def merge_tree(tokenizer: str, token_id: int) -> str:
    """HTML of how token ``token_id`` of ``tokenizer`` was built (its BPE merge tree), or a note
    saying that this tokenizer keeps no merge history."""
    if not isinstance(tokenizer, str) or not tokenizer:
        raise InvalidInput(f"name a tokenizer: {', '.join(text_tokenizers())}")
    try:
        token_id = int(token_id)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"a token id is a whole number, not {token_id!r}") from None
    tok = _load_text(tokenizer)
    node = merge_history(tok, token_id)
    if node is None:
        label = tok.render_token(token_id) if hasattr(tok, "render_token") else str(token_id)
        return (f"<div class='tw-mcaption'>Token {token_id} of {tok.name} ({label}). {tok.name} keeps no merge "
                "history; merge trees are shown for byte-level BPE tokenizers (text/cl100k_base, text/o200k_base, "
                "text/r50k_base, text/bpe-cl100k, text/llama3, text/qwen3 and byte-level BPE runs trained here).</div>")
    return merge_tree_html(node, caption=tok.name)


def link_spec() -> links.TabSpec:
    """What a link may ask of this tab (the tokenizers listed now, trained runs included)."""
    return links.text_spec(text_tokenizers(), DEFAULT_TOKENIZERS, MAX_TOKENIZERS, DEFAULT_TEXT, MAX_CHARS,
                           (MIN_COMPARE, MAX_COMPARE))


DEFAULT_STATE = links.TextLink(tokenizers=tuple(DEFAULT_TOKENIZERS), text=DEFAULT_TEXT, mode="tokens")
SPEC = links.text_spec(())  # the parameters only: building a link needs no choices


@dataclass
class Restored:
    state: links.TextLink  # the view to show (valid for this tab)
    given: frozenset[str]  # the parameters the link set; empty: a plain visit, keep the page as built
    notes: str  # Markdown, one warning per value the link could not use; "" when none
    query: str  # the query string of ``state`` (what the address bar should say)


def restore_state(params: Any) -> Restored:
    """The Text tab's view from a page's query parameters (see the module docstring); a link to
    another tab (``tab=image``) leaves it as built, and an unknown ``tab`` is noted here."""
    params = dict(params or {})
    tab = links.parse_tab(params)
    if tab.tab != "text":
        return Restored(state=DEFAULT_STATE, given=frozenset(), notes="", query=links.build_link(SPEC, DEFAULT_STATE))
    parsed = links.parse_link(params, link_spec())
    return Restored(state=parsed.state, given=parsed.given, notes=link_notes(tab.notes + parsed.notes),
                    query=links.build_link(SPEC, parsed.state))


def link_query(text: Any, tokenizers: Any, mode: Any) -> tuple[str, str]:
    """(query string, note) for the view as it is now; the note says when the text is too long to
    travel in a link (the link then keeps the tokenizers and mode only)."""
    state = links.TextLink(tokenizers=names_of(tokenizers), text=text if isinstance(text, str) else "",
                           mode=MODE_VALUES.get(mode, "tokens") if isinstance(mode, str) else "tokens")
    note = "" if not links.left_out(SPEC, state) else (
        f"The text ({len(state.text):,} characters) is too long for a link; the link keeps the tokenizers and mode.")
    return links.build_link(SPEC, state), note


@dataclass
class TextUI(Components):
    text: Any
    names: Any
    mode: Any
    query: Any
    note: Any


def restore(ui: TextUI, request: gr.Request) -> dict:
    """Page load: the text, tokenizers, mode, note and query from the page's URL; a plain visit
    changes nothing but the query (so the address bar and the link start current)."""
    r = restore_state(params_of(request))
    if not r.given and not r.notes:
        return ui.set(note="", query=r.query)
    return ui.set(text=r.state.text, names=gr.update(choices=text_tokenizers(), value=list(r.state.tokenizers)),
                  mode=MODES_BY_LINK[r.state.mode], note=r.notes, query=r.query)


def link(text: Any, tokenizers: Any, mode: Any) -> tuple:
    """UI handler: (query for the address bar, the link box with its note)."""
    query, note = link_query(text, tokenizers, mode)
    return query, link_info(note or LINK_INFO)


def export_items(text: Any, tokenizers: Any, mode: Any = "Tokens") -> Items:
    """For the export: every token of the text shown, one row per tokenizer and token (tokenizer,
    position, id, text, bytes in hex, offsets)."""
    from tokenworks.text.token_table import token_rows

    text = _check_text(text)
    names = _names(tokenizers)[:MAX_TOKENIZERS]
    rows = [r.to_dict() for name in names for r in token_rows(_load_text(name).encode(text), text)]
    return Items(tables={"tokens": rows}) if rows else Items(notes=["tokens: the text is empty, no token table"])


def token_clicked(evt: gr.EventData) -> str:
    """A chip in the view was clicked: its merge tree."""
    data = getattr(evt, "_data", None)
    data = data if isinstance(data, dict) else {}  # the page sends {"ref": name, "id": token id}
    return merge_tree(data.get("ref", ""), data.get("id"))


def build() -> None:
    """Lay out the Text tab inside the current gr.Blocks context; a page load restores the view from
    the URL (see the module docstring)."""
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(value=DEFAULT_TEXT, label="Text", lines=5, max_length=MAX_CHARS,
                              info=f"Up to {MAX_CHARS:,} characters. Tokens update as you type.",
                              elem_id="tw-text-input")
        with gr.Column(scale=2):
            mode = gr.Radio(choices=list(MODES), value="Tokens", label="Mode",
                            info=f"Compare: {MIN_COMPARE} to {MAX_COMPARE} tokenizers side by side, differing "
                                 "boundaries in red.", elem_id="tw-text-mode")
            names = gr.Dropdown(choices=text_tokenizers(), value=DEFAULT_TOKENIZERS, multiselect=True,
                                max_choices=MAX_TOKENIZERS, label="Tokenizers",
                                info=f"Pick up to {MAX_TOKENIZERS} (Compare: {MIN_COMPARE} to {MAX_COMPARE}).",
                                elem_id="tw-text-tokenizers")
            run = gr.Button("Tokenize", variant="primary", elem_id="tw-text-run")
            box = link_box("text", LINK_INFO)
    with gr.Accordion("How to read the tokens", open=False):
        gr.Markdown(LEGEND)
    first_html, first_json = tokenize(DEFAULT_TEXT, DEFAULT_TOKENIZERS)  # the view before any event
    view = gr.HTML(value=first_html, label="Tokens", elem_id="tw-text-tokens", js_on_load=CLICK_JS,
                   css_template=CLICK_CSS)
    tree = gr.HTML(value=MERGE_HINT, label="Merge tree", elem_id="tw-text-merge", js_on_load=None)
    with gr.Accordion("Tokens as JSON", open=False):
        as_json = gr.JSON(value=first_json, label="ids per tokenizer", elem_id="tw-text-json")
    ui = TextUI(text=text, names=names, mode=mode, query=box.query, note=box.note)
    gr.on(triggers=[run.click, text.submit, text.change, names.change, mode.change], fn=friendly(show),
          inputs=[text, names, mode], outputs=[view, as_json], api_name="text_view", trigger_mode="always_last")
    view.click(friendly(token_clicked), inputs=None, outputs=tree, api_name="token_clicked")
    # the URL: restored on page load, then kept current (Python builds the query, JS writes it)
    root = gr.context.Context.root_block
    if root is not None:
        root.load(friendly(bind(restore, ui)), inputs=None, outputs=ui.outputs("text", "names", "mode", "note", "query"),
                  api_name=False, show_progress="hidden")
    gr.on(triggers=[text.change, names.change, mode.change], fn=friendly(link), inputs=[text, names, mode],
          outputs=[box.query, box.link], api_name=False, trigger_mode="always_last", show_progress="hidden")
    # API-only endpoints (gradio_client, curl): the same handlers without the mode switch
    api_tokenize = gr.Button(visible=False, elem_id="tw-text-api-tokenize")
    api_tokenize.click(friendly(tokenize), inputs=[text, names], outputs=[view, as_json], api_name="tokenize")
    api_compare = gr.Button(visible=False, elem_id="tw-text-api-compare")
    api_compare.click(friendly(compare), inputs=[text, names], outputs=[view, as_json], api_name="compare")
    gr.api(friendly(merge_tree), api_name="merge_tree")
    export_row("text", jsons={"tokens": as_json}, extra=Extra([text, names, mode], export_items))
