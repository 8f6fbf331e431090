"""Command-line options derived from a dataclass config: a field is declared once, its comment is its help.

    @dataclass
    class TrainConfig:
        steps: int = 300  # optimizer steps at most
        minutes: float | None = None  # wall-clock budget; None: none
        betas: tuple[float, float] = (0.9, 0.95)
        augment: bool = True  # random flips and shifts ...
        # ... of up to `shift` pixels              <- a comment line of its own continues the field above

    ap = argparse.ArgumentParser()
    fields = add_config_options(ap, TrainConfig, choices={"steps": ...}, skip=("model_config",))
    a = ap.parse_args(argv)          # --steps 10 --minutes 1.5 --betas 0.9,0.99 --no-augment
    given = given_options(a, fields)  # {"steps": 10, "minutes": 1.5, "betas": (0.9, 0.99), "augment": False}

Every field becomes ``--field-name`` (underscores as dashes) whose type follows the annotation:
int, float and str take one value; bool is a pair ``--x`` / ``--no-x``; ``tuple[...]`` and
``list[...]`` of int, float or str take the items separated by commas (``--speed-factors 0.9,1.1``;
an empty string is an empty list); ``X | None`` is X. A field of any other type (a dict) must be
skipped: the trainer gives it another option (``--set key=value``). Every option's parsed
default is None, meaning "not given", so that a preset's values, then the dataclass defaults,
apply to what the command line leaves out; the help shows the dataclass default. A bad value is
an argparse error (exit status 2) that says what was expected, with the valid choices for a
field given ``choices``.

The help text is the field's comment, read from the class's source (``ast`` finds the fields,
``tokenize`` the comments): the comment on the field's line(s), then the comment lines of their
own right below it, up to the next field or a blank line.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import io
import textwrap
import tokenize
import types
import typing
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..errors import InvalidInput

# the types an option carries, each with what a list of them holds and an example of one
SCALARS: dict[type, tuple[str, str]] = {int: ("integers", "1,2"), float: ("numbers", "0.9,1.1"), str: ("words", "a,b")}


def field_comments(cls: type) -> dict[str, str]:
    """{field: its comment} for the fields of dataclass ``cls`` (and of its dataclass bases) that
    have one: the ``# ...`` after the field, then the comment lines of their own below it."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass) and klass is not object:
            out.update(_own_comments(klass))
    return out


