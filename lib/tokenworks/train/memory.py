"""Will this training config fit in memory? An estimate made before anything large is allocated.

    est = estimate_training_memory(build, forward, batch_size=128, data_bytes=images.nbytes, device=dev)
    check_fits(est)   # InvalidInput saying what it needs, what there is, and what to lower

The parameters are counted on the meta device (no memory used, so a model too large to build is
caught too). Activations are measured, not guessed: a forward pass of ``PROBE_ITEMS`` examples
on the CPU with hooks summing every module's outputs, scaled to the batch and doubled for the
backward pass. Weights, gradients and the two AdamW moments take 16 bytes per float32 parameter.
The estimate must stay under ``HEADROOM`` of the memory available now.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from ..errors import InvalidInput

PROBE_ITEMS = 2  # examples in the measuring forward pass
BYTES_PER_PARAM = 16  # float32 weight + gradient + AdamW exp_avg + exp_avg_sq
BACKWARD_FACTOR = 2.0  # activations kept for backward plus their gradients
HEADROOM = 0.8  # use at most this share of the available memory
GiB = float(1 << 30)


@dataclass
class MemoryEstimate:
    device: str
    params: int
    state_bytes: int  # weights, gradients, optimizer moments
    activation_bytes: int  # one training batch, forward and backward (-1: not measured, the state alone is too big)
    data_bytes: int  # training data held in memory
    batch_size: int
    available_bytes: int  # free memory of the device now

    @property
    def total_bytes(self) -> int:
        return self.state_bytes + max(self.activation_bytes, 0) + self.data_bytes

    @property
    def fits(self) -> bool:
        return self.activation_bytes >= 0 and self.total_bytes <= HEADROOM * self.available_bytes

    def max_batch(self) -> int:
        """The largest batch that would fit with this model and data (0: none)."""
        if self.activation_bytes <= 0:
            return 0
        per_item = self.activation_bytes / self.batch_size
        room = HEADROOM * self.available_bytes - self.state_bytes - self.data_bytes
        return max(0, int(room // per_item))


def available_bytes(device: torch.device | str) -> int:
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    import psutil

    return int(psutil.virtual_memory().available)


def estimate_training_memory(build: Callable[[], torch.nn.Module], forward: Callable[[torch.nn.Module, int], Any],
                             *, batch_size: int, data_bytes: int, device: torch.device | str) -> MemoryEstimate:
    """``build()`` makes the model (called under the meta device, then once on the CPU when its
    state fits); ``forward(model, n)`` runs it on ``n`` examples."""
    if batch_size < 1:
        raise InvalidInput(f"batch_size must be at least 1, not {batch_size}")
    with torch.device("meta"):
        meta = build()
    params = sum(p.numel() for p in meta.parameters())
    state = params * BYTES_PER_PARAM
    avail = available_bytes(device)
    est = MemoryEstimate(device=str(device), params=params, state_bytes=state, activation_bytes=-1,
                         data_bytes=int(data_bytes), batch_size=int(batch_size), available_bytes=avail)
    if state + data_bytes > HEADROOM * avail:
        return est
    model = build().eval()
    total = [0]

    def hook(_m: torch.nn.Module, _i: Any, out: Any) -> None:
        for t in out if isinstance(out, (tuple, list)) else getattr(out, "__dict__", {}).values() or [out]:
            if isinstance(t, torch.Tensor):
                total[0] += t.numel() * t.element_size()

    leaves = [m for m in model.modules() if next(m.children(), None) is None]  # containers would count twice
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        with torch.no_grad():
            forward(model, PROBE_ITEMS)
    finally:
        for h in handles:
            h.remove()
    est.activation_bytes = int(total[0] / PROBE_ITEMS * batch_size * BACKWARD_FACTOR)
    return est


def check_fits(est: MemoryEstimate, *, hint: str = "the model size") -> None:
    """Raise InvalidInput when the estimate does not fit, saying what to lower."""
    if est.fits:
        return
    room = f"{est.available_bytes / GiB:.1f} GiB free on the {est.device}"
    if est.activation_bytes < 0:
        raise InvalidInput(f"this config cannot fit in memory: the model has {est.params:,} parameters, "
                           f"{est.state_bytes / GiB:.1f} GiB with gradients and AdamW state, plus "
                           f"{est.data_bytes / GiB:.2f} GiB of training data, but there are {room}; "
                           f"make {hint} smaller")
    best = est.max_batch()
    fix = f"lower batch_size to at most {best}" if best >= 1 else f"make {hint} smaller"
    raise InvalidInput(f"this config cannot fit in memory: it needs about {est.total_bytes / GiB:.1f} GiB "
                       f"(model and optimizer {est.state_bytes / GiB:.2f} GiB, activations "
                       f"{est.activation_bytes / GiB:.1f} GiB for a batch of {est.batch_size:,}, data "
                       f"{est.data_bytes / GiB:.2f} GiB) and at most {HEADROOM:.0%} of the {room} may be used; {fix}")


__all__ = ["MemoryEstimate", "estimate_training_memory", "check_fits", "available_bytes"]
