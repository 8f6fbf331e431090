"""Train tab: start a training run, watch it live, stop it, resume it, compare it with earlier runs.

Handlers are plain functions over the library (testable without a server):

    start_run(NewRun(...), files)      # -> run id; the job starts in the background (app/train_form.py)
    runs_table()                       # the run registry as rows, newest first
    run_view(run_id)                   # RunView: status line, live dashboard figure, preview picture
    stop_run(id) / resume(id) / delete_run(id) / compare(ids, metric)

A run is a job process of its own (``python -m tokenworks.train job ID``): it holds the device
while it trains, and runs started meanwhile wait in the queue ("queued"), they do not fail. The
tab follows a run by reading its events.jsonl once a second (a gr.Timer); a run's folder is found
by its id only, never by a path from the browser.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from tokenworks.errors import InvalidInput
from tokenworks.train import jobs
from tokenworks.train import runs as R
from tokenworks.train.common import duration_text

from .train_form import (IMAGE_QUANTIZERS, LIMITS, MAX_STEPS, NewRun, data_choices, default_data, model_choices,
                         preset_choices, start_run)
from .widgets import Components, bind, export_row, friendly, name_list


@dataclass
class RunView:
    status: str  # Markdown: status, step, ETA, throughput, error
    figure: Any  # the live dashboard (plotly)
    preview: str | None  # path of the latest reconstruction picture (image runs)
    signature: tuple  # changes when anything shown changes (the timer skips redraws otherwise)


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
    if info.has_model and info.modality == "lm-embeddings":
        line += f"\n\nModel: `train/{info.id}/model` — `tw.load_lm(\"train/{info.id}/model\")` loads it."
    elif info.has_model:
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


@dataclass
class TrainUI(Components):
    model: Any  # the new-run form
    quantizer: Any
    preset: Any
    data: Any
    vocab: Any
    message: Any
    pick: Any  # the runs
    cmp_runs: Any
    table: Any
    seen: Any  # gr.State: the signature of what the page shows (the timer redraws only what changed)
    status: Any
    dashboard: Any
    preview: Any


def on_modality(ui: TrainUI, m: str) -> dict:
    """The form's choices for modality ``m``."""
    import gradio as gr

    return ui.set(model=gr.update(choices=model_choices(m), value=model_choices(m)[0]),
                  quantizer=gr.update(visible=m == "image", value="preset"),
                  preset=gr.update(choices=preset_choices(m), value=(preset_choices(m) or [None])[0],
                                   visible=m != "text"),
                  data=gr.update(choices=data_choices(m), value=default_data(m)), vocab=gr.update(visible=m == "text"))


def refresh(ui: TrainUI, run_id: str | None, last_sig: tuple) -> dict:
    """The runs table and the picked run's status, curves and preview, when any of them changed."""
    rows = runs_table()
    if run_id and run_id not in [r[0] for r in rows]:
        run_id = None
    view = run_view(run_id)
    sig = (view.signature, tuple(map(tuple, rows)))
    if sig == tuple(last_sig or ()):
        return ui.set(seen=last_sig)
    return ui.set(table=rows, status=view.status, dashboard=view.figure, preview=view.preview, seen=sig)


def on_start(ui: TrainUI, m: Any, mdl: Any, q: Any, p: Any, d: Any, v: Any, st: Any, sd: Any, fs: Any) -> dict:
    """Start a run from the form. Like the stop/resume/delete handlers it also shows the table, and
    its answer can arrive after a timer tick that showed a newer one: it clears ``seen`` so the
    next tick shows the table again instead of finding nothing new."""
    import gradio as gr

    req = NewRun(modality=m, model=mdl, quantizer=q or "preset", preset=p or "", data=d,
                 steps=int(st) if st not in (None, "", 0) else None, seed=int(sd or 0), vocab_size=int(v or 2000))
    run_id, msg = start_run(req, fs)
    ids = run_ids()
    return ui.set(message=msg, pick=gr.update(choices=ids, value=run_id), cmp_runs=gr.update(choices=ids),
                  table=runs_table(), seen=())


def after(ui: TrainUI, fn: Any) -> Any:
    """A run action (stop, resume, delete) as a handler that also shows the message, the pick and the table."""
    import gradio as gr

    def run(run_id: Any) -> dict:
        msg = fn(run_id)
        ids = run_ids()
        return ui.set(message=msg, pick=gr.update(choices=ids, value=run_id if run_id in ids else None),
                      table=runs_table(), seen=())
    run.__name__ = fn.__name__
    return run


def build(tab: Any = None) -> None:
    import gradio as gr

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
    ui = TrainUI(model=model, quantizer=quantizer, preset=preset, data=data, vocab=vocab, message=message, pick=pick,
                 cmp_runs=cmp_runs, table=table, seen=seen, status=status, dashboard=dashboard, preview=preview)
    modality.change(friendly(bind(on_modality, ui)), modality, ui.outputs("model", "quantizer", "preset", "data", "vocab"),
                    api_name=False)
    start.click(friendly(bind(on_start, ui)), [modality, model, quantizer, preset, data, vocab, steps, seed, files],
                ui.outputs("message", "pick", "cmp_runs", "table", "seen"), api_name="train_start", concurrency_limit=2)
    acted = ui.outputs("message", "pick", "table", "seen")
    stop.click(friendly(after(ui, stop_run)), pick, acted, api_name="train_stop")
    resume_btn.click(friendly(after(ui, resume)), pick, acted, api_name="train_resume")
    delete.click(friendly(after(ui, delete_run)), pick, acted, api_name="train_delete")
    shown = ui.outputs("table", "status", "dashboard", "preview", "seen")
    pick.change(friendly(bind(refresh, ui)), [pick, gr.State(())], shown, api_name=False)
    timer.tick(friendly(bind(refresh, ui)), [pick, seen], shown, api_name=False, show_progress="hidden", queue=False)
    cmp_btn.click(friendly(compare), [cmp_runs, cmp_metric, cmp_x], cmp_plot, api_name="train_compare")
    if tab is not None:
        tab.select(lambda: gr.update(choices=run_ids()), None, cmp_runs, api_name=False)
    export_row("train", figures={"live curves": dashboard, "compare runs": cmp_plot}, tables={"runs": table},
               images={"reconstructions": preview})


__all__ = ["RunView", "TrainUI", "runs_table", "run_view", "stop_run", "resume", "delete_run", "compare",
           "on_modality", "refresh", "on_start", "after", "build"]
