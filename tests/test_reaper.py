"""The orphan-session reaper: paging the task list, and the run's end on a cloud-like backend.

The crashed-xdist-worker case on real Chromium is in tests/test_interrupts.py; here the inner
runs point the plugin at a browserless LocalServer as if it were the cloud.
"""

from __future__ import annotations

from collections.abc import Generator
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_smooth.plugin.reaper import MAX_PAGES
from pytest_smooth.plugin.reaper import PAGE_SIZE
from pytest_smooth.plugin.reaper import find_open
from pytest_smooth.server.local import LocalServer
from tests.backend_probe import Backend
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import cloud_args
from tests.plugin_helpers import instant_server
from tests.plugin_helpers import write_ini

# A test that opens sessions without the plugin's fixtures and never closes them, as a process
# that lost track of them would; one carries this run's tags, the other another run's.
LEAKING = """
import pathlib
from pytest_smooth.plugin.session_options import run_id

def test_leaks(request, smooth_client):
    tags = {"pytest_run_id": run_id(request.config), "pytest_nodeid": request.node.nodeid,
            "pytest_worker": "master"}
    mine = smooth_client.session(metadata=tags)
    other = smooth_client.session(metadata={**tags, "pytest_run_id": "another-run"})
    pathlib.Path("ids.txt").write_text(mine.id + " " + other.id)
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
