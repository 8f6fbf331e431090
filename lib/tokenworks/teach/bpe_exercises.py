"""Checkers for the exercises of notebook 01 (byte-level BPE from scratch).

Each ``check_<name>(fn)`` runs a learner's function on hand-picked and random cases, compares
every answer with the library's reference, prints ``correct: ...`` or says exactly what differs
(the call, what was expected, what came back, the first differing position, a wrong type, an
exception and the line that raised it), and returns an ``ExerciseResult``::

    from tokenworks.teach.bpe_exercises import check_merge
    result = check_merge(my_merge)      # prints the verdict
    result.passed, result.cases         # True, 24
    result.raise_if_failed()            # ExerciseFailed with the same message when it is wrong

The exercises and the contract each checker holds a function to (ids 0..255 are the bytes;
merges are ``{(left, right): new_id}`` with new ids 256, 257, ... in the order they were learned):

==========  ===============================================  =====================================
exercise    signature                                         reference
==========  ===============================================  =====================================
get_stats   ``get_stats(ids) -> {(a, b): count}``             adjacent pairs, overlapping ones too
merge       ``merge(ids, pair, idx) -> list[int]``            every ``pair`` left to right -> idx
train       ``train(text, num_merges) -> merges``             ``bpe_train.train_bpe``, no regex split
encode      ``encode(text, merges) -> list[int]``             ``ByteBPE(...).encode``, no regex split
decode      ``decode(ids, merges) -> str``                    ``ByteBPE(...).decode`` (U+FFFD for bad UTF-8)
split       ``split(text) -> list[str]``                      ``ByteBPE.pretokenize`` with GPT-4's regex
==========  ===============================================  =====================================

``train`` merges the most frequent pair; among pairs seen equally often, the smallest
``(left, right)``; it stops early when no pair is left.
"""
from __future__ import annotations

import copy
import random
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..errors import TokenworksError
from ..text.bpe import GPT4_PATTERN, BPEConfig, ByteBPE
from ..text.bpe_train import train_bpe

EXERCISES = ("get_stats", "merge", "train", "encode", "decode", "split")
RANDOM_CASES = 20  # random cases per checker, after the hand-picked ones
SHOW_FAILURES = 3  # failing cases named in the message besides the first one
_WIDTH = 160  # longest repr of an input or output in a message


class ExerciseFailed(TokenworksError, AssertionError):
    """A learner's function gave a wrong answer; the message says on what and how."""


@dataclass(frozen=True)
class CaseReport:
    """One case a learner's function got wrong."""

    label: str  # which case ("overlapping pair", "random #3")
    call: str  # the call, e.g. "merge(ids=[5, 5, 5], pair=(5, 5), idx=9)"
    expected: Any
    got: Any  # None when the function raised
    difference: str  # what differs, in words


@dataclass
class ExerciseResult:
    """The verdict on one exercise."""

    name: str  # the exercise ("merge")
    passed: bool
    cases: int  # how many cases were run
    message: str  # "correct: ..." or what differs
    failures: list[CaseReport] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message

    def raise_if_failed(self) -> "ExerciseResult":
        if not self.passed:
            raise ExerciseFailed(self.message)
        return self


@dataclass(frozen=True)
class _Case:
    label: str
    args: tuple
    expected: Any


# ---- describing values and differences --------------------------------------------------


