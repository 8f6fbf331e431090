"""tokenworks: tokenize text, images and audio; inspect the tokens; compare and train tokenizers.

    import tokenworks as tw
    tok = tw.load("text/bytes")
    seq = tok.encode("héllo")
    tok.decode(seq) == "héllo"
"""
import os as _os

from ._version import __version__

# OpenMP threads that spin while waiting make torch up to 100x slower on a CPU shared with other
# work (measured on 2 cores: 12 training steps 58 s spinning, 0.5 s passive). Passive waiting costs
# nothing on an idle machine; an explicit setting wins. It only takes effect if torch is imported
# after tokenworks (the Makefile exports it too).
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .core import (  # noqa: E402
    MODALITIES,
    Span,
    Tokenizer,
    TokenSeq,
    capabilities,
)
from .errors import (  # noqa: E402
    AssetMissing,
    CheckpointNotFound,
    CorruptCheckpoint,
    InvalidIds,
    InvalidInput,
    TokenworksError,
    UnknownTokenizer,
    UnsafePath,
)
from .registry import available, describe, load, load_ref, load_shared, trained_runs  # noqa: E402
from .registry import load_checkpoint_tokenizer as load_checkpoint  # noqa: E402


def load_lm(ref: str = "lm/smollm2-135m"):
    """A language model, loaded once per process and shared (see ``tokenworks.lm``)."""
    from .lm import load_lm as _load_lm

    return _load_lm(ref)


__all__ = [
    "__version__", "MODALITIES", "Span", "Tokenizer", "TokenSeq", "capabilities",
    "AssetMissing", "CheckpointNotFound", "CorruptCheckpoint", "InvalidIds", "InvalidInput",
    "TokenworksError", "UnknownTokenizer", "UnsafePath",
    "available", "describe", "load", "load_shared", "load_ref", "trained_runs", "load_checkpoint", "load_lm",
]
