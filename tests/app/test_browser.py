"""One real browser: Playwright drives Debian's chromium (no browser download) through the app.

The screenshots it takes are the README's (docs/screenshots/). The browser, the page and the tiny
tokenizers made when the shipped ones are missing are fixtures (tests/app/conftest.py).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.app]

ROOT = Path(__file__).resolve().parents[2]  # the repository
SHOTS = ROOT / "docs" / "screenshots"


def settle(page, timeout_ms: int = 15_000) -> None:
    """Wait until no event shows its progress timer and the pending-state fade has finished, so a
    screenshot shows results, not a spinner."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # Gradio's progress timer shows while an event runs
        page.wait_for_function("![...document.querySelectorAll('.progress-text, .eta-bar')]"
                               ".some(e => e.offsetParent !== null)", timeout=timeout_ms)
    page.wait_for_timeout(800)


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
    settle(page)  # the Tokenize click re-renders the same view: wait until it has finished
    page.screenshot(path=str(SHOTS / "text_tab.png"), full_page=True)


def test_a_link_restores_the_text_tab(page, app_url):
    """A shared link (app/links.py) restores tokenizers, text and mode; what it cannot use is
    noted; the address bar then follows the view."""
    import tokenworks as tw
    from urllib.parse import quote

    text = "Hello wörld 👋 & more"
    names = ["text/o200k_base", "text/r50k_base"]
    url = f"{app_url}?tokenizers={','.join(names)},text/nope&mode=compare&text={quote(text)}"
    pg = page.context.browser.new_page(viewport={"width": 1280, "height": 860})
    try:
        pg.goto(url)
        pg.wait_for_function(  # the view settles on the restored state (the three inputs change one by one)
            "([t, names]) => document.querySelector('#tw-text-input textarea')?.value === t"
            " && [...document.querySelectorAll('#tw-text-tokens .tw-compare .tw-col h4')]"
            "      .map((h, i) => h.innerText.startsWith(names[i] + ' ')).join() === 'true,true'",
            arg=[text, names], timeout=60_000)
        cols = pg.locator("#tw-text-tokens .tw-compare .tw-col")
        for k, name in enumerate(names):  # each restored tokenizer rendered the restored text
            ids = tw.load_shared(name).encode(text).tolist()
            col = cols.nth(k)
            assert name in col.locator("h4").inner_text()
            pg.wait_for_function(
                "([k, n]) => document.querySelectorAll('#tw-text-tokens .tw-col')[k].querySelectorAll('.tw-tok').length === n",
                arg=[k, len(ids)], timeout=30_000)
            chips = col.locator(".tw-tok")
            assert [int(chips.nth(i).get_attribute("data-id")) for i in range(len(ids))] == ids
        assert pg.locator("#tw-text-mode input[value='Compare']").is_checked()
        note = pg.locator("#tw-text-url-note")
        note.get_by_text("text/nope", exact=False).wait_for(timeout=30_000)
        assert "choose from" in note.inner_text()
        # the address bar and the link now name only what is shown
        expected = f"tokenizers={','.join(names)}&mode=compare&text="
        pg.wait_for_function("q => window.location.search.includes(q) && !window.location.search.includes('nope')",
                             arg=expected, timeout=30_000)
        link = pg.locator("#tw-text-link textarea, #tw-text-link input").first
        pg.wait_for_function("q => { const l = document.querySelector('#tw-text-link textarea, #tw-text-link input');"
                             " return l && l.value.includes(q); }", arg=expected, timeout=30_000)
        assert link.input_value().startswith(app_url.rstrip("/"))
        pg.locator("#tw-text-mode").get_by_text("Tokens", exact=True).click()
        pg.wait_for_function("() => window.location.search.includes('mode=tokens')", timeout=30_000)
    finally:
        pg.close()


def test_library_tab_lists_tokenizers(page):
    page.get_by_role("tab", name="Library").click()
    table = page.locator("#tw-library-tokenizers")
    table.get_by_text("text/chars").first.wait_for(timeout=30_000)
    assert table.get_by_text("text/bytes").count() >= 1
    settle(page)
    page.screenshot(path=str(SHOTS / "library_tab.png"), full_page=True)
    page.get_by_role("tab", name="Text").click()


