"""Command-line options derived from a dataclass config (tokenworks.train.config_cli), and the
trainers' command lines built with it."""
from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest

from tokenworks.errors import InvalidInput
from tokenworks.train.config_cli import (add_config_options, field_comments, given_options, option_kwargs,
                                         resume_overrides)


@dataclass
class Toy:
    steps: int = 300  # optimizer steps at most
    lr: float = 2e-3  # peak learning rate
    name: str | None = None  # the tokenizer's name;
    # None: one made of the data set's
    #   and the model's
    quiet: bool = False  # print nothing
    augment: bool = True  # random flips
    betas: tuple[float, float] = (0.9, 0.95)
    factors: list[float] = field(default_factory=list)  # speed factors, e.g. 0.9,1.1; []: none
    sizes: tuple[int, ...] = (1, 2)  # any number of ints

    limit: Optional[int] = None  # at most 100% of the images

    mode: str = "fast"  # fast | slow: how hard it tries
    extra: dict[str, Any] = field(default_factory=dict)  # no option: --set covers it


def _parser(**kw) -> tuple[argparse.ArgumentParser, list[str]]:
    ap = argparse.ArgumentParser(prog="toy")
    names = add_config_options(ap, Toy, skip=("extra",), choices={"mode": ("fast", "slow")}, **kw)
    return ap, names


def test_comments_are_the_help_text_continuation_lines_included():
    c = field_comments(Toy)
    assert c["steps"] == "optimizer steps at most"
    assert c["name"] == "the tokenizer's name; None: one made of the data set's and the model's"
    assert c["limit"] == "at most 100% of the images"  # a blank line above does not matter
    assert "betas" not in c  # no comment, no help text
    assert c["factors"] == "speed factors, e.g. 0.9,1.1; []: none"


def test_types_from_the_annotations_and_defaults_none_when_not_given():
    ap, names = _parser()
    assert names == ["steps", "lr", "name", "quiet", "augment", "betas", "factors", "sizes", "limit", "mode"]
    a = ap.parse_args([])
    assert given_options(a, names) == {}  # nothing given: a preset, then the dataclass, fills it in
    a = ap.parse_args(["--steps", "12", "--lr", "1e-4", "--name", "x", "--quiet", "--no-augment",
                       "--betas", "0.8,0.99", "--factors", "0.9, 1.1", "--sizes", "3", "--limit", "7", "--mode", "slow"])
    assert given_options(a, names) == {"steps": 12, "lr": 1e-4, "name": "x", "quiet": True, "augment": False,
                                       "betas": (0.8, 0.99), "factors": [0.9, 1.1], "sizes": (3,), "limit": 7,
                                       "mode": "slow"}
    assert type(a.steps) is int and type(a.lr) is float and type(a.betas) is tuple and type(a.factors) is list
    assert ap.parse_args(["--factors", ""]).factors == []  # an empty list
    assert ap.parse_args(["--augment"]).augment is True and ap.parse_args(["--no-quiet"]).quiet is False


