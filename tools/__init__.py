"""Tools that drive this checkout (its app/), run from the checkout's root: ``python -m tools.loadtest``."""
