"""The 40-test e2e suite: pytest-smooth (local backend) vs pytest-playwright, and -n 2 vs -n 0.

Runs are interleaved (smooth, playwright, smooth -n 2, playwright -n 2, then again), so a burst
of load from elsewhere hits all four alike. pytest-playwright's own -n 2 speedup is the machine's
floor for ours: both run Chromium on the same two cores.
"""

from __future__ import annotations

from ._results import Figure
from .runner import run_suite

# Runs of each suite (``--rounds``); one keeps the whole benchmark under 10 minutes here.
ROUNDS = 1


def run(*, quick: bool, browser: str | None) -> list[Figure]:
    tests, rounds = (4, 1) if quick else (40, ROUNDS)
    smooth: list[float] = []
    playwright: list[float] = []
    parallel: list[float] = []
    playwright_parallel: list[float] = []
    local = ["--smooth-backend=local"]
    for _ in range(rounds):
        smooth.append(run_suite("smooth_suite", tests=tests, args=local, browser=browser))
        playwright.append(run_suite("playwright_suite", tests=tests, browser=browser))
        parallel.append(
            run_suite("smooth_suite", tests=tests, args=[*local, "-n", "2"], browser=browser)
        )
        playwright_parallel.append(
            run_suite("playwright_suite", tests=tests, args=["-n", "2"], browser=browser)
        )
    name = f"{tests}-test suite wall time"
    return [
        Figure(name, "s", smooth, "pytest-playwright", playwright, "ratio_max", 1.25),
        Figure(f"{name}, -n 2", "s", parallel, "same suite -n 0", smooth, "speedup_min", 1.6,
               note="speedup = (-n 0 wall) / (-n 2 wall); each xdist worker starts its own "
                    "backend and Chromium"),
        Figure(f"{name}, pytest-playwright -n 2", "s", playwright_parallel,
               "pytest-playwright -n 0", playwright, "speedup_info",
               note="the same speedup for pytest-playwright: what two cores allow a suite "
                    "that runs Chromium locally"),
    ]  # fmt: skip
