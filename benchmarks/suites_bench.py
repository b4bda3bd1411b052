"""The 40-test e2e suite: pytest-smooth (local backend) vs pytest-playwright, -n 2 vs -n 0.

Runs are interleaved (smooth, smooth without recording, playwright, smooth -n 2, playwright
-n 2, then again), so a burst of load from elsewhere hits all of them alike. Under -n 2 both
workers share one local backend (one Chromium, one pool). pytest-playwright's own -n 2 speedup
is the machine's floor for ours: both run Chromium on the same two cores.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._results import Figure
from .runner import run_suite

# Runs of each suite (``--rounds``); one keeps the whole benchmark under 10 minutes here.
ROUNDS = 1
# Each run in turn: (suite, its arguments, its environment).
KINDS: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "smooth": ("smooth_suite", [], {}),
    "plain": ("smooth_suite", [], {"BENCH_RECORDING": "0"}),
    "pw": ("playwright_suite", [], {}),
    "smooth2": ("smooth_suite", ["-n", "2"], {}),
    "pw2": ("playwright_suite", ["-n", "2"], {}),
}


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, from /proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run(*, quick: bool, browser: str | None) -> list[Figure]:
    tests, rounds = (4, 1) if quick else (40, ROUNDS)
    runs: dict[str, list[float]] = {k: [] for k in KINDS}
    busy: dict[str, float] = dict.fromkeys(KINDS, 0.0)
    local = ["--smooth-backend=local"]
    for _ in range(rounds):
        for kind, (suite, args, env) in KINDS.items():
            before = busy_seconds()
            extra = [*local, *args] if suite == "smooth_suite" else list(args)
            runs[kind].append(run_suite(suite, tests=tests, args=extra, env=env, browser=browser))
            busy[kind] += busy_seconds() - before
    cores = os.cpu_count() or 1
    use = {k: busy[k] / (sum(runs[k]) * cores) for k in KINDS}
    cpu = {k: busy[k] / len(runs[k]) for k in KINDS}
    where = (
        f"the machine's {cores} cores were busy {use['smooth']:.0%} of -n 0's wall time "
        f"({cpu['smooth']:.1f} CPU s) and {use['smooth2']:.0%} of -n 2's ({cpu['smooth2']:.1f} CPU "
        f"s); pytest-playwright {use['pw']:.0%} ({cpu['pw']:.1f} CPU s) and {use['pw2']:.0%} "
        f"({cpu['pw2']:.1f} CPU s): -n 2 adds {cpu['smooth2'] - cpu['smooth']:.1f} CPU s (its two "
        "workers start, import and collect beside the controller) on cores the browser already "
        "keeps busy"
    )
    name = f"{tests}-test suite wall time"
    return [
        Figure(name, "s", runs["smooth"], "pytest-playwright", runs["pw"], "ratio_max", 1.25),
        Figure(f"{name}, recording", "s", runs["smooth"], "same suite, enable_recording=False",
               runs["plain"], "ratio_max", 1.15,
               note="recording: the screencast's frames, the last frame and the Playwright trace"),
        Figure(f"{name}, -n 2", "s", runs["smooth2"], "same suite -n 0", runs["smooth"],
               "speedup_min", 1.0,
               note="speedup = (-n 0 wall) / (-n 2 wall); both workers share one backend; "
                    + where),
        Figure(f"{name}, -n 2", "s", runs["smooth2"], "pytest-playwright -n 2", runs["pw2"],
               "ratio_max", 1.25),
        Figure(f"{name}, pytest-playwright -n 2", "s", runs["pw2"], "pytest-playwright -n 0",
               runs["pw"], "speedup_info",
               note="the same speedup for pytest-playwright: what two cores allow a suite "
                    "that runs Chromium locally"),
    ]  # fmt: skip
