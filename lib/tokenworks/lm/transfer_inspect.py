"""What the Transfer tab shows of a transplant (``tokenworks.lm.transplant``), as typed results.

    rep = preflight_report(lm, "text/cl100k_base", "fvt")      # no weights built, none written
    t = cached_transplant(lm, "text/cl100k_base", "fvt")       # the last two kept in the process
    s = score_domains(lm, t, ("english", "python"), chars=1200)  # bits per byte, original vs transplanted
    b = token_breakdown(lm, t, " lighthouse")                  # what one new token was built from
    path = save_transplant(t, "smollm2-cl100k-fvt")            # runs/lm/<name>, tw.load_lm("lm/<name>")

The pre-flight report plans the transplant (shared tokens, the base pieces of new ones, specials)
and measures it on held-out prose; it builds no matrix. A token's breakdown gives its base pieces
(what fvt averages), the shared tokens nearest to its new vector in the base model's space (cosine,
computed here), and for omp and tokenadapt the shared tokens and weights they combined, recomputed
in the same shared space (``donor_space``) and checked against the transplanted row.
"""
from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidInput, TokenworksError
from . import new_embeddings
from .domains import DOMAINS, domain
from .transplant import Preflight, Transplanted, planned, save, transplant
from .vocab import vocab_for

TARGETS = ("text/cl100k_base", "text/o200k_base", "text/r50k_base", "text/llama3", "text/qwen3")
LOSSY_EXAMPLES = ("text/bert-base-uncased",)  # listed so that a lossy pick is refused with its reason
SLOW_METHODS = ("omp", "tokenadapt")
METHOD_COST = {"zero": "~5 s", "mean": "~5 s", "random": "~5 s", "fvt": "~10 s",
               "omp": "1-4 min (embeds every token in MiniLM's space)", "tokenadapt": "1-4 min (as omp)"}
MAX_DOMAIN_CHARS = 4000  # characters scored per domain, at most
DEFAULT_CHARS = 1200
FAST_CHARS = 300  # TOKENWORKS_FAST
CACHE_SIZE = 2  # transplants kept in the process (about 100 MB each)
NEIGHBOURS = 8
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class ReportRow:
    item: str
    value: str
    note: str = ""


@dataclass
class PreflightReport:
    tokenizer: str
    method: str
    preflight: Preflight
    rows: list[ReportRow]  # the table the tab shows
    seconds: float


@dataclass
class DomainRow:
    key: str
    label: str
    chars: int
    n_bytes: int
    tokens_base: int
    tokens_new: int
    bpb_base: float  # the original model on its own tokenizer
    bpb_new: float  # the transplanted model
    ratio: float  # bpb_new / bpb_base


@dataclass
class TransferScores:
    tokenizer: str
    method: str
    rows: list[DomainRow]
    transplant_seconds: float
    score_seconds: float


@dataclass
class Part:
    id: int  # a base-model token id
    label: str
    weight: float | None = None  # its coefficient (omp) or softmax weight (tokenadapt); None for plain pieces


@dataclass
class TokenBreakdown:
    token_id: int  # in the new vocabulary
    label: str
    n_bytes: int
    status: str  # "shared" (keeps a base vector), "new" (the method built it) or "special"
    method: str
    base_id: int | None  # the base token with the same bytes (shared tokens)
    pieces: list[Part]  # the base tokenizer's cut of its bytes (what fvt averages)
    combined: list[Part] | None  # omp atoms or tokenadapt's global neighbours with weights; None otherwise
    combined_note: str  # how ``combined`` was obtained, and how well it rebuilds the row
    neighbours: list[tuple[Part, float]]  # nearest base tokens to the new vector, with cosine
    notes: list[str] = field(default_factory=list)


@dataclass
class TargetChoice:
    name: str
    kind: str  # "registry", "trained run" or "lossy example"


# ---- choices -------------------------------------------------------------------------------------

def targets() -> list[TargetChoice]:
    """The tokenizers the tab offers: registry byte-level BPEs, trained text runs, a lossy example."""
    from ..registry import trained_runs

    runs = [TargetChoice(r, "trained run") for r in trained_runs("text")]
    return ([TargetChoice(n, "registry") for n in TARGETS] + runs
            + [TargetChoice(n, "lossy example") for n in LOSSY_EXAMPLES])


def _check_method(method: str) -> None:
    if method not in new_embeddings.METHODS:
        raise InvalidInput(f"method must be one of {', '.join(new_embeddings.METHODS)} (got {method!r})")


