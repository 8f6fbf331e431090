"""Transfer tab: give SmolLM2 a new tokenizer (tokenworks.lm.transplant) and measure what it costs.

Handlers are plain functions over ``tokenworks.lm.transfer_inspect`` (testable without a server):

    table, status = on_preflight("text/cl100k_base", "fvt")               # no weights built
    table, fig, status, examples = transplant_and_score(tok, "fvt", ["english"], 1200)
    table, status = on_token(tok, "fvt", " lighthouse")                   # what one new token was built from
    status = on_save(tok, "fvt", "smollm2-cl100k-fvt")                    # runs/lm/<name>

A lossy or unknown tokenizer, an unknown method, a missing model asset, a bad checkpoint name or
an interrupted save comes back as a status message (and empty outputs), never a traceback. Every
handler but the link runs on the compute queue (app/scheduling.py).
"""
from __future__ import annotations

import html
from typing import Any

import gradio as gr
import pandas as pd

from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.lm.domains import DOMAINS
from tokenworks.lm.new_embeddings import METHODS
from tokenworks.lm.transfer_inspect import (
    DEFAULT_CHARS, MAX_DOMAIN_CHARS, TARGETS, cached_keys, cached_transplant, example_tokens, preflight_report,
    save_transplant, score_domains, token_breakdown,
)

from . import links
from .transfer_views import (
    PREFLIGHT_COLUMNS, SCORE_COLUMNS, TOKEN_COLUMNS, message, method_choices, preflight_frame, preflight_status,
    scores_frame, scores_status, token_frame, token_status, tokenizer_choices,
)

MODEL = "lm/smollm2-135m"
DEFAULT_TOKENIZER = TARGETS[0]
DEFAULT_METHOD = "fvt"
DEFAULT_DOMAINS = ("english", "python", "udhr-deu_1996", "udhr-fra")
FINETUNE = "lm-embeddings"  # the trainer this tab can start, when tokenworks.train.jobs has it


def _model():
    import tokenworks as tw

    return tw.load_lm(MODEL)


def _pick(tokenizer: Any, method: Any) -> tuple[str, str]:
    if not isinstance(tokenizer, str) or not tokenizer.strip():
        raise InvalidInput(f"choose a target tokenizer, e.g. {DEFAULT_TOKENIZER}")
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    return tokenizer.strip(), method


def on_preflight(tokenizer: Any, method: Any) -> tuple[pd.DataFrame, str]:
    """UI handler: (the pre-flight table, status markdown); an error becomes the message."""
    try:
        tok, m = _pick(tokenizer, method)
        r = preflight_report(_model(), tok, m)
    except TokenworksError as e:
        return pd.DataFrame(columns=PREFLIGHT_COLUMNS), message(e)
    return preflight_frame(r), preflight_status(r)


def _domains(domains: Any) -> list[str]:
    keys = [d for d in (domains or []) if isinstance(d, str)]
    bad = [d for d in keys if d not in DOMAINS]
    if bad or not keys:
        raise InvalidInput(f"choose one or more domains from {', '.join(DOMAINS)}"
                           + (f" (unknown: {', '.join(bad)})" if bad else ""))
    return keys


def _chars(chars: Any) -> int:
    try:
        n = int(float(chars))
    except (TypeError, ValueError):
        raise InvalidInput(f"characters per domain must be a whole number from 100 to {MAX_DOMAIN_CHARS:,}") from None
    if not 100 <= n <= MAX_DOMAIN_CHARS:
        raise InvalidInput(f"characters per domain must be 100 to {MAX_DOMAIN_CHARS:,} (got {n:,})")
    return n


def transplant_and_score(tokenizer: Any, method: Any, domains: Any, chars: Any = DEFAULT_CHARS
                         ) -> tuple[pd.DataFrame, Any, str, list[str]]:
    """UI handler: (bits per byte per domain, the bar chart, status, example new tokens)."""
    from tokenworks.viz.transfer import domain_bars

    try:
        tok, m = _pick(tokenizer, method)
        keys, n = _domains(domains), _chars(chars)
        lm = _model()
        before = set(cached_keys())
        t = cached_transplant(lm, tok, m)
        s = score_domains(lm, t, keys, n)
        examples = example_tokens(t)
    except TokenworksError as e:
        return pd.DataFrame(columns=SCORE_COLUMNS), None, message(e), []
    cached = (lm.name, t.preflight.new_tokenizer, m) in before
    return scores_frame(s), domain_bars(s, lm.name), scores_status(s, cached), examples


