"""Learn tab: replay byte-level BPE merge by merge with a slider, the step-through a teacher uses in
class (``tokenworks.teach.bpe_replay``).

* Training: a small corpus and a number of merges; the slider walks from the corpus as bytes
  (step 0) through every merge: the merge table so far, the pair merged at this step with its
  count, and the corpus as token chips (the new token outlined).
* Encoding: a text encoded with the vocabulary just trained or cl100k_base (``text/bpe-cl100k``),
  one merge application per step, in the encoder's order (chunk by chunk) or in rank order.

Sliders move with the arrow keys when focused; the ◀ step / step ▶ buttons do the same.
Handlers are plain functions (testable without a server); bad input comes back as a message in the
status line, never a traceback:

    v = training_view("aaabdaaabac", 3, 1)
    v.status, v.chips_html, v.table, v.step, v.n_steps
"""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from tokenworks.errors import TokenworksError
from tokenworks.teach.bpe_replay import (MAX_ENCODE_CHARS, MAX_MERGES, MAX_TRAIN_CHARS, EncodingReplay,
                                         TrainingReplay, replay_encoding, replay_training)

from . import links
from .widgets import Components, bind, export_row, friendly, link_box, link_info, link_notes, opens, params_of
from .widgets import selected, whole_number

DEFAULT_CORPUS = (
    "The cat sat on the mat. The cat ate the rat. "
    "That fat cat sat on that mat, and the rat sat on the hat."
)
DEFAULT_MERGES = 25  # the default corpus has room for 28
DEFAULT_ENCODE_TEXT = "The fat cat sat on the hat."
TRAINED = "trained above"
CL100K = "text/bpe-cl100k"
VOCABS = [TRAINED, CL100K]
ORDER_CHOICES = {"encoder order (chunk by chunk)": "chunk", "rank order (earliest merge first, whole text)": "rank"}
MAX_CHIPS = 3000
TABLE_COLUMNS = ["step", "left", "right", "new token", "new id", "count"]
INTRO = (
    "### BPE, merge by merge\n"
    "Byte-level BPE starts from the UTF-8 bytes and repeatedly **merges the most frequent adjacent pair** into a new "
    "token (ties: the smallest pair of ids). Merges never cross a chunk boundary (the GPT-4 regex cuts words, numbers "
    "and spaces apart). Drag the slider, focus it and use ← →, or press the step buttons. "
    f"Limits: a corpus of at most {MAX_TRAIN_CHARS:,} characters, 1 to {MAX_MERGES} merges, an encoded text of at "
    f"most {MAX_ENCODE_CHARS:,} characters."
)
HIGHLIGHT = "outline: 3px solid #dc2626; outline-offset: 1px;"


@functools.lru_cache(maxsize=8)
def _training(corpus: str, n_merges: int) -> TrainingReplay:
    return replay_training(corpus, n_merges)


def _get_training(corpus: Any, n_merges: Any) -> TrainingReplay:
    """The (cached) training replay; unhashable or odd input goes straight to the library's checks."""
    m = _merges(n_merges)
    if isinstance(corpus, str) and isinstance(m, (int, float, str, type(None))):
        return _training(corpus, m)
    return replay_training(corpus, m)


@functools.lru_cache(maxsize=1)
def _cl100k():
    from tokenworks.text.bpe import ByteBPE

    return ByteBPE.from_pretrained("cl100k_base")


@functools.lru_cache(maxsize=8)
def _encoding(text: str, vocab: str, order: str, corpus: str, n_merges: int) -> EncodingReplay:
    tok = _cl100k() if vocab == CL100K else _training(corpus, n_merges).tokenizer
    return replay_encoding(text, tok, order)  # type: ignore[arg-type]


def _int(x: Any, default: int = 0) -> int:
    try:
        return int(round(float(x)))
    except (TypeError, ValueError):
        return default


def _merges(n: Any) -> int:
    """The merge count from a number box; non-numbers pass through so the library names the range."""
    if isinstance(n, float) and n.is_integer():
        return int(n)
    return n


