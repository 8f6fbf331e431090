"""Image tokenizers over the learned models: the contract of ``core.py`` for images.

    tok = tw.load("image/flex1d-emoji64")       # or tw.load_checkpoint("runs/my-run")
    seq = tok.encode(img)                        # PIL, numpy (grey / RGB / RGBA, any size), path
    seq.ids                                      # flex1d: (T,)   grid: (H, W)
    tok.decode(seq)                              # (S, S, 3) uint8
    tok.decode(seq, keep=16)                     # flex1d: the first 16 tokens only
    tok.decode_prefixes(seq, [1, 4, 16, 64])     # (4, S, S, 3) in one batched call
    tok.encode(img, refine=RefineConfig(steps=30))   # refined encoding (image.refine): same bytes, better decode

``GridTokenizer`` wraps ``grid.Grid`` (tokens on an H x W grid, spans are pixel boxes) and
``Flex1DTokenizer`` wraps ``flex1d.Flex1D`` (an ordered 1D sequence; spans are the whole image,
where each token looks is ``attention(x)``). ``ImageTokenizer.create`` builds an untrained one,
``ImageTokenizer.from_checkpoint`` reads either kind of checkpoint.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..checkpoint import Checkpoint, config_from_dict, load_trained, model_tensors, save_checkpoint
from ..core import Span, TokenSeq, ids_of
from ..errors import CorruptCheckpoint, InvalidIds, InvalidInput
from ._io import to_rgb_array
from ._nn import to_pixels, to_uint8
from .flex1d import Flex1D, Flex1DConfig
from .grid import Grid, GridConfig

MODELS: dict[str, tuple[type[nn.Module], type]] = {"grid": (Grid, GridConfig), "flex1d": (Flex1D, Flex1DConfig)}
ARCHITECTURES = {"image/grid": "grid", "image/flex1d": "flex1d"}  # checkpoint kind -> model architecture (MODELS)


def build_model(model: str, config: Any = None) -> nn.Module:
    """An untrained model: ``build_model("flex1d", Flex1DConfig(tokens=64))``."""
    if model not in MODELS:
        raise InvalidInput(f"unknown image model {model!r}; choose one of {', '.join(MODELS)}")
    cls, config_cls = MODELS[model]
    if config is None:
        config = config_cls()
    elif isinstance(config, dict):
        config = config_from_dict(config_cls, config)
    if not isinstance(config, config_cls):
        raise InvalidInput(f"a {model} model takes a {config_cls.__name__}, got {type(config).__name__}")
    return cls(config)


PREFIX_CHUNK = 32  # prefixes decoded together by Flex1DTokenizer.decode_prefixes


@dataclass
class ImageAttention:
    """Where each token of a 1D tokenizer looks in the image (``Flex1DTokenizer.attention``)."""

    per_layer: np.ndarray  # (L, T, P) float32: per encoder layer, token -> patch weights; rows sum to 1
    mean: np.ndarray  # (T, P) float32: the average over layers; rows sum to 1
    patch_grid: tuple[int, int]  # (h, w): the P patches in raster order
    patch_size: int  # pixels per patch side (in the model's S x S image)
    image: np.ndarray  # (S, S, 3) uint8: the image the model saw

    def maps(self, layer: int | None = None) -> np.ndarray:
        """(T, h, w): each token's attention as a map over the patch grid (``layer`` None: mean)."""
        a = self.mean if layer is None else self.per_layer[layer]
        return a.reshape(a.shape[0], *self.patch_grid)


