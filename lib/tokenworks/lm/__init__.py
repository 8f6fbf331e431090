"""Language models over tokens: what tokens do to a real model, offline.

    lm = tw.load_lm("lm/smollm2-135m")
    r = lm.score(text)                        # ScoreResult: r.bits_per_byte, r.tokens, r.logprobs (T,) ...
    d = lm.next_bytes(prefix, method="exact")   # NextBytes: (256,) next-byte probabilities
    g = lm.generate(prompt, max_bytes=40, method="exact" | "tokens")

Files: ``load`` (names, sharing), ``gguf_llama`` (GGUF -> transformers Llama), ``net`` (forward
passes with a prefix cache), ``vocab`` (what the byte view needs from a tokenizer), ``score``
(surprisal, bits per byte), ``byte_probs`` (naive / healing / exact next bytes), ``model``
(``LanguageModel``), ``toy`` (a toy BPE and model whose tokenizations can all be listed).
"""
from .byte_probs import METHODS, NextBytes
from .load import available_lms, load_lm
from .model import Generation, LanguageModel, LMInfo
from .score import ScoreResult

__all__ = ["METHODS", "NextBytes", "available_lms", "load_lm", "Generation", "LanguageModel", "LMInfo",
           "ScoreResult"]
