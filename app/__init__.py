"""The tokenworks Gradio app: one module per tab, each with build(); handlers call the library."""
import os

# offline first: no analytics or version pings from a machine that may have no network
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# One BLAS thread per request: the server shares two cores among many requests (app/scheduling.py),
# and OpenBLAS's own threads spinning beside torch's made an Audio analysis cost 2.0 s of CPU instead
# of 0.8 s (measured on the loaded machine: numpy and scipy read this before they load OpenBLAS).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
