"""Audio tab: tokenize a clip, hear it decoded from the first k codebooks, look at the tokens.

The library computes (``tokenworks.audio.inspect.analyze``), ``app/audio_input.py`` reads the input
and keeps the analysis in the session cache, ``app/audio_views.py`` formats, and this module lays
the tab out and answers its events:

    view = analyze_input(None, "flite-slt.wav", "audio/rvq-speech16k")   # -> AudioView
    k_views(view, 2)             # reconstruction player, waveform/spectrogram, numbers at k
    rate_figure(view, None, "pesq")                 # the codebook ladder (and the codecs once compared)

Handlers return ``{component: value}`` (``widgets.Components``); a bad file or a missing
checkpoint becomes a status message (and a toast), never a traceback. A tokenizer ref is a
registry name (``audio/rvq-speech16k``) or a trained run (``run:<folder under the runs folder>``).
Only tokenizers that load are offered; the others are listed with the command that makes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from tokenworks.errors import TokenworksError

from . import links
from .audio_input import (DEFAULT_SAMPLE, AudioState, AudioView, analyze_input, check_k, default_tokenizer,
                          sample_names, tokenizer_choices, view_of)
from .audio_views import (INTRO, MAX_PLAYERS, compare, ladder_ks, missing_markdown, numbers_markdown, player,
                          rate_figure, status_markdown, tokens_figure, usage_figure, waveform_figure)
from .exports import Extra, Items
from .widgets import UPLOAD_INFO, Components, bind, error_markdown, export_row, friendly, link_box, link_info
from .widgets import link_notes, opens, params_of, selected, uploaded, warn, whole_number

METRIC_CHOICES = [("PESQ-WB", "pesq"), ("STOI", "stoi"), ("SI-SDR (dB)", "si_sdr"), ("mel distance", "mel_distance")]
METRICS = tuple(m for _, m in METRIC_CHOICES)


@dataclass
class AudioUI(Components):
    upload: Any  # the input and settings
    sample: Any
    tokenizer: Any
    metric: Any
    state: Any  # gr.State: an AudioState
    status: Any  # what one analysis shows
    original: Any
    k: Any
    recon: Any
    wave_plot: Any
    numbers: Any
    tokens_plot: Any
    usage_plot: Any
    rate_plot: Any
    rate_note: Any
    ladder: list  # MAX_PLAYERS players, k = 1..K (spread out when K is larger)
    query: Any  # the link box
    note: Any
    tabs: Any

    ANALYZED = ("state", "status", "original", "k", "recon", "wave_plot", "numbers", "tokens_plot", "usage_plot",
                "rate_plot", "rate_note")  # what on_analyze sets, with the ladder

    @classmethod
    def named(cls, **given: Any) -> "AudioUI":
        return super().named(ladder=[f"ladder{i + 1}" for i in range(MAX_PLAYERS)], **given)

    def analyzed(self) -> list:
        return self.outputs(*self.ANALYZED) + list(self.ladder)


def k_views(view: AudioView, k: Any) -> tuple:
    """(reconstruction player, waveform/spectrogram figure, numbers line) at k."""
    k = check_k(view, k)
    return player(view.analysis.recon(k)), waveform_figure(view, k), numbers_markdown(view, k)


def shown(ui: AudioUI, view: AudioView, metric: str, k: int | None = None) -> dict:
    """Every output of one analysis, the rate chart by ``metric``, at ``k`` codebooks (None: all)."""
    a, K = view.analysis, view.K
    k = K if k is None else k
    recon, wave_fig, numbers = k_views(view, k)
    rate, rate_note = rate_figure(view, view.baselines, metric if metric in METRICS else "pesq")
    slider = gr.update(minimum=1, maximum=max(K, 2), value=k, step=1, visible=K > 1, interactive=K > 1,
                       label=f"k: codebooks kept (1..{K})")
    ks = ladder_ks(K)
    players = [gr.update(value=player(a.recon(ks[i])), visible=True,
                         label=f"k={ks[i]} · {a.level(ks[i]).bits_per_second:,.0f} b/s") if i < len(ks)
               else gr.update(value=None, visible=False) for i in range(MAX_PLAYERS)]
    return {**ui.set(state=view.state, status=status_markdown(view), original=player(a.clip.wave), k=slider,
                     recon=recon, wave_plot=wave_fig, numbers=numbers, tokens_plot=tokens_figure(view),
                     usage_plot=usage_figure(view), rate_plot=rate, rate_note=rate_note),
            **dict(zip(ui.ladder, players))}


def on_analyze(ui: AudioUI, upload: Any, sample: str | None, ref: str, metric: str = "pesq", state: Any = None,
               quiet: bool = False) -> dict:
    """UI handler: analyse the input and fill every view; a bad input becomes a status message."""
    try:
        return shown(ui, analyze_input(upload, sample, ref, replaces=getattr(state, "key", None)), metric)
    except TokenworksError as e:
        if not quiet:
            warn(str(e))
        blank = ui.set(state=None, status=error_markdown(e), original=None, recon=None, wave_plot=None, numbers="",
                       tokens_plot=None, usage_plot=None, rate_plot=None, rate_note="")
        return {**blank, **{p: gr.update(value=None) for p in ui.ladder}}


def on_k(state: Any, k: Any) -> tuple:
    """UI handler for the slider: the reconstruction, its figure and numbers at k."""
    try:
        return k_views(view_of(state), k)
    except TokenworksError as e:
        warn(str(e))
        return gr.update(), gr.update(), f"⚠️ {e}"


def on_compare(state: Any, metric: str) -> tuple:
    """UI handler for "Compare with classical codecs": (rate figure, note); the codecs' points stay
    with the clip's analysis in the session cache."""
    try:
        view = view_of(state)
        view.baselines = compare(view)
        return rate_figure(view, view.baselines, metric)
    except TokenworksError as e:
        warn(str(e))
        return gr.update(), f"⚠️ {e}"


