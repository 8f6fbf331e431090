"""Attention tab: token-to-token attention of MiniLM or SmolLM2-135M over a sentence, per layer and
head or averaged; the information flow from the last token; token merging inside MiniLM
(the panels: ``app/attention_views.py``).

Handlers are plain functions over the library (testable without a server):

    fig, status = show_attention("The cat sat on the mat.", "2", "average")              # MiniLM
    fig, status = show_attention("The cat sat on the mat.", "29", "average", "smollm2")
    layer, head, fig, status = on_model("The cat sat on the mat.", "smollm2")   # new layer/head choices

A missing model asset, missing ``transformers`` or an empty sentence comes back as a status
message (and no figure), never a traceback. The models load the first time they are shown; the
view's settings travel in the tab's link (``?tab=attention&model=smollm2&layer=3...``).
"""
from __future__ import annotations

import dataclasses
import html
from typing import Any

import gradio as gr

from tokenworks.errors import TokenworksError
from tokenworks.lm.flow import FLOW_METHODS
from tokenworks.text.attention import AVERAGE, MAX_CHARS, parse_choice
from tokenworks.text.token_merging import METHODS

from . import attention_views as views
from . import links
from .attention_views import DEFAULT_MODEL, DEFAULT_R, MAX_R_UI, MODELS, attention_of, error_markdown, model_of
from .widgets import Components, bind, export_row, friendly, link_box, link_info, link_notes, opens, params_of
from .widgets import selected, whole_number

DEFAULT_SENTENCE = "The animal didn't cross the street because it was too tired."
NUM_LAYERS, NUM_HEADS = 6, 12  # all-MiniLM-L6-v2, the default model

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


def choices(n: int) -> list[str]:
    return [AVERAGE] + [str(i) for i in range(n)]


LAYER_CHOICES, HEAD_CHOICES = choices(NUM_LAYERS), choices(NUM_HEADS)


def _status(res, layer: Any, head: Any) -> str:
    parts = [f"**{res.model}, {len(res.tokens)} tokens** ({res.describe(layer, head)}) · computed in "
             f"{res.seconds * 1000:.0f} ms. Hover a row of the map or a token above it to see where that token "
             "looks; the slider does the same."]
    if getattr(res, "causal", False):
        parts.append(" Causal: a token sees only itself and earlier tokens (the upper triangle is zero). Position 0 "
                     "is the document-start token `<|endoftext|>`, which the model always reads first: the weight "
                     "parked on it (an attention sink) is real, so it is shown.")
    parts += [f"\n\n⚠️ {html.escape(n)}" for n in res.notes]
    return "".join(parts)


def show_attention(sentence: str | None, layer: Any = AVERAGE, head: Any = AVERAGE,
                   model: Any = DEFAULT_MODEL) -> tuple[Any, str]:
    """UI handler: (plotly figure or None, status markdown). Bad input, a missing model asset or a
    missing package become the message; the figure is then None."""
    from tokenworks.viz.attention import attention_figure

    m = model_of(model)
    try:
        layer_c = parse_choice(layer, "layer", m.layers)
        head_c = parse_choice(head, "head", m.heads)
        res = attention_of(sentence, m.id)
        fig = attention_figure(res, layer_c, head_c)
    except TokenworksError as e:
        return None, error_markdown(e)
    return fig, _status(res, layer_c, head_c)


def on_model(sentence: Any, model: Any) -> tuple[Any, Any, Any, str]:
    """UI handler for the model choice: (layer and head controls for its shape, map, status)."""
    m = model_of(model)
    fig, status = show_attention(sentence, AVERAGE, AVERAGE, m.id)
    return (gr.update(choices=choices(m.layers), value=AVERAGE), gr.update(choices=choices(m.heads), value=AVERAGE),
            fig, status)


# ---- the link ----------------------------------------------------------------------------------