def _short(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= _WIDTH else r[: _WIDTH - 20] + " ... " + r[-14:]


def _kind(x: Any) -> str:
    """``a list of 3 items``, ``a tuple``, ``None`` ..."""
    if x is None:
        return "None"
    name = type(x).__module__ + "." + type(x).__qualname__ if type(x).__module__ != "builtins" else type(x).__name__
    if isinstance(x, (list, tuple, dict, str, bytes)):
        return f"a {name} of {len(x)} item{'s' * (len(x) != 1)}" if not isinstance(x, (str, bytes)) else f"a {name} of length {len(x)}"
    return f"a {name}"


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _type_problem(expected_type: type, got: Any, what: str) -> str:
    """'' when ``got`` has the expected type, else what is wrong (with a hint)."""
    if isinstance(got, expected_type):
        return ""
    if got is None:
        return f"expected {what}, got None: is a `return` missing?"
    hint = ""
    if expected_type is list and (isinstance(got, (tuple, range)) or type(got).__name__ == "ndarray"):
        hint = " (wrap it in list(...))"
    if expected_type is str and isinstance(got, (bytes, bytearray)):
        hint = " (turn the bytes into text with .decode('utf-8', errors='replace'))"
    if expected_type is dict and isinstance(got, list):
        hint = " (build a dict {pair: value})"
    return f"expected {what}, got {_kind(got)}{hint}"


def _first_difference(expected: Sequence, got: Sequence, noun: str) -> str:
    """Where two sequences first differ, with their lengths and the neighbourhood."""
    n = min(len(expected), len(got))
    i = next((k for k in range(n) if expected[k] != got[k]), n)
    sizes = f"expected {len(expected)} {noun}s, got {len(got)}"
    if i == n:
        if len(expected) == len(got):
            return ""
        longer, which = (expected, "expected") if len(expected) > len(got) else (got, "got")
        return f"{sizes}: the first {n} agree, then {which} goes on with {_short(list(longer[n:n + 5]))}"
    lo = max(0, i - 2)
    near = f"; around it expected {_short(list(expected[lo:i + 3]))}, got {_short(list(got[lo:i + 3]))}"
    same = "" if len(expected) == len(got) else f" ({sizes})"
    return f"first difference at position {i}: expected {expected[i]!r}, got {got[i]!r}{same}{near}"


def _compare_list(expected: list, got: Any, item: type, noun: str) -> str:
    what = f"a list of {item.__name__}s"
    problem = _type_problem(list, got, what)
    if problem:
        if isinstance(got, (tuple, range)) and list(got) == expected:
            problem += "; the items themselves are right"
        return problem
    for k, x in enumerate(got):
        if not (_is_int(x) if item is int else isinstance(x, item)):
            return f"item {k} is {_kind(x)} ({x!r}), expected {item.__name__}" + (
                " (convert with int(...))" if item is int and hasattr(x, "__index__") else "")
    return _first_difference(expected, got, noun)


def _pair_ok(key: Any) -> bool:
    return isinstance(key, tuple) and len(key) == 2 and all(_is_int(v) for v in key)


def _compare_counts(expected: dict, got: Any) -> str:
    problem = _type_problem(dict, got, "a dict {(left, right): count}")
    if problem:
        return problem
    for key, value in got.items():
        if not _pair_ok(key):
            return f"key {key!r} is {_kind(key)}: keys must be pairs (left, right) of ints, as tuples"
        if not _is_int(value):
            return f"the count of {key} is {_kind(value)} ({value!r}), expected an int"
    got = {k: v for k, v in got.items() if v != 0}  # a pair counted 0 times is as good as absent
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    wrong = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
    parts = []
    if wrong:
        parts.append("wrong counts: " + ", ".join(f"{k} expected {expected[k]}, got {got[k]}" for k in wrong[:3])
                     + (f" (+{len(wrong) - 3} more)" if len(wrong) > 3 else ""))
    if missing:
        parts.append(f"missing pairs: {_short(missing[:5])}" + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""))
    if extra:
        parts.append(f"pairs that are not adjacent in the input: {_short(extra[:5])}"
                     + (f" (+{len(extra) - 5} more)" if len(extra) > 5 else ""))
    return "; ".join(parts)


def _token_bytes(merges: list[tuple[tuple[int, int], int]]) -> dict[int, bytes]:
    vocab = {i: bytes([i]) for i in range(256)}
    for (a, b), n in merges:
        if a in vocab and b in vocab:
            vocab[n] = vocab[a] + vocab[b]
    return vocab


def _stats(ids: list[int]) -> Counter:
    return Counter(zip(ids, ids[1:]))


