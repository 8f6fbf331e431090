"""Attention tab: MiniLM's token-to-token attention over a sentence, per layer and head or averaged.

Handlers are plain functions over the library (testable without a server):

    fig, status = show_attention("The cat sat on the mat.", "2", "average")

A missing model asset, missing ``transformers`` or an empty sentence comes back as a status
message (and no figure), never a traceback. The model loads the first time the tab is opened.
"""
from __future__ import annotations

import functools
import html
from typing import Any

from tokenworks.errors import TokenworksError
from tokenworks.text.attention import AVERAGE, MAX_TOKENS, attention_map, parse_choice

DEFAULT_SENTENCE = "The animal didn't cross the street because it was too tired."
NUM_LAYERS, NUM_HEADS = 6, 12  # all-MiniLM-L6-v2
LAYER_CHOICES = [AVERAGE] + [str(i) for i in range(NUM_LAYERS)]
HEAD_CHOICES = [AVERAGE] + [str(i) for i in range(NUM_HEADS)]

# Hovering a row of the map (or a token of the strip) makes that token the query: the strip's
# bars become its row and the box moves there. Plotly is the one Gradio loads (window.Plotly).
HOVER_JS = """
() => {
  const hook = (tries) => {
    const gd = document.querySelector('#tw-attn-plot .js-plotly-plot');
    if (!gd || !gd.on || !window.Plotly || !gd._fullData) {
      if (tries > 0) setTimeout(() => hook(tries - 1), 250);
      return;
    }
    if (gd.__twAttnHooked) return;
    gd.__twAttnHooked = true;
    gd.on('plotly_hover', (ev) => {
      const p = ev && ev.points && ev.points[0];
      if (!p || !p.data) return;
      let q = null;
      if (p.data.name === 'map') q = p.y; else if (p.data.name === 'tokens') q = p.x; else return;
      if (q === gd.__twAttnQuery) return;
      const full = gd._fullData;
      const m = full.findIndex((t) => t.name === 'map');
      const s = full.findIndex((t) => t.name === 'strip');
      const labels = (gd.layout.meta || {}).tokens;
      if (m < 0 || s < 0 || !labels) return;
      gd.__twAttnQuery = q;
      const row = Array.from(full[m].z[q]);
      const who = labels[q] + ' (#' + q + ')';
      window.Plotly.update(gd,
        {y: [row], hovertemplate: [who + ' -> %{customdata}: %{y:.3f}<extra></extra>']},
        {'shapes[0].y0': q - 0.5, 'shapes[0].y1': q + 0.5, 'sliders[0].active': q,
         'annotations[0].text': 'bars: where ' + who + ' looks · box: its row in the map'},
        [s]);
    });
  };
  hook(40);
  return [];
}
"""


@functools.lru_cache(maxsize=8)
def _cached(sentence: str):
    return attention_map(sentence)  # (6, 12, T, T) is at most 4.7 MB


def _status(res, layer: Any, head: Any) -> str:
    parts = [f"**{len(res.tokens)} tokens** ({res.describe(layer, head)}) · computed in {res.seconds * 1000:.0f} ms. "
             "Hover a row of the map or a token above it to see where that token looks; the slider does the same."]
    parts += [f"\n\n⚠️ {html.escape(n)}" for n in res.notes]
    return "".join(parts)


def error_markdown(e: Exception) -> str:
    return f"⚠️ {html.escape(str(e))}"


def show_attention(sentence: str | None, layer: Any = AVERAGE, head: Any = AVERAGE) -> tuple[Any, str]:
    """UI handler: (plotly figure or None, status markdown). Bad input, a missing model asset or a
    missing package become the message; the figure is then None."""
    from tokenworks.viz.attention import attention_figure

    try:
        layer_c = parse_choice(layer, "layer", NUM_LAYERS)
        head_c = parse_choice(head, "head", NUM_HEADS)
        res = _cached(sentence if isinstance(sentence, str) else "")
        fig = attention_figure(res, layer_c, head_c)
    except TokenworksError as e:
        return None, error_markdown(e)
    return fig, _status(res, layer_c, head_c)


def build(tab: Any = None) -> None:
    """Lay out the Attention tab inside the current gr.Blocks context; ``tab`` (the gr.Tab) computes
    the first view when it is opened, so the model loads only for people who look."""
    import gradio as gr

    from .widgets import export_row, friendly

    gr.Markdown(
        "### Attention over real tokens\n"
        "all-MiniLM-L6-v2 (a 6-layer BERT with 12 heads per layer) reads your sentence as WordPiece tokens. "
        "Row *q* of the map is where token *q* looks: its weights over all tokens sum to 1. "
        f"At most {MAX_TOKENS} tokens, [CLS] and [SEP] included; layers and heads count from 0."
    )
    with gr.Row():
        with gr.Column(scale=4):
            sentence = gr.Textbox(value=DEFAULT_SENTENCE, label="Sentence", lines=2, max_lines=6,
                                  info="Press Enter or Show to update.", elem_id="tw-attn-sentence")
        with gr.Column(scale=2):
            with gr.Row():
                layer = gr.Dropdown(choices=LAYER_CHOICES, value="average", label="Layer", elem_id="tw-attn-layer")
                head = gr.Dropdown(choices=HEAD_CHOICES, value="average", label="Head", elem_id="tw-attn-head")
            run = gr.Button("Show", variant="primary", elem_id="tw-attn-run")
    status = gr.Markdown("Open this tab or press Show to compute the attention.", elem_id="tw-attn-status")
    plot = gr.Plot(label="Attention", elem_id="tw-attn-plot")
    triggers = [run.click, sentence.submit, layer.change, head.change]
    if tab is not None:
        triggers.append(tab.select)
    gr.on(triggers=triggers, fn=friendly(show_attention), inputs=[sentence, layer, head],
          outputs=[plot, status], api_name="attention", trigger_mode="always_last")
    plot.change(fn=None, inputs=None, outputs=None, js=HOVER_JS)
    export_row("attention", figures={"attention": plot})
