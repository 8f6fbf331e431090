"""The tokenworks Gradio app: one module per tab, each with build(); handlers call the library."""
import os

# offline first: no analytics or version pings from a machine that may have no network
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