def _chips(seq: Any, source: str, css_rule: str, scope: str) -> str:
    """Token chips; ``css_rule`` outlines the tokens of this step (scoped: a page holds both views)."""
    from tokenworks.viz.text import tokens_html

    style = f"<style>.{scope} {css_rule}</style>" if css_rule else ""
    return f"{style}<div class='{scope}'>{tokens_html(seq, source, max_tokens=MAX_CHIPS)}</div>"


def _message(e: Exception) -> str:
    return f"⚠️ {html.escape(str(e), quote=False)}"


@dataclass
class TrainingView:
    status: str
    chips_html: str = ""
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TABLE_COLUMNS))
    step: int = 0
    n_steps: int = 0
    replay: TrainingReplay | None = None


def training_view(corpus: Any, n_merges: Any, step: Any = 0) -> TrainingView:
    """The training replay at ``step`` (clamped to 0..number of merges learned)."""
    try:
        rep = _get_training(corpus, n_merges)
    except TokenworksError as e:
        return TrainingView(status=_message(e))
    n = rep.n_steps
    k = min(max(_int(step), 0), n)
    seq = rep.seq_at(k)
    nbytes = len(rep.corpus.encode("utf-8", "surrogatepass"))
    if k == 0:
        head = (f"**Step 0 of {n}**: the corpus as its UTF-8 bytes, {len(seq):,} tokens. "
                f"Move the slider to apply the first merge.")
        rule = ""
    else:
        s = rep.steps[k - 1]
        head = (f"**Step {k} of {n}**: merged `{html.escape(s.left_text)}` + `{html.escape(s.right_text)}` → "
                f"`{html.escape(s.merged)}` (new id {s.new_id}), the most frequent pair: seen {s.count:,} times "
                f"(overlapping occurrences counted). The corpus is now {len(seq):,} tokens for {nbytes:,} bytes "
                f"({nbytes / max(len(seq), 1):.2f} bytes/token); the new token is outlined in red.")
        rule = f".tw-tok[data-id='{s.new_id}'] {{ {HIGHLIGHT} }}"
    if rep.stopped_early:
        head += f"\n\nStopped after {n} of {rep.requested} merges: {html.escape(rep.reason)}."
    table = pd.DataFrame.from_records(rep.table(k), columns=TABLE_COLUMNS)
    return TrainingView(status=head, chips_html=_chips(seq, rep.corpus, rule, 'tw-learn-train'), table=table, step=k, n_steps=n,
                        replay=rep)


@dataclass
class EncodingView:
    status: str
    chips_html: str = ""
    step: int = 0
    n_steps: int = 0
    replay: EncodingReplay | None = None


