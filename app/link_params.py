"""Typed link parameters and a tab's link (``TabSpec``): parse a query, build a link (no Gradio).

The machinery behind ``app/links.py``, which holds every tab's own parameters. ``parse_link`` never
raises: a bad value falls back to its default and comes back as a note naming what was ignored and
what is allowed. ``build_link`` leaves out the long texts that would make a link over
``MAX_QUERY_CHARS`` (``left_out`` names them).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union
from urllib.parse import quote

TAB = "tab"  # the parameter naming the open tab; left out: the Text tab
MAX_QUERY_CHARS = 8_000  # longest query a link carries with its texts (request lines over ~16 KB are refused)
MAX_SHOWN = 40  # characters of a bad value quoted back in a note
MAX_LISTED = 12  # allowed values named in a note before "..."
NAME_SAFE = "/:@"  # characters a tokenizer or sample name keeps unescaped in a link (readable)

Params = Mapping[str, Union[str, Sequence[str]]]  # dict(request.query_params) or urllib.parse.parse_qs(...)


def _shown(value: str) -> str:
    return repr(value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "…")


def _values(params: Params, key: str) -> list[str] | None:
    """Every value of ``key`` (a dict from a request gives a string, parse_qs a list), or None."""
    if key not in params:
        return None
    v = params[key]
    return [v] if isinstance(v, str) else [str(x) for x in v]


def allowed(choices: Sequence[str]) -> str:
    shown = ", ".join(choices[:MAX_LISTED])
    return shown + (f", ... ({len(choices)} in all)" if len(choices) > MAX_LISTED else "") if choices else "none here"


# ---- typed parameters --------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """One value from ``choices`` (case-insensitive in a link; written as listed); ``aliases`` are
    other spellings a link may use (mode=single for mode=tokens), not offered in notes."""
    name: str  # the parameter
    choices: tuple[str, ...]
    default: str | None
    what: str = ""  # how notes name it ("image tokenizer"); "" = the parameter's name
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, choice) pairs

    def parse(self, raw: list[str], notes: list[str]) -> str | None:
        value = (raw[-1] if raw else "").strip()
        by_lower = {**{a.lower(): c for a, c in self.aliases}, **{c.lower(): c for c in self.choices}}
        if value.lower() in by_lower:
            return by_lower[value.lower()]
        notes.append(f"Ignored {self.what or self.name} {_shown(value)}; choose from: {allowed(self.choices)}.")
        return self.default

    def text(self, value: Any) -> str:
        return quote(str(value), safe=NAME_SAFE)


@dataclass(frozen=True)
class Names:
    """1 to ``most`` comma-separated values from ``choices``, in order; ``prefix`` may be left out
    (``o200k_base`` for ``text/o200k_base``)."""
    name: str
    choices: tuple[str, ...]
    default: tuple[str, ...]
    most: int
    what: str = "tokenizer"
    prefix: str = ""

    def parse(self, raw: list[str], notes: list[str]) -> tuple[str, ...]:
        known = set(self.choices)
        asked = list(dict.fromkeys(n.strip() for r in raw for n in r.split(",") if n.strip()))
        names = list(dict.fromkeys(n if n in known else self.prefix + n for n in asked
                                   if n in known or self.prefix + n in known))
        unknown = [n for n in asked if n not in known and self.prefix + n not in known]
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            notes.append(f"Ignored unknown {self.what}{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(_shown(n) for n in unknown[:5])}{more}; choose from: {allowed(self.choices)}.")
        if len(names) > self.most:
            notes.append(f"Kept the first {self.most} {self.what}s (at most {self.most}); ignored "
                         f"{', '.join(names[self.most:])}.")
            names = names[: self.most]
        if not names:
            notes.append(f"No usable {self.what} in the link; showing the defaults ({', '.join(self.default)}).")
            return tuple(self.default)
        return tuple(names)

    def text(self, value: Any) -> str:
        return ",".join(quote(n, safe=NAME_SAFE) for n in value)


@dataclass(frozen=True)
class Int:
    """A whole number in lo..hi ("12", "12.0"; anything else or out of range: the default)."""
    name: str
    lo: int
    hi: int
    default: int | None

    def parse(self, raw: list[str], notes: list[str]) -> int | None:
        value = (raw[-1] if raw else "").strip()
        try:
            number = float(value)
            n = int(number) if number.is_integer() else None
        except (ValueError, OverflowError):
            n = None
        if n is None or not self.lo <= n <= self.hi:
            notes.append(f"Ignored {self.name}={_shown(value)}; {self.name} is a whole number from {self.lo} to "
                         f"{self.hi}.")
            return self.default
        return n

    def text(self, value: Any) -> str:
        return str(int(value))


@dataclass(frozen=True)
class Text:
    """Free text, percent-encoded UTF-8, at most ``max_chars`` (longer: its start, with a note)."""
    name: str
    max_chars: int
    default: str | None

    def parse(self, raw: list[str], notes: list[str]) -> str:
        text = raw[-1] if raw else ""
        if len(text) > self.max_chars:
            notes.append(f"The {self.name} had {len(text):,} characters; kept the first {self.max_chars:,} (the limit).")
            text = text[: self.max_chars]
        return text

    def text(self, value: Any) -> str:  # surrogates (not valid in UTF-8) become '?'
        return quote(str(value), safe=",", errors="replace")


Param = Union[Choice, Names, Int, Text]


# ---- a tab's link --------------------------------------------------------------------------------

@dataclass(frozen=True)
class TabSpec:
    """A tab's link: its id (``tab=``), its parameters in link order, the dataclass they fill (its
    fields are named as the parameters), and a rule between parameters (``check(state, notes)``
    returns the state, fixed, with a note per change)."""
    tab: str
    params: tuple[Param, ...]
    state: type
    check: Callable[[Any, list[str]], Any] | None = None

    def default(self) -> Any:
        return self.state(**{p.name: p.default for p in self.params})

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)


@dataclass
class ParsedLink:
    state: Any  # the tab's dataclass, always valid for the tab
    given: frozenset[str] = frozenset()  # the tab's parameters the link set
    notes: list[str] = field(default_factory=list)  # one short sentence per thing ignored or changed


def parse_link(params: Params, spec: TabSpec) -> ParsedLink:
    """The tab's settings from a page's query parameters; those left out (or bad, with a note) keep
    the spec's defaults. The ``tab`` parameter itself is read by ``parse_tab``."""
    notes: list[str] = []
    values, given = {}, set()
    for p in spec.params:
        raw = _values(params, p.name)
        if raw is None:
            values[p.name] = p.default
        else:
            given.add(p.name)
            values[p.name] = p.parse(raw, notes)
    state = spec.state(**values)
    if spec.check is not None:
        state = spec.check(state, notes)
    return ParsedLink(state=state, given=frozenset(given), notes=notes)


