"""The local backend in a process of its own, as the plugin runs it, and what it costs.

``Backend`` starts ``python -m pytest_smooth.server`` (own process, own Chromium), so the
benchmark's client and the server never share a GIL, and reads ``/local/stats`` to know when
the backend's background work (closing contexts, refilling its pool) is done. ``tree_cpu``
sums the CPU seconds of a process tree by kind (browser, renderer, GPU, driver, server), to
say where a figure's time goes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from typing_extensions import Self

START_TIMEOUT = 120.0
IDLE_TIMEOUT = 30.0
PREWARM = 2  # the server's default pool size (python -m pytest_smooth.server)
_HZ = os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """Return ``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def process_kind(pid: int) -> str:
    """Return what process ``pid`` is: browser, renderer, gpu-process, utility, driver, server."""
    # Chromium rewrites its command line into one string: split on spaces too.
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    if any(b"run-driver" in a for a in argv) or argv[0].endswith(b"node"):
        return "driver"
    types = [a[7:].decode() for a in argv if a.startswith(b"--type=")]
    if types:
        return {"zygote": "renderer"}.get(types[0], types[0])  # the zygote reaps renderers
    if b"python" in Path(argv[0].decode()).name.encode():
        return "server"
    return "browser"


def tree_cpu(root: int) -> dict[str, float]:
    """CPU seconds (own and reaped children's) of ``root``'s tree, by kind of process."""
    out: dict[str, float] = {}
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            kind = process_kind(pid)
        except (OSError, IndexError):
            continue  # ended meanwhile
        out[kind] = out.get(kind, 0.0) + sum(int(f) for f in fields[11:15]) / _HZ
    return out


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after if after[k] - before.get(k, 0.0) > 0}


def cpu_note(label: str, delta: dict[str, float], cycles: int) -> str:
    """``label`` CPU per cycle: total, then by kind, largest first (ms)."""
    parts = ", ".join(
        f"{k} {v / cycles * 1000:.0f}" for k, v in sorted(delta.items(), key=lambda kv: -kv[1])
    )
    return f"{label} {sum(delta.values()) / cycles * 1000:.0f} ms CPU a cycle ({parts})"


def driver_pid(parent: int) -> int:
    """Return the pid of ``parent``'s own Playwright driver (its Chromium runs below it)."""
    for pid in process_tree(parent)[1:]:
        try:
            if b"run-driver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                stat = Path(f"/proc/{pid}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                    return pid
        except OSError:
            continue
    raise RuntimeError("no Playwright driver process found")


class Backend:
    """``with Backend(browser) as backend:`` the local backend in its own process."""

    def __init__(self, browser: str | None, *extra: str) -> None:
        self.command = [sys.executable, "-m", "pytest_smooth.server", "--port", "0", *extra]
        if browser:
            self.command += ["--browser", browser]
        self.base_url = self.api_key = ""
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def __enter__(self) -> Self:
        proc = self._proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.base_url and self.api_key) and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if "base URL:" in line:
                self.base_url = line.split("base URL:", 1)[1].strip()
            elif "API key:" in line:
                self.api_key = line.split("API key:", 1)[1].strip()
        try:
            if not (self.base_url and self.api_key):
                raise RuntimeError("the local backend did not print its base URL and key")
            self.wait_idle()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def stats(self) -> dict[str, Any]:
        url = f"{self.base_url.rstrip('/')}/v1/local/stats"
        reply = httpx.get(url, headers={"apikey": self.api_key}, timeout=10)
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    def wait_idle(self, timeout: float = IDLE_TIMEOUT) -> None:
        """Wait until no session context is left and the pool is full again (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.stats()["r"]
            if stats["open_sessions"] == 0 and stats["contexts"] == stats["prewarmed"] == PREWARM:
                return
            time.sleep(0.005)
        raise RuntimeError(f"the local backend did not settle within {timeout:g} s: {stats}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.send_signal(signal.SIGINT)  # its Ctrl-C path stops the server and removes its files
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
