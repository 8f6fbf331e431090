"""The neural codec as a tokenizer: the contract of ``core.py`` for ``audio/rvq-speech16k``.

    tok = tw.load("audio/rvq-speech16k")
    seq = tok.encode((wave, sr))           # any rate, mono or stereo: resampled to 16 kHz, down-mixed
    seq.ids                                # (K, T): K codebooks x T frames (50 frames/s)
    wave16k, sr = tok.decode(seq)          # float32 (N,), 16000
    tok.decode(seq, keep=3)                # the first 3 codebooks only (1.5 kbps)
    tok.decode_ladder(seq)                 # (K, N): every k = 1..K in one call

Spans: one per frame (shared by the K codebooks of that frame), its sample range in the
resampled input. ``meta`` says what was done to the input and the bitrate of each k.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..checkpoint import Checkpoint, config_from_dict, load_trained, model_tensors, save_checkpoint
from ..core import SpanTable, TokenSeq, check_ids, ids_of
from ..errors import CorruptCheckpoint, InvalidIds, InvalidInput
from .codec import Codec, CodecConfig

KIND = "audio/codec"


class CodecTokenizer:
    """A trained ``Codec``: encode to (K, T) codes, decode any number of codebooks k <= K."""

    modality = "audio"
    kind = KIND

    def __init__(self, model: Codec | None = None, *, name: str | None = None,
                 checkpoint: str | os.PathLike | None = None, train_command: str | None = None,
                 data_hash: str | None = None, metrics: dict | None = None) -> None:
        if (model is None) == (checkpoint is None):
            raise InvalidInput("give a codec model or a checkpoint, not both or neither")
        if checkpoint is not None:
            ckpt = load_trained(checkpoint, name, train_command)
            model = _model_from(ckpt)
            data_hash = ckpt.info.get("data_hash")
            metrics = ckpt.info.get("metrics") or {}
            name = name or str(ckpt.info.get("name") or KIND)
        assert model is not None
        self.model = model.eval()
        self.name = name or KIND
        self.data_hash = data_hash
        self.metrics = dict(metrics or {})

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> "CodecTokenizer":
        return cls(_model_from(ckpt), name=str(ckpt.info.get("name") or KIND), data_hash=ckpt.info.get("data_hash"),
                   metrics=ckpt.info.get("metrics") or {})

    def save(self, folder: str | Path, data_hash: str | None = None, metrics: dict | None = None,
             extra: dict | None = None, weights: str = "float16") -> Path:
        """Write the checkpoint atomically; ``weights="float16"`` halves its size (the model's own
        parameters are rounded to those values first, so saved and live models agree exactly)."""
        tensors = model_tensors(self.model, weights)
        return save_checkpoint(folder, kind=KIND, name=self.name, config=self.model.config, tensors=tensors,
                               data_hash=data_hash or self.data_hash,
                               metrics=metrics if metrics is not None else self.metrics,
                               extra={**(extra or {}), "weights_dtype": weights})

    # ---- sizes -------------------------------------------------------------------------------
    @property
    def config(self) -> CodecConfig:
        return self.model.config

    @property
    def vocab_size(self) -> int:
        return self.model.vocab_size  # V per codebook

    @property
    def num_codebooks(self) -> int:
        return self.model.num_codebooks  # K

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def frame_rate(self) -> float:
        return self.config.tokens_per_second

    def bitrate(self, keep: int | None = None) -> float:
        return self.config.bitrate(keep)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def __repr__(self) -> str:
        c = self.config
        return (f"CodecTokenizer({self.name!r}, K={c.num_levels}, V={c.codebook_size}, "
                f"{c.tokens_per_second:g} frames/s, {c.bitrate():g} bits/s)")

    # ---- encode / decode ---------------------------------------------------------------------
    def prepare(self, x: Any):
        """(wave, sr) | AudioClip | path -> an AudioClip at the model's rate (``audio.io``)."""
        from .io import AudioClip, prepare, read_audio

        if isinstance(x, AudioClip):
            return x if x.sample_rate == self.sample_rate else prepare(x.wave, x.sample_rate)
        if isinstance(x, (str, Path, bytes)):
            return read_audio(x)
        if isinstance(x, tuple) and len(x) == 2:
            return prepare(x[0], x[1])
        raise InvalidInput(f"{self.name} encodes (waveform, sample_rate), an AudioClip or an audio file path; "
                           f"got {type(x).__name__}")

    @torch.inference_mode()
    def encode(self, x: Any) -> TokenSeq:
        clip = self.prepare(x)
        wave = np.ascontiguousarray(clip.wave, dtype=np.float32)  # (N,)
        n = len(wave)
        codes = self.model.encode(torch.from_numpy(wave).to(self.device)[None])[0]  # (T, K)
        ids = codes.T.cpu().numpy().astype(np.int64)  # (K, T)
        T = ids.shape[1]
        spt = self.config.samples_per_token
        starts = np.arange(T, dtype=np.int64) * spt  # (T,)
        spans = SpanTable(np.minimum(starts, n), np.minimum(starts + spt, n))
        c = self.config
        meta = clip.meta()  # input_type, sample_rate, duration_s, resampled_from, downmixed, notes, ...
        meta.update(samples=n, frame_rate=c.tokens_per_second, codebooks=c.num_levels, vocab_size=c.codebook_size,
                    bits_per_second=c.bitrate(), bitrate_per_k={k: c.bitrate(k) for k in range(1, c.num_levels + 1)},
                    lossless=False,
                    note="learned lossy codec: decode gives an approximation of the (resampled) input")
        return TokenSeq(ids=ids, spans=spans, modality="audio", tokenizer=self.name, meta=meta)

    def _ids(self, seq: TokenSeq | np.ndarray | Sequence) -> np.ndarray:
        ids = ids_of(seq) if not isinstance(seq, np.ndarray) else np.asarray(seq)
        if ids.ndim == 1:
            ids = ids[None]
        K = self.num_codebooks
        if ids.ndim != 2 or not 1 <= ids.shape[0] <= K or ids.shape[1] < 1:
            raise InvalidIds(f"{self.name} decodes ids of shape (k, T) with 1 <= k <= {K} codebooks and T >= 1 frames, "
                             f"got shape {tuple(ids.shape)}")
        if not np.issubdtype(ids.dtype, np.integer):
            raise InvalidIds(f"token ids must be integers, got {ids.dtype}")
        ids = ids.astype(np.int64)
        check_ids(ids, self.vocab_size, self.name)
        return ids

    def _keep(self, keep: Any, given: int) -> int:
        if keep is None:
            return given
        if isinstance(keep, bool) or not isinstance(keep, (int, np.integer)) or not 1 <= int(keep) <= given:
            raise InvalidIds(f"{self.name}: keep must be an int from 1 to {given} (the codebooks given), got {keep!r}")
        return int(keep)

    @staticmethod
    def _length(seq: Any, frames: int, spt: int) -> int:
        n = seq.meta.get("samples") if isinstance(seq, TokenSeq) else None
        return int(n) if n is not None and 0 < int(n) <= frames * spt else frames * spt

    @torch.inference_mode()
    def decode(self, seq: TokenSeq | np.ndarray | Sequence, keep: int | None = None) -> tuple[np.ndarray, int]:
        """ids (k, T) -> (waveform float32 (N,), 16000) from the first ``keep`` codebooks."""
        ids = self._ids(seq)
        k = self._keep(keep, ids.shape[0])
        codes = torch.from_numpy(ids[:k].T.copy()).to(self.device)[None]  # (1, T, k)
        y = self.model.decode(codes)[0].clamp(-1.0, 1.0)  # (T * spt,)
        n = self._length(seq, ids.shape[1], self.config.samples_per_token)
        return y[:n].float().cpu().numpy(), self.sample_rate

    @torch.inference_mode()
    def decode_ladder(self, seq: TokenSeq | np.ndarray, ks: Sequence[int] | None = None) -> np.ndarray:
        """(len(ks), N) float32: the reconstruction from the first k codebooks for each k
        (default 1..K), decoded as one batch."""
        ids = self._ids(seq)
        ks = list(range(1, ids.shape[0] + 1)) if ks is None else [self._keep(k, ids.shape[0]) for k in ks]
        codes = torch.from_numpy(ids.T.copy()).to(self.device)[None]  # (1, T, k)
        z = torch.cat([self.model.quantizer.decode_codes(codes, keep=k) for k in ks])  # (len(ks), T, D)
        y = self.model.decode_latents(z).clamp(-1.0, 1.0)  # (len(ks), T * spt)
        n = self._length(seq, ids.shape[1], self.config.samples_per_token)
        return y[:, :n].float().cpu().numpy()

    # ---- capabilities ------------------------------------------------------------------------
    def codebook(self) -> np.ndarray:
        """(V, D) the first level's code vectors; ``codebooks()`` gives all (K, V, D)."""
        return self.model.quantizer.codebook().float().cpu().numpy()

    def codebooks(self) -> np.ndarray:
        return self.model.quantizer.codebooks().float().cpu().numpy()

    @torch.inference_mode()
    def render_token(self, i: int, level: int = 0, seconds: float = 0.4) -> tuple[np.ndarray, int]:
        """The sound of code ``i`` held for ``seconds``: level 0 alone, or on top of level 0's
        code 0 for a later level (a residual code has no sound of its own)."""
        K, V = self.num_codebooks, self.vocab_size
        if not 0 <= int(i) < V or not 0 <= int(level) < K:
            raise InvalidIds(f"{self.name}: codes are 0..{V - 1} at levels 0..{K - 1}, got code {i} at level {level}")
        T = max(1, round(seconds * self.frame_rate))
        codes = torch.zeros((1, T, level + 1), dtype=torch.long, device=self.device)  # (1, T, level+1)
        codes[..., level] = int(i)
        return self.model.decode(codes)[0].float().cpu().numpy(), self.sample_rate


def _model_from(ckpt: Checkpoint) -> Codec:
    if ckpt.kind != KIND:
        raise CorruptCheckpoint(f"{ckpt.folder} holds a {ckpt.kind!r} checkpoint, not {KIND!r}")
    model = Codec(config_from_dict(CodecConfig, ckpt.config))
    try:
        model.load_state_dict(ckpt.tensors, strict=True)
    except RuntimeError as e:
        raise CorruptCheckpoint(f"{ckpt.folder}: the weights do not fit a codec with its config: {e}") from e
    return model.eval()