def encoding_view(text: Any, vocab: Any = TRAINED, order: Any = "chunk", corpus: Any = DEFAULT_CORPUS,
                  n_merges: Any = DEFAULT_MERGES, step: Any = 0) -> EncodingView:
    """The encoding replay of ``text`` with ``vocab`` (TRAINED: the vocabulary trained on ``corpus``
    with ``n_merges``; CL100K) at merge application ``step``."""
    order = ORDER_CHOICES.get(order, order) if isinstance(order, str) else order
    if vocab not in VOCABS:
        return EncodingView(status=_message(ValueError(f"choose the vocabulary {' or '.join(VOCABS)}, got {vocab!r}")))
    if order not in ORDER_CHOICES.values():
        return EncodingView(status=_message(ValueError(f"order must be one of {', '.join(ORDER_CHOICES.values())}")))
    try:
        if vocab == TRAINED:
            _get_training(corpus, n_merges)  # the library's message when the corpus or merge count is wrong
        if not isinstance(text, str):
            replay_encoding(text, None, order)  # type: ignore[arg-type]  (raises the library's message)
        rep = _encoding(text, vocab, order, corpus if vocab == TRAINED else "", _merges(n_merges) if vocab == TRAINED else 0)
    except TokenworksError as e:
        where = " (train a vocabulary above first)" if vocab == TRAINED and "corpus" in str(e) else ""
        return EncodingView(status=_message(e) + where)
    n = rep.n_steps
    k = min(max(_int(step), 0), n)
    seq = rep.seq_at(k)
    name = "the vocabulary trained above" if vocab == TRAINED else "cl100k_base (GPT-4)"
    chunks = len(rep.chunks)
    if k == 0:
        head = (f"**Step 0 of {n}**: the text as {len(seq):,} bytes, cut into {chunks} chunk{'s' if chunks != 1 else ''} "
                f"by the regex; encoding with {name} applies {n} merge{'s' if n != 1 else ''}.")
        rule = ""
    else:
        s = rep.steps[k - 1]
        ids = np.asarray(rep.tokens_at(k), dtype=np.int64)
        starts = np.cumsum(rep.tokenizer._lengths[ids]) - rep.tokenizer._lengths[ids]
        idx = int(np.flatnonzero((starts == s.byte_offset) & (ids == s.new_id))[0])
        c = rep.chunks[s.chunk]
        head = (f"**Step {k} of {n}**: in chunk {s.chunk + 1} of {chunks} (`{html.escape(c.text)}`, its merge "
                f"{s.chunk_step} of {len(c.steps)}), `{html.escape(rep.tokenizer.render_token(s.left))}` + "
                f"`{html.escape(rep.tokenizer.render_token(s.right))}` → `{html.escape(s.merged)}` (id {s.new_id}; a "
                f"lower id is an earlier merge, so it goes first). {len(seq):,} tokens now; the new one is outlined.")
        rule = f".tw-tok[data-index='{idx}'] {{ {HIGHLIGHT} }}"
    return EncodingView(status=head, chips_html=_chips(seq, rep.text, rule, 'tw-learn-enc'), step=k, n_steps=n, replay=rep)


# ---- UI handlers ------------------------------------------------------------------------------


def _slider(n: int, value: int) -> Any:
    return gr.update(maximum=max(n, 1), value=value)


@dataclass
class LearnUI(Components):
    corpus: Any
    n_merges: Any
    text: Any
    vocab: Any
    order: Any
    status_t: Any  # the training replay: status, chips, merge table, step slider
    chips_t: Any
    table_t: Any
    slider_t: Any
    query: Any  # the link box
    note: Any
    tabs: Any


def train(ui: LearnUI, corpus: Any, n_merges: Any) -> dict:
    """UI handler (Train): the status, chips, merge table and the slider reset to step 0 with its new range."""
    v = training_view(corpus, n_merges, 0)
    return ui.set(status_t=v.status, chips_t=v.chips_html, table_t=v.table, slider_t=_slider(v.n_steps, 0))


def training_step(corpus: Any, n_merges: Any, step: Any) -> tuple:
    """UI handler (slider): (status, chips, merge table) at ``step``."""
    v = training_view(corpus, n_merges, step)
    return v.status, v.chips_html, v.table


def step_training(corpus: Any, n_merges: Any, step: Any, delta: int) -> int:
    """UI handler (◀ / ▶): the slider's next value, kept within 0..merges."""
    v = training_view(corpus, n_merges, 0)
    return min(max(_int(step) + delta, 0), v.n_steps)


def encode(text: Any, vocab: Any, order: Any, corpus: Any, n_merges: Any) -> tuple:
    """UI handler (Encode): (status, chips, slider reset to step 0 with its new range)."""
    v = encoding_view(text, vocab, order, corpus, n_merges, 0)
    return v.status, v.chips_html, _slider(v.n_steps, 0)


def encoding_step(text: Any, vocab: Any, order: Any, corpus: Any, n_merges: Any, step: Any) -> tuple:
    """UI handler (slider): (status, chips) at ``step``."""
    v = encoding_view(text, vocab, order, corpus, n_merges, step)
    return v.status, v.chips_html


def step_encoding(text: Any, vocab: Any, order: Any, corpus: Any, n_merges: Any, step: Any, delta: int) -> int:
    v = encoding_view(text, vocab, order, corpus, n_merges, 0)
    return min(max(_int(step) + delta, 0), v.n_steps)


# ---- the link -------------------------------------------------------------------------------

