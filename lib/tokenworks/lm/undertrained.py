"""Under-trained tokens: in the vocabulary, but (almost) never seen in training.

Following Land & Bartolo 2024, "Fishing for Magikarp: Automatically Detecting Under-trained
Tokens in Large Language Models" (EMNLP 2024, arXiv:2405.05417):

    rep = analyze(lm)                     # UndertrainedReport, cached per process
    rep.scan.indicator                    # (V,) cosine to the mean "unused" row, first PC removed
    rep.table(20)                         # the top ranked ordinary tokens, verified yes/no
    hits = find_in_corpus(lm, rep, text)  # where flagged tokens occur in a text

1. **Indicator.** Rows of the unembedding matrix U (V, D) (SmolLM2 ties it to the input
   embedding). The paper removes U's first principal component, a direction nearly every row
   shares (here it is 0.91 aligned with the mean row), then scores each row by its cosine
   similarity to the mean of the rows of tokens known to be unused. The raw row norm is kept as
   a second indicator; in SmolLM2 it does not single them out (the verified tokens' norms sit
   at the 60th to 95th percentile; the smallest norms are frequent names such as " John").
2. **Reference set** (the "known unused" tokens), derived, not hand-listed: ordinary tokens no
   text can produce (see 4) and control tokens that neither the document-start token nor the
   chat template uses. A prior member whose row is far from the others (cosine < ``DROP_BELOW``
   to their mean) is left out as evidently trained, and named in ``ReferenceSet.dropped``.
   SmolLM2: no ordinary token is unreachable, so the set is 13 of its 14 repository and Jupyter
   markers (``<filename>``'s row is far from the others); 11 of them have rows that agree to
   within 0.01 in every coordinate (entries reach 1.06).
3. **Verification** by prompting (``undertrained_verify``): the top ``n_verify`` ordinary tokens
   by indicator and a few frequent English tokens as controls.
4. **Reachability** relates this to the workbench's "unreachable tokens" metric
   (``tokenworks.metrics.text.unreachable_tokens``: ids with ``encode(decode([i])) != [i]``; the
   same notion as ``text._merges.MergeList.unreachable`` for tiktoken vocabularies, tokens no
   merge produces). That metric cannot probe tokens holding part of a UTF-8 character (HF
   tokenizers read str); those are probed here on their bytes: they must be able to occur inside
   valid UTF-8, and BPE's merges on their bytes alone must give the token back.
"""
from __future__ import annotations

import functools
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInput
from .undertrained_verify import THRESHOLD, Verification, template_special_ids, verify

N_VERIFY = 50  # candidates verified by prompting
N_VERIFY_FAST = 12  # with TOKENWORKS_FAST=1
DROP_BELOW = 0.5  # a prior reference row with a lower cosine to the set's mean is left out
CONTROL_WORDS = (" the", " and", " of", " to", " in", " is", " that", " for", " with", " was", " people",
                 " because", " water", " time", " school", " government", ".", ",")
MAX_CORPUS_CHARS = 5_000_000  # find_in_corpus refuses longer text
MAX_HITS = 500  # occurrences listed (all are counted)


def default_n_verify() -> int:
    return N_VERIFY_FAST if os.environ.get("TOKENWORKS_FAST", "0") == "1" else N_VERIFY


@dataclass
class Reachability:
    """Which tokens some text encodes to (V tokens)."""

    reachable: np.ndarray  # (V,) bool; control tokens: False (no ordinary text gives them)
    partial_utf8: np.ndarray  # (V,) bool: the token's bytes are part of a UTF-8 character
    workbench_probed: int  # tokens the workbench metric probed
    workbench_unreachable: int  # ... of which unreachable
    partial_probed: int  # partial-UTF-8 tokens probed here (the metric skips them)
    partial_unreachable: int


@dataclass(frozen=True)
class ReferenceSet:
    """The rows whose mean is the "unused" direction."""

    ids: np.ndarray  # (R,) token ids
    prior: tuple[int, ...]  # unreachable ordinary tokens + control tokens nothing uses
    dropped: tuple[int, ...]  # prior members left out: cosine < DROP_BELOW to the prior mean
    rule: str  # the above in words


