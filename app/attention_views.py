"""The Attention tab's models and its panels beyond the map: the information flow from the last
token, token merging in MiniLM, and the merging curve (``app/attention_tab.py`` lays them out).

Handlers are plain functions returning (figure or None, status Markdown); bad input, a missing
asset or a missing package becomes the message, never a traceback:

    fig, msg = show_flow("The cat sat on the mat.", "smollm2", "rollout")
    fig, msg = show_merges("The cat sat on the mat.", "pitome", 2)
    fig, msg = show_curve()
"""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import Any

from tokenworks.errors import TokenworksError
from tokenworks.lm.flow import DESCRIPTIONS, FLOW_METHODS, information_flow
from tokenworks.text.token_merging import LABELS, METHODS, SEED, merge_tokens


@dataclass(frozen=True)
class ModelChoice:
    """A model the tab shows."""

    id: str  # the value of the model control and of model= in a link
    label: str  # as the control shows it
    layers: int
    heads: int
    limit: str  # its token limit, in words


MODELS = {
    "minilm": ModelChoice("minilm", "MiniLM (all-MiniLM-L6-v2, bidirectional)", 6, 12,
                          "128 tokens, [CLS] and [SEP] included"),
    "smollm2": ModelChoice("smollm2", "SmolLM2-135M (causal)", 30, 9,
                           "128 tokens, the document-start token included"),
}
DEFAULT_MODEL = "minilm"
FLOW_LABELS = {"rollout": "attention rollout", "value-norm": "value-norm rollout (SmolLM2)"}
CURVE_SENTENCES = 8  # held-out sentences the tab's curve averages (the bench's FAST set)
CURVE_RS = (0, 1, 2, 4, 8)  # merges per layer on the tab's curve
DEFAULT_R = 2
MAX_R_UI = 16  # merges per layer the tab offers (the library takes up to MAX_R)


def model_of(model: Any) -> ModelChoice:
    """The model for a control value (an id or a label; anything else: the default)."""
    for m in MODELS.values():
        if model in (m.id, m.label):
            return m
    return MODELS[DEFAULT_MODEL]


def error_markdown(e: Exception) -> str:
    return f"⚠️ {html.escape(str(e))}"


@functools.lru_cache(maxsize=4)
def _attention(sentence: str, model: str):
    if model == "smollm2":
        import tokenworks as tw
        from tokenworks.lm.attention import causal_attention, check_text

        check_text(sentence)  # before the model loads: a bad text is told as such, asset or not
        return causal_attention(tw.load_lm("lm/smollm2-135m"), sentence)  # (30, 9, T, T): at most 17.7 MB
    from tokenworks.text.attention import attention_map

    return attention_map(sentence)  # (6, 12, T, T): at most 4.7 MB


def attention_of(sentence: Any, model: Any):
    """The attention result of ``sentence`` in ``model`` (cached: the map and the flow share it)."""
    return _attention(sentence if isinstance(sentence, str) else "", model_of(model).id)


# ---- the flow ----------------------------------------------------------------------------------

def _top(values, labels, n: int = 3) -> str:
    top = sorted(range(len(values)), key=lambda i: -values[i])[:n]
    return ", ".join(f"{html.escape(labels[i])} (#{i}) {values[i]:.1%}" for i in top if values[i] >= 0.0005)


def flow_status(f) -> str:
    out = (f"**{FLOW_LABELS[f.method]}** from the last token, {html.escape(f.labels[-1])} (#{len(f.labels) - 1}), "
           f"back to every token: {html.escape(f.description)}. Most of it comes from {_top(f.flow, f.labels)}.")
    if f.first_absorbs and len(f.labels) > 1:
        out += (f" In a causal model the first position sees only itself, so rollout piles up on "
                f"{html.escape(f.labels[0])}; the bars and the map share out the rest: {_top(f.rest, f.labels)}.")
    return out


def show_flow(sentence: Any, model: Any = DEFAULT_MODEL, method: Any = "rollout") -> tuple[Any, str]:
    """UI handler: (flow figure or None, status)."""
    from tokenworks.viz.attention_flow import flow_figure

    try:
        res = attention_of(sentence, model)
        f = information_flow(res, method if method in FLOW_METHODS else "rollout")
    except TokenworksError as e:
        return None, error_markdown(e)
    return flow_figure(f, [t.special for t in res.tokens]), flow_status(f)


# ---- token merging -----------------------------------------------------------------------------

