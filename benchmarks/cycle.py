"""A whole session cycle (open, first goto, close), ours against raw Playwright's.

Ours: ``SmoothClient.session()``, ``goto``, ``close`` on the local backend in its own process
(as the plugin runs it). Raw: ``new_context``, ``new_page``, ``goto``, ``close`` on the same
Chromium binary. Each sample is the wall time of a block of cycles divided by its length, and
our block ends only when the backend is idle again (its contexts closed, its pool refilled):
the background work a cycle causes is charged to it, never to the block that follows. Blocks
alternate which side goes first. The CPU of both process trees says where the time goes.
"""

from __future__ import annotations

import os
import time

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


def _ours(client: SmoothClient, backend: Backend, site: Site, first: int) -> float:
    start = time.perf_counter()
    for i in range(first, first + BLOCK):
        session = client.session()
        session.goto(site.url(i))
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
    blocks = 2 if quick else 12
    ours: list[float] = []
    raw: list[float] = []
    with (
        Site() as site,
        Backend(browser) as backend,
        SmoothClient(api_key=backend.api_key, base_url=backend.base_url) as client,
        sync_playwright() as pw,
    ):
        launched = pw.chromium.launch(executable_path=browser, args=list(CHROMIUM_ARGS))
        driver = driver_pid(os.getpid())
        _ours(client, backend, site, 0), _raw(launched, site, 0)  # warm-up
        cpu_ours = cpu_raw = {}
        for block in range(blocks):
            first = (block + 1) * BLOCK
            before = tree_cpu(backend.pid), tree_cpu(driver)
            if block % 2:
                raw.append(_raw(launched, site, first))
                ours.append(_ours(client, backend, site, first))
            else:
                ours.append(_ours(client, backend, site, first))
                raw.append(_raw(launched, site, first))
            after = tree_cpu(backend.pid), tree_cpu(driver)
            cpu_ours = _add(cpu_ours, cpu_delta(before[0], after[0]))
            cpu_raw = _add(cpu_raw, cpu_delta(before[1], after[1]))
        launched.close()
    cycles = blocks * BLOCK
    name = "session cycle (open, goto, close)"
    ref = "raw new_context+new_page+goto+close"
    where = (
        f"{cpu_note('ours', cpu_ours, cycles)}; {cpu_note('raw', cpu_raw, cycles)}; "
        f"each sample: a block of {BLOCK} cycles, ours until the backend is idle again"
    )
    return [
        Figure(name, "ms", ours, ref, raw, "ratio_max", 1.3, note=where),
        Figure(f"{name}, p95 of blocks", "ms", [p95(ours)], ref, [p95(raw)], "ratio_max", 1.3),
    ]  # fmt: skip


def _add(total: dict[str, float], delta: dict[str, float]) -> dict[str, float]:
    return {k: total.get(k, 0.0) + delta.get(k, 0.0) for k in {*total, *delta}}
