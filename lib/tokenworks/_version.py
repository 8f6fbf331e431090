"""The version of tokenworks: one place, imported by the package and by what records it
(checkpoints, bench reports) without importing the whole package."""
__version__ = "0.1.0"
