"""Vector quantizers, one per file, all with the interface in ``base.py``.

``make_quantizer("vq", dim=64, codebook_size=512)`` builds one by name from its config fields.
"""
from __future__ import annotations

from ..errors import InvalidInput
from .base import Quantizer, QuantizerOutput, code_stats
from .fsq import FSQ, FSQConfig
from .glfq import GLFQ, GLFQConfig
from .health import CodebookHealth, HealthReport, LevelHealth, measure
from .lfq import LFQ, LFQConfig
from .rvq import RVQ, RVQConfig
from .vq import VQ, VQConfig

KINDS: dict[str, tuple[type, type]] = {
    "vq": (VQ, VQConfig),
    "rvq": (RVQ, RVQConfig),
    "fsq": (FSQ, FSQConfig),
    "lfq": (LFQ, LFQConfig),
    "glfq": (GLFQ, GLFQConfig),
}


def make_quantizer(kind: str, **cfg) -> Quantizer:
    """A quantizer by name: ``make_quantizer("fsq", levels=(8, 5, 5, 5), dim=64)``."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown quantizer {kind!r}; valid kinds are {', '.join(map(repr, KINDS))}")
    cls, config_cls = KINDS[kind]
    fields = set(config_cls.__dataclass_fields__)
    unknown = sorted(set(cfg) - fields)
    if unknown:
        raise InvalidInput(
            f"{kind} quantizer has no option {', '.join(unknown)}; its options are {', '.join(sorted(fields))}"
        )
    return cls(config_cls(**cfg))


__all__ = [
    "CodebookHealth",
    "FSQ",
    "FSQConfig",
    "GLFQ",
    "GLFQConfig",
    "HealthReport",
    "LFQ",
    "LFQConfig",
    "LevelHealth",
    "RVQ",
    "RVQConfig",
    "KINDS",
    "Quantizer",
    "QuantizerOutput",
    "VQ",
    "VQConfig",
    "code_stats",
    "make_quantizer",
    "measure",
]
