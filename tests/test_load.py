"""Load on the local backend: concurrency, churn, leaks and memory (``-m load``, its own CI step).

- 8 concurrent sessions, 250 ``evaluate_js`` each: no error, every value right.
- 300 sessions opened and closed in sequence: no error.
- Afterwards no session and no browser context is left (``/local/stats``), and the memory of
  the backend (RSS of its process plus its browser processes, read from /proc) is within 15 %
  of what it was after the first 20 sessions. The figures are printed.

The backend runs as ``python -m pytest_smooth.server`` in its own process, so its memory is
its own and not this test process's.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pytest_smooth import SmoothClient
from tests.backend_probe import Backend
from tests.backend_probe import wait_for

pytestmark = [pytest.mark.load, pytest.mark.browser]

API_KEY = "load-test-key-4f2a"
CONCURRENT_SESSIONS = 8
ACTIONS_PER_SESSION = 250
SEQUENTIAL_SESSIONS = 300
BASELINE_AFTER = 20
MEMORY_TOLERANCE = 0.15
MEMORY_SETTLE = 20.0  # seconds the memory check waits for closed contexts' processes to exit
START_WAIT = 90.0
ACTION_TIMEOUT = 60.0


class ServerProcess:
    """``python -m pytest_smooth.server --port 0`` and what /proc says about its processes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pytest_smooth.server", "--port", "0", "--api-key", API_KEY],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.base_url = ""
        # RSS after the first BASELINE_AFTER sessions: what the end of the run is held to.
        self.baseline: float | None = None
        lines: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.append(line)
                found = re.search(r"base URL:\s*(\S+)", line)
                if found:
                    self.base_url = found.group(1)

        # A reader thread keeps the pipe drained for the whole run (a full pipe blocks the server).
        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        wait_for(lambda: self.base_url or self.proc.poll() is not None, timeout=START_WAIT)
        assert self.base_url, f"the backend did not start within {START_WAIT} s: {''.join(lines)}"
        self.url = self.base_url.removesuffix("/api/")

    def tree(self) -> list[int]:
        """Return the server's pid and every descendant's (the browser and its helpers)."""
        parents: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(parents.get(pid, []))
        return found

    def rss_within(self, limit: float, timeout: float = MEMORY_SETTLE) -> float:
        """Return the tree's RSS once it is at most ``limit`` MiB, or the last reading.

        Chromium reaps a closed context's renderer a while after the context is gone: memory
        that is still held then is a leak, memory on its way out is not.
        """
        deadline = time.monotonic() + timeout
        reading = self.rss_mib()
        while reading > limit and time.monotonic() < deadline:
            time.sleep(0.5)
            reading = self.rss_mib()
        return reading

    def rss_mib(self) -> float:
        """Return the summed VmRSS of the tree, in MiB."""
        total_kib = 0
        for pid in self.tree():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            total_kib += int(match.group(1)) if match else 0
        return total_kib / 1024

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(timeout=10)  # it ends at EOF, once the server is gone
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    process = ServerProcess()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def backend(server: ServerProcess) -> Iterator[Backend]:
    with Backend(server.url, API_KEY) as probe:
        yield probe


def _report(capsys: pytest.CaptureFixture[str], *lines: str) -> None:
    with capsys.disabled():
        for line in lines:
            print(f"[load] {line}")  # noqa: T201 - the figures are what this test reports


def _in_use(backend: Backend, *, drain: float = 20.0) -> tuple[int, int]:
    """(open sessions, browser contexts not in the prewarmed pool), once contexts drain.

    A closed session's context is torn down, and the pool refilled, in the background just
    after the close reply; so wait (bounded) for the in-use count to reach 0. A context that
    really leaked never drains, and the caller's assertion then fails with the figures.
    """
    deadline = time.monotonic() + drain
    while True:
        stats = backend.stats()
        in_use = stats["open_sessions"], stats["contexts"] - stats.get("prewarmed", 0)
        if in_use == (0, 0) or time.monotonic() >= deadline:
            return in_use
        time.sleep(0.1)


