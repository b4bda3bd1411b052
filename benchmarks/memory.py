"""Memory of the local backend with 1, 4 and 8 sessions open, beside raw Playwright's.

RSS and PSS of the server process and all its descendants (Playwright's driver, Chromium and
its renderers), read from /proc; for raw Playwright, of its driver and Chromium.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pytest_smooth import SmoothClient
from pytest_smooth import SmoothSession

from ._results import Figure
from .site import Site

LEVELS = (1, 4, 8)
START_TIMEOUT = 120.0


def _tree(root: int) -> list[int]:
    """Return ``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _kib(pid: int, path: str, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/{path}").read_text()
    except OSError:
        return 0  # the process ended meanwhile
    found = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def tree_memory(root: int) -> tuple[float, float]:
    """RSS and PSS (MiB) summed over ``root``'s process tree."""
    pids = _tree(root)
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


def _start_server(browser: str | None) -> tuple[subprocess.Popen[str], str, str]:
    command = [sys.executable, "-m", "pytest_smooth.server", "--port", "0"]
    if browser:
        command += ["--browser", browser]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert proc.stdout is not None
    base_url = api_key = ""
    deadline = time.monotonic() + START_TIMEOUT
    while not (base_url and api_key) and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "base URL:" in line:
            base_url = line.split("base URL:", 1)[1].strip()
        elif "API key:" in line:
            api_key = line.split("API key:", 1)[1].strip()
    if not (base_url and api_key):
        proc.kill()
        raise RuntimeError("the local backend did not print its base URL and key")
    return proc, base_url, api_key


def _driver_pid() -> int:
    """Return the pid of this process's Playwright driver (Chromium runs below it)."""
    for pid in _tree(os.getpid())[1:]:
        try:
            if b"run-driver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    raise RuntimeError("no Playwright driver process found")


def raw_playwright(levels: tuple[int, ...], browser: str | None) -> dict[int, tuple[float, float]]:
    """RSS and PSS of raw Playwright with 1, 4 and 8 contexts open, each with a page."""
    from playwright.sync_api import sync_playwright

    from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

    readings: dict[int, tuple[float, float]] = {}
    with sync_playwright() as pw, Site() as site:
        launched = pw.chromium.launch(executable_path=browser, args=list(CHROMIUM_ARGS))
        root = _driver_pid()
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
    proc, base_url, api_key = _start_server(browser)
    try:
        with Site() as site, SmoothClient(api_key=api_key, base_url=base_url) as client:
            sessions: list[SmoothSession] = []
            for level in levels:
                while len(sessions) < level:
                    session = client.session()
                    session.goto(site.url(len(sessions)))
                    sessions.append(session)
                rss[level], pss[level] = _settled(proc.pid)
            for session in sessions:
                session.close()
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
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
               "raw Playwright", [per_session(raw_rss)], goal_kind="value_max", threshold=40.0,
               note="RSS counts shared pages once in every process")
    )  # fmt: skip
    figures.append(
        Figure(f"PSS per extra session ({first}->{last})", "MiB", [per_session(pss)],
               "raw Playwright", [per_session(raw_pss)],
               note="PSS shares each page among the processes that map it: the honest sum")
    )  # fmt: skip
    return figures
