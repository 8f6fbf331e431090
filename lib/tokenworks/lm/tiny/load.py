"""A trained tournament model read back from its checkpoint, with its tokenizer.

    m = load_tiny("runs/lm/tiny/english-bytes-cpu-s0")   # -> LoadedTiny
    m.bits(["Some text."])                               # (1,) bits of the text as a document
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...checkpoint import config_from_dict, load_checkpoint
from ...errors import CorruptCheckpoint
from .config import TinyConfig
from .model import TinyLM
from .windows import text_bits

KIND = "lm/tiny"


@dataclass
class LoadedTiny:
    model: TinyLM  # eval mode, CPU
    tokenizer: Any  # what the model reads (text/bytes for the byte inputs)
    sep_id: int  # the document separator
    name: str
    contestant: str
    metrics: dict[str, Any]  # the held-out evaluation saved with it
    folder: Path

    def bits(self, texts: list[str]) -> np.ndarray:
        return text_bits(self.model, self.tokenizer, texts, self.sep_id)


def load_tiny(folder: str | Path) -> LoadedTiny:
    """CorruptCheckpoint when ``folder`` is not a tiny model's checkpoint (kind ``lm/tiny``)."""
    from .train import BYTES
    from .tokenizers import load_contestant

    ck = load_checkpoint(folder, allow_outside=True)
    if ck.info.get("kind") != KIND:
        raise CorruptCheckpoint(f"{ck.folder} holds a {ck.info.get('kind')!r} checkpoint, not a tiny tournament model "
                                f"({KIND})")
    cfg = config_from_dict(TinyConfig, ck.info["config"])
    model = TinyLM(cfg)
    model.load_state_dict(ck.tensors, strict=True)
    ref = ck.info.get("tokenizer") or BYTES
    tok = load_contestant(ref)
    return LoadedTiny(model.eval(), tok, cfg.vocab_size - 1, ck.info.get("name", ""), ck.info.get("contestant", ""),
                      ck.info.get("metrics", {}), ck.folder)


__all__ = ["KIND", "LoadedTiny", "load_tiny"]
