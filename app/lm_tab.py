"""LM tab: what a text's tokens cost SmolLM2-135M, what it expected instead, and what goes wrong
when a prompt ends inside a word.

The library computes (``tokenworks.lm.inspect``: ``analyze``, ``midword``), ``app/lm_views.py``
keeps the analysis in the session cache and formats, and this module lays the tab out and answers
its events:

    out = on_score(LMUI.named(), "The cat sat on the mat.", False)    # {name: value} by component
    out["status"], out["view"], out["next_plot"]
    on_midword("Once upon a ti", 24)                                   # (Markdown, next-bytes figure)

Handlers return ``{component: value}`` (``widgets.Components``) or tuples; empty or over-long
text, a .txt upload that is not UTF-8, a prefix of special tokens only, a generation over the
limit and a missing model asset each become a message, never a traceback.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import gradio as gr

from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.lm.inspect import (DEFAULT_GENERATE_BYTES, MAX_GENERATE_BYTES, MAX_PREFIX_CHARS, MAX_TEXT_CHARS,
                                   midword, read_text_upload)
from tokenworks.viz.lm import next_bytes_figure, next_tokens_figure, surprisal_html

from . import links
from .exports import Extra, Items
from .lm_views import (DEFAULT_PREFIX, DEFAULT_TEXT, INTRO, TOKEN_COLUMNS, LMState, analysis_of, chat_markdown,
                       export_json, load_model, midword_markdown, problem, score_text, status_markdown, token_rows)
from .widgets import Components, bind, export_row, friendly, link_box, link_info, link_notes, opens, params_of
from .widgets import selected, warn, whole_number

MIDWORD_INTRO = (
    "A prompt cut inside a word (*Once upon a ti*) ends with a token the tokenizer would not have chosen had the "
    "word gone on, so a tokenized model predicts badly after it. Three next-byte distributions side by side: "
    "**naive** (tokenize the prefix, read each next token's first byte), **healing** (back up one token) and "
    "**exact** (Phan et al. 2024: sum over every tokenization that could continue the prefix), then the greedy "
    "continuation token by token and byte by byte. The byte-level one runs the exact method once per byte: "
    "a fraction of a second each on a CPU."
)
# a click on a chip sends its position; the chip is outlined at once
CLICK_JS = """
element.addEventListener('click', (e) => {
  const chip = e.target.closest('.tw-ltok');
  if (!chip || !element.contains(chip)) return;
  element.querySelectorAll('.tw-ltok.tw-selected').forEach((c) => c.classList.remove('tw-selected'));
  chip.classList.add('tw-selected');
  trigger('click', {index: Number(chip.dataset.index)});
});
"""


@dataclass
class LMUI(Components):
    text: Any  # the input and settings
    upload: Any
    chat: Any
    state: Any  # gr.State: an LMState
    status: Any  # what one scoring shows
    chat_info: Any
    view: Any
    token: Any
    token_note: Any
    next_plot: Any
    table: Any
    prefix: Any  # the mid-word panel
    length: Any
    mid_status: Any
    bytes_plot: Any
    query: Any  # the link box
    note: Any
    tabs: Any

    SCORED = ("state", "status", "chat_info", "view", "token", "token_note", "next_plot", "table")
    MIDWORD = ("mid_status", "bytes_plot")


def scored(ui: LMUI, state: LMState, a: Any, token: int | None = None) -> dict:
    """Every view of one scored text, token ``token`` selected (None: the last)."""
    import pandas as pd

    i = a.n_tokens - 1 if token is None else a.check_index(token)
    last = a.n_tokens - 1
    return ui.set(state=state, status=status_markdown(a), chat_info=chat_markdown(a), view=surprisal_html(a, i),
                  token=gr.update(value=i, maximum=last, label=f"token # (0 to {last:,})"), token_note="",
                  next_plot=next_tokens_figure(a.next_tokens(i)),
                  table=pd.DataFrame(token_rows(a), columns=TOKEN_COLUMNS))


def failed(ui: LMUI, e: Exception, quiet: bool = False) -> dict:
    if not quiet:
        warn(str(e))
    return ui.set(state=None, status=problem(e), chat_info="", view="", token_note="", next_plot=None, table=None)


def on_score(ui: LMUI, text: Any, chat: Any, state: Any = None, quiet: bool = False) -> dict:
    """UI handler: score the text (in the chat template when ``chat``) and fill every view."""
    try:
        st, a = score_text(text, chat, replaces=getattr(state, "key", None))
        return scored(ui, st, a)
    except TokenworksError as e:
        return failed(ui, e, quiet)


def _upload_path(upload: Any) -> str:
    if isinstance(upload, dict):  # a FileData-like dict from the API
        upload = upload.get("path")
    if isinstance(upload, (str, os.PathLike)) and str(upload):
        return str(upload)
    raise InvalidInput("upload a .txt file (UTF-8 text)")


def on_upload(ui: LMUI, upload: Any, chat: Any, state: Any = None) -> dict:
    """UI handler: a .txt upload becomes the text, and is scored."""
    try:
        text = read_text_upload(_upload_path(upload))
    except TokenworksError as e:
        return failed(ui, e)
    return {**on_score(ui, text, chat, state), **ui.set(text=text)}


def on_token(state: Any, token: Any) -> tuple:
    """UI handler for "token #": (tokens with that one outlined, its next-token figure, note)."""
    try:
        a = analysis_of(state)
        i = a.check_index(token)
        return surprisal_html(a, i), next_tokens_figure(a.next_tokens(i)), ""
    except TokenworksError as e:
        return gr.update(), gr.update(), problem(e)


def token_clicked(state: Any, evt: gr.EventData) -> tuple:
    """A token in the view was clicked: (token #, its next-token figure, note)."""
    data = getattr(evt, "_data", None)
    index = data.get("index") if isinstance(data, dict) else None  # the page sends {"index": i}
    try:
        a = analysis_of(state)
        i = a.check_index(index)
        return i, next_tokens_figure(a.next_tokens(i)), ""
    except TokenworksError as e:
        return gr.update(), gr.update(), problem(e)


def on_midword(prefix: Any, length: Any) -> tuple:
    """UI handler for the mid-word panel: (Markdown, next-bytes figure); bad input: (message, None)."""
    try:
        m = midword(load_model(), prefix, length)
        return midword_markdown(m), next_bytes_figure(m.next)
    except TokenworksError as e:
        warn(str(e))
        return problem(e), None


def on_open(ui: LMUI, state: Any, text: Any, chat: Any) -> dict:
    """UI handler when the tab is opened: score the text once (nothing if a view exists)."""
    if isinstance(state, LMState):
        return {}
    return on_score(ui, text, chat, quiet=True)


def export_items(state: Any) -> Items:
    """For the export: the analysis as JSON (settings, numbers, every token, the chat template's additions)."""
    if not isinstance(state, LMState):
        return Items(notes=["analysis: no text scored yet"])
    return Items(jsons={"analysis": export_json(analysis_of(state), state)})


# ---- the link ----------------------------------------------------------------------------------

SPEC = links.lm_spec(None, MAX_TEXT_CHARS, None, MAX_PREFIX_CHARS, MAX_GENERATE_BYTES)  # the parameters only


def link_spec() -> links.TabSpec:
    return links.lm_spec(DEFAULT_TEXT, MAX_TEXT_CHARS, DEFAULT_PREFIX, MAX_PREFIX_CHARS, MAX_GENERATE_BYTES)


def link(text: Any, chat: Any, token: Any, prefix: Any, length: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the tab's controls as they are; a text too long for a link
    is left out, and the box says so."""
    t, n = whole_number(token), whole_number(length)
    state = links.LMLink(text=text if isinstance(text, str) else None, chat="on" if chat is True else None,
                         token=t if t is not None and t >= 0 else None,
                         prefix=prefix if isinstance(prefix, str) and prefix else None,
                         length=n if n is not None and 1 <= n <= MAX_GENERATE_BYTES else None)
    left = links.left_out(SPEC, state)
    note = (f"The {' and the '.join(left)} {'is' if len(left) == 1 else 'are'} too long for a link; the link keeps "
            "the other settings." if left else "")
    return links.build_link(SPEC, state), link_info(note)


def restore(ui: LMUI, text: Any, chat: Any, prefix: Any, length: Any, request: gr.Request) -> dict:
    """Page load: a link to this tab scores its text (in chat mode if it says so), selects its token
    and, when it gives a prefix, fills the mid-word panel; any other page load only writes the query."""
    params = params_of(request)
    if not opens(params, "lm"):
        return ui.set(note="", query=link(text, chat, None, prefix, length)[0])
    parsed = links.parse_link(params, link_spec())
    s, notes = parsed.state, parsed.notes
    chat_on = s.chat == "on"
    n = s.length or DEFAULT_GENERATE_BYTES
    token = s.token
    try:
        st, a = score_text(s.text, chat_on)
        if token is not None and token >= a.n_tokens:
            notes.append(f"token={token} is past the last token of this text (0 to {a.n_tokens - 1}); "
                         "showing the last.")
            token = None
        out = scored(ui, st, a, token)
    except TokenworksError as e:
        out = failed(ui, e, quiet=True)
    if "prefix" in parsed.given:
        out.update(zip(ui.outputs(*LMUI.MIDWORD), on_midword(s.prefix, n)))
    query = links.build_link(SPEC, links.LMLink(s.text, s.chat if chat_on else None, token, s.prefix, s.length))
    return {**out, **ui.set(text=s.text, chat=chat_on, prefix=s.prefix, length=n, note=link_notes(notes),
                            query=query, tabs=selected("lm"))}


def build(tab: Any = None) -> None:
    """Lay out the LM tab inside the current gr.Blocks context (``tab``: its gr.Tab, to score the
    default text when it is first opened, so the model loads only for people who look)."""
    gr.Markdown(INTRO)
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(value=DEFAULT_TEXT, label="Text", lines=4, max_length=MAX_TEXT_CHARS,
                              info=f"Up to {MAX_TEXT_CHARS:,} characters. Press Score.", elem_id="tw-lm-text")
            upload = gr.File(label=f"…or upload a .txt file (UTF-8, up to {MAX_TEXT_CHARS:,} characters)",
                             file_types=[".txt"], type="filepath", height=140, elem_id="tw-lm-upload")
        with gr.Column(scale=2):
            chat = gr.Checkbox(False, label="Chat mode: apply the model's chat template",
                               info="Scores the text as a user turn, and counts the special tokens and text the "
                                    "template adds.", elem_id="tw-lm-chat")
            run = gr.Button("Score", variant="primary", elem_id="tw-lm-run")
            box = link_box("lm")
    status = gr.Markdown("Open this tab or press **Score**: the model loads once (about 10 s).",
                         elem_id="tw-lm-status")
    chat_info = gr.Markdown(elem_id="tw-lm-chat-info")
    view = gr.HTML(label="Tokens by surprisal", elem_id="tw-lm-tokens", js_on_load=CLICK_JS)
    with gr.Row(equal_height=False):
        token = gr.Number(label="token #", info="Click a token above, or type its number (0 is the first).",
                          precision=0, minimum=0, scale=1, elem_id="tw-lm-token")
        token_note = gr.Markdown(elem_id="tw-lm-token-note")
    next_plot = gr.Plot(label="Next tokens", show_label=False, elem_id="tw-lm-next")
    with gr.Accordion("Every token as a table", open=False):
        table = gr.Dataframe(headers=TOKEN_COLUMNS, interactive=False, max_height=400, elem_id="tw-lm-table")
    with gr.Accordion("A prompt that ends mid-word", open=True):
        gr.Markdown(MIDWORD_INTRO)
        with gr.Row():
            prefix = gr.Textbox(value=DEFAULT_PREFIX, label="Prefix", max_length=MAX_PREFIX_CHARS, scale=3,
                                info=f"Up to {MAX_PREFIX_CHARS:,} characters; cut it inside a word.",
                                elem_id="tw-lm-prefix")
            length = gr.Slider(1, MAX_GENERATE_BYTES, value=DEFAULT_GENERATE_BYTES, step=1, scale=2,
                               label=f"Bytes to generate (1 to {MAX_GENERATE_BYTES})", elem_id="tw-lm-length")
            mid_run = gr.Button("Predict the next bytes", scale=1, elem_id="tw-lm-midword-run")
        mid_status = gr.Markdown(elem_id="tw-lm-midword")
        bytes_plot = gr.Plot(label="Next bytes", show_label=False, elem_id="tw-lm-bytes")
    ui = LMUI(text=text, upload=upload, chat=chat, state=gr.State(None), status=status, chat_info=chat_info,
              view=view, token=token, token_note=token_note, next_plot=next_plot, table=table, prefix=prefix,
              length=length, mid_status=mid_status, bytes_plot=bytes_plot, query=box.query, note=box.note,
              tabs=box.tabs)
    state = ui.state
    gr.on(triggers=[text.change, chat.change, token.change, prefix.change, length.change], fn=friendly(link),
          inputs=[text, chat, token, prefix, length], outputs=[box.query, box.link], api_name=False,
          trigger_mode="always_last", show_progress="hidden")
    root = gr.context.Context.root_block
    if root is not None:  # a link to this tab: its view on page load
        root.load(friendly(bind(restore, ui)), inputs=[text, chat, prefix, length],
                  outputs=ui.outputs(*LMUI.SCORED, *LMUI.MIDWORD, "text", "chat", "prefix", "length", "note",
                                     "query", "tabs"), api_name=False)
    gr.on(triggers=[run.click, chat.input], fn=friendly(bind(on_score, ui)), inputs=[text, chat, state],
          outputs=ui.outputs(*LMUI.SCORED), api_name="lm_score")
    upload.upload(friendly(bind(on_upload, ui)), inputs=[upload, chat, state],
                  outputs=ui.outputs(*LMUI.SCORED, "text"), api_name="lm_upload")
    view.click(friendly(token_clicked), inputs=[state], outputs=[token, next_plot, token_note],
               api_name="lm_token_clicked", show_progress="hidden")
    token.input(friendly(on_token), inputs=[state, token], outputs=[view, next_plot, token_note],
                api_name="lm_token", trigger_mode="always_last", show_progress="hidden")
    gr.on(triggers=[mid_run.click, prefix.submit], fn=friendly(on_midword), inputs=[prefix, length],
          outputs=[mid_status, bytes_plot], api_name="lm_midword")
    if tab is not None:
        tab.select(friendly(bind(on_open, ui)), inputs=[state, text, chat], outputs=ui.outputs(*LMUI.SCORED),
                   api_name="lm_open")
    export_row("lm", figures={"next tokens": next_plot, "next bytes": bytes_plot},
               tables={"tokens": table}, extra=Extra([state], export_items))