class ImageTokenizer:
    """What both image tokenizers share: input handling, save/load, codebook, batch helpers."""

    modality = "image"
    kind = ""  # the checkpoint kind, set by the subclasses
    ordered = False  # True: an ordered 1D sequence whose every prefix decodes (flex1d); False: a grid

    def __init__(self, model: nn.Module | None = None, *, name: str | None = None,
                 checkpoint: str | os.PathLike | None = None, train_command: str | None = None,
                 data_hash: str | None = None, metrics: dict | None = None) -> None:
        """Wrap ``model``, or load ``checkpoint`` (a name inside data/checkpoints or runs/).

        ``train_command`` is named in the error when the checkpoint is missing.
        """
        if (model is None) == (checkpoint is None):
            raise InvalidInput("give an image model or a checkpoint, not both or neither")
        if checkpoint is not None:
            ckpt = load_trained(checkpoint, name, train_command)
            if ARCHITECTURES.get(ckpt.kind) != self._model_name():
                raise CorruptCheckpoint(f"{ckpt.folder} holds a {ckpt.kind!r} checkpoint, not {self.kind!r}")
            model = _model_from(ckpt)
            data_hash = ckpt.info.get("data_hash")
            metrics = ckpt.info.get("metrics") or {}
            name = name or str(ckpt.info.get("name") or self.kind)
        assert model is not None
        self.model = model.eval()
        self.name = name or self.kind
        self.data_hash = data_hash
        self.metrics = dict(metrics or {})

    @classmethod
    def _model_name(cls) -> str:
        return ARCHITECTURES.get(cls.kind, "")

    # ---- construction ---------------------------------------------------------------------
    @staticmethod
    def create(model: str = "flex1d", config: Any = None, name: str | None = None) -> "ImageTokenizer":
        """An untrained tokenizer: ``ImageTokenizer.create("grid", GridConfig(codebook_size=64))``."""
        m = build_model(model, config)
        cls = GridTokenizer if model == "grid" else Flex1DTokenizer
        return cls(m, name=name)

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint) -> "ImageTokenizer":
        if ckpt.kind not in ARCHITECTURES:
            raise CorruptCheckpoint(f"{ckpt.folder} has kind {ckpt.kind!r}; image tokenizers read {', '.join(ARCHITECTURES)}")
        sub = GridTokenizer if ARCHITECTURES[ckpt.kind] == "grid" else Flex1DTokenizer
        return sub(_model_from(ckpt), name=str(ckpt.info.get("name") or ckpt.kind),
                   data_hash=ckpt.info.get("data_hash"), metrics=ckpt.info.get("metrics") or {})

    def save(self, folder: str | Path, data_hash: str | None = None, metrics: dict | None = None,
             extra: dict | None = None, weights: str = "float32") -> Path:
        """Write a checkpoint folder (model.safetensors + config.json) atomically.

        ``weights="float16"`` stores the parameters in half precision (half the size); the
        model's own parameters are rounded to those values first, so this tokenizer and the
        one loaded back give identical ids and images. Buffers (VQ codebooks) stay float32.
        """
        tensors = model_tensors(self.model, weights)
        return save_checkpoint(folder, kind=self.kind, name=self.name, config=self.model.config,
                               tensors=tensors, data_hash=data_hash or self.data_hash,
                               metrics=metrics if metrics is not None else self.metrics,
                               extra={**(extra or {}), "weights_dtype": weights})

    def to(self, device: str | torch.device) -> "ImageTokenizer":
        self.model.to(device)
        return self

    # ---- sizes ----------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self.model.vocab_size  # V

    @property
    def image_size(self) -> int:
        return int(self.model.config.image_size)  # S

    @property
    def num_tokens(self) -> int:
        return self.model.num_tokens  # T

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, V={self.vocab_size}, T={self.num_tokens}, {self.image_size}x{self.image_size})"

    # ---- batches of prepared images -------------------------------------------------------
    def prepare(self, x: Any, max_pixels: int | None = None):
        """Any image -> ``PreparedImage`` at the model's size (centre crop, then resize);
        ``max_pixels`` lowers the size limit of what is decoded (None: the library's)."""
        return to_rgb_array(x, self.image_size) if max_pixels is None else \
            to_rgb_array(x, self.image_size, max_pixels=max_pixels)

    def encode(self, x: Any, refine: Any = None) -> TokenSeq:
        """Any image -> its ids (``encode_prepared`` of ``prepare(x)``); ``refine`` (an
        ``image.refine.RefineConfig``) searches ids that decode closer than the encoder's one pass."""
        return self.encode_prepared(self.prepare(x), refine)

    def _check_batch(self, images: np.ndarray) -> None:
        S = self.image_size
        if not isinstance(images, (np.ndarray, torch.Tensor)) or tuple(images.shape[1:]) != (S, S, 3):
            shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
            raise InvalidInput(f"{self.name} encodes batches of (N, {S}, {S}, 3) uint8 images, got {shape}; "
                               f"use encode(x) for a single image of any size")

    @torch.inference_mode()
    def encode_batch(self, images: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 -> ids (N, T) for flex1d or (N, H, W) for grid."""
        self._check_batch(images)
        return self.model.encode(to_pixels(images, self.device)).cpu().numpy()

    def codebook(self) -> np.ndarray:
        """(V, D) the code vectors (for FSQ the grid of level values)."""
        cb = self.model.quantizer.codebook()
        if cb is None:
            raise InvalidInput(f"{self.name}: the codebook of V={self.vocab_size} codes is too large to list")
        return cb.detach().float().cpu().numpy()

    def _encode_one(self, array: np.ndarray, refine: Any) -> tuple[np.ndarray, dict]:
        """ids of one prepared (S, S, 3) image, one pass or refined (``image.refine``), and meta about it."""
        if refine is None:
            return self.encode_batch(array[None])[0], {}
        from .refine import refine_encode

        r = refine_encode(self, array[None], refine)
        return r.codes[0], {"refined": {"mode": r.mode, "steps": r.config["steps"], "keep": r.config["keep"],
                                        "ks": r.ks, "psnr_one_pass": [round(float(v), 3) for v in r.psnr_before[0]],
                                        "psnr_refined": [round(float(v), 3) for v in r.psnr_after[0]],
                                        "seconds": round(r.seconds, 3)}}

    def _meta(self, prepared, extra: dict) -> dict:
        meta = dict(prepared.meta)
        meta.update(image_size=self.image_size, vocab_size=self.vocab_size, lossless=False,
                    note="learned lossy tokenizer: decode gives an approximation of the (resized) input",
                    **extra)
        return meta

    def _box(self, meta: dict, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        """A box in the model's S x S image -> the same box in the input's pixels."""
        w, h = meta.get("original_size", (self.image_size, self.image_size))
        if "crop_box" in meta:
            left, top, right, _ = meta["crop_box"]
            side, ox, oy = right - left, left, top
        elif "pad_box" in meta:
            side, ox, oy = max(w, h), -meta["pad_box"][0], -meta["pad_box"][1]
        else:
            side, ox, oy = w, 0, 0
        s = side / self.image_size
        box = [round(x0 * s + ox), round(y0 * s + oy), round(x1 * s + ox), round(y1 * s + oy)]
        box = [min(max(box[0], 0), w), min(max(box[1], 0), h), min(max(box[2], 0), w), min(max(box[3], 0), h)]
        return (box[0], box[1], box[2], box[3])


class GridTokenizer(ImageTokenizer):
    """Tokens on an H x W grid; each token's span is its cell's pixel box in the input."""

    kind = "image/grid"

    def encode_prepared(self, prepared: Any, refine: Any = None) -> TokenSeq:
        """A ``PreparedImage`` (``prepare(x)``) -> its H x W ids; ``refine`` (an
        ``image.refine.RefineConfig``) searches ids that decode closer than the encoder's one pass."""
        ids, extra = self._encode_one(prepared.array, refine)  # (H, W)
        H, W = ids.shape
        cell = self.image_size / H
        spans = [Span(box=self._box(prepared.meta, c * cell, r * cell, (c + 1) * cell, (r + 1) * cell))
                 for r in range(H) for c in range(W)]
        meta = self._meta(prepared, {"grid": [H, W], "cell_pixels": self.model.downsample, **extra})
        return TokenSeq(ids=ids, spans=spans, modality="image", tokenizer=self.name, meta=meta)

    def _ids(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None) -> np.ndarray:
        ids = np.asarray(ids_of(seq) if not isinstance(seq, np.ndarray) else seq)
        T, g = self.num_tokens, self.model.grid
        if keep is not None and keep != T:
            raise InvalidIds(f"{self.name} is a grid tokenizer: it decodes all {g}x{g} = {T} tokens "
                             f"(keep=None); keep=k applies to 1D tokenizers such as image/flex1d-emoji64")
        if ids.size != T:
            raise InvalidIds(f"{self.name} decodes exactly {g}x{g} = {T} ids, got {ids.size} (shape {ids.shape})")
        if not np.issubdtype(ids.dtype, np.integer):
            raise InvalidIds(f"token ids must be integers, got {ids.dtype}")
        from ..core import check_ids

        ids = ids.astype(np.int64).reshape(g, g)
        check_ids(ids, self.vocab_size, self.name)
        return ids

    @torch.inference_mode()
    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> np.ndarray:
        """ids (H, W) or (H*W,) -> (S, S, 3) uint8."""
        ids = self._ids(seq, keep)
        codes = torch.as_tensor(ids, device=self.device)[None]  # (1, H, W)
        return to_uint8(self.model.decode(codes))[0]  # (S, S, 3)

    @torch.inference_mode()
    def decode_batch(self, ids: np.ndarray, keep: int | None = None) -> np.ndarray:
        """(N, H, W) ids -> (N, S, S, 3) uint8."""
        codes = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=self.device)  # (N, H, W)
        return to_uint8(self.model.decode(codes))

    @torch.inference_mode()
    def render_token(self, i: int) -> np.ndarray:
        """(S, S, 3) uint8: the image whose every grid cell holds code i (its colour and texture)."""
        if not 0 <= int(i) < self.vocab_size:
            raise InvalidIds(f"{self.name}: token ids are 0..{self.vocab_size - 1}, got {i}")
        g = self.model.grid
        codes = torch.full((1, g, g), int(i), dtype=torch.long, device=self.device)  # (1, H, W)
        return to_uint8(self.model.decode(codes))[0]


