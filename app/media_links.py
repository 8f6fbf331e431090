"""Links to the Image and Audio tabs: restore a view on page load, keep its link current.

    ?tab=image&model=image/flex1d-emoji64&sample=emoji-fox.png&k=12
    ?tab=audio&model=audio/rvq-speech16k&sample=flite-slt.wav&metric=stoi&k=2

``image_restore`` and ``audio_restore`` run on page load: with a link to their tab they read the
sample through the link's tokenizer and show it at the link's k (clamped to the tokenizer's own
range, with a note), set the controls and select the tab; otherwise they do what the tab did on
load before. ``image_link`` and ``audio_link`` turn the controls into the tab's link.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from . import audio_tab, image_tab, url_tabs
from .tab_links import UPLOAD_INFO, link_update, notes_markdown, opens, params_of, selected, whole_number

IMAGE_LINK = url_tabs.image_spec((), ())  # the parameters only: building a link needs no choices
AUDIO_LINK = url_tabs.audio_spec((), (), ())

# ---- Image ---------------------------------------------------------------------------------------


def image_spec() -> url_tabs.TabSpec:
    """What a link may ask of the Image tab now (the tokenizers and samples here, runs included)."""
    names, samples = image_tab.image_tokenizers(), image_tab.sample_names()
    sample = image_tab.DEFAULT_SAMPLE if image_tab.DEFAULT_SAMPLE in samples else (samples[0] if samples else None)
    return url_tabs.image_spec(names, samples, image_tab.default_tokenizer(names), sample)


def _uploaded(upload: Any) -> bool:
    return upload is not None and not (isinstance(upload, str) and not upload)


def image_link(upload: Any, sample: Any, tokenizer: Any, k: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the Image tab's controls as they are."""
    state = url_tabs.ImageLink(model=tokenizer if isinstance(tokenizer, str) and tokenizer else None,
                               sample=None if _uploaded(upload) or not isinstance(sample, str) else sample or None,
                               k=_k(k))
    info = UPLOAD_INFO.format(what="image", instead="sample") if _uploaded(upload) else ""
    return url_tabs.build_link(IMAGE_LINK, state), link_update(info)


def _k(k: Any) -> int | None:
    k = whole_number(k)
    return k if k is not None and k >= 1 else None


def image_restore(upload: Any, sample: Any, tokenizer: Any, request: gr.Request) -> tuple:
    """Page load: the Image tab's outputs (image_tab.N_OUTPUTS), then (tokenizer, sample, note,
    query, tabs). A link to the tab restores its view; any other page load shows the default sample."""
    params = params_of(request)
    if not opens(params, "image"):
        out = image_tab.on_encode(upload, sample, tokenizer, quiet=True)
        return out + (gr.skip(), gr.skip(), "", image_link(upload, sample, tokenizer, None)[0], gr.skip())
    spec = image_spec()
    parsed = url_tabs.parse_link(params, spec)
    s, notes = parsed.state, parsed.notes
    out = list(image_tab.on_encode(None, s.sample, s.model, quiet=True))
    enc, k = out[0], s.k
    if isinstance(enc, image_tab.Encoded) and k is not None:
        T = enc.num_tokens
        if not enc.ordered:
            if k != T:
                notes.append(f"{enc.name} is a grid: it decodes all {T} tokens, so k={k} was ignored.")
            k = T
        elif k > T:
            notes.append(f"k={k} is more than the {T} tokens of {enc.name}; showing all {T} (k is 1 to {T} here).")
            k = T
        else:
            out[2], out[5], out[6] = image_tab.on_k(enc, k)  # the reconstruction, info and ids at k
            out[3] = {**out[3], "value": k}
    query = url_tabs.build_link(spec, url_tabs.ImageLink(s.model, s.sample, k))
    return tuple(out) + (gr.update(choices=spec.params[0].choices, value=s.model),
                         gr.update(choices=spec.params[1].choices, value=s.sample), notes_markdown(notes), query,
                         selected("image"))


# ---- Audio ---------------------------------------------------------------------------------------

METRICS = tuple(m for _, m in audio_tab.METRIC_CHOICES)


def audio_spec() -> url_tabs.TabSpec:
    """What a link may ask of the Audio tab now (the tokenizers that load, the samples here)."""
    names, samples = audio_tab.tokenizer_choices().names, audio_tab.sample_names()
    sample = audio_tab.DEFAULT_SAMPLE if audio_tab.DEFAULT_SAMPLE in samples else (samples[0] if samples else None)
    return url_tabs.audio_spec(names, samples, METRICS, audio_tab.default_tokenizer(names), sample, METRICS[0])


def audio_link(upload: Any, sample: Any, tokenizer: Any, metric: Any, k: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the Audio tab's controls as they are."""
    state = url_tabs.AudioLink(model=tokenizer if isinstance(tokenizer, str) and tokenizer else None,
                               sample=None if _uploaded(upload) or not isinstance(sample, str) else sample or None,
                               metric=metric if metric in METRICS else None, k=_k(k))
    info = UPLOAD_INFO.format(what="or recorded clip", instead="sample") if _uploaded(upload) else ""
    return url_tabs.build_link(AUDIO_LINK, state), link_update(info)


def audio_restore(upload: Any, sample: Any, tokenizer: Any, metric: Any, request: gr.Request) -> tuple:
    """Page load: with a link to the Audio tab, its outputs (audio_tab.N_OUTPUTS) analysed at the
    link's settings, then (tokenizer, sample, metric, note, query, tabs); otherwise only the query
    (the tab analyses its sample when it is opened)."""
    params = params_of(request)
    if not opens(params, "audio"):
        keep = tuple(gr.skip() for _ in range(audio_tab.N_OUTPUTS + 3))
        return keep + ("", audio_link(upload, sample, tokenizer, metric, None)[0], gr.skip())
    spec = audio_spec()
    parsed = url_tabs.parse_link(params, spec)
    s, notes = parsed.state, parsed.notes
    out = list(audio_tab.on_analyze(None, s.sample, s.model, s.metric, quiet=True))
    view, k = out[0], s.k
    if isinstance(view, audio_tab.AudioView) and k is not None:
        K = view.K
        if k > K:
            notes.append(f"k={k} is more than the {K} codebook{'s' if K > 1 else ''} of {view.analysis.tokenizer}; "
                         f"showing all {K} (k is 1 to {K} here).")
            k = K
        else:
            out[5], out[6], out[7] = audio_tab.k_views(view, k)  # the reconstruction, figure and numbers at k
            out[4] = {**out[4], "value": k}
    query = url_tabs.build_link(spec, url_tabs.AudioLink(s.model, s.sample, s.metric, k))
    return tuple(out) + (gr.update(choices=spec.params[0].choices, value=s.model),
                         gr.update(choices=spec.params[1].choices, value=s.sample), gr.update(value=s.metric),
                         notes_markdown(notes), query, selected("audio"))
