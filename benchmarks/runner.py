"""Run a benchmark suite as a pytest subprocess and time it (wall clock, start to exit)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = Path(__file__).resolve().parent / "suites"
# Each suite disables the other plugin, so neither pays for the other's set-up.
PLUGIN_ARGS = {
    "smooth_suite": ["-p", "no:playwright"],
    "playwright_suite": ["-p", "no:smooth"],
}
SUITE_TIMEOUT = 300.0


class SuiteFailed(RuntimeError):
    """A benchmark suite did not pass; the message has the end of its output."""


def run_suite(
    suite: str,
    *,
    tests: int,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    browser: str | None = None,
) -> float:
    """Run ``suite`` with ``tests`` tests; return its wall time in seconds (raise if it fails)."""
    command = [
        sys.executable, "-m", "pytest", "-c", str(SUITES / "pytest.ini"),
        str(SUITES / suite), *PLUGIN_ARGS[suite], *args,
    ]  # fmt: skip
    environ = {**os.environ, "BENCH_TESTS": str(tests), **(env or {})}
    if browser:
        environ["SMOOTH_BROWSER"] = browser
    start = time.perf_counter()
    done = subprocess.run(
        command,
        check=False,
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise SuiteFailed(f"{suite} {' '.join(args)} exited {done.returncode}:\n{tail}")
    return elapsed