def test_image_tab_upload_and_k_slider(page, image_tokenizer_for_the_browser):
    import shutil

    ref, made = image_tokenizer_for_the_browser("browser-test-tiny")
    try:
        page.get_by_role("tab", name="Image").click()
        if made is not None:  # the run was saved after the app started: refresh the list, then pick it
            page.locator("#tw-image-refresh").click()
            page.wait_for_timeout(1000)
        box = page.locator("#tw-image-tokenizer input")
        box.click()
        box.fill(ref)
        page.get_by_role("option", name=ref).first.click()
        status = page.locator("#tw-image-status")
        upload = ROOT / "data" / "samples" / "images" / "emoji-fox.png"
        page.locator("#tw-image-upload input[type=file]").set_input_files(str(upload))
        status.get_by_text("upload 'emoji-fox.png'").wait_for(timeout=60_000)
        assert "Resized" in status.inner_text()  # 136x136 -> the tokenizer's size
        recon = page.locator("#tw-image-recon img")
        recon.wait_for(timeout=30_000)
        before = recon.get_attribute("src")
        info = page.locator("#tw-image-info")
        full = info.inner_text()
        slider = page.locator("#tw-image-k input[type=range]")
        slider.focus()
        slider.press("Home")  # k = 1: the first token only
        page.wait_for_function(
            "s => { const i = document.querySelector('#tw-image-recon img'); return i && i.src !== s; }",
            arg=before, timeout=30_000,
        )
        assert recon.get_attribute("src") != before
        page.wait_for_function(
            "() => document.querySelector('#tw-image-info').innerText.includes('1 of ')", timeout=30_000)
        assert info.inner_text() != full
        SHOTS.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # about 80 tokens (100 bytes) for the picture
            slider.press("PageUp")
        settle(page)
        # the strip's pictures and the rate-distortion points are drawn by plotly after the event ends
        page.wait_for_function(
            "() => document.querySelectorAll('#tw-image-strip .main-svg image').length >= 2"
            " && document.querySelectorAll('#tw-image-rd .scatterlayer .point').length >= 4", timeout=30_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / "image_tab.png"), full_page=True)
        before = recon.get_attribute("src")
        page.locator("#tw-image-encoder").get_by_text("refined", exact=True).click()  # re-tokenize, refined
        status.get_by_text("Refined encoding").wait_for(timeout=60_000)
        assert "same bytes" in status.inner_text().lower() or "Same tokens" in status.inner_text()
        page.wait_for_function(
            "s => { const i = document.querySelector('#tw-image-recon img'); return i && i.src !== s; }",
            arg=before, timeout=30_000)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        page.get_by_role("tab", name="Text").click()


def test_a_photo_upload_opens_with_the_photo_model_and_says_why(page, app_url):
    """A new page, nothing chosen: an uploaded photo switches the tab to the tokenizer trained on
    photos and the status says why (tokenworks.image.route); a tokenizer picked by hand is kept for
    the next picture."""
    import tokenworks as tw
    from tokenworks.image.route import candidate

    if {c.kind for c in filter(None, map(candidate, tw.available("image")))} != {"emoji", "photo"}:
        pytest.skip("the shipped emoji and photo image checkpoints are not all here")
    pg = page.context.browser.new_page(viewport={"width": 1280, "height": 860})
    try:
        pg.goto(app_url)
        pg.get_by_role("tab", name="Image").click()
        status, box = pg.locator("#tw-image-status"), pg.locator("#tw-image-tokenizer input")
        status.get_by_text("sample 'emoji-fox.png'").wait_for(timeout=60_000)  # the page load's view
        assert box.input_value() == "image/flex1d-emoji64"
        images = ROOT / "data" / "samples" / "images"
        pg.locator("#tw-image-upload input[type=file]").set_input_files(str(images / "photo-flower.png"))
        status.get_by_text("upload 'photo-flower.png'").wait_for(timeout=60_000)
        text = status.inner_text()
        assert "Tokenizer chosen for this picture" in text and "photo:" in text and "colours distinct" in text
        assert "image/flex1d-photo64 read the upload" in text.replace("*", "")
        pg.wait_for_function("() => document.querySelector('#tw-image-tokenizer input')?.value"
                             " === 'image/flex1d-photo64'", timeout=30_000)
        pg.wait_for_function("() => document.querySelector('#tw-image-link textarea, #tw-image-link input')"
                             "?.value.includes('model=image/flex1d-photo64')", timeout=30_000)
        settle(pg)  # the strip's pictures and the rate-distortion points are drawn after the event ends
        pg.wait_for_function(
            "() => document.querySelectorAll('#tw-image-strip .main-svg image').length >= 2"
            " && document.querySelectorAll('#tw-image-rd .scatterlayer .point').length >= 4", timeout=30_000)
        pg.wait_for_timeout(300)
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "image_route.png"), full_page=True)
        box.click()  # a tokenizer picked by hand is kept for the next upload
        box.fill("image/grid-photo32")
        pg.get_by_role("option", name="image/grid-photo32").first.click()
        status.get_by_text("image/grid-photo32").first.wait_for(timeout=60_000)
        settle(pg)
        sample = pg.locator("#tw-image-sample input")  # a new picture (a sample is routed as an upload is)
        sample.click()
        sample.fill("emoji-rocket.png")
        pg.get_by_role("option", name="emoji-rocket.png").first.click()
        status.get_by_text("sample 'emoji-rocket.png'").wait_for(timeout=60_000)
        text = status.inner_text()
        assert "image/grid-photo32 read the sample" in text.replace("*", "") and "Tokenizer chosen" not in text
        assert box.input_value() == "image/grid-photo32"
    finally:
        pg.close()


