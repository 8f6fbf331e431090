"""Text tab: tokenize text with one or more tokenizers and see every token, its id and its spans."""
from __future__ import annotations

from typing import Any

import gradio as gr

import tokenworks as tw
from tokenworks.errors import InvalidInput
from tokenworks.viz.text import tokens_html

MAX_CHARS = 100_000  # longest text the tab accepts
MAX_TOKENIZERS = 6  # how many tokenizers one request may compare
DEFAULT_TEXT = "Tokenizers turn text into numbers: héllo, 世界, 👋🏽!"
DEFAULT_TOKENIZERS = ["text/cl100k_base", "text/bytes"]  # a real vocabulary beside the byte baseline


def text_tokenizers() -> list[str]:
    """Registered text tokenizers, then the ones trained here (``run:...``, see `tokenworks train text`)."""
    return tw.available("text") + tw.trained_runs("text")


def tokenize(text: str, tokenizers: list[str] | str | None) -> tuple[str, list[dict[str, Any]]]:
    """Tokenize ``text`` with each named tokenizer; return the HTML view and the tokens as JSON."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidInput(f"text must be a string, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"text has {len(text):,} characters; the limit is {MAX_CHARS:,}. Paste a shorter piece.")
    names = [tokenizers] if isinstance(tokenizers, str) else list(tokenizers or [])
    if not names:
        raise InvalidInput(f"choose at least one tokenizer: {', '.join(text_tokenizers())}")
    if len(names) > MAX_TOKENIZERS:
        raise InvalidInput(f"compare at most {MAX_TOKENIZERS} tokenizers at once (got {len(names)})")
    blocks, records = [], []
    for name in names:
        tok = tw.load_ref(name)
        if tok.modality != "text":
            raise InvalidInput(f"{name} is a {tok.modality} tokenizer; choose one of {', '.join(text_tokenizers())}")
        seq = tok.encode(text)
        blocks.append(f"<h4 class='tw-name'>{tok.name} <small>(vocabulary {tok.vocab_size:,})</small></h4>{tokens_html(seq, text)}")
        records.append({"tokenizer": tok.name, "n_tokens": len(seq), "ids": seq.tolist(), "lossless": seq.lossless})
    return "".join(blocks), records


def build() -> None:
    """Lay out the Text tab inside the current gr.Blocks context."""
    from .common import friendly

    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(
                value=DEFAULT_TEXT,
                label="Text",
                lines=5,
                max_length=MAX_CHARS,
                info=f"Up to {MAX_CHARS:,} characters. Tokens update as you type.",
                elem_id="tw-text-input",
            )
        with gr.Column(scale=2):
            names = gr.Dropdown(
                choices=text_tokenizers(),
                value=DEFAULT_TOKENIZERS,
                multiselect=True,
                max_choices=MAX_TOKENIZERS,
                label="Tokenizers",
                info=f"Pick up to {MAX_TOKENIZERS} to compare.",
                elem_id="tw-text-tokenizers",
            )
            run = gr.Button("Tokenize", variant="primary", elem_id="tw-text-run")
    first_html, first_json = tokenize(DEFAULT_TEXT, DEFAULT_TOKENIZERS)  # the view before any event
    view = gr.HTML(value=first_html, label="Tokens", elem_id="tw-text-tokens")
    with gr.Accordion("Tokens as JSON", open=False):
        as_json = gr.JSON(value=first_json, label="ids per tokenizer", elem_id="tw-text-json")
    gr.on(
        triggers=[run.click, text.submit, text.change, names.change],
        fn=friendly(tokenize),
        inputs=[text, names],
        outputs=[view, as_json],
        api_name="tokenize",
        trigger_mode="always_last",
    )
