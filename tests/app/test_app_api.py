"""The running app, driven through gradio_client on loopback."""
from __future__ import annotations

import pytest
from gradio_client import Client

pytestmark = pytest.mark.app


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_tokenize_endpoint(client):
    html, records = client.predict("héllo 👋", ["text/bytes", "text/chars"], api_name="/tokenize")
    assert records[0]["ids"] == list("héllo 👋".encode("utf-8"))
    assert records[1]["n_tokens"] == 7
    assert html.count('class="tw-tok') == len("héllo 👋".encode("utf-8")) + 7


def test_unknown_tokenizer_is_a_message_not_a_crash(client):
    with pytest.raises(Exception) as e:
        client.predict("x", ["text/nope"], api_name="/tokenize")
    assert "text/nope" in str(e.value) and "text/bytes" in str(e.value)  # names the valid choices
    # and the server still answers
    _, records = client.predict("ok", ["text/chars"], api_name="/tokenize")
    assert records[0]["ids"] == [111, 107]


def test_server_binds_loopback_only(app_url):
    assert app_url.startswith("http://127.0.0.1:")


def test_library_errors_reach_the_client_as_messages(client):
    with pytest.raises(Exception) as e:
        client.predict("x" * 100_001, ["text/bytes"], api_name="/tokenize")
    assert "100,000" in str(e.value) and "Traceback" not in str(e.value)
