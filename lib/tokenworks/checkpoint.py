"""Checkpoints are folders, written atomically and loaded without unpickling.

    <folder>/model.safetensors   the tensors (may hold none, for tokenizers without weights)
    <folder>/config.json         {"format", "kind", "name", "config": the dataclass config,
                                  "data_hash", "metrics", "code_version", "created",
                                  "files": {file: {"sha256", "size"}}}
    <folder>/<sidecars>          human-readable extras: vocab.txt, codebook.png, ...

Loading checks every file against the checksums in config.json before parsing it, reads tensors
with safetensors only, and accepts a checkpoint *name* only when it resolves inside one of
``paths.checkpoint_roots()``. Paths outside them need ``allow_outside=True``, which only code
acting on a path the user typed (the CLI) passes.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ._version import __version__
from .errors import CheckpointNotFound, CorruptCheckpoint, UnsafePath
from .paths import checkpoint_roots

FORMAT = "tokenworks-checkpoint/1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


@dataclass
class Checkpoint:
    """A loaded checkpoint: its folder, tensors and the parsed config.json."""

    folder: Path
    kind: str  # which tokenizer class reads it, e.g. "text/bytes"
    config: dict[str, Any]  # the dataclass config as saved
    tensors: dict[str, Any] = field(default_factory=dict)  # name -> torch.Tensor
    info: dict[str, Any] = field(default_factory=dict)  # the whole config.json


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config_to_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if isinstance(config, Mapping):
        return dict(config)
    raise TypeError(f"config must be a dataclass instance or a mapping, got {type(config).__name__}")


def config_from_dict(cls: type, d: Mapping[str, Any]) -> Any:
    """Build dataclass ``cls`` from ``d``; unknown keys are an error naming the known ones."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise CorruptCheckpoint(
            f"config has unknown field(s) {unknown} for {cls.__name__}; known fields: {sorted(names)}"
        )
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in d:
            v = d[f.name]
            # JSON has no tuples: restore them where the default is a tuple
            if isinstance(v, list) and isinstance(f.default, tuple):
                v = tuple(v)
            kwargs[f.name] = v
    return cls(**kwargs)