def _merge(ids: list[int], pair: tuple[int, int], idx: int) -> list[int]:
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _compare_merges(expected: dict, got: Any, text: str) -> str:
    problem = _type_problem(dict, got, "a dict {(left, right): new_id}")
    if problem:
        return problem
    for key, value in got.items():
        if not _pair_ok(key):
            return f"key {key!r} is {_kind(key)}: keys must be pairs (left, right) of ints, as tuples"
        if not _is_int(value):
            return f"the new id of {key} is {_kind(value)} ({value!r}), expected an int"
    exp = sorted(expected.items(), key=lambda m: m[1])
    mine = sorted(got.items(), key=lambda m: m[1])
    vocab = _token_bytes(exp)
    n = min(len(exp), len(mine))
    k = next((i for i in range(n) if exp[i] != mine[i]), n)
    if k == n:
        if len(exp) == len(mine):
            return ""
        if len(mine) > len(exp):
            return (f"expected {len(exp)} merges, got {len(mine)}: the first {n} agree; after them the text has "
                    f"no adjacent pair left to merge (stop there), or you made more merges than asked for")
        return f"expected {len(exp)} merges, got {len(mine)}: the first {n} agree, then {exp[n][0]} -> {exp[n][1]} is missing"
    (ea, eb), en = exp[k]
    (ga, gb), gn = mine[k]
    head = f"merge #{k}: expected ({ea}, {eb}) -> {en} ({vocab[ea]!r} + {vocab[eb]!r}), got ({ga}, {gb}) -> {gn}"
    if (ea, eb) == (ga, gb):
        return head + ": the pair is right but its new id is not (new ids are 256, 257, ... in merge order)"
    ids = list(text.encode("utf-8"))  # the text just before merge k, by the reference's merges
    for (a, b), new in exp[:k]:
        ids = _merge(ids, (a, b), new)
    stats = _stats(ids)
    ce, cg = stats[(ea, eb)], stats.get((ga, gb), 0)
    if ce == cg:
        return head + (f": both pairs occur {ce} times at that step; among equally frequent pairs "
                       f"take the smallest (left, right)")
    return head + f": at that step ({ea}, {eb}) occurs {ce} times and ({ga}, {gb}) {cg} times"


def _compare_str(expected: str, got: Any) -> str:
    problem = _type_problem(str, got, "a str")
    if problem:
        return problem
    if expected == got:
        return ""
    n = min(len(expected), len(got))
    i = next((k for k in range(n) if expected[k] != got[k]), n)
    if i == n:
        return f"expected {len(expected)} characters, got {len(got)}: the first {n} agree"
    return (f"first difference at character {i}: expected {expected[i]!r}, got {got[i]!r} "
            f"(expected {_short(expected[max(0, i - 5):i + 5])}, got {_short(got[max(0, i - 5):i + 5])})")


def _describe_exception(e: BaseException, fn: Callable) -> str:
    frames = traceback.extract_tb(e.__traceback__)[1:]  # [0] is the checker's own call
    code = getattr(fn, "__code__", None)
    mine = [f for f in frames if code is not None and f.filename == code.co_filename]
    where = (mine or frames or [None])[-1]
    at = f" (in {where.name}, line {where.lineno}: {where.line})" if where is not None and where.line else ""
    exc_type = type(e).__name__ if type(e).__module__ == "builtins" else f"{type(e).__module__}.{type(e).__qualname__}"
    return f"raised {exc_type}: {e}{at}"


# ---- running the cases -------------------------------------------------------------------


def failure_lines(name: str, n_cases: int, failures: list[CaseReport]) -> list[str]:
    """The report of a failed check: the first failing case in full, then the others' labels."""
    f = failures[0]
    lines = [f"{name}: wrong on {len(failures)} of {n_cases} cases. The first one ({f.label}):",
             f"  call:     {f.call}",
             f"  expected: {_short(f.expected)}",
             f"  got:      {'(an exception)' if f.got is None and f.difference.startswith('raised') else _short(f.got)}",
             f"  what differs: {f.difference}"]
    if len(failures) > 1:
        more = ", ".join(repr(x.label) for x in failures[1:1 + SHOW_FAILURES])
        rest = len(failures) - 1 - SHOW_FAILURES
        lines.append(f"  also wrong: {more}" + (f" (+{rest} more)" if rest > 0 else ""))
    return lines


