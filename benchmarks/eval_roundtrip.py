"""evaluate_js over HTTP vs raw Playwright ``page.evaluate`` on the same Chromium, interleaved.

``python -m benchmarks.eval_roundtrip [N] [--profile client|none]`` prints the medians and the
ratio. Both run one after the other in the same loop, so machine load hits both alike.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import time

from playwright.sync_api import sync_playwright

from pytest_smooth import SmoothClient
from pytest_smooth.server import LocalServer
from pytest_smooth.server.discovery import CHROMIUM_ARGS

JS = "1 + 1"


def main(n: int = 300, profile: bool = False) -> None:
    browser = "/usr/bin/chromium"
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
        with client.session() as session:
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
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 300, profile="--profile" in args)
