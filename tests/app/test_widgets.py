"""app/widgets.py: a tab's components by name (``Components``), handlers bound to them (``bind``, with
gr.Request injection intact through ``friendly``), the link box and the small helpers every tab uses."""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import gradio as gr
import gradio.helpers
import gradio.utils
import pytest

from app import widgets
from app.widgets import Components, bind, friendly

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]  # gr.Warning outside a request


@dataclass
class DemoUI(Components):
    text: Any
    count: Any
    tabs: Any = None  # None outside gr.Tabs: left out of results and outputs


# ---- Components --------------------------------------------------------------------------------

def test_named_gives_every_component_its_own_name():
    ui = DemoUI.named()
    assert (ui.text, ui.count, ui.tabs) == ("text", "count", "tabs")
    assert DemoUI.named(tabs=None).tabs is None  # a component given stays as given
    assert DemoUI.named(count=7).count == 7


def test_set_maps_components_to_values_and_leaves_out_none_components():
    box, number = gr.Textbox(render=False), gr.Number(render=False)
    ui = DemoUI(text=box, count=number)  # no tabs: built outside gr.Tabs
    out = ui.set(text="hi", count=3, tabs=gr.Tabs(selected="x"))
    assert out == {box: "hi", number: 3}  # the tabs' value is dropped, with its component
    assert ui.set() == {}
    named = DemoUI.named().set(text="hi", tabs="image")
    assert named == {"text": "hi", "tabs": "image"}  # a test reads a result by name
    with pytest.raises(AttributeError):
        ui.set(nope=1)


def test_outputs_lists_the_named_components_in_order_or_all():
    box, number = gr.Textbox(render=False), gr.Number(render=False)
    ui = DemoUI(text=box, count=number)
    assert ui.outputs("count", "text") == [number, box]
    assert ui.outputs() == [box, number]  # every component, the None ones left out
    assert ui.outputs("tabs") == []
    assert DemoUI.named().outputs() == ["text", "count", "tabs"]


def test_every_tabs_ui_builds_named():
    from app import audio_tab, image_tab, image_views, languages_tab, learn_tab, metrics_tab, text_tab, train_tab

    for cls in (text_tab.TextUI, learn_tab.LearnUI, languages_tab.LanguagesUI, metrics_tab.MetricsUI,
                image_tab.ImageUI, image_views.ViewsUI, audio_tab.AudioUI, train_tab.TrainUI):
        ui = cls.named()
        assert all(isinstance(c, (str, list)) for c in vars(ui).values()), cls.__name__
    audio = audio_tab.AudioUI.named()
    assert audio.ladder == [f"ladder{i}" for i in range(1, audio_tab.MAX_PLAYERS + 1)]
    assert audio.analyzed()[-1] == f"ladder{audio_tab.MAX_PLAYERS}"
    views = image_views.ViewsUI(*"abcdefghij")  # built without the components filled elsewhere
    assert views.rd_table is None and views.outputs() == list("abcdefghij")
    assert views.set(strip_plot=1, rd_table=2) == {"a": 1}


# ---- bind and gr.Request ---------------------------------------------------------------------------

def restore(ui: DemoUI, text: Any, count: Any, request: gr.Request) -> dict:
    """A page-load handler: the request's query parameters into the text box."""
    return ui.set(text=widgets.params_of(request).get("q", text), count=count)


def test_bind_is_a_handler_of_the_other_arguments():
    ui = DemoUI.named()
    handler = bind(restore, ui)
    assert handler.__name__ == "restore" and handler.__module__ == __name__ and handler.__doc__ == restore.__doc__
    assert list(inspect.signature(handler).parameters) == ["text", "count", "request"]
    assert handler("a", 2, SimpleNamespace(query_params={"q": "from the link"})) == {"text": "from the link",
                                                                                     "count": 2}
    assert handler("a", 2, request=None) == {"text": "a", "count": 2}


def test_a_request_is_still_injected_through_friendly_and_bind():
    """Gradio finds the gr.Request parameter from inspect.signature (which stops at bind's signature,
    without ui) and gradio.utils.get_type_hints (the annotations, resolved in the handler's module)."""
    fn = friendly(bind(restore, DemoUI.named()))
    assert list(inspect.signature(fn).parameters) == ["text", "count", "request"]
    hints = gradio.utils.get_type_hints(fn)
    assert hints["request"] is gr.Request
    request = SimpleNamespace(query_params={"q": "injected"})
    inputs, progress, event_data, _ = gradio.helpers.special_args(fn, ["typed", 5], request=request)
    assert inputs == ["typed", 5, request] and progress is None and event_data is None
    assert fn(*inputs) == {"text": "injected", "count": 5}


def test_every_bound_handler_of_the_app_gets_its_request():
    """Each tab's page-load handler (friendly(bind(restore, ui))) in the built app: its last
    parameter is the gr.Request Gradio fills in, and it is not one of the event's inputs."""
    from app.main import build_app

    demo = build_app()
    found = {}
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is None or "request" not in inspect.signature(fn).parameters:
            continue
        params = list(inspect.signature(fn).parameters)
        assert "ui" not in params and params[-1] == "request", (fn.__module__, params)
        assert gradio.utils.get_type_hints(fn).get("request") is gr.Request, fn.__module__
        assert len(block_fn.inputs) == len(params) - 1, (fn.__module__, params)
        found[f"{fn.__module__}.{fn.__name__}"] = params
    assert {"app.text_tab.restore", "app.learn_tab.restore", "app.languages_tab.restore", "app.metrics_tab.restore",
            "app.image_tab.restore", "app.audio_tab.restore", "app.widgets.select_plain_tab"} <= set(found)


