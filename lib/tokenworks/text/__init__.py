"""Text tokenizers: one algorithm per file."""
