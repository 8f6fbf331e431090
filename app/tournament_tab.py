"""Tournament tab: which tokenizer makes the better model at equal compute (tokenworks.lm.tiny).

Handlers are plain functions over ``tokenworks.lm.tiny.view`` and ``.job`` (testable without a server):

    table, fig, status, models = show_board(folder)           # a finished tournament's leaderboard
    status = start_tiny()                                     # the cpu-tiny tournament, in the background
    status = tiny_status()                                    # its log so far
    html, status = show_deletion(model_folder, "Some text")   # what a pooled byte model keeps

A folder with no leaderboard, a second start while one runs, a model that keeps every position or
a text over the limit comes back as a status message, never a traceback.
"""
from __future__ import annotations

import html
from typing import Any

import gradio as gr
import pandas as pd

from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.paths import runs_dir

from . import links

MAX_TEXT = 2_000  # characters the deletion view reads
TINY_FOLDER = "tournament-cpu-tiny"  # runs/lm/<this>: where the one-click tournament writes
DEFAULT_TEXT = "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife."
INTRO = (
    "### Which tokenizer makes the better model?\n"
    "The same small transformer trained from scratch with each way of reading text, at the **same training FLOPs** "
    "(counted by the code) and the **same non-embedding parameters**, scored in **bits per byte** on held-out text "
    "(bits per token do not compare: a longer token carries more bits). Contestants: raw bytes; byte-level BPE at three sizes; a byte-level "
    "Unigram; SuperBPE; a byte model with an MrT5-style learned delete gate; and a byte → word → byte model. "
    "Probes: bits per byte after typos, case changes, diacritics, Unicode look-alikes and doubled spaces "
    "(worst shown), and a spelling probe (is the right spelling more likely than a swapped or changed letter?)."
)


def message(e: Exception) -> str:
    return f"⚠️ {html.escape(str(e))}"


def board_choices() -> list[tuple[str, str]]:
    from tokenworks.lm.tiny.view import tournament_choices

    return tournament_choices()


def _folder(value: Any) -> str:
    choices = board_choices()
    for label, folder in choices:
        if value in (label, folder):
            return folder
    raise InvalidInput("pick a leaderboard: " + (", ".join(label for label, _ in choices) or
                                                 "none yet; start the cpu-tiny tournament below"))


def show_board(board: Any) -> tuple[pd.DataFrame, Any, str, Any]:
    """UI handler: (leaderboard table, figure, status markdown, the deletion model picker)."""
    from tokenworks.lm.tiny.view import TABLE_COLUMNS, analyze

    try:
        v = analyze(_folder(board))
    except TokenworksError as e:
        return pd.DataFrame(columns=TABLE_COLUMNS), None, message(e), gr.update(choices=[])
    fig = v.figure.update_layout(width=None, autosize=True)
    models = gr.update(choices=v.pooled_models, value=v.pooled_models[0][1] if v.pooled_models else None)
    return pd.DataFrame(v.rows, columns=TABLE_COLUMNS), fig, v.summary, models


def _tiny_folder():
    return runs_dir() / "lm" / TINY_FOLDER


def _job_text(st) -> str:
    log = "\n".join(st.lines[-8:])
    head = {"none": "No cpu-tiny tournament has run here yet.",
            "running": f"Running (pid {st.pid}); press Refresh to follow it.",
            "done": f"Done: pick **{TINY_FOLDER} (runs)** above to see its leaderboard.",
            "failed": "It stopped before writing the leaderboard; the log says why."}[st.state]
    return head + (f"\n\n```\n{log}\n```" if log else "")


def start_tiny() -> str:
    """UI handler: start the cpu-tiny tournament in the background (one at a time)."""
    from tokenworks.lm.tiny.job import start_job

    try:
        st = start_job(_tiny_folder(), "cpu-tiny")
    except TokenworksError as e:
        return message(e)
    return _job_text(st)


def tiny_status() -> str:
    from tokenworks.lm.tiny.job import job_status

    return _job_text(job_status(_tiny_folder()))


def show_deletion(model: Any, text: Any) -> tuple[str, str]:
    """UI handler: (the text coloured by what the gate kept, status markdown)."""
    from tokenworks.lm.tiny.deletion import deletion_view
    from tokenworks.lm.tiny.load import load_tiny
    from tokenworks.viz.tournament import deletion_html

    try:
        if not isinstance(model, str) or not model:
            raise InvalidInput("pick a delete or words model (show a leaderboard first)")
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise InvalidInput(f"the text must be at most {MAX_TEXT:,} characters")
        m = load_tiny(model)
        v = deletion_view(m, text)
    except TokenworksError as e:
        return "", message(e)
    what = ("the learned gate" if m.model.cfg.input == "delete" else "the word rule (whitespace, or every "
            f"{m.model.cfg.max_word} bytes)")
    return deletion_html(v), (f"{m.contestant}: {what} kept {v.kept_bytes:,} of {v.n_bytes:,} bytes "
                              f"({v.kept_share:.0%}); deleted bytes are grey.")


