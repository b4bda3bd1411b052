"""POST /task/{id}/event?wait_ms=N: the ack carries the action's reply (our wire extension).

Over HTTP with the loop executor of test_server_app (it replies 0.3 s after each action), and
the pure ``Store.held_reply`` decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pytest_smooth.server import LocalServer
from pytest_smooth.server.protocol.store import Store
from tests.server_fakes import Clock
from tests.server_fakes import RecordingExecutor
from tests.server_fakes import get
from tests.server_fakes import open_session
from tests.server_fakes import send
from tests.test_server_app import LoopExecutor
from tests.test_server_app import client
from tests.test_server_app import new_session

__all__ = ["client"]  # the fixture, over this module's own server


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(executor=LoopExecutor()) as local:
        yield local


def action(name: str, event_id: str, data: Any = None) -> dict[str, Any]:
    kind = "session_action" if name == "close" else "browser_action"
    payload = {"name": name} if data is None else {"name": name, "input": data}
    return {"name": kind, "payload": payload, "id": event_id, "timestamp": None}


def test_a_held_post_returns_the_reply_which_stays_in_the_stream(client: httpx.Client) -> None:
    task_id = new_session(client)
    goto = action("goto", "held-1", {"url": "x"})
    # The reply lands 0.3 s later; a hold of 10 s (beyond the client's 5 s timeout) that
    # answers at all proves that it ended on the store's change.
    held = client.post(f"task/{task_id}/event", json=goto, params={"wait_ms": 10_000})
    assert held.status_code == 200
    ack = held.json()["r"]
    reply = ack["reply"]
    assert (ack["id"], reply["id"], reply["name"]) == ("held-1", "held-1", "browser_action")
    assert reply["payload"]["code"] == 200 and isinstance(reply["timestamp"], int)
    polled = client.get(f"task/{task_id}", params={"event_t": 0}).json()["r"]["events"]
    assert polled == [reply]
    # A resent id gets the existing reply at once, and is not run again.
    again = client.post(f"task/{task_id}/event", json=goto, params={"wait_ms": 10_000})
    assert again.json() == {"r": {"id": "held-1", "reply": reply}}


def test_without_wait_ms_the_ack_is_the_sdk_shape(client: httpx.Client) -> None:
    task_id = new_session(client)
    plain = client.post(f"task/{task_id}/event", json=action("goto", "plain-1", {"url": "x"}))
    assert plain.json() == {"r": {"id": "plain-1"}}


def test_a_hold_that_runs_out_answers_a_null_reply(client: httpx.Client) -> None:
    task_id = new_session(client)
    body = action("goto", "short-1", {"url": "x"})
    short = client.post(f"task/{task_id}/event", json=body, params={"wait_ms": 20})
    assert short.json() == {"r": {"id": "short-1", "reply": None}}
    held = client.get(f"task/{task_id}", params={"event_t": 0, "wait_ms": 10_000})
    assert [e["id"] for e in held.json()["r"]["events"]] == ["short-1"]


def test_a_bad_wait_ms_is_refused_before_the_event_runs(
    server: LocalServer, client: httpx.Client
) -> None:
    task_id = new_session(client)
    body = action("goto", "bad-wait", {"url": "x"})
    bad = client.post(f"task/{task_id}/event", json=body, params={"wait_ms": "soon"})
    assert bad.status_code == 422 and "wait_ms" in bad.json()["detail"]
    assert "bad-wait" not in server.stats()["executions"]
    missing = client.post("task/nope/event", json=body, params={"wait_ms": 100})
    assert missing.status_code == 404


def test_a_held_close_gets_its_reply_then_done(client: httpx.Client) -> None:
    task_id = new_session(client)
    close = client.post(
        f"task/{task_id}/event", json=action("close", "close-1"), params={"wait_ms": 1_000}
    )
    reply = close.json()["r"]["reply"]
    assert reply["payload"] == {"code": 200, "output": {"output": True, "credits_used": 0,
                                                        "duration": 0}}  # fmt: skip
    after = client.get(f"task/{task_id}", params={"event_t": reply["timestamp"]})
    assert (after.status_code, after.json()["r"]["status"]) == (200, "done")


# --- the pure decision ----------------------------------------------------------------------


def test_held_reply_waits_for_its_own_reply_only() -> None:
    executor = RecordingExecutor()
    store = Store(executor, root_url="http://127.0.0.1:9", clock=Clock())
    task_id = open_session(store)
    mark = store.last_event_ts(task_id)
    send(store, task_id, "goto", {"url": "x"}, event_id="ev-a")
    assert store.held_reply(task_id, "ev-a", mark) == (False, None)
    assert store.held_reply(task_id, "unknown", mark) == (True, None)
    assert store.held_reply("no-task", "ev-a", mark) == (True, None)
    # Another event (a tool call) ends the hold without a reply: the client must poll for it.
    store.emit_tool_call(task_id, "lookup", {})
    assert store.held_reply(task_id, "ev-a", mark) == (True, None)
    store.post_reply(task_id, "ev-a", 200, {"output": 1})
    done, event = store.held_reply(task_id, "ev-a", mark)
    assert done and event is not None and event["id"] == "ev-a"
    assert get(store, task_id)[1]["events"][-1] == event