@dataclass
class VocabScan:
    """Indicators over the whole vocabulary (V tokens, D dimensions)."""

    model: str
    indicator: np.ndarray  # (V,) cosine of each row (first PC removed) to the reference mean
    norm: np.ndarray  # (V,) raw row norm of the unembedding
    rank: np.ndarray  # (V,) 0 = most like the reference (indicator, descending)
    order: np.ndarray  # (V,) token ids by rank
    special: np.ndarray  # (V,) bool: control tokens
    reach: Reachability
    reference: ReferenceSet
    pc_mean_cos: float  # |cosine| of the removed first PC with the mean row
    seconds: float


@dataclass(frozen=True)
class TokenRow:
    """One row of the ranked table."""

    id: int
    label: str  # printable (␣ for a space, <0xNN> for a stray byte)
    data: bytes
    indicator: float
    norm: float
    rank: int
    reachable: bool
    role: str  # "candidate" | "control" | "reference" | "token"
    verified: bool | None  # None: not asked
    max_prob: float | None


@dataclass(frozen=True)
class ReachRelation:
    """Flagged tokens against the workbench's unreachable-token metric."""

    verified: int  # candidates verified under-trained
    verified_reachable: int  # ... that some text produces (a user can type them)
    verified_unreachable: int
    vocab_unreachable: int  # ordinary tokens no text produces (the metric + the partial-UTF-8 probe)
    workbench_unreachable: int
    workbench_probed: int


@dataclass
class UndertrainedReport:
    scan: VocabScan
    candidates: Verification  # the top n_verify ordinary tokens
    controls: Verification  # frequent English tokens: should not be flagged
    labels: list[str]  # (V,) printable token labels
    token_bytes: list[bytes]  # (V,)
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> np.ndarray:
        """Verified under-trained candidate ids, by rank."""
        return self.candidates.ids[self.candidates.verified]

    def row(self, i: int) -> TokenRow:
        s = self.scan
        role, found = "token", None
        if i in s.reference.ids:
            role = "reference"
        for name, v in (("candidate", self.candidates), ("control", self.controls)):
            got = v.of(i)
            if got is not None:
                role, found = name, got
        return TokenRow(id=int(i), label=self.labels[i], data=self.token_bytes[i], indicator=float(s.indicator[i]),
                        norm=float(s.norm[i]), rank=int(s.rank[i]), reachable=bool(s.reach.reachable[i]), role=role,
                        verified=None if found is None else found[0], max_prob=None if found is None else found[1])

    def table(self, n: int | None = None) -> list[TokenRow]:
        """The verified candidates' rows, by rank (``n``: the first n)."""
        return [self.row(int(i)) for i in self.candidates.ids[:n]]

    def reference_rows(self) -> list[TokenRow]:
        return [self.row(int(i)) for i in self.scan.reference.ids]

    def control_rows(self) -> list[TokenRow]:
        return [self.row(int(i)) for i in self.controls.ids]

    def relation(self) -> ReachRelation:
        r = self.scan.reach
        flagged = self.flagged
        reach = int(r.reachable[flagged].sum())
        return ReachRelation(verified=len(flagged), verified_reachable=reach, verified_unreachable=len(flagged) - reach,
                             vocab_unreachable=r.workbench_unreachable + r.partial_unreachable,
                             workbench_unreachable=r.workbench_unreachable, workbench_probed=r.workbench_probed)


# ---- reachability ----------------------------------------------------------------------------

_CONT = bytes(range(0x80, 0xC0))
_MIDS = (0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF)  # continuation bytes at the edges of every allowed range


def _heads(k: int) -> list[bytes]:
    """Starts of UTF-8 characters that still need exactly ``k`` continuation bytes."""
    if k == 0:
        return [b""]
    out = []
    for lead in range(0xC2, 0xF5):
        need = 1 if lead < 0xE0 else 2 if lead < 0xF0 else 3
        if need >= k:
            out += [bytes([lead]) + bytes([mid]) * (need - k) for mid in _MIDS]
    return out


def _tails(s: bytes) -> list[bytes]:
    """Ends of the character ``s`` leaves open (none: [b""])."""
    lead = max((j for j, x in enumerate(s) if x >= 0xC0), default=None)
    if lead is None:
        return [b""]
    size = 2 if s[lead] < 0xE0 else 3 if s[lead] < 0xF0 else 4
    need = size - (len(s) - lead)
    return [bytes([mid]) * need for mid in _MIDS] if need > 0 else [b""]


