"""Metrics: text, reconstruction, codebook health, rate."""
