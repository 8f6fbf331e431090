"""Follow a training generator (``image.train.iter_train_image``, ``text.train.iter_train_text``,
anything yielding ``tokenworks.train.loop`` events) in a notebook.

    result = drain(iter_train_image(cfg), on_event=print)      # plain: run it, get its result

    watch = Watch("grid cpu-tiny")                             # ipywidgets: progress bar + ETA,
    display(watch)                                             # a Stop button, the dashboard
    watch.start(iter_train_image(cfg, stop=watch.stop))        # trains in a thread; this cell ends
    result = watch.wait()                                      # (next cell) the TrainResult

``Watch.start`` runs the generator in a background thread so the kernel stays free to hear the
Stop button (a cell that is still running would not see the click until it ends); the button
sets ``watch.stop``, the loop's stop flag, and the run ends cleanly after the step in progress.
``Watch.run`` does the same in the foreground (no Stop). While a watched run goes, the trainers'
JSON lines are silenced (``set_quiet``): the widgets show the same numbers.
"""
from __future__ import annotations

import html
import json
import threading
import time
from typing import Any, Callable, Generator

from .common import drain, duration_text, set_quiet  # noqa: F401  (drain: re-exported for notebooks)
from .loop import CheckpointEvent, DoneEvent, StepEvent


def eta_text(seconds: float | None) -> str:
    """ETA 12 s, ETA 3 min 05 s, ETA 1 h 02 min; "ETA unknown" for None."""
    return "ETA unknown" if seconds is None else f"ETA {duration_text(seconds)}"


class Watch:
    """ipywidgets view of a run: progress bar, ETA, Stop button, and ``figure(history)`` (by
    default ``viz.train.training_dashboard``) redrawn at most every ``refresh_s`` seconds."""

    def __init__(self, title: str = "Training", refresh_s: float = 2.0,
                 figure: Callable[[list[dict[str, Any]], str], Any] | None = None):
        import ipywidgets as w

        from ..viz.train import step_dicts, training_dashboard

        self.title, self.refresh_s = title, refresh_s
        self.figure = figure or training_dashboard
        self._records = step_dicts
        self.stop = threading.Event()  # hand this to the trainer as its stop flag
        self.history: list[dict[str, Any]] = []  # step records so far
        self.events: list[Any] = []  # every event so far
        self.result: Any = None  # the generator's return value once it ends
        self.error: BaseException | None = None
        self.bar = w.IntProgress(value=0, min=0, max=1, description="step", bar_style="info")
        self.label = w.HTML(value="waiting for the first step")
        self.button = w.Button(description="Stop", button_style="danger", icon="stop",
                               tooltip="end the run after the step in progress (a checkpoint is written)")
        self.button.on_click(lambda _: self._stop_clicked())
        self.out = w.Output()
        self.widget = w.VBox([w.HBox([self.bar, self.label, self.button]), self.out])
        self._thread: threading.Thread | None = None
        self._drawn = 0.0

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _stop_clicked(self) -> None:
        self.stop.set()
        self.button.disabled = True
        self.label.value += " · stopping after this step"

    # ---- running ----------------------------------------------------------------------------

    def run(self, events: Generator[Any, None, Any]) -> Any:
        """Consume ``events`` here (the cell stays busy until the run ends); return its result."""
        set_quiet(True)
        try:
            self.result = drain(events, self.update)
        except BaseException as e:
            self.error = e
            self.label.value = f"<b>failed</b>: {html.escape(type(e).__name__)}: {html.escape(str(e))}"
            raise
        finally:
            set_quiet(False)
            self.button.disabled = True
            self._redraw()
        return self.result

    def start(self, events: Generator[Any, None, Any]) -> "Watch":
        """Consume ``events`` in a background thread; ``wait()`` returns the result."""
        if self._thread is not None:
            raise RuntimeError("this Watch is already following a run; make a new one")

        def target() -> None:
            try:
                self.run(events)
            except BaseException:  # noqa: BLE001 - kept in self.error, raised again by wait()
                pass

        self._thread = threading.Thread(target=target, name="tokenworks-watch", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the run started with ``start`` ends; its result (or its exception)."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"the run is still going after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result

    # ---- one event --------------------------------------------------------------------------

    def update(self, ev: Any) -> None:
        """Show one event (called for each while the run goes)."""
        self.events.append(ev)
        if isinstance(ev, StepEvent):
            self.history.extend(self._records([ev]))
            self.bar.max = max(1, ev.steps)
            self.bar.value = min(ev.step, ev.steps)
            phase = getattr(ev, "phase", "")
            self.label.value = (f"step {ev.step:,}/{ev.steps:,}{f' ({phase})' if phase else ''} · "
                                f"{ev.elapsed:,.0f} s · {eta_text(ev.eta_seconds)}")
            if time.perf_counter() - self._drawn >= self.refresh_s:
                self._redraw()
        elif isinstance(ev, CheckpointEvent):
            self.label.value += f" · saved {ev.kind}/ at step {ev.step:,}"
        elif isinstance(ev, DoneEvent):
            self.bar.bar_style = "success" if ev.reason != "stopped" else "warning"
            self.label.value = f"done ({ev.reason}): {ev.steps:,} steps in {ev.seconds:,.0f} s"

    def _redraw(self) -> None:
        """Replace the figure in the Output in one assignment (safe from a thread: no context
        manager, no IPython display hook, which plotly figures would bypass)."""
        self._drawn = time.perf_counter()
        fig = self.figure(self.history, self.title)
        self.out.outputs = ({"output_type": "display_data", "data": mime_bundle(fig), "metadata": {}},)


def mime_bundle(fig: Any) -> dict[str, Any]:
    """What a notebook front end renders for ``fig``: plotly's own mimetype (JupyterLab renders
    it offline) for a plotly Figure, else IPython's formatting of the object."""
    if hasattr(fig, "to_json") and hasattr(fig, "layout"):
        return {"application/vnd.plotly.v1+json": {"config": {"displaylogo": False}, **json.loads(fig.to_json())},
                "text/plain": f"<plotly figure: {fig.layout.title.text or ''}>"}
    from IPython.core.formatters import format_display_data

    data, _ = format_display_data(fig)
    return data
