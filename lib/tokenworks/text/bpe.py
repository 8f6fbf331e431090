"""``text/bpe``: the workbench's own byte-level BPE, written to be read.

A byte-level BPE tokenizer is three things:

* a **pretokenization regex** that cuts text into chunks (words, numbers, runs of spaces...);
  merges never cross a chunk boundary;
* a **byte table**: the id of each of the 256 single-byte tokens;
* an ordered list of **merges** ``(left id, right id) -> new id``. A lower new id is an earlier
  merge: to encode a chunk, start from its bytes and repeatedly merge the adjacent pair whose
  merge has the lowest new id (the leftmost one when that pair occurs more than once) until no
  adjacent pair has a merge.

``ByteBPE.from_pretrained("cl100k_base")`` derives the merges from tiktoken's ranks (ids equal
tiktoken's on every input), ``ByteBPE.train(corpus, vocab_size)`` learns them with incremental
pair counts (see ``bpe_train.py``), and ``encode(text, trace=True)`` records every merge so
that a notebook or the app can replay an encoding step by step::

    tok = ByteBPE.from_pretrained("cl100k_base")
    seq = tok.encode("hello world", trace=True)
    for chunk in seq.meta["trace"]:          # list[ChunkTrace], one per pretokenized chunk
        for step, ids in zip(chunk.steps, chunk.states()[1:]):
            print(step.index, tok.render_token(step.left), "+", tok.render_token(step.right), ids)

Symbols: T tokens, M merges.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Iterator, Literal, Sequence

import numpy as np
import regex

from ..checkpoint import Checkpoint, config_from_dict, save_checkpoint
from ..core import SpanTable, TokenSeq, check_ids, ids_of, keep_first
from ..errors import CorruptCheckpoint, InvalidIds, InvalidInput, UnknownTokenizer
from ._common import SURROGATE_NOTE, TextInput, as_output, as_text_input, printable_piece
from .bpe_rule import MergeStep, bpe_merge, merge_table
from .bpe_train import train_bpe
from .spans import spans_from_lengths

KIND = "text/bpe"  # the checkpoint kind that save() writes

# GPT-4's (cl100k_base) pretokenization regex, the default for training.
GPT4_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
PRETRAINED = ("r50k_base", "cl100k_base", "o200k_base")

# Code points that the installed ``regex`` module knows as letters, digits or marks (Unicode 17)
# but tiktoken's Rust regex engine does not yet (Unicode 16: to it they are unassigned, "other").
# pretokenize() matches a stand-in unassigned code point in their place, so chunks are cut where
# tiktoken cuts them; tests/text/test_bpe.py re-derives the set by probing tiktoken.
_NEWER_THAN_TIKTOKEN = (
    "\u0558\u058B-\u058C\u05C8-\u05C9\u088F\u0B53-\u0B54\u0C5C\u0CDC\u1ACF-\u1AF0\u208F"
    "\u209D-\u209F\uA7CE-\uA7CF\uA7D2\uA7D4\uA7DD\uA7E2\uA7F1\uAB6C-\uAB6D\U000107BB-\U000107BF"
    "\U00010940-\U00010959\U00010EC5-\U00010EC7\U00010ECB-\U00010ECF\U00010ED9-\U00010EEE"
    "\U00010EF0-\U00010EFB\U00011B0A\U00011B60-\U00011B67\U00011DB0-\U00011DDB"
    "\U00011DE0-\U00011DE9\U00011DF0-\U00011DF1\U0001246F\U00012475-\U0001247F"
    "\U00012550-\U00012686\U00016EA0-\U00016EB8\U00016EBB-\U00016ED3\U00016FF2-\U00016FF6"
    "\U000187F8-\U000187FF\U00018CD6-\U00018CDA\U00018D09-\U00018D20\U00018D80-\U00018DF2"
    "\U00018E00-\U00019191\U000191A0-\U000191D2\U0001B123-\U0001B128\U0001B168"
    "\U0001D127-\U0001D128\U0001D250-\U0001D252\U0001D25B-\U0001D25C\U0001D25F"
    "\U0001D280-\U0001D281\U0001D6A6\U0001DF1F-\U0001DF24\U0001DF2B-\U0001DF81"
    "\U0001DF90-\U0001DF96\U0001DFCD-\U0001DFFF\U0001E6C0-\U0001E6DE\U0001E6E0-\U0001E6F5"
    "\U0001E6FE-\U0001E6FF\U0002B73A-\U0002B73F\U0002B81E\U0002CEA2-\U0002CEAD"
    "\U000323B0-\U00033479\U0003D000-\U0003FC3F"
)
_NEWER_RE = regex.compile(f"[{_NEWER_THAN_TIKTOKEN}]")
_STAND_IN = "\u0378"  # unassigned in every Unicode version so far
_CACHE_LIMIT = 200_000  # chunks remembered by encode() before the cache is cleared


@dataclass
class BPEConfig:
    name: str = "text/bpe"  # what the tokenizer calls itself (TokenSeq.tokenizer)
    pattern: str | None = GPT4_PATTERN  # pretokenization regex (``regex`` module); None: no split
    special_tokens: dict[str, int] = field(default_factory=dict)  # text -> id, e.g. {"<|endoftext|>": 100257}
    source: str | None = None  # the tiktoken vocabulary it was built from, if any
    errors: str = "replace"  # how decode() treats invalid UTF-8: "replace" (U+FFFD) or "strict"
    display: str = "text"  # how tokens are shown: "text" (characters; <0xNN> for stray bytes) or "hex" (binaries)


# ---- typed results ------------------------------------------------------------------------


@dataclass
class ChunkTrace:
    """How one pretokenized chunk was encoded: its bytes, every merge in order, the result."""

    text: str  # the chunk (for bytes input: decoded with surrogateescape)
    byte_start: int  # where the chunk starts in the input's UTF-8 bytes
    start_ids: list[int]  # the byte-level ids before any merge
    steps: list[MergeStep]  # the merges in the order they were applied
    ids: list[int]  # the final ids
    special: bool = False  # an allowed special token (no merges)

    def states(self) -> list[list[int]]:
        """The token list before any merge and after each step: ``len(steps) + 1`` lists."""
        cur = list(self.start_ids)
        out = [list(cur)]
        for s in self.steps:
            cur[s.index : s.index + 2] = [s.new_id]
            out.append(list(cur))
        return out


@dataclass
class MergeNode:
    """How a token is built: a merge of two smaller tokens, down to single bytes (leaves)."""

    id: int
    data: bytes  # the token's bytes (a special token: its UTF-8 text)
    left: "MergeNode | None" = None
    right: "MergeNode | None" = None
    special: bool = False

    @property
    def is_leaf(self) -> bool:
        return self.left is None

    def leaves(self) -> list["MergeNode"]:
        if self.left is None or self.right is None:
            return [self]
        return self.left.leaves() + self.right.leaves()

    def depth(self) -> int:
        if self.left is None or self.right is None:
            return 0
        return 1 + max(self.left.depth(), self.right.depth())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "bytes": self.data.hex()}
        if self.left is not None and self.right is not None:
            d["children"] = [self.left.to_dict(), self.right.to_dict()]
        if self.special:
            d["special"] = True
        return d


# ---- the tables behind a pretrained vocabulary ---------------------------------------------


@dataclass(frozen=True)
class _Tables:
    byte_ids: list[int]  # (256,) id of each single byte
    merges: dict[tuple[int, int], int]  # (left, right) -> new id; the new id is the priority
    tokens: list[bytes | None]  # id -> bytes (None: an id with no token, a hole)


@lru_cache(maxsize=None)
def _pretrained_tables(name: str) -> _Tables:
    """Merges of a tiktoken vocabulary, derived from its ranks (cached: ~1-3 s per vocabulary).

    Tokens are visited in rank order. For a token of two or more bytes, BPE is run on its bytes
    with the merges of the tokens ranked below it; when that ends in exactly two tokens, they
    are its merge (the standard derivation). A token that does not end in two can never be
    produced by tiktoken's encoder; it keeps its id (decode and to_tiktoken know it) but gets no
    merge.
    """
    from .openai_vocab import load_openai_vocab

    v = load_openai_vocab(name)
    size = max(max(v.ranks.values()), max(v.special_tokens.values(), default=-1)) + 1
    tokens: list[bytes | None] = [None] * size
    for tok, r in v.ranks.items():
        tokens[r] = tok
    byte_ids = [v.ranks[bytes([b])] for b in range(256)]
    merges: dict[tuple[int, int], int] = {}
    ranks = v.ranks
    for r, tok in enumerate(tokens):
        if tok is None or len(tok) < 2:
            continue
        # fast path: a unique split into two lower-ranked tokens is the merge (the general
        # derivation below would find the same one, and a split that tiktoken never reaches
        # can never fire either)
        split = None
        for k in range(1, len(tok)):
            left, right = ranks.get(tok[:k]), ranks.get(tok[k:])
            if left is not None and right is not None and left < r and right < r:
                if split is not None:
                    split = None
                    break
                split = (left, right)
        if split is None:
            parts = bpe_merge([byte_ids[b] for b in tok], merges)
            if len(parts) != 2:
                continue
            split = (parts[0], parts[1])
        merges[split] = r
    return _Tables(byte_ids=byte_ids, merges=merges, tokens=tokens)


def _named_pattern(pattern: str | None) -> str | None:
    """A vocabulary name stands for its regex; anything else is the regex itself."""
    if pattern in PRETRAINED:
        from .openai_vocab import load_openai_vocab

        return load_openai_vocab(pattern).pattern
    return pattern


# ---- the tokenizer ------------------------------------------------------------------------


class ByteBPE:
    """Byte-level BPE: a regex splits text into chunks, merges turn each chunk's bytes into ids.

    Build one with ``ByteBPE.from_pretrained(name)`` or ``ByteBPE.train(corpus, vocab_size)``;
    ``ByteBPE(merges)`` takes merges ``[(left, right), ...]`` whose new ids are 256, 257, ...
    (the minbpe convention: ids 0..255 are the bytes). ``ByteBPE(vocab="cl100k_base")`` is
    ``from_pretrained``.
    """

    modality = "text"
    kind = KIND  # the checkpoint kind save() writes (a subclass with its own config sets its own)
    config_class: type = BPEConfig  # what from_checkpoint() reads config.json's config as

    def __init__(self, merges: Sequence[tuple[int, int]] | None = None, config: BPEConfig | None = None, *,
                 vocab: str | None = None, _tables: _Tables | None = None, training: Any = None):
        if vocab is not None:
            if vocab not in PRETRAINED:
                raise UnknownTokenizer(f"unknown BPE vocabulary {vocab!r}; choose one of {', '.join(PRETRAINED)}")
            from .openai_vocab import load_openai_vocab

            v = load_openai_vocab(vocab)
            config = config or BPEConfig(name=f"text/bpe-{vocab.split('_')[0]}", pattern=v.pattern,
                                         special_tokens=dict(v.special_tokens), source=vocab)
            _tables = _pretrained_tables(vocab)
        self.config = config or BPEConfig()
        if _tables is None:
            _tables = self._tables_from_merges(merges or [], self.config.special_tokens)
        self.training = training  # a TrainReport when this tokenizer came from ByteBPE.train
        self._set_tables(_tables)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, name: str) -> "ByteBPE":
        """The BPE of tiktoken's ``name`` ("r50k_base", "cl100k_base", "o200k_base")."""
        return cls(vocab=name)

    @classmethod
    def train(cls, corpus: str | Iterable[str], vocab_size: int, pattern: str | None = GPT4_PATTERN,
              special_tokens: Sequence[str] = (), progress: Callable[[Any], None] | None = None,
              name: str = "text/bpe") -> "ByteBPE":
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``corpus``.

        See ``tokenworks.text.bpe_train.train_bpe`` for the algorithm, the tie-break and the
        ``progress`` events; the returned tokenizer's ``training`` is the TrainReport (every
        merge with its count, and whether it stopped early).
        """
        report = train_bpe(corpus, vocab_size, pattern=_named_pattern(pattern), special_tokens=special_tokens,
                           progress=progress)
        specials = {s: 256 + len(report.merges) + k for k, s in enumerate(special_tokens)}
        config = BPEConfig(name=name, pattern=_named_pattern(pattern), special_tokens=specials)
        return cls([m.pair for m in report.merges], config, training=report)

    @staticmethod
    def _tables_from_merges(merges: Sequence[tuple[int, int]], specials: dict[str, int]) -> _Tables:
        tokens: list[bytes] = [bytes([b]) for b in range(256)]
        table = merge_table(merges, tokens, error=InvalidIds)
        return _Tables(byte_ids=list(range(256)), merges=table, tokens=list(tokens))

    def _set_tables(self, t: _Tables) -> None:
        self._tables = t
        self.merges = t.merges  # (left, right) -> new id
        self._byte_ids = t.byte_ids
        self._children = {new: pair for pair, new in t.merges.items()}
        specials = self.config.special_tokens
        size = max(len(t.tokens), max(specials.values(), default=-1) + 1)
        self._tokens: list[bytes | None] = list(t.tokens) + [None] * (size - len(t.tokens))
        self._special_by_id = {i: s for s, i in specials.items()}
        for s, i in specials.items():
            if t.tokens[i:i + 1] not in ([], [None]):
                raise InvalidInput(f"special token {s!r} has id {i}, which an ordinary token already uses")
            self._tokens[i] = s.encode("utf-8")
        self._lengths = np.array([len(x) if x is not None else 0 for x in self._tokens], dtype=np.int64)  # (V,)
        self._pat = regex.compile(self.config.pattern) if self.config.pattern else None
        self._cache: dict[str, tuple[int, ...]] = {}

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def vocab_size(self) -> int:
        return len(self._tokens)

    @property
    def special_tokens(self) -> dict[str, int]:
        return dict(self.config.special_tokens)

    def token_bytes(self, i: int) -> bytes:
        """The bytes of token ``i`` (a special token: its UTF-8 text)."""
        self._check([i])
        return self._tokens[i]  # type: ignore[return-value]

    # -- encoding ---------------------------------------------------------------------------

    def _input(self, x: object) -> TextInput:
        return as_text_input(x, self.name)  # surrogates handled as tiktoken handles them

    def pretokenize(self, text: str) -> list[str]:
        """Cut ``text`` into chunks with the regex; text the regex skips becomes its own chunk.

        Character classes follow tiktoken's Unicode version (see ``_NEWER_THAN_TIKTOKEN``).
        """
        if self._pat is None:
            return [text] if text else []
        probe = _NEWER_RE.sub(_STAND_IN, text) if _NEWER_RE.search(text) else text  # same offsets
        if probe is text:
            chunks = self._pat.findall(text)
            if sum(map(len, chunks)) == len(text):
                return chunks
        out, pos = [], 0
        for m in self._pat.finditer(probe):
            if m.start() > pos:
                out.append(text[pos:m.start()])
            if m.end() > m.start():
                out.append(text[m.start():m.end()])
            pos = m.end()
        if pos < len(text):
            out.append(text[pos:])
        return out

    def _encode_chunk(self, chunk: str) -> tuple[int, ...]:
        ids = self._cache.get(chunk)
        if ids is None:
            byte_ids = self._byte_ids
            ids = tuple(bpe_merge([byte_ids[b] for b in chunk.encode("utf-8", "surrogateescape")], self.merges))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[chunk] = ids
        return ids

    def _trace_chunk(self, chunk: str, byte_start: int) -> ChunkTrace:
        start = [self._byte_ids[b] for b in chunk.encode("utf-8", "surrogateescape")]
        raw: list[MergeStep] = []
        final = bpe_merge(start, self.merges, raw)
        # bpe_merge reports each merge by the byte position of its left token's first byte;
        # turn that into the token's index in the list at that moment, and its byte offset
        starts = list(range(len(start)))  # byte offset of each live token (bytes start at their own)
        steps = []
        for s in raw:
            idx = starts.index(s.offset)
            del starts[idx + 1]
            steps.append(MergeStep(idx, s.offset, s.left, s.right, s.new_id))
        return ChunkTrace(chunk, byte_start, start, steps, final)

    def _segments(self, text: str, allowed_special: Collection[str] | Literal["all"]) -> Iterator[tuple[str, bool]]:
        """(piece, is_special): ordinary text between the allowed special tokens, and those."""
        allowed = self.config.special_tokens if allowed_special == "all" else allowed_special
        unknown = [s for s in allowed if s not in self.config.special_tokens]
        if unknown:
            raise InvalidInput(f"{self.name} has no special token(s) {unknown}; its special tokens are "
                               f"{sorted(self.config.special_tokens) or 'none'}")
        if not allowed or not text:
            yield text, False
            return
        pat = regex.compile("|".join(regex.escape(s) for s in sorted(allowed, key=len, reverse=True)))
        pos = 0
        for m in pat.finditer(text):
            yield text[pos:m.start()], False
            yield m.group(), True
            pos = m.end()
        yield text[pos:], False

    def encode(self, x: str | bytes, *, allowed_special: Collection[str] | Literal["all"] = (),
               trace: bool = False) -> TokenSeq:
        """Ids and exact spans of ``x``.

        Special-token text is ordinary text unless listed in ``allowed_special`` (or "all"), as
        with tiktoken's ``encode(text, disallowed_special=())``. ``trace=True`` adds
        ``meta["trace"]``: a ChunkTrace per chunk with every merge (meant for teaching-size
        inputs: replaying positions costs O(n) per merge).
        """
        inp = self._input(x)
        is_bytes = inp.input_type == "bytes"
        text = inp.data.decode("utf-8", "surrogateescape") if is_bytes else inp.text
        ids: list[int] = []
        traces: list[ChunkTrace] = []
        byte_pos = 0
        for piece, special in self._segments(text, allowed_special):
            if special:
                sid = self.config.special_tokens[piece]
                ids.append(sid)
                if trace:
                    traces.append(ChunkTrace(piece, byte_pos, [sid], [], [sid], special=True))
                byte_pos += len(piece.encode("utf-8"))
                continue
            for chunk in self.pretokenize(piece):
                if trace:
                    ct = self._trace_chunk(chunk, byte_pos)
                    traces.append(ct)
                    ids.extend(ct.ids)
                    byte_pos += len(ct.start_ids)
                else:
                    ids.extend(self._encode_chunk(chunk))
        arr = np.asarray(ids, dtype=np.int64)  # (T,)
        lengths = self._lengths[arr] if len(arr) else np.zeros(0, dtype=np.int64)  # (T,)
        if is_bytes:
            bend = np.cumsum(lengths)  # (T,)
            spans = SpanTable(bend - lengths, bend, bend - lengths, bend)
        else:
            spans = spans_from_lengths(inp.text, lengths)
        meta: dict[str, Any] = {"input_type": inp.input_type, "lossless": not inp.replaced}
        if self.config.display == "hex":
            meta["display"] = "hex"
        if inp.replaced:
            meta["replaced"] = list(inp.replaced)
            meta["note"] = SURROGATE_NOTE
        if trace:
            meta["trace"] = traces
        return TokenSeq(ids=arr, spans=spans, modality="text", tokenizer=self.name, meta=meta)

    # -- decoding ---------------------------------------------------------------------------

    def _check(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        arr = np.asarray(ids, dtype=np.int64)
        check_ids(arr, self.vocab_size, self.name)
        if arr.size and (self._lengths[arr] == 0).any():
            bad = int(arr[self._lengths[arr] == 0][0])
            raise InvalidIds(f"{self.name} has no token with id {bad}: ids 0..{self.vocab_size - 1} "
                             f"are valid except the unused ones, like {bad}")
        return arr

    def decode_bytes(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> bytes:
        ids = self._check(keep_first(ids_of(seq), keep, self.name))
        tokens = self._tokens
        return b"".join([tokens[i] for i in ids.tolist()])  # type: ignore[misc]

    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> str | bytes:
        data = self.decode_bytes(seq, keep)
        return as_output(seq, data, self.config.errors)

    def render_token(self, i: int) -> str:
        """Token ``i`` as printable text; bytes that are not whole UTF-8 characters as <0xNN>."""
        data = self.token_bytes(i)
        if i in self._special_by_id:
            return self._special_by_id[i]
        if self.config.display == "hex":
            return data.hex(" ")
        out = []
        for ch in data.decode("utf-8", "surrogateescape"):
            o = ord(ch)
            out.append(f"<0x{o - 0xDC00:02X}>" if 0xDC80 <= o <= 0xDCFF else printable_piece(ch))
        return "".join(out)

    # -- looking inside -----------------------------------------------------------------------

    def merge_tree(self, token_id: int) -> MergeNode:
        """How ``token_id`` was built: a MergeNode whose leaves are single bytes."""
        data = self.token_bytes(token_id)
        pair = self._children.get(token_id)
        if pair is None:
            return MergeNode(token_id, data, special=token_id in self._special_by_id)
        return MergeNode(token_id, data, self.merge_tree(pair[0]), self.merge_tree(pair[1]))

    def merge_list(self) -> list[tuple[int, int, int]]:
        """Every merge as ``(left, right, new id)``, in the order they apply (by new id)."""
        return sorted(((a, b, n) for (a, b), n in self.merges.items()), key=lambda m: m[2])

    def to_tiktoken(self):
        """A ``tiktoken.Encoding`` with the same ids (ranks = ids), for speed.

        tiktoken merges any adjacent pair whose bytes form a token, lowest rank first; that is
        the same encoding as these merges when every token's own bytes encode to itself (true of
        tiktoken's vocabularies and of nearly every trained one). A token for which that fails
        (or two tokens with the same bytes) is an error naming it.
        """
        import tiktoken

        if self.config.source is None:
            for (a, b), n in sorted(self.merges.items(), key=lambda m: m[1]):
                tok = self._tokens[n]
                got = bpe_merge([self._byte_ids[x] for x in tok], self.merges)  # type: ignore[union-attr]
                if got != [n]:
                    raise InvalidInput(
                        f"{self.name}: token {n} ({self.render_token(n)}) encodes to {got} on its own, so "
                        "tiktoken (which merges by the bytes of a pair) would encode some text differently"
                    )

        ranks: dict[bytes, int] = {}
        for i, tok in enumerate(self._tokens):
            if tok is None or i in self._special_by_id:
                continue
            if tok in ranks:
                raise InvalidInput(
                    f"{self.name} has two tokens with the same bytes {tok!r} (ids {ranks[tok]} and {i}); "
                    "tiktoken needs every token's bytes to be unique"
                )
            ranks[tok] = i
        return tiktoken.Encoding(self.name, pat_str=self.config.pattern or r"(?s:.+)", mergeable_ranks=ranks,
                                 special_tokens=dict(self.config.special_tokens))

    # -- checkpoints --------------------------------------------------------------------------

    def save(self, folder: str | Path, data_hash: str | None = None, metrics: dict[str, Any] | None = None) -> Path:
        """A checkpoint folder: merges as tensors, merges.txt to read, the training report (and
        ``metrics``, e.g. held-out compression) in config.json."""
        import torch

        merges = self.merge_list()
        derived = set(range(256)) if self._byte_ids == list(range(256)) else set(self._byte_ids)
        derived |= {n for _, _, n in merges}
        extra = [i for i, t in enumerate(self._tables.tokens) if t is not None and i not in derived]
        extra_bytes = b"".join(self._tables.tokens[i] for i in extra)  # type: ignore[misc]
        tensors = {
            "merges": torch.tensor([[a, b] for a, b, _ in merges], dtype=torch.int64).reshape(-1, 2),  # (M, 2)
            "merge_ids": torch.tensor([n for _, _, n in merges], dtype=torch.int64),  # (M,)
            "byte_ids": torch.tensor(self._byte_ids, dtype=torch.int64),  # (256,)
            # tokens no merge produces (unreachable ones of a pretrained vocabulary), kept for decode
            "extra_ids": torch.tensor(extra, dtype=torch.int64),  # (E,)
            "extra_lengths": torch.tensor([len(self._tables.tokens[i]) for i in extra], dtype=torch.int64),  # (E,)
            "extra_bytes": torch.tensor(list(extra_bytes), dtype=torch.uint8),  # (sum of lengths,)
        }
        counts = {m.new_id: m.count for m in self.training.merges} if self.training is not None else {}
        lines = ["# new_id\tleft right\tleft + right -> token" + ("\tcount" if counts else "")]
        for a, b, n in merges:
            line = f"{n}\t{a} {b}\t{self.render_token(a)} + {self.render_token(b)} -> {self.render_token(n)}"
            lines.append(line + (f"\t{counts[n]}" if n in counts else ""))
        metrics = {**(self.training.summary() if self.training is not None else {}), **(metrics or {})}
        return save_checkpoint(folder, kind=self.kind, name=self.name, config=self.config, tensors=tensors,
                               sidecars={"merges.txt": "\n".join(lines) + "\n"}, data_hash=data_hash, metrics=metrics)

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> "ByteBPE":
        config = config_from_dict(cls.config_class, ckpt.config)
        try:
            pairs = ckpt.tensors["merges"].tolist()
            new_ids = ckpt.tensors["merge_ids"].tolist()
            byte_ids = ckpt.tensors["byte_ids"].tolist()
            extra = ckpt.tensors["extra_ids"].tolist()
            extra_len = ckpt.tensors["extra_lengths"].tolist()
            extra_bytes = bytes(ckpt.tensors["extra_bytes"].tolist())
        except KeyError as e:
            raise CorruptCheckpoint(f"{ckpt.folder}: a text/bpe checkpoint needs the tensor {e}") from e
        if len(byte_ids) != 256 or len(pairs) != len(new_ids):
            raise CorruptCheckpoint(f"{ckpt.folder}: byte_ids must have 256 entries and merges one id each")
        size = max([*new_ids, *byte_ids, *extra, -1]) + 1
        tokens: list[bytes | None] = [None] * size
        for b, i in enumerate(byte_ids):
            tokens[i] = bytes([b])
        pos = 0
        for i, n in zip(extra, extra_len):
            tokens[i] = extra_bytes[pos:pos + n]
            pos += n
        merges: dict[tuple[int, int], int] = {}
        for (a, b), n in sorted(zip(map(tuple, pairs), new_ids), key=lambda m: m[1]):
            if tokens[a] is None or tokens[b] is None:
                raise CorruptCheckpoint(f"{ckpt.folder}: merge ({a}, {b}) -> {n} uses an undefined id")
            merges[(a, b)] = n
            tokens[n] = tokens[a] + tokens[b]  # type: ignore[operator]
        return cls(config=config, _tables=_Tables(byte_ids=byte_ids, merges=merges, tokens=tokens))
