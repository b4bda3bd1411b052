"""One local backend per run, shared by every xdist worker: what ``smooth_server`` gives.

The first process of the run that needs it takes a file lock in the run's shared folder
(``run_folder``), as pytest-xdist's documentation shows for once-per-run fixtures, and starts
the backend as a process of its own (``pytest_smooth.server.service``); the others, holding the
same lock in turn, find it running and connect. One Chromium and one context pool serve the
whole run, and a crashed worker takes nothing down with it: the controller reaps the sessions
it left (``reaper``) and then stops the backend, at the very end of the run. The backend also
stops by itself when the controller's process is gone, and closes idle sessions on its own.

The backend's API key is made by the controller and handed to the workers with the run id; it
reaches the backend on its stdin, never a command line or a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from typing import Any
from typing import Final
from urllib.parse import urlsplit

import pytest

from pytest_smooth.plugin.run_folder import folder_of_run
from pytest_smooth.plugin.run_folder import is_controller
from pytest_smooth.plugin.run_folder import locked
from pytest_smooth.plugin.run_folder import run_folder
from pytest_smooth.plugin.run_folder import try_lock
from pytest_smooth.plugin.session_options import run_id
from pytest_smooth.plugin.settings import SmoothSettings

KEY_INPUT: Final = "smooth_backend_key"
CONTROLLER_INPUT: Final = "smooth_controller_pid"
KEY_STASH: Final = pytest.StashKey[str]()
START_LOCK: Final = "backend.lock"
ALIVE_FILE: Final = "backend.alive"  # locked by the backend process for its whole life
STATE_FILE: Final = "backend.json"  # its URL and pid, written once it serves
LOG_FILE: Final = "backend.log"
START_TIMEOUT: Final = 90.0  # the backend's own start-up (Chromium included) is bounded at 60 s
STOP_TIMEOUT: Final = 40.0  # the backend's stop is bounded at 30 s
_LAUNCHED: list[subprocess.Popen[bytes]] = []  # kept referenced while they run


class BackendStartError(RuntimeError):
    """The shared local backend did not start; the message is the backend's own."""


@dataclass(frozen=True)
class SharedServer:
    """The run's local backend: ``url``, ``base_url`` and ``api_key``, as ``LocalServer`` has."""

    url: str
    api_key: str
    pid: int  # the backend process (not Chromium)

    @property
    def base_url(self) -> str:
        """The API base in the SDK's form, ``http://127.0.0.1:PORT/api/``."""
        return f"{self.url}/api/"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 0


def backend_key(config: pytest.Config) -> str:
    """Return the run's backend key: the controller's, handed to workers in ``workerinput``."""
    workerinput = getattr(config, "workerinput", None)
    if isinstance(workerinput, dict) and workerinput.get(KEY_INPUT):
        return str(workerinput[KEY_INPUT])
    return config.stash.setdefault(KEY_STASH, secrets.token_urlsafe(24))


def controller_pid(config: pytest.Config) -> int:
    """Return the pid of the run's controller (the only process without xdist)."""
    workerinput = getattr(config, "workerinput", None)
    if isinstance(workerinput, dict) and workerinput.get(CONTROLLER_INPUT):
        return int(workerinput[CONTROLLER_INPUT])
    return os.getpid()


def service_spec(
    config: pytest.Config, settings: SmoothSettings, profiles_dir: Path | None
) -> dict[str, Any]:
    """Return the backend's settings, as the service reads them from its stdin."""
    return {
        "state_dir": str(run_folder(config)),
        "watch_pid": controller_pid(config),
        "api_key": backend_key(config),
        "browser": settings.browser,
        "tracing": None if settings.tracing != "off" else False,  # off: no trace at all
        "llm_url": settings.llm_url,  # the LLM's key: from the environment only
        "llm_model": settings.llm_model,
        "profiles_dir": str(profiles_dir) if profiles_dir is not None else None,
        "prewarm": max(2, _worker_count(config)),  # warm contexts: one per worker, at least 2
        "idle_timeout": None,  # the backend's own: it closes what a crashed worker left open
    }


def _worker_count(config: pytest.Config) -> int:
    workerinput = getattr(config, "workerinput", None)
    if isinstance(workerinput, dict):
        return int(workerinput.get("workercount", 1))
    return 1


def launch_service(spec: dict[str, Any], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start the backend process and hand it ``spec`` on its stdin."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_smooth.server.service"],
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=log,
        # Its own session: a Ctrl-C at the terminal stops the tests, not the backend that
        # their sessions still need to close; the controller stops it afterwards.
        start_new_session=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(spec).encode("utf-8"))
    process.stdin.close()
    _LAUNCHED.append(process)
    return process


def running(folder: Path, api_key: str) -> SharedServer | None:
    """Return the backend serving from ``folder``, or None when none is (or it has ended)."""
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _alive(folder):
        return None
    return SharedServer(url=str(state["url"]), api_key=api_key, pid=int(state["pid"]))


def _alive(folder: Path) -> bool:
    """Whether a backend process holds ``backend.alive``'s lock (taking it means none does)."""
    try:
        fd = os.open(folder / ALIVE_FILE, os.O_RDWR)
    except OSError:
        return False
    try:
        return not try_lock(fd)
    finally:
        os.close(fd)  # also drops the lock if this look took it


def acquire(config: pytest.Config, settings: SmoothSettings, profiles: Path | None) -> SharedServer:
    """Connect to the run's backend, starting it if this process is the first to need it."""
    folder = run_folder(config)
    key = backend_key(config)
    with locked(folder / START_LOCK, timeout=START_TIMEOUT + 10):
        found = running(folder, key)
        if found is not None:
            return found
        (folder / STATE_FILE).unlink(missing_ok=True)  # a dead backend's
        with open(folder / LOG_FILE, "ab") as log:
            process = launch_service(service_spec(config, settings, profiles), log)
        return _await_ready(process, folder, key)


def _await_ready(process: subprocess.Popen[bytes], folder: Path, key: str) -> SharedServer:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = running(folder, key)
        if found is not None:
            return found
        if process.poll() is not None:
            raise BackendStartError(_last_error(folder / LOG_FILE, process.returncode))
        time.sleep(0.05)
    process.kill()
    raise BackendStartError(f"the local backend did not start within {START_TIMEOUT:g} s")


def _last_error(log: Path, code: int) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        lines = []
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    reason = errors[-1] if errors else (lines[-1] if lines else "no output")
    return f"the local backend exited ({code}) while starting: {reason}"


def stop(folder: Path, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the backend serving from ``folder`` (it closes its sessions), bounded."""
    try:
        pid = int(json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError):
        return
    if not _alive(folder):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(folder):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    for process in _LAUNCHED:  # our own child: collect it, no zombie left
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def run_backend(config: pytest.Config) -> SharedServer | None:
    """Return the run's backend if one is serving (e.g. for the reaper on the controller)."""
    return running(folder_of_run(run_id(config)), backend_key(config))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand each xdist worker the backend key and the controller's pid."""
    node.workerinput[KEY_INPUT] = backend_key(node.config)
    node.workerinput[CONTROLLER_INPUT] = os.getpid()


def stop_run_backend(config: pytest.Config) -> None:
    """Stop the run's backend (the controller, or the only process), once every worker is done.

    Called by the entry point's ``pytest_unconfigure``: after its last-resort close of sessions,
    before ``run_folder`` removes the folder.
    """
    if is_controller(config):
        folder = folder_of_run(run_id(config))
        if folder.is_dir():
            stop(folder)
