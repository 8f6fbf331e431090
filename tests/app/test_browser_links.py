"""One real browser on the tabs' links (app/links.py; each tab's link() and restore()): a link opens
its tab with its settings and their result, and a copied link opens the same view in a new page."""
from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.app]


@pytest.fixture(scope="module")
def browser(chromium):
    with chromium() as b:
        yield b


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(url)
    return page


def _selected(page, name: str) -> bool:
    return page.get_by_role("tab", name=name, exact=True).get_attribute("aria-selected") == "true"


def _value(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input, #{elem_id} textarea").first.input_value()


def test_an_image_link_opens_the_tab_with_its_settings_and_reconstruction(browser, app_url,
                                                                         image_tokenizer_for_the_browser):
    ref, made = image_tokenizer_for_the_browser("links-test-tiny")  # a run made now: the link finds it anyway
    try:
        page = _open(browser, f"{app_url}?tab=image&model={ref}&sample=emoji-rocket.png&k=3&nope=1")
        page.wait_for_function(
            "() => document.querySelector('#tw-image-info')?.innerText.includes('3 of ')", timeout=60_000)
        assert _selected(page, "Image")
        assert _value(page, "tw-image-tokenizer") == ref
        assert _value(page, "tw-image-sample") == "emoji-rocket.png"
        assert page.locator("#tw-image-k input[type=number]").input_value() == "3"
        assert "sample 'emoji-rocket.png'" in page.locator("#tw-image-status").inner_text()
        src = page.locator("#tw-image-recon img").get_attribute("src", timeout=30_000)
        assert src  # the reconstruction from the first 3 tokens is drawn
        page.wait_for_function(  # the link box and the address bar name the view (other parameters kept)
            "() => document.querySelector('#tw-image-link textarea, #tw-image-link input')?.value.includes('k=3')",
            timeout=30_000)
        link = _value(page, "tw-image-link")
        assert f"tab=image&model={ref}&sample=emoji-rocket.png&k=3" in link
        assert "tab=image" in page.evaluate("window.location.search") and "nope=1" in page.evaluate(
            "window.location.search")
        page.close()
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def test_a_copied_audio_link_opens_the_same_k(browser, app_url, audio_tokenizer_for_the_browser):
    ref, made = audio_tokenizer_for_the_browser("links-test-codec")
    try:
        page = _open(browser, f"{app_url}?tab=audio&model={ref}&sample=espeak-en.wav")
        numbers = page.locator("#tw-audio-numbers")
        page.wait_for_function("() => document.querySelector('#tw-audio-numbers')?.innerText.includes('k = ')",
                               timeout=60_000)
        assert _selected(page, "Audio")
        K = int(numbers.inner_text().split(" of ", 1)[1].split()[0])
        assert K > 1
        slider = page.locator("#tw-audio-k input[type=range]")
        slider.focus()
        slider.press("Home")  # k = 1
        page.wait_for_function(
            "() => document.querySelector('#tw-audio-link textarea, #tw-audio-link input')?.value.includes('k=1')",
            timeout=30_000)
        link = _value(page, "tw-audio-link")
        assert link.startswith(app_url.rstrip("/")) and "tab=audio" in link and "sample=espeak-en.wav" in link
        page.close()
        again = _open(browser, link)
        again.wait_for_function(
            "K => document.querySelector('#tw-audio-numbers')?.innerText.includes(`k = 1 of ${K}`)", arg=K,
            timeout=60_000)
        assert _selected(again, "Audio")
        assert again.locator("#tw-audio-k input[type=number]").input_value() == "1"
        assert _value(again, "tw-audio-sample") == "espeak-en.wav"
        again.close()
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