def _run(name: str, params: Sequence[str], fn: Callable, cases: list[_Case], compare: Callable[[_Case, Any], str],
         show: bool, hint: Callable[[list[_Case], list[_Case]], str] | None = None) -> ExerciseResult:
    if not callable(fn):
        msg = f"{name}: check_{name} needs your function itself, e.g. check_{name}({name}); got {_kind(fn)}"
        result = ExerciseResult(name, False, 0, msg)
        if show:
            print(msg)
        return result
    failures: list[CaseReport] = []
    failed: list[_Case] = []
    for case in cases:
        args = copy.deepcopy(case.args)
        call = f"{name}(" + ", ".join(f"{p}={_short(a)}" for p, a in zip(params, case.args)) + ")"
        try:
            got = fn(*args)
        except Exception as e:  # the learner's bug, reported as a difference
            failures.append(CaseReport(case.label, call, case.expected, None, _describe_exception(e, fn)))
            failed.append(case)
            continue
        diff = compare(case, got)
        changed = [f"{p} from {_short(a)} to {_short(b)}" for p, a, b in zip(params, case.args, args) if a != b]
        if changed:
            note = "your function changed its argument " + "; ".join(changed) + ": build a new object instead"
            diff = f"{diff}; also {note}" if diff else note
        if diff:
            failures.append(CaseReport(case.label, call, case.expected, got, diff))
            failed.append(case)
    if not failures:
        msg = f"correct: {name} passed all {len(cases)} cases"
    else:
        lines = failure_lines(name, len(cases), failures)
        extra = hint(cases, failed) if hint else ""
        if extra:
            lines.append(f"  hint: {extra}")
        msg = "\n".join(lines)
    if show:
        print(msg)
    return ExerciseResult(name, not failures, len(cases), msg, failures)


def _non_ascii_hint(cases: list[_Case], failed: list[_Case]) -> str:
    """When only non-ASCII texts fail, the bytes were probably never taken."""
    def ascii_text(c: _Case) -> bool:
        return c.args[0].isascii()

    if failed and not any(ascii_text(c) for c in failed) and any(ascii_text(c) for c in cases):
        return ("every ASCII text passes and only non-ASCII ones fail: start from the UTF-8 bytes, "
                "list(text.encode('utf-8')), not the characters (ord(c) is a code point, not a byte)")
    return ""


def _rng(name: str, seed: int) -> random.Random:
    return random.Random(f"{name}:{seed}")