def _load_target(tokenizer: str):
    from ..registry import load_ref

    if not isinstance(tokenizer, str) or not tokenizer.strip():
        raise InvalidInput("choose a target tokenizer, e.g. text/cl100k_base")
    tok = load_ref(tokenizer.strip())
    return tok, vocab_for(tok)  # refuses a lossy vocabulary with the reason


# ---- the pre-flight report -----------------------------------------------------------------------

def _cuts(cut: list[str]) -> str:
    return " | ".join(cut)


def preflight_rows(p: Preflight) -> list[ReportRow]:
    rows = [
        ReportRow("vocabulary", f"{p.base_vocab:,} → {p.new_vocab:,}", f"{p.base_tokenizer} → {p.new_tokenizer}"),
        ReportRow("shared tokens (keep their vectors)", f"{p.shared:,}", "same bytes in both vocabularies"),
        ReportRow("new tokens (the method builds them)", f"{p.new:,}", f"{p.new_share:.1%} of the non-special tokens"),
        ReportRow("held-out bytes in new tokens", f"{p.heldout_new_share:.1%}",
                  f"of {p.heldout_bytes:,} bytes of held-out prose"),
        ReportRow("tokens on held-out prose", f"{p.heldout_tokens_base:,} → {p.heldout_tokens_new:,}",
                  f"{p.heldout_tokens_new / max(1, p.heldout_tokens_base):.2f}x"),
        ReportRow("ids out of range", f"{p.out_of_range}", "base ids beyond the embedding matrix (must be 0)"),
        ReportRow("bytes no base token holds", f"{p.unrepresented_bytes:,}", "left out of new tokens' pieces"),
    ]
    rows += [ReportRow(f"special {name}", what) for name, what in p.special.items()]
    rows += [ReportRow(f"number {n}", f"{_cuts(a)}  →  {_cuts(b)}", f"{len(a)} → {len(b)} tokens")
             for n, a, b in p.numbers]
    rows += [ReportRow("note", n) for n in p.notes]
    return rows


def preflight_report(lm, tokenizer: str, method: str = "fvt", texts: list[str] | None = None) -> PreflightReport:
    """The pre-flight report of giving ``lm`` the tokenizer ``tokenizer`` with ``method``: the plan
    is made and measured on ``texts`` (default: held-out prose); no matrix is built or written."""
    t0 = time.perf_counter()
    _check_method(method)
    tok, _ = _load_target(tokenizer)
    _, _, p = planned(lm, tok, method, texts)
    return PreflightReport(tok.name, method, p, preflight_rows(p), time.perf_counter() - t0)


# ---- transplants, cached -------------------------------------------------------------------------

_CACHE: OrderedDict[tuple[str, str, str], Transplanted] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def cached_transplant(lm, tokenizer: str, method: str = "fvt") -> Transplanted:
    """``transplant(lm, tokenizer, method)``, kept per (model, tokenizer, method): the last CACHE_SIZE."""
    _check_method(method)
    tok, _ = _load_target(tokenizer)
    key = (lm.name, tok.name, method)
    with _CACHE_LOCK:  # one transplant at a time: each takes ~100 MB and the CPU
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        t = transplant(lm, tok.name, method)
        _CACHE[key] = t
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return t


def cached_keys() -> list[tuple[str, str, str]]:
    with _CACHE_LOCK:
        return list(_CACHE)


# ---- bits per byte per domain --------------------------------------------------------------------

def domain_chars(chars: int | None) -> int:
    import os

    if chars is None:
        return FAST_CHARS if os.environ.get("TOKENWORKS_FAST") == "1" else DEFAULT_CHARS
    if not 100 <= int(chars) <= MAX_DOMAIN_CHARS:
        raise InvalidInput(f"characters per domain must be 100 to {MAX_DOMAIN_CHARS:,} (got {chars})")
    return int(chars)


def score_domains(lm, t: Transplanted, keys=DOMAINS, chars: int | None = None) -> TransferScores:
    """Bits per byte of the original model and of ``t.lm`` on the same held-out text per domain."""
    keys = list(keys)
    if not keys:
        raise InvalidInput(f"choose at least one domain: {', '.join(DOMAINS)}")
    n = domain_chars(chars)
    t0 = time.perf_counter()
    rows = []
    for k in keys:
        d = domain(k, n)
        a, b = lm.score(d.text), t.lm.score(d.text)
        rows.append(DomainRow(k, d.label, len(d.text), a.n_bytes, len(a.logprobs), len(b.logprobs),
                              a.bits_per_byte, b.bits_per_byte, b.bits_per_byte / a.bits_per_byte))
    return TransferScores(t.preflight.new_tokenizer, t.config.method, rows, t.seconds, time.perf_counter() - t0)