def test_help_shows_comments_and_dataclass_defaults(capsys):
    ap, _ = _parser(metavars={"name": "NAME"}, more_help={"mode": "(see the docs)"})
    with pytest.raises(SystemExit):
        ap.parse_args(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--steps STEPS optimizer steps at most (default: 300)" in out
    assert "--name NAME the tokenizer's name; None: one made of the data set's and the model's (default: None)" in out
    assert "--betas F,F default: 0.9,0.95" in out  # no comment: the default alone
    assert "--factors F,F,... speed factors, e.g. 0.9,1.1; []: none (default: empty)" in out
    assert "--augment, --no-augment random flips (default: True)" in out
    assert "at most 100% of the images" in out  # % is escaped for argparse
    assert "--mode {fast,slow} fast | slow: how hard it tries (see the docs) (default: fast)" in out
    assert "--extra" not in out


@pytest.mark.parametrize("args, message", [
    (["--steps", "ten"], "argument --steps: invalid int value: 'ten'"),
    (["--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
    (["--mode", "medium"], "argument --mode: invalid choice: 'medium' (choose from 'fast', 'slow')"),
    (["--betas", "0.9"], "argument --betas: --betas takes 2 values separated by commas; got '0.9'"),
    (["--factors", "0.9,x"], "argument --factors: --factors takes numbers separated by commas, such as 0.9,1.1; "
                             "got '0.9,x'"),
    (["--sizes", "1.5"], "--sizes takes integers separated by commas"),
    (["--quiet", "yes"], "unrecognized arguments: yes"),
])
def test_bad_values_are_argparse_errors_that_say_what_is_expected(args, message, capsys):
    ap, _ = _parser()
    with pytest.raises(SystemExit) as e:
        ap.parse_args(args)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_fields_without_a_command_line_form_must_be_skipped():
    with pytest.raises(TypeError, match="--extra: a field of type .*dict.* has no command-line form"):
        add_config_options(argparse.ArgumentParser(), Toy)
    with pytest.raises(TypeError, match="Toy has no field nope"):
        add_config_options(argparse.ArgumentParser(), Toy, skip=("extra", "nope"))
    assert option_kwargs("flag", bool) == {"action": argparse.BooleanOptionalAction}


def test_resume_overrides_name_the_options_that_cannot_change():
    ap, _ = _parser()
    ap.add_argument("--resume")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args(["--resume", "r", "--steps", "5"])
    assert resume_overrides(a, ("steps", "limit")) == {"steps": 5, "limit": None}
    a = ap.parse_args(["--resume", "r", "--steps", "5", "--lr", "1", "--set", "w=1"])
    with pytest.raises(InvalidInput, match=r"--resume keeps the saved config; --lr, --set cannot change "
                                           r"\(allowed: --steps, --limit\)"):
        resume_overrides(a, ("steps", "limit"))


# ---- the trainers' command lines ------------------------------------------------------------------


def test_image_trainer_declares_every_config_field_once():
    from tokenworks.image import train as T

    ap, fields = T.parser()
    flags = {s for a in ap._actions for s in a.option_strings}
    import dataclasses

    assert set(fields) == {f.name for f in dataclasses.fields(T.TrainConfig)} - {"model_config"}
    for old in ("--model", "--data", "--preset", "--seed", "--out", "--name", "--minutes", "--steps", "--batch-size",
                "--lr", "--device", "--threads", "--compile", "--no-bf16", "--pairs", "--monotone-weight",
                "--no-augment", "--train-limit", "--eval-limit", "--log-every", "--checkpoint-every", "--run-dir",
                "--preview-every", "--resume", "--init", "--refit-codebook", "--set"):
        assert old in flags, old  # every flag of the hand-written parser still works
    a = ap.parse_args(["--no-bf16", "--compile", "--no-augment", "--refit-codebook", "3", "--set", "width=8"])
    assert (a.bf16, a.compile, a.augment, a.refit_codebook, a.set) == (False, True, False, 3, ["width=8"])


def test_audio_trainer_declares_every_config_field_once():
    from tokenworks.audio import train as A

    ap, fields = A.parser()
    flags = {s for a in ap._actions for s in a.option_strings}
    import dataclasses

    assert set(fields) == {f.name for f in dataclasses.fields(A.CodecTrainConfig)} - {"loss", "model_config", "augment_config"}
    for old in ("--design", "--preset", "--seed", "--out", "--name", "--minutes", "--steps", "--batch-size", "--lr",
                "--device", "--threads", "--data-minutes", "--wav-dir", "--eval-dir", "--eval-clips",
                "--speed-factors", "--init", "--log-every", "--checkpoint-every", "--run-dir", "--resume",
                "--evaluate", "--set"):
        assert old in flags, old
    assert ap.parse_args(["--speed-factors", "0.9,1.1"]).speed_factors == [0.9, 1.1]


@pytest.mark.parametrize("modality, expect", [
    ("image", ["--refit-codebook N", "its codebook over the training images' encoder outputs", "(default: 0)",
               "--model {flex1d,grid}", "--betas F,F", "--no-augment", "WARM_START_FIELDS: grid: commitment_weight"]),
    ("audio", ["--speed-factors F,F,...", "played this many times as fast", "--design {rvq,single}",
               "about 55% of it is training speech", "--evaluate FOLDER"]),
])
def test_help_of_the_trainers_comes_from_the_dataclass_comments(modality, expect):
    r = subprocess.run([sys.executable, "-m", "tokenworks.train", modality, "--help"], capture_output=True, text=True,
                       timeout=120)
    out = " ".join(r.stdout.split())
    assert r.returncode == 0, r.stderr
    for text in expect:
        assert text in out, text