def on_token(tokenizer: Any, method: Any, text: Any) -> tuple[pd.DataFrame, str]:
    """UI handler: (what the token was built from, status); transplants first if it is not cached."""
    try:
        tok, m = _pick(tokenizer, method)
        lm = _model()
        b = token_breakdown(lm, cached_transplant(lm, tok, m), text if isinstance(text, str) else "")
    except TokenworksError as e:
        return pd.DataFrame(columns=TOKEN_COLUMNS), message(e)
    return token_frame(b), token_status(b)


def on_save(tokenizer: Any, method: Any, name: Any) -> str:
    """UI handler: write the transplant to runs/lm/<name>; says where, and how the LM tab loads it."""
    try:
        tok, m = _pick(tokenizer, method)
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("type a name for the checkpoint, e.g. smollm2-cl100k-fvt")
        lm = _model()
        path = save_transplant(cached_transplant(lm, tok, m), name)
    except TokenworksError as e:
        return message(e)
    return (f"Saved to `{html.escape(str(path))}`: the new embedding matrix and a config naming {lm.name}, "
            f"{html.escape(tok)} and {m}. Load it by name: `tw.load_lm(\"lm/{html.escape(path.name)}\")` or "
            f"`tokenworks lm score --model lm/{html.escape(path.name)} \"some text\"`.")


def finetune_available() -> bool:
    try:
        from tokenworks.train.jobs import TRAINERS
    except ImportError:
        return False
    return FINETUNE in TRAINERS


def on_finetune(tokenizer: Any, method: Any) -> str:
    """UI handler: queue a fine-tune of the new embeddings (it appears in the Train tab), if there is a trainer."""
    if not finetune_available():
        return (f"Fine-tuning the new embeddings is not available in this build (no `{FINETUNE}` trainer in "
                "tokenworks.train.jobs); the zero-shot transplant above is what there is.")
    try:
        from tokenworks.train.jobs import submit

        tok, m = _pick(tokenizer, method)
        info = submit(FINETUNE, ["--tokenizer", tok, "--method", m],
                      {"model": MODEL, "tokenizer": tok, "method": m})
    except TokenworksError as e:
        return message(e)
    return f"Queued fine-tune run `{html.escape(str(getattr(info, 'run_id', info)))}`; follow it in the Train tab."


# ---- the link ----------------------------------------------------------------------------------

def link_spec() -> links.TabSpec:
    return links.transfer_spec([v for _, v in tokenizer_choices()], METHODS, DOMAINS, DEFAULT_TOKENIZER,
                               DEFAULT_METHOD, DEFAULT_DOMAINS)


def link(tokenizer: Any, method: Any, domains: Any) -> str:
    """UI handler: the query string of the tab's controls as they are."""
    state = links.TransferLink(tokenizer if isinstance(tokenizer, str) and tokenizer else None,
                               method if method in METHODS else None,
                               tuple(d for d in (domains or []) if d in DOMAINS) or None)
    return links.build_link(link_spec(), state)


def restore(tokenizer: Any, method: Any, domains: Any, request: gr.Request) -> tuple:
    """Page load: a link to this tab sets its controls (computing nothing: the buttons compute)."""
    from .widgets import link_notes, opens, params_of, selected

    params = params_of(request)
    if not opens(params, "transfer"):
        return gr.skip(), gr.skip(), gr.skip(), "", link(tokenizer, method, domains), gr.skip()
    parsed = links.parse_link(params, link_spec())
    s = parsed.state
    return (s.tokenizer, s.method, list(s.domains), link_notes(parsed.notes),
            links.build_link(link_spec(), s), selected("transfer"))


def _with_choices(tokenizer: Any, method: Any, domains: Any, chars: Any) -> tuple:
    """transplant_and_score, with its example tokens as the token picker's choices."""
    frame, fig, status, examples = transplant_and_score(tokenizer, method, domains, chars)
    pick = gr.update(choices=examples, value=examples[0]) if examples else gr.skip()
    return frame, fig, status, pick


INTRO = (
    "### Give SmolLM2-135M a new tokenizer\n"
    "Tokens whose bytes are a SmolLM2 token keep its vector; the others get one from the chosen method "
    "(fvt: the mean of their pieces, Gee et al. 2022; omp: Goddard & Neto 2025, in MiniLM's word-embedding space, "
    "the shared space available offline; tokenadapt: a local + global hybrid). Everything else is the same "
    "network, zero-shot (no training). Byte-level vocabularies only: a lossy one (WordPiece, Unigram with an "
    "unknown token) has no exact bits per byte and is refused with the reason."
)