# ---- one token -----------------------------------------------------------------------------------

def find_token(t: Transplanted, text: str) -> int:
    """The new vocabulary's id of the token whose bytes are ``text`` (␣ may stand for a space)."""
    if not isinstance(text, str) or not text:
        raise InvalidInput("type a token's text, e.g. ' lighthouse' (␣ stands for a space)")
    data = text.replace("␣", " ").encode("utf-8")
    nv = vocab_for(t.lm.tokenizer)
    for i, b in enumerate(nv.token_bytes):
        if b == data and not nv.special[i]:
            return i
    ids = t.lm.tokenizer.encode(data.decode("utf-8")).ids.tolist()
    cut = " | ".join(t.lm.tokenizer.render_token(int(i)) for i in ids[:12])
    raise InvalidInput(f"{text!r} is not one token of {t.lm.tokenizer.name}: it encodes as {len(ids)} tokens "
                       f"({cut}); pick one of the examples or type one of those")


def example_tokens(t: Transplanted, text: str | None = None, n: int = 12) -> list[str]:
    """The most frequent new tokens (built by the method) in ``text`` (default: held-out prose)."""
    if text is None:
        text = domain("english", 4000).text
    ids = t.lm.tokenizer.encode(text).ids.tolist()
    nv = vocab_for(t.lm.tokenizer)
    new = [i for i in ids if t.plan.shared[i] < 0 and not nv.special[i]]
    order = sorted(set(new), key=lambda i: (-new.count(i), i))
    return [nv.token_bytes[i].decode("utf-8", "replace") for i in order[:n]]


def _base_matrix(lm) -> np.ndarray:
    with lm.net.lock:
        return lm.net.module.get_input_embeddings().weight.detach().float().cpu().numpy()  # (V, D)


def _nearest(lm, E: np.ndarray, v: np.ndarray, k: int) -> list[tuple[Part, float]]:
    special = lm.vocab.special  # (V,) bool
    En = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)  # (V, D)
    cos = En @ (v / max(float(np.linalg.norm(v)), 1e-12))  # (V,)
    cos[special] = -np.inf
    top = np.argsort(-cos)[:k]
    return [(Part(int(j), lm.tokenizer.render_token(int(j))), float(cos[j])) for j in top]


_DONOR: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # tokenizer -> (anchor new ids, their donor vectors)


def _anchors(t: Transplanted, nv) -> tuple[np.ndarray, np.ndarray]:
    from .donor_space import donor_vectors

    key = t.lm.tokenizer.name
    if key not in _DONOR:
        anchors = np.flatnonzero(t.plan.shared >= 0)  # new ids whose bytes are a base token
        dv = donor_vectors([nv.token_bytes[i] for i in anchors])
        _DONOR.clear()  # keep one vocabulary's anchors (tens of MB)
        _DONOR[key] = (anchors[dv.ok], dv.vectors[dv.ok])  # (M,), (M, 384)
    return _DONOR[key]


