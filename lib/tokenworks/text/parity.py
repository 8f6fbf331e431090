"""Parity across languages: how many more tokens a language pays than English for the same text.

The Universal Declaration of Human Rights is the same 30 articles in every language
(``tokenworks.text.udhr``), so the token count of a language's articles divided by the token
count of the English articles is its *premium* under a tokenizer (Petrov et al., 2023, "Language
Model Tokenizers Introduce Unfairness Between Languages"): 1.0 for English, 2.0 when the same
content costs twice as many tokens.

    from tokenworks.text.parity import parity_table
    table = parity_table(["text/o200k_base", "text/r50k_base"])   # all complete languages
    table.filter(script="Cyrl").sorted("premium")[:5]
    table.to_csv("parity.csv")

One row per (language, tokenizer). A tokenization that loses information (unknown tokens, or a
decode that does not give the text back) is *flagged*: a tokenizer that maps a whole script to
``[UNK]`` needs few tokens, and that low count is not efficiency. ``lossy`` rows keep their
numbers but say so in ``flags``; sort and plot them apart.

English on the same articles: each article is tokenized on its own and counts are summed, so a
language measured on a subset of articles (an incomplete declaration, or ``articles=``) is
compared with English on exactly that subset.
"""
from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..errors import InvalidInput, TokenworksError, UnknownTokenizer
from .families import UNKNOWN
from .udhr import ENGLISH, N_ARTICLES, UDHR, Language, load_udhr

# the CSV's columns, in order (ParityRow's fields)
CSV_COLUMNS = (
    "code", "name", "script", "script_name", "family", "tokenizer", "tokens", "bytes", "characters",
    "premium", "byte_premium", "english_tokens", "bytes_per_token", "chars_per_token", "articles",
    "unk_tokens", "roundtrip_failures", "lossy", "flags", "complete", "bcp47", "direction",
    "latitude", "longitude",
)


@dataclass(frozen=True)
class ParityRow:
    """One language under one tokenizer, on ``articles`` articles."""

    code: str  # the udhr package's code, e.g. "eng", "cmn_hans"
    name: str
    script: str  # ISO 15924, e.g. "Latn"
    script_name: str
    family: str  # top-level family (Glottolog, through URIEL: tokenworks.text.families) or "unknown"
    tokenizer: str
    tokens: int  # tokens over the measured articles (each article encoded on its own)
    bytes: int  # UTF-8 bytes of the same text
    characters: int  # code points of the same text
    premium: float  # tokens / english_tokens (1.0 for English)
    byte_premium: float  # bytes / English bytes on the same articles: how long the text is, untokenized
    english_tokens: int  # tokens of English on the same articles, same tokenizer
    bytes_per_token: float
    chars_per_token: float
    articles: int  # how many articles were measured
    unk_tokens: int  # tokens that are the tokenizer's unknown token
    roundtrip_failures: int  # articles whose decode differs from the text
    lossy: bool  # unk_tokens > 0 or roundtrip_failures > 0: the count is not comparable
    flags: str  # "" or a short reason, e.g. "unk:12; roundtrip:3/30"
    complete: bool  # the declaration has all 30 articles
    bcp47: str
    direction: str
    latitude: float | None
    longitude: float | None