def save_checkpoint(
    folder: str | os.PathLike,
    *,
    kind: str,
    name: str,
    config: Any,
    tensors: Mapping[str, Any] | None = None,
    sidecars: Mapping[str, str | bytes] | None = None,
    data_hash: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint folder atomically and return its path.

    Everything is written to a hidden temporary folder beside the target, flushed, then renamed
    into place; an existing checkpoint at ``folder`` is replaced only after the new one is
    complete, so a crash leaves either the old checkpoint or the new one, never half of one.
    """
    from safetensors.torch import save_file  # torch is imported only when weights are saved

    folder = Path(folder).expanduser().resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        tensors = {k: v.detach().cpu().contiguous() for k, v in (tensors or {}).items()}
        save_file(tensors, str(tmp / WEIGHTS))
        for fname, content in (sidecars or {}).items():
            if Path(fname).name != fname or fname in (WEIGHTS, CONFIG):
                raise ValueError(f"sidecar name must be a plain file name other than {WEIGHTS}/{CONFIG}: {fname!r}")
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            (tmp / fname).write_bytes(data)
        files = {
            p.name: {"sha256": sha256_file(p), "size": p.stat().st_size}
            for p in sorted(tmp.iterdir())
        }
        info = {
            "format": FORMAT,
            "kind": kind,
            "name": name,
            "config": config_to_dict(config),
            "config_class": type(config).__name__,
            "data_hash": data_hash,
            "metrics": dict(metrics or {}),
            "code_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "files": files,
            **dict(extra or {}),
        }
        with open(tmp / CONFIG, "w", encoding="utf-8") as f:
            json.dump(info, f, indent=2, ensure_ascii=False, sort_keys=False)
            f.write("\n")
        for p in tmp.iterdir():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
        old = None
        if folder.exists():
            old = folder.parent / f".{folder.name}.old-{os.getpid()}"
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def resolve_checkpoint(ref: str | os.PathLike, *, allow_outside: bool = False) -> Path:
    """Turn a checkpoint name or path into a folder, refusing anything outside the roots.

    A relative name is looked up in each checkpoint root in turn; an absolute path must lie
    inside one of them. Symlinks are resolved before the check.
    """
    roots = checkpoint_roots()
    raw = os.fspath(ref)
    if not raw or "\x00" in raw:
        raise UnsafePath(f"invalid checkpoint name {raw!r}: give a folder name inside {_fmt(roots)}")
    p = Path(raw).expanduser()
    if allow_outside and p.resolve().is_dir():
        return p.resolve()
    candidates = [p.resolve()] if p.is_absolute() else [(r / p).resolve() for r in roots]
    for c in candidates:
        if not any(_inside(c, r) for r in roots):
            raise UnsafePath(
                f"refusing to load {raw!r}: it resolves to {c}, outside the checkpoint folders "
                f"{_fmt(roots)}. Load a checkpoint by its name inside those folders, or pass the "
                f"path yourself on the command line (--checkpoint PATH)."
            )
        if c.is_dir():
            return c
    raise CheckpointNotFound(f"no checkpoint folder {raw!r} in {_fmt(roots)}{_listing(roots)}")


def _fmt(roots: list[Path]) -> str:
    return ", ".join(str(r) for r in roots)


def _listing(roots: list[Path]) -> str:
    names = sorted(
        str(cfg.parent.relative_to(r)) for r in roots if r.is_dir() for cfg in r.rglob(CONFIG)
    )
    return f"; checkpoints there: {', '.join(names)}" if names else "; there are no checkpoints there yet"


def read_info(folder: Path) -> dict[str, Any]:
    cfg = folder / CONFIG
    if not cfg.is_file():
        raise CorruptCheckpoint(f"{folder} is not a checkpoint: it has no {CONFIG}")
    try:
        info = json.loads(cfg.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorruptCheckpoint(f"{cfg} is not valid JSON ({e}); the checkpoint is corrupt") from e
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CorruptCheckpoint(
            f"{cfg} is not a tokenworks checkpoint config (expected format {FORMAT!r}, "
            f"got {info.get('format') if isinstance(info, dict) else type(info).__name__!r})"
        )
    for key in ("kind", "config", "files"):
        if key not in info:
            raise CorruptCheckpoint(f"{cfg} lacks the field {key!r}; the checkpoint is corrupt")
    return info


def verify_files(folder: Path, info: Mapping[str, Any]) -> None:
    files = info.get("files") or {}
    if WEIGHTS not in files:
        raise CorruptCheckpoint(f"{folder / CONFIG} does not list {WEIGHTS}; the checkpoint is corrupt")
    for fname, meta in files.items():
        p = folder / fname
        if Path(fname).name != fname:
            raise CorruptCheckpoint(f"{folder / CONFIG} lists a file outside its folder: {fname!r}")
        if not p.is_file():
            raise CorruptCheckpoint(f"checkpoint {folder} is incomplete: {fname} is missing")
        size = p.stat().st_size
        if size != meta.get("size"):
            raise CorruptCheckpoint(
                f"checkpoint {folder} is corrupt: {fname} has {size} bytes, config.json records {meta.get('size')}"
            )
        if sha256_file(p) != meta.get("sha256"):
            raise CorruptCheckpoint(f"checkpoint {folder} is corrupt: {fname} fails its sha256 checksum")


def load_checkpoint(ref: str | os.PathLike, *, allow_outside: bool = False) -> Checkpoint:
    """Read and verify a checkpoint folder (never unpickles)."""
    folder = resolve_checkpoint(ref, allow_outside=allow_outside)
    info = read_info(folder)
    verify_files(folder, info)
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(folder / WEIGHTS))
    except (SafetensorError, OSError) as e:
        raise CorruptCheckpoint(f"{folder / WEIGHTS} cannot be read as safetensors: {e}") from e
    return Checkpoint(folder=folder, kind=str(info["kind"]), config=dict(info["config"]), tensors=tensors, info=info)


def load_trained(checkpoint: str | os.PathLike, name: str | None = None, train_command: str | None = None) -> Checkpoint:
    """``load_checkpoint`` for a shipped model: a missing folder says which tokenizer needs it and
    the command that trains it."""
    try:
        return load_checkpoint(checkpoint)
    except CheckpointNotFound as e:
        how = f" Train it with:\n  {train_command}" if train_command else ""
        raise CheckpointNotFound(
            f"{name or checkpoint}: its checkpoint {str(checkpoint)!r} has not been trained yet.{how}\n({e})"
        ) from None


def round_to_half(model: Any) -> None:
    """Round every float parameter of a torch module to the nearest float16 value (kept in its own dtype)."""
    import torch

    with torch.no_grad():
        for p in model.parameters():
            if p.is_floating_point():
                p.copy_(p.half().to(p.dtype))


def model_tensors(model: Any, weights: str = "float32") -> dict[str, Any]:
    """A torch module's state dict ready for ``save_checkpoint``. ``weights="float16"`` stores the
    parameters in half precision; the module's own parameters are rounded to those values first,
    so the live model and the one loaded back agree exactly. Buffers (codebooks) stay as they are."""
    if weights not in ("float32", "float16"):
        from .errors import InvalidInput

        raise InvalidInput(f"weights must be float32 or float16, not {weights!r}")
    params = {n for n, _ in model.named_parameters()}
    if weights == "float16":
        round_to_half(model)
    return {k: (v.detach().cpu().half() if weights == "float16" and k in params and v.is_floating_point()
                else v.detach().cpu())
            for k, v in model.state_dict().items()}