def on_metric(state: Any, metric: str) -> tuple:
    if not isinstance(state, AudioState):
        return gr.update(), ""
    try:
        view = view_of(state)
        return rate_figure(view, view.baselines, metric)
    except TokenworksError as e:
        return gr.update(), f"⚠️ {e}"


def on_refresh() -> tuple:
    """UI handler: list the tokenizers again (a checkpoint trained or a run saved since)."""
    choices = tokenizer_choices()
    return gr.update(choices=choices.names), missing_markdown(choices)


def on_open(ui: AudioUI, state: Any, upload: Any, sample: str | None, ref: str, metric: str) -> dict:
    """UI handler when the tab is opened: analyse the default sample once (nothing if a view exists)."""
    if isinstance(state, AudioState) or not ref:
        return {}
    return on_analyze(ui, upload, sample, ref, metric, quiet=True)


def export_tokens_and_audio(state: Any) -> Items:
    """For the export: the tokens of the clip shown, (K, T) codebooks x frames, as JSON, and the
    input as the tokenizer reads it (16 kHz mono) and every reconstruction, as WAV."""
    from tokenworks.viz.export import Sound

    if not isinstance(state, AudioState):
        return Items(notes=["tokens: no clip tokenized yet"])
    a = view_of(state).analysis
    sr = a.clip.sample_rate
    sounds = {"input 16k mono": Sound(a.clip.wave, sr)}
    sounds.update({f"decoded k={k}": Sound(w, sr) for k, w in zip(a.ks, a.recons)})
    return Items(jsons={"tokens": {"tokenizer": a.tokenizer, "ref": state.ref, "source": state.source,
                                   "shape": list(a.ids.shape), "vocab_size": a.vocab_size,
                                   "frame_rate": a.frame_rate, "ids": a.ids.tolist(), "notes": a.notes}},
                 sounds=sounds)


# ---- the link ----------------------------------------------------------------------------------

SPEC = links.audio_spec((), (), ())  # the parameters only: building a link needs no choices


def link_spec() -> links.TabSpec:
    """What a link may ask of the tab now (the tokenizers that load, the samples here)."""
    names, samples = tokenizer_choices().names, sample_names()
    sample = DEFAULT_SAMPLE if DEFAULT_SAMPLE in samples else (samples[0] if samples else None)
    return links.audio_spec(names, samples, METRICS, default_tokenizer(names), sample, METRICS[0])