# ---- the link ----------------------------------------------------------------------------------

def link_spec() -> links.TabSpec:
    labels = [label for label, _ in board_choices()]
    return links.tournament_spec(labels, labels[0] if labels else None, DEFAULT_TEXT, MAX_TEXT)


def link(board: Any, text: Any) -> str:
    labels = {f: label for label, f in board_choices()}
    state = links.TournamentLink(labels.get(board, board if isinstance(board, str) else None),
                                 text if isinstance(text, str) and len(text) <= MAX_TEXT else None)
    return links.build_link(link_spec(), state)


def restore(board: Any, text: Any, request: gr.Request) -> tuple:
    from .widgets import link_notes, opens, params_of, selected

    params = params_of(request)
    if not opens(params, "tournament"):
        return gr.skip(), gr.skip(), "", link(board, text), gr.skip()
    parsed = links.parse_link(params, link_spec())
    s = parsed.state
    folder = dict(board_choices()).get(s.board, gr.skip())
    return folder, s.text, link_notes(parsed.notes), links.build_link(link_spec(), s), selected("tournament")


def build(tab: Any = None) -> None:
    """Lay out the Tournament tab inside the current gr.Blocks context."""
    from .widgets import export_row, friendly, link_box

    gr.Markdown(INTRO)
    choices = board_choices()
    with gr.Row():
        board = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Leaderboard",
                            info="Shipped tournaments, then the ones run here (runs/lm/tournament-*)",
                            elem_id="tw-tournament-board", scale=3)
        show = gr.Button("Show leaderboard", variant="primary", elem_id="tw-tournament-show", scale=1)
    status = gr.Markdown("Pick a leaderboard and press Show.", elem_id="tw-tournament-status")
    table = gr.Dataframe(label="Leaderboard (mean over seeds; ± is half the range)", interactive=False, wrap=True,
                         elem_id="tw-tournament-table")
    chart = gr.Plot(label="Bits per byte against compute and against bytes per token", elem_id="tw-tournament-chart")

    gr.Markdown("### What the delete gate learned\nThe bytes a pooled model carries into its middle blocks "
                f"(bold, red); the others are deleted after the byte encoder. At most {MAX_TEXT:,} characters.")
    with gr.Row():
        model = gr.Dropdown([], label="Model", elem_id="tw-tournament-model", scale=2)
        text = gr.Textbox(DEFAULT_TEXT, label="Text", lines=2, max_lines=6, elem_id="tw-tournament-text", scale=3)
    draw = gr.Button("Show kept bytes", elem_id="tw-tournament-draw")
    kept_note = gr.Markdown("", elem_id="tw-tournament-kept-status")
    kept = gr.HTML("", elem_id="tw-tournament-kept")

    gr.Markdown("### Run one here\nThe cpu-tiny preset: every contestant, 2 seeds, English and the multilingual mix: "
                "32 small models, each trained in seconds (`tokenworks lm tournament --preset cpu-tiny`). The full "
                "cpu preset takes over an hour on 2 cores: run it from a shell (`tokenworks lm tournament --preset cpu`).")
    with gr.Row():
        start = gr.Button("Start the cpu-tiny tournament", elem_id="tw-tournament-start")
        refresh = gr.Button("Refresh", elem_id="tw-tournament-refresh")
    job = gr.Markdown("", elem_id="tw-tournament-job")
    box = link_box("tournament")

    shown = [table, chart, status, model]
    show.click(friendly(show_board), inputs=board, outputs=shown, api_name="tournament_show")
    draw.click(friendly(show_deletion), inputs=[model, text], outputs=[kept, kept_note], api_name="tournament_kept")
    start.click(friendly(start_tiny), inputs=None, outputs=job, api_name="tournament_start")
    refresh.click(friendly(tiny_status), inputs=None, outputs=job, api_name="tournament_status")
    if tab is not None:  # new tournaments appear in the picker
        tab.select(lambda: gr.update(choices=board_choices()), None, board, api_name=False)
    gr.on(triggers=[board.change, text.change], fn=friendly(link), inputs=[board, text], outputs=box.query,
          api_name=False, show_progress="hidden")
    root = gr.context.Context.root_block
    if root is not None:
        root.load(friendly(restore), inputs=[board, text], outputs=[board, text, box.note, box.query, box.tabs],
                  api_name=False, show_progress="hidden")
    export_row("tournament", figures={"leaderboard": chart}, tables={"leaderboard": table})


__all__ = ["build", "link", "restore", "show_board", "show_deletion", "start_tiny", "tiny_status"]
