"""What a pooled byte model keeps: the positions its gate (or word rule) sends to the middle blocks,
over a text you give it. For the delete model this is the tokenization it learned.

    v = deletion_view(loaded, "Hello there")     # -> DeletionView
    v.kept_share, list(zip(v.chars, v.kept))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...errors import InvalidInput
from .config import POOLED
from .load import LoadedTiny


@dataclass
class DeletionView:
    chars: list[str]  # the text's characters
    kept: list[bool]  # per character: one of its bytes was kept
    byte_kept: np.ndarray  # (n_bytes,) bool, per byte
    n_bytes: int
    kept_bytes: int

    @property
    def kept_share(self) -> float:
        return self.kept_bytes / max(1, self.n_bytes)


@torch.no_grad()
def deletion_view(m: LoadedTiny, text: str) -> DeletionView:
    """InvalidInput for a model that keeps every position (tokens, bytes) or an empty text."""
    if m.model.cfg.input not in POOLED:
        raise InvalidInput(f"{m.contestant or m.name} reads {m.model.cfg.input}: it keeps every position. "
                           f"Pick a model that pools bytes ({', '.join(POOLED)})")
    data = text.encode("utf-8")
    if not data:
        raise InvalidInput("type some text to see what the gate keeps")
    T = m.model.cfg.seq_len
    ids = np.concatenate([[m.sep_id], np.frombuffer(data, dtype=np.uint8).astype(np.int64)])
    kept = np.zeros(len(ids), dtype=bool)
    for s in range(0, len(ids), T):  # consecutive windows, as the evaluation reads text
        x = torch.from_numpy(ids[s:s + T])[None]  # (1, <=T)
        kept[s:s + x.shape[1]] = m.model(x, hard=True).kept[0].numpy()
    byte_kept = kept[1:]
    chars, flags, pos = [], [], 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        chars.append(ch)
        flags.append(bool(byte_kept[pos:pos + n].any()))
        pos += n
    return DeletionView(chars, flags, byte_kept, len(data), int(byte_kept.sum()))


__all__ = ["DeletionView", "deletion_view"]
