"""FakeSmooth: the in-memory Smooth server that client tests run against (httpx.MockTransport)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pytest_smooth.testing import FakeSmooth

KEY = {"apikey": "test-key"}


def client_for(fake: FakeSmooth) -> httpx.Client:
    return httpx.Client(transport=fake.transport(), base_url=fake.base_url + "v1/", headers=KEY)


def open_session(client: httpx.Client) -> str:
    response = client.post("task", json={"task": None})
    assert response.status_code == 200
    task_id: str = response.json()["r"]["id"]
    return task_id


def action(client: httpx.Client, task_id: str, name: str, data: Any, event_id: str) -> None:
    kind = "session_action" if name == "run_task" else "browser_action"
    body = {"name": kind, "payload": {"name": name, "input": data}, "id": event_id}
    response = client.post(f"task/{task_id}/event", json=body)
    assert response.json() == {"r": {"id": event_id}}


def events(client: httpx.Client, task_id: str, event_t: int = 0) -> list[dict[str, Any]]:
    response = client.get(f"task/{task_id}", params={"event_t": event_t})
    assert response.status_code in (200, 202)
    found: list[dict[str, Any]] = response.json()["r"]["events"]
    return found


def test_reply_arrives_on_a_later_poll_not_in_the_post_nor_the_next_get() -> None:
    fake = FakeSmooth()
    with client_for(fake) as client:
        task_id = open_session(client)
        action(client, task_id, "goto", {"url": "https://example.com"}, "ev-goto")
        first = client.get(f"task/{task_id}")
        assert first.status_code == 202
        assert first.json()["r"]["events"] == []
        (reply,) = events(client, task_id)
    assert reply["id"] == "ev-goto"
    assert reply["name"] == "browser_action"
    assert reply["payload"]["code"] == 200
    assert set(reply["payload"]["output"]) == {"credits_used", "duration"}


def test_canned_outputs_take_values_and_callables() -> None:
    fake = FakeSmooth()
    fake.outputs["evaluate_js"] = "Shop"
    fake.outputs["extract"] = lambda data: {"echo": data["prompt"]}
    with client_for(fake) as client:
        task_id = open_session(client)
        action(client, task_id, "evaluate_js", {"js": "document.title"}, "e1")
        action(client, task_id, "extract", {"schema": {}, "prompt": "price"}, "e2")
        events(client, task_id)
        replies = {e["id"]: e["payload"] for e in events(client, task_id)}
    assert replies["e1"] == {
        "code": 200,
        "output": {"output": "Shop", "credits_used": 0, "duration": 0.01},
    }
    assert replies["e2"]["output"]["output"] == {"echo": "price"}


@pytest.mark.parametrize("code", [400, 500])
def test_failing_action_replies_with_its_code_and_message(code: int) -> None:
    fake = FakeSmooth()
    fake.failures["goto"] = (code, "net::ERR_NAME_NOT_RESOLVED")
    with client_for(fake) as client:
        task_id = open_session(client)
        action(client, task_id, "goto", {"url": "https://nowhere.invalid"}, "e1")
        events(client, task_id)
        (reply,) = events(client, task_id)
    assert reply["payload"] == {"code": code, "output": "net::ERR_NAME_NOT_RESOLVED"}


def test_never_reply_leaves_the_action_unanswered() -> None:
    fake = FakeSmooth()
    fake.never_reply = {"evaluate_js"}
    with client_for(fake) as client:
        task_id = open_session(client)
        action(client, task_id, "evaluate_js", {"js": "1"}, "silent")
        action(client, task_id, "goto", {"url": "https://example.com"}, "loud")
        for _ in range(3):
            found = events(client, task_id)
    assert [e["id"] for e in found] == ["loud"]
    assert fake.silent("evaluate_js") and not fake.silent("goto")


def test_event_t_filter_is_stateless_and_ascending() -> None:
    fake = FakeSmooth()
    with client_for(fake) as client:
        task_id = open_session(client)
        for n in range(3):
            action(client, task_id, "goto", {"url": f"https://example.com/{n}"}, f"e{n}")
        events(client, task_id)
        everything = events(client, task_id)
        again = events(client, task_id)
        after_first = events(client, task_id, everything[0]["timestamp"])
    stamps = [e["timestamp"] for e in everything]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert again == everything
    assert after_first == everything[1:]


def test_status_fault_is_one_shot_and_carries_retry_after() -> None:
    fake = FakeSmooth()
    fake.fault("GET", "/task/*", status=429, retry_after=1.5)
    with client_for(fake) as client:
        task_id = open_session(client)
        faulted = client.get(f"task/{task_id}")
        healthy = client.get(f"task/{task_id}")
    assert faulted.status_code == 429
    assert faulted.headers["retry-after"] == "1.5"
    assert faulted.headers["content-type"] == "application/json"
    assert healthy.status_code == 202
    assert [r.faulted for r in fake.requests] == [False, True, False]


def test_connect_error_fault_raises_and_the_action_never_runs() -> None:
    fake = FakeSmooth()
    fake.fault("POST", "/task/*/event", error=httpx.ConnectError)
    with client_for(fake) as client:
        task_id = open_session(client)
        with pytest.raises(httpx.ConnectError):
            client.post(
                f"task/{task_id}/event",
                json={"name": "browser_action", "payload": {"name": "goto", "input": {"url": "x"}}},
            )
    assert fake.executor.submitted == []
    assert fake.count("POST", "/task/*/event") == 1


def test_executed_fault_runs_the_action_but_loses_the_reply() -> None:
    fake = FakeSmooth()
    fake.fault("POST", "/task/*/event", status=502, execute=True)
    with client_for(fake) as client:
        task_id = open_session(client)
        body = {
            "name": "browser_action",
            "payload": {"name": "goto", "input": {"url": "x"}},
            "id": "e1",
        }
        lost = client.post(f"task/{task_id}/event", json=body)
    assert lost.status_code == 502
    assert fake.store.executions == {"e1": 1}
    assert fake.count("POST", "/task/*/event") == 1


def test_wait_ms_is_ignored_like_the_cloud() -> None:
    fake = FakeSmooth()
    with client_for(fake) as client:
        task_id = open_session(client)
        action(client, task_id, "goto", {"url": "x"}, "e1")
        held = client.get(f"task/{task_id}", params={"wait_ms": 10_000})
    # Answered at once with what exists now: the reply is only queued at this point.
    assert held.status_code == 202
    assert held.json()["r"]["events"] == []


def test_requests_are_recorded_with_method_path_and_body() -> None:
    fake = FakeSmooth()
    with client_for(fake) as client:
        task_id = open_session(client)
        action(client, task_id, "goto", {"url": "https://example.com"}, "e1")
    post = fake.requests[-1]
    assert (post.method, post.path) == ("POST", f"/api/v1/task/{task_id}/event")
    assert post.body["payload"]["input"] == {"url": "https://example.com"}
    assert fake.count("POST", "/task") == 1
    assert fake.count("POST", "/task/*/event") == 1


def test_api_key_is_required_and_checked_when_given() -> None:
    fake = FakeSmooth(api_key="right")
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url + "v1/") as client:
        missing = client.get("profile")
        wrong = client.get("profile", headers={"apikey": "wrong"})
        right = client.get("profile", headers={"apikey": "right"})
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert missing.json() == {"detail": "Missing API key"}


def test_one_shot_task_finishes_with_the_canned_run_task_output() -> None:
    fake = FakeSmooth()
    fake.outputs["run_task"] = lambda data: f"did: {data['task']}"
    with client_for(fake) as client:
        task_id = client.post("task", json={"task": "say hi", "max_steps": 4}).json()["r"]["id"]
        running = client.get(f"task/{task_id}")
        finished = client.get(f"task/{task_id}")
    assert running.status_code == 202 and running.json()["r"]["status"] == "running"
    assert finished.status_code == 200
    assert finished.json()["r"]["status"] == "done"
    assert finished.json()["r"]["output"] == "did: say hi"


def test_tool_call_reply_reaches_the_executor_and_500_fails_the_task() -> None:
    fake = FakeSmooth()
    fake.never_reply = {"run_task"}
    with client_for(fake) as client:
        task_id = client.post("task", json={"task": "use the tool"}).json()["r"]["id"]
        call_id = fake.emit_tool_call(task_id, "lookup", {"q": "x"})
        (call,) = events(client, task_id)
        assert call["payload"] == {"name": "lookup", "input": {"q": "x"}}
        reply = {"name": "tool_call", "id": call_id, "payload": {"code": 500, "output": "boom"}}
        assert client.post(f"task/{task_id}/event", json=reply).json() == {"r": {"id": call_id}}
        final = client.get(f"task/{task_id}").json()["r"]
    assert fake.executor.tool_results == [(task_id, call_id, 500, "boom")]
    assert final["status"] == "failed"
    assert "boom" in final["output"]


def test_uploads_are_parsed_from_multipart() -> None:
    fake = FakeSmooth()
    with client_for(fake) as client:
        created = client.post(
            "file", files={"file": ("notes.txt", b"hi")}, data={"file_purpose": "t"}
        )
        bad_extension = client.post("extension", files={"file": ("ext.zip", b"not a zip")})
    file_id = created.json()["r"]["id"]
    assert fake.store.resources.files[file_id].data == b"hi"
    assert fake.store.resources.files[file_id].purpose == "t"
    assert bad_extension.status_code == 400


@pytest.mark.asyncio
async def test_the_same_handler_serves_an_async_client() -> None:
    fake = FakeSmooth()
    fake.outputs["evaluate_js"] = 42
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url + "v1/", headers=KEY
    ) as client:
        task_id = (await client.post("task", json={"task": None})).json()["r"]["id"]
        body = {
            "name": "browser_action",
            "payload": {"name": "evaluate_js", "input": {"js": "6*7"}},
            "id": "a1",
        }
        await client.post(f"task/{task_id}/event", json=body)
        await client.get(f"task/{task_id}")
        reply = (await client.get(f"task/{task_id}")).json()["r"]["events"][0]
    assert reply["payload"]["output"]["output"] == 42


def test_finish_ends_a_session_from_the_server_side() -> None:
    fake = FakeSmooth()
    with client_for(fake) as client:
        task_id = open_session(client)
        fake.finish(task_id, "failed", "browser crashed")
        ended = client.get(f"task/{task_id}")
        late = client.post(
            f"task/{task_id}/event",
            json={"name": "browser_action", "payload": {"name": "goto", "input": {"url": "x"}}},
        )
    assert (ended.status_code, ended.json()["r"]["status"]) == (200, "failed")
    assert ended.json()["r"]["output"] == "browser crashed"
    assert (late.status_code, late.json()) == (400, {"detail": "Session closed"})