def _check(s: links.AttentionLink, notes: list[str]) -> links.AttentionLink:
    """Layer and head within the model's; a head of every layer, and value norms of MiniLM, are refused."""
    m = model_of(s.model)
    for what, n in (("layer", m.layers), ("head", m.heads)):
        value = getattr(s, what)
        if value not in (None, AVERAGE) and int(value) >= n:
            notes.append(f"Ignored {what}={value}; {m.label} has {what}s 0 to {n - 1} (or average).")
            s = dataclasses.replace(s, **{what: AVERAGE})
    if s.layer == AVERAGE and s.head not in (None, AVERAGE):
        notes.append(f"Ignored head={s.head}: a head is not averaged over layers; name a layer too.")
        s = dataclasses.replace(s, head=AVERAGE)
    if s.flow == "value-norm" and m.id != "smollm2":
        notes.append("Ignored flow=value-norm: value norms are measured for SmolLM2 only; showing the rollout.")
        s = dataclasses.replace(s, flow="rollout")
    return s


SPEC = links.attention_spec(tuple(MODELS), FLOW_METHODS, METHODS, DEFAULT_SENTENCE, MAX_CHARS, MAX_R_UI, DEFAULT_R,
                            _check)


def link(sentence: Any, model: Any, layer: Any, head: Any, flow: Any, merge: Any, r: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the tab's controls as they are."""
    n = whole_number(r)
    state = links.AttentionLink(model=model_of(model).id, text=sentence if isinstance(sentence, str) else None,
                                layer=str(layer) if layer is not None else None,
                                head=str(head) if head is not None else None,
                                flow=flow if flow in FLOW_METHODS else None, merge=merge if merge in METHODS else None,
                                r=n if n is not None and 0 <= n <= MAX_R_UI else None)
    return links.build_link(SPEC, state), link_info()


@dataclasses.dataclass
class AttentionUI(Components):
    sentence: Any
    model: Any
    layer: Any
    head: Any
    status: Any
    plot: Any
    flow_method: Any
    flow_status: Any
    flow_plot: Any
    merge_method: Any
    r: Any
    merge_status: Any
    merge_plot: Any
    query: Any  # the link box
    note: Any
    tabs: Any


def restore(ui: AttentionUI, sentence: Any, model: Any, layer: Any, head: Any, flow: Any, merge: Any, r: Any,
            request: gr.Request) -> dict:
    """Page load: a link to this tab sets its controls, shows the map, the flow and the merges, and
    selects the tab; any other page load only writes the query (the tab computes when opened)."""
    params = params_of(request)
    if not opens(params, "attention"):
        return ui.set(note="", query=link(sentence, model, layer, head, flow, merge, r)[0])
    parsed = links.parse_link(params, SPEC)
    s, m = parsed.state, model_of(parsed.state.model)
    fig, status = show_attention(s.text, s.layer, s.head, m.id)
    flow_fig, flow_status = views.show_flow(s.text, m.id, s.flow)
    merge_fig, merge_status = views.show_merges(s.text, s.merge, s.r)
    return ui.set(sentence=s.text, model=m.id, layer=gr.update(choices=choices(m.layers), value=s.layer),
                  head=gr.update(choices=choices(m.heads), value=s.head), flow_method=s.flow, merge_method=s.merge,
                  r=s.r, plot=fig, status=status, flow_plot=flow_fig, flow_status=flow_status,
                  merge_plot=merge_fig, merge_status=merge_status, note=link_notes(parsed.notes),
                  query=links.build_link(SPEC, s), tabs=selected("attention"))


def build(tab: Any = None) -> None:
    """Lay out the Attention tab inside the current gr.Blocks context; ``tab`` (the gr.Tab) computes
    the first view when it is opened, so the models load only for people who look."""
    gr.Markdown(
        "### Attention over real tokens\n"
        "**MiniLM** (all-MiniLM-L6-v2: a 6-layer BERT with 12 heads per layer, WordPiece tokens, every token sees "
        "every other) or **SmolLM2-135M** (a 30-layer causal LLaMA with 9 heads per layer, byte-level BPE: a token "
        "sees only itself and what came before). Row *q* of the map is where token *q* looks: its weights sum to "
        "1. Layers and heads count from 0."
    )
    with gr.Row():
        with gr.Column(scale=4):
            sentence = gr.Textbox(value=DEFAULT_SENTENCE, label="Sentence", lines=2, max_lines=6,
                                  info=f"At most {MAX_CHARS:,} characters; the models read the first 128 tokens "
                                       "(MiniLM: [CLS] and [SEP] included; SmolLM2: its document-start token "
                                       "included). Press Enter or Show.", elem_id="tw-attn-sentence")
            model = gr.Radio([(m.label, m.id) for m in MODELS.values()], value=DEFAULT_MODEL, label="Model",
                             elem_id="tw-attn-model")
        with gr.Column(scale=2):
            with gr.Row():
                layer = gr.Dropdown(choices=LAYER_CHOICES, value=AVERAGE, label="Layer", elem_id="tw-attn-layer")
                head = gr.Dropdown(choices=HEAD_CHOICES, value=AVERAGE, label="Head", elem_id="tw-attn-head")
            run = gr.Button("Show", variant="primary", elem_id="tw-attn-run")
            box = link_box("attention")
    status = gr.Markdown("Open this tab or press Show to compute the attention.", elem_id="tw-attn-status")
    plot = gr.Plot(label="Attention", elem_id="tw-attn-plot")
    panels = views.build()
    ui = AttentionUI(sentence=sentence, model=model, layer=layer, head=head, status=status, plot=plot,
                     **{k: panels[k] for k in ("flow_method", "flow_status", "flow_plot", "merge_method", "r",
                                               "merge_status", "merge_plot")},
                     query=box.query, note=box.note, tabs=box.tabs)
    settings = [sentence, model, layer, head, ui.flow_method, ui.merge_method, ui.r]
    gr.on(triggers=[c.change for c in settings], fn=friendly(link), inputs=settings, outputs=[box.query, box.link],
          api_name=False, trigger_mode="always_last", show_progress="hidden")
    root = gr.context.Context.root_block
    if root is not None:  # a link to this tab: its settings and its views
        root.load(friendly(bind(restore, ui)), inputs=settings, outputs=ui.outputs(), api_name=False)
    flow_io = dict(inputs=[sentence, model, ui.flow_method], outputs=[ui.flow_plot, ui.flow_status])
    merge_io = dict(inputs=[sentence, ui.merge_method, ui.r], outputs=[ui.merge_plot, ui.merge_status])
    triggers = [run.click, sentence.submit] + ([tab.select] if tab is not None else [])
    shown = gr.on(triggers=triggers, fn=friendly(show_attention), inputs=[sentence, layer, head, model],
                  outputs=[plot, status], api_name="attention", trigger_mode="always_last")
    shown.then(friendly(views.show_flow), **flow_io, api_name="attention_flow").then(
        friendly(views.show_merges), **merge_io, api_name="attention_merge")
    gr.on(triggers=[layer.input, head.input], fn=friendly(show_attention), inputs=[sentence, layer, head, model],
          outputs=[plot, status], api_name="attention_view", trigger_mode="always_last")
    model.input(friendly(on_model), inputs=[sentence, model], outputs=[layer, head, plot, status],
                api_name="attention_model").then(friendly(views.show_flow), **flow_io, api_name="attention_model_flow")
    ui.flow_method.input(friendly(views.show_flow), **flow_io, api_name="attention_flow_method")
    gr.on(triggers=[panels["merge_run"].click, ui.merge_method.input, ui.r.release], fn=friendly(views.show_merges),
          **merge_io, api_name="attention_merges", trigger_mode="always_last")
    panels["curve_run"].click(friendly(views.show_curve), outputs=[panels["curve_plot"], panels["curve_status"]],
                              api_name="attention_curve")
    plot.change(fn=None, inputs=None, outputs=None, js=HOVER_JS)
    export_row("attention", figures={"attention": plot, "information flow": ui.flow_plot,
                                     "merges per layer": ui.merge_plot, "merging curve": panels["curve_plot"]})