@dataclass
class ParityTable:
    """Rows for every (language, tokenizer); filter, sort, export."""

    rows: list[ParityRow]
    tokenizers: list[str]
    languages: list[str]  # codes, in row order
    articles: tuple[int, ...]  # the articles asked for
    english: str = ENGLISH
    excluded: list[str] | None = None  # incomplete declarations left out (by default)
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def row(self, code: str, tokenizer: str) -> ParityRow:
        for r in self.rows:
            if r.code == code and r.tokenizer == tokenizer:
                return r
        raise InvalidInput(f"no row for language {code!r} and tokenizer {tokenizer!r}; tokenizers: "
                           f"{', '.join(self.tokenizers)}; {len(self.languages)} languages")

    def premium(self, code: str, tokenizer: str) -> float:
        return self.row(code, tokenizer).premium

    def _replace_rows(self, rows: list[ParityRow]) -> "ParityTable":
        codes = list(dict.fromkeys(r.code for r in rows))
        return ParityTable(rows, [t for t in self.tokenizers if any(r.tokenizer == t for r in rows)],
                           codes, self.articles, self.english, self.excluded, self.seconds)

    def filter(self, *, script: str | Iterable[str] | None = None, family: str | Iterable[str] | None = None,
               tokenizer: str | Iterable[str] | None = None, lossy: bool | None = None) -> "ParityTable":
        """Rows whose script (ISO code or name, any case), family and tokenizer are among those
        given; ``lossy=False`` keeps only lossless rows."""
        rows = self.rows
        if script is not None:
            rows = _match_scripts(rows, script)
        if family is not None:
            rows = _match_families(rows, family, self.rows)
        if tokenizer is not None:
            want = {tokenizer} if isinstance(tokenizer, str) else set(tokenizer)
            unknown = sorted(want - set(self.tokenizers))
            if unknown:
                raise InvalidInput(f"tokenizer(s) {', '.join(unknown)} are not in this table; it has "
                                   f"{', '.join(self.tokenizers)}")
            rows = [r for r in rows if r.tokenizer in want]
        if lossy is not None:
            rows = [r for r in rows if r.lossy == lossy]
        return self._replace_rows(list(rows))

    def sorted(self, by: str = "premium", descending: bool = False) -> "ParityTable":
        """Rows sorted by a column (empty values last); lossy rows always after lossless ones."""
        if by not in CSV_COLUMNS:
            raise InvalidInput(f"cannot sort by {by!r}; columns are {', '.join(CSV_COLUMNS)}")
        out: list[ParityRow] = []
        for group in ([r for r in self.rows if not r.lossy], [r for r in self.rows if r.lossy]):
            present = [r for r in group if getattr(r, by) is not None]
            out += sorted(present, key=lambda r: getattr(r, by), reverse=descending)
            out += [r for r in group if getattr(r, by) is None]
        return self._replace_rows(out)

    def scripts(self) -> list[str]:
        return sorted({r.script for r in self.rows})

    def families(self) -> list[str]:
        """The families present ("unknown" included when some rows have none), sorted."""
        return sorted({r.family for r in self.rows})

    def to_records(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rows]

    def to_csv(self, path: str | Path) -> Path:
        """Write the table (columns ``CSV_COLUMNS``); premiums to 6 decimals, empty for None."""
        path = Path(path)
        if path.parent and not path.parent.exists():
            raise InvalidInput(f"cannot write {path}: the folder {path.parent} does not exist")
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_COLUMNS)
            for r in self.rows:
                w.writerow([_cell(getattr(r, c)) for c in CSV_COLUMNS])
        return path


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) >= 1e-3 or v == 0 else repr(v)
    return str(v)


def _as_list(x: str | Iterable[str]) -> list[str]:
    """"a, b" or ["a", "b"] -> ["a", "b"] (order kept, duplicates dropped)."""
    items = x.split(",") if isinstance(x, str) else x
    return list(dict.fromkeys(s for s in (str(i).strip() for i in items) if s))


def _as_set(x: str | Iterable[str]) -> set[str]:
    return set(_as_list(x))


def _match_scripts(rows: Sequence[ParityRow], script: str | Iterable[str]) -> list[ParityRow]:
    want = {s.lower() for s in _as_set(script)}
    known = {r.script.lower() for r in rows} | {r.script_name.lower() for r in rows}
    unknown = sorted(want - known)
    if unknown:
        have = sorted({f"{r.script} ({r.script_name})" for r in rows})
        raise InvalidInput(f"no language here is written in {', '.join(unknown)}; scripts (ISO 15924 code or name): "
                           + ", ".join(have))
    return [r for r in rows if r.script.lower() in want or r.script_name.lower() in want]


_NO_FAMILIES = ("no row here has a known family: the families come from the uriel-families asset "
                "(`tokenworks assets fetch uriel-families`), or fill them with UDHR.with_families(mapping) "
                "and pass that as parity_table(..., udhr=...)")


def _family_error(want: set[str], have: Iterable[str]) -> str:
    have = sorted(set(have))
    if not [f for f in have if f != UNKNOWN]:
        return f"unknown family {', '.join(sorted(want))}; " + _NO_FAMILIES
    return f"unknown family {', '.join(sorted(want))}; families here: {', '.join(have)}"


def _match_families(rows: Sequence[ParityRow], family: str | Iterable[str],
                    universe: Sequence[ParityRow] | None = None) -> list[ParityRow]:
    """Rows whose family (any case; "unknown" for rows without one) is among ``family``; a family
    absent from ``universe`` (default ``rows``: the table before other filters) is an error."""
    have = {r.family for r in (rows if universe is None else universe)}
    want = {s.lower() for s in _as_set(family)}
    missing = want - {f.lower() for f in have}
    if missing:
        raise InvalidInput(_family_error(missing, have))
    return [r for r in rows if r.family.lower() in want]


# ------------------------------------------------------------------------------------------
# Measuring
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleCount:
    """One article under one tokenizer."""

    tokens: int
    unk: int
    roundtrip_ok: bool