def build(tab: Any = None) -> None:
    """Lay out the Transfer tab inside the current gr.Blocks context."""
    from .widgets import export_row, friendly, link_box

    gr.Markdown(INTRO)
    with gr.Row():
        tok = gr.Dropdown(tokenizer_choices(), value=DEFAULT_TOKENIZER, label="Target tokenizer",
                          allow_custom_value=True, info="Registry byte-level BPEs and trained text runs",
                          elem_id="tw-transfer-tokenizer")
        method = gr.Dropdown(method_choices(), value=DEFAULT_METHOD, label="Method",
                             info="Time to build on 2 cores; omp and tokenadapt embed every token in MiniLM's space",
                             elem_id="tw-transfer-method")
    with gr.Row():
        domains = gr.CheckboxGroup(list(DOMAINS), value=list(DEFAULT_DOMAINS), label="Held-out domains",
                                   elem_id="tw-transfer-domains", scale=3)
        chars = gr.Slider(100, MAX_DOMAIN_CHARS, value=DEFAULT_CHARS, step=100, label="Characters per domain",
                          info=f"100 to {MAX_DOMAIN_CHARS:,}; both models score the same characters (~1 s per "
                               "1,000 on 2 cores)", elem_id="tw-transfer-chars", scale=2)
    with gr.Row():
        pre = gr.Button("Pre-flight", elem_id="tw-transfer-preflight")
        run = gr.Button("Transplant and score", variant="primary", elem_id="tw-transfer-run")
    status = gr.Markdown("Pre-flight plans the transplant and measures it (no weights); Transplant and score "
                         "builds it (kept in memory: the last two) and scores each domain.",
                         elem_id="tw-transfer-status")
    pre_table = gr.Dataframe(headers=PREFLIGHT_COLUMNS, label="Pre-flight report", interactive=False, wrap=True,
                             max_height=420, elem_id="tw-transfer-preflight-table")
    scores = gr.Dataframe(headers=SCORE_COLUMNS, label="Bits per byte per held-out domain", interactive=False,
                          wrap=True, elem_id="tw-transfer-scores")
    chart = gr.Plot(label="Original vs transplanted", elem_id="tw-transfer-chart")

    gr.Markdown("### One new token\nPick one of the new tokens found in held-out prose, or type a token's text "
                "(␣ for a space). Transplants first if this tokenizer and method are not in memory.")
    with gr.Row():
        token = gr.Dropdown([], label="Token", allow_custom_value=True, elem_id="tw-transfer-token", scale=3)
        show = gr.Button("What was it built from?", elem_id="tw-transfer-token-run", scale=1)
    token_note = gr.Markdown("", elem_id="tw-transfer-token-status")
    token_table = gr.Dataframe(headers=TOKEN_COLUMNS, label="Pieces, combined tokens and nearest base tokens",
                               interactive=False, wrap=True, elem_id="tw-transfer-token-table")

    gr.Markdown("### Keep it\nSaves the new embedding matrix (~100-400 MB) and a config under runs/lm/<name>; "
                "the LM tab and `tw.load_lm(\"lm/<name>\")` load it by name.")
    with gr.Row():
        name = gr.Textbox(label="Checkpoint name", value="smollm2-cl100k_base-fvt", max_length=64,
                          info="Letters, digits, '.', '_' or '-'; an existing one is replaced",
                          elem_id="tw-transfer-name", scale=3)
        save = gr.Button("Save checkpoint", elem_id="tw-transfer-save", scale=1)
        tune = gr.Button("Start fine-tune", elem_id="tw-transfer-finetune", scale=1, interactive=finetune_available())
    saved = gr.Markdown("" if finetune_available() else
                        "Fine-tuning the new embeddings is not available in this build.", elem_id="tw-transfer-saved")
    box = link_box("transfer")

    pre.click(friendly(on_preflight), inputs=[tok, method], outputs=[pre_table, status], api_name="transfer_preflight")
    run.click(friendly(_with_choices), inputs=[tok, method, domains, chars], outputs=[scores, chart, status, token],
              api_name="transfer_score")
    show.click(friendly(on_token), inputs=[tok, method, token], outputs=[token_table, token_note],
               api_name="transfer_token")
    save.click(friendly(on_save), inputs=[tok, method, name], outputs=saved, api_name="transfer_save")
    tune.click(friendly(on_finetune), inputs=[tok, method], outputs=saved, api_name="transfer_finetune")
    gr.on(triggers=[tok.change, method.change, domains.change], fn=friendly(link), inputs=[tok, method, domains],
          outputs=box.query, api_name=False, show_progress="hidden")
    root = gr.context.Context.root_block
    if root is not None:  # a link to this tab sets its controls on page load
        root.load(friendly(restore), inputs=[tok, method, domains],
                  outputs=[tok, method, domains, box.note, box.query, box.tabs], api_name=False,
                  show_progress="hidden")
    export_row("transfer", figures={"bits per byte per domain": chart},
               tables={"pre-flight": pre_table, "bits per byte": scores, "one token": token_table})
