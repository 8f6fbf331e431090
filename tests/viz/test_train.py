"""viz.train figures over step records (image, text, HF-text shaped), and train.watch's live view
driven headless."""
from __future__ import annotations

import json
import threading
import time

import pytest

import tokenworks as tw
from tokenworks.text.train_events import TextStepEvent
from tokenworks.train.loop import DoneEvent, StepEvent
from tokenworks.train.watch import Watch, drain, eta_text
from tokenworks.viz.train import MAX_POINTS, compare_runs, metric_names, step_dicts, training_dashboard


def image_steps(n: int = 40, every: int = 25) -> list[dict]:
    """Step lines shaped like image.train.step_record's, with the start/eval lines around them."""
    lines = [{"event": "start", "model": "grid", "params": 1000}]
    for i in range(1, n + 1):
        lines.append({"event": "step", "step": i * every, "steps": n * every, "loss": 1.0 / i, "mse": 0.5 / i,
                      "psnr_train": 10.0 + i, "lr": 1e-3 * (1 - i / (n + 1)), "grad_norm": 1.0, "img_per_s": 500.0,
                      "items_per_s": 500.0, "unit": "images", "elapsed": 0.5 * i, "eta_s": 0.5 * (n - i),
                      "q_usage": min(1.0, 0.1 * i), "q_perplexity": 2.0 * i})
    lines.append({"event": "eval", "psnr": 20.0})
    return lines


def text_steps(n: int = 30) -> list[dict]:
    return [{"step": i * 10, "steps": n * 10, "phase": "merging", "pair_count": 1000.0 / i,
             "train_bytes_per_token": 1 + 0.05 * i, "train_tokens": 10_000 - i, "items_per_s": 5000.0,
             "unit": "merges", "elapsed": 0.01 * i, "eta_s": 0.01 * (n - i)} for i in range(1, n + 1)]