def _parts(spec: TabSpec, state: Any, leave: frozenset[str] = frozenset()) -> list[str]:
    parts = [] if spec.tab == "text" else [f"{TAB}={spec.tab}"]
    for p in spec.params:
        value = getattr(state, p.name)
        if value is not None and p.name not in leave:
            parts.append(f"{p.name}={p.text(value)}")
    return parts


def left_out(spec: TabSpec, state: Any, max_chars: int = MAX_QUERY_CHARS) -> list[str]:
    """The texts (longest first) a link to ``state`` leaves out to stay within ``max_chars``."""
    texts = sorted((p for p in spec.params if isinstance(p, Text) and getattr(state, p.name) is not None),
                   key=lambda p: -len(p.text(getattr(state, p.name))))
    leave: list[str] = []
    for p in texts:
        if len("&".join(_parts(spec, state, frozenset(leave)))) <= max_chars:
            break
        leave.append(p.name)
    return leave


def build_link(spec: TabSpec, state: Any, max_chars: int = MAX_QUERY_CHARS) -> str:
    """The query string (no leading ?) that opens the tab with ``state``: ``tab`` (not for Text),
    then every setting that is not None, in the spec's order; texts too long are left out."""
    return "&".join(_parts(spec, state, frozenset(left_out(spec, state, max_chars))))


def as_dict(state: Any) -> dict[str, Any]:
    """A link state as plain values (tuples as lists), for tests and JSON."""
    return json.loads(json.dumps(dataclasses.asdict(state)))
