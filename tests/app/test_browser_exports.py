"""The Export button in a real browser: on the Text tab, export, wait for the file list, fetch the JSON
link and check it names the tokenizers shown. The same browser, page and app as tests/app/test_browser.py
(the fixtures page and app_url: tests/app/conftest.py, tests/conftest.py)."""
from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.app]


def test_text_tab_export_gives_the_tokens_as_json(page):
    import tokenworks as tw
    from app.text_tab import DEFAULT_TOKENIZERS

    page.locator("#tw-text-export-box").get_by_text("Export", exact=True).first.click()  # the section opens
    page.locator("#tw-text-export").click()
    links = page.locator("#tw-text-export-files a[href]")
    links.first.wait_for(timeout=60_000)
    urls = [links.nth(i).get_attribute("href") for i in range(links.count())]
    hrefs = {unquote(u.rsplit("/", 1)[-1]): u for u in urls}  # file name -> link
    assert {"text-tokens.json", "text-tokens.csv", "tokenworks-text.zip"} <= set(hrefs), hrefs
    reply = page.request.get(hrefs["text-tokens.json"])
    assert reply.ok, reply.status
    records = json.loads(reply.body())
    assert [r["tokenizer"] for r in records] == [tw.load(n).name for n in DEFAULT_TOKENIZERS]
    assert all(r["n_tokens"] == len(r["ids"]) > 0 for r in records)
