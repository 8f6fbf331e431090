"""Errors that teach: each one says what was wrong and what is allowed.

Every error the library raises on purpose derives from ``TokenworksError``, so the app and the
CLI can show its message to a person instead of a traceback.
"""
from __future__ import annotations


class TokenworksError(Exception):
    """Base class: the message is written for the person using tokenworks."""


class UnknownTokenizer(TokenworksError, KeyError):
    """A tokenizer name that the registry does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidInput(TokenworksError, ValueError):
    """Input of the wrong type, size or content."""


class InvalidIds(TokenworksError, ValueError):
    """Token ids that the tokenizer cannot decode."""


class UnsafePath(TokenworksError, PermissionError):
    """A path outside the folders tokenworks is allowed to load from."""


class CorruptCheckpoint(TokenworksError, ValueError):
    """A checkpoint folder that is incomplete, unreadable or fails its checksums."""


class AssetMissing(TokenworksError, FileNotFoundError):
    """An offline asset that is not in the cache yet; the message names the command that gets it."""


class CheckpointNotFound(TokenworksError, FileNotFoundError):
    """A checkpoint name that names no folder; the message lists the checkpoints there are."""


class StorageFull(TokenworksError, OSError):
    """The disk filled up while writing; what was written before is intact."""