def _unk_ids(tok: Any) -> set[int]:
    """The tokenizer's unknown-token id(s), where it has one (HF and SentencePiece vocabularies)."""
    ids: set[int] = set()
    unk = getattr(tok, "unk_id", None)
    if isinstance(unk, int) and unk >= 0:
        ids.add(unk)
    sp = getattr(tok, "sp", None)
    if sp is not None and hasattr(sp, "unk_id"):
        try:
            u = int(sp.unk_id())
            if u >= 0:
                ids.add(u)
        except Exception:  # a processor without an unknown piece
            pass
    return ids


def count_article(tok: Any, text: str, unk_ids: set[int] | None = None) -> ArticleCount:
    """Tokens, unknown tokens and whether decode gives ``text`` back."""
    seq = tok.encode(text)
    ids = seq.tolist()
    unk_ids = _unk_ids(tok) if unk_ids is None else unk_ids
    unk = sum(1 for i in ids if i in unk_ids) if unk_ids else 0
    ok = seq.lossless
    if ok:
        try:
            ok = tok.decode(seq) == text
        except TokenworksError:
            ok = False
    return ArticleCount(len(ids), unk, ok)


def _resolve_tokenizers(tokenizers: str | Iterable[Any]) -> list[Any]:
    from .. import registry

    items = [t.strip() for t in tokenizers.split(",") if t.strip()] if isinstance(tokenizers, str) else list(tokenizers)
    if not items:
        raise InvalidInput("give at least one tokenizer, e.g. text/o200k_base; valid: "
                           + ", ".join(registry.available("text")))
    names = [_text_name(t) if isinstance(t, str) else None for t in items]  # unknown names fail first
    toks = []
    for t, name in zip(items, names):
        if name is not None:
            toks.append(registry.load_shared(name))
        else:
            if getattr(t, "modality", None) != "text":
                raise InvalidInput(f"{t!r} is not a text tokenizer")
            toks.append(t)
    seen: set[str] = set()
    out = []
    for t in toks:
        if t.name not in seen:
            seen.add(t.name)
            out.append(t)
    return out


