"""One real browser: Playwright drives Debian's chromium (no browser download) through the app.

The screenshots it takes are the README's (docs/screenshots/).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.app]

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def page(app_url):
    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 860})
        pg.goto(app_url)
        pg.wait_for_selector("#tw-text-tokens .tw-tok", timeout=60_000)
        yield pg
        browser.close()


def test_typing_text_renders_its_tokens(page):
    box = page.locator("#tw-text-input textarea")
    box.click()
    box.press("Control+A")
    box.press("Delete")
    text = "Hello, wörld 👋 数字"
    box.press_sequentially(text, delay=10)
    page.locator("#tw-text-run").click()
    import tokenworks as tw

    bpe_ids = tw.load_shared("text/cl100k_base").encode(text).tolist()
    n_bytes = len(text.encode("utf-8"))
    chips = page.locator("#tw-text-tokens .tw-tok")
    page.wait_for_function(
        f"document.querySelectorAll('#tw-text-tokens .tw-tok').length === {len(bpe_ids) + n_bytes}", timeout=30_000
    )
    # the default view: cl100k_base first, then text/bytes; chips carry the ids in order
    ids = [int(chips.nth(i).get_attribute("data-id")) for i in range(len(bpe_ids) + n_bytes)]
    assert ids[: len(bpe_ids)] == bpe_ids
    assert ids[len(bpe_ids):] == list(text.encode("utf-8"))
    # the emoji is cut across byte-level tokens: dashed chips labelled by their bytes
    partial = page.locator("#tw-text-tokens .tw-partial").first
    assert "<0x" in partial.inner_text()
    assert "part of a character" in partial.get_attribute("title")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1000)  # let the pending-state fade finish before the picture
    page.screenshot(path=str(SHOTS / "text_tab.png"), full_page=True)


def test_library_tab_lists_tokenizers(page):
    page.get_by_role("tab", name="Library").click()
    table = page.locator("#tw-library-tokenizers")
    table.get_by_text("text/chars").first.wait_for(timeout=30_000)
    assert table.get_by_text("text/bytes").count() >= 1
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "library_tab.png"), full_page=True)
    page.get_by_role("tab", name="Text").click()
