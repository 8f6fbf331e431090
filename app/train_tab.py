"""Train tab: start a training run, watch it live, stop it, resume it, compare it with earlier runs.

Handlers are plain functions over the library (testable without a server):

    start_run(NewRun(...), files)      # -> run id; the job starts in the background (tokenworks.train.jobs)
    runs_table()                       # the run registry as rows, newest first
    run_view(run_id)                   # RunView: status line, live dashboard figure, preview picture
    stop_run(id) / resume(id) / delete_run(id) / compare(ids, metric)

A run is a job process of its own (``python -m tokenworks.train job ID``): it holds the device
while it trains, and runs started meanwhile wait in the queue ("queued"), they do not fail. The
tab follows a run by reading its events.jsonl once a second (a gr.Timer); a run's folder is found
by its id only, never by a path from the browser.
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from tokenworks.errors import InvalidInput
from tokenworks.paths import runs_dir
from tokenworks.train import jobs
from tokenworks.train.common import duration_text
from tokenworks.train import runs as R

from .shared import name_list

IMAGE_MODELS = ("grid", "flex1d")
IMAGE_QUANTIZERS = ("preset", "vq", "fsq", "lfq", "glfq")  # "preset": the model's own
IMAGE_PRESETS = ("cpu-tiny", "default", "gpu")
AUDIO_MODELS = ("rvq", "single")
AUDIO_PRESETS = ("cpu-tiny", "cpu", "gpu")
TEXT_ALGOS = ("bpe", "bytebpe", "superbpe", "wordpiece", "unigram", "charbpe")
UPLOADED = "uploaded files"
BUNDLED_AUDIO = "synthetic speech (bundled)"
MAX_STEPS = 1_000_000
LIMITS = ("Uploads: pictures (.png .jpg .webp .gif .bmp, up to 500 files, 50 MB and 40 megapixels each, or a .zip) "
          "for image runs; WAV / FLAC / OGG clips (up to 500 files, 10 minutes each) for audio runs.")


@dataclass
class NewRun:
    modality: str = "image"  # image | audio | text
    model: str = "grid"  # image: grid | flex1d; audio: rvq | single; text: an algorithm
    quantizer: str = "preset"  # image: the model's quantizer, or vq | fsq | lfq | glfq
    preset: str = "cpu-tiny"
    data: str = "shapes32"  # an image data set, BUNDLED_AUDIO, a text corpus, or UPLOADED
    steps: int | None = None  # None: the preset's
    seed: int = 0
    vocab_size: int = 2000  # text only


@dataclass
class RunView:
    status: str  # Markdown: status, step, ETA, throughput, error
    figure: Any  # the live dashboard (plotly)
    preview: str | None  # path of the latest reconstruction picture (image runs)
    signature: tuple  # changes when anything shown changes (the timer skips redraws otherwise)


def model_choices(modality: str) -> list[str]:
    return {"image": list(IMAGE_MODELS), "audio": list(AUDIO_MODELS), "text": list(TEXT_ALGOS)}[_modality(modality)]


def preset_choices(modality: str) -> list[str]:
    return {"image": list(IMAGE_PRESETS), "audio": list(AUDIO_PRESETS), "text": []}[_modality(modality)]


def data_choices(modality: str) -> list[str]:
    modality = _modality(modality)
    if modality == "image":
        from tokenworks.image.data import available, dataset_names

        return [n for n in dataset_names() if available(n)] + [UPLOADED]  # the ones whose assets are here
    if modality == "audio":
        return [BUNDLED_AUDIO, UPLOADED]
    from tokenworks.text.corpora import CORPORA

    return list(CORPORA)


def default_data(modality: str) -> str:
    """emoji32 for image runs when its asset is here, else the first data set that is."""
    choices = data_choices(modality)
    return "emoji32" if "emoji32" in choices else choices[0]


def _modality(m: str) -> str:
    if m not in R.MODALITIES:
        raise InvalidInput(f"modality must be one of {', '.join(R.MODALITIES)}, not {m!r}")
    return m


def _upload_dir(kind: str) -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    return runs_dir() / "uploads" / f"{stamp}-{kind}"


def _whole(value: Any, what: str, lo: int, hi: int, note: str = "") -> int:
    """``value`` as a whole number in lo..hi; InvalidInput naming the range otherwise."""
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        n = None
    if n is None or not lo <= n <= hi:
        raise InvalidInput(f"{what} must be between {lo:,} and {hi:,}{note}, not {value!r:.40}")
    return n


def _file_paths(files: Any) -> list[str]:
    """Uploaded files as paths: None, one path, or a list of paths (or of {"path": ...} from the API)."""
    if files is None or isinstance(files, (str, os.PathLike, dict)):
        files = [] if files is None else [files]
    if not isinstance(files, (list, tuple)):
        raise InvalidInput(f"files must be a list of uploaded files, not {type(files).__name__}")
    paths = [f.get("path") if isinstance(f, dict) else f for f in files]
    bad = [p for p in paths if not isinstance(p, (str, os.PathLike))]
    if bad:
        raise InvalidInput(f"files must be uploaded files (paths), not {type(bad[0]).__name__} {bad[0]!r:.40}")
    return [str(p) for p in paths]


def trainer_args(req: NewRun, files: Sequence[str] | None = None) -> tuple[list[str], dict[str, str], str]:
    """The trainer's arguments for a new run, a summary for listings, and a note for the person."""
    m = _modality(req.modality)
    files = _file_paths(files)
    if req.model not in model_choices(m):
        raise InvalidInput(f"{m} model must be one of {', '.join(model_choices(m))}, not {req.model!r}")
    if req.steps is not None:
        _whole(req.steps, "steps", 1, MAX_STEPS, " (or 0 for the preset's)")
    _whole(req.seed, "seed", 0, 2**31 - 1)
    note = ""
    argv: list[str]
    if m == "text":
        if req.data not in data_choices(m):
            raise InvalidInput(f"text corpus must be one of {', '.join(data_choices(m))}, not {req.data!r}")
        _whole(req.vocab_size, "vocab size", 260, 200_000)
        argv = ["--algo", req.model, "--vocab", str(int(req.vocab_size)), "--corpus", req.data]
        summary = {"model": req.model, "data": req.data, "vocab_size": str(int(req.vocab_size))}
        return argv, summary, note
    if req.preset not in preset_choices(m):
        raise InvalidInput(f"{m} preset must be one of {', '.join(preset_choices(m))}, not {req.preset!r}")
    data = req.data
    if data not in data_choices(m):
        raise InvalidInput(f"{m} data must be one of {', '.join(data_choices(m))}, not {data!r}")
    if data == UPLOADED or (files and m != "text"):
        if not files:
            raise InvalidInput(f"choose files to upload first (or pick a bundled data set). {LIMITS}")
        if m == "image":
            from tokenworks.image.upload import build_image_upload

            size = 64 if req.model == "flex1d" else 32
            up = build_image_upload(files, size, _upload_dir("images"))
            data_arg, label = str(up.folder), f"{len(up.sources)} uploaded pictures"
            note = (f"{len(up.sources)} pictures -> {up.train_images} training and {up.test_images} test crops "
                    f"({size}x{size})" + ("" if up.disjoint else "; with one picture the test crops come from it too"))
            rejected = up.rejected
        else:
            from tokenworks.audio.upload import build_audio_upload

            up_a = build_audio_upload(files, _upload_dir("audio"))
            data_arg, label = str(up_a.folder), f"{up_a.clips} uploaded clips"
            note = f"{up_a.clips} clips, {up_a.seconds:.1f} s of audio"
            rejected = up_a.rejected
        if rejected:
            note += "; not used: " + "; ".join(f"{r.name} ({r.reason})" for r in rejected[:5])
    else:
        data_arg, label = data, data
    if m == "image":
        argv = ["--model", req.model, "--preset", req.preset, "--data", data_arg, "--seed", str(int(req.seed))]
        if req.quantizer != "preset":
            if req.quantizer not in IMAGE_QUANTIZERS:
                raise InvalidInput(f"quantizer must be one of {', '.join(IMAGE_QUANTIZERS)}, not {req.quantizer!r}")
            argv += ["--set", f'quantizer="{req.quantizer}"']
    else:
        argv = ["--design", req.model, "--preset", req.preset, "--seed", str(int(req.seed))]
        if data_arg != BUNDLED_AUDIO:
            argv += ["--wav-dir", data_arg]
    if req.steps is not None:
        argv += ["--steps", str(int(req.steps))]
    summary = {"model": req.model, "data": label, "preset": req.preset}
    if m == "image" and req.quantizer != "preset":
        summary["quantizer"] = req.quantizer
    return argv, summary, note


