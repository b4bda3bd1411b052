"""The pure store against the conformance cases of smooth-api.md §4 that need no browser.

Cases 1, 2 and 20 (auth, JSON content type, bounded GETs) are HTTP-level: see
tests/test_server_app.py. Each test here names its case number.
"""

from __future__ import annotations

import pytest

from pytest_smooth.server.protocol.resources import Upload
from pytest_smooth.server.protocol.store import Store
from pytest_smooth.server.protocol.tasks import CLOSE_GRACE_MS
from tests.server_fakes import NANOID
from tests.server_fakes import SDK_BODY
from tests.server_fakes import Clock
from tests.server_fakes import RecordingExecutor
from tests.server_fakes import call
from tests.server_fakes import get
from tests.server_fakes import open_session
from tests.server_fakes import send


@pytest.fixture
def executor() -> RecordingExecutor:
    return RecordingExecutor()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(executor: RecordingExecutor, clock: Clock) -> Store:
    return Store(executor, root_url="http://127.0.0.1:9", clock=clock)


def test_case_3_sdk_body_with_every_key_opens_a_waiting_task(store: Store) -> None:
    status, body = call(store, "POST", "/task", SDK_BODY)
    assert status == 200
    assert body["r"]["status"] == "waiting"
    assert isinstance(body["r"]["id"], str) and body["r"]["id"]


@pytest.mark.parametrize("steps", [1, 129])
def test_case_3_max_steps_outside_2_to_128_is_refused(store: Store, steps: int) -> None:
    status, body = call(store, "POST", "/task", {**SDK_BODY, "max_steps": steps})
    assert status == 422
    assert "max_steps" in body["detail"]


def test_case_4_status_is_202_while_running_then_200(store: Store) -> None:
    task_id = open_session(store)
    status, task = get(store, task_id)
    assert (status, task["status"]) == (202, "running")
    assert task["credits_used"] == 0 and task["device"] == "desktop"
    store.finish_task(task_id, "done", "out", credits=3)
    status, task = get(store, task_id)
    assert (status, task["status"], task["credits_used"]) == (200, "done", 3)


def test_case_5_event_t_filter_is_stateless_sorted_and_ids_are_set(store: Store) -> None:
    task_id = open_session(store)
    for n in range(3):
        send(store, task_id, "goto", {"url": f"https://e.com/{n}"}, f"e{n}")
        store.post_reply(task_id, f"e{n}", 200, {"credits_used": 0, "duration": 0.1})
    _, first = get(store, task_id)
    _, again = get(store, task_id)
    assert first["events"] == again["events"]
    stamps = [e["timestamp"] for e in first["events"]]
    assert stamps == sorted(stamps)
    assert all(e["id"] for e in first["events"])
    _, later = get(store, task_id, event_t=stamps[0])
    assert [e["id"] for e in later["events"]] == ["e1", "e2"]


def test_case_6_event_ack_echoes_the_id_and_timestamps_strictly_increase(store: Store) -> None:
    # The clock is frozen: two replies in the same millisecond still get distinct timestamps.
    task_id = open_session(store)
    assert send(store, task_id, "goto", {"url": "https://e.com"}) == (200, {"r": {"id": NANOID}})
    send(store, task_id, "goto", {"url": "https://e.com"}, "other")
    store.post_reply(task_id, NANOID, 200, None)
    store.post_reply(task_id, "other", 200, None)
    _, task = get(store, task_id)
    first, second = (e["timestamp"] for e in task["events"])
    assert second > first


def test_case_7_goto_reply_comes_on_a_later_poll(store: Store, executor: RecordingExecutor) -> None:
    task_id = open_session(store)
    send(store, task_id, "goto", {"url": "https://e.com"})
    assert executor.submitted == [(task_id, NANOID, "goto", {"url": "https://e.com"})]
    _, before = get(store, task_id)
    assert before["events"] == []
    store.post_reply(task_id, NANOID, 200, {"credits_used": 0, "duration": 0.2})
    _, after = get(store, task_id)
    (event,) = after["events"]
    assert (event["id"], event["name"]) == (NANOID, "browser_action")
    assert event["payload"] == {"code": 200, "output": {"credits_used": 0, "duration": 0.2}}