def link(upload: Any, sample: Any, tokenizer: Any, metric: Any, k: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the tab's controls as they are."""
    k = whole_number(k)
    state = links.AudioLink(model=tokenizer if isinstance(tokenizer, str) and tokenizer else None,
                            sample=None if uploaded(upload) or not isinstance(sample, str) else sample or None,
                            metric=metric if metric in METRICS else None, k=k if k is not None and k >= 1 else None)
    return links.build_link(SPEC, state), link_info(UPLOAD_INFO.format(what="or recorded clip", instead="sample")
                                                    if uploaded(upload) else "")


def restore(ui: AudioUI, upload: Any, sample: Any, tokenizer: Any, metric: Any, request: gr.Request) -> dict:
    """Page load: a link to this tab analyses its sample at its settings (k kept within the
    tokenizer's own range, with a note) and selects the tab; any other page load only writes the
    query (the tab analyses its sample when it is opened)."""
    params = params_of(request)
    if not opens(params, "audio"):
        return ui.set(note="", query=link(upload, sample, tokenizer, metric, None)[0])
    spec = link_spec()
    parsed = links.parse_link(params, spec)
    s, notes = parsed.state, parsed.notes
    out, k = on_analyze(ui, None, s.sample, s.model, s.metric, quiet=True), s.k
    state = out.get(ui.state)
    if isinstance(state, AudioState) and k is not None:
        K = state.num_codebooks
        if k > K:
            notes.append(f"k={k} is more than the {K} codebook{'s' if K > 1 else ''} of {view_of(state).analysis.tokenizer}; "
                         f"showing all {K} (k is 1 to {K} here).")
            k = K
        else:
            out = shown(ui, view_of(state), s.metric, k)
    query = links.build_link(spec, links.AudioLink(s.model, s.sample, s.metric, k))
    return {**out, **ui.set(tokenizer=gr.update(choices=spec.param("model").choices, value=s.model),
                            sample=gr.update(choices=spec.param("sample").choices, value=s.sample),
                            metric=gr.update(value=s.metric), note=link_notes(notes), query=query,
                            tabs=selected("audio"))}


def build(tab: Any = None) -> None:
    """Lay out the Audio tab inside the current gr.Blocks context (``tab``: its gr.Tab, to analyse
    the default sample when it is first opened)."""
    from tokenworks.audio.inspect import QUALITY_SECONDS
    from tokenworks.audio.io import MAX_FILE_BYTES, MAX_SECONDS

    choices, samples = tokenizer_choices(), sample_names()
    gr.Markdown(INTRO.format(limit=MAX_SECONDS, quality=QUALITY_SECONDS))
    with gr.Row():
        with gr.Column(scale=3):
            upload = gr.Audio(sources=["upload", "microphone"], type="filepath", format=None,
                              label=f"Upload (WAV, FLAC, OGG; up to {MAX_SECONDS:g} s and "
                                    f"{MAX_FILE_BYTES / 2**20:g} MiB) or record", elem_id="tw-audio-upload")
            sample = gr.Dropdown(choices=samples, value=DEFAULT_SAMPLE if DEFAULT_SAMPLE in samples else None,
                                 label="…or a sample (data/samples/audio)", elem_id="tw-audio-sample")
        with gr.Column(scale=2):
            tokenizer = gr.Dropdown(choices=choices.names, value=default_tokenizer(choices.names),
                                    label="Audio tokenizer", info="Those that load here, then runs you trained (run:...).",
                                    allow_custom_value=True, elem_id="tw-audio-tokenizer")
            missing = gr.Markdown(missing_markdown(choices), elem_id="tw-audio-missing")
            with gr.Row():
                refresh = gr.Button("Refresh tokenizer list", size="sm", elem_id="tw-audio-refresh")
                run = gr.Button("Tokenize", variant="primary", size="sm", elem_id="tw-audio-run")
            box = link_box("audio")
    status = gr.Markdown(elem_id="tw-audio-status")
    state = gr.State(None)
    k = gr.Slider(1, 8, value=8, step=1, label="k: codebooks kept", elem_id="tw-audio-k")
    with gr.Row():
        original = gr.Audio(label="Original (16 kHz mono, as the tokenizer reads it)", type="numpy",
                            interactive=False, elem_id="tw-audio-original")
        recon = gr.Audio(label="Decoded from the first k codebooks", type="numpy", interactive=False,
                         elem_id="tw-audio-recon")
    numbers = gr.Markdown(elem_id="tw-audio-numbers")
    wave_plot = gr.Plot(label="Waveform and spectrogram", show_label=False, elem_id="tw-audio-wave")
    with gr.Accordion("Every k: the codebook ladder", open=True):
        with gr.Row(elem_id="tw-audio-ladder"):
            ladder = [gr.Audio(label=f"k={i + 1}", type="numpy", interactive=False, visible=False, min_width=160,
                               elem_id=f"tw-audio-ladder-{i + 1}") for i in range(MAX_PLAYERS)]
        with gr.Row():
            metric = gr.Dropdown(choices=METRIC_CHOICES, value="pesq", label="quality metric", scale=1,
                                 elem_id="tw-audio-metric")
            compare_btn = gr.Button("Compare with classical codecs", size="sm", scale=1, elem_id="tw-audio-compare")
        rate_plot = gr.Plot(label="Bits per second vs quality", show_label=False, elem_id="tw-audio-rate")
        rate_note = gr.Markdown(elem_id="tw-audio-rate-note")
    with gr.Accordion("The tokens: one row per codebook, over time", open=True):
        tokens_plot = gr.Plot(label="Tokens", show_label=False, elem_id="tw-audio-tokens")
    with gr.Accordion("Codebook usage per level", open=False):
        usage_plot = gr.Plot(label="Usage", show_label=False, elem_id="tw-audio-usage")

    ui = AudioUI(upload=upload, sample=sample, tokenizer=tokenizer, metric=metric, state=state, status=status,
                 original=original, k=k, recon=recon, wave_plot=wave_plot, numbers=numbers, tokens_plot=tokens_plot,
                 usage_plot=usage_plot, rate_plot=rate_plot, rate_note=rate_note, ladder=ladder, query=box.query,
                 note=box.note, tabs=box.tabs)
    gr.on(triggers=[upload.change, sample.change, tokenizer.change, metric.change, k.change], fn=friendly(link),
          inputs=[upload, sample, tokenizer, metric, k], outputs=[box.query, box.link], api_name=False,
          trigger_mode="always_last", show_progress="hidden")
    root = gr.context.Context.root_block
    if root is not None:  # a link to this tab: its view on page load
        root.load(friendly(bind(restore, ui)), inputs=[upload, sample, tokenizer, metric],
                  outputs=ui.analyzed() + ui.outputs("tokenizer", "sample", "metric", "note", "query", "tabs"),
                  api_name=False)
    analyze = friendly(bind(on_analyze, ui))
    for event, name in ((upload.upload, "audio_upload"), (upload.stop_recording, "audio_record")):
        event(lambda f, r, m, st: {**analyze(f, None, r, m, st), sample: None}, inputs=[upload, tokenizer, metric, state],
              outputs=ui.analyzed() + [sample], api_name=name)
    sample.input(lambda s, r, m, st: {**analyze(None, s, r, m, st), upload: None},
                 inputs=[sample, tokenizer, metric, state], outputs=ui.analyzed() + [upload], api_name="audio_sample")
    gr.on(triggers=[tokenizer.input, run.click], fn=analyze, inputs=[upload, sample, tokenizer, metric, state],
          outputs=ui.analyzed(), api_name="audio_tokenize")
    k.input(friendly(on_k), inputs=[state, k], outputs=[recon, wave_plot, numbers], api_name="audio_k",
            trigger_mode="always_last", show_progress="hidden")
    compare_btn.click(friendly(on_compare), inputs=[state, metric], outputs=[rate_plot, rate_note],
                      api_name="audio_compare")
    metric.input(friendly(on_metric), inputs=[state, metric], outputs=[rate_plot, rate_note], api_name="audio_metric")
    refresh.click(friendly(on_refresh), outputs=[tokenizer, missing], api_name="audio_tokenizers")
    if tab is not None:
        tab.select(friendly(bind(on_open, ui)), inputs=[state, upload, sample, tokenizer, metric],
                   outputs=ui.analyzed(), api_name="audio_open")
    export_row("audio", figures={"waveform and spectrogram": wave_plot, "bits per second vs quality": rate_plot,
                                 "tokens": tokens_plot, "codebook usage": usage_plot},
               extra=Extra([state], export_tokens_and_audio))
