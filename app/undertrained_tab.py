"""Under-trained tab: SmolLM2 tokens the model (almost) never saw in training, and where they occur.

Handlers are plain functions over ``tokenworks.lm.undertrained`` (testable without a server):

    table, status = ranked_table()                  # indicators + verification, cached per process
    hits, status = find_tokens("some text", None)   # flagged tokens in a text or an uploaded .txt

An empty corpus, an upload that is not valid UTF-8, a corpus over the limit or a missing model
asset comes back as a status message (and an empty table), never a traceback. Both handlers run
on the compute queue (app/scheduling.py); the first one computes for about a minute on 2 cores.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.lm.undertrained import MAX_CORPUS_CHARS, UndertrainedReport, analyze, default_n_verify, find_in_corpus
from tokenworks.lm.undertrained_verify import THRESHOLD

MODEL = "lm/smollm2-135m"
MAX_UPLOAD_BYTES = 20 * 2**20
TABLE_COLUMNS = ["rank", "id", "token", "role", "indicator (cos)", "norm", "verified", "max p", "reachable"]
HIT_COLUMNS = ["offset", "id", "token", "why", "before", "after"]
PAPER = ("Land & Bartolo 2024, *Fishing for Magikarp: Automatically Detecting Under-trained Tokens in Large "
         "Language Models* (EMNLP 2024, arXiv:2405.05417)")


def _model():
    import tokenworks as tw

    return tw.load_lm(MODEL)


def message(e: Exception) -> str:
    return f"⚠️ {html.escape(str(e))}"


def _yes_no(v: bool | None) -> str:
    return "" if v is None else ("yes" if v else "no")


def frame(rep: UndertrainedReport) -> pd.DataFrame:
    """The ranked table: verified candidates by rank, then the controls, then the reference tokens."""
    rows = rep.table() + rep.control_rows() + rep.reference_rows()
    return pd.DataFrame.from_records(
        [(r.rank, r.id, r.label, r.role, round(r.indicator, 4), round(r.norm, 3), _yes_no(r.verified),
          None if r.max_prob is None else float(f"{r.max_prob:.3g}"), _yes_no(r.reachable)) for r in rows],
        columns=TABLE_COLUMNS)


def status(rep: UndertrainedReport) -> str:
    s, rel, ref = rep.scan, rep.relation(), rep.scan.reference
    n, ctrl = len(rep.candidates.ids), rep.controls
    names = ", ".join(rep.labels[i] for i in ref.ids.tolist())
    dropped = ", ".join(rep.labels[i] for i in ref.dropped) or "none"
    return (
        f"**{rel.verified} of the top {n} candidates verified under-trained** (the model gives the token less than "
        f"{rep.candidates.threshold:.0%} at the first {rep.candidates.steps} positions of its reply to "
        f"{len(rep.candidates.prompts)} repeat prompts). Controls, frequent English tokens: "
        f"{int(ctrl.verified.sum())} of {len(ctrl.ids)} flagged.\n\n"
        f"Reference set ({len(ref.ids)} tokens known to be unused): {html.escape(names)}; left out as evidently "
        f"trained: {html.escape(dropped)}. Every reference token ranks in the top "
        f"{int(s.rank[ref.ids].max()) + 1} of {len(s.rank):,}.\n\n"
        f"Unreachable tokens (the Metrics tab's number): {rel.workbench_unreachable} of {rel.workbench_probed:,} "
        f"probed; {s.reach.partial_unreachable} of {s.reach.partial_probed} partial-UTF-8 tokens probed here. "
        f"Of the {rel.verified} verified tokens, {rel.verified_reachable} are reachable (a user can type them) and "
        f"{rel.verified_unreachable} unreachable.\n\n"
        f"Computed in {rep.seconds:.0f} s (vocabulary {s.seconds:.1f} s); chat template: "
        f"{html.escape(rep.candidates.template)}.")


def ranked_table() -> tuple[pd.DataFrame, str]:
    """UI handler: (the ranked table, status markdown); an error becomes the message."""
    try:
        rep = analyze(_model())
    except TokenworksError as e:
        return pd.DataFrame(columns=TABLE_COLUMNS), message(e)
    return frame(rep), status(rep)


def _upload_path(upload: Any) -> str | None:
    if upload is None or upload == "":
        return None
    if isinstance(upload, (str, Path)):
        return str(upload)
    return getattr(upload, "path", None) or getattr(upload, "name", None) or (
        upload.get("path") if isinstance(upload, dict) else None)


def corpus_text(text: Any, upload: Any) -> tuple[str, str]:
    """(the corpus, where it came from): the upload when there is one, else the text box."""
    from tokenworks.text.upload import read_corpus_upload

    path = _upload_path(upload)
    if path:
        up = read_corpus_upload(path, max_bytes=MAX_UPLOAD_BYTES)
        return up.text, f"{up.name} ({up.nbytes:,} bytes, {up.encoding})"
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the corpus is empty: paste some text or upload a .txt file")
    return text, "the text box"


def find_tokens(text: Any, upload: Any = None) -> tuple[pd.DataFrame, str]:
    """UI handler: (occurrences of flagged tokens, status markdown); an error becomes the message."""
    empty = pd.DataFrame(columns=HIT_COLUMNS)
    try:
        corpus, source = corpus_text(text, upload)
        lm = _model()
        rep = analyze(lm)
        hits = find_in_corpus(lm, rep, corpus)
    except TokenworksError as e:
        return empty, message(e)
    rows = [(o.start, o.token_id, o.label, o.why, o.left, o.right) for o in hits.occurrences]
    found = ", ".join(f"{rep.labels[t]} ×{c}" for t, c in sorted(hits.counts.items(), key=lambda kv: -kv[1]))
    msg = (f"**{sum(hits.counts.values())} occurrences** of {len(hits.counts)} flagged tokens in {source}: "
           f"{hits.n_chars:,} characters, {hits.n_tokens:,} tokens; searched for {hits.looked_for} tokens "
           f"(verified under-trained and the reference set). {html.escape(found)}")
    msg += "".join(f"\n\n⚠️ {html.escape(n)}" for n in hits.notes)
    return pd.DataFrame.from_records(rows, columns=HIT_COLUMNS), msg


def build(tab: Any = None) -> None:
    """Lay out the Under-trained tab inside the current gr.Blocks context."""
    import gradio as gr

    from .widgets import export_row, friendly

    gr.Markdown(
        "### Under-trained tokens in SmolLM2-135M\n"
        f"Following {PAPER}. Each token's row of the (tied) unembedding, with its first principal component "
        "removed, is compared (cosine) with the mean row of tokens known to be unused: control tokens nothing "
        "uses and tokens no text can produce. The closest ordinary tokens are candidates; the model is then asked "
        f"to repeat each one. **Verified** means it gives the token under {THRESHOLD:.0%}. The top "
        f"{default_n_verify()} candidates and a few frequent English tokens (controls) are verified; this takes "
        "about a minute on 2 cores, once per server."
    )
    run = gr.Button("Find under-trained tokens", variant="primary", elem_id="tw-undertrained-run")
    state = gr.Markdown("Press the button to rank the vocabulary and verify the candidates.",
                        elem_id="tw-undertrained-status")
    table = gr.Dataframe(headers=TABLE_COLUMNS, label="Ranked candidates, controls and reference tokens",
                         interactive=False, wrap=True, max_height=480, elem_id="tw-undertrained-table")
    run.click(friendly(ranked_table), inputs=None, outputs=[table, state], api_name="undertrained")

    gr.Markdown(f"### Find them in a text\nAt most {MAX_CORPUS_CHARS:,} characters; an upload (UTF-8, or UTF-16/32 "
                f"with a BOM; at most {MAX_UPLOAD_BYTES // 2**20} MB) is used instead of the box. Looks for the "
                "verified tokens and the reference tokens (a control token's text, such as `<jupyter_text>`, "
                "counts). The first search also ranks the vocabulary.")
    with gr.Row():
        corpus = gr.Textbox(label="Text", lines=5, max_lines=12, scale=3, elem_id="tw-undertrained-corpus",
                            placeholder="Paste text, e.g. code or logs: ... InstancePreprocess ...")
        upload = gr.File(label="or upload a .txt file", file_types=[".txt", ".md", ".py", ".json", ".csv"],
                         scale=2, elem_id="tw-undertrained-upload")
    find = gr.Button("Find in text", elem_id="tw-undertrained-find")
    found = gr.Markdown("", elem_id="tw-undertrained-found")
    hits = gr.Dataframe(headers=HIT_COLUMNS, label="Occurrences (character offset, context)", interactive=False,
                        wrap=True, max_height=400, elem_id="tw-undertrained-hits")
    find.click(friendly(find_tokens), inputs=[corpus, upload], outputs=[hits, found], api_name="undertrained_find")
    export_row("undertrained", tables={"under-trained tokens": table, "occurrences": hits})
