"""What a tiny language model is: one dataclass, saved in every checkpoint of the tournament.

    cfg = TinyConfig(input="bytes", vocab_size=257, d_model=128, n_layer=4, seq_len=512)

The four input sides (``INPUTS``) share the same transformer blocks, so two contestants with the
same ``d_model``, ``n_head``, ``d_ff`` and ``n_layer`` have the same non-embedding parameter
count whatever they read:

    tokens   ids of a text tokenizer: embedding -> n_layer blocks -> tied output layer
    bytes    the same over UTF-8 bytes (a 256-id tokenizer)
    delete   bytes; after ``enc_layers`` blocks a learned gate deletes positions (MrT5-style):
             the middle blocks see only the kept ones, ``dec_layers`` byte blocks predict each
             next byte from its own state and the last kept position's
    words    the same with a fixed rule instead of the gate: a position is kept where its byte
             is whitespace, or ``max_word`` bytes after the last kept one (byte -> word -> byte)
"""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import InvalidInput

INPUTS = ("tokens", "bytes", "delete", "words")
BYTE_INPUTS = ("bytes", "delete", "words")  # read UTF-8 bytes (vocabulary 256 + the document separator)
POOLED = ("delete", "words")  # byte encoder -> fewer positions -> byte decoder


@dataclass
class TinyConfig:
    input: str = "tokens"  # what the model reads: tokens | bytes | delete | words
    vocab_size: int = 257  # ids the model reads and predicts (the tokenizer's, plus one document separator)
    seq_len: int = 256  # positions per window (tokens, or bytes for the byte inputs)
    d_model: int = 128  # width of every block
    n_head: int = 4  # attention heads
    d_ff: int = 512  # hidden width of the MLP
    n_layer: int = 4  # blocks in all; for delete and words: enc_layers + middle + dec_layers
    enc_layers: int = 1  # delete / words: byte blocks before the gate
    dec_layers: int = 1  # delete / words: byte blocks after the middle
    max_word: int = 16  # words: a position is kept at most this many bytes after the last kept one
    delete_target: float = 0.6  # delete: the share of positions deleted (the threshold follows this quantile)
    delete_ramp: float = 0.3  # delete: the deleted share rises from 0 to delete_target over this share of training
    gate_floor: float = -30.0  # pooled: attention bias of a deleted position in the middle blocks while training
    dropout: float = 0.0  # dropout after attention and MLP

    @property
    def middle_layers(self) -> int:
        """Blocks that run on the kept positions (all blocks for tokens and bytes)."""
        return self.n_layer - self.enc_layers - self.dec_layers if self.input in POOLED else self.n_layer


def check_config(cfg: TinyConfig) -> None:
    """InvalidInput naming the first field out of range, and the allowed range."""
    if cfg.input not in INPUTS:
        raise InvalidInput(f"input must be one of {', '.join(INPUTS)}, not {cfg.input!r}")
    if cfg.input in BYTE_INPUTS and cfg.vocab_size != 257:
        raise InvalidInput(f"input {cfg.input} reads bytes: vocab_size must be 257 (256 bytes + separator), "
                           f"not {cfg.vocab_size}")
    for name, lo in (("vocab_size", 2), ("seq_len", 2), ("d_model", 8), ("n_head", 1), ("d_ff", 1), ("n_layer", 1),
                     ("max_word", 1)):
        if getattr(cfg, name) < lo:
            raise InvalidInput(f"{name} must be at least {lo}, not {getattr(cfg, name)}")
    if cfg.d_model % cfg.n_head:
        raise InvalidInput(f"d_model ({cfg.d_model}) must be a multiple of n_head ({cfg.n_head})")
    if cfg.input in POOLED and (cfg.enc_layers < 1 or cfg.dec_layers < 1 or cfg.middle_layers < 1):
        raise InvalidInput(f"input {cfg.input} needs at least one encoder, one middle and one decoder block: "
                           f"enc_layers {cfg.enc_layers} + dec_layers {cfg.dec_layers} must be below n_layer "
                           f"{cfg.n_layer}")
    if not 0.0 <= cfg.delete_target < 1.0 or not 0.0 <= cfg.delete_ramp <= 1.0:
        raise InvalidInput(f"delete_target must be in [0, 1) and delete_ramp in [0, 1], not {cfg.delete_target} "
                           f"and {cfg.delete_ramp}")
    if cfg.gate_floor >= 0 or not 0 <= cfg.dropout < 1:
        raise InvalidInput(f"gate_floor must be negative and dropout in [0, 1) (got {cfg.gate_floor}, {cfg.dropout})")


__all__ = ["BYTE_INPUTS", "INPUTS", "POOLED", "TinyConfig", "check_config"]
