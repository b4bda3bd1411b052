"""``python -m pytest_smooth.server.service``: one local backend for a test run, as a process.

The plugin starts it (``pytest_smooth.plugin.shared_backend``) and every xdist worker connects
to it: one Chromium and one context pool for the run. Its settings arrive as one JSON object on
stdin, so the API key is never on a command line or in a file. It then:

1. holds an exclusive lock on ``<state>/backend.alive`` for its whole life (the OS drops it when
   the process ends, however it ends: whoever can take the lock knows the backend is gone);
2. starts a ``LocalServer`` and writes ``<state>/backend.json`` (its URL and pid; no key);
3. serves until SIGTERM or SIGINT, or until the process ``watch_pid`` (the run's controller) is
   gone, then stops the server, which closes every session and the browser.

A start that fails prints one line on stderr and exits 2.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from typing import Final

ALIVE_FILE: Final = "backend.alive"
STATE_FILE: Final = "backend.json"
WATCH_INTERVAL: Final = 0.5  # seconds between looks at the watched process
SERVER_OPTIONS: Final = (
    "api_key",
    "browser",
    "tracing",
    "llm_url",
    "llm_model",
    "profiles_dir",
    "idle_timeout",
    "prewarm",
)


def hold_alive_lock(state: Path) -> int:
    """Open and lock ``backend.alive``; the descriptor stays open (and locked) until exit."""
    fd = os.open(state / ALIVE_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    if sys.platform == "win32":  # pragma: no cover - not run in CI
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if another backend holds it
    return fd


def write_state(state: Path, url: str) -> None:
    """Write ``backend.json`` atomically: a reader sees the whole file or none."""
    tmp = state / f"{STATE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, state / STATE_FILE)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still exists (a zombie counts as gone once reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def wait_for_stop(stop: threading.Event, watch_pid: int | None) -> None:
    """Block until ``stop`` is set or the watched process has ended."""
    while not stop.wait(WATCH_INTERVAL):
        if watch_pid is not None and not process_alive(watch_pid):
            return


def serve(spec: dict[str, Any]) -> int:
    """Start the backend ``spec`` describes, publish it, serve until told to stop."""
    from pytest_smooth.server.local import LocalServer

    state = Path(spec["state_dir"])
    alive = hold_alive_lock(state)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    options = {name: spec[name] for name in SERVER_OPTIONS if spec.get(name) is not None}
    try:
        server = LocalServer(**options).start()
    except Exception as err:  # no browser, a bad option: one line for the plugin to show
        sys.stderr.write(f"error: {err}\n")
        return 2
    try:
        write_state(state, server.url)
        watch = spec.get("watch_pid")
        wait_for_stop(stop, int(watch) if watch is not None else None)
    finally:
        server.stop()
        (state / STATE_FILE).unlink(missing_ok=True)
        os.close(alive)
    return 0


def main() -> int:
    spec = json.loads(sys.stdin.read())
    sys.stdin.close()
    return serve(spec)


if __name__ == "__main__":
    raise SystemExit(main())