def test_case_8_evaluate_js_input_and_nested_reply(
    store: Store, executor: RecordingExecutor
) -> None:
    task_id = open_session(store)
    send(store, task_id, "evaluate_js", {"js": "document.title", "args": None})
    assert executor.submitted[0][3] == {"js": "document.title", "args": None}
    store.post_reply(task_id, NANOID, 200, {"output": "Shop", "credits_used": 0, "duration": 0.1})
    _, task = get(store, task_id)
    assert task["events"][0]["payload"]["output"]["output"] == "Shop"


def test_case_9_extract_and_run_task_inputs_are_validated_and_normalised(
    store: Store, executor: RecordingExecutor
) -> None:
    task_id = open_session(store)
    send(store, task_id, "extract", {"schema": {"type": "object"}}, "x1")
    send(store, task_id, "run_task", {"task": "buy milk"}, "r1")
    extract, run = executor.submitted
    assert extract[3] == {"schema": {"type": "object"}, "prompt": None}
    assert run[2] == "run_task" and run[3]["max_steps"] == 32 and run[3]["task"] == "buy milk"
    store.post_reply(task_id, "r1", 400, "run_task needs an LLM locally")
    _, task = get(store, task_id)
    assert task["events"][0]["name"] == "session_action"
    assert task["events"][0]["payload"] == {"code": 400, "output": "run_task needs an LLM locally"}


def test_case_10_failing_action_reply_passes_through(store: Store) -> None:
    task_id = open_session(store)
    send(store, task_id, "evaluate_js", {"js": "throw new Error('x')"})
    store.post_reply(task_id, NANOID, 400, "Error: x")
    _, task = get(store, task_id)
    assert task["events"][0]["payload"] == {"code": 400, "output": "Error: x"}


def test_case_11_the_clients_own_request_event_is_never_echoed(store: Store) -> None:
    task_id = open_session(store)
    send(store, task_id, "goto", {"url": "https://e.com"})
    _, task = get(store, task_id)
    assert task["events"] == []


def test_case_12_close_reply_while_running_then_done_on_a_later_poll(
    store: Store, executor: RecordingExecutor
) -> None:
    task_id = open_session(store)
    assert send(store, task_id, "close")[0] == 200
    assert executor.closed == [(task_id, True)]
    status, task = get(store, task_id)
    assert (status, task["status"]) == (202, "running")
    (reply,) = task["events"]
    assert reply["name"] == "session_action"
    assert reply["payload"] == {
        "code": 200,
        "output": {"output": True, "credits_used": 0, "duration": 0},
    }
    # smooth-py's first GET after connecting ignores events and keeps its cursor: the same
    # event_t again must still say running, or the pending close() is cancelled.
    status, task = get(store, task_id)
    assert (status, task["status"]) == (202, "running")
    status, task = get(store, task_id, event_t=reply["timestamp"])
    assert (status, task["status"]) == (200, "done")


def test_case_12_done_after_a_grace_period_if_the_cursor_never_moves(
    store: Store, clock: Clock
) -> None:
    task_id = open_session(store)
    send(store, task_id, "close")
    assert get(store, task_id)[1]["status"] == "running"
    clock.now += CLOSE_GRACE_MS - 1
    assert get(store, task_id)[1]["status"] == "running"
    clock.now += 1
    status, task = get(store, task_id)
    assert (status, task["status"]) == (200, "done")


def test_case_12_delete_after_close_ends_done(store: Store) -> None:
    task_id = open_session(store)
    send(store, task_id, "close")
    assert call(store, "DELETE", f"/task/{task_id}") == (200, {"r": True})
    assert get(store, task_id)[1]["status"] == "done"


def test_case_13_delete_cancels_and_tears_down(store: Store, executor: RecordingExecutor) -> None:
    task_id = open_session(store)
    assert call(store, "DELETE", f"/task/{task_id}") == (200, {"r": True})
    assert executor.closed == [(task_id, False)]
    status, task = get(store, task_id)
    assert (status, task["status"]) == (200, "cancelled")
    assert call(store, "DELETE", f"/task/{task_id}") == (200, {"r": True})
    assert executor.closed == [(task_id, False)]  # torn down once