def start_run(req: NewRun, files: Sequence[str] | None = None) -> tuple[str, str]:
    """Register the run and start its job; returns (run id, a message for the person)."""
    argv, summary, note = trainer_args(req, files)
    info = jobs.submit(req.modality, argv, summary)
    holder = jobs.DeviceLock(info.device or "cpu").holder()
    where = (f"queued: the {info.device} is training run `{holder.run_id}`; this one starts when it ends"
             if holder and holder.run_id != info.id else "starting")
    return info.id, f"Run `{info.id}` {where}." + (f" {note}." if note else "")


RUN_HEADERS = ["run", "status", "step", "model", "data", "preset", "started"]


def runs_table() -> list[list[str]]:
    rows = []
    for r in R.list_runs():
        if r.status == "running":  # run.json has the step of the end; a running one's is in its log
            last = (R.step_history(r.folder) or [{}])[-1]
            r.step, r.steps = int(last.get("step", 0)), last.get("steps")
        steps = f"{r.step:,}/{r.steps:,}" if r.steps else (f"{r.step:,}" if r.step else "")
        rows.append([r.id, r.status, steps, r.summary.get("model", ""), r.summary.get("data", ""),
                     r.summary.get("preset", ""), r.created.replace("T", " ")[:19]])
    return rows


