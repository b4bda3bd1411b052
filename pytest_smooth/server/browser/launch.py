"""Launch or connect to the local backend's browser, as its ``BrowserTarget`` says."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

if TYPE_CHECKING:
    from playwright.async_api import Browser
    from playwright.async_api import Playwright

    from pytest_smooth.server.browser.discovery import BrowserTarget


async def open_browser(
    pw: Playwright, target: BrowserTarget, *, headless: bool
) -> tuple[Browser, int | None]:
    """Return the browser and, when we launched it, its pid (None if unknown)."""
    chromium = pw.chromium
    if target.kind == "connect":
        return await chromium.connect(target.location), None
    if target.kind == "cdp":
        return await chromium.connect_over_cdp(target.location), None
    before = browser_pids()
    browser = await chromium.launch(
        executable_path=target.location if target.kind == "executable" else None,
        args=list(CHROMIUM_ARGS),
        headless=headless,
    )
    # Ours is the one that was not there before (None if that is ambiguous).
    new = browser_pids() - before
    return browser, new.pop() if len(new) == 1 else None


def browser_pids() -> set[int]:
    """Pids of the main processes of Chromiums launched by Playwright from this process (Linux)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return set()
    parents: dict[int, int] = {}
    argvs: dict[int, list[bytes]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            argvs[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")
    me = os.getpid()
    found = set()
    for pid, parent in parents.items():
        argv = argvs.get(pid, [])
        is_main = not any(a.startswith(b"--type=") for a in argv)
        if parents.get(parent) == me and is_main and b"--remote-debugging-pipe" in argv:
            found.add(pid)
    return found