def test_friendly_keeps_library_messages_and_hides_the_rest():
    from tokenworks.errors import InvalidInput

    def bad(x):
        raise InvalidInput(f"no {x}")

    def broken():
        raise KeyError("internals")

    with pytest.raises(gr.Error, match="no k"):
        friendly(bad)("k")
    with pytest.raises(gr.Error) as e:
        friendly(broken)()
    assert "internals" not in str(e.value) and "Something went wrong in broken (KeyError)" in str(e.value)
    with pytest.raises(gr.Error, match="as it was"):
        friendly(lambda: (_ for _ in ()).throw(gr.Error("as it was")))()


# ---- the small helpers -----------------------------------------------------------------------------

def test_messages_are_escaped_markdown():
    assert widgets.warnings_markdown(["a <b>", "c"]) == "⚠️ a &lt;b&gt;\n\n⚠️ c"
    md = widgets.error_markdown(ValueError("it failed\n  make it\nthen retry"))
    assert md == "⚠️ **Could not tokenize this.** it failed\n\n    make it\n\nthen retry"
    assert widgets.link_notes([]) == "" and widgets.link_notes(["x"]) == "⚠️ From the link: x"
    widgets.warn("outside a request: no toast, no error")


def test_control_values():
    from tokenworks.errors import InvalidInput

    assert widgets.name_list(None) == [] and widgets.name_list("a") == ["a"] and widgets.name_list(["a", None]) == ["a"]
    with pytest.raises(InvalidInput, match="tokenizers must be a name or a list of names, not int"):
        widgets.name_list(3)
    assert widgets.chosen_names(["a", "a", "b"], 3, ["x"]) == ["a", "b"]
    with pytest.raises(InvalidInput, match="choose 1 to 2 tokenizers, e.g. x"):
        widgets.chosen_names([], 2, ["x"])
    with pytest.raises(InvalidInput, match="at most 1"):
        widgets.chosen_names(["a", "b"], 1, ["x"])
    assert widgets.names_of(["a", 3, "", None, "b"]) == ("a", "b") and widgets.names_of({"a": 1}) == ()
    assert widgets.whole_number("2.6") == 3 and widgets.whole_number(float("inf")) is None
    assert widgets.whole_number([1]) is None
    assert widgets.uploaded("x.png") and not widgets.uploaded("") and not widgets.uploaded(None)


def test_the_upload_folder(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "mine"))
    assert widgets.upload_dir() == tmp_path / "mine"  # $GRADIO_TEMP_DIR wins
    monkeypatch.delenv("GRADIO_TEMP_DIR")
    assert widgets.upload_dir() == widgets.Path(tempfile.gettempdir()) / "tokenworks-gradio"
    every, age = widgets.DELETE_CACHE
    assert every < age  # cleaned every hour, a file kept six


def test_requests_and_tabs():
    assert widgets.params_of(None) == {} and widgets.params_of(SimpleNamespace(query_params=None)) == {}
    assert widgets.params_of(SimpleNamespace(query_params={"tab": "image"})) == {"tab": "image"}
    assert widgets.params_of(SimpleNamespace(query_params=5)) == {}  # not a mapping: no parameters
    assert widgets.opens({"tab": "Image"}, "image") and widgets.opens({}, "text") and not widgets.opens({}, "image")
    assert widgets.selected("audio").selected == "audio"
    assert widgets.link_info("")["info"] == widgets.LINK_INFO and widgets.link_info("why")["info"] == "why"


def test_the_link_box_outside_and_inside_tabs():
    with gr.Blocks() as demo:
        box = widgets.link_box("image")
        with gr.Tabs() as tabs:
            with gr.Tab("Audio", id="audio"):
                inner = widgets.link_box("audio", "why not")
    assert box.tabs is None and inner.tabs is tabs
    assert box.link.elem_id == "tw-image-link" and box.query.elem_id == "tw-image-query"
    assert inner.note.elem_id == "tw-audio-url-note" and inner.link.info == "why not"
    js = [d.get("js") for d in demo.config["dependencies"]]
    assert sum(bool(j) and 'window.twTab === "image"' in j for j in js) == 1


def test_the_export_row_writes_under_the_upload_folder(tmp_path, monkeypatch):
    from app.exports import Extra, Items

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    with gr.Blocks() as demo:
        state = gr.State({"ids": [1, 2]})
        button = widgets.export_row("mine", extra=Extra([state], lambda s: Items(jsons={"tokens": s})))
    assert button.elem_id == "tw-mine-export"
    fn = next(f for f in demo.fns.values() if f.api_name == "export_mine")
    assert fn.concurrency_limit == 1 and fn.concurrency_id == "export"
    paths, _ = fn.fn({"ids": [1, 2]})
    assert all(p.startswith(str(tmp_path / "exports")) for p in paths) and paths[0].endswith("mine-tokens.json")
