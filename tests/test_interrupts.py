"""Interrupted runs leave no session open: Ctrl-C mid-test, and a SIGKILLed xdist worker.

The killed worker's sessions are closed by the controller's orphan reaper at the run's end.

Each test starts its own ``LocalServer`` and runs a suite in a subprocess pointed at it with
``--smooth-backend=cloud``. The suite's tests announce that they are mid-test by writing a
file; the parent then interrupts. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_smooth.server.local import LocalServer
from tests.backend_probe import Backend
from tests.backend_probe import wait_for

pytestmark = pytest.mark.browser

# The backend closes sessions nobody touched for this long (its reaper runs every 5 s). Above
# the 10 s long-poll hold: a GET counts as activity when it starts, not while it is held.
IDLE_TIMEOUT = 12.0
READY_WAIT = 90.0
EXIT_WAIT = 90.0
# The xdist test's backend keeps idle sessions this long: far longer than the whole run, so
# only the plugin's reaper can explain a killed worker's session being closed.
PATIENT_IDLE_TIMEOUT = 3600.0

SUITE = """
import json
import os
import pathlib
import time


def _announce(session, name):
    ready = pathlib.Path(os.environ["SMOOTH_TEST_DIR"]) / f"ready-{name}.json"
    ready.write_text(json.dumps({"session": session.id, "pid": os.getpid()}))


def _hold(seconds=60.0):
    # Mid-test until the parent interrupts (or releases) this process; bounded all the same.
    release = pathlib.Path(os.environ["SMOOTH_TEST_DIR"]) / "release"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not release.exists():
        time.sleep(0.05)


def test_a(smooth_session):
    assert smooth_session.evaluate_js("1 + 1") == 2
    _announce(smooth_session, "a")
    _hold()


def test_b(smooth_session):
    assert smooth_session.evaluate_js("2 + 2") == 4
    _announce(smooth_session, "b")
    _hold()
"""


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    idle = getattr(request, "param", IDLE_TIMEOUT)
    with LocalServer(prewarm=0, idle_timeout=idle) as local:
        yield local


@pytest.fixture
def backend(server: LocalServer) -> Iterator[Backend]:
    with Backend(server.url, server.api_key) as probe:
        yield probe


def _start(pytester: pytest.Pytester, server: LocalServer, *args: str) -> subprocess.Popen[bytes]:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_suite=SUITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMOOTH_"))}
    env.pop("CIRCLEMIND_API_KEY", None)
    env["SMOOTH_TEST_DIR"] = str(pytester.path)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--smooth-backend=cloud",
        f"--smooth-base-url={server.base_url}",
        f"--smooth-apikey={server.api_key}",
        *args,
    ]
    with (pytester.path / "stdout.txt").open("wb") as out:
        # The child keeps its own copy of the descriptor; ours closes right away.
        return subprocess.Popen(command, cwd=pytester.path, env=env, stdout=out, stderr=out)


def _ready(
    pytester: pytest.Pytester, proc: subprocess.Popen[bytes], *names: str
) -> list[dict[str, int | str]]:
    files = [pytester.path / f"ready-{name}.json" for name in names]
    wait_for(lambda: all(f.exists() for f in files) or proc.poll() is not None, timeout=READY_WAIT)
    missing = [f.name for f in files if not f.exists()]
    if missing:
        (pytester.path / "release").write_text("go")
        _finish(proc)
        pytest.fail(f"the suite never got mid-test ({missing}):\n{_output(pytester)}")
    return [json.loads(f.read_text()) for f in files]


def _output(pytester: pytest.Pytester) -> str:
    path: Path = pytester.path / "stdout.txt"
    return path.read_text(errors="replace") if path.exists() else ""


def _finish(proc: subprocess.Popen[bytes]) -> int:
    try:
        return proc.wait(timeout=EXIT_WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail(f"the interrupted run did not exit within {EXIT_WAIT} s")


def test_ctrl_c_mid_test_closes_the_session(
    pytester: pytest.Pytester, server: LocalServer, backend: Backend
) -> None:
    proc = _start(pytester, server, "-k", "test_a")
    (ready,) = _ready(pytester, proc, "a")
    assert str(ready["session"]) in {t["id"] for t in backend.open_tasks()}
    proc.send_signal(signal.SIGINT)
    code = _finish(proc)
    output = _output(pytester)
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert "KeyboardInterrupt" in output
    assert "INTERNALERROR" not in output
    # Closed by the plugin on the way out, not by the idle reaper: no wait here.
    backend.settle({str(ready["session"])})
    assert backend.stats()["open_sessions"] == 0, backend.describe_open()


@pytest.mark.parametrize("server", [PATIENT_IDLE_TIMEOUT], indirect=True)
def test_xdist_worker_killed_mid_test_leaves_no_session(
    pytester: pytest.Pytester, server: LocalServer, backend: Backend
) -> None:
    proc = _start(pytester, server, "-n", "2", "--max-worker-restart=0")
    killed, survivor = _ready(pytester, proc, "a", "b")
    os.kill(int(killed["pid"]), signal.SIGKILL)
    (pytester.path / "release").write_text("go")
    _finish(proc)
    output = _output(pytester)
    assert "INTERNALERROR" not in output
    assert "crashed" in output or "node down" in output.lower(), output
    backend.settle({str(survivor["session"])})
    # The survivor's session is closed by its own worker; the killed worker's one by the
    # controller's reaper before the run exited: no waiting here, and the backend's idle
    # timeout is an hour away.
    assert backend.open_tasks() == [], backend.describe_open()
    assert backend.stats()["open_sessions"] == 0, backend.describe_open()
    assert backend.status(str(killed["session"])) == "cancelled"
    assert "smooth: 1 session(s) left open by crashed workers, 1 reaped" in output, output
    assert "could not be closed" not in output, output
