"""Teaching scaffolding for the notebooks and the app's Learn tab, built on the library's own code:
``quantizer_lab`` (VQ from scratch on 2-D points and patches, notebook 03), ``bpe_exercises`` (the
checkers of notebook 01's BPE exercises) and ``bpe_replay`` (BPE training and encoding replayed
merge by merge)."""
