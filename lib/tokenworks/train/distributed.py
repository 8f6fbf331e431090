"""Several processes, one model: the torch.distributed plumbing of the trainers (torchrun + DDP).

    torchrun --nproc_per_node=2 -m tokenworks.image.train --model grid --preset cpu-tiny --device cpu

torchrun starts N copies of the program with RANK, LOCAL_RANK and WORLD_SIZE (and MASTER_ADDR /
MASTER_PORT) in their environment. ``init_distributed`` joins them into one process group (gloo
on the CPU; nccl on CUDA, one GPU per process) and returns a ``DistInfo``. Without torchrun, or
with one process, it returns world size 1 and creates nothing: every helper here is then a no-op
and a single-process run does exactly what it did before.

Sharding (as torch's DistributedSampler): every rank draws the same global batch of B items and
rank r trains on items r, r + W, r + 2W, ... (``shard(x) == x[r::W]``), B / W of them. DDP
averages the gradients, so with equal shards the step is the step one process takes on the whole
global batch. ``gather_shards`` puts the shards back together in global order.

With nccl a second, gloo group carries the few numbers the ranks must agree on every step (the
stop flag, rank 0's clock: ``agree``) without waiting for the GPU. ``Agreement`` is the trainers'
stop flag under DDP: the minutes budget and a stop request agreed on by every rank each step.
"""
from __future__ import annotations

import atexit
import contextlib
import gc
import inspect
import os
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch
import torch.distributed as dist

from ..errors import InvalidInput
from .common import pick_device
from .loop import StepContext, StopFlag, stop_requested

BACKENDS = ("gloo", "nccl")


@dataclass
class DistInfo:
    rank: int  # this process, 0..world_size-1 (0 writes checkpoints and logs)
    world_size: int  # W: processes training one model (1: no process group)
    local_rank: int  # this process on its machine (its GPU: cuda:local_rank)
    backend: str | None  # gloo | nccl (None: world size 1, no process group)
    device: torch.device  # where this process trains

    @property
    def is_main(self) -> bool:
        return self.rank == 0


_CONTROL: list[Any] = []  # the gloo group of `agree` (the default group when it is gloo itself)
# The tensors of the last collectives, kept referenced from Python. A gloo worker thread drops its
# reference to a finished collective a moment after the caller has moved on; if Python had let go
# of the tensors by then, that drop must take the GIL, and when the interpreter is shutting down
# (a rank that ends right after its last collective) that aborts the process.
_RECENT: deque[torch.Tensor] = deque(maxlen=32)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"environment variable {name} must be an integer (torchrun sets it), not {raw!r}") from None


