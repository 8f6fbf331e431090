"""Cut a long text where encoding the pieces one by one gives exactly the ids of the whole.

A byte-level BPE with a pretokenization regex never merges across the regex's pieces, so the
ids of a text are the ids of its pieces in turn. A cut at ``p`` is exact when ``p`` is a piece
boundary *and* the pieces on either side come out the same when each side is scanned alone
(the regex sees the end of the string at ``p``, where ``$`` and ``(?!\\S)`` can decide).

The cut used here: right after a ``"\\n"`` that is followed by an ASCII letter or digit. For the
cl100k_base and o200k_base regexes:

* no alternative matches ``"\\n"`` followed by a letter or digit: letters and digits are only
  ever preceded, inside one piece, by an optional character that is not ``\\r``/``\\n``;
  punctuation pieces end in newlines; whitespace pieces hold only whitespace. So ``p`` is a
  piece boundary.
* the whitespace before ``p`` ends in ``"\\n"``: scanned whole, ``\\s*[\\r\\n]`` (cl100k) or
  ``\\s*[\\r\\n]+`` (o200k) takes it up to ``p``; scanned alone, ``\\s++$`` (cl100k) or the same
  alternative (o200k) takes the same characters. A punctuation piece that ends in the newlines
  stops at ``p`` either way. The regexes look at nothing before a match, so the right side
  scans the same alone.

r50k_base's ``\\s+(?!\\S)`` breaks the second point (before a letter ``"\\n\\n"`` is two pieces,
at the end of a text one, with other ids), so it has no cuts here. tests/text/test_engine.py
checks both facts against tiktoken.
"""
from __future__ import annotations

import re

from ..errors import InvalidInput

CUT_VOCABS = ("cl100k_base", "o200k_base")  # vocabularies whose regex the cut rule is proven for
_CUT = re.compile(r"(?<=\n)[A-Za-z0-9]")  # matches at the cut: the character after the newline


def cut_positions(text: str, every: int, vocab: str = "cl100k_base") -> list[int]:
    """Exact cut positions (character offsets, increasing, inside ``text``): the first cut at
    or after each ``every`` characters from the last one. A text with no cut after some point
    keeps the rest whole."""
    if vocab not in CUT_VOCABS:
        raise InvalidInput(f"no exact cut rule for {vocab!r}; choose one of {', '.join(CUT_VOCABS)}")
    if every < 1:
        raise InvalidInput(f"every must be a positive number of characters, got {every}")
    cuts, last = [], 0
    while len(text) - last > every:
        m = _CUT.search(text, last + every)
        if m is None:
            break
        last = m.start()
        cuts.append(last)
    return cuts


def cut_text(text: str, every: int, vocab: str = "cl100k_base") -> list[str]:
    """``text`` in pieces of about ``every`` characters or more, cut only at exact cuts."""
    bounds = [0, *cut_positions(text, every, vocab), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]