def test_compare_three_tokenizers_marks_differences(page):
    import tokenworks as tw
    from tokenworks.text.compare import compare

    page.get_by_role("tab", name="Text").click()
    box = page.locator("#tw-text-input textarea")
    box.click()
    box.press("Control+A")
    box.press("Delete")
    text = "Ünïcode tokens: naïve café 👋 数字"
    box.press_sequentially(text, delay=10)
    names = ["text/cl100k_base", "text/bytes", "text/chars"]  # the default two, then text/chars added
    pick = page.locator("#tw-text-tokenizers input")
    pick.click()
    pick.fill("text/chars")
    page.get_by_role("option", name="text/chars").first.click()
    page.keyboard.press("Escape")
    page.locator("#tw-text-mode").get_by_text("Compare", exact=True).click()
    cols = page.locator("#tw-text-tokens .tw-compare .tw-col")
    page.wait_for_function(
        "() => document.querySelectorAll('#tw-text-tokens .tw-compare .tw-col').length === 3"
        " && document.querySelectorAll('#tw-text-tokens .tw-diff').length > 0", timeout=30_000)
    # the typed text is what was compared, and each column marks exactly the library's differing cuts
    expected = compare(text, names)
    for k, seg in enumerate(expected.segmentations):
        col = cols.nth(k)
        assert seg.tokenizer in col.locator("h4").inner_text()
        assert col.locator(".tw-tok").count() == seg.n_tokens
        assert col.locator(".tw-diff").count() == int((seg.diff_start | seg.diff_end).sum())
    assert expected["text/bytes"].differing.size > 0  # bytes cut inside ü, ï, é, 👋, 数, 字; chars do not
    assert "count spread" in page.locator("#tw-text-tokens").inner_text()
    # click a cl100k_base token (" tokens", the 5th): its merge tree appears
    first = cols.nth(0).locator(".tw-tok").nth(4)
    tid = int(first.get_attribute("data-id"))
    first.click()
    tree = page.locator("#tw-text-merge .tw-mtree")
    tree.wait_for(timeout=60_000)
    node = tw.load_shared("text/bpe-cl100k").merge_tree(tid)
    assert tree.locator(".tw-mnode").count() == 2 * len(node.leaves()) - 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(SHOTS / "text_compare.png"), full_page=True)
    page.locator("#tw-text-mode").get_by_text("Tokens", exact=True).click()
    page.wait_for_function("() => !document.querySelector('#tw-text-tokens .tw-compare')", timeout=30_000)


def test_languages_tab_opens_the_map(page):
    page.get_by_role("tab", name="Languages").click()
    # opening the tab measures every complete declaration with the two default tokenizers
    page.wait_for_selector("#tw-languages-map .js-plotly-plot .scatterlayer .point", timeout=180_000)
    status = page.locator("#tw-languages-status")
    status.get_by_text("languages", exact=False).first.wait_for(timeout=30_000)
    assert "⚠️" not in status.inner_text()
    n_points = page.locator("#tw-languages-map .js-plotly-plot .scatterlayer .point").count()
    title = page.locator("#tw-languages-map .gtitle").first.text_content()
    assert f"{n_points} languages placed" in title and "not placed" in title
    assert n_points > 400
    table = page.locator("#tw-languages-table")
    table.get_by_text("o200k_base premium").first.wait_for(timeout=30_000)
    assert table.get_by_text("English").count() >= 1
    page.locator("#tw-languages-csv").get_by_text(".csv").first.wait_for(timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(SHOTS / "languages_tab.png"), full_page=True)
    page.get_by_role("tab", name="Text").click()


