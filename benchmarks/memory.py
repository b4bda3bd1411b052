"""Memory of the local backend with 1, 4 and 8 sessions open, beside raw Playwright's.

RSS and PSS of the server process and all its descendants (Playwright's driver, Chromium and
its renderers), read from /proc; for raw Playwright, of its driver and Chromium.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from pathlib import Path

from pytest_smooth import SmoothClient
from pytest_smooth import SmoothSession

from ._results import Figure
from .backend import Backend
from .backend import driver_pid
from .backend import process_tree
from .site import Site

LEVELS = (1, 4, 8)


def _kib(pid: int, path: str, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/{path}").read_text()
    except OSError:
        return 0  # the process ended meanwhile
    found = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def tree_memory(root: int) -> tuple[float, float]:
    """RSS and PSS (MiB) summed over ``root``'s process tree."""
    pids = process_tree(root)
    rss = sum(_kib(pid, "status", "VmRSS") for pid in pids)
    pss = sum(_kib(pid, "smaps_rollup", "Pss") for pid in pids)
    return rss / 1024, pss / 1024


def _settled(root: int) -> tuple[float, float]:
    """Median of a few readings, after the browser settled."""
    time.sleep(1.0)
    readings = []
    for _ in range(3):
        readings.append(tree_memory(root))
        time.sleep(0.3)
    return (
        statistics.median(r[0] for r in readings),
        statistics.median(r[1] for r in readings),
    )


def raw_playwright(levels: tuple[int, ...], browser: str | None) -> dict[int, tuple[float, float]]:
    """RSS and PSS of raw Playwright with 1, 4 and 8 contexts open, each with a page."""
    from playwright.sync_api import sync_playwright

    from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

    readings: dict[int, tuple[float, float]] = {}
    with sync_playwright() as pw, Site() as site:
        launched = pw.chromium.launch(executable_path=browser, args=list(CHROMIUM_ARGS))
        root = driver_pid(os.getpid())
        pages: list[object] = []
        for level in levels:
            while len(pages) < level:
                page = launched.new_context().new_page()
                page.goto(site.url(len(pages)))
                pages.append(page)
            readings[level] = _settled(root)
        launched.close()
    return readings


def run(*, quick: bool, browser: str | None) -> list[Figure]:
    levels = LEVELS[:2] if quick else LEVELS
    rss: dict[int, float] = {}
    pss: dict[int, float] = {}
    with Backend(browser) as backend:
        with (
            Site() as site,
            SmoothClient(api_key=backend.api_key, base_url=backend.base_url) as client,
        ):
            sessions: list[SmoothSession] = []
            for level in levels:
                while len(sessions) < level:
                    session = client.session()
                    session.goto(site.url(len(sessions)))
                    sessions.append(session)
                rss[level], pss[level] = _settled(backend.pid)
            for session in sessions:
                session.close()
    raw = raw_playwright(levels, browser)
    first, last = levels[0], levels[-1]

    def per_session(values: dict[int, float]) -> float:
        return (values[last] - values[first]) / (last - first)

    raw_rss = {level: r[0] for level, r in raw.items()}
    raw_pss = {level: r[1] for level, r in raw.items()}
    figures = [
        Figure(f"backend RSS, {level} session(s)", "MiB", [rss[level]], "raw Playwright",
               [raw_rss[level]], note="" if level != first else
               "backend: server, driver, Chromium; raw Playwright: driver and Chromium")
        for level in levels
    ]  # fmt: skip
    figures.append(
        Figure(f"RSS per extra session ({first}->{last})", "MiB", [per_session(rss)],
               "raw Playwright", [per_session(raw_rss)],
               note="RSS counts shared pages once in every process")
    )  # fmt: skip
    figures.append(
        Figure(f"PSS per extra session ({first}->{last})", "MiB", [per_session(pss)],
               "raw Playwright", [per_session(raw_pss)], "ratio_max", 1.1,
               note="PSS shares each page among the processes that map it: the honest sum")
    )  # fmt: skip
    return figures
