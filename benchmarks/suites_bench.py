"""The 40-test e2e suite: pytest-smooth (local backend) vs pytest-playwright, -n 2 vs -n 0.

Runs are interleaved (smooth, smooth without recording, playwright, smooth -n 2, playwright
-n 2, then again), so a burst of load from elsewhere hits all of them alike. Under -n 2 both
workers share one local backend (one Chromium, one pool). pytest-playwright's own -n 2 speedup
is the machine's floor for ours: both run Chromium on the same two cores.
"""

from __future__ import annotations

from ._results import Figure
from .runner import run_suite

# Runs of each suite (``--rounds``); one keeps the whole benchmark under 10 minutes here.
ROUNDS = 1


def run(*, quick: bool, browser: str | None) -> list[Figure]:
    tests, rounds = (4, 1) if quick else (40, ROUNDS)
    runs: dict[str, list[float]] = {k: [] for k in ("smooth", "plain", "pw", "smooth2", "pw2")}
    local = ["--smooth-backend=local"]
    for _ in range(rounds):
        runs["smooth"].append(run_suite("smooth_suite", tests=tests, args=local, browser=browser))
        runs["plain"].append(
            run_suite("smooth_suite", tests=tests, args=local, browser=browser,
                      env={"BENCH_RECORDING": "0"})
        )  # fmt: skip
        runs["pw"].append(run_suite("playwright_suite", tests=tests, browser=browser))
        runs["smooth2"].append(
            run_suite("smooth_suite", tests=tests, args=[*local, "-n", "2"], browser=browser)
        )
        runs["pw2"].append(
            run_suite("playwright_suite", tests=tests, args=["-n", "2"], browser=browser)
        )
    name = f"{tests}-test suite wall time"
    return [
        Figure(name, "s", runs["smooth"], "pytest-playwright", runs["pw"], "ratio_max", 1.25),
        Figure(f"{name}, recording", "s", runs["smooth"], "same suite, enable_recording=False",
               runs["plain"], "ratio_max", 1.15,
               note="recording: the screencast's frames, the last frame and the Playwright trace"),
        Figure(f"{name}, -n 2", "s", runs["smooth2"], "same suite -n 0", runs["smooth"],
               "speedup_min", 1.0,
               note="speedup = (-n 0 wall) / (-n 2 wall); both workers share one backend"),
        Figure(f"{name}, -n 2", "s", runs["smooth2"], "pytest-playwright -n 2", runs["pw2"],
               "ratio_max", 1.25),
        Figure(f"{name}, pytest-playwright -n 2", "s", runs["pw2"], "pytest-playwright -n 0",
               runs["pw"], "speedup_info",
               note="the same speedup for pytest-playwright: what two cores allow a suite "
                    "that runs Chromium locally"),
    ]  # fmt: skip
