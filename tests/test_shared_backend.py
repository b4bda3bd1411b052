"""One local backend per run: shared by the xdist workers, one Chromium, every session closed.

The inner runs are real: pytest-xdist workers, the backend process, Chromium. Each inner test
writes down what it saw of the backend (its pid, Chromium's pid, the browser processes under
it); the controller, once the reaper has run and before the backend stops, writes down how many
sessions are still open on it.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_smooth.plugin.shared_backend import launch_service
from pytest_smooth.plugin.shared_backend import running
from pytest_smooth.plugin.shared_backend import stop
from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.service import SERVER_OPTIONS
from pytest_smooth.server.service import process_alive
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini

CONFTEST = """
import json, os
import httpx
import pytest
from pytest_smooth.plugin.shared_backend import run_backend

def stats(server):
    reply = httpx.get(server.url + "/api/v1/local/stats", headers={"apikey": server.api_key})
    return reply.json()["r"]

def browser_processes(pid):
    # Chromium's main processes (not its renderers, GPU or utility processes) under ``pid``.
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                cmdline = open(f"/proc/{entry}/cmdline", "rb").read()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append((int(entry), cmdline))
    found, todo = [], [pid]
    while todo:
        for child, cmdline in children.get(todo.pop(), []):
            todo.append(child)
            # Chromium rewrites its children's command lines: look for --type= anywhere.
            name = os.path.basename(cmdline.split(b"\\0")[0].split(b" ")[0]).decode()
            if name in ("chromium", "chrome", "headless_shell") and b"--type=" not in cmdline:
                found.append(child)
    return found

@pytest.fixture
def seen(smooth_session, smooth_server):
    smooth_session.goto("data:text/html,<title>shared</title>")
    assert smooth_session.evaluate_js("document.title") == "shared"
    figures = stats(smooth_server)
    line = {
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "master"),
        "backend_pid": smooth_server.pid,
        "stats_pid": figures["pid"],
        "browser_pid": figures["browser_pid"],
        "browsers": browser_processes(smooth_server.pid),
        "session": smooth_session.id,
    }
    with open(os.environ["SEEN_FILE"], "a") as out:
        out.write(json.dumps(line) + "\\n")
    return line

def pytest_unconfigure(config):
    # On the controller: after the reaper (sessionfinish), before the backend stops.
    if hasattr(config, "workerinput"):
        return
    server = run_backend(config)
    if server is not None:
        with open(os.environ["END_FILE"], "w") as out:
            json.dump({"open_sessions": stats(server)["open_sessions"], "pid": server.pid}, out)
"""

TESTS = """
import os, signal, time
import pytest

@pytest.mark.parametrize("n", range(6))
def test_uses_the_backend(seen, n):
    time.sleep(0.2)  # both workers are busy at once

def test_killed_mid_session(seen):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.kill(os.getpid(), signal.SIGKILL)  # no teardown: its session stays open
"""


@pytest.fixture
def browser_or_skip() -> None:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser: {exc}")


@pytest.mark.usefixtures("browser_or_skip")
def test_every_setting_reaches_the_backend(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the plugin hands the service is what the service hands LocalServer (or keeps).
    clean_env(monkeypatch)
    write_ini(pytester)
    pytester.makeconftest(
        """
import pytest_smooth.plugin.shared_backend as shared

def recorder(spec, log):
    print("SPEC", sorted(spec))
    raise SystemExit(0)

shared.launch_service = recorder
"""
    )
    pytester.makepyfile("def test_server(smooth_server):\n    pass\n")
    result = pytester.runpytest_subprocess("-s", timeout=120)
    line = next(line for line in result.outlines if "SPEC [" in line)
    assert set(ast.literal_eval(line.partition("SPEC ")[2])) == {
        *SERVER_OPTIONS,
        "state_dir",
        "watch_pid",
    }


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.usefixtures("browser_or_skip")
def test_two_workers_share_one_chromium_and_every_session_closes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env(monkeypatch)
    seen_file, end_file = tmp_path / "seen.jsonl", tmp_path / "end.json"
    monkeypatch.setenv("SEEN_FILE", str(seen_file))
    monkeypatch.setenv("END_FILE", str(end_file))
    write_ini(pytester)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "xdist", timeout=240)
    out = result.stdout.str()
    result.assert_outcomes(passed=6, failed=1)
    assert "crashed" in out or "worker 'gw" in out
    seen = _lines(seen_file)
    assert len(seen) == 7
    assert {line["worker"] for line in seen} >= {"gw0", "gw1"}
    assert len({line["backend_pid"] for line in seen}) == 1  # one backend for both workers
    assert len({line["browser_pid"] for line in seen}) == 1  # and one Chromium
    assert all(line["stats_pid"] == line["backend_pid"] for line in seen)
    browsers = [(line["browsers"], [line["browser_pid"]]) for line in seen]
    assert all(found == expected for found, expected in browsers), browsers
    # The crashed worker's session was reaped, by its id, before the backend stopped.
    assert "smooth: 1 session(s) left open by crashed workers, 1 reaped" in out
    assert json.loads(end_file.read_text())["open_sessions"] == 0
    backend = int(str(seen[0]["backend_pid"]))
    browser = int(str(seen[0]["browser_pid"]))
    _wait_gone(backend)  # the controller stopped it at the end of the run (it exits just after)
    _wait_gone(browser)


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while process_alive(pid) and not _zombie(pid):
        assert time.monotonic() < deadline, f"process {pid} outlived the run"
        time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.usefixtures("browser_or_skip")
def test_the_backend_ends_when_the_run_is_gone(tmp_path: Path) -> None:
    # A controller killed with SIGKILL stops nothing: the backend sees it gone and stops itself.
    controller = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    spec = {"state_dir": str(tmp_path), "watch_pid": controller.pid, "api_key": "k" * 24}
    spec.update({name: None for name in SERVER_OPTIONS if name != "api_key"})
    with open(tmp_path / "backend.log", "ab") as log:
        process = launch_service(spec, log)
    try:
        deadline = time.monotonic() + 90
        while running(tmp_path, "k" * 24) is None:
            assert process.poll() is None, (tmp_path / "backend.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        controller.kill()
        controller.wait()
        assert process.wait(timeout=60) == 0
        assert running(tmp_path, "k" * 24) is None
        assert not (tmp_path / "backend.json").exists()
    finally:
        controller.kill()
        stop(tmp_path)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)


def test_a_backend_that_fails_to_start_says_why(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    write_ini(pytester)
    # An executable that is no browser: discovery accepts the path, the launch fails.
    pytester.makepyfile("def test_one(smooth_session):\n    pass\n")
    result = pytester.runpytest_subprocess("--smooth-browser=/bin/true", timeout=120)
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "pytest-smooth local backend: the local backend exited (2) while starting" in out
    assert "INTERNALERROR" not in out
