"""The executor on a browser it did not launch (reached over CDP), and after a browser crash."""

from __future__ import annotations

import asyncio
import os
import re
import selectors
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS
from pytest_smooth.server.browser.discovery import BrowserTarget
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.browser.executor import PlaywrightExecutor
from tests.browser_support import RecordingSink
from tests.browser_support import open_session


@pytest.fixture
def cdp_endpoint(tmp_path: Path) -> Iterator[str]:
    """Start a headless Chromium with a DevTools port; return its http:// endpoint."""
    chromium = subprocess.Popen(
        [
            find_browser().location,
            "--headless=new",
            "--remote-debugging-port=0",
            f"--user-data-dir={tmp_path}",
            *CHROMIUM_ARGS,
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert chromium.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(chromium.stderr, selectors.EVENT_READ)
    endpoint = ""
    try:
        # Chromium prints "DevTools listening on ws://127.0.0.1:PORT/..." once it is ready.
        while not endpoint and selector.select(timeout=30):
            line = chromium.stderr.readline().decode(errors="replace")
            if not line:
                break
            found = re.search(r"DevTools listening on ws://([\d.]+:\d+)/", line)
            if found:
                endpoint = f"http://{found.group(1)}"
        assert endpoint, "Chromium did not open its DevTools port within 30 s"
        yield endpoint
    finally:
        selector.close()
        chromium.terminate()
        chromium.wait(10)
        chromium.stderr.close()


@pytest.mark.browser
@pytest.mark.asyncio
async def test_a_browser_reached_over_cdp_serves_sessions(cdp_endpoint: str) -> None:
    executor = PlaywrightExecutor(BrowserTarget("cdp", cdp_endpoint), prewarm=1)
    await executor.start()
    sink = RecordingSink()
    try:
        session = open_session(executor, sink, device="mobile")
        await session.ok("goto", {"url": "data:text/html,<title>Remote</title>"})
        assert await session.js("document.title") == "Remote"
        assert await session.js("navigator.maxTouchPoints > 0") is True
        assert executor.browser_pid is None  # not ours: nothing to report
        await session.close()
    finally:
        await executor.stop()
    assert executor.context_count() == 0


@pytest.mark.browser
@pytest.mark.asyncio
async def test_a_crashed_browser_is_replaced_for_new_sessions() -> None:
    executor = PlaywrightExecutor(find_browser(), prewarm=1)
    await executor.start()
    sink = RecordingSink()
    try:
        before = open_session(executor, sink)
        await before.ok("goto", {"url": "data:text/html,<title>Before</title>"})
        crashed = executor.browser_pid
        assert crashed is not None
        os.kill(crashed, signal.SIGKILL)
        await asyncio.wait_for(executor.disconnected.wait(), 30)

        code, message = await before.act("evaluate_js", {"js": "1"})
        assert code == 400
        assert "closed" in message

        after = open_session(executor, sink)
        await after.ok("goto", {"url": "data:text/html,<title>After</title>"})
        assert await after.js("document.title") == "After"
        assert executor.browser_pid not in (None, crashed)
        await after.close()
    finally:
        await executor.stop()
    assert executor.context_count() == 0
