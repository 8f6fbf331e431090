"""The Export button in a real browser: on the Text tab, export, wait for the file list, fetch the JSON
link and check it names the tokenizers shown. Same browser and app as tests/test_browser.py."""
from __future__ import annotations

import json
import os
from urllib.parse import unquote

import pytest

from test_browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.app]


def test_text_tab_export_gives_the_tokens_as_json(app_url):
    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    import tokenworks as tw
    from app.text_tab import DEFAULT_TOKENIZERS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(app_url)
            page.wait_for_selector("#tw-text-tokens .tw-tok", timeout=60_000)
            page.locator("#tw-text-export").click()
            links = page.locator("#tw-text-export-files a[href]")
            links.first.wait_for(timeout=60_000)
            urls = [links.nth(i).get_attribute("href") for i in range(links.count())]
            hrefs = {unquote(u.rsplit("/", 1)[-1]): u for u in urls}  # file name -> link
            assert {"text-tokens.json", "text-tokens.csv", "tokenworks-text.zip"} <= set(hrefs), hrefs
            reply = page.request.get(hrefs["text-tokens.json"])
            assert reply.ok, reply.status
            records = json.loads(reply.body())
            shown = [tw.load(n).name for n in DEFAULT_TOKENIZERS]
            assert [r["tokenizer"] for r in records] == shown
            assert all(r["n_tokens"] == len(r["ids"]) > 0 for r in records)
        finally:
            browser.close()