VOCAB_LINKS = {"trained": TRAINED, "cl100k": CL100K}  # link value -> the tab's choice
ORDERS = tuple(ORDER_CHOICES.values())


def link_spec() -> links.TabSpec:
    return links.learn_spec(DEFAULT_CORPUS, MAX_TRAIN_CHARS, DEFAULT_MERGES, MAX_MERGES, DEFAULT_ENCODE_TEXT,
                            MAX_ENCODE_CHARS, tuple(VOCAB_LINKS), ORDERS)


def link(corpus: Any, n_merges: Any, text: Any, vocab: Any, order: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the tab's settings as they are."""
    spec = link_spec()
    state = links.LearnLink(corpus=corpus if isinstance(corpus, str) else None, merges=whole_number(n_merges),
                            text=text if isinstance(text, str) else None,
                            vocab=next((k for k, v in VOCAB_LINKS.items() if v == vocab), None),
                            order=order if order in ORDERS else None)
    dropped = links.left_out(spec, state)
    info = f"The {' and the '.join(dropped)} {'are' if len(dropped) > 1 else 'is'} too long for a link and left out." \
        if dropped else ""
    return links.build_link(spec, state), link_info(info)


def restore(ui: LearnUI, corpus: Any, n_merges: Any, text: Any, vocab: Any, order: Any,
            request: gr.Request) -> dict:
    """Page load: a link to this tab sets its settings and selects it (the tab's select then
    trains); any other page load only writes the tab's query (its link box starts current)."""
    params = params_of(request)
    if not opens(params, "learn"):
        return ui.set(note="", query=link(corpus, n_merges, text, vocab, order)[0])
    spec = link_spec()
    parsed = links.parse_link(params, spec)
    s = parsed.state
    return ui.set(corpus=s.corpus, n_merges=s.merges, text=s.text, vocab=VOCAB_LINKS[s.vocab], order=s.order,
                  note=link_notes(parsed.notes), query=links.build_link(spec, s), tabs=selected("learn"))


def build(tab: Any = None) -> None:
    """Lay out the Learn tab inside the current gr.Blocks context; ``tab`` (the gr.Tab) runs the
    default training replay when opened."""
    gr.Markdown(INTRO)
    box = link_box("learn")
    gr.Markdown("#### 1 · Training replay")
    with gr.Row():
        corpus = gr.Textbox(value=DEFAULT_CORPUS, lines=3, max_lines=8, label="Corpus", scale=4,
                            info=f"A few sentences (at most {MAX_TRAIN_CHARS:,} characters). Try the classic "
                                 "'aaabdaaabac'.", elem_id="tw-learn-corpus")
        with gr.Column(scale=1, min_width=160):
            n_merges = gr.Number(value=DEFAULT_MERGES, minimum=1, maximum=MAX_MERGES, precision=0,
                                 label=f"Merges (1 to {MAX_MERGES})", elem_id="tw-learn-merges")
            train_btn = gr.Button("Train", variant="primary", elem_id="tw-learn-train")
    with gr.Row():
        prev_t = gr.Button("◀ step", scale=0, min_width=90, elem_id="tw-learn-train-prev")
        # declared with the largest range (what the API validates against); Train narrows it
        slider_t = gr.Slider(minimum=0, maximum=MAX_MERGES, step=1, value=0, label="Step (0: bytes)", scale=6,
                             elem_id="tw-learn-train-step")
        next_t = gr.Button("step ▶", scale=0, min_width=90, elem_id="tw-learn-train-next")
    status_t = gr.Markdown("Press Train (or open this tab) to start.", elem_id="tw-learn-train-status")
    chips_t = gr.HTML(elem_id="tw-learn-train-chips")
    table_t = gr.Dataframe(headers=TABLE_COLUMNS, label="Merge table so far", interactive=False, max_height=300,
                           elem_id="tw-learn-train-table")

    gr.Markdown("#### 2 · Encoding replay")
    with gr.Row():
        text = gr.Textbox(value=DEFAULT_ENCODE_TEXT, lines=2, max_lines=6, label="Text to encode", scale=4,
                          info=f"At most {MAX_ENCODE_CHARS:,} characters.", elem_id="tw-learn-text")
        with gr.Column(scale=2, min_width=200):
            vocab = gr.Dropdown(choices=VOCABS, value=TRAINED, label="Vocabulary", elem_id="tw-learn-vocab")
            order = gr.Radio(choices=list(ORDER_CHOICES.items()), value="chunk", label="Order",
                             elem_id="tw-learn-order")
            encode_btn = gr.Button("Encode", variant="primary", elem_id="tw-learn-encode")
    with gr.Row():
        prev_e = gr.Button("◀ step", scale=0, min_width=90, elem_id="tw-learn-encode-prev")
        slider_e = gr.Slider(minimum=0, maximum=4 * MAX_ENCODE_CHARS, step=1, value=0, label="Merge application (0: bytes)", scale=6,
                             elem_id="tw-learn-encode-step")
        next_e = gr.Button("step ▶", scale=0, min_width=90, elem_id="tw-learn-encode-next")
    status_e = gr.Markdown("Press Encode to replay an encoding.", elem_id="tw-learn-encode-status")
    chips_e = gr.HTML(elem_id="tw-learn-encode-chips")

    ui = LearnUI(corpus=corpus, n_merges=n_merges, text=text, vocab=vocab, order=order, status_t=status_t,
                 chips_t=chips_t, table_t=table_t, slider_t=slider_t, query=box.query, note=box.note, tabs=box.tabs)
    settings = [corpus, n_merges, text, vocab, order]
    gr.on(triggers=[c.change for c in settings], fn=friendly(link), inputs=settings,
          outputs=[box.query, box.link], api_name=False, trigger_mode="always_last", show_progress="hidden")
    root = gr.context.Context.root_block
    if root is not None:  # a link to this tab: its settings, then the tab's select trains
        root.load(friendly(bind(restore, ui)), inputs=settings,
                  outputs=ui.outputs("corpus", "n_merges", "text", "vocab", "order", "note", "query", "tabs"),
                  api_name=False, show_progress="hidden")
    triggers = [train_btn.click, corpus.submit]
    if tab is not None:
        triggers.append(tab.select)
    enc_inputs = [text, vocab, order, corpus, n_merges]
    gr.on(triggers=triggers, fn=friendly(bind(train, ui)), inputs=[corpus, n_merges],
          outputs=ui.outputs("status_t", "chips_t", "table_t", "slider_t"), api_name="learn_train").then(
        friendly(encode), inputs=enc_inputs, outputs=[status_e, chips_e, slider_e], api_name=False)  # new vocabulary
    slider_t.change(friendly(training_step), inputs=[corpus, n_merges, slider_t], outputs=[status_t, chips_t, table_t],
                    api_name="learn_train_step", trigger_mode="always_last", show_progress="hidden")
    prev_t.click(friendly(lambda c, m, s: step_training(c, m, s, -1)), inputs=[corpus, n_merges, slider_t],
                 outputs=slider_t, api_name=False, show_progress="hidden")
    next_t.click(friendly(lambda c, m, s: step_training(c, m, s, 1)), inputs=[corpus, n_merges, slider_t],
                 outputs=slider_t, api_name=False, show_progress="hidden")

    enc_triggers = [encode_btn.click, text.submit, vocab.input, order.input]
    gr.on(triggers=enc_triggers, fn=friendly(encode), inputs=enc_inputs,
          outputs=[status_e, chips_e, slider_e], api_name="learn_encode")
    slider_e.change(friendly(encoding_step), inputs=enc_inputs + [slider_e], outputs=[status_e, chips_e],
                    api_name="learn_encode_step", trigger_mode="always_last", show_progress="hidden")
    prev_e.click(friendly(lambda *a: step_encoding(*a, -1)), inputs=enc_inputs + [slider_e], outputs=slider_e,
                 api_name=False, show_progress="hidden")
    next_e.click(friendly(lambda *a: step_encoding(*a, 1)), inputs=enc_inputs + [slider_e], outputs=slider_e,
                 api_name=False, show_progress="hidden")
    export_row("learn", tables={"merge table": table_t})