def test_learn_tab_replays_training_step_by_step(page):
    try:
        page.get_by_role("tab", name="Learn").click()  # opening the tab trains the default corpus
        status = page.locator("#tw-learn-train-status")
        status.get_by_text("Step 0 of", exact=False).wait_for(timeout=60_000)
        total = int(status.inner_text().split("Step 0 of ", 1)[1].split(":")[0].strip("* "))
        assert total > 3
        chips = page.locator("#tw-learn-train-chips .tw-tok")
        n0 = chips.count()
        assert n0 > 0
        page.locator("#tw-learn-train-next").click()  # step 1: the first merge, its new token outlined
        status.get_by_text(f"Step 1 of {total}", exact=False).wait_for(timeout=30_000)
        assert "merged" in status.inner_text()
        page.wait_for_function(f"n => document.querySelectorAll('#tw-learn-train-chips .tw-tok').length < n",
                               arg=n0, timeout=30_000)
        style = page.locator("#tw-learn-train-chips style").first.text_content()
        new_id = int(style.split("data-id='", 1)[1].split("'", 1)[0])
        assert new_id >= 256  # the first id after the 256 bytes
        outlined = page.locator(f"#tw-learn-train-chips .tw-tok[data-id='{new_id}']")
        assert outlined.count() > 0
        assert outlined.first.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
        slider = page.locator("#tw-learn-train-step input[type=range]")
        slider.focus()
        slider.press("ArrowRight")  # the slider moves with the arrow keys: step 2, then 3
        slider.press("ArrowRight")
        status.get_by_text(f"Step 3 of {total}", exact=False).wait_for(timeout=30_000)
        page.wait_for_function(
            "() => document.querySelector('#tw-learn-train-table [role=grid]')?.getAttribute('aria-rowcount') === '4'",
            timeout=30_000)  # the header and the 3 merges so far
        assert page.locator("#tw-learn-train-table [data-testid='cell-0-4']").inner_text().strip() == str(new_id)
        page.locator("#tw-learn-train-prev").click()  # and back one
        status.get_by_text(f"Step 2 of {total}", exact=False).wait_for(timeout=30_000)
        page.locator("#tw-learn-train-next").click()
        status.get_by_text(f"Step 3 of {total}", exact=False).wait_for(timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        settle(page)
        page.screenshot(path=str(SHOTS / "learn_tab.png"), full_page=True)
    finally:
        page.get_by_role("tab", name="Text").click()


def test_metrics_tab_one_row_per_tokenizer(page):
    names = ["text/o200k_base", "text/r50k_base", "text/bytes"]  # the default two, then text/bytes added
    corpus = "Python stdlib (held-out files)"  # this interpreter's own files: present on every machine
    try:
        page.get_by_role("tab", name="Metrics").click()
        pick = page.locator("#tw-metrics-tokenizers input")
        pick.wait_for(timeout=30_000)
        pick.click()
        pick.fill("text/bytes")
        page.get_by_role("option", name="text/bytes", exact=True).first.click()
        page.keyboard.press("Escape")
        source = page.locator("#tw-metrics-source input")
        source.click()
        page.get_by_role("option", name=corpus).first.click()
        page.keyboard.press("Escape")
        limit = page.locator("#tw-metrics-limit input")
        limit.fill("20000")  # bytes per slice: a quick run
        limit.press("Tab")
        page.locator("#tw-metrics-run").click()
        status = page.locator("#tw-metrics-status")
        status.get_by_text("3 tokenizer(s) × 1 slice(s)", exact=False).wait_for(timeout=120_000)
        assert "3 rows" in status.inner_text() and "⚠️" not in status.inner_text()
        page.wait_for_function(  # the header and one row per tokenizer
            "() => document.querySelector('#tw-metrics-table [role=grid]')?.getAttribute('aria-rowcount') === '4'",
            timeout=30_000)
        table = page.locator("#tw-metrics-table")
        assert [table.locator(f"[data-testid='cell-{i}-0']").inner_text().strip() for i in range(3)] == names
        assert table.locator("[data-testid='header-5']").inner_text().strip() == "bytes/token"
        bpt = [float(table.locator(f"[data-testid='cell-{i}-5']").inner_text()) for i in range(3)]
        assert bpt[2] == 1.0 and bpt[0] > 2 and bpt[1] > 2  # text/bytes: one byte a token; the BPEs more
        page.locator("#tw-metrics-csv").get_by_text(".csv").first.wait_for(timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        settle(page)
        page.screenshot(path=str(SHOTS / "metrics_tab.png"), full_page=True)
    finally:
        page.get_by_role("tab", name="Text").click()


def test_audio_tab_upload_and_codebook_slider(page, audio_tokenizer_for_the_browser):
    import shutil

    ref, made = audio_tokenizer_for_the_browser("browser-test-codec")
    try:
        page.get_by_role("tab", name="Audio").click()
        status = page.locator("#tw-audio-status")
        status.get_by_text("sample 'flite-slt.wav'").wait_for(timeout=60_000)  # opening analyses the sample
        if made is not None:  # the run was saved after the app started: refresh the list, then pick it
            page.locator("#tw-audio-refresh").click()
            page.wait_for_timeout(1000)
        box = page.locator("#tw-audio-tokenizer input")
        box.click()
        box.fill(ref)
        page.get_by_role("option", name=ref).first.click()
        name = ref.removeprefix("run:")
        page.wait_for_function(  # the sample again, through the chosen tokenizer
            "n => document.querySelector('#tw-audio-status').innerText.includes(n)", arg=name, timeout=60_000)
        clip = ROOT / "data" / "samples" / "audio" / "espeak-en.wav"
        page.locator("#tw-audio-upload input[type=file]").set_input_files(str(clip))
        status.get_by_text("upload 'espeak-en.wav'").wait_for(timeout=60_000)
        assert "codebooks ×" in status.inner_text() and "⚠️" not in status.inner_text()
        numbers = page.locator("#tw-audio-numbers")
        page.wait_for_function("() => document.querySelector('#tw-audio-numbers').innerText.includes('k = ')",
                               timeout=30_000)
        K = int(numbers.inner_text().split(" of ", 1)[1].split()[0])
        assert f"k = {K} of {K}" in numbers.inner_text()
        link = "#tw-audio-recon a.download-link"
        page.locator(link).wait_for(timeout=30_000)
        before = page.locator(link).get_attribute("href")
        slider = page.locator("#tw-audio-k input[type=range]")
        slider.focus()
        slider.press("Home")  # k = 1: the first codebook only
        page.wait_for_function(
            "([sel, s]) => { const a = document.querySelector(sel); return a && a.href && a.href !== s; }",
            arg=[link, before], timeout=30_000)
        assert f"k = 1 of {K}" in numbers.inner_text()
        src = page.locator(link).get_attribute("href")
        duration = page.evaluate(  # the new source loads in an <audio> element and has a length
            """src => new Promise(done => {
                const a = document.createElement('audio');
                a.preload = 'auto';
                a.addEventListener('canplay', () => { done(a.duration); a.remove(); });
                a.addEventListener('error', () => { done(-1); a.remove(); });
                setTimeout(() => done(-2), 20000);
                a.src = src;
                document.body.appendChild(a);
            })""", src)
        assert 3.0 < duration < 4.5  # espeak-en.wav is 3.73 s
        page.locator("#tw-audio-compare").click()
        page.locator("#tw-audio-rate-note").get_by_text("Classical codecs:").wait_for(timeout=120_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        settle(page)
        page.screenshot(path=str(SHOTS / "audio_tab.png"), full_page=True)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        page.get_by_role("tab", name="Text").click()


def test_train_tab_runs_watches_stops_and_lists_a_cpu_tiny_run(page):
    """Start a cpu-tiny run in the Train tab, see its curve grow, stop it, find it in the registry."""
    import re

    from tokenworks.train import runs as R

    page.get_by_role("tab", name="Train", exact=True).click()
    page.locator("#tw-train-start").wait_for(timeout=30_000)
    assert page.locator("#tw-train-preset input").input_value() == "cpu-tiny"
    page.locator("#tw-train-start").click()
    message = page.locator("#tw-train-message")
    message.get_by_text("Run ").wait_for(timeout=60_000)
    run_id = re.search(r"Run (\S+)", message.inner_text()).group(1)
    status = page.locator("#tw-train-status")
    try:
        def step_shown() -> int:
            m = re.search(r"step ([\d,]+)", status.inner_text())
            return int(m.group(1).replace(",", "")) if m else 0

        page.wait_for_function(  # the job started and logged its first window
            "id => { const s = document.querySelector('#tw-train-status').innerText;"
            " return s.includes(id) && s.includes('running') && /step [\\d,]+/.test(s); }", arg=run_id, timeout=120_000)
        first = step_shown()
        points = "document.querySelectorAll('#tw-train-dashboard .scatterlayer .trace path.js-line').length"
        page.wait_for_function(f"() => {points} > 0", timeout=60_000)
        page.wait_for_function(  # the curve grows: a later step is shown
            "s0 => { const m = document.querySelector('#tw-train-status').innerText.match(/step ([\\d,]+)/);"
            " return m && parseInt(m[1].replace(/,/g, '')) > s0; }", arg=first, timeout=120_000)
        assert step_shown() > first
        # the first checkpoint brings the reconstructions of test images
        page.wait_for_function("() => { const i = document.querySelector('#tw-train-preview img');"
                               " return i && i.complete && i.naturalWidth > 0; }", timeout=120_000)
        settle(page)
        page.screenshot(path=str(SHOTS / "train_tab.png"), full_page=True)
        page.locator("#tw-train-stop").click()
        page.wait_for_function(
            "() => document.querySelector('#tw-train-status').innerText.includes('stopped')", timeout=120_000)
        listed = ("id => document.querySelector('#tw-train-runs').textContent.split(id).slice(1)"
                  ".some(after => /^\\s*stopped/.test(after))")
        try:  # the registry lists it as stopped: the status cell follows the id cell
            page.wait_for_function(listed, arg=run_id, timeout=90_000)
        except Exception as e:  # say what the table showed instead
            raise AssertionError(f"run {run_id} not listed as stopped; the runs table shows: "
                                 f"{page.locator('#tw-train-runs').inner_text()[:1500]!r}") from e
        info = R.read_run(R.run_folder(run_id))
        assert info.status == "stopped" and info.resumable and info.step > 0
        assert "can be resumed" in status.inner_text()
        page.locator("#tw-train-delete").click()
        page.wait_for_function(
            "id => !document.querySelector('#tw-train-runs').innerText.includes(id)",
            arg=run_id, timeout=30_000)
    finally:
        try:
            folder = R.run_folder(run_id)
        except Exception:  # noqa: BLE001 - deleted by the test
            folder = None
        if folder is not None:
            if R.read_run(folder).status in R.ACTIVE:
                R.request_stop(run_id)


def test_attention_tab_draws_the_map_or_says_what_to_fetch(page):
    """Opening the tab computes the default sentence's attention (MiniLM, asset minilm-model); without
    the asset the status names the command that fetches it."""
    from tokenworks.assets import status as asset_status
    from tokenworks.text import attention as attn

    page.get_by_role("tab", name="Attention").click()
    status = page.locator("#tw-attn-status")
    if asset_status(attn.ASSET).state != "present":
        status.get_by_text("tokenworks assets fetch minilm-model", exact=False).first.wait_for(timeout=60_000)
        page.get_by_role("tab", name="Text").click()
        return
    page.wait_for_selector("#tw-attn-plot .js-plotly-plot .heatmaplayer, #tw-attn-plot .js-plotly-plot image",
                           timeout=180_000)
    assert "⚠️" not in status.inner_text()
    box = page.locator("#tw-attn-layer input")
    box.click()
    box.fill("2")
    page.get_by_role("option", name="2", exact=True).first.click()  # one layer: the map redraws for it
    status.get_by_text("layer 2", exact=False).first.wait_for(timeout=60_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.screenshot(path=str(SHOTS / "attention_tab.png"), full_page=True)
    page.get_by_role("tab", name="Text").click()


def test_attention_tab_smollm2_flow_and_token_merging(page):
    """The Attention tab with SmolLM2 (asset smollm2-135m): its causal map, the rollout from the last
    token back, PiToMe merging in MiniLM and the merging curve; without an asset the status names its
    fetch command."""
    from tokenworks.assets import status as asset_status
    from tokenworks.text import attention as attn
    from tokenworks.text import smollm2 as smol

    page.get_by_role("tab", name="Attention").click()
    status = page.locator("#tw-attn-status")
    try:
        if asset_status(attn.ASSET).state != "present":
            status.get_by_text("tokenworks assets fetch minilm-model", exact=False).first.wait_for(timeout=60_000)
            return
        page.wait_for_selector("#tw-attn-plot .js-plotly-plot .heatmaplayer", timeout=180_000)
        page.locator("#tw-attn-model").get_by_text("SmolLM2-135M", exact=False).click()
        if asset_status(smol.ASSET).state != "present":
            status.get_by_text("tokenworks assets fetch smollm2-135m", exact=False).first.wait_for(timeout=60_000)
            return
        status.get_by_text("SmolLM2-135M, ", exact=False).first.wait_for(timeout=180_000)  # the model loads once
        assert "Causal" in status.inner_text() and "⚠️" not in status.inner_text()
        page.wait_for_function(  # the flow redrawn for SmolLM2: its title names the model
            "() => [...document.querySelectorAll('#tw-attn-flow .gtitle')].some(t => t.textContent.includes('SmolLM2'))",
            timeout=120_000)
        assert "attention rollout" in page.locator("#tw-attn-flow-status").inner_text()
        page.locator("#tw-attn-merge-method").get_by_text("PiToMe", exact=True).click()
        merges = page.locator("#tw-attn-merge-status")
        merges.get_by_text("PiToMe, 2 per layer", exact=False).first.wait_for(timeout=60_000)
        assert "Cosine" in merges.inner_text() and "⚠️" not in merges.inner_text()
        page.wait_for_selector("#tw-attn-merges .js-plotly-plot .heatmaplayer", timeout=30_000)
        page.locator("#tw-attn-curve-run").click()  # the curve on the held-out sentences (asset janeaustenr)
        page.locator("#tw-attn-curve-status").get_by_text("held-out sentences", exact=False).first.wait_for(
            timeout=180_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        settle(page)
        page.wait_for_function(  # plotly has drawn the pictures: the map's and the flow's bars and heatmaps
            "() => ['#tw-attn-plot', '#tw-attn-flow'].every(p =>"
            " document.querySelectorAll(p + ' .barlayer .point path').length > 0"
            " && document.querySelector(p + ' .heatmaplayer image')?.getAttribute('href'))", timeout=60_000)
        page.wait_for_timeout(1500)
        # the whole page in the viewport: a full-page capture that resizes it catches plotly mid-redraw
        size = page.viewport_size
        page.set_viewport_size({"width": size["width"], "height": page.evaluate("document.body.scrollHeight")})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "attention_flow.png"), full_page=True)
        page.set_viewport_size(size)
    finally:
        page.get_by_role("tab", name="Text").click()

def test_lm_tab_scores_text_shows_next_tokens_and_the_midword_panel(page):
    """Opening the LM tab scores the default text with SmolLM2 (asset smollm2-135m); clicking a token
    shows the tokens the model expected after it; the mid-word panel puts naive, healing and exact
    next bytes side by side. Without the asset the status names the command that fetches it."""
    from tokenworks.assets import status as asset_status
    from tokenworks.text import smollm2

    page.get_by_role("tab", name="LM").click()
    status = page.locator("#tw-lm-status")
    try:
        if asset_status(smollm2.ASSET).state != "present":
            status.get_by_text("tokenworks assets fetch smollm2-135m", exact=False).first.wait_for(timeout=60_000)
            return
        page.wait_for_selector("#tw-lm-tokens .tw-ltok", timeout=180_000)  # the model loads once (~10 s)
        assert "bits per byte" in status.inner_text() and "⚠️" not in status.inner_text()
        n = page.locator("#tw-lm-tokens .tw-ltok").count()
        assert n > 10 and "bits" in page.locator("#tw-lm-tok-3").get_attribute("title")
        page.locator("#tw-lm-tok-3").click()
        page.wait_for_function(  # the click reaches the server: the next-token chart is redrawn for token 3
            "() => { const t = document.querySelector('#tw-lm-next .gtitle');"
            " return t && t.textContent.includes('After token #3'); }", timeout=60_000)
        page.wait_for_function("() => document.querySelector('#tw-lm-token input').value === '3'", timeout=30_000)
        assert "tw-selected" in page.locator("#tw-lm-tok-3").get_attribute("class")
        assert page.locator("#tw-lm-next .barlayer .point").count() == 10
        page.locator("#tw-lm-midword-run").click()
        page.locator("#tw-lm-midword").get_by_text("Greedy continuations", exact=False).wait_for(timeout=180_000)
        mid = page.locator("#tw-lm-midword").inner_text()
        assert "naive" in mid and "healing" in mid and "exact" in mid
        page.wait_for_function("() => document.querySelectorAll('#tw-lm-bytes .barlayer .trace').length === 3",
                               timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        settle(page)
        page.screenshot(path=str(SHOTS / "lm_tab.png"), full_page=True)
    finally:
        page.get_by_role("tab", name="Text").click()


def test_transfer_tab_preflight_transplant_and_one_token(page):
    """The Transfer tab plans SmolLM2 on cl100k_base (the pre-flight report: overlap, new tokens,
    specials, how numbers are cut), transplants it with FVT and scores each chosen held-out domain
    against the original, then shows what one new token was built from."""
    from tokenworks.assets import status as asset_status
    from tokenworks.text import smollm2

    if asset_status(smollm2.ASSET).state != "present":
        pytest.skip("asset smollm2-135m is not fetched")
    page.get_by_role("tab", name="Transfer").click()
    try:
        page.locator("#tw-transfer-preflight").click()
        status = page.locator("#tw-transfer-status")
        status.get_by_text("Pre-flight of text/cl100k_base with fvt", exact=False).wait_for(timeout=180_000)
        assert "tokens shared" in status.inner_text() and "ids out of range: 0" in status.inner_text()
        pre = page.locator("#tw-transfer-preflight-table")
        page.wait_for_function(  # the report's rows: overlap, new tokens, specials, numbers
            "() => +document.querySelector('#tw-transfer-preflight-table [role=grid]')?.getAttribute('aria-rowcount') > 10",
            timeout=30_000)
        items = [pre.locator(f"[data-testid='cell-{i}-0']").inner_text().strip() for i in range(3)]
        assert items[1].startswith("shared tokens") and items[2].startswith("new tokens")
        chars = page.locator("#tw-transfer-chars input[type=number]")
        chars.fill("300")  # characters per domain: a quick run
        chars.press("Tab")
        page.locator("#tw-transfer-run").click()
        status.get_by_text("with fvt, zero-shot", exact=False).wait_for(timeout=300_000)
        assert "⚠️" not in status.inner_text() and "furthest on" in status.inner_text()
        page.wait_for_function(  # the header and one row per default domain (4)
            "() => document.querySelector('#tw-transfer-scores [role=grid]')?.getAttribute('aria-rowcount') === '5'",
            timeout=30_000)
        scores = page.locator("#tw-transfer-scores")
        assert scores.locator("[data-testid='cell-0-0']").inner_text().strip() == "English prose (held-out)"
        assert float(scores.locator("[data-testid='cell-0-7']").inner_text()) > 1.0  # zero-shot FVT costs bits
        page.wait_for_function("() => document.querySelectorAll('#tw-transfer-chart .barlayer .trace').length >= 2",
                               timeout=60_000)
        page.locator("#tw-transfer-token-run").click()
        note = page.locator("#tw-transfer-token-status")
        note.get_by_text("Pieces under the base tokenizer", exact=False).wait_for(timeout=120_000)
        assert page.locator("#tw-transfer-token-table [data-testid='cell-0-0']").inner_text().strip() == "piece"
        SHOTS.mkdir(parents=True, exist_ok=True)
        settle(page)
        size = page.viewport_size
        page.set_viewport_size({"width": size["width"], "height": page.evaluate("document.body.scrollHeight")})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "transfer_tab.png"), full_page=True)
        page.set_viewport_size(size)
    finally:
        page.get_by_role("tab", name="Text").click()


def test_tournament_tab_leaderboard_and_what_the_gate_keeps(page):
    """The Tournament tab shows the shipped cpu leaderboard (table and figure), then what the shipped
    delete model keeps of a sentence: kept bytes bold, deleted bytes grey."""
    from tokenworks.lm.tiny.view import tournament_choices

    if not tournament_choices():
        pytest.skip("no tournament leaderboard here (data/tournament/cpu is shipped with the repository)")
    page.get_by_role("tab", name="Tournament").click()
    try:
        page.locator("#tw-tournament-show").click()
        status = page.locator("#tw-tournament-status")
        status.get_by_text("same FLOPs budget", exact=False).wait_for(timeout=120_000)
        assert "⚠️" not in status.inner_text()
        page.wait_for_function(  # a row per corpus and contestant
            "() => +document.querySelector('#tw-tournament-table [role=grid]')?.getAttribute('aria-rowcount') > 4",
            timeout=30_000)
        table = page.locator("#tw-tournament-table")
        assert table.locator("[data-testid='cell-0-1']").inner_text().strip() == "1"  # rank 1 comes first
        page.wait_for_function("() => document.querySelectorAll('#tw-tournament-chart .scatterlayer .trace').length >= 8",
                               timeout=60_000)
        page.locator("#tw-tournament-draw").click()
        note = page.locator("#tw-tournament-kept-status")
        note.get_by_text("kept", exact=False).first.wait_for(timeout=120_000)
        assert "⚠️" not in note.inner_text()
        assert page.locator("#tw-tournament-kept span").count() > 50  # one span per character
        SHOTS.mkdir(parents=True, exist_ok=True)
        settle(page)
        size = page.viewport_size
        page.set_viewport_size({"width": size["width"], "height": page.evaluate("document.body.scrollHeight")})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "tournament_tab.png"), full_page=True)
        page.set_viewport_size(size)
    finally:
        page.get_by_role("tab", name="Text").click()