def _can_occur(b: bytes) -> bool:
    """Whether ``b`` occurs inside some valid UTF-8 text (a token cut out of longer characters)."""
    for head in _heads(len(b) - len(b.lstrip(_CONT))):  # leading continuation bytes need a character start
        for tail in _tails(head + b):
            try:
                (head + b + tail).decode("utf-8")
                return True
            except UnicodeDecodeError:
                continue
    return False


@functools.lru_cache(maxsize=1)
def _byte_chars() -> dict[int, str]:
    """GPT-2's byte -> character map (the alphabet HF byte-level BPE merges are written in)."""
    from ..text.hf import byte_alphabet

    return {b: c for c, b in byte_alphabet().items()}


def _merges_give(tok, b: bytes, i: int) -> bool:
    """Whether BPE's merges on ``b`` alone (no pre-tokenizer) make exactly token ``i``."""
    chars = _byte_chars()
    return [t.id for t in tok.hf.model.tokenize("".join(chars[x] for x in b))] == [i]


def reachability(lm) -> Reachability:
    """Which tokens some text produces (see the module docstring, 4.)."""
    from ..metrics.text import unreachable_tokens

    tok, tb, special = lm.tokenizer, lm.vocab.token_bytes, lm.vocab.special
    scan = unreachable_tokens(tok, max_scan=None)
    partial = np.zeros(len(tb), dtype=bool)  # (V,)
    for i, b in enumerate(tb):
        if b and not special[i]:
            try:
                b.decode("utf-8")
            except UnicodeDecodeError:
                partial[i] = True
    reachable = np.array([bool(b) for b in tb]) & ~special  # (V,)
    reachable[scan.ids] = False
    probed = bad = 0
    if hasattr(tok, "hf"):  # HF byte-level BPE: its merges can be run on bytes
        for i in np.flatnonzero(partial):
            ok = _can_occur(tb[i]) and _merges_give(tok, tb[i], int(i))
            reachable[i] = ok
            probed, bad = probed + 1, bad + (not ok)
    return Reachability(reachable=reachable, partial_utf8=partial, workbench_probed=scan.probed,
                        workbench_unreachable=scan.count, partial_probed=probed, partial_unreachable=bad)


# ---- indicators ------------------------------------------------------------------------------