def test_case_14_actions_after_close_or_delete_are_refused(store: Store) -> None:
    closed, deleted = open_session(store), open_session(store)
    send(store, closed, "close", event_id="c1")
    call(store, "DELETE", f"/task/{deleted}")
    for task_id in (closed, deleted):
        assert send(store, task_id, "goto", {"url": "x"}, "late") == (
            400,
            {"detail": "Session closed"},
        )


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("DELETE", ""), ("POST", "/event"), ("PUT", "")]
)
def test_case_14_unknown_task_is_404(store: Store, method: str, suffix: str) -> None:
    status, body = call(store, method, f"/task/nope{suffix}", {"name": "tool_call"})
    assert (status, body) == (404, {"detail": "Task not found"})


def test_case_15_one_shot_task_runs_to_done(store: Store, executor: RecordingExecutor) -> None:
    status, body = call(store, "POST", "/task", SDK_BODY)
    task_id = body["r"]["id"]
    assert body["r"]["status"] == "waiting"
    assert executor.opened[0].request.task == "say hi"
    assert executor.sinks == [store]
    assert get(store, task_id)[1]["status"] == "running"
    store.finish_task(task_id, "done", {"answer": 42}, credits=2)
    status, task = get(store, task_id)
    assert (status, task["status"], task["output"]) == (200, "done", {"answer": 42})


def test_case_16_live_url_while_running(store: Store) -> None:
    task_id = open_session(store)
    _, task = get(store, task_id)
    token = store.tasks[task_id].token
    assert task["live_url"] == f"http://127.0.0.1:9/live/{task_id}?token={token}"
    assert store.check_token(task_id, token) and not store.check_token(task_id, "guess")
    call(store, "DELETE", f"/task/{task_id}")
    assert get(store, task_id)[1]["live_url"] is None


@pytest.mark.parametrize("recording", [True, False])
def test_case_17_recording_url_null_while_running(store: Store, recording: bool) -> None:
    task_id = open_session(store, enable_recording=recording)
    assert get(store, task_id)[1]["recording_url"] is None
    call(store, "DELETE", f"/task/{task_id}")
    url = get(store, task_id)[1]["recording_url"]
    token = store.tasks[task_id].token
    assert url == (f"http://127.0.0.1:9/recording/{task_id}?token={token}" if recording else "")


def test_case_18_downloads_url_is_empty_when_nothing_was_downloaded(store: Store) -> None:
    task_id = open_session(store)
    assert get(store, task_id, downloads="true")[1]["downloads_url"] is None
    call(store, "DELETE", f"/task/{task_id}")
    assert get(store, task_id, downloads="true")[1]["downloads_url"] == ""


def test_a_download_fills_downloads_url_with_the_archive(store: Store) -> None:
    task_id = open_session(store)
    store.note_download(task_id, "report.csv")
    token = store.tasks[task_id].token
    archive = f"http://127.0.0.1:9/api/v1/task/{task_id}/artifacts/downloads.zip?token={token}"
    assert get(store, task_id, downloads="true")[1]["downloads_url"] == archive
    assert get(store, task_id)[1]["downloads_url"] is None  # only asked for with ?downloads
    call(store, "DELETE", f"/task/{task_id}")
    assert get(store, task_id, downloads="true")[1]["downloads_url"] == archive


def test_case_19_tool_call_round_trip_and_500_fails(
    store: Store, executor: RecordingExecutor
) -> None:
    task_id = open_session(store, task="use tools")
    call_id = store.emit_tool_call(task_id, "lookup", {"q": "milk"})
    _, task = get(store, task_id)
    assert task["events"][0] == {
        "id": call_id, "name": "tool_call", "payload": {"name": "lookup", "input": {"q": "milk"}},
        "timestamp": task["events"][0]["timestamp"],
    }  # fmt: skip
    reply = {"name": "tool_call", "id": call_id, "payload": {"code": 500, "output": "db down"}}
    assert call(store, "POST", f"/task/{task_id}/event", reply) == (200, {"r": {"id": call_id}})
    assert executor.tool_results == [(task_id, call_id, 500, "db down")]
    status, task = get(store, task_id)
    assert (status, task["status"]) == (200, "failed")
    assert "db down" in task["output"]


def test_case_19_deprecated_put_reply_decodes_json_output(
    store: Store, executor: RecordingExecutor
) -> None:
    task_id = open_session(store, task="use tools")
    call_id = store.emit_tool_call(task_id, "lookup", {})
    body = {"tool_response": {"id": call_id, "code": 200, "output": '{"n": 1}'}}
    assert call(store, "PUT", f"/task/{task_id}", body) == (200, {"r": True})
    assert executor.tool_results == [(task_id, call_id, 200, {"n": 1})]