def init_distributed(device: str = "auto", backend: str | None = None) -> DistInfo:
    """Join the torchrun process group (once: later calls return the same) and pick this rank's device.

    ``device``: auto | cpu | cuda (under torchrun rank r uses cuda:LOCAL_RANK); ``backend``:
    None (nccl on CUDA, gloo on the CPU), gloo or nccl. Without torchrun (WORLD_SIZE unset or 1)
    nothing is initialised and the device is ``pick_device(device)``.
    """
    if backend is not None and backend not in BACKENDS:
        raise InvalidInput(f"backend must be one of {', '.join(BACKENDS)} or None (by device), not {backend!r}")
    initialised = dist.is_available() and dist.is_initialized()
    world = dist.get_world_size() if initialised else _env_int("WORLD_SIZE", 1)
    if world <= 1:
        if backend == "nccl" and not torch.cuda.is_available():
            raise InvalidInput("backend nccl needs CUDA GPUs and torch sees none; use gloo (or no backend) on the CPU")
        return DistInfo(rank=0, world_size=1, local_rank=0, backend=None, device=pick_device(device))
    if not dist.is_available():
        raise InvalidInput(f"WORLD_SIZE is {world} (torchrun) but this torch build has no torch.distributed")
    local_rank = _env_int("LOCAL_RANK", 0)
    if device not in ("auto", "cpu", "cuda"):
        raise InvalidInput(f"under torchrun the device must be auto, cpu or cuda (rank r uses cuda:LOCAL_RANK), "
                           f"not {device!r}")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if initialised:  # joined already (e.g. by the program that runs this trainer): keep its backend
        if backend is not None and backend != dist.get_backend():
            raise InvalidInput(f"the process group already uses {dist.get_backend()}, not {backend}")
        backend = dist.get_backend()
        if backend == "nccl" and device == "cpu":
            raise InvalidInput("the process group uses nccl (GPUs) but device cpu was asked for; use --device cuda")
        use_cuda = backend == "nccl"
    backend = backend or ("nccl" if use_cuda else "gloo")
    if backend == "nccl" and not (use_cuda and torch.cuda.is_available()):
        raise InvalidInput("backend nccl needs CUDA GPUs (device cuda or auto with a GPU present); "
                           "torch sees none or the device is cpu: use gloo with --device cpu")
    if backend == "gloo" and use_cuda:
        raise InvalidInput("on CUDA GPUs use the nccl backend (gloo here is for the CPU); or train on --device cpu")
    if backend == "gloo" and not dist.is_gloo_available():
        raise InvalidInput("this torch build has no gloo backend, which CPU training with several processes needs")
    if use_cuda:
        gpus = torch.cuda.device_count()
        if local_rank >= gpus:
            raise InvalidInput(f"device cuda with more processes per machine than GPUs: LOCAL_RANK {local_rank} "
                               f"but torch sees {gpus} GPU(s); use torchrun --nproc_per_node={gpus} (one GPU each)")
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if not initialised:
        dist.init_process_group(backend=backend)
        atexit.register(cleanup)  # leave the group before the interpreter shuts down (see cleanup)
    if not _CONTROL:
        _CONTROL.append(dist.new_group(backend="gloo") if backend != "gloo" else None)
    return DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank,
                    backend=backend, device=dev)


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world() -> int:
    """The number of processes training together (1 without a process group)."""
    return dist.get_world_size() if _active() else 1


def rank() -> int:
    return dist.get_rank() if _active() else 0


def is_main() -> bool:
    """True on rank 0 (and in a single process): the one that logs and writes checkpoints."""
    return rank() == 0


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s picklable ``obj`` on every rank (``obj`` itself in a single process)."""
    if not _active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum ``t`` over the ranks, in place; returns ``t``."""
    if _active():
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        _RECENT.append(t)
    return t


def all_reduce_mean(t: torch.Tensor) -> torch.Tensor:
    """Average ``t`` (float) over the ranks, in place; returns ``t``."""
    if _active():
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        _RECENT.append(t)
        t.div_(dist.get_world_size())
    return t


def broadcast_tensor(t: torch.Tensor, src: int = 0) -> torch.Tensor:
    """Overwrite ``t`` on every rank with rank ``src``'s, in place; returns ``t``."""
    if _active():
        dist.broadcast(t, src=src)
        _RECENT.append(t)
    return t


def wrap_ddp(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel (``model`` itself in a single process). Buffers are
    synced from rank 0 once, not at every forward: modules with buffers that change in training
    keep them in step themselves (quantizers/vq.py)."""
    if not _active():
        return model
    from torch.nn.parallel import DistributedDataParallel

    params = inspect.signature(DistributedDataParallel.__init__).parameters
    no_sync = {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None, **no_sync)


def local_batch_size(batch_size: int, world_size: int) -> int:
    """B / W: the images one rank trains on per step; B must be a multiple of W."""
    if batch_size % world_size:
        lower = batch_size - batch_size % world_size
        raise InvalidInput(f"batch_size {batch_size} is not divisible by the {world_size} processes (torchrun "
                           f"--nproc_per_node x nodes): each trains on batch_size / {world_size} images; use a "
                           f"multiple of {world_size}, e.g. {lower or world_size} or {lower + world_size}")
    return batch_size // world_size


def shard(x: Any, rank_: int | None = None, world_size: int | None = None) -> Any:
    """This rank's part of a global batch (tensor or numpy array): ``x[rank::W]`` (x itself when W is 1)."""
    W = world() if world_size is None else world_size
    r = rank() if rank_ is None else rank_
    return x if W == 1 else x[r::W]


def gather_shards(x: torch.Tensor) -> torch.Tensor:
    """The inverse of ``shard``: every rank's (b, ...) -> the global (W * b, ...), row i from rank i % W.

    Every rank must pass the same shape. x itself in a single process.
    """
    if not _active():
        return x
    W = dist.get_world_size()
    x = x.contiguous()
    parts = [torch.empty_like(x) for _ in range(W)]
    dist.all_gather(parts, x)
    _RECENT.extend([x, *parts])
    return torch.stack(parts, dim=1).reshape(W * x.shape[0], *x.shape[1:])  # (b, W, ...) -> (W * b, ...)


def agree(values: Sequence[float]) -> list[float]:
    """Sum a few numbers over the ranks on the CPU (gloo), so every rank sees the same; no GPU sync."""
    if not _active():
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64)  # (n,)
    dist.all_reduce(t, op=dist.ReduceOp.SUM, group=_CONTROL[0] if _CONTROL else None)
    _RECENT.append(t)
    return t.tolist()