def _cosine(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    return M @ v / np.maximum(np.linalg.norm(M, axis=1) * np.linalg.norm(v), 1e-12)  # (V,)


def _reference(lm, U: np.ndarray, reach: Reachability) -> ReferenceSet:
    special = lm.vocab.special
    used = {int(lm.bos_id)} | template_special_ids(lm)
    has_bytes = np.array([bool(b) for b in lm.vocab.token_bytes])
    prior = sorted({int(i) for i in np.flatnonzero(special) if int(i) not in used}
                   | {int(i) for i in np.flatnonzero(~reach.reachable & ~special & has_bytes)})
    if not prior:
        raise InvalidInput(f"{lm.name}: no token is known to be unused (every ordinary token is reachable and "
                           "every control token is used), so there is no reference set")
    cos = _cosine(U[prior], U[prior].mean(axis=0))  # (R,)
    keep = [i for i, c in zip(prior, cos) if c >= DROP_BELOW]
    dropped = tuple(i for i, c in zip(prior, cos) if c < DROP_BELOW)
    rule = (f"control tokens used neither as the document start nor by the chat template, and ordinary tokens no "
            f"text produces ({len(prior)}); left out: rows with cosine < {DROP_BELOW} to their mean ({len(dropped)})")
    return ReferenceSet(np.asarray(keep or prior, dtype=np.int64), tuple(prior), dropped, rule)


def score_vocabulary(lm) -> VocabScan:
    """The indicators over the whole vocabulary, its reference set and reachability."""
    t0 = time.perf_counter()
    with lm.net.lock:
        W = lm.net.module.get_output_embeddings().weight.detach().float().cpu().numpy()  # (V', D)
    V = len(lm.vocab.token_bytes)
    centred = W[:V] - W[:V].mean(axis=0)  # (V, D) float32: enough for the direction of the first PC
    _, vecs = np.linalg.eigh((centred.T @ centred).astype(np.float64))  # (D, D) columns by ascending eigenvalue
    W = W[:V].astype(np.float64)  # (V, D)
    pc = vecs[:, -1]  # (D,) first principal component
    U = W - np.outer(W @ pc, pc)  # (V, D) the first component removed
    reach = reachability(lm)
    ref = _reference(lm, U, reach)
    ind = _cosine(U, U[ref.ids].mean(axis=0))  # (V,)
    order = np.argsort(-ind, kind="stable")  # (V,)
    rank = np.empty(V, dtype=np.int64)
    rank[order] = np.arange(V)
    mean_cos = abs(float(_cosine(pc[None], W.mean(axis=0))[0]))
    return VocabScan(model=lm.name, indicator=ind, norm=np.linalg.norm(W, axis=1), rank=rank, order=order,
                     special=lm.vocab.special.copy(), reach=reach, reference=ref, pc_mean_cos=mean_cos,
                     seconds=time.perf_counter() - t0)


def control_ids(lm, n: int | None = None) -> list[int]:
    """Frequent English tokens (CONTROL_WORDS that are one token each)."""
    ids = [t[0] for t in (lm.vocab.encode(w) for w in CONTROL_WORDS) if len(t) == 1]
    return ids[:n]


_CACHE: dict[tuple, UndertrainedReport] = {}
_CACHE_LOCK = threading.Lock()


def analyze(lm, n_verify: int | None = None, threshold: float = THRESHOLD) -> UndertrainedReport:
    """Indicators, reference set, verification of the top ``n_verify`` (default ``N_VERIFY``;
    ``N_VERIFY_FAST`` with TOKENWORKS_FAST=1) and of the controls. Cached per process."""
    n = default_n_verify() if n_verify is None else n_verify
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= 1000:
        raise InvalidInput(f"n_verify must be a whole number in 1..1000 (got {n!r})")
    key = (id(lm), int(n), float(threshold))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        t0 = time.perf_counter()
        scan = score_vocabulary(lm)
        ref = set(scan.reference.ids.tolist())
        pick = [int(i) for i in scan.order if not scan.special[i] and int(i) not in ref][:n]
        cand = verify(lm, pick, threshold)
        ctrl = verify(lm, control_ids(lm), threshold)
        labels = [lm.tokenizer.render_token(i) for i in range(len(lm.vocab.token_bytes))]
        rep = UndertrainedReport(scan=scan, candidates=cand, controls=ctrl, labels=labels,
                                 token_bytes=list(lm.vocab.token_bytes), seconds=time.perf_counter() - t0)
        _CACHE[key] = rep
        return rep


# ---- a corpus ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Occurrence:
    token_id: int
    label: str
    why: str  # "verified under-trained" | "reference (unused control token)" | ...
    start: int  # character offsets of the token in the text
    end: int
    left: str  # up to ``context`` characters before
    right: str  # ... and after


@dataclass
class CorpusHits:
    occurrences: list[Occurrence]  # the first MAX_HITS, in text order
    counts: dict[int, int]  # token id -> occurrences (all of them)
    n_tokens: int  # tokens in the text
    n_chars: int
    looked_for: int  # flagged ids searched for
    notes: list[str] = field(default_factory=list)


def find_in_corpus(lm, report: UndertrainedReport, text: str, context: int = 40) -> CorpusHits:
    """Where the verified under-trained tokens and the reference tokens occur in ``text``, as
    ``lm.tokenizer`` tokenizes it (special-token strings such as ``<jupyter_text>`` count)."""
    if not isinstance(text, str):
        raise InvalidInput(f"the corpus is text (str), not {type(text).__name__}")
    if not text.strip():
        raise InvalidInput("the corpus is empty: paste some text or upload a .txt file")
    if len(text) > MAX_CORPUS_CHARS:
        raise InvalidInput(f"the corpus has {len(text):,} characters; at most {MAX_CORPUS_CHARS:,} are searched")
    why = {int(i): "reference (unused control token)" for i in report.scan.reference.ids}
    why.update({int(i): "verified under-trained" for i in report.flagged})
    seq = lm.tokenizer.encode(text)
    ids = seq.ids  # (T,)
    where = np.flatnonzero(np.isin(ids, np.fromiter(why, dtype=np.int64)))
    counts: dict[int, int] = {}
    for t in ids[where].tolist():
        counts[t] = counts.get(t, 0) + 1
    occ = []
    for k in where[:MAX_HITS].tolist():
        sp, t = seq.spans[k], int(ids[k])
        occ.append(Occurrence(t, report.labels[t], why[t], sp.start, sp.end,
                              text[max(0, sp.start - context):sp.start], text[sp.end:sp.end + context]))
    notes = [f"listed the first {MAX_HITS} of {len(where):,} occurrences"] if len(where) > MAX_HITS else []
    return CorpusHits(occ, counts, len(ids), len(text), len(why), notes)
