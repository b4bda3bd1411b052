"""Memory of the local backend with 1, 4 and 8 sessions open, beside raw Playwright's.

RSS and PSS of the server process and all its descendants (Playwright's driver, Chromium and
its renderers), read from /proc; for raw Playwright, of its driver and Chromium.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from pytest_smooth import SmoothClient
from pytest_smooth import SmoothSession

from ._results import Figure
from .backend import Backend
from .backend import driver_pid
from .backend import process_kind
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


def tree_memory(root: int) -> tuple[float, float, dict[str, float]]:
    """RSS and PSS (MiB) summed over ``root``'s process tree, and its PSS by kind of process."""
    rss = pss = 0
    kinds: dict[str, float] = {}
    for pid in process_tree(root):
        rss += _kib(pid, "status", "VmRSS")
        one = _kib(pid, "smaps_rollup", "Pss")
        pss += one
        try:
            kind = process_kind(pid)
        except (OSError, IndexError):
            continue
        kinds[kind] = kinds.get(kind, 0.0) + one / 1024
    return rss / 1024, pss / 1024, kinds


Reading = tuple[float, float, dict[str, float]]


def _settled(root: int) -> Reading:
    """Return the median reading of a few (by PSS), after the browser settled."""
    time.sleep(1.0)
    readings = []
    for _ in range(3):
        readings.append(tree_memory(root))
        time.sleep(0.3)
    return sorted(readings, key=lambda r: r[1])[1]


def _ours(levels: tuple[int, ...], browser: str | None, record: bool) -> dict[int, Reading]:
    """Read the backend with 1, 4 and 8 sessions open, each on a page."""
    readings: dict[int, Reading] = {}
    with (
        Backend(browser) as backend,
        Site() as site,
        SmoothClient(api_key=backend.api_key, base_url=backend.base_url) as client,
    ):
        sessions: list[SmoothSession] = []
        for level in levels:
            while len(sessions) < level:
                session = client.session(enable_recording=record)
                session.goto(site.url(len(sessions)))
                sessions.append(session)
            readings[level] = _settled(backend.pid)
        for session in sessions:
            session.close()
    return readings


def raw_playwright(levels: tuple[int, ...], browser: str | None) -> dict[int, Reading]:
    """RSS and PSS of raw Playwright with 1, 4 and 8 contexts open, each with a page."""
    from playwright.sync_api import sync_playwright

    from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

    readings: dict[int, Reading] = {}
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
    ours = _ours(levels, browser, True)
    plain = _ours(levels, browser, False)
    raw = raw_playwright(levels, browser)
    first, last = levels[0], levels[-1]

    def per_session(readings: dict[int, Reading], index: int) -> float:
        end, start = readings[last][index], readings[first][index]
        assert isinstance(end, float) and isinstance(start, float)
        return (end - start) / (last - first)

    def by_kind(label: str, readings: dict[int, Reading]) -> str:
        start, end = readings[first][2], readings[last][2]
        grown = {k: (end[k] - start.get(k, 0.0)) / (last - first) for k in end}
        parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(grown.items(), key=lambda kv: -kv[1]))
        return f"{label}: {parts}"

    figures = [
        Figure(f"backend RSS, {level} session(s)", "MiB", [ours[level][0]], "raw Playwright",
               [raw[level][0]], note="" if level != first else
               "backend: server, driver, Chromium; raw Playwright: driver and Chromium")
        for level in levels
    ]  # fmt: skip
    span = f"({first}->{last})"
    return [
        *figures,
        Figure(f"RSS per extra session {span}", "MiB", [per_session(ours, 0)],
               "raw Playwright", [per_session(raw, 0)],
               note="RSS counts shared pages once in every process"),
        Figure(f"PSS per extra session {span}", "MiB", [per_session(ours, 1)],
               "raw Playwright", [per_session(raw, 1)], "ratio_max", 1.1,
               note="PSS shares each page among the processes that map it: the honest sum; MiB "
                    "per extra session by process, " + "; ".join(
                        (by_kind("recording", ours), by_kind("plain", plain),
                         by_kind("raw", raw)))),
        Figure(f"PSS per extra session {span}, enable_recording=False", "MiB",
               [per_session(plain, 1)], "raw Playwright", [per_session(raw, 1)], "ratio_max", 1.1),
    ]  # fmt: skip
