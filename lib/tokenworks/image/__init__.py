"""Image tokenizers, data and classical codec baselines."""
