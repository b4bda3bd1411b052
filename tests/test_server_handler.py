"""The protocol's one request handler: held POSTs and long polls, over a scripted signal.

No HTTP and no real waiting: the signal's ``wait`` runs a scripted step (a reply landing, or
time passing on a fake monotonic clock), and ``ApiHandler.serve_now`` drives the coroutine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest

from pytest_smooth.server.protocol.handler import ApiHandler
from pytest_smooth.server.protocol.handler import Held
from pytest_smooth.server.protocol.store import Store
from tests.server_fakes import Clock
from tests.server_fakes import RecordingExecutor
from tests.server_fakes import open_session


@dataclass
class Monotonic:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ScriptedWatch:
    """Each wait runs the next step (None: time runs out); without steps it stops waiting."""

    steps: list[Callable[[], None] | None]
    clock: Monotonic
    waits: list[float] = field(default_factory=list)

    async def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        if not self.steps:
            return False
        step = self.steps.pop(0)
        if step is None:
            self.clock.now += timeout
        else:
            step()
        return True


@dataclass
class ScriptedSignal:
    watch_: ScriptedWatch
    watched: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def watch(self, task_id: str) -> Iterator[ScriptedWatch]:
        self.watched.append(task_id)
        yield self.watch_


@pytest.fixture
def store() -> Store:
    return Store(RecordingExecutor(), root_url="http://127.0.0.1:9", clock=Clock())


def action(event_id: str) -> dict[str, Any]:
    payload = {"name": "goto", "input": {"url": "https://a.test"}}
    return {"name": "browser_action", "payload": payload, "id": event_id}


def serve(
    store: Store, method: str, path: str, query: dict[str, str], body: Any, *steps: Any
) -> tuple[tuple[int, Any], ScriptedSignal]:
    clock = Monotonic()
    signal = ScriptedSignal(ScriptedWatch(list(steps), clock))
    handler = ApiHandler(store, monotonic=clock)
    return handler.serve_now(method, "/api/v1" + path, query, body, signal), signal


def test_a_held_post_answers_with_the_reply_once_it_lands(store: Store) -> None:
    task_id = open_session(store)
    reply_lands = lambda: store.post_reply(task_id, "ev-1", 200, {"output": 1})  # noqa: E731
    (status, body), signal = serve(
        store, "POST", f"/task/{task_id}/event", {"wait_ms": "2000"}, action("ev-1"), reply_lands
    )
    assert status == 200 and body["r"]["id"] == "ev-1"
    assert body["r"]["reply"]["payload"] == {"code": 200, "output": {"output": 1}}
    assert signal.watched == [task_id] and signal.watch_.waits == [2.0]


def test_a_held_post_whose_budget_runs_out_answers_a_null_reply(store: Store) -> None:
    task_id = open_session(store)
    (status, body), signal = serve(
        store, "POST", f"/task/{task_id}/event", {"wait_ms": "50"}, action("ev-2"), None
    )
    assert (status, body) == (200, {"r": {"id": "ev-2", "reply": None}})
    assert signal.watch_.waits == [pytest.approx(0.05)]


def test_the_hold_is_capped_and_a_bad_wait_ms_refused_before_the_event_runs(
    store: Store,
) -> None:
    task_id = open_session(store)
    (status, body), _ = serve(
        store, "POST", f"/task/{task_id}/event", {"wait_ms": "soon"}, action("ev-3")
    )
    assert status == 422 and "wait_ms" in body["detail"]
    assert "ev-3" not in store.executions
    _, signal = serve(
        store, "POST", f"/task/{task_id}/event", {"wait_ms": "999999"}, action("ev-4"), None
    )
    assert signal.watch_.waits == [10.0]


def test_another_event_ends_the_hold_without_a_reply(store: Store) -> None:
    task_id = open_session(store)
    tool_call = lambda: store.emit_tool_call(task_id, "lookup", {})  # noqa: E731
    (_, body), _ = serve(
        store, "POST", f"/task/{task_id}/event", {"wait_ms": "2000"}, action("ev-5"), tool_call
    )
    assert body == {"r": {"id": "ev-5", "reply": None}}


def test_a_long_poll_answers_once_the_task_has_a_newer_event(store: Store) -> None:
    task_id = open_session(store)
    tool_call = lambda: store.emit_tool_call(task_id, "lookup", {})  # noqa: E731
    query = {"event_t": "0", "wait_ms": "3000"}
    (status, body), signal = serve(store, "GET", f"/task/{task_id}", query, None, tool_call)
    assert status == 202 and [e["name"] for e in body["r"]["events"]] == ["tool_call"]
    assert signal.watch_.waits == [3.0]


def test_a_long_poll_without_news_answers_202_when_its_budget_ran_out(store: Store) -> None:
    task_id = open_session(store)
    query = {"event_t": "0", "wait_ms": "20"}
    (status, body), _ = serve(store, "GET", f"/task/{task_id}", query, None, None)
    assert (status, body["r"]["events"]) == (202, [])
    (status, body), _ = serve(store, "GET", f"/task/{task_id}", {"wait_ms": "x"}, None)
    assert status == 422


def test_without_holds_the_handler_answers_at_once_like_the_cloud(store: Store) -> None:
    task_id = open_session(store)
    handler = ApiHandler(store, long_poll=False, held_replies=False)
    answer = handler.respond("GET", f"/api/v1/task/{task_id}", {"wait_ms": "5000"}, None)
    assert not isinstance(answer, Held) and answer[0] == 202
    ack = handler.respond(
        "POST", f"/api/v1/task/{task_id}/event", {"wait_ms": "5000"}, action("ev-6")
    )
    assert ack == (200, {"r": {"id": "ev-6"}})


def test_a_signal_that_stops_waiting_ends_the_hold_at_once(store: Store) -> None:
    task_id = open_session(store)
    (_, body), signal = serve(
        store, "POST", f"/task/{task_id}/event", {"wait_ms": "9000"}, action("ev-7")
    )
    assert body == {"r": {"id": "ev-7", "reply": None}} and signal.watch_.waits == [9.0]