def same_on_all_ranks(t: torch.Tensor) -> bool:
    """True when every rank holds exactly this (small) tensor (True in a single process)."""
    if not _active():
        return True
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    t = t.contiguous()
    dist.all_gather(parts, t)
    _RECENT.extend([t, *parts])
    return all(torch.equal(p, parts[0]) for p in parts)


def fingerprint(model: torch.nn.Module) -> torch.Tensor:
    """(2 * tensors,) float64: the sum and the sum of squares of every weight and buffer, to compare
    the ranks' models cheaply (``same_on_all_ranks(fingerprint(model))``)."""
    ts = [t.detach().double() for t in model.state_dict().values()]
    return torch.stack([v for t in ts for v in (t.sum(), t.pow(2).sum())])  # (2 * tensors,)


class Agreement:
    """What every rank must see alike at each step: rank 0's clock (the minutes budget and the LR
    schedule follow it) and the stop flag (set on any rank, e.g. rank 0's job runner). One small
    all-reduce on the CPU per step (``agree``); the run then ends on every rank after the same step.
    It is the loop's stop flag: ``run_steps(..., stop=agreement)``, with ``agreement.progress(ctx)``
    called at the start of every step."""

    def __init__(self, stop: StopFlag, minutes: float | None, elapsed: float, is_main_rank: bool) -> None:
        self.stop, self.budget, self.is_main = stop, (minutes * 60.0 if minutes else None), is_main_rank
        self.elapsed0, self.t0 = elapsed, time.perf_counter()  # seconds trained before this process
        self.stopping, self.reason = False, "stopped"

    def progress(self, ctx: StepContext) -> float:
        """Agree before step ``ctx.step``; the larger of steps done and rank 0's budget used."""
        asked = stop_requested(self.stop)  # as run_steps: None means a job runner's signal or STOP file
        mine = self.elapsed0 + time.perf_counter() - self.t0 if self.is_main else 0.0
        votes, elapsed = agree([float(asked), mine])  # (any rank's stop, rank 0's seconds)
        out_of_time = self.budget is not None and elapsed >= self.budget
        self.stopping = votes > 0 or out_of_time
        self.reason = "stopped" if votes > 0 else "minutes"
        return min(1.0, max(ctx.step / ctx.steps, elapsed / self.budget if self.budget else 0.0))

    def __call__(self) -> bool:
        return self.stopping


def barrier() -> None:
    """Wait until every rank gets here (on the CPU group; nothing in a single process)."""
    if _active():
        dist.barrier(group=_CONTROL[0] if _CONTROL else None)


@contextlib.contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (e.g. builds a missing data cache), the other ranks after it."""
    if not is_main():
        barrier()
    yield
    if is_main():
        barrier()


def cleanup() -> None:
    """Leave the process group (idempotent; nothing without one); ``init_distributed`` registers
    it with atexit. Unreachable objects that hold the group (a DistributedDataParallel) are
    collected first."""
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()
    _CONTROL.clear()
    _RECENT.clear()


__all__ = ["DistInfo", "BACKENDS", "init_distributed", "world", "rank", "is_main", "broadcast_object",
           "all_reduce_sum", "all_reduce_mean", "broadcast_tensor", "wrap_ddp", "local_batch_size", "shard", "gather_shards",
           "agree", "same_on_all_ranks", "fingerprint", "Agreement", "barrier", "main_first", "cleanup"]
