"""evaluate_js over HTTP vs raw Playwright ``page.evaluate`` on the same Chromium, interleaved.

``python -m benchmarks.eval_roundtrip [N] [--profile] [--profile-server] [--no-hold]`` prints
the medians and the ratio. Both run one after the other in the same loop, so machine load hits
both alike. ``--profile`` profiles the client calls, ``--profile-server`` the server's thread,
``--no-hold`` measures the two-round-trip path (POST, then a long-poll GET), and
``--no-recording`` opens the session with ``enable_recording=False`` (no Playwright trace).
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import time
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

from pytest_smooth import SmoothClient
from pytest_smooth._core.client_base import BaseSmoothClient
from pytest_smooth.server import LocalServer
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

JS = "1 + 1"


def _profiled_server(prof: cProfile.Profile) -> None:
    run = LocalServer._run

    def profiled(self: LocalServer, sock: Any) -> None:
        prof.enable()
        try:
            run(self, sock)
        finally:
            prof.disable()

    LocalServer._run = profiled  # type: ignore[method-assign]


def _no_hold(
    self: BaseSmoothClient[Any], wait: float
) -> tuple[dict[str, int] | None, httpx.Timeout | None]:
    """Ask for no held ack: every action takes a POST and then a long-poll GET."""
    del self, wait
    return None, None


def main(
    n: int = 300, profile: bool = False, server_profile: bool = False, recording: bool = True
) -> None:
    browser = "/usr/bin/chromium"
    sprof = cProfile.Profile() if server_profile else None
    if sprof is not None:
        _profiled_server(sprof)
    ours: list[float] = []
    raw: list[float] = []
    prof = cProfile.Profile() if profile else None
    with (
        LocalServer(browser=browser, prewarm=0) as server,
        SmoothClient(api_key=server.api_key, base_url=server.base_url) as client,
        sync_playwright() as pw,
    ):
        raw_browser = pw.chromium.launch(
            executable_path=browser, args=list(CHROMIUM_ARGS), headless=True
        )
        page = raw_browser.new_context().new_page()
        with client.session(enable_recording=recording) as session:
            for _ in range(10):  # warm-up
                session.evaluate_js(JS)
                page.evaluate(JS)
            for _ in range(n):
                if prof is not None:
                    prof.enable()
                start = time.perf_counter()
                session.evaluate_js(JS)
                ours.append((time.perf_counter() - start) * 1000)
                if prof is not None:
                    prof.disable()
                start = time.perf_counter()
                page.evaluate(JS)
                raw.append((time.perf_counter() - start) * 1000)
        raw_browser.close()
    a, b = statistics.median(ours), statistics.median(raw)
    print(f"n={n} evaluate_js median {a:.2f} ms, raw page.evaluate {b:.2f} ms, ratio {a / b:.2f}x")
    for name, p in (("client", prof), ("server", sprof)):
        if p is not None:
            print(f"--- {name} profile")
            pstats.Stats(p).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--no-hold" in args:
        BaseSmoothClient._event_hold = _no_hold  # type: ignore[method-assign]
    count = next((int(a) for a in args if a.isdigit()), 300)
    main(
        count,
        profile="--profile" in args,
        server_profile="--profile-server" in args,
        recording="--no-recording" not in args,
    )