def run_ids() -> list[str]:
    return [r.id for r in R.list_runs()]


def run_view(run_id: str | None) -> RunView:
    from tokenworks.viz.train import training_dashboard

    if not run_id:
        return RunView("Pick a run, or start one.", training_dashboard([], title="no run chosen"), None, ())
    folder = R.run_folder(run_id)
    info = R.read_run(folder)
    events = R.read_events(folder)
    steps = [e for e in events if e.get("event") == "step"]
    last = steps[-1] if steps else {}
    line = f"**{info.id}** — {info.status}"
    if last:
        total = last.get("steps")
        line += f" · step {last.get('step', 0):,}" + (f" of {total:,}" if total else "")
        if last.get("items_per_s") is not None:
            line += f" · {last['items_per_s']:,.1f} {last.get('unit', 'items')}/s"
        if info.status == "running" and last.get("eta_s") is not None:
            line += f" · ETA {duration_text(last['eta_s'])}"
        line += f" · {duration_text(last.get('elapsed'))} trained"
    if info.status == "queued":
        holder = jobs.DeviceLock(info.device or "cpu").holder()
        line += f" · waiting for the {info.device}" + (f" (run `{holder.run_id}` is training)" if holder else "")
    if info.error:
        line += f"\n\n⚠️ {info.error}"
    if info.has_model:
        line += f"\n\nModel: `run:train/{info.id}/model` — pick it in the {info.modality.capitalize()} tab."
    if info.resumable:
        line += "\n\nThis run can be resumed from its last checkpoint."
    preview = folder / "preview.png"
    title = " ".join(str(info.summary.get(k)) for k in ("model", "data", "preset") if info.summary.get(k))
    sig = (info.id, info.status, len(events), preview.stat().st_mtime_ns if preview.is_file() else 0)
    fig = training_dashboard(steps, title=title or info.id)
    fig.update_layout(width=None, autosize=True)  # as wide as the column
    return RunView(line, fig, str(preview) if preview.is_file() else None, sig)