def test_case_19_reply_to_an_unknown_tool_call_is_400(store: Store) -> None:
    task_id = open_session(store)
    reply = {"name": "tool_call", "id": "nope", "payload": {"code": 200, "output": 1}}
    status, body = call(store, "POST", f"/task/{task_id}/event", reply)
    assert status == 400 and "nope" in body["detail"]


def test_case_21_executor_failures_never_become_5xx(
    store: Store, executor: RecordingExecutor
) -> None:
    task_id = open_session(store)
    executor.broken = True
    assert send(store, task_id, "goto", {"url": "x"})[0] == 200
    assert get(store, task_id)[1]["events"][0]["payload"]["code"] == 500
    status, body = call(store, "POST", "/task", {"task": None})
    assert status == 200
    assert get(store, body["r"]["id"])[1]["status"] == "failed"


def test_case_22_profiles(store: Store, executor: RecordingExecutor) -> None:
    assert call(store, "POST", "/profile", {"id": "p1"})[1]["r"]["id"] == "p1"
    assert call(store, "POST", "/profile", {"id": "p1"})[0] == 409
    generated = call(store, "POST", "/profile", {"id": None})[1]["r"]["id"]
    listed = [p["id"] for p in call(store, "GET", "/profile")[1]["r"]]
    assert listed == ["p1", generated]
    cookies = {"cookies": [{"name": "sid", "domain": "shop.test"}], "origins": []}
    store.save_profile_state("p1", cookies)
    assert call(store, "GET", "/profile")[1]["r"][0]["cookie_count"] == 1
    open_session(store, profile_id="p1", profile_read_only=True)
    assert executor.opened[-1].storage_state == cookies
    assert executor.opened[-1].request.profile_read_only is True
    assert call(store, "DELETE", "/profile/p1") == (200, {"r": True})
    assert call(store, "DELETE", "/profile/p1")[0] == 404


def test_case_23_files(executor: RecordingExecutor) -> None:
    saved: list[tuple[str, str, str, bytes]] = []

    def save_blob(kind: str, blob_id: str, name: str, data: bytes) -> str:
        saved.append((kind, blob_id, name, data))
        return f"/blobs/{blob_id}/{name}"

    store = Store(executor, save_blob=save_blob)
    body = {"file": Upload("notes.txt", b"hello"), "file_purpose": "input"}
    file_id = call(store, "POST", "/file", body)[1]["r"]["id"]
    assert saved == [("file", file_id, "notes.txt", b"hello")]
    open_session(store, files=[file_id])
    assert executor.opened[-1].file_paths == {file_id: f"/blobs/{file_id}/notes.txt"}
    assert call(store, "POST", "/file", {"file_purpose": "x"})[0] == 400
    too_long = {"file": Upload("a", b""), "file_purpose": "x" * 65}
    assert call(store, "POST", "/file", too_long)[0] == 400
    assert call(store, "POST", "/task", {"task": None, "files": ["nope"]})[0] == 400
    assert call(store, "DELETE", f"/file/{file_id}") == (200, {"r": True})
    assert call(store, "DELETE", f"/file/{file_id}")[0] == 404


@pytest.mark.parametrize("delete_path", ["/extension/{id}", "/browser/extension/{id}"])
def test_case_24_extensions(store: Store, clock: Clock, delete_path: str) -> None:
    assert call(store, "POST", "/extension", {"file": Upload("x.zip", b"not a zip")})[0] == 400
    ext_id = call(store, "POST", "/extension", {"file": Upload("x.zip", b"PK\x03\x04rest")})[1][
        "r"
    ]["id"]
    listed = call(store, "GET", "/extension")[1]["r"]
    assert listed == [{"id": ext_id, "file_name": "x.zip", "creation_time": clock.now // 1000}]
    assert call(store, "DELETE", delete_path.format(id=ext_id)) == (200, {"r": True})
    assert call(store, "GET", "/extension")[1]["r"] == []


def test_case_25_telemetry_is_accepted(store: Store) -> None:
    assert call(store, "POST", "/telemetry", {"events": [{"event": "x"}]}) == (200, {"r": True})
    assert store.resources.telemetry_events == 1