def _client(server: ServerProcess) -> SmoothClient:
    return SmoothClient(api_key=API_KEY, base_url=server.base_url, timeout=ACTION_TIMEOUT)


def test_sequential_sessions_and_memory(
    server: ServerProcess, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    ids: set[str] = set()
    baseline = 0.0
    started = time.monotonic()
    with _client(server) as client:
        for n in range(1, SEQUENTIAL_SESSIONS + 1):
            session = client.session()
            ids.add(session.id)
            assert session.evaluate_js("1 + 1") == 2
            session.close()
            if n == BASELINE_AFTER:
                backend.settle(ids)
                baseline = server.baseline = server.rss_mib()
    took = time.monotonic() - started
    backend.settle(ids)
    open_sessions, contexts = _in_use(backend)
    final = server.rss_within(baseline * (1 + MEMORY_TOLERANCE))
    _report(
        capsys,
        f"{SEQUENTIAL_SESSIONS} sessions opened and closed in {took:.1f} s"
        f" ({took / SEQUENTIAL_SESSIONS * 1000:.0f} ms each)",
        f"memory after {BASELINE_AFTER}: {baseline:.0f} MiB, after {SEQUENTIAL_SESSIONS}:"
        f" {final:.0f} MiB ({(final / baseline - 1) * 100:+.1f} %), {len(server.tree())} processes",
        f"left open: {open_sessions} sessions, {contexts} contexts",
    )
    assert (open_sessions, contexts) == (0, 0), backend.describe_open()
    assert final <= baseline * (1 + MEMORY_TOLERANCE)


def test_concurrent_sessions(
    server: ServerProcess, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    before = server.rss_mib()

    def work(worker: int) -> tuple[str, list[float]]:
        latencies = []
        with _client(server) as client, client.session() as session:
            for i in range(ACTIONS_PER_SESSION):
                start = time.monotonic()
                assert session.evaluate_js("(a) => a.x * 2", args={"x": worker * 1000 + i}) == 2 * (
                    worker * 1000 + i
                )
                latencies.append(time.monotonic() - start)
            return session.id, latencies

    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENT_SESSIONS) as pool:
        results = list(pool.map(work, range(CONCURRENT_SESSIONS)))
    took = time.monotonic() - started
    backend.settle({session_id for session_id, _ in results})
    all_latencies = sorted(t for _, times in results for t in times)
    executions = backend.stats()["executions"]
    open_sessions, contexts = _in_use(backend)
    reference = server.baseline if server.baseline is not None else before
    after = server.rss_within(reference * (1 + MEMORY_TOLERANCE))
    total = CONCURRENT_SESSIONS * ACTIONS_PER_SESSION
    _report(
        capsys,
        f"{CONCURRENT_SESSIONS} sessions x {ACTIONS_PER_SESSION} evaluate_js: {total} actions in"
        f" {took:.1f} s ({total / took:.0f}/s), p50 {statistics.median(all_latencies) * 1000:.0f}"
        f" ms, p95 {all_latencies[int(len(all_latencies) * 0.95)] * 1000:.0f} ms,"
        f" max {all_latencies[-1] * 1000:.0f} ms",
        f"memory before {before:.0f} MiB, after {after:.0f} MiB (after {BASELINE_AFTER}"
        f" sessions: {server.baseline or 0:.0f} MiB)",
        f"actions executed twice: {sum(1 for c in executions.values() if c > 1)}",
        f"left open: {open_sessions} sessions, {contexts} contexts (pid {os.getpid()} is the test)",
    )
    assert all(count == 1 for count in executions.values())
    assert (open_sessions, contexts) == (0, 0), backend.describe_open()
    assert after <= reference * (1 + MEMORY_TOLERANCE), f"{after:.0f} MiB vs {reference:.0f} MiB"
