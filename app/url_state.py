"""The Text tab's state in the page URL, so a view can be shared as a link (no Gradio, no library).

Query parameters (all optional; the ones left out keep the tab's defaults):

    tokenizers   comma-separated tokenizer names, in the order shown: text/o200k_base,text/r50k_base
                 (the "text/" prefix may be left out: o200k_base). At most 6 (Compare: 2 to 4).
    text         the text, percent-encoded as UTF-8: Hello%20world. At most 100,000 characters.
    mode         tokens (one tokenization under another; "single" is the same) or compare
                 (2 to 4 side by side, differing boundaries marked).

    http://127.0.0.1:7860/?tokenizers=text/o200k_base,text/r50k_base&mode=compare&text=Hello%20world

Bad values never break the page: an unknown tokenizer is dropped, extra tokenizers beyond the limit
are dropped (the first ones kept), overlong text keeps its first 100,000 characters, an unknown mode
falls back to tokens, and Compare with fewer than 2 tokenizers shows tokens; each comes back as a
short note saying what was ignored and what is allowed.

Links carry the text only while the whole query stays under MAX_QUERY_CHARS characters (servers
refuse request lines over about 16 KB); a longer text is left out of the link and
``text_in_link`` says so.

    parsed = parse_query({"tokenizers": "text/bytes,text/nope", "text": "hé"}, DEFAULT, limits)
    parsed.state, parsed.notes, parsed.given
    build_query(parsed.state)          # 'tokenizers=text/bytes&mode=tokens&text=h%C3%A9'

The other tabs share the scheme (``app/url_tabs.py``): a ``tab`` parameter names the open tab
(``tab=image&model=...``); a link without one is a Text tab link, so the links above stay valid.

    parse_tab({"tab": "image"})        # TabChoice(tab='image', notes=[])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence
from urllib.parse import quote

TOKENIZERS = "tokenizers"  # parameter names
TEXT = "text"
MODE = "mode"
MODES = {"tokens": "Tokens", "single": "Tokens", "compare": "Compare"}  # URL value -> the tab's mode
MODE_VALUES = {"Tokens": "tokens", "Compare": "compare"}  # the tab's mode -> URL value
MAX_QUERY_CHARS = 8_000  # longest query a link carries with its text (request lines over ~16 KB are refused)
MAX_SHOWN = 40  # characters of a bad value quoted back in a note
TAB = "tab"  # the parameter naming the open tab; left out: the Text tab
TAB_IDS = ("text", "learn", "languages", "metrics", "image", "audio", "train", "library", "attention")  # gr.Tab ids


@dataclass
class TextState:
    """What a link restores: the tokenizers in order, the text, and the mode ("Tokens" or "Compare")."""
    tokenizers: list[str]
    text: str
    mode: str = "Tokens"


@dataclass(frozen=True)
class Limits:
    """What the Text tab accepts."""
    known: tuple[str, ...]  # tokenizer names the tab can load
    max_tokenizers: int = 6  # tokenizers in Tokens mode
    min_compare: int = 2  # Compare shows min_compare..max_compare tokenizers
    max_compare: int = 4
    max_chars: int = 100_000  # longest text


@dataclass
class ParsedQuery:
    state: TextState  # always valid for the tab
    given: frozenset[str] = frozenset()  # the parameters the query set (the others kept the defaults)
    notes: list[str] = field(default_factory=list)  # one short sentence per thing ignored or changed


def _shown(value: str) -> str:
    return repr(value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "…")


def _values(params: Mapping[str, str | Sequence[str]], key: str) -> list[str] | None:
    """Every value of ``key`` (a dict from a request gives a string, parse_qs a list), or None."""
    if key not in params:
        return None
    v = params[key]
    return [v] if isinstance(v, str) else [str(x) for x in v]


@dataclass
class TabChoice:
    tab: str  # one of TAB_IDS
    notes: list[str] = field(default_factory=list)  # what was ignored, and what is allowed


def parse_tab(params: Mapping[str, str | Sequence[str]]) -> TabChoice:
    """The tab a link opens: its ``tab`` parameter (case-insensitive), or "text" when there is none
    or it names no tab (with a note)."""
    raw = _values(params, TAB)
    if raw is None:
        return TabChoice("text")
    value = (raw[-1] if raw else "").strip().lower()
    if value in TAB_IDS:
        return TabChoice(value)
    return TabChoice("text", [f"Ignored tab {_shown(value)}; use tab= one of {', '.join(TAB_IDS)}."])


def _tokenizers(raw: list[str], default: list[str], limits: Limits, notes: list[str]) -> list[str]:
    known = set(limits.known)
    asked = list(dict.fromkeys(n.strip() for r in raw for n in r.split(",") if n.strip()))
    names, unknown = [], []
    for n in asked:
        name = n if n in known else f"text/{n}" if f"text/{n}" in known else None
        if name is None:
            unknown.append(n)
        elif name not in names:
            names.append(name)
    if unknown:
        shown = ", ".join(_shown(n) for n in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        notes.append(f"Ignored unknown tokenizer{'s' if len(unknown) > 1 else ''} {shown}; "
                     f"choose from: {', '.join(limits.known)}.")
    if len(names) > limits.max_tokenizers:
        dropped = names[limits.max_tokenizers:]
        names = names[: limits.max_tokenizers]
        notes.append(f"Kept the first {limits.max_tokenizers} tokenizers (at most {limits.max_tokenizers}); "
                     f"ignored {', '.join(dropped)}.")
    if not names:
        notes.append(f"No usable tokenizer in the link; showing the defaults ({', '.join(default)}).")
        return list(default)
    return names


def _text(raw: list[str], limits: Limits, notes: list[str]) -> str:
    text = raw[-1] if raw else ""
    if len(text) > limits.max_chars:
        notes.append(f"The text had {len(text):,} characters; kept the first {limits.max_chars:,} (the limit).")
        text = text[: limits.max_chars]
    return text


def _mode(raw: list[str], default: str, notes: list[str]) -> str:
    value = (raw[-1] if raw else "").strip().lower()
    if value in MODES:
        return MODES[value]
    notes.append(f"Ignored mode {_shown(value)}; use mode=tokens or mode=compare.")
    return default


def parse_query(params: Mapping[str, str | Sequence[str]], default: TextState, limits: Limits) -> ParsedQuery:
    """The Text tab's state from a page's query parameters (``dict(request.query_params)`` or
    ``urllib.parse.parse_qs(...)``); parameters left out keep ``default``. Never raises on bad
    values: it drops them and says so in ``notes``."""
    notes: list[str] = []
    given = frozenset(k for k in (TOKENIZERS, TEXT, MODE) if k in params)
    raw = _values(params, TOKENIZERS)
    names = list(default.tokenizers) if raw is None else _tokenizers(raw, list(default.tokenizers), limits, notes)
    raw = _values(params, TEXT)
    text = default.text if raw is None else _text(raw, limits, notes)
    raw = _values(params, MODE)
    mode = default.mode if raw is None else _mode(raw, default.mode, notes)
    if mode == "Compare" and len(names) < limits.min_compare:
        notes.append(f"Compare shows {limits.min_compare} to {limits.max_compare} tokenizers; the link names "
                     f"{len(names)}, so the tokens are shown instead.")
        mode = "Tokens"
    elif mode == "Compare" and len(names) > limits.max_compare:
        notes.append(f"Compare shows at most {limits.max_compare} tokenizers; ignored "
                     f"{', '.join(names[limits.max_compare:])}.")
        names = names[: limits.max_compare]
    return ParsedQuery(state=TextState(tokenizers=names, text=text, mode=mode), given=given, notes=notes)


def _query(state: TextState, with_text: bool) -> str:
    parts = [f"{TOKENIZERS}={','.join(quote(n, safe='/:') for n in state.tokenizers)}",
             f"{MODE}={MODE_VALUES.get(state.mode, 'tokens')}"]
    if with_text:  # surrogates (not valid in UTF-8) become '?'
        parts.append(f"{TEXT}={quote(state.text, safe='', errors='replace')}")
    return "&".join(parts)


def text_in_link(state: TextState, max_chars: int = MAX_QUERY_CHARS) -> bool:
    """Whether a link to ``state`` can carry its text (the query stays within ``max_chars``)."""
    return len(_query(state, True)) <= max_chars


def build_query(state: TextState, max_chars: int = MAX_QUERY_CHARS) -> str:
    """The query string (no leading ?) that restores ``state``: tokenizers, mode, then the text,
    which is left out when the query would be longer than ``max_chars`` (see ``text_in_link``)."""
    return _query(state, text_in_link(state, max_chars))