def merge_status(m) -> str:
    counts = " → ".join([str(m.layers[0].before)] + [str(s.before - s.removed) for s in m.layers])
    what = "dropped at random (numpy, seed " + str(m.seed) + ")" if m.method == "random" else "merged"
    lines = [f"**{m.label}, {m.r} per layer**: {m.removed} of {len(m.tokens)} tokens {what} ({counts} tokens "
             f"through MiniLM's 6 layers; [CLS] never). **Cosine {m.cosine:.4f}** between the merged and the "
             "unmerged sentence embeddings (all-MiniLM-L6-v2: mean of the token states, weighted by how many "
             "tokens each holds, then L2-normalised)."]
    lines += [f"⚠️ {html.escape(n)}" for n in m.notes]
    return "\n\n".join(lines)


def show_merges(sentence: Any, method: Any = "tome", r: Any = DEFAULT_R) -> tuple[Any, str]:
    """UI handler: (merge figure or None, status)."""
    from tokenworks.viz.attention_flow import merge_figure

    try:
        m = merge_tokens(sentence if isinstance(sentence, str) else "", method, r, seed=SEED)
    except TokenworksError as e:
        return None, error_markdown(e)
    return merge_figure(m), merge_status(m)


@functools.lru_cache(maxsize=1)
def _curve():
    from tokenworks.text.token_merging_bench import held_out_sentences, merge_curve

    return merge_curve(held_out_sentences(CURVE_SENTENCES), CURVE_RS)


def show_curve() -> tuple[Any, str]:
    """UI handler: (curve figure or None, status): every method on the fixed held-out sentences."""
    from tokenworks.viz.attention_flow import merge_curve_figure

    try:
        c = _curve()
    except TokenworksError as e:
        return None, error_markdown(e)
    r = max(c.rs)
    at = ", ".join(f"{LABELS[m]} {c.at(m, r):.3f}" for m in c.methods)
    return merge_curve_figure(c), (f"{c.sentences} held-out sentences of {c.source}, r = {', '.join(map(str, c.rs))} "
                                   f"per layer. At r = {r} ({c.removed[0, -1]:.1f} of {c.tokens:.1f} tokens removed): "
                                   f"{at}.")


def build() -> dict:
    """Lay out the flow and merging panels (inside the tab's Blocks context); returns their
    components by name for the tab to wire."""
    import gradio as gr

    out: dict[str, Any] = {}
    with gr.Accordion("Information flow from the last token", open=True):
        out["flow_method"] = gr.Radio([(FLOW_LABELS[m], m) for m in FLOW_METHODS], value="rollout",
                                      label="Flow", elem_id="tw-attn-flow-method",
                                      info="rollout: " + DESCRIPTIONS["rollout"] + ". value-norm: "
                                           + DESCRIPTIONS["value-norm"] + ".")
        out["flow_status"] = gr.Markdown(elem_id="tw-attn-flow-status")
        out["flow_plot"] = gr.Plot(label="Information flow", elem_id="tw-attn-flow")
    with gr.Accordion("Token merging in MiniLM", open=True):
        gr.Markdown("Inside MiniLM's 6 layers, after each attention block, **ToMe** (Bolya et al. 2023: bipartite "
                    "soft matching on the keys) or **PiToMe** (Tran et al. 2024: the same among high-energy tokens "
                    "only, protecting isolated, informative ones) merges r tokens; **random** drops r (seed "
                    f"{SEED}), the baseline. Merged tokens are size-weighted averages and attention is proportional "
                    "to size. It runs on the sentence above, whichever model the map shows.")
        with gr.Row():
            out["merge_method"] = gr.Radio([(LABELS[m], m) for m in METHODS], value="tome", label="Method",
                                           elem_id="tw-attn-merge-method")
            out["r"] = gr.Slider(0, MAX_R_UI, value=DEFAULT_R, step=1, label="Merges per layer (r)",
                                 info=f"0 to {MAX_R_UI}; a layer of N tokens removes at most (N − 1) // 2 of them",
                                 elem_id="tw-attn-r")
            out["merge_run"] = gr.Button("Merge", variant="primary", elem_id="tw-attn-merge-run")
        out["merge_status"] = gr.Markdown(elem_id="tw-attn-merge-status")
        out["merge_plot"] = gr.Plot(label="Merges per layer", elem_id="tw-attn-merges")
        out["curve_run"] = gr.Button(f"Curve: cosine vs tokens removed on {CURVE_SENTENCES} held-out sentences",
                                     size="sm", elem_id="tw-attn-curve-run")
        out["curve_status"] = gr.Markdown(elem_id="tw-attn-curve-status")
        out["curve_plot"] = gr.Plot(label="Merging curve", elem_id="tw-attn-curve")
    return out