class Flex1DTokenizer(ImageTokenizer):
    """An ordered 1D sequence of T tokens; any prefix of k tokens decodes to a whole image."""

    kind = "image/flex1d"
    ordered = True

    def encode_prepared(self, prepared: Any, refine: Any = None) -> TokenSeq:
        """A ``PreparedImage`` (``prepare(x)``) -> its T ordered ids; ``refine`` (an
        ``image.refine.RefineConfig``) searches ids whose prefixes decode closer than one pass."""
        ids, extra = self._encode_one(prepared.array, refine)  # (T,)
        whole = Span(box=self._box(prepared.meta, 0, 0, self.image_size, self.image_size))
        meta = self._meta(prepared, {"tokens": int(ids.size), "ordered": True,
                                     "spans": "every token spans the whole image; attention(x) shows where each looks",
                                     **extra})
        return TokenSeq(ids=ids, spans=[whole] * int(ids.size), modality="image", tokenizer=self.name, meta=meta)

    def _ids(self, seq: TokenSeq | Sequence[int] | np.ndarray) -> np.ndarray:
        ids = ids_of(seq).reshape(-1)
        T = self.num_tokens
        if not 1 <= ids.size <= T:
            raise InvalidIds(f"{self.name} decodes 1..{T} tokens (a prefix of its sequence), got {ids.size}")
        from ..core import check_ids

        check_ids(ids, self.vocab_size, self.name)
        return ids

    def _check_keep(self, keep: Any, n: int) -> int:
        if keep is None:
            return n
        if isinstance(keep, bool) or not isinstance(keep, (int, np.integer)):
            raise InvalidIds(f"{self.name}: keep must be an int in 1..{n} or None, got {keep!r}")
        if not 1 <= int(keep) <= n:
            more = f" (the model has T = {self.num_tokens} tokens)" if keep > self.num_tokens else ""
            raise InvalidIds(f"{self.name}: keep must be between 1 and {n}, the number of tokens given, got {keep}{more}")
        return int(keep)

    @torch.inference_mode()
    def decode(self, seq: TokenSeq | Sequence[int] | np.ndarray, keep: int | None = None) -> np.ndarray:
        """ids (k,) for 1 <= k <= T -> (S, S, 3) uint8 from the first ``keep`` tokens (None: all given)."""
        ids = self._ids(seq)
        k = self._check_keep(keep, ids.size)
        codes = torch.as_tensor(ids[:k], device=self.device)[None]  # (1, k)
        return to_uint8(self.model.decode(codes))[0]

    @torch.inference_mode()
    def decode_prefixes(self, seq: TokenSeq | Sequence[int] | np.ndarray, ks: Sequence[int]) -> np.ndarray:
        """(len(ks), S, S, 3) uint8: the image from the first k tokens for each k, in one call.

        The prefixes are sorted and decoded in batches of ``PREFIX_CHUNK`` neighbours, each batch
        running the decoder over only the slots its longest prefix needs (a short prefix in a
        batch with the full sequence would pay for every slot).
        """
        ids = self._ids(seq)
        ks = [self._check_keep(k, ids.size) for k in ks]
        out = np.zeros((len(ks), self.image_size, self.image_size, 3), np.uint8)  # (n, S, S, 3)
        if not ks:
            return out
        codes = torch.as_tensor(ids, device=self.device)[None]  # (1, k)
        order = np.argsort(ks, kind="stable")
        for i in range(0, len(ks), PREFIX_CHUNK):
            idx = order[i:i + PREFIX_CHUNK]
            keep = torch.as_tensor([ks[j] for j in idx], device=self.device)  # (c,)
            out[idx] = to_uint8(self.model.decode(codes.expand(len(idx), -1), keep))
        return out

    @torch.inference_mode()
    def decode_batch(self, ids: np.ndarray, keep: int | Sequence[int] | None = None) -> np.ndarray:
        """(N, T) ids -> (N, S, S, 3) uint8; ``keep`` one k for all or one per image."""
        codes = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=self.device)  # (N, T)
        k = None if keep is None else torch.as_tensor(np.asarray(keep, dtype=np.int64), device=self.device)
        return to_uint8(self.model.decode(codes, k))

    @torch.inference_mode()
    def attention(self, x: Any) -> ImageAttention:
        """Each token's attention to the image patches, per encoder layer and averaged."""
        prepared = self.prepare(x)
        a = self.model.attention(to_pixels(prepared.array[None], self.device))[:, 0]  # (L, T, P)
        per_layer = a.float().cpu().numpy()
        g = self.model.grid
        return ImageAttention(per_layer=per_layer, mean=per_layer.mean(0), patch_grid=(g, g),
                              patch_size=self.model.config.patch_size, image=prepared.array)

    @torch.inference_mode()
    def render_token(self, i: int) -> np.ndarray:
        """(S, S, 3) uint8: what the one-token sequence [i] decodes to."""
        if not 0 <= int(i) < self.vocab_size:
            raise InvalidIds(f"{self.name}: token ids are 0..{self.vocab_size - 1}, got {i}")
        return self.decode(np.array([int(i)]))


def _model_from(ckpt: Checkpoint) -> nn.Module:
    model_name = ARCHITECTURES[ckpt.kind]
    _, config_cls = MODELS[model_name]
    model = build_model(model_name, config_from_dict(config_cls, ckpt.config))
    try:
        model.load_state_dict(ckpt.tensors, strict=True)  # float16 weights are cast to float32 here
    except RuntimeError as e:
        raise CorruptCheckpoint(f"{ckpt.folder}: the weights do not fit a {model_name} model with its config: {e}") from e
    return model.eval()