def stop_run(run_id: str | None) -> str:
    if not run_id:
        raise InvalidInput("pick a run to stop")
    R.request_stop(run_id)
    return f"Asked run `{run_id}` to stop; it ends at its next step and keeps its last checkpoint."


def resume(run_id: str | None) -> str:
    if not run_id:
        raise InvalidInput("pick a run to resume")
    info = jobs.resume_run(run_id)
    return f"Run `{info.id}` resumes from its last checkpoint ({info.status})."


def delete_run(run_id: str | None) -> str:
    if not run_id:
        raise InvalidInput("pick a run to delete")
    R.delete_run(run_id)
    return f"Deleted run `{run_id}`."


def compare(run_ids: Sequence[str] | None, metric: str = "loss", x: str = "step") -> Any:
    from tokenworks.viz.train import compare_runs

    chosen = name_list(run_ids, "runs")
    if not chosen:
        raise InvalidInput("pick one or more runs to compare")
    if len(chosen) > 12:
        raise InvalidInput(f"compare at most 12 runs at once (got {len(chosen)})")
    curves = {r: R.step_history(R.run_folder(r)) for r in chosen}
    return compare_runs(curves, metric=metric, x=x).update_layout(width=None, autosize=True)


# ---- the UI ---------------------------------------------------------------------------------


