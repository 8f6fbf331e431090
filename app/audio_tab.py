"""Audio tab: tokenize a clip, hear it decoded from the first k codebooks, look at the tokens.

Handlers are plain functions over the library (testable without a server):

    view = analyze_input(upload, sample, ref)    # -> AudioView (raises TokenworksError on bad input)
    k_views(view, k)                             # reconstruction player, waveform/spectrogram, numbers at k
    rate_figure(view, baselines, "pesq")         # the codebook ladder vs the classical codecs

``on_analyze``, ``on_k``, ``on_compare`` wrap them for the UI: a bad file or a missing checkpoint
becomes a status message (and a toast), never a traceback. ``tokenworks.audio.inspect`` does the
work; ``tokenworks.viz.audio`` draws.

A tokenizer ref is a registry name (``audio/rvq-speech16k``) or a trained run
(``run:<folder under the runs folder>``). Only tokenizers that load are offered; the others are
listed with the command that makes them.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tokenworks as tw
from tokenworks.errors import InvalidInput, TokenworksError
from tokenworks.paths import data_dir

from .exports import Items
from .shared import error_markdown

SAMPLES_DIR = data_dir() / "samples" / "audio"
DEFAULT_SAMPLE = "flite-slt.wav"
DEFAULT_TOKENIZER = "audio/rvq-speech16k"
MAX_PLAYERS = 8  # players in the "every k" row (k = 1..K; evenly spread when K is larger)
MAX_TOKEN_FRAMES = 4000  # the token image shows at most this many frames (mu-law: 0.25 s)
METRIC_CHOICES = [("PESQ-WB", "pesq"), ("STOI", "stoi"), ("SI-SDR (dB)", "si_sdr"), ("mel distance", "mel_distance")]
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus")


# ---- lists ---------------------------------------------------------------------------------

@dataclass
class TokenizerChoices:
    """The audio tokenizers that load here, and the ones that do not (with how to get them)."""

    names: list[str]  # registry names that load, then trained runs (run:...)
    missing: dict[str, str] = field(default_factory=dict)  # name -> why not and the command that makes it


def tokenizer_choices() -> TokenizerChoices:
    names, missing = [], {}
    for ref in tw.available("audio") + tw.trained_runs("audio"):
        try:
            tw.load_ref(ref)
            names.append(ref)
        except TokenworksError as e:
            missing[ref] = str(e)
    return TokenizerChoices(names, missing)


def missing_markdown(choices: TokenizerChoices) -> str:
    """One line per tokenizer that does not load, with the command that trains or fetches it."""
    if not choices.missing:
        return ""
    lines = ["**Not available here** (not listed above):"]
    for ref, msg in choices.missing.items():
        first, _, rest = msg.partition("\n")
        cmd = next((ln.strip() for ln in rest.splitlines() if ln.startswith("  ")), "")
        why = "its checkpoint has not been trained yet" if "not been trained" in first else first
        lines.append(f"- `{ref}`: {why}" + (f"; make it with `{cmd}`" if cmd else ""))
    return "\n".join(lines)


def default_tokenizer(names: list[str]) -> str | None:
    """DEFAULT_TOKENIZER when it loads, else the first that does (None when none does)."""
    if DEFAULT_TOKENIZER in names:
        return DEFAULT_TOKENIZER
    return names[0] if names else None


def sample_names() -> list[str]:
    """The sample clips in data/samples/audio (file names)."""
    if not SAMPLES_DIR.is_dir():
        return []
    return sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)


def load_audio_tokenizer(ref: str):
    """The shared tokenizer for ``ref``; a text or image one is refused with the valid names."""
    if not ref:
        raise InvalidInput(f"choose an audio tokenizer: {', '.join(tokenizer_choices().names) or 'none loads here'}")
    tok = tw.load_ref(ref)
    if getattr(tok, "modality", None) != "audio":
        raise InvalidInput(f"{ref} is a {getattr(tok, 'modality', '?')} tokenizer; choose one of "
                           f"{', '.join(tokenizer_choices().names)}")
    return tok


# ---- the core ------------------------------------------------------------------------------

@dataclass
class AudioView:
    """One clip through one tokenizer: what the slider and the views need."""

    ref: str  # what was asked for: a registry name or "run:<folder>"
    source: str  # "upload 'x.wav'" or "sample 'flite-slt.wav'"
    analysis: Any  # tokenworks.audio.inspect.AudioAnalysis

    @property
    def K(self) -> int:
        return self.analysis.num_codebooks


def _upload_path(upload: Any) -> Path | None:
    if upload is None or (isinstance(upload, str) and not upload):
        return None
    if isinstance(upload, dict):  # a FileData-like dict from the API
        upload = upload.get("path")
    if isinstance(upload, (str, os.PathLike)):
        return Path(upload)
    raise InvalidInput(f"the upload must be a file path, got {type(upload).__name__}")


def read_input(upload: Any, sample: str | None):
    """The uploaded or recorded file, else the sample, as a checked 16 kHz mono AudioClip: (clip, source)."""
    from tokenworks.audio.io import read_audio

    path = _upload_path(upload)
    if path is not None:
        if not path.is_file():
            raise InvalidInput(f"the uploaded file {path.name!r} is gone; upload it again")
        source = f"upload '{path.name}'"
    elif sample:
        names = sample_names()
        if sample not in names:
            raise InvalidInput(f"unknown sample {sample!r}; the samples are {', '.join(names) or 'missing'}")
        path, source = SAMPLES_DIR / sample, f"sample '{sample}'"
    else:
        raise InvalidInput("upload or record a clip, or choose a sample")
    try:
        clip = read_audio(path)
    except InvalidInput as e:  # messages name the file, not the server's temporary path
        raise InvalidInput(str(e).replace(str(path), repr(path.name))) from None
    return clip, source


def analyze_input(upload: Any, sample: str | None, ref: str) -> AudioView:
    """Read the input and analyse it with tokenizer ``ref`` (tokens, the ladder, its metrics)."""
    from tokenworks.audio.inspect import analyze

    tok = load_audio_tokenizer(ref)
    clip, source = read_input(upload, sample)
    return AudioView(ref=ref, source=source, analysis=analyze(tok, clip))


def check_k(view: AudioView, k: Any) -> int:
    K = view.K
    try:
        k = int(round(float(k)))
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"k must be a number of codebooks in 1..{K}, got {k!r}") from None
    return min(max(k, 1), K)


def _need(view: Any) -> AudioView:
    if not isinstance(view, AudioView):
        raise InvalidInput("tokenize a clip first (upload or record one, or choose a sample)")
    return view


def player(wave: np.ndarray, sr: int = 16000) -> tuple[int, np.ndarray]:
    """A gr.Audio value: (rate, int16 samples)."""
    return sr, (np.clip(np.nan_to_num(wave), -1.0, 1.0) * 32767.0).round().astype(np.int16)


def ladder_ks(K: int, n: int = MAX_PLAYERS) -> list[int]:
    """The k of each player in the row: 1..K, or n of them evenly spread (1 and K included)."""
    if K <= n:
        return list(range(1, K + 1))
    return sorted({int(round(x)) for x in np.linspace(1, K, n)})


# ---- formatting ----------------------------------------------------------------------------

def _num(value: float, fmt: str, reason: str | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a" + (f" ({reason})" if reason else "")
    if math.isinf(value):
        return "∞ (exact)" if value > 0 else "−∞"
    return format(value, fmt)


def _short(reason: str | None) -> str | None:
    if not reason:
        return None
    r = reason.split(";")[0].split("(")[0].strip()
    return r[:90]


def numbers_markdown(view: AudioView, k: int) -> str:
    """The numbers line at k: frames/s, bits/s, SI-SDR, PESQ-WB, STOI, mel distance."""
    a = view.analysis
    lv = a.level(k)
    q, notes = lv.quality, lv.quality.notes
    bits = math.log2(a.vocab_size)
    line = (f"**k = {k} of {a.num_codebooks}** codebook{'s' if a.num_codebooks > 1 else ''} · "
            f"{a.frame_rate:g} frames/s × {k} × {bits:.3g} bits = **{lv.bits_per_second:,.0f} bits/s** · "
            f"SI-SDR **{_num(q.si_sdr, '.1f', _short(notes.get('si_sdr')))}**"
            f"{'' if math.isnan(q.si_sdr) or math.isinf(q.si_sdr) else ' dB'} · "
            f"PESQ-WB **{_num(q.pesq, '.2f', _short(notes.get('pesq')))}** · "
            f"STOI **{_num(q.stoi, '.2f', _short(notes.get('stoi')))}** · "
            f"mel distance **{_num(q.mel_distance, '.3f', _short(notes.get('mel_distance')))}**")
    if a.quality_seconds < a.clip.duration_s:
        line += f" (metrics on the first {a.quality_seconds:g} s)"
    return line


def status_markdown(view: AudioView) -> str:
    a = view.analysis
    clip = a.clip
    K, T, V = a.num_codebooks, a.num_frames, a.vocab_size
    lines = [f"**{a.tokenizer}** read the {view.source} ({clip.duration_s:.2f} s at {clip.sample_rate} Hz mono) as "
             f"**{K} codebook{'s' if K > 1 else ''} × {T:,} frames** ({a.frame_rate:g} frames/s), "
             f"V = {V:,} ({math.log2(V):.3g} bits a token), {a.level(K).bits_per_second:,.0f} bits/s with all "
             f"{K}." + (" K = 1: there is no codebook ladder to slide through." if K == 1 else "")]
    inp = []
    if clip.resampled:
        inp.append(f"resampled from {clip.original_rate:,} Hz to {clip.sample_rate:,} Hz")
    if clip.downmixed:
        inp.append(f"down-mixed {clip.original_channels} channels to mono")
    others = [n for n in a.notes if not n.startswith(("resampled from", "down-mixed"))]
    if inp:
        lines.append("Input: " + "; ".join(inp) + ".")
    if others:
        lines.append("⚠️ " + " · ".join(others))
    t = a.timings
    lines.append(f"<small>encode {t.get('encode', 0):.2f} s · decode every k {t.get('decode', 0):.2f} s · "
                 f"metrics {t.get('metrics', 0):.2f} s</small>")
    return "\n\n".join(lines)


# ---- the views -----------------------------------------------------------------------------

def waveform_figure(view: AudioView, k: int):
    from tokenworks.viz import audio as va

    a = view.analysis
    return va.waveform_spectrogram(a.clip.wave, a.recon(k), a.clip.sample_rate,
                                   title=f"Original vs decoded from the first {k} codebook{'s' if k > 1 else ''}")


def tokens_figure(view: AudioView):
    from tokenworks.viz import audio as va

    a = view.analysis
    T = a.num_frames
    if T <= MAX_TOKEN_FRAMES:
        return va.codebook_tokens(a.ids, a.frame_rate, a.vocab_size)
    title = (f"The first {MAX_TOKEN_FRAMES:,} of {T:,} frames ({MAX_TOKEN_FRAMES / a.frame_rate:.2f} s of "
             f"{T / a.frame_rate:.2f} s at {a.frame_rate:g} frames/s)")
    return va.codebook_tokens(a.ids[:, :MAX_TOKEN_FRAMES], a.frame_rate, a.vocab_size, title=title)


def usage_figure(view: AudioView):
    from tokenworks.viz import audio as va

    a = view.analysis
    note = ""
    if a.num_frames < a.vocab_size:
        note = f"<br><sup>{a.num_frames:,} frames can use at most {a.num_frames:,} of {a.vocab_size:,} codes per level</sup>"
    return va.codebook_usage(a.usage, title=f"Codebook usage per level on this clip{note}")


@dataclass
class Baselines:
    """The classical codecs on the clip of one AudioView."""

    points: list = field(default_factory=list)  # viz.audio.RatePoint markers
    skipped: list[str] = field(default_factory=list)  # baselines that could not run, and why
    seconds: float = 0.0  # wall time of the comparison


def compare(view: AudioView) -> Baselines:
    """Opus, MP3, Codec2 and mu-law on this clip (``inspect.DEFAULT_BASELINES``), same metrics."""
    import time

    from tokenworks.audio.inspect import baseline_runs

    view = _need(view)
    t0 = time.perf_counter()
    runs, skipped = baseline_runs(view.analysis.clip)
    return Baselines([r.point for r in runs], skipped, time.perf_counter() - t0)


def rate_figure(view: AudioView, baselines: Baselines | None, metric: str) -> tuple[Any, str]:
    """(figure, note): the codebook ladder and the baselines, bits/s against ``metric``. A metric no
    point has a value for (PESQ on silence) falls back to the mel distance, and the note says so."""
    from tokenworks.audio.inspect import METRIC_LABELS, METRICS
    from tokenworks.viz import audio as va

    view = _need(view)
    if metric not in METRICS:
        raise InvalidInput(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    a = view.analysis
    points = a.rate_points() + (list(baselines.points) if isinstance(baselines, Baselines) else [])
    notes = []
    order = [metric] + [m for m in ("mel_distance", "si_sdr") if m != metric]
    for m in order:
        if any(np.isfinite(p.metrics.get(m, np.nan)) for p in points):
            if m != metric:
                reason = a.level().quality.notes.get(metric, "undefined on this clip")
                notes.append(f"{METRIC_LABELS[metric]} is undefined here ({_short(reason)}): showing "
                             f"{METRIC_LABELS[m]} instead.")
            title = f"Bits per second vs {METRIC_LABELS[m]} on this clip"
            if a.quality_seconds < a.clip.duration_s:
                title += f" (first {a.quality_seconds:g} s)"
            fig = va.bitrate_quality(points, metric=m, title=title)
            if isinstance(baselines, Baselines):
                notes.append(f"Classical codecs: {len(baselines.points)} run in {baselines.seconds:.1f} s; bits/s "
                             "measured from their bitstreams (payload, container excluded).")
                notes += [f"Skipped {s}" for s in baselines.skipped]
            else:
                notes.append("Press **Compare with classical codecs** to add Opus, MP3, Codec2 and mu-law "
                             "at their measured bitrates.")
            return fig, " ".join(notes)
    return None, "No metric is defined on this clip (is it silent?)."


# ---- UI wrappers ---------------------------------------------------------------------------

def _warn(msg: str) -> None:
    import gradio as gr

    try:
        gr.Warning(msg)
    except Exception:  # noqa: BLE001 - outside a request there is no toast to show
        pass


def k_views(view: AudioView, k: Any) -> tuple:
    """(reconstruction player, waveform/spectrogram figure, numbers line) at k."""
    view = _need(view)
    k = check_k(view, k)
    return player(view.analysis.recon(k)), waveform_figure(view, k), numbers_markdown(view, k)


N_OUTPUTS = 12 + MAX_PLAYERS  # see on_analyze


def on_analyze(upload: Any, sample: str | None, ref: str, metric: str = "pesq", quiet: bool = False) -> tuple:
    """UI handler: analyse the input and fill every view; a bad input becomes a status message.

    Returns (state, baselines state, status, original player, k slider, reconstruction player,
    waveform figure, numbers, tokens figure, usage figure, rate figure, rate note, *players)."""
    import gradio as gr

    try:
        view = analyze_input(upload, sample, ref)
        recon, wave_fig, numbers = k_views(view, view.K)
        toks, usage = tokens_figure(view), usage_figure(view)
        rate, rate_note = rate_figure(view, None, metric)
    except TokenworksError as e:
        if not quiet:
            _warn(str(e).split("\n", 1)[0])
        blank = (None, None, error_markdown(e), None, gr.update(), None, None, "", None, None, None, "")
        return blank + tuple(gr.update(value=None) for _ in range(MAX_PLAYERS))
    K = view.K
    slider = gr.update(minimum=1, maximum=max(K, 2), value=K, step=1, visible=K > 1, interactive=K > 1,
                       label=f"k: codebooks kept (1..{K})")
    ks = ladder_ks(K)
    players = []
    for i in range(MAX_PLAYERS):
        if i < len(ks):
            k = ks[i]
            players.append(gr.update(value=player(view.analysis.recon(k)), visible=True,
                                     label=f"k={k} · {view.analysis.level(k).bits_per_second:,.0f} b/s"))
        else:
            players.append(gr.update(value=None, visible=False))
    a = view.analysis
    out = (view, None, status_markdown(view), player(a.clip.wave), slider, recon, wave_fig, numbers, toks, usage,
           rate, rate_note, *players)
    assert len(out) == N_OUTPUTS
    return out


def on_k(view: AudioView | None, k: Any) -> tuple:
    """UI handler for the slider: the reconstruction, its figure and numbers at k."""
    import gradio as gr

    try:
        return k_views(view, k)
    except TokenworksError as e:
        _warn(str(e).split("\n", 1)[0])
        return gr.update(), gr.update(), f"⚠️ {e}"


def on_compare(view: AudioView | None, metric: str) -> tuple:
    """UI handler for "Compare with classical codecs": (baselines state, rate figure, note)."""
    import gradio as gr

    try:
        base = compare(view)
        fig, note = rate_figure(view, base, metric)
    except TokenworksError as e:
        _warn(str(e).split("\n", 1)[0])
        return gr.update(), gr.update(), f"⚠️ {e}"
    return base, fig, note


def on_metric(view: AudioView | None, baselines: Baselines | None, metric: str) -> tuple:
    import gradio as gr

    if not isinstance(view, AudioView):
        return gr.update(), ""
    try:
        return rate_figure(view, baselines, metric)
    except TokenworksError as e:
        return gr.update(), f"⚠️ {e}"


def on_refresh() -> tuple:
    """UI handler: list the tokenizers again (a checkpoint trained or a run saved since)."""
    import gradio as gr

    choices = tokenizer_choices()
    return gr.update(choices=choices.names), missing_markdown(choices)


def on_open(view: AudioView | None, upload: Any, sample: str | None, ref: str, metric: str) -> tuple:
    """UI handler when the tab is opened: analyse the default sample once (nothing if a view exists)."""
    import gradio as gr

    if isinstance(view, AudioView) or not ref:
        return tuple(gr.update() for _ in range(N_OUTPUTS))
    return on_analyze(upload, sample, ref, metric, quiet=True)


INTRO = (
    "Tokenize a clip with an audio tokenizer and hear it decoded from the **first k codebooks** "
    "(a residual codec refines its first codebook with every further one; each adds bits/s). "
    "Input is read as **16 kHz mono**: other rates are resampled and stereo is down-mixed, and the status says "
    "so. Files: WAV, FLAC or OGG up to {limit:g} s; metrics look at the first {quality:g} s."
)


def export_tokens_and_audio(view: AudioView | None) -> Items:
    """For the export: the tokens of the clip shown, (K, T) codebooks x frames, as JSON, and the
    input as the tokenizer reads it (16 kHz mono) and every reconstruction, as WAV."""
    from tokenworks.viz.export import Sound

    if not isinstance(view, AudioView):
        return Items(notes=["tokens: no clip tokenized yet"])
    a = view.analysis
    sr = a.clip.sample_rate
    sounds = {"input 16k mono": Sound(a.clip.wave, sr)}
    sounds.update({f"decoded k={k}": Sound(w, sr) for k, w in zip(a.ks, a.recons)})
    return Items(jsons={"tokens": {"tokenizer": a.tokenizer, "ref": view.ref, "source": view.source,
                                   "shape": list(a.ids.shape), "vocab_size": a.vocab_size,
                                   "frame_rate": a.frame_rate, "ids": a.ids.tolist(), "notes": a.notes}},
                 sounds=sounds)


def build(tab: Any = None) -> None:
    """Lay out the Audio tab inside the current gr.Blocks context (``tab``: its gr.Tab, to analyse
    the default sample when it is first opened)."""
    import gradio as gr

    from tokenworks.audio.inspect import QUALITY_SECONDS
    from tokenworks.audio.io import MAX_FILE_BYTES, MAX_SECONDS

    from . import media_links, tab_links
    from .common import friendly
    from .exports import Extra, add_export

    choices = tokenizer_choices()
    samples = sample_names()
    gr.Markdown(INTRO.format(limit=MAX_SECONDS, quality=QUALITY_SECONDS))
    with gr.Row():
        with gr.Column(scale=3):
            upload = gr.Audio(sources=["upload", "microphone"], type="filepath", format=None,
                              label=f"Upload (WAV, FLAC, OGG; up to {MAX_SECONDS:g} s and {MAX_FILE_BYTES / 2**20:g} MiB) or record", elem_id="tw-audio-upload")
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
            link = tab_links.link_box("audio")
    status = gr.Markdown(elem_id="tw-audio-status")
    state = gr.State(None)
    base_state = gr.State(None)
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
            compare_btn = gr.Button("Compare with classical codecs", size="sm", scale=1,
                                    elem_id="tw-audio-compare")
        rate_plot = gr.Plot(label="Bits per second vs quality", show_label=False, elem_id="tw-audio-rate")
        rate_note = gr.Markdown(elem_id="tw-audio-rate-note")
    with gr.Accordion("The tokens: one row per codebook, over time", open=True):
        tokens_plot = gr.Plot(label="Tokens", show_label=False, elem_id="tw-audio-tokens")
    with gr.Accordion("Codebook usage per level", open=False):
        usage_plot = gr.Plot(label="Usage", show_label=False, elem_id="tw-audio-usage")

    outputs = [state, base_state, status, original, k, recon, wave_plot, numbers, tokens_plot, usage_plot,
               rate_plot, rate_note, *ladder]
    assert len(outputs) == N_OUTPUTS
    gr.on(triggers=[upload.change, sample.change, tokenizer.change, metric.change, k.change],
          fn=friendly(media_links.audio_link), inputs=[upload, sample, tokenizer, metric, k],
          outputs=[link.query, link.link], api_name=False, trigger_mode="always_last", show_progress="hidden")
    if gr.context.Context.root_block is not None:  # a link to this tab: its view on page load
        gr.context.Context.root_block.load(link.restore(media_links.audio_restore),
                                           inputs=[upload, sample, tokenizer, metric],
                                           outputs=outputs + [tokenizer, sample, metric] + link.outputs, api_name=False)
    analyze_fn = friendly(on_analyze)
    for event, name in ((upload.upload, "audio_upload"), (upload.stop_recording, "audio_record")):
        event(lambda f, r, m: analyze_fn(f, None, r, m) + (None,), inputs=[upload, tokenizer, metric],
              outputs=outputs + [sample], api_name=name)
    sample.input(lambda s, r, m: analyze_fn(None, s, r, m) + (None,), inputs=[sample, tokenizer, metric],
                 outputs=outputs + [upload], api_name="audio_sample")
    gr.on(triggers=[tokenizer.input, run.click], fn=analyze_fn, inputs=[upload, sample, tokenizer, metric],
          outputs=outputs, api_name="audio_tokenize")
    k.input(friendly(on_k), inputs=[state, k], outputs=[recon, wave_plot, numbers], api_name="audio_k",
            trigger_mode="always_last", show_progress="hidden")
    compare_btn.click(friendly(on_compare), inputs=[state, metric], outputs=[base_state, rate_plot, rate_note],
                      api_name="audio_compare")
    metric.input(friendly(on_metric), inputs=[state, base_state, metric], outputs=[rate_plot, rate_note],
                 api_name="audio_metric")
    refresh.click(friendly(on_refresh), outputs=[tokenizer, missing], api_name="audio_tokenizers")
    if tab is not None:
        tab.select(friendly(on_open), inputs=[state, upload, sample, tokenizer, metric], outputs=outputs,
                   api_name="audio_open")
    add_export("audio", figures={"waveform and spectrogram": wave_plot, "bits per second vs quality": rate_plot,
                                 "tokens": tokens_plot, "codebook usage": usage_plot},
               extra=Extra([state], export_tokens_and_audio))
