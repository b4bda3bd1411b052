"""Per-action round trips, against raw Playwright and smooth-py 0.4.5.

SmoothClient on the local backend in its own process (as the plugin runs it) against raw
Playwright on the same Chromium binary, interleaved one sample of each in turn: on a quiet
machine and while a busy loop (started here) holds one core. The floor is raw Playwright plus
one loopback HTTP round trip through the same server stack (an unauthenticated request, which
the server answers without touching the browser).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright

from pytest_smooth import SmoothClient
from pytest_smooth import SmoothSession
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

from ._results import Figure
from ._results import median
from .backend import Backend
from .backend import cpu_delta
from .backend import driver_pid
from .backend import tree_cpu
from .site import Site

JS = "1 + 1"


def _timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


@contextmanager
def cpu_hog() -> Iterator[None]:
    """Keep one core busy (a busy loop) for as long as the block lasts."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # the scheduler sees it before the first sample
        yield
    finally:
        hog.kill()
        hog.wait()


def _evals(sessions: dict[str, SmoothSession], page: Page, count: int) -> dict[str, list[float]]:
    """Interleaved evaluate_js samples (ms) of each session and of raw Playwright."""
    out: dict[str, list[float]] = {name: [] for name in [*sessions, "raw"]}
    for _ in range(count):
        for name, session in sessions.items():
            out[name].append(_timed(lambda s=session: s.evaluate_js(JS)))  # type: ignore[misc]
        out["raw"].append(_timed(lambda: page.evaluate(JS)))
    return out


def _where(evaluate: Callable[[], object], root: int, count: int) -> tuple[float, dict[str, float]]:
    """Wall ms an evaluate and the CPU ms of each process kind under ``root`` (and this thread)."""
    before, own = tree_cpu(root), time.thread_time()
    start = time.perf_counter()
    for _ in range(count):
        evaluate()
    wall = (time.perf_counter() - start) * 1000 / count
    cpu = {k: v * 1000 / count for k, v in cpu_delta(before, tree_cpu(root)).items()}
    cpu["client"] = (time.thread_time() - own) * 1000 / count
    return wall, cpu


def _where_note(label: str, wall: float, cpu: dict[str, float]) -> str:
    parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
    return f"{label} {wall:.2f} ms wall, CPU ms an evaluate: {parts}"


def _smooth_py(backend: Backend, url: str, count: int) -> tuple[list[float], list[float]]:
    """evaluate_js and goto round trips (ms) of smooth-py 0.4.5 against ``backend``."""
    os.environ["SMOOTH_TELEMETRY"] = "off"  # before smooth is imported
    import smooth

    evals: list[float] = []
    gotos: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own deprecated session_id field warns
        sdk: Any = smooth.SmoothClient(api_key=backend.api_key, base_url=backend.base_url)
        with sdk.session() as session:
            session.goto(url)
            for _ in range(count):
                evals.append(_timed(lambda: session.evaluate_js(JS)))
                gotos.append(_timed(lambda: session.goto(url)))
    return evals, gotos


def run(*, quick: bool, browser: str | None) -> list[Figure]:
    n_eval, n_goto, n_sdk = (10, 5, 1) if quick else (200, 40, 4)
    ours_goto: list[float] = []
    raw_goto: list[float] = []
    with (
        Site() as site,
        Backend(browser) as backend,
        SmoothClient(api_key=backend.api_key, base_url=backend.base_url) as client,
        httpx.Client(base_url=backend.base_url) as bare,
        sync_playwright() as pw,
    ):
        page = pw.chromium.launch(executable_path=browser, args=list(CHROMIUM_ARGS)).new_page()
        page.goto(site.url(1))
        with client.session() as recorded, client.session(enable_recording=False) as plain:
            sessions = {"recording": recorded, "plain": plain}
            for session in sessions.values():
                session.goto(site.url(1))
            _evals(sessions, page, 5)  # warm-up: connections, JIT, caches
            quiet = _evals(sessions, page, n_eval)
            http = [_timed(lambda: bare.get("v1/task")) for _ in range(n_eval)]
            ours = _where(lambda: plain.evaluate_js(JS), backend.pid, n_eval)
            raw = _where(lambda: page.evaluate(JS), driver_pid(os.getpid()), n_eval)
            with cpu_hog():
                hog = _evals(sessions, page, n_eval)
            for i in range(n_goto):
                url = site.url(i)
                ours_goto.append(_timed(lambda url=url: recorded.goto(url)))  # type: ignore[misc]
                raw_goto.append(_timed(lambda url=url: page.goto(url)))  # type: ignore[misc]
        sdk_eval, sdk_goto = _smooth_py(backend, site.url(1), n_sdk)
    floor = median(quiet["raw"]) + median(http)
    return [
        Figure("evaluate_js round trip, quiet", "ms", quiet["plain"], "raw Playwright",
               quiet["raw"], "ratio_max", 1.5,
               note=f"floor: raw + one loopback HTTP round trip to the same server "
                    f"({median(http):.2f} ms) = {floor:.2f} ms, {floor / median(quiet['raw']):.2f}x"
                    " raw; session with enable_recording=False; where the time goes: "
                    f"{_where_note('ours', *ours)}; {_where_note('raw', *raw)}; the rest of "
                    "the wall time is waiting for the next process to wake up"),
        Figure("evaluate_js round trip, quiet, recording", "ms", quiet["recording"],
               "raw Playwright", quiet["raw"], "ratio_max", 1.5,
               note="the default session: its Playwright trace snapshots the DOM before and "
                    "after every action (the trace viewer's Before/After panes)"),
        Figure("evaluate_js round trip, CPU hog", "ms", hog["plain"], "raw Playwright",
               hog["raw"], "ratio_max", 2.0, note="a busy loop holds one of the cores"),
        Figure("evaluate_js round trip, CPU hog, recording", "ms", hog["recording"],
               "raw Playwright", hog["raw"], "ratio_max", 2.0),
        Figure("evaluate_js round trip", "ms", quiet["recording"], "smooth-py 0.4.5", sdk_eval,
               "speedup_min", 50.0),
        Figure("goto round trip, recording", "ms", ours_goto, "raw Playwright", raw_goto,
               "ratio_max", 2.0),
        Figure("goto round trip, recording", "ms", ours_goto, "smooth-py 0.4.5", sdk_goto,
               "speedup_min", 50.0,
               note="smooth-py's floor is its 1 s poll, so 50x needs goto in ~20 ms: below raw "
                    "Playwright's own navigation here (the raw Playwright row)"),
    ]  # fmt: skip