def build(tab: Any = None) -> None:
    import gradio as gr

    from .common import friendly
    from .exports import add_export

    gr.Markdown("Train an image, audio or text tokenizer and watch it learn. One run trains at a time on "
                "this machine; others wait in the queue. Every run is kept in the run registry below, "
                "with its curves and checkpoints; a finished model opens in the other tabs.")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            gr.Markdown("### New run")
            modality = gr.Radio(list(R.MODALITIES), value="image", label="modality", elem_id="tw-train-modality")
            model = gr.Dropdown(model_choices("image"), value="grid", label="model", elem_id="tw-train-model")
            quantizer = gr.Dropdown(list(IMAGE_QUANTIZERS), value="preset", label="quantizer (image models)",
                                    elem_id="tw-train-quantizer")
            preset = gr.Dropdown(preset_choices("image"), value="cpu-tiny", label="preset",
                                 info="cpu-tiny: a minute or two here; default: what ships; gpu: needs a GPU",
                                 elem_id="tw-train-preset")
            data = gr.Dropdown(data_choices("image"), value=default_data("image"), label="data", elem_id="tw-train-data",
                               info="data sets whose assets are missing are left out (make assets)")
            vocab = gr.Number(value=2000, precision=0, label="vocabulary size (text)", visible=False, info="260 to 200,000")
            with gr.Row():
                steps = gr.Number(value=0, precision=0, minimum=0, label="steps (0: the preset's)", info=f"at most {MAX_STEPS:,}", elem_id="tw-train-steps")
                seed = gr.Number(value=0, precision=0, label="seed", info=f"0 to {2**31 - 1:,}")
            files = gr.File(file_count="multiple", label="your own data (choose 'uploaded files' above)",
                            type="filepath")
            gr.Markdown(f"<small>{LIMITS}</small>")
            start = gr.Button("Start training", variant="primary", elem_id="tw-train-start")
            message = gr.Markdown(elem_id="tw-train-message")
        with gr.Column(scale=2):
            gr.Markdown("### Runs")
            table = gr.Dataframe(value=runs_table, headers=RUN_HEADERS, interactive=False, elem_id="tw-train-runs")
            with gr.Row():
                pick = gr.Dropdown(run_ids(), value=None, label="run", elem_id="tw-train-pick", scale=3)
                stop = gr.Button("Stop", elem_id="tw-train-stop", scale=1)
                resume_btn = gr.Button("Resume", elem_id="tw-train-resume", scale=1)
                delete = gr.Button("Delete", variant="stop", elem_id="tw-train-delete", scale=1)
            status = gr.Markdown("Pick a run, or start one.", elem_id="tw-train-status")
            dashboard = gr.Plot(elem_id="tw-train-dashboard", label="live curves")
            preview = gr.Image(label="reconstructions at the last checkpoint (image runs)", interactive=False,
                               elem_id="tw-train-preview", height=160)
            with gr.Accordion("Compare runs", open=False):
                with gr.Row():
                    cmp_runs = gr.Dropdown(run_ids(), multiselect=True, label="runs", scale=3)
                    cmp_metric = gr.Dropdown(["loss", "mse", "psnr_train", "lr", "q_usage", "q_perplexity",
                                              "items_per_s", "train_bytes_per_token"], value="loss",
                                             allow_custom_value=True, label="metric", scale=1)
                    cmp_x = gr.Radio(["step", "elapsed"], value="step", label="x axis", scale=1)
                cmp_btn = gr.Button("Compare")
                cmp_plot = gr.Plot(elem_id="tw-train-compare")
    seen = gr.State(())
    timer = gr.Timer(1.0)

    def on_modality(m: str):
        return (gr.update(choices=model_choices(m), value=model_choices(m)[0]),
                gr.update(visible=m == "image", value="preset"),
                gr.update(choices=preset_choices(m), value=(preset_choices(m) or [None])[0], visible=m != "text"),
                gr.update(choices=data_choices(m), value=default_data(m)),
                gr.update(visible=m == "text"))

    modality.change(friendly(on_modality), modality, [model, quantizer, preset, data, vocab], api_name=False)

    def refresh(run_id: str | None, last_sig: tuple):
        rows = runs_table()
        if run_id and run_id not in [r[0] for r in rows]:
            run_id = None
        view = run_view(run_id)
        sig = (view.signature, tuple(map(tuple, rows)))
        if sig == tuple(last_sig or ()):
            return gr.update(), gr.update(), gr.update(), gr.update(), last_sig
        return rows, view.status, view.figure, view.preview, sig

    def on_start(m, mdl, q, p, d, v, st, sd, fs):
        req = NewRun(modality=m, model=mdl, quantizer=q or "preset", preset=p or "", data=d,
                     steps=int(st) if st not in (None, "", 0) else None, seed=int(sd or 0), vocab_size=int(v or 2000))
        run_id, msg = start_run(req, fs)
        ids = run_ids()
        return msg, gr.update(choices=ids, value=run_id), gr.update(choices=ids), runs_table(), ()

    # These handlers also show the table, and their answer can arrive after a timer tick that already
    # showed a newer one (a run that stopped in between): they clear ``seen`` so the next tick shows
    # the table again instead of finding nothing new.
    start.click(friendly(on_start), [modality, model, quantizer, preset, data, vocab, steps, seed, files],
                [message, pick, cmp_runs, table, seen], api_name="train_start", concurrency_limit=2)

    def after(fn):
        def run(run_id):
            msg = fn(run_id)
            ids = run_ids()
            return msg, gr.update(choices=ids, value=run_id if run_id in ids else None), runs_table(), ()
        run.__name__ = fn.__name__
        return run

    stop.click(friendly(after(stop_run)), pick, [message, pick, table, seen], api_name="train_stop")
    resume_btn.click(friendly(after(resume)), pick, [message, pick, table, seen], api_name="train_resume")
    delete.click(friendly(after(delete_run)), pick, [message, pick, table, seen], api_name="train_delete")
    pick.change(friendly(refresh), [pick, gr.State(())], [table, status, dashboard, preview, seen], api_name=False)
    timer.tick(friendly(refresh), [pick, seen], [table, status, dashboard, preview, seen], api_name=False,
               show_progress="hidden", queue=False)
    cmp_btn.click(friendly(compare), [cmp_runs, cmp_metric, cmp_x], cmp_plot, api_name="train_compare")
    if tab is not None:
        tab.select(lambda: gr.update(choices=run_ids()), None, cmp_runs, api_name=False)
    add_export("train", figures={"live curves": dashboard, "compare runs": cmp_plot}, tables={"runs": table},
               images={"reconstructions": preview})


__all__ = ["NewRun", "RunView", "trainer_args", "start_run", "runs_table", "run_view", "stop_run", "resume",
           "delete_run", "compare", "build"]