def _random_text(rng: random.Random, alphabet: str, lo: int, hi: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def _random_piece(rng: random.Random, corpus: str, longest: int) -> str:
    """Random slices of ``corpus`` glued together: text the merges were learned on, so they apply."""
    parts = []
    for _ in range(rng.randint(1, 3)):
        start = rng.randrange(len(corpus))
        parts.append(corpus[start:start + rng.randint(1, longest // 2)])
    return "".join(parts)


_WORDS = "ab c"  # few symbols: many repeated pairs, and ties
_MIXED = "aab bc  hé世!1\n"  # ASCII, 2-, 3-byte characters, digits, newline


# ---- the checkers ------------------------------------------------------------------------


def check_get_stats(fn: Callable, *, seed: int = 0, show: bool = True) -> ExerciseResult:
    """``get_stats(ids) -> {(a, b): count}``: how often each adjacent pair occurs."""
    hand = [("empty list", []), ("one id", [7]), ("one pair", [1, 2]), ("a pair seen twice", [1, 2, 3, 1, 2]),
            ("overlapping pairs 5 5 5", [5, 5, 5]), ("the last pair counts", [1, 2, 3]),
            ("bytes of 'aaabdaaabac'", list(b"aaabdaaabac")), ("bytes of 'héllo'", list("héllo".encode()))]
    rng = _rng("get_stats", seed)
    rand = [(f"random #{k}", [rng.randrange(4) for _ in range(rng.randint(0, 30))]) for k in range(RANDOM_CASES)]
    cases = [_Case(label, (ids,), dict(_stats(ids))) for label, ids in hand + rand]
    return _run("get_stats", ["ids"], fn, cases, lambda c, got: _compare_counts(c.expected, got), show)


def check_merge(fn: Callable, *, seed: int = 0, show: bool = True) -> ExerciseResult:
    """``merge(ids, pair, idx) -> list[int]``: every ``pair``, left to right, becomes ``idx``."""
    hand = [("one occurrence", [1, 2, 3], (1, 2), 4), ("two occurrences", [1, 2, 3, 1, 2], (1, 2), 4),
            ("pair at the end", [3, 1, 2], (1, 2), 4), ("no occurrence", [2, 1, 3], (1, 2), 4),
            ("empty list", [], (1, 2), 4), ("one id", [1], (1, 2), 4),
            ("overlapping pairs 5 5 5", [5, 5, 5], (5, 5), 9), ("overlapping pairs 5 5 5 5", [5, 5, 5, 5], (5, 5), 9),
            ("'aaabdaaabac', a + a", list(b"aaabdaaabac"), (97, 97), 256)]
    rng = _rng("merge", seed)
    rand = []
    for k in range(RANDOM_CASES):
        ids = [rng.randrange(3) for _ in range(rng.randint(0, 25))]
        rand.append((f"random #{k}", ids, (rng.randrange(3), rng.randrange(3)), 256 + k))
    cases = [_Case(label, (ids, pair, idx), _merge(ids, pair, idx)) for label, ids, pair, idx in hand + rand]
    return _run("merge", ["ids", "pair", "idx"], fn, cases,
                lambda c, got: _compare_list(c.expected, got, int, "id"), show)


def reference_train(text: str, num_merges: int) -> dict[tuple[int, int], int]:
    """The library's merges for ``text`` without a regex split: ``{(left, right): new_id}``."""
    report = train_bpe(text, 256 + num_merges, pattern=None)
    return {m.pair: m.new_id for m in report.merges}


def check_train(fn: Callable, *, seed: int = 0, show: bool = True) -> ExerciseResult:
    """``train(text, num_merges) -> {(left, right): new_id}``, ids 256, 257, ...; ties to the
    smallest pair; stops early when no pair is left."""
    hand = [("'aaabdaaabac', 1 merge", "aaabdaaabac", 1), ("'aaabdaaabac', 3 merges (a tie)", "aaabdaaabac", 3),
            ("a tie between two pairs", "abcd", 1), ("'ab ab ab', 2 merges", "ab ab ab", 2),
            ("overlapping 'aaaa'", "aaaa", 2), ("more merges than pairs", "ab", 5),
            ("one character", "x", 3), ("non-ASCII 'héllo héllo'", "héllo héllo", 4),
            ("multilingual", "hello 世界 hello 世界 👋", 8)]
    rng = _rng("train", seed)
    rand = [(f"random #{k}", _random_text(rng, _WORDS if k % 2 else _MIXED, 1, 60), rng.randint(1, 12))
            for k in range(RANDOM_CASES)]
    cases = [_Case(label, (text, n), reference_train(text, n)) for label, text, n in hand + rand]
    return _run("train", ["text", "num_merges"], fn, cases,
                lambda c, got: _compare_merges(c.expected, got, c.args[0]), show, _non_ascii_hint)


def _bpe(merges: dict[tuple[int, int], int]) -> ByteBPE:
    """A ByteBPE with these merges and no regex split (the exercises' tokenizer)."""
    pairs = [p for p, _ in sorted(merges.items(), key=lambda m: m[1])]
    return ByteBPE(pairs, BPEConfig(name="text/bpe-exercise", pattern=None))


_ENCODE_CORPUS = ("the cat sat on the mat; the hat is the cat's. "
                  "héllo wörld, héllo café! 世界世界 aaabdaaabac 12 123 1234 ")


def check_encode(fn: Callable, *, seed: int = 0, show: bool = True) -> ExerciseResult:
    """``encode(text, merges) -> list[int]``: UTF-8 bytes, then the pair with the lowest new id
    merged first, until no adjacent pair has a merge."""
    merges = reference_train(_ENCODE_CORPUS, 40)
    small = reference_train("aaabdaaabac", 3)
    tok, tok_small = _bpe(merges), _bpe(small)
    hand = [("empty text", "", small), ("one character", "a", small), ("'aaabdaaabac'", "aaabdaaabac", small),
            ("no merge applies", "xyz", small), ("overlapping 'aaaaa'", "aaaaa", small),
            ("'the cat sat'", "the cat sat", merges), ("a pair that is merged late", "the hat", merges),
            ("the lowest id first, not the leftmost pair", "cat s", merges),
            ("non-ASCII 'héllo café'", "héllo café", merges), ("3-byte characters '世界'", "世界", merges),
            ("4-byte emoji", "👋 the cat", merges), ("no merges at all", "abc", {})]
    rng = _rng("encode", seed)
    rand = [(f"random #{k}", _random_piece(rng, _ENCODE_CORPUS, 40), merges) for k in range(RANDOM_CASES)]
    cases = []
    for label, text, m in hand + rand:
        t = tok if m is merges else tok_small if m is small else _bpe(m)
        cases.append(_Case(label, (text, m), t.encode(text).ids.tolist()))
    return _run("encode", ["text", "merges"], fn, cases,
                lambda c, got: _compare_list(c.expected, got, int, "id"), show, _non_ascii_hint)


def check_decode(fn: Callable, *, seed: int = 0, show: bool = True) -> ExerciseResult:
    """``decode(ids, merges) -> str``: the tokens' bytes joined, then read as UTF-8 with
    ``errors="replace"`` (a byte sequence that is not UTF-8 becomes U+FFFD)."""
    merges = reference_train(_ENCODE_CORPUS, 40)
    tok = _bpe(merges)
    e_acute = list("é".encode())  # [195, 169]: one character in two tokens
    hand = [("no ids", [], merges), ("bytes only", list(b"hi"), merges),
            ("merged tokens", tok.encode("the cat sat").ids.tolist(), merges),
            ("one character split over two tokens", e_acute, merges),
            ("a 4-byte emoji as 4 tokens", list("👋".encode()), merges),
            ("a byte that is not UTF-8 on its own", [0xE4], merges), ("a stray continuation byte", [128, 104], merges),
            ("merges in any order of the dict", tok.encode("the cat").ids.tolist(), dict(reversed(list(merges.items()))))]
    rng = _rng("decode", seed)
    rand = []
    for k in range(RANDOM_CASES):
        ids = tok.encode(_random_piece(rng, _ENCODE_CORPUS, 30)).ids.tolist()
        if k % 4 == 3 and ids:  # cut a character now and then
            ids = ids[:-1] + list(tok.token_bytes(ids[-1])[:1])
        rand.append((f"random #{k}", ids, merges))
    cases = [_Case(label, (ids, m), tok.decode(ids)) for label, ids, m in hand + rand]
    return _run("decode", ["ids", "merges"], fn, cases, lambda c, got: _compare_str(c.expected, got), show)


def check_split(fn: Callable, *, seed: int = 0, show: bool = True) -> ExerciseResult:
    """``split(text) -> list[str]``: GPT-4's (cl100k_base) pretokenization chunks."""
    splitter = ByteBPE(config=BPEConfig(name="text/gpt4-split", pattern=GPT4_PATTERN))
    hand = [("empty text", ""), ("two words", "Hello world"), ("contractions", "I'm sure you'll see"),
            ("upper-case contractions", "I'M SURE YOU'LL SEE"), ("numbers in threes", "12345678 and 1,000"),
            ("runs of spaces", "a  b   c"), ("trailing spaces", "end   "), ("newlines", "line\n\nnext\r\nlast\n"),
            ("tabs", "\tindented\t\tcode"), ("punctuation", "x = f(1) + 2;!!!"), ("accents", "héllo wörld, ça va?"),
            ("Chinese", "世界你好"), ("emoji", "👋🏽 hi 👨‍👩‍👧"), ("code", "def f(x):\n    return x ** 2\n")]
    rng = _rng("split", seed)
    alphabet = "aZé世 1 2\n'.!ll ve s"
    rand = [(f"random #{k}", _random_text(rng, alphabet, 1, 30)) for k in range(RANDOM_CASES)]
    cases = [_Case(label, (text,), splitter.pretokenize(text)) for label, text in hand + rand]

    def compare(case: _Case, got: Any) -> str:
        diff = _compare_list(case.expected, got, str, "chunk")
        if diff and isinstance(got, list) and all(isinstance(x, str) for x in got) and "".join(got) != case.args[0]:
            diff += "; your chunks do not add up to the text (every character must be in exactly one chunk)"
        return diff

    return _run("split", ["text"], fn, cases, compare, show)


CHECKERS: dict[str, Callable[..., ExerciseResult]] = {
    "get_stats": check_get_stats, "merge": check_merge, "train": check_train,
    "encode": check_encode, "decode": check_decode, "split": check_split,
}
