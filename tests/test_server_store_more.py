"""The store beyond the numbered conformance cases: dedupe, validation, reaping, routing."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_smooth.server.protocol.routes import ROUTES
from pytest_smooth.server.protocol.store import Store
from tests.server_fakes import NANOID
from tests.server_fakes import Clock
from tests.server_fakes import RecordingExecutor
from tests.server_fakes import call
from tests.server_fakes import get
from tests.server_fakes import open_session
from tests.server_fakes import send

RUN_500_STEPS = {"name": "run_task", "input": {"task": "t", "max_steps": 500}}


@pytest.fixture
def executor() -> RecordingExecutor:
    return RecordingExecutor()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(executor: RecordingExecutor, clock: Clock) -> Store:
    return Store(executor, root_url="http://127.0.0.1:9", clock=clock)


def test_a_resent_event_id_is_acknowledged_but_executed_once(
    store: Store, executor: RecordingExecutor
) -> None:
    task_id = open_session(store)
    assert send(store, task_id, "goto", {"url": "x"}) == (200, {"r": {"id": NANOID}})
    assert send(store, task_id, "goto", {"url": "x"}) == (200, {"r": {"id": NANOID}})
    assert len(executor.submitted) == 1
    assert store.stats()["executions"] == {NANOID: 1}


def test_unknown_action_names_the_known_ones(store: Store) -> None:
    task_id = open_session(store)
    status, body = send(store, task_id, "click", {"selector": "a"})
    assert status == 400
    assert body["detail"] == (
        "unknown browser_action 'click'; known: evaluate_js, exec_js, extract, goto"
    )
    bad_event = {"name": "mouse_event", "payload": {}}
    assert call(store, "POST", f"/task/{task_id}/event", bad_event)[0] == 400


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "browser_action", "payload": {"name": "goto", "input": {}}}, "url"),
        ({"name": "browser_action", "payload": {"name": "goto"}}, "input"),
        ({"name": "browser_action", "payload": "goto"}, "payload"),
        ({"name": "session_action", "payload": RUN_500_STEPS}, "max_steps"),
        ([1, 2], "JSON object"),
        ({"name": "browser_action", "payload": {}, "id": ["unhashable"]}, "event id"),
    ],
)  # fmt: skip
def test_malformed_events_get_422_with_a_clear_detail(store: Store, body: Any, needle: str) -> None:
    task_id = open_session(store)
    status, reply = call(store, "POST", f"/task/{task_id}/event", body)
    assert status == 422
    assert needle in reply["detail"]


def test_malformed_task_body_is_422(store: Store) -> None:
    assert call(store, "POST", "/task", None)[0] == 422
    status, body = call(store, "POST", "/task", {"device": "tablet"})
    assert status == 422 and "device" in body["detail"]
    assert call(store, "POST", "/task", {"proxy_server": "self"})[0] == 400


def test_reap_idle_closes_only_untouched_sessions(
    store: Store, clock: Clock, executor: RecordingExecutor
) -> None:
    store.idle_timeout_ms = 1000
    idle, busy = open_session(store), open_session(store)
    clock.now += 800
    get(store, busy)
    clock.now += 800
    assert store.reap_idle(clock.now) == [idle]
    assert get(store, idle)[1]["status"] == "cancelled"
    assert (idle, False) in executor.closed
    assert get(store, busy)[1]["status"] == "running"


def test_on_change_fires_for_replies_and_status_changes(executor: RecordingExecutor) -> None:
    changed: list[str] = []
    store = Store(executor, on_change=changed.append)
    task_id = open_session(store)
    send(store, task_id, "goto", {"url": "x"})
    store.post_reply(task_id, NANOID, 200, None)
    store.post_reply(task_id, NANOID, 200, None)  # a duplicate reply is dropped
    call(store, "DELETE", f"/task/{task_id}")
    assert changed == [task_id, task_id]
    assert len(store.tasks[task_id].events) == 1


def test_list_tasks_newest_first_with_cursor_and_limit(store: Store, clock: Clock) -> None:
    ids = []
    for _ in range(3):
        ids.append(open_session(store))
        clock.now += 10
    listed = [t["id"] for t in call(store, "GET", "/task")[1]["r"]]
    assert listed == ids[::-1]
    created_last = store.tasks[ids[2]].created_at
    assert [t["id"] for t in call(store, "GET", "/task", t=created_last, l=1)[1]["r"]] == [ids[1]]
    assert call(store, "GET", "/task", l=0)[0] == 422


def test_unknown_routes_and_methods(store: Store) -> None:
    assert call(store, "GET", "/nothing") == (404, {"detail": "Not Found"})
    assert call(store, "PATCH", "/task") == (405, {"detail": "Method Not Allowed"})
    assert ROUTES.dispatch(store, "GET", "/elsewhere", {}, None)[0] == 404


def test_delete_data_only_after_the_task_finished(store: Store) -> None:
    task_id = open_session(store)
    assert call(store, "DELETE", f"/task/{task_id}/data")[0] == 400
    store.finish_task(task_id, "done", "secret output")
    assert call(store, "DELETE", f"/task/{task_id}/data") == (200, {"r": True})
    assert get(store, task_id)[1]["output"] is None


def test_deprecated_browser_session_opens_and_closes(store: Store) -> None:
    status, body = call(store, "POST", "/browser/session", {"profile_id": None})
    live_id = body["r"]["live_id"]
    assert status == 200 and body["r"]["live_url"].startswith("http://127.0.0.1:9/live/")
    assert call(store, "DELETE", f"/browser/session/{live_id}") == (200, {"r": True})


def test_stats_and_snapshot(store: Store) -> None:
    task_id = open_session(store)
    stats = call(store, "GET", "/local/stats")[1]["r"]
    assert (stats["open_sessions"], stats["tasks"]) == (1, 1)
    snapshot = store.task_snapshot(task_id)
    assert snapshot is not None and snapshot["status"] == "running"
    assert store.task_snapshot("nope") is None
    send(store, task_id, "close")
    assert store.stats()["open_sessions"] == 0


def test_an_executor_failing_on_a_tool_reply_fails_the_task_without_a_5xx(
    store: Store, executor: RecordingExecutor
) -> None:
    task_id = open_session(store, task="use tools")
    call_id = store.emit_tool_call(task_id, "lookup", {})
    executor.broken = True
    reply = {"name": "tool_call", "id": call_id, "payload": {"code": 200, "output": 1}}
    assert call(store, "POST", f"/task/{task_id}/event", reply) == (200, {"r": {"id": call_id}})
    _, task = get(store, task_id)
    assert task["status"] == "failed" and "browser crashed" in task["output"]


def test_a_resent_close_is_acknowledged_not_refused(store: Store) -> None:
    task_id = open_session(store)
    assert send(store, task_id, "close", event_id="c1") == (200, {"r": {"id": "c1"}})
    assert send(store, task_id, "close", event_id="c1") == (200, {"r": {"id": "c1"}})
    assert send(store, task_id, "close", event_id="c2") == (400, {"detail": "Session closed"})
    assert len(store.tasks[task_id].events) == 1


def test_only_the_newest_finished_tasks_are_kept(executor: RecordingExecutor) -> None:
    store = Store(executor, keep_finished=2)
    ids = [open_session(store) for _ in range(3)]
    send(store, ids[0], "goto", {"url": "x"}, "first-goto")
    for task_id in ids:
        call(store, "DELETE", f"/task/{task_id}")
    assert call(store, "GET", f"/task/{ids[0]}")[0] == 404
    assert [get(store, task_id)[1]["status"] for task_id in ids[1:]] == ["cancelled"] * 2
    assert "first-goto" not in store.executions


def test_a_closed_session_whose_reply_was_delivered_is_not_open(store: Store) -> None:
    task_id = open_session(store)
    send(store, task_id, "close")
    status, body = get(store, task_id)  # the close reply goes out while still running (case 12)
    assert (status, body["status"]) == (202, "running") and body["events"][-1]["id"] == NANOID
    assert store.stats()["open_sessions"] == 0
    assert get(store, task_id, event_t=body["events"][-1]["timestamp"])[1]["status"] == "done"
    assert store.stats()["open_sessions"] == 0