def titles(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def test_dashboard_of_an_image_run_has_loss_lr_codebook_and_throughput():
    fig = training_dashboard(image_steps(), title="grid")
    assert titles(fig) == ["loss", "learning rate", "codebook usage and perplexity", "throughput (images/s)"]
    names = [t.name for t in fig.data]
    assert names == ["loss", "learning rate", "codebook usage", "perplexity", "throughput"]
    loss = fig.data[0]
    assert list(loss.x) == [25 * i for i in range(1, 41)] and loss.y[0] == 1.0  # step on x, start/eval lines ignored
    assert "step 1,000 of 1,000" in fig.layout.title.text and "grid" in fig.layout.title.text
    assert fig.data[3].yaxis != fig.data[2].yaxis  # perplexity on its own (secondary) axis


def test_dashboard_of_a_text_run_shows_bytes_per_token_and_no_learning_rate():
    fig = training_dashboard(text_steps(), title="bytebpe")
    assert titles(fig) == ["training bytes per token", "count of the merged pair", "throughput (merges/s)"]
    assert fig.data[0].y[-1] == pytest.approx(2.5)


def test_dashboard_of_hf_events_puts_seconds_on_x():
    """HF trainers report step 0 until done: the curves are drawn over elapsed seconds."""
    steps = [{"step": 0, "steps": 500, "phase": "reading", "read_fraction": f, "bytes_read": 1000 * f,
              "items_per_s": 1e6, "unit": "bytes", "elapsed": f, "eta_s": None} for f in (0.25, 0.5, 1.0)]
    fig = training_dashboard(steps)
    assert titles(fig)[0] == "corpus read" and list(fig.data[0].x) == [0.25, 0.5, 1.0]
    assert fig.layout.xaxis.title.text == "seconds"


def test_step_events_are_accepted_as_they_come_from_the_loop():
    ev = StepEvent(step=5, steps=10, losses={"loss": 0.5}, metrics={"grad_norm": 1.0}, codebook={"usage": 0.25},
                   lr=1e-3, items_per_s=100.0, elapsed=1.0, eta_seconds=1.0, window=5)
    text = TextStepEvent(step=3, steps=9, losses={"pair_count": 12.0}, metrics={"train_bytes_per_token": 1.5,
                         "train_tokens": 100.0}, codebook={}, lr=0.0, items_per_s=10.0, elapsed=0.1,
                         eta_seconds=None, window=3)
    img, txt = step_dicts([ev, DoneEvent("steps", 5, 1.0), text])  # other loop events are passed over
    assert img["q_usage"] == 0.25 and img["lr"] == 1e-3 and img["loss"] == 0.5
    assert txt["train_bytes_per_token"] == 1.5 and "lr" not in txt and txt["unit"] == "merges"
    assert titles(training_dashboard([ev]))[0] == "loss"
    with pytest.raises(tw.InvalidInput, match="dicts .* or StepEvents"):
        step_dicts([("step", 5)])


def test_metric_names_lists_numeric_keys_without_bookkeeping():
    names = metric_names(image_steps(3))
    assert names == ["loss", "mse", "psnr_train", "lr", "grad_norm", "img_per_s", "items_per_s", "q_usage",
                     "q_perplexity"]
    assert metric_names([]) == [] and metric_names([{"event": "start", "params": 3}]) == []


def test_compare_runs_draws_one_curve_per_run_over_step_or_elapsed():
    runs = {"lr 1e-3": image_steps(20), "lr 3e-4": image_steps(10), "waiting": []}
    fig = compare_runs(runs, metric="psnr_train", x="elapsed")
    assert [t.name for t in fig.data] == ["lr 1e-3", "lr 3e-4"] and fig.layout.showlegend
    assert list(fig.data[1].x) == [0.5 * i for i in range(1, 11)] and fig.data[1].y[-1] == 20.0
    assert "no steps logged yet: waiting" in fig.layout.title.text
    assert list(compare_runs(runs, "loss").data[0].x)[:2] == [25, 50]


def test_compare_runs_refuses_a_missing_metric_or_axis_by_name():
    with pytest.raises(tw.InvalidInput, match=r"'img' reports no 'train_bytes_per_token'.*loss, mse"):
        compare_runs({"img": image_steps(3)}, metric="train_bytes_per_token")
    with pytest.raises(tw.InvalidInput, match="x must be one of step, elapsed"):
        compare_runs({"img": image_steps(3)}, x="wall")


@pytest.mark.parametrize("make", [lambda: training_dashboard([]), lambda: compare_runs({}),
                                  lambda: compare_runs({"a": [], "b": []}, metric="anything"),
                                  lambda: training_dashboard([{"event": "start"}])])
def test_empty_inputs_give_a_figure_that_says_so(make):
    fig = make()
    assert titles(fig) == ["no steps logged yet"] and not fig.data


def test_long_runs_are_thinned_and_the_last_step_kept():
    steps = image_steps(10_000, every=1)
    t0 = time.perf_counter()
    dash = training_dashboard(steps)
    both = compare_runs({"a": steps, "b": steps[:5001]})  # the start line and 5,000 steps
    json.loads(dash.to_json())
    seconds = time.perf_counter() - t0  # reported, not asserted (tests do not time)
    assert all(len(t.x) <= MAX_POINTS for t in (*dash.data, *both.data))
    assert dash.data[0].x[-1] == 10_000 and both.data[1].x[-1] == 5000 and dash.data[0].x[0] == 1
    print(f"dashboard + comparison of 10,000 steps: {seconds:.2f} s")


# ---- the live view, without a front end ----------------------------------------------------


def fake_run(stop: threading.Event, steps: int = 200):
    """A generator shaped like a trainer's: StepEvents until done or stopped, then DoneEvent."""
    for i in range(1, steps + 1):
        if stop.is_set():
            yield DoneEvent("stopped", i - 1, 0.1)
            return "stopped early"
        time.sleep(0.002)
        yield StepEvent(step=i, steps=steps, losses={"loss": 1 / i}, metrics={}, codebook={"usage": 0.5}, lr=1e-3,
                        items_per_s=100.0, elapsed=0.002 * i, eta_seconds=0.002 * (steps - i), window=1)
    yield DoneEvent("steps", steps, 0.4)
    return "finished"


def test_watch_runs_in_the_background_and_its_stop_button_ends_the_run():
    watch = Watch("fake", refresh_s=0.0)
    watch.start(fake_run(watch.stop))
    while not watch.history:
        time.sleep(0.01)
    watch.button.click()  # what a click in the notebook does
    assert watch.wait(timeout=30) == "stopped early"
    done = watch.events[-1]
    assert isinstance(done, DoneEvent) and done.reason == "stopped" and done.steps < 200
    assert watch.bar.value == done.steps and watch.bar.max == 200 and watch.bar.bar_style == "warning"
    assert "done (stopped)" in watch.label.value and watch.button.disabled
    (shown,) = watch.out.outputs
    fig = shown["data"]["application/vnd.plotly.v1+json"]
    assert fig["data"][0]["name"] == "loss" and len(watch.history) == done.steps


def test_watch_run_in_the_foreground_and_drain_return_the_result():
    watch = Watch("fake", refresh_s=1e9)
    assert watch.run(fake_run(threading.Event(), steps=20)) == "finished"
    assert watch.bar.bar_style == "success" and len(watch.history) == 20 and watch.out.outputs  # drawn at the end
    seen: list = []
    assert drain(fake_run(threading.Event(), steps=5), seen.append) == "finished" and len(seen) == 6


def test_eta_text_reads_naturally():
    assert [eta_text(s) for s in (None, 4.4, 125, 3725)] == ["ETA unknown", "ETA 4 s", "ETA 2 min 05 s",
                                                               "ETA 1 h 02 min"]
