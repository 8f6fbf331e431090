"""One headless Chromium (kaleido 1.x) kept open between figure batches, closed after a short idle time.

Starting Chromium is the most expensive part of drawing a figure here (about 1 s of CPU on a 2-core
machine, where a batch of 16 PNG/SVG renders takes about 2 s), so a batch that follows another within
``KEEP_WARM_S`` seconds reuses the open browser. The browser lives in one background thread with its
own event loop (callers may be inside another loop: Gradio, Jupyter). A batch that fails or runs past
its time closes the browser, so the next batch starts clean; a loop that does not answer is abandoned
(its thread is a daemon) and replaced.
"""
from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import threading
import time
from typing import Any

KEEP_WARM_S = 60.0  # seconds an idle browser stays open for the next batch (0: close after every batch)
CLOSE_TIMEOUT_S = 10.0  # the longest closing a browser may take before its loop is abandoned


class RenderSession:
    def __init__(self, keep_warm_s: float = KEEP_WARM_S):
        self.keep_warm_s = keep_warm_s
        self.starts = 0  # browsers started so far (diagnostics, tests)
        self._guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None  # the open kaleido.Kaleido, or None
        self._browser = ""  # the executable it was started with
        self._idle: asyncio.TimerHandle | None = None

    # ---- called from any thread ----

    def render(self, jobs: list[dict[str, Any]], browser: str, timeout_s: float) -> None:
        """Write every job (kaleido's {"fig", "path", "opts"}) in the shared browser; TimeoutError past ``timeout_s``."""
        loop = self._running_loop()
        fut = asyncio.run_coroutine_threadsafe(self._render(jobs, browser, timeout_s), loop)
        try:
            fut.result(timeout_s + CLOSE_TIMEOUT_S + 5)  # the inner deadline closes the browser; this is the last guard
        except concurrent.futures.TimeoutError:
            fut.cancel()
            self._abandon(loop)
            raise TimeoutError(f"the render loop did not answer in {timeout_s:g} s") from None

    def close(self) -> None:
        """Close the browser now (if one is open)."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(CLOSE_TIMEOUT_S)
        except (concurrent.futures.TimeoutError, RuntimeError):
            self._abandon(loop)

    def is_open(self) -> bool:
        return self._kaleido is not None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="tokenworks-figure-export", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _abandon(self, loop: asyncio.AbstractEventLoop) -> None:
        """Forget a loop that does not answer; the next batch starts a new one (and a new browser)."""
        with self._guard:
            if self._loop is loop:
                self._loop, self._thread, self._kaleido, self._idle = None, None, None, None
        loop.call_soon_threadsafe(loop.stop)

    # ---- on the session's loop ----

    async def _render(self, jobs: list[dict[str, Any]], browser: str, timeout_s: float) -> None:
        import kaleido

        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        deadline = time.monotonic() + timeout_s
        try:
            if self._kaleido is None or self._browser != browser:
                await self._close()
                # mathjax=False: no CDN fetch (offline); plotly.js comes from the installed plotly
                self._kaleido = kaleido.Kaleido(n=1, timeout=None, mathjax=False, path=browser)
                self._browser = browser
                self.starts += 1
                await asyncio.wait_for(self._kaleido.open(), max(deadline - time.monotonic(), 0.01))
            await asyncio.wait_for(self._kaleido.write_fig_from_object(jobs, cancel_on_error=True),
                                   max(deadline - time.monotonic(), 0.01))
        except BaseException:
            await self._close()
            raise
        if self.keep_warm_s > 0:
            loop = asyncio.get_running_loop()
            self._idle = loop.call_later(self.keep_warm_s, lambda: loop.create_task(self._close()))
        else:
            await self._close()

    async def _close(self) -> None:
        k, self._kaleido = self._kaleido, None
        if k is None:
            return
        try:
            await asyncio.wait_for(k.close(), CLOSE_TIMEOUT_S)
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - a browser that will not close is left to exit
            pass


SESSION = RenderSession()
atexit.register(SESSION.close)
