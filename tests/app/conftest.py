"""Fixtures the app's tests share: tiny untrained image tokenizers saved as runs (the tokenizers
and the tiny codec and tone come from tests/conftest.py), a tiny in-memory UDHR language, and the browser (Debian's chromium
through Playwright) with its helpers.

Test modules never import each other: a helper used by more than one file is a fixture here (a
fixture that returns the helper function when the test calls it with its own arguments)."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

# ---- tiny models -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def save_tiny_image_runs(tiny_image_tokenizer):
    """``save_tiny_image_runs(runs)``: a tiny untrained flex1d (16 tokens, V = 1000) and grid saved
    under ``runs`` as `tokenworks train` would: run:image/tiny-flex1d and run:image/tiny-grid."""
    def save(runs: Path) -> None:
        tiny_image_tokenizer("flex1d").save(runs / "image" / "tiny-flex1d")
        tiny_image_tokenizer("grid").save(runs / "image" / "tiny-grid")

    return save


# ---- the Languages tab ---------------------------------------------------------------------------

def _lang(code, text, lat=10.0, lon=20.0, script="Latn", family=None):
    from tokenworks.text.udhr import Language

    return Language(code=code, name=code.upper(), bcp47=code, iso6393=code, direction="ltr", stage=4,
                    latitude=lat, longitude=lon, script=script,
                    script_name={"Latn": "Latin", "Cyrl": "Cyrillic"}[script], family=family,
                    articles={n: text for n in range(1, 31)})


@pytest.fixture(scope="session")
def lang():
    """``lang(code, text, lat=10, lon=20, script="Latn", family=None)``: a UDHR Language whose 30
    articles are all ``text``."""
    return _lang


# ---- the browser ---------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage",
]


@contextlib.contextmanager
def _chromium():
    """Debian's headless Chromium (skipped here without it, a failure in CI); closed afterwards."""
    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def chromium():
    """``with chromium() as browser:`` Debian's headless Chromium, closed afterwards."""
    return _chromium


@pytest.fixture(scope="module")
def page(app_url, chromium):
    """A page of the served app in Debian's chromium, its Text tab's tokens shown."""
    with chromium() as browser:
        pg = browser.new_page(viewport={"width": 1280, "height": 860})
        pg.goto(app_url)
        pg.wait_for_selector("#tw-text-tokens .tw-tok", timeout=60_000)
        yield pg


@pytest.fixture(scope="session")
def image_tokenizer_for_the_browser(tiny_image_tokenizer):
    """``image_tokenizer_for_the_browser(tmp_name) -> (ref, folder to remove or None)``: the shipped
    image/flex1d-emoji64 when its checkpoint is here, else a tiny untrained flex1d saved as a run
    the app can list (its folder, to remove afterwards)."""
    def make(tmp_name: str):
        import tokenworks as tw
        from tokenworks.paths import runs_dir

        try:
            tw.load_ref("image/flex1d-emoji64")
            return "image/flex1d-emoji64", None
        except tw.CheckpointNotFound:
            pass
        folder = runs_dir() / "image" / tmp_name
        tiny_image_tokenizer("flex1d", name=f"image/{tmp_name}").save(folder)
        return f"run:image/{tmp_name}", folder

    return make


@pytest.fixture(scope="session")
def audio_tokenizer_for_the_browser(tiny_codec):
    """``audio_tokenizer_for_the_browser(tmp_name) -> (ref, folder to remove or None)``: the shipped
    audio/rvq-speech16k when its checkpoint is here, else the tiny 4-level codec (one k-means pass
    over tones, tests/conftest.py) saved as a run the app can list (its folder, to remove)."""
    def make(tmp_name: str):
        import tokenworks as tw
        from tokenworks.paths import runs_dir

        try:
            tw.load_ref("audio/rvq-speech16k")
            return "audio/rvq-speech16k", None
        except tw.CheckpointNotFound:
            pass
        folder = runs_dir() / "audio" / tmp_name
        tiny_codec(f"audio/{tmp_name}").save(folder)
        return f"run:audio/{tmp_name}", folder

    return make
