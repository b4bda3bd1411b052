"""The orphan-session reaper: the ids each process writes down, the run's end, the tag search.

The crashed-xdist-worker case on real Chromium is in tests/test_interrupts.py, and on a server
whose task list has no metadata in tests/test_cloud_scale.py; here the inner runs point the
plugin at a browserless LocalServer as if it were the cloud.
"""

from __future__ import annotations

from collections.abc import Generator
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_smooth.plugin.reaper import MAX_PAGES
from pytest_smooth.plugin.reaper import PAGE_SIZE
from pytest_smooth.plugin.reaper import find_open
from pytest_smooth.plugin.reaper import recorded_open
from pytest_smooth.server.local import LocalServer
from tests.backend_probe import Backend
from tests.faultproxy import Fault
from tests.faultproxy import FaultProxy
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import cloud_args
from tests.plugin_helpers import instant_server
from tests.plugin_helpers import write_ini

# A test that opens sessions without the plugin's fixtures and never closes them, as a process
# that died would: one is written down as this run's (as the fixtures do), the other is not.
LEAKING = """
import pathlib
from pytest_smooth.plugin.reaper import record_opened

def test_leaks(request, smooth_client):
    mine = smooth_client.session()
    record_opened(request.config, mine.id, request.node.nodeid)
    other = smooth_client.session()
    pathlib.Path("ids.txt").write_text(mine.id + " " + other.id)
"""

CLEAN = """
def test_uses_a_session(smooth_session):
    assert smooth_session.evaluate_js("1") == "1"
"""


class FakeLister:
    """Answers GET /task from a list of tasks, newest first, honouring ``t`` and ``l``."""

    def __init__(self, tasks: list[dict[str, Any]]) -> None:
        self.tasks = sorted(tasks, key=lambda t: t["created_at"], reverse=True)
        self.calls: list[dict[str, int]] = []

    def _request_flow(
        self, method: str, path: str, *, params: dict[str, int], **_: Any
    ) -> Generator[None, None, Any]:
        assert (method, path) == ("GET", "task")
        self.calls.append(dict(params))
        before = params.get("t")
        chosen = [t for t in self.tasks if before is None or t["created_at"] < before]
        yield from ()
        return chosen[: params["l"]]

    @staticmethod
    def _drive(flow: Generator[None, None, Any]) -> Any:
        try:
            next(flow)
        except StopIteration as stop:
            return stop.value
        raise AssertionError("the fake flow yielded an effect")


def _task(
    n: int, run: str = "run1", worker: str = "gw0", status: str = "running"
) -> dict[Any, Any]:
    meta = {"pytest_run_id": run, "pytest_worker": worker, "pytest_nodeid": f"t.py::test_{n}"}
    return {"id": f"task_{n}", "status": status, "created_at": 1000 + n, "metadata": meta}


def test_find_open_pages_by_cursor_and_filters() -> None:
    tasks = [_task(n) for n in range(PAGE_SIZE + 10)]
    tasks[0] = _task(0, run="run2")  # another run
    tasks[1] = _task(1, status="done")  # closed already
    tasks[2] = _task(2, worker="gw1")  # a worker that did not crash
    tasks[3] = {"id": "task_3", "status": "running", "created_at": 1003}  # no metadata
    lister = FakeLister(tasks)
    found = find_open(lister, "run1", {"gw0"}, deadline=float("inf"))  # type: ignore[arg-type]
    assert sorted(int(t["id"].removeprefix("task_")) for t in found) == list(
        range(4, PAGE_SIZE + 10)
    )
    oldest_of_first_page = 1000 + 10  # the first page holds the newest PAGE_SIZE tasks
    assert lister.calls == [{"l": PAGE_SIZE}, {"l": PAGE_SIZE, "t": oldest_of_first_page}]


def test_find_open_reads_a_bounded_number_of_pages() -> None:
    lister = FakeLister([_task(n) for n in range(PAGE_SIZE * (MAX_PAGES + 2))])
    found = find_open(lister, "run1", None, deadline=float("inf"))  # type: ignore[arg-type]
    assert len(lister.calls) == MAX_PAGES
    assert len(found) == PAGE_SIZE * MAX_PAGES


def test_recorded_open_reads_what_was_never_struck_off(tmp_path: Path) -> None:
    (tmp_path / "sessions-gw0.log").write_text(
        "open\ta\tt.py::test_a\nopen\tb\tt.py::test_b [x y]\ndone\ta\n"
    )
    (tmp_path / "sessions-gw1.log").write_text("open\tc\tt.py::test_c\n")
    (tmp_path / "sessions-master.log").write_text("garbage\n\nopen\n")
    assert recorded_open(tmp_path, None) == {"b": "t.py::test_b [x y]", "c": "t.py::test_c"}
    assert recorded_open(tmp_path, {"gw1"}) == {"c": "t.py::test_c"}
    assert recorded_open(tmp_path / "missing", None) == {}


@pytest.fixture
def server(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    clean_env(monkeypatch)
    write_ini(pytester)
    pytester.makepyfile(test_leak=LEAKING)
    with instant_server() as (local, _):
        yield local


def _status(backend: Backend, pytester: pytest.Pytester) -> tuple[str, str]:
    mine, other = (pytester.path / "ids.txt").read_text().split()
    statuses = {t["id"]: t["status"] for t in backend.tasks()}
    backend.delete(other)  # the other run's session: the test cleans it up itself
    return statuses[mine], statuses[other]


def test_run_end_reaps_only_its_own_open_sessions(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    result = pytester.runpytest(*cloud_args(server))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*= smooth =*", "smooth: 1 session(s) left open, 1 reaped"])
    assert "could not be closed" not in result.stdout.str()
    with Backend(server.url, server.api_key) as backend:
        assert _status(backend, pytester) == ("cancelled", "running")


def test_a_failed_reap_is_reported_as_not_closed(
    pytester: pytest.Pytester, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_smooth._core.exceptions import InternalServerError
    from pytest_smooth.client.sync_client import SmoothClient

    def refuse(*_: object) -> Generator[None, None, bool]:
        yield from ()  # a flow that fails when driven
        raise InternalServerError("DELETE refused", status_code=500)

    monkeypatch.setattr(SmoothClient, "_delete_task_flow", refuse)
    result = pytester.runpytest(*cloud_args(server))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "smooth: 1 session(s) left open, 0 reaped",
            "1 session(s) could not be closed:",
            "  task_* (test_leak.py::test_leaks): InternalServerError: DELETE refused",
        ]
    )
    with Backend(server.url, server.api_key) as backend:
        mine, _ = _status(backend, pytester)
        backend.delete((pytester.path / "ids.txt").read_text().split()[0])
    assert mine == "running"


def test_a_clean_run_never_lists_tasks_nor_warns(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(test_leak="", test_clean=CLEAN)
    with FaultProxy(server.url) as proxy:
        proxy.add("GET", r"/api/v1/task$", Fault.status(500), count=None)  # a broken list
        args = [a for a in cloud_args(server) if not a.startswith("--smooth-base-url")]
        result = pytester.runpytest(*args, f"--smooth-base-url={proxy.url}/api/")
        listed = proxy.count("GET", r"/api/v1/task$")
    result.assert_outcomes(passed=1)
    assert "could not look for sessions" not in result.stdout.str()
    assert "left open" not in result.stdout.str()
    assert listed == 0