def _text_name(name: str) -> str:
    """The registered name of a text tokenizer; UnknownTokenizer listing the text tokenizers."""
    import difflib

    from .. import registry

    valid = registry.available("text")
    try:
        canon = registry.canonical(name)
    except UnknownTokenizer:
        close = difflib.get_close_matches(name.strip(), valid, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise UnknownTokenizer(f"unknown tokenizer {name!r}{hint}; parity takes text tokenizers: "
                               + ", ".join(valid)) from None
    if canon not in valid:
        raise UnknownTokenizer(f"{canon} is not a text tokenizer; parity takes one of " + ", ".join(valid))
    return canon


def _resolve_articles(articles: Iterable[int] | None) -> tuple[int, ...]:
    if articles is None:
        return tuple(range(1, N_ARTICLES + 1))
    nums = sorted({int(a) for a in articles})
    bad = [n for n in nums if not 1 <= n <= N_ARTICLES]
    if bad or not nums:
        raise InvalidInput(f"articles must be numbers from 1 to {N_ARTICLES}, got {bad or 'none'}")
    return tuple(nums)


def _resolve_languages(udhr: UDHR, languages: str | Iterable[str] | None, include_incomplete: bool,
                       scripts: str | Iterable[str] | None, families: str | Iterable[str] | None
                       ) -> tuple[list[Language], list[str]]:
    if languages is None:
        langs = list(udhr) if include_incomplete else udhr.complete()
        excluded = [] if include_incomplete else [lang.code for lang in udhr.incomplete()]
    else:
        codes = _as_list(languages)
        if not codes:
            raise InvalidInput("languages is empty; give UDHR codes such as eng,fra,cmn_hans (or None for all)")
        langs = [udhr[c] for c in codes]  # unknown codes raise with suggestions
        excluded = []
    if scripts is not None:
        want = {s.lower() for s in _as_set(scripts)}
        known = {lang.script.lower() for lang in udhr} | {lang.script_name.lower() for lang in udhr}
        if want - known:
            raise InvalidInput(f"unknown script {', '.join(sorted(want - known))}; scripts in the UDHR: "
                               + ", ".join(f"{s} ({n})" for s, n in udhr.scripts().items()))
        langs = [lang for lang in langs if lang.script.lower() in want or lang.script_name.lower() in want]
    if families is not None:
        have = {lang.family or UNKNOWN for lang in udhr}
        want = {s.lower() for s in _as_set(families)}
        missing = want - {f.lower() for f in have}
        if missing:
            raise InvalidInput(_family_error(missing, have))
        langs = [lang for lang in langs if (lang.family or UNKNOWN).lower() in want]
    if not langs:
        raise InvalidInput("no language is left to measure after the filters")
    return langs, excluded


def _flags(unk: int, fails: int, n_articles: int) -> str:
    parts = []
    if unk:
        parts.append(f"unk:{unk}")
    if fails:
        parts.append(f"roundtrip:{fails}/{n_articles}")
    return "; ".join(parts)


def parity_table(tokenizers: str | Iterable[Any], languages: str | Iterable[str] | None = None,
                 articles: Iterable[int] | None = None, *, scripts: str | Iterable[str] | None = None,
                 families: str | Iterable[str] | None = None, include_incomplete: bool = False,
                 udhr: UDHR | None = None, english: str = ENGLISH,
                 progress: Callable[[str], None] | None = None) -> ParityTable:
    """Token premium relative to English for each language and tokenizer on the UDHR.

    tokenizers: registry names ("text/o200k_base"), a comma-separated string of them, or text
        tokenizer objects.
    languages: UDHR codes (``load_udhr().codes``); None for every complete declaration (521 of
        532; the incomplete ones are listed in ``table.excluded``). An incomplete declaration
        named here is measured on the articles it has.
    articles: article numbers (1..30) to measure; None for all 30.
    scripts / families: keep only languages written in these scripts (ISO 15924 code or name) or
        of these top-level families ("Indo-European", "unknown"; joined by ``load_udhr`` from the
        uriel-families asset, see ``tokenworks.text.families``).
    udhr: the declarations (default ``load_udhr()``, which raises ``AssetMissing`` naming
        ``tokenworks assets fetch udhr`` if the asset is absent).
    """
    t0 = time.perf_counter()
    toks = _resolve_tokenizers(tokenizers)
    arts = _resolve_articles(articles)
    udhr = load_udhr() if udhr is None else udhr
    eng = udhr[english]
    langs, excluded = _resolve_languages(udhr, languages, include_incomplete, scripts, families)
    if not all(n in eng.articles for n in arts):
        raise InvalidInput(f"the English declaration ({english}) lacks articles "
                           f"{[n for n in arts if n not in eng.articles]}")
    rows: list[ParityRow] = []
    # per tokenizer: English counts per article, and a cache so English is not encoded twice
    for tok in toks:
        unk_ids = _unk_ids(tok)
        eng_counts = {n: count_article(tok, eng.articles[n], unk_ids) for n in arts}
        eng_bytes = {n: len(eng.articles[n].encode("utf-8")) for n in arts}
        for k, lang in enumerate(langs):
            measured = [n for n in arts if n in lang.articles]
            if not measured:
                continue  # a declaration without any of the asked articles has nothing to compare
            if lang.code == english:
                counts = [eng_counts[n] for n in measured]
            else:
                counts = [count_article(tok, lang.articles[n], unk_ids) for n in measured]
            n_tok = sum(c.tokens for c in counts)
            n_bytes = sum(len(lang.articles[n].encode("utf-8")) for n in measured)
            n_chars = sum(len(lang.articles[n]) for n in measured)
            e_tok = sum(eng_counts[n].tokens for n in measured)
            e_bytes = sum(eng_bytes[n] for n in measured)
            unk = sum(c.unk for c in counts)
            fails = sum(not c.roundtrip_ok for c in counts)
            rows.append(ParityRow(
                code=lang.code, name=lang.name, script=lang.script, script_name=lang.script_name,
                family=lang.family or UNKNOWN, tokenizer=tok.name, tokens=n_tok, bytes=n_bytes, characters=n_chars,
                premium=n_tok / e_tok if e_tok else float("nan"),
                byte_premium=n_bytes / e_bytes if e_bytes else float("nan"),
                english_tokens=e_tok,
                bytes_per_token=n_bytes / n_tok if n_tok else 0.0,
                chars_per_token=n_chars / n_tok if n_tok else 0.0,
                articles=len(measured), unk_tokens=unk, roundtrip_failures=fails,
                lossy=bool(unk or fails), flags=_flags(unk, fails, len(measured)),
                complete=lang.complete, bcp47=lang.bcp47, direction=lang.direction,
                latitude=lang.latitude, longitude=lang.longitude,
            ))
            if progress is not None and (k + 1) % 100 == 0:
                progress(f"{tok.name}: {k + 1}/{len(langs)} languages")
    return ParityTable(rows=rows, tokenizers=[t.name for t in toks],
                       languages=list(dict.fromkeys(r.code for r in rows)), articles=arts, english=english,
                       excluded=excluded, seconds=time.perf_counter() - t0)


assert tuple(f.name for f in fields(ParityRow)) == CSV_COLUMNS  # the CSV writes every field, in order
