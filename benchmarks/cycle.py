"""A whole session cycle (open, first goto, close), ours against raw Playwright's.

Ours: ``SmoothClient.session()``, ``goto``, ``close`` on the local backend in its own process
(as the plugin runs it): recording (the default), recording closed with ``keep_evidence=False``
(what the plugin does for a passing test under ``retain-on-failure``), and not recording.
Raw: ``new_context``, ``new_page``, ``goto``, ``close`` on the same Chromium binary. Each sample
is the wall time of a block of cycles divided by its length, and our block ends only when the
backend is idle again (its contexts closed, its pool refilled): the background work a cycle
causes is charged to it, never to the block that follows. The sides take turns going first. The
CPU of each process tree, read around each block, says where the time goes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from playwright.sync_api import Browser
from playwright.sync_api import sync_playwright

from pytest_smooth import SmoothClient
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

from ._results import Figure
from ._results import p95
from .backend import Backend
from .backend import cpu_delta
from .backend import cpu_note
from .backend import driver_pid
from .backend import tree_cpu
from .site import Site

BLOCK = 5  # cycles a block
SIDES = ("recording", "discarded", "plain", "raw")


def _ours(
    client: SmoothClient, backend: Backend, site: Site, first: int, record: bool, keep: bool
) -> float:
    start = time.perf_counter()
    for i in range(first, first + BLOCK):
        session = client.session(enable_recording=record)
        session.goto(site.url(i))
        session.keep_evidence = keep
        session.close()
    backend.wait_idle()
    return (time.perf_counter() - start) * 1000 / BLOCK


def _raw(browser: Browser, site: Site, first: int) -> float:
    start = time.perf_counter()
    for i in range(first, first + BLOCK):
        context = browser.new_context()
        context.new_page().goto(site.url(i))
        context.close()
    return (time.perf_counter() - start) * 1000 / BLOCK


def run(*, quick: bool, browser: str | None) -> list[Figure]:
    blocks = 2 if quick else 10
    walls: dict[str, list[float]] = {side: [] for side in SIDES}
    cpu: dict[str, dict[str, float]] = {side: {} for side in SIDES}
    with (
        Site() as site,
        Backend(browser) as backend,
        SmoothClient(api_key=backend.api_key, base_url=backend.base_url) as client,
        sync_playwright() as pw,
    ):
        launched = pw.chromium.launch(executable_path=browser, args=list(CHROMIUM_ARGS))
        driver = driver_pid(os.getpid())
        cycles: dict[str, Callable[[int], float]] = {
            "recording": lambda first: _ours(client, backend, site, first, True, True),
            "discarded": lambda first: _ours(client, backend, site, first, True, False),
            "plain": lambda first: _ours(client, backend, site, first, False, True),
            "raw": lambda first: _raw(launched, site, first),
        }
        roots = {side: backend.pid for side in SIDES}
        roots["raw"] = driver
        for side in SIDES:
            cycles[side](0)  # warm-up
        for block in range(blocks):
            for k in range(len(SIDES)):
                side = SIDES[(block + k) % len(SIDES)]
                before = tree_cpu(roots[side])
                walls[side].append(cycles[side]((block + 1) * BLOCK))
                cpu[side] = _add(cpu[side], cpu_delta(before, tree_cpu(roots[side])))
        launched.close()
    count = blocks * BLOCK
    name = "session cycle (open, goto, close)"
    ref = "raw new_context+new_page+goto+close"
    where = "; ".join(cpu_note(side, cpu[side], count) for side in SIDES)
    return [
        Figure(name, "ms", walls["recording"], ref, walls["raw"], "ratio_max", 1.3,
               note=f"{where}; a sample: a block of {BLOCK} cycles, ours until the backend is "
                    "idle again"),
        Figure(f"{name}, p95 of blocks", "ms", [p95(walls["recording"])], ref,
               [p95(walls["raw"])], "ratio_max", 1.3),
        Figure(f"{name}, recording, evidence not kept", "ms", walls["discarded"], ref,
               walls["raw"], "ratio_max", 1.3,
               note="a passing test under retain-on-failure: closed with keep_evidence=False, "
                    "so no final frame and no trace export"),
        Figure(f"{name}, enable_recording=False", "ms", walls["plain"], ref, walls["raw"],
               "ratio_max", 1.3),
        Figure(f"{name}, enable_recording=False, p95", "ms", [p95(walls["plain"])], ref,
               [p95(walls["raw"])], "ratio_max", 1.3),
    ]  # fmt: skip


def _add(total: dict[str, float], delta: dict[str, float]) -> dict[str, float]:
    return {k: total.get(k, 0.0) + delta.get(k, 0.0) for k in {*total, *delta}}
