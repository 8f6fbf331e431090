"""Tiny language models trained with different tokenizers, and the probes of the tokenizer tournament."""