def _combined(lm, t: Transplanted, nv, i: int, E: np.ndarray) -> tuple[list[Part] | None, str]:
    """omp atoms / tokenadapt global neighbours of token ``i``, recomputed in the shared space."""
    from .donor_space import NAME, donor_vectors
    from .omp import omp

    m = t.config.method
    y = donor_vectors([nv.token_bytes[i]])
    if not y.ok[0]:
        return None, (f"the token's text has no vector in the shared space ({NAME}), so {m} used fvt for it: "
                      "its row is the mean of its pieces")
    anchors, A = _anchors(t, nv)
    base_rows = E[t.plan.shared[anchors]]  # (M, D)

    def label(a: int) -> str:
        return lm.tokenizer.render_token(int(t.plan.shared[a]))

    if m == "omp":
        idx, coef = omp(y.vectors, A, min(new_embeddings.OMP_ATOMS, len(A)), pool=new_embeddings.OMP_POOL)  # (1, k)
        keep = coef[0] != 0
        parts = [Part(int(t.plan.shared[anchors[j]]), label(anchors[j]), float(c))
                 for j, c in zip(idx[0][keep], coef[0][keep])]
        row = (coef[0][:, None] * base_rows[idx[0]]).sum(0)  # (D,)
        what = f"OMP atoms (shared tokens) and coefficients in {NAME}, recomputed here"
    else:
        An = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)  # (M, 384)
        cos = An @ (y.vectors[0] / max(float(np.linalg.norm(y.vectors[0])), 1e-12))  # (M,)
        top = np.argsort(-cos)[:new_embeddings.ADAPT_TOP]
        w = np.exp((cos[top] - cos[top].max()) / new_embeddings.ADAPT_TEMPERATURE)
        w /= w.sum()
        parts = [Part(int(t.plan.shared[anchors[j]]), label(anchors[j]), float(c)) for j, c in zip(top, w)]
        pieces = t.plan.pieces[i]
        lengths = np.array([len(lm.vocab.token_bytes[p]) for p in pieces], dtype=np.float64)
        local = np.average(E[pieces], axis=0, weights=lengths) if pieces else t.matrix[i]
        glob = (w[:, None] * base_rows[top]).sum(0)  # (D,)
        row = new_embeddings.ADAPT_LOCAL * local + (1 - new_embeddings.ADAPT_LOCAL) * glob
        what = (f"TokenAdapt's global estimate: the {len(top)} nearest shared tokens in {NAME} with softmax weights "
                f"(mixed {new_embeddings.ADAPT_LOCAL:.0%} with the byte-length-weighted pieces), recomputed here")
    if not np.any(t.matrix[i]):
        return parts, (f"{what}; but the transplanted row is the zero vector, so the transplant did not apply "
                       "these weights to this token")
    err = float(np.abs(row - t.matrix[i]).max() / float(np.abs(t.matrix[i]).max()))
    return parts, f"{what}; rebuilds the transplanted row to within {err:.1e} (relative, max over dimensions)"


def token_breakdown(lm, t: Transplanted, text: str, k: int = NEIGHBOURS) -> TokenBreakdown:
    """What the new vocabulary's token ``text`` was built from in transplant ``t`` of ``lm``."""
    i = find_token(t, text)
    nv = vocab_for(t.lm.tokenizer)
    E = _base_matrix(lm)
    label = t.lm.tokenizer.render_token(i)
    pieces = [Part(int(j), lm.tokenizer.render_token(int(j))) for j in t.plan.pieces[i]]
    status = "shared" if t.plan.shared[i] >= 0 else "new"
    notes = []
    if status == "new" and not pieces:
        base = new_embeddings.base_pieces(lm.tokenizer, nv.token_bytes[i], _alphabet())[0]
        pieces = [Part(int(j), lm.tokenizer.render_token(int(j))) for j in base]
        notes.append(f"{t.config.method} does not use pieces; shown for comparison")
    combined, note = None, ""
    if status == "shared":
        note = f"a shared token: it keeps base token {int(t.plan.shared[i])}'s vector"
    elif t.config.method in SLOW_METHODS:
        combined, note = _combined(lm, t, nv, i, E)
    else:
        note = {"fvt": "fvt: the mean of the pieces' base vectors", "zero": "zero: the zero vector",
                "mean": "mean: the mean of every base vector",
                "random": "random: a normal draw with the base vectors' mean and spread"}[t.config.method]
    neighbours = _nearest(lm, E, t.matrix[i], k) if np.any(t.matrix[i]) else []
    if not neighbours:
        notes.append("the zero vector has no direction: no nearest tokens")
    return TokenBreakdown(i, label, len(nv.token_bytes[i]), status, t.config.method,
                          int(t.plan.shared[i]) if status == "shared" else None, pieces, combined, note, neighbours,
                          notes)


def _alphabet() -> dict[int, str]:
    from ..text.hf import byte_alphabet

    return {b: c for c, b in byte_alphabet().items()}


# ---- the checkpoint ------------------------------------------------------------------------------

def save_transplant(t: Transplanted, name: str) -> Path:
    """Write ``t`` to runs/lm/<name> (atomically); ``tw.load_lm("lm/<name>")`` loads it."""
    from ..paths import runs_dir

    if not isinstance(name, str) or not NAME_RE.match(name.strip()):
        raise InvalidInput("a checkpoint name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter "
                           f"or digit (got {name!r})")
    folder = runs_dir() / "lm" / name.strip()
    try:
        return save(t, folder)
    except TokenworksError:
        raise
    except OSError as e:
        raise InvalidInput(f"the save to {folder} was interrupted ({e.strerror or e}); the checkpoint was not "
                           "written (a save is atomic: nothing half-written is left)") from None
