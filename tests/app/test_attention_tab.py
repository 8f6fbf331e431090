"""The Attention tab's handler (app/attention_tab.py) over MiniLM's attention maps: figure and status,
messages instead of tracebacks, and its endpoint in the running app (the library:
tests/text/test_attention.py)."""
from __future__ import annotations

import pytest

from tokenworks.errors import AssetMissing
from tokenworks.text import attention as attn


needs_model = pytest.mark.usefixtures("minilm_model")  # skips without the asset (tests/conftest.py)


# ---- the tab's handler ----------------------------------------------------------------------

def test_handler_messages_not_tracebacks(monkeypatch):
    pytest.importorskip("gradio")
    from app import attention_tab

    fig, msg = attention_tab.show_attention("", "average", "average")
    assert fig is None and "empty" in msg

    fig, msg = attention_tab.show_attention("hello", "9", "average")
    assert fig is None and "0..5" in msg

    def missing(*a, **k):
        raise AssetMissing("asset 'minilm-model' is not in the cache; run `tokenworks assets fetch minilm-model`")

    monkeypatch.setattr(attn, "model_dir", missing)
    attention_tab._cached.cache_clear()
    fig, msg = attention_tab.show_attention("a sentence never seen before", "0", "3")
    assert fig is None and "tokenworks assets fetch minilm-model" in msg and "Traceback" not in msg
    attention_tab._cached.cache_clear()


@needs_model
def test_handler_returns_figure_and_status():
    from app import attention_tab

    fig, msg = attention_tab.show_attention(attention_tab.DEFAULT_SENTENCE, "2", "average")
    assert fig is not None and "tokens" in msg
    fig, msg = attention_tab.show_attention(attention_tab.DEFAULT_SENTENCE, "average", "4")
    assert fig is None and "choose a layer" in msg


@needs_model
@pytest.mark.app
def test_attention_endpoint_of_the_running_app(app_url):
    """The tab's handler through the running app's API: a figure for a sentence, a message for none."""
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    plot, msg = client.predict("Attention is all you need.", "0", "average", api_name="/attention")
    assert plot is not None and "tokens" in msg
    plot, msg = client.predict("", "0", "average", api_name="/attention")
    assert plot is None and "empty" in msg
