"""What every bench function uses: the ``Row`` it reports, the ``BenchContext`` it appends to, and
the timers (``timeit``: median, ``p95``, ``wall_times``, ``percentile``); ``machine`` describes the machine for the
report header.

Machines are shared and noisy, so every row reports a ratio to an anchor timed in the same
process moments apart, and the median of several repeats.
"""
from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .._version import __version__


@dataclass
class Row:
    group: str  # e.g. "text"
    name: str  # what is measured, e.g. "text/bytes encode"
    value: float
    unit: str  # e.g. "MB/s"
    anchor: str  # what it is compared with, e.g. "bytes(str.encode('utf-8'))"
    anchor_value: float
    ratio: float  # relative to the anchor, > 1 is better: value/anchor for rates (MB/s) and quality (dB, share),
    # anchor/value for times (s, ms)
    notes: str = ""


@dataclass
class BenchContext:
    quick: bool  # fewer repeats and smaller inputs (tests)
    repeats: int = 5
    rows: list[Row] = field(default_factory=list)
    targets: list[Any] = field(default_factory=list)  # bench.targets.Target judged during the run (audio's)


def machine() -> dict[str, object]:
    """What this machine is, for the report header."""
    info: dict[str, object] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "tokenworks": __version__,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    try:
        import numpy
        import torch

        info.update(numpy=numpy.__version__, torch=torch.__version__, torch_threads=torch.get_num_threads(),
                    cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    except ImportError:
        pass
    return info


def wall_times(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall times of ``fn()`` over ``repeats`` runs after one warm-up, in seconds."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def timeit(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs after one warm-up, in seconds."""
    return statistics.median(wall_times(fn, repeats))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolated linearly like numpy.percentile's default."""
    s = sorted(values)
    pos = q / 100 * (len(s) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def p95(fn: Callable[[], object], repeats: int) -> float:
    """95th percentile wall time of ``fn()`` over ``repeats`` runs after one warm-up, in seconds."""
    return percentile(wall_times(fn, repeats), 95)
