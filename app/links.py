"""Every tab's settings in the page URL, so a view can be shared as a link (no Gradio, no library).

    ?tokenizers=text/o200k_base,text/r50k_base&mode=compare&text=Hello%20world     (the Text tab)
    ?tab=image&model=image/flex1d-emoji64&sample=emoji-fox.png&k=12
    ?tab=audio&model=audio/rvq-speech16k&sample=flite-slt.wav&metric=stoi&k=2
    ?tab=languages&tokenizers=text/o200k_base,text/r50k_base&script=Cyrl&family=Uralic&map=text/r50k_base
    ?tab=metrics&tokenizers=text/o200k_base&corpus=udhr&languages=eng,fra&split=whole&limit=200000
    ?tab=learn&corpus=aaabdaaabac&merges=3&text=aaab&vocab=trained&order=chunk

``tab`` names the open tab; a link without it is a Text tab link (so the first links ever shared
stay valid), and Text links are written without it. A tab's link is a ``TabSpec``: its id, its
typed parameters (``Choice``, ``Names``, ``Int``, ``Text``) in link order, the dataclass they fill,
and an optional rule between parameters. The tab fills in the allowed values at request time (the
tokenizers that load now, the samples on disk).

``parse_link`` never raises: a bad value falls back to its default and comes back as a note
naming what was ignored and what is allowed. ``build_link`` writes every setting, leaving out the
long texts that would make a link over ``MAX_QUERY_CHARS`` (servers refuse request lines over
about 16 KB; ``left_out`` names them). Uploaded files cannot travel in a link.

    spec = image_spec(models=("image/flex1d-emoji64",), samples=("emoji-fox.png",))
    parsed = parse_link({"tab": "image", "k": "9000"}, spec)
    parsed.state, parsed.notes          # ImageLink(...), ['Ignored k=9000; k is a whole number from 1 to 4096.']
    build_link(spec, parsed.state)      # 'tab=image&model=image/flex1d-emoji64&sample=emoji-fox.png'
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union
from urllib.parse import quote

TAB = "tab"  # the parameter naming the open tab; left out: the Text tab
TAB_IDS = ("text", "learn", "languages", "metrics", "image", "audio", "train", "library", "attention",
           "undertrained")  # gr.Tab ids
PLAIN_TABS = ("train", "library", "attention", "undertrained")  # tabs a link can open, with no settings to restore
MAX_QUERY_CHARS = 8_000  # longest query a link carries with its texts (request lines over ~16 KB are refused)
MAX_SHOWN = 40  # characters of a bad value quoted back in a note
MAX_LISTED = 12  # allowed values named in a note before "..."
NAME_SAFE = "/:@"  # characters a tokenizer or sample name keeps unescaped in a link (readable)
MAX_K = 4096  # largest k an image link may ask for (the tab then keeps it within the tokenizer's own range)

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


# ---- the open tab ------------------------------------------------------------------------------

@dataclass
class TabChoice:
    tab: str  # one of TAB_IDS
    notes: list[str] = field(default_factory=list)  # what was ignored, and what is allowed


def parse_tab(params: Params) -> TabChoice:
    """The tab a link opens: its ``tab`` parameter (case-insensitive), or "text" when there is none
    or it names no tab (with a note)."""
    raw = _values(params, TAB)
    if raw is None:
        return TabChoice("text")
    value = (raw[-1] if raw else "").strip().lower()
    if value in TAB_IDS:
        return TabChoice(value)
    return TabChoice("text", [f"Ignored tab {_shown(value)}; use tab= one of {', '.join(TAB_IDS)}."])


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


# ---- the tabs ------------------------------------------------------------------------------------

@dataclass
class TextLink:
    tokenizers: tuple[str, ...]  # in the order shown
    text: str | None = None
    mode: str | None = None  # "tokens" (one under another) or "compare" (2 to 4 side by side)


@dataclass
class ImageLink:
    model: str | None  # image tokenizer ref
    sample: str | None = None  # None: an upload, which a link cannot carry (opens the default sample)
    k: int | None = None  # tokens kept; None: all of them


@dataclass
class AudioLink:
    model: str | None  # audio tokenizer ref
    sample: str | None = None  # None: an upload or a recording (opens the default sample)
    metric: str | None = None  # the quality metric of the rate chart
    k: int | None = None  # codebooks kept; None: all of them


@dataclass
class LanguagesLink:
    tokenizers: tuple[str, ...]
    script: str | None = None  # ISO 15924 code (Latn); None: all scripts
    family: str | None = None  # top-level family (Uralic); None: all families
    map: str | None = None  # the tokenizer the map shows; None: the first


@dataclass
class MetricsLink:
    tokenizers: tuple[str, ...]
    corpus: str | None = None  # a corpus id (sample, shakespeare, udhr, ...); None: an upload (the default corpus)
    languages: str | None = None  # UDHR codes, comma-separated (corpus=udhr)
    split: str | None = None  # how an upload is cut into slices
    limit: int | None = None  # bytes per slice


@dataclass
class LearnLink:
    corpus: str | None  # the training corpus
    merges: int | None = None
    text: str | None = None  # the text the encoding replay encodes
    vocab: str | None = None  # "trained" or "cl100k"
    order: str | None = None  # "chunk" or "rank"


def _compare_rule(least: int, most: int) -> Callable[[TextLink, list[str]], TextLink]:
    """Compare shows ``least`` to ``most`` tokenizers: fewer shows the tokens, more keeps the first."""
    def check(s: TextLink, notes: list[str]) -> TextLink:
        n = len(s.tokenizers)
        if s.mode == "compare" and n < least:
            notes.append(f"Compare shows {least} to {most} tokenizers; the link names {n}, so the tokens are "
                         "shown instead.")
            return dataclasses.replace(s, mode="tokens")
        if s.mode == "compare" and n > most:
            notes.append(f"Compare shows at most {most} tokenizers; ignored {', '.join(s.tokenizers[most:])}.")
            return dataclasses.replace(s, tokenizers=s.tokenizers[:most])
        return s
    return check


def text_spec(tokenizers: Sequence[str], default: Sequence[str] = (), most: int = 6, text: str | None = None,
              max_chars: int = 100_000, compare: tuple[int, int] = (2, 4)) -> TabSpec:
    return TabSpec("text", (Names("tokenizers", tuple(tokenizers), tuple(default), most, prefix="text/"),
                            Choice("mode", ("tokens", "compare"), "tokens", aliases=(("single", "tokens"),)),
                            Text("text", max_chars, text)), TextLink, _compare_rule(*compare))


def image_spec(models: Sequence[str], samples: Sequence[str], model: str | None = None,
               sample: str | None = None) -> TabSpec:
    return TabSpec("image", (Choice("model", tuple(models), model, "image tokenizer"),
                             Choice("sample", tuple(samples), sample),
                             Int("k", 1, MAX_K, None)), ImageLink)


def audio_spec(models: Sequence[str], samples: Sequence[str], metrics: Sequence[str], model: str | None = None,
               sample: str | None = None, metric: str | None = None) -> TabSpec:
    return TabSpec("audio", (Choice("model", tuple(models), model, "audio tokenizer"),
                             Choice("sample", tuple(samples), sample),
                             Choice("metric", tuple(metrics), metric),
                             Int("k", 1, 64, None)), AudioLink)


def languages_spec(tokenizers: Sequence[str], default: Sequence[str], most: int) -> TabSpec:
    # script and family are checked against the measured table by the tab (they depend on it)
    return TabSpec("languages", (Names("tokenizers", tuple(tokenizers), tuple(default), most, prefix="text/"),
                                 Text("script", 40, None), Text("family", 80, None),
                                 Choice("map", tuple(tokenizers), None, "map tokenizer")), LanguagesLink)


def metrics_spec(tokenizers: Sequence[str], default: Sequence[str], most: int, corpora: Sequence[str],
                 splits: Sequence[str], corpus: str, languages: str, split: str, limit: int) -> TabSpec:
    return TabSpec("metrics", (Names("tokenizers", tuple(tokenizers), tuple(default), most, prefix="text/"),
                               Choice("corpus", tuple(corpora), corpus),
                               Text("languages", 400, languages),
                               Choice("split", tuple(splits), split),
                               Int("limit", 1_000, 50_000_000, limit)), MetricsLink)


def learn_spec(corpus: str, max_corpus: int, merges: int, max_merges: int, text: str, max_text: int,
               vocabs: Sequence[str], orders: Sequence[str]) -> TabSpec:
    return TabSpec("learn", (Text("corpus", max_corpus, corpus), Int("merges", 1, max_merges, merges),
                             Text("text", max_text, text), Choice("vocab", tuple(vocabs), vocabs[0], "vocabulary"),
                             Choice("order", tuple(orders), orders[0])), LearnLink)


def all_keys() -> list[str]:
    """Every parameter a link of any tab may set (what the address bar replaces; the allowed values
    do not matter here)."""
    specs = [text_spec(()), image_spec((), ()), audio_spec((), (), ()), languages_spec((), (), 1),
             metrics_spec((), (), 1, (), (), "", "", "", 1), learn_spec("", 1, 1, 1, "", 1, ("",), ("",))]
    return list(dict.fromkeys([TAB] + [p.name for s in specs for p in s.params]))
