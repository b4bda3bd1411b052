"""Per-action round trips and session start, against raw Playwright and smooth-py 0.4.5.

SmoothClient on the local backend vs raw Playwright on the same Chromium binary (interleaved,
one sample of each in turn), and vs smooth-py 0.4.5 against the same local backend.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

from playwright.sync_api import sync_playwright

from pytest_smooth import SmoothClient
from pytest_smooth.server import LocalServer
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

from ._results import Figure
from .site import Site

JS = "1 + 1"


def _timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


def _smooth_py(server: LocalServer, url: str, count: int) -> tuple[list[float], list[float]]:
    """evaluate_js and goto round trips (ms) of smooth-py 0.4.5 against ``server``."""
    os.environ["SMOOTH_TELEMETRY"] = "off"  # before smooth is imported
    import smooth

    evals: list[float] = []
    gotos: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own deprecated session_id field warns
        sdk: Any = smooth.SmoothClient(api_key=server.api_key, base_url=server.base_url)
        with sdk.session() as session:
            session.goto(url)
            for _ in range(count):
                evals.append(_timed(lambda: session.evaluate_js(JS)))
                gotos.append(_timed(lambda: session.goto(url)))
    return evals, gotos


def run(*, quick: bool, browser: str | None) -> list[Figure]:
    n_eval, n_goto, n_start, n_sdk = (10, 5, 3, 1) if quick else (100, 40, 20, 4)
    ours_eval: list[float] = []
    raw_eval: list[float] = []
    ours_goto: list[float] = []
    raw_goto: list[float] = []
    ours_start: list[float] = []
    raw_start: list[float] = []
    with (
        Site() as site,
        LocalServer(browser=browser) as server,
        SmoothClient(api_key=server.api_key, base_url=server.base_url) as client,
        sync_playwright() as pw,
    ):
        raw_browser = pw.chromium.launch(
            executable_path=browser, args=list(CHROMIUM_ARGS), headless=True
        )
        context = raw_browser.new_context()
        page = context.new_page()
        page.goto(site.url(1))
        with client.session() as session:
            session.goto(site.url(1))
            for _ in range(5):  # warm-up: connections, JIT, caches
                session.evaluate_js(JS)
                page.evaluate(JS)
            for _ in range(n_eval):
                ours_eval.append(_timed(lambda: session.evaluate_js(JS)))
                raw_eval.append(_timed(lambda: page.evaluate(JS)))
            for i in range(n_goto):
                url = site.url(i)
                ours_goto.append(_timed(lambda url=url: session.goto(url)))  # type: ignore[misc]
                raw_goto.append(_timed(lambda url=url: page.goto(url)))  # type: ignore[misc]
        context.close()
        for i in range(n_start):
            url = site.url(i)
            start = time.perf_counter()
            opened = client.session()
            opened.goto(url)
            ours_start.append((time.perf_counter() - start) * 1000)
            opened.close()
            start = time.perf_counter()
            context = raw_browser.new_context()
            context.new_page().goto(url)
            raw_start.append((time.perf_counter() - start) * 1000)
            context.close()
        raw_browser.close()
        sdk_eval, sdk_goto = _smooth_py(server, site.url(1), n_sdk)
    return [
        Figure("evaluate_js round trip", "ms", ours_eval, "raw Playwright", raw_eval,
               "ratio_max", 2.0),
        Figure("evaluate_js round trip", "ms", ours_eval, "smooth-py 0.4.5", sdk_eval,
               "speedup_min", 50.0),
        Figure("goto round trip", "ms", ours_goto, "raw Playwright", raw_goto, "ratio_max", 2.0),
        Figure("goto round trip", "ms", ours_goto, "smooth-py 0.4.5", sdk_goto,
               "speedup_min", 50.0,
               note="smooth-py's floor is its 1 s poll, so 50x needs goto in ~20 ms: below raw "
                    "Playwright's own navigation here (the raw Playwright row)"),
        Figure("session start + first goto", "ms", ours_start,
               "raw new_context+new_page+goto", raw_start, "ratio_max", 1.5),
    ]  # fmt: skip
