"""Security (issue 8), the library: nothing outside the project's folders is loaded because a name
asked for it, nothing is ever unpickled, and no unpickling call exists in lib/ or app/. The app's
half (the tabs' handlers, sessions, loopback, uploads): tests/app/test_security_app.py; the
fixtures both use (outside, reads, escaping_refs, pickles) are in tests/conftest.py.

Related tests elsewhere (not repeated here): tests/test_checkpoint.py (load_checkpoint refuses
``..`` / absolute paths / symlinks and a pickle as model.safetensors), tests/app/test_app_api.py
(the app binds 127.0.0.1).
"""
from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

import tokenworks as tw
from tokenworks.errors import TokenworksError, UnsafePath

ROOT = Path(__file__).resolve().parent.parent


# ---- 1. path traversal -------------------------------------------------------------------------

def test_load_ref_refuses_every_way_out(runs_dir, outside, reads, escaping_refs):
    refs = escaping_refs(outside, runs_dir)
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


# ---- 2. pickle payloads ------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_pickle_weights_refused_through_load_ref(runs_dir, tmp_path, pickles, how):
    marker = tmp_path / "pwned"
    blob = pickle.dumps({"w": pickles.Payload(marker)}) if how == "pickle" else pickles.torch_payload(tmp_path, marker)
    assert not marker.exists()
    pickles.disguised(runs_dir / "evil", blob)
    for call in (lambda: tw.load_ref("run:evil"), lambda: tw.load_checkpoint("evil")):
        with pytest.raises(tw.CorruptCheckpoint, match="cannot be read as safetensors"):
            call()
    assert not marker.exists()
    assert "run:evil" in tw.trained_runs("text")  # listed by its config.json, and refused when loaded


def test_pickle_files_beside_valid_weights_are_never_read(runs_dir, tmp_path, pickles):
    """A checkpoint folder that also holds pytorch_model.bin / model.pt / *.pkl payloads: only the
    safetensors file is read, so loading works and nothing is unpickled."""
    marker = tmp_path / "pwned"
    good = tw.load("text/bytes").save(tmp_path / "good")
    weights = (good / "model.safetensors").read_bytes()
    payload = pickle.dumps(pickles.Payload(marker))
    pickles.disguised(runs_dir / "mixed", weights, extra={"pytorch_model.bin": payload,
                                                          "model.pt": pickles.torch_payload(tmp_path, marker),
                                                          "state.pkl": payload})
    tok = tw.load_ref("run:mixed")
    assert tok.encode("hi").tolist() == [104, 105]
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["text/bpe", "text/hf", "text/sentencepiece", "image/grid", "audio/codec",
                                  "audio/mel-units", "text/superbpe"])
def test_pickle_as_every_kind_is_refused(runs_dir, tmp_path, pickles, kind):
    marker = tmp_path / "pwned"
    pickles.disguised(runs_dir / "evil", pickle.dumps(pickles.Payload(marker)), kind=kind)
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
