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

QUANTIZERS: dict[str, tuple[type, type]] = {  # name -> (class, its config class)
    "vq": (VQ, VQConfig),
    "rvq": (RVQ, RVQConfig),
    "fsq": (FSQ, FSQConfig),
    "lfq": (LFQ, LFQConfig),
    "glfq": (GLFQ, GLFQConfig),
}


def make_quantizer(name: str, **cfg) -> Quantizer:
    """A quantizer by name: ``make_quantizer("fsq", levels=(8, 5, 5, 5), dim=64)``."""
    if name not in QUANTIZERS:
        raise InvalidInput(f"unknown quantizer {name!r}; valid names are {', '.join(map(repr, QUANTIZERS))}")
    cls, config_cls = QUANTIZERS[name]
    fields = set(config_cls.__dataclass_fields__)
    unknown = sorted(set(cfg) - fields)
    if unknown:
        raise InvalidInput(
            f"{name} quantizer has no option {', '.join(unknown)}; its options are {', '.join(sorted(fields))}"
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
    "QUANTIZERS",
    "Quantizer",
    "QuantizerOutput",
    "VQ",
    "VQConfig",
    "code_stats",
    "make_quantizer",
    "measure",
]