def _own_comments(cls: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # defined where no source can be read (an interactive session)
        return {}
    comments: dict[int, str] = {}  # line number -> the comment's text
    code_lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            code_lines.add(tok.start[0])
    alone = set(comments) - code_lines  # the lines that hold nothing but a comment
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    out: dict[str, str] = {}
    for node in body.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        end = node.end_lineno or node.lineno
        parts = [comments[n] for n in range(node.lineno, end + 1) if n in comments]
        n = end + 1
        while n in alone:  # a comment line of its own continues the field above
            parts.append(comments[n])
            n += 1
        text = " ".join(p for p in parts if p)
        if text:
            out[node.target.id] = text
    return out


def _unwrap_optional(tp: Any) -> Any:
    """X for ``X | None`` (and ``Optional[X]``); anything else as it is."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _items(item: type, n: int | None, container: type, flag: str) -> Callable[[str], Any]:
    """A parser of comma-separated items for argparse: n of them (None: any number)."""
    what, example = SCALARS[item]

    def parse(text: str) -> Any:
        parts = [t.strip() for t in text.split(",") if t.strip()]
        try:
            values = [item(t) for t in parts]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes {what} separated by commas, "
                                             f"such as {example}; got {text!r}") from None
        if n is not None and len(values) != n:
            raise argparse.ArgumentTypeError(f"{flag} takes {n} values separated by commas; got {text!r}")
        return container(values)

    return parse


def option_kwargs(name: str, tp: Any) -> dict[str, Any]:
    """The ``add_argument`` keywords of a field named ``name`` with annotation ``tp``; TypeError for a
    type no option can carry (skip that field)."""
    flag = _flag(name)
    tp = _unwrap_optional(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is bool:
        return {"action": argparse.BooleanOptionalAction}
    if tp in SCALARS:
        return {"type": tp, "metavar": name.upper()}  # argparse says "invalid int value: 'x'"
    if origin in (tuple, list) and args:
        fixed = origin is tuple and Ellipsis not in args
        items = set(a for a in args if a is not Ellipsis)
        item = items.pop() if len(items) == 1 else None
        if item in SCALARS:
            n = len(args) if fixed else None
            letter = {int: "N", float: "F", str: "S"}[item]
            metavar = ",".join([letter] * n) if n else f"{letter},{letter},..."
            return {"type": _items(item, n, origin, flag), "metavar": metavar}
    raise TypeError(f"{flag}: a field of type {tp!r} has no command-line form; skip it and give it an option of its own")


def add_config_options(ap: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type, *,
                       skip: Iterable[str] = (), choices: Mapping[str, Sequence[Any]] | None = None,
                       metavars: Mapping[str, str] | None = None,
                       more_help: Mapping[str, str] | None = None) -> list[str]:
    """Add an option for every field of dataclass ``cls`` but ``skip``; returns the field names added.

    ``choices``: the values a field accepts (argparse names them when another is given);
    ``metavars``: the placeholder shown in the usage (default: the field's name in capitals);
    ``more_help``: text added after a field's comment (e.g. a list only known at run time)."""
    choices, metavars, more_help = dict(choices or {}), dict(metavars or {}), dict(more_help or {})
    skip = set(skip)
    hints = typing.get_type_hints(cls)
    helps = field_comments(cls)
    unknown = (set(choices) | set(metavars) | set(more_help) | skip) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    added = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kw = option_kwargs(f.name, hints[f.name])
        if f.name in choices:
            kw["choices"] = list(choices[f.name])
            kw.pop("metavar", None)  # argparse shows the choices
        if f.name in metavars:
            kw["metavar"] = metavars[f.name]
        kw["help"] = _help(helps.get(f.name, ""), _default(f), more_help.get(f.name, ""))
        ap.add_argument(_flag(f.name), dest=f.name, default=None, **kw)
        added.append(f.name)
    return added


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _help(comment: str, default: Any, more: str) -> str:
    text = " ".join(t for t in (comment, more) if t)
    if default is not dataclasses.MISSING:
        shown = (",".join(map(str, default)) or "empty") if isinstance(default, (tuple, list)) else default
        text = f"{text} (default: {shown})" if text else f"default: {shown}"
    return text.replace("%", "%%")  # argparse formats help with %


def given_options(ns: argparse.Namespace, names: Iterable[str]) -> dict[str, Any]:
    """{field: value} of the options among ``names`` that the command line gave."""
    return {n: getattr(ns, n) for n in names if getattr(ns, n) is not None}


def add_resume_option(ap: argparse.ArgumentParser, allowed: Sequence[str]) -> None:
    """``--resume RUN_DIR``: continue a run with its saved config, of which only ``allowed`` may change."""
    ap.add_argument("--resume", default=None, metavar="RUN_DIR",
                    help=f"continue the run in RUN_DIR with its saved config (only {', '.join(map(_flag, allowed))} "
                         "may change)")


def resume_overrides(ns: argparse.Namespace, allowed: Sequence[str], ignore: Iterable[str] = ("resume",)) -> dict[str, Any]:
    """With ``--resume``: the given options among ``allowed`` (fields a resumed run may change).
    InvalidInput naming every other option given (None and an empty list are "not given")."""
    ignore = set(ignore)
    bad = sorted(k for k, v in vars(ns).items() if k not in allowed and k not in ignore and v not in (None, []))
    if bad:
        raise InvalidInput(f"--resume keeps the saved config; {', '.join(_flag(b) for b in bad)} cannot change "
                           f"(allowed: {', '.join(_flag(k) for k in allowed)})")
    return {k: getattr(ns, k, None) for k in allowed}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


__all__ = ["field_comments", "option_kwargs", "add_config_options", "given_options", "add_resume_option",
           "resume_overrides"]
