"""``LanguageModel``: a tokenizer and a causal network, with the workbench's three questions.

    lm = tw.load_lm("lm/smollm2-135m")       # loaded once per process and shared
    r = lm.score("The cat sat on the mat.")    # ScoreResult: surprisal, bits per byte, top-k
    d = lm.next_bytes("The cat sat on the m", method="exact")   # NextBytes: (256,) probabilities
    g = lm.generate("Once upon a ti", max_bytes=40, method="exact")   # Generation

A model is a ``TokenVocab`` (what the byte-level view needs from the tokenizer), a ``TokenNet``
(the network with its prefix cache) and the document-start token. Models with other
vocabularies plug in the same way: that is the seam for byte-level ensembles of models that do
not share a tokenizer (the distributions ``next_bytes`` returns are over the same 256 bytes).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInput
from . import byte_probs
from .score import ScoreResult, score_ids

MAX_SCORE_CHARS = 20_000  # score() refuses longer text (the app states a smaller limit)
MAX_GENERATE_BYTES = 400  # generate() refuses more (the app states a smaller limit)
GENERATE_METHODS = ("exact", "tokens")


@dataclass(frozen=True)
class LMInfo:
    """What a loaded model is, for people."""

    name: str  # "lm/smollm2-135m"
    source: str  # where the weights came from
    tokenizer: str  # the registry name of its tokenizer
    vocab_size: int
    layers: int
    heads: int
    kv_heads: int
    parameters: int
    context: int  # positions the model was trained on
    quantization: str  # how the weights were stored before being read as float32
    device: str  # "cpu" or "cuda"
    load_seconds: float


@dataclass
class Generation:
    """A continuation of a prompt, byte by byte (``exact``) or token by token (``tokens``)."""

    prompt: str
    text: str  # the continuation only (bytes that do not form whole characters are shown as U+FFFD)
    data: bytes  # the continuation's bytes
    method: str
    steps: int  # bytes chosen (exact) or tokens chosen (tokens)
    stopped: str  # "length" | "end of document"
    seconds: float
    probs: list[float] = field(default_factory=list)  # probability of each chosen byte / token


class LanguageModel:
    def __init__(self, info: LMInfo, tokenizer, vocab, net, bos_id: int, window: int = 1024):
        self.info = info
        self.tokenizer = tokenizer  # a tokenworks text tokenizer (encode -> TokenSeq)
        self.vocab = vocab  # TokenVocab
        self.net = net  # TokenNet
        self.bos_id = bos_id  # the document-start token every score conditions on
        self.window = window  # positions per scoring window

    @property
    def name(self) -> str:
        return self.info.name

    def context_ids(self, ids: list[int]) -> list[int]:
        """The network's input for text ids: the document-start token first."""
        return [self.bos_id] + list(ids)

    # ---- scoring ---------------------------------------------------------------------------
    def score(self, text: str, *, k: int = 10, stride: int | None = None) -> ScoreResult:
        """Surprisal of every token of ``text`` and its bits per byte (see ``lm.score``)."""
        if not isinstance(text, str):
            raise InvalidInput(f"score takes text (str), not {type(text).__name__}")
        if not text:
            raise InvalidInput("the text is empty: give at least one character to score")
        if len(text) > MAX_SCORE_CHARS:
            raise InvalidInput(f"the text has {len(text):,} characters; score() takes at most {MAX_SCORE_CHARS:,}")
        t0 = time.perf_counter()
        seq = self.tokenizer.encode(text)
        ids = seq.ids.tolist()
        stride = stride or self.window // 2
        logp, ent, ti, tp, windows = score_ids(self.net, self.bos_id, ids, self.window, stride, k)
        notes = []
        if windows > 1:
            notes.append(f"{len(ids):,} tokens scored in {windows} windows of {self.window} positions, "
                         f"stride {stride}: every token has at least {self.window - stride} tokens of context")
        return ScoreResult(
            text=text, tokens=seq, logprobs=logp, entropy=ent[:-1], top_ids=ti[:-1], top_probs=tp[:-1],
            next_top_ids=ti[-1], next_top_probs=tp[-1], next_entropy=float(ent[-1]),
            n_bytes=len(text.encode("utf-8", errors="surrogatepass")), window=self.window, stride=stride,
            windows=windows, seconds=time.perf_counter() - t0, notes=notes)

    # ---- bytes -----------------------------------------------------------------------------
    def next_bytes(self, prefix: str | bytes, method: str = "exact") -> byte_probs.NextBytes:
        """Probability of each next byte after ``prefix``: "naive" | "healing" | "exact"."""
        return byte_probs.next_bytes(self, prefix, method)

    def generate(self, prompt: str, max_bytes: int = 64, method: str = "exact") -> Generation:
        """Greedy continuation: byte by byte from the exact distribution, or token by token."""
        if method not in GENERATE_METHODS:
            raise InvalidInput(f"method must be one of {', '.join(GENERATE_METHODS)} (got {method!r})")
        if not isinstance(max_bytes, (int, np.integer)) or not 1 <= max_bytes <= MAX_GENERATE_BYTES:
            raise InvalidInput(f"max_bytes must be a whole number in 1..{MAX_GENERATE_BYTES} (got {max_bytes!r})")
        if not isinstance(prompt, str):
            raise InvalidInput(f"a prompt is text (str), not {type(prompt).__name__}")
        if len(prompt) > MAX_SCORE_CHARS:
            raise InvalidInput(f"the prompt has {len(prompt):,} characters; at most {MAX_SCORE_CHARS:,}")
        t0 = time.perf_counter()
        data = prompt.encode("utf-8")
        out, probs, stopped = b"", [], "length"
        if method == "exact":
            while len(out) < max_bytes:
                d = self.next_bytes(data + out, "exact")
                if d.end_prob > float(d.probs.max()) * (1 - d.end_prob):
                    stopped = "end of document"
                    break
                b = int(np.argmax(d.probs))
                out += bytes([b])
                probs.append(float(d.probs[b]))
            steps = len(out)
        else:
            ids = self.context_ids(self.vocab.encode(prompt))
            steps = 0
            while len(out) < max_bytes:
                lp = self.net.branches(ids, [[]]).next_logprobs[0]
                t = int(np.argmax(lp))
                if self.vocab.special[t]:
                    stopped = "end of document"
                    break
                ids.append(t)
                out += self.vocab.token_bytes[t]
                probs.append(float(np.exp(lp[t])))
                steps += 1
        return Generation(prompt=prompt, text=out.decode("utf-8", errors="replace"), data=out, method=method,
                          steps=steps, stopped=stopped, seconds=time.perf_counter() - t0, probs=probs)
