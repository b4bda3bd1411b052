"""SmoothSession over FakeSmooth: actions, errors, timeouts, closing, tools, event log, secrets.

Mirrored for the async twin in test_async_session.py. Time is a fake clock: sleeping advances
it, so timeouts are reached without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pydantic
import pytest

from pytest_smooth._core.constants import LONG_POLL_PARAM
from pytest_smooth._core.exceptions import InternalServerError
from pytest_smooth._core.exceptions import SessionClosedError
from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothActionServerError
from pytest_smooth._core.exceptions import SmoothProtocolError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth._core.models import ActionRecord
from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.client.sync_session import SmoothSession
from pytest_smooth.testing import FakeSmooth

KEY = "cmzr-session-key-42424242"
SECRET = "hunter2-very-secret"


class Product(pydantic.BaseModel):
    name: str
    price: float


class Clock:
    def __init__(self) -> None:
        self.now = 50.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeSmooth:
    return FakeSmooth(api_key=KEY)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(fake: FakeSmooth, clock: Clock) -> Iterator[SmoothClient]:
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with SmoothClient(KEY, FakeSmooth.base_url, http_client=http, timeout=5) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        yield client


@pytest.fixture
def session(client: SmoothClient) -> Iterator[SmoothSession]:
    with client.session(device="mobile") as session:
        yield session


def sent_events(fake: FakeSmooth) -> list[dict[str, Any]]:
    return [r.body for r in fake.requests if r.method == "POST" and r.path.endswith("/event")]


def test_every_action_happy_path(session: SmoothSession, fake: FakeSmooth) -> None:
    fake.outputs["evaluate_js"] = lambda inp: {"title": "Shop", "args": inp["args"]}
    fake.outputs["extract"] = {"name": "Mug", "price": 9.5}
    fake.outputs["run_task"] = {"name": "Cart", "price": 3}
    session.goto("https://shop.test")
    assert session.evaluate_js("document.title", {"a": 1}) == {"title": "Shop", "args": {"a": 1}}
    assert session.extract({"type": "object"}, "the product") == {"name": "Mug", "price": 9.5}
    product = session.extract(Product)
    assert product == Product(name="Mug", price=9.5)
    assert session.run_task("add to cart", response_model=Product) == Product(name="Cart", price=3)
    events = sent_events(fake)
    assert [e["payload"]["name"] for e in events] == [
        "goto",
        "evaluate_js",
        "extract",
        "extract",
        "run_task",
    ]
    assert all(len(e["id"]) == 21 and e["timestamp"] is None for e in events)
    assert events[3]["payload"]["input"]["schema"] == Product.model_json_schema()
    assert events[4]["name"] == "session_action"
    assert [r.outcome for r in session.events] == ["ok"] * 5
    assert session.live_url is not None and session.status == "running"


def test_action_errors_carry_the_server_message(session: SmoothSession, fake: FakeSmooth) -> None:
    fake.failures["goto"] = (400, "net::ERR_NAME_NOT_RESOLVED")
    fake.failures["evaluate_js"] = (500, "executor crashed")
    with pytest.raises(SmoothActionError, match="ERR_NAME_NOT_RESOLVED") as info:
        session.goto("https://nowhere.test")
    assert info.value.action == "goto" and info.value.code == 400
    with pytest.raises(SmoothActionServerError, match="executor crashed"):
        session.evaluate_js("1")
    assert [(r.outcome, r.error is not None) for r in session.events] == [
        ("error", True),
        ("error", True),
    ]
    fake.outputs["extract"] = {"name": "Mug"}
    with pytest.raises(SmoothActionError, match="does not match Product"):
        session.extract(Product)


def test_never_replying_server_times_out_naming_the_action(
    session: SmoothSession, fake: FakeSmooth, clock: Clock
) -> None:
    fake.never_reply = {"evaluate_js"}
    with pytest.raises(SmoothTimeoutError) as info:
        session.evaluate_js("1", timeout=0.5)
    assert str(info.value) == f"evaluate_js did not finish within 0.5 s (session {session.id})"
    assert session.events[-1].outcome == "timeout"
    assert sum(clock.sleeps) == pytest.approx(0.5)
    # The client default (5 s) applies when no per-call timeout is given.
    with pytest.raises(SmoothTimeoutError, match=r"within 5\.0 s"):
        session.evaluate_js("1")
    # A late reply for the abandoned action does not confuse the next one.
    fake.never_reply = False
    fake.outputs["evaluate_js"] = 7
    assert session.evaluate_js("7") == 7


def test_polls_are_retried_but_action_posts_are_not(
    session: SmoothSession, fake: FakeSmooth
) -> None:
    fake.fault("GET", "/task/*", status=503)
    fake.outputs["evaluate_js"] = 1
    assert session.evaluate_js("1") == 1
    fake.fault("POST", "/task/*/event", status=503, execute=True)
    with pytest.raises(InternalServerError):
        session.evaluate_js("2")
    assert fake.count("POST", "/task/*/event") == 2
    assert len(fake.executor.submitted) == 2


def test_graceful_close_is_idempotent(client: SmoothClient, fake: FakeSmooth) -> None:
    session = client.session()
    session.close()
    session.close()
    assert session.closed and fake.executor.closed == {session.id: True}
    assert session.status == "done"  # the final status, one poll after the close reply
    assert fake.count("DELETE", "/task/*") == 0
    assert session.events[-1].action == "close"
    with pytest.raises(SessionClosedError):
        session.goto("https://x.test")


def test_force_close_and_fallback_to_delete(client: SmoothClient, fake: FakeSmooth) -> None:
    forced = client.session()
    forced.close(force=True)
    assert forced.closed and fake.count("DELETE", "/task/*") == 1
    fallback = client.session()
    fake.fault("POST", "/task/*/event", status=400)
    fallback.close()
    assert fallback.closed and fake.count("DELETE", "/task/*") == 2
    assert fake.executor.closed == {forced.id: False, fallback.id: False}


def test_with_block_closes_the_session(client: SmoothClient, fake: FakeSmooth) -> None:
    with client.session() as session:
        session.goto("https://x.test")
    assert session.closed and fake.executor.closed == {session.id: True}


def test_server_side_close_gives_session_closed(
    session: SmoothSession, client: SmoothClient
) -> None:
    client.delete_task(session.id)
    with pytest.raises(SessionClosedError, match="closed"):
        session.goto("https://x.test")
    assert session.closed
    session.close()  # idempotent, no error


def test_session_ending_during_an_action(client: SmoothClient, fake: FakeSmooth) -> None:
    session = client.session()
    fake.never_reply = {"goto"}
    real_deliver = fake.executor.deliver

    def deliver(task_id: str) -> None:
        real_deliver(task_id)
        fake.store.finish_task(task_id, "cancelled")

    fake.executor.deliver = deliver  # type: ignore[method-assign]
    with pytest.raises(SessionClosedError, match=r"ended \(cancelled\) before goto"):
        session.goto("https://x.test")
    assert session.closed


def test_session_ending_with_reply_in_the_same_response(
    client: SmoothClient, fake: FakeSmooth
) -> None:
    session = client.session()

    def answer_then_finish(_inp: Any) -> str:
        return "late"

    fake.outputs["evaluate_js"] = answer_then_finish
    real_deliver = fake.executor.deliver

    def deliver(task_id: str) -> None:
        real_deliver(task_id)
        fake.store.finish_task(task_id, "done")

    fake.executor.deliver = deliver  # type: ignore[method-assign]
    assert session.evaluate_js("x") == "late"
    assert session.closed


def test_tool_calls_are_answered(client: SmoothClient, fake: FakeSmooth) -> None:
    def lookup(q: str) -> str:
        """Look a word up."""
        return q.upper()

    def broken() -> None:
        raise RuntimeError("tool blew up")

    session = client.session(tools={"lookup": lookup, "broken": broken})
    body = next(r.body for r in fake.requests if r.method == "POST" and r.path.endswith("/task"))
    assert {t["name"] for t in body["custom_tools"]} == {"lookup", "broken"}
    ids = [
        fake.emit_tool_call(session.id, name, inp)
        for name, inp in [("lookup", {"q": "mug"}), ("nope", {}), ("broken", {})]
    ]
    session.goto("https://x.test")
    results = {e: (code, out) for _, e, code, out in fake.executor.tool_results}
    assert results[ids[0]] == (200, "MUG")
    assert results[ids[1]] == (400, "unknown tool: nope")
    assert results[ids[2]] == (500, "tool blew up")


def test_event_log_listeners_label_and_credits(session: SmoothSession, fake: FakeSmooth) -> None:
    seen: list[ActionRecord] = []
    session.add_listener(seen.append)
    session.add_listener(lambda _r: 1 / 0)  # a broken listener is logged, not raised
    session.label = "tests/test_x.py::test_y"
    fake.outputs["evaluate_js"] = "x" * 1000
    session.evaluate_js("y" * 1000)
    record = seen[0]
    assert record.test_nodeid == "tests/test_x.py::test_y"
    assert record.duration is not None and record.server_duration == 0.01
    assert len(record.input["js"]) < 300 and "1000 chars" in record.input["js"]
    assert record.output_preview is not None and len(record.output_preview) < 300
    assert session.credits_used == 0.0


def test_refresh_and_recording_url(client: SmoothClient) -> None:
    session = client.session()
    assert session.refresh().status == "running"
    assert session.recording_url is None
    assert session.wait_recording_url(timeout=0.2) is None
    session.close()
    url = session.wait_recording_url(timeout=1)
    assert url is not None and "/recording/" in url


def test_run_task_secrets_never_leak(
    client: SmoothClient, fake: FakeSmooth, caplog: pytest.LogCaptureFixture
) -> None:
    fake.failures["run_task"] = (400, f"login failed with password {SECRET}")
    caplog.set_level(logging.DEBUG, logger="pytest_smooth")
    with client.session() as session:
        with pytest.raises(SmoothActionError) as info:
            session.run_task(
                "log in",
                secrets={"password": SECRET, "pin": {"value": "9876-5432", "allowed_urls": ["*"]}},
            )
    sent = sent_events(fake)[0]["payload"]["input"]["secrets"]
    assert sent["password"] == {"value": SECRET, "allowed_urls": ["*"]}
    texts = [
        str(info.value),
        repr(info.value.output),
        repr(client),
        caplog.text,
        *(r.model_dump_json() for r in session.events),
    ]
    for text in texts:
        assert SECRET not in text and "9876-5432" not in text and KEY not in text
    assert session.events[0].input["secrets"]["password"]["value"] == "***"


def test_bad_inputs_fail_before_any_request(session: SmoothSession, fake: FakeSmooth) -> None:
    before = len(fake.requests)
    with pytest.raises(ValueError, match="max_steps"):
        session.run_task("x", max_steps=500)
    with pytest.raises(ValueError, match="secret 'p'"):
        session.run_task("x", secrets={"p": {"nope": 1}})
    with pytest.raises(TypeError, match="JSON schema"):
        session.extract(42)  # type: ignore[arg-type]
    assert len(fake.requests) == before


def test_held_long_polls_repoll_at_once(fake: FakeSmooth, clock: Clock) -> None:
    holds: list[int] = []

    def holding(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        if request.method == "GET" and LONG_POLL_PARAM in request.url.params:
            hold = int(request.url.params[LONG_POLL_PARAM])
            # The read timeout outlasts the hold, and ends with the action's deadline.
            assert hold / 1000 < request.extensions["timeout"]["read"] <= 12.5
            holds.append(hold)
            clock.now += hold / 1000  # a server that honours the hint holds the GET
        return response

    http = httpx.Client(transport=httpx.MockTransport(holding))
    with SmoothClient(KEY, FakeSmooth.base_url, http_client=http) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        session = client.session()
        fake.never_reply = {"goto"}
        with pytest.raises(SmoothTimeoutError, match=r"goto did not finish within 12\.0 s"):
            session.goto("https://x.test", timeout=12)
    assert holds == [10_000, 2_000] and clock.sleeps == []


def test_one_action_at_a_time(session: SmoothSession) -> None:
    with session._lock:
        with pytest.raises(SmoothTimeoutError, match="another action is still running"):
            session.evaluate_js("1", timeout=0.01)
    assert session.evaluate_js("1") is None


def test_session_waits_for_the_browser_and_deletes_one_that_never_starts(
    fake: FakeSmooth, clock: Clock
) -> None:
    def never_starts(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            task_id = request.url.path.rsplit("/", 1)[-1]
            return httpx.Response(202, json={"r": {"id": task_id, "status": "waiting"}})
        return fake.handler(request)

    http = httpx.Client(transport=httpx.MockTransport(never_starts))
    with SmoothClient(KEY, FakeSmooth.base_url, http_client=http) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        with pytest.raises(SmoothTimeoutError, match=r"did not start within 2\.0 s"):
            client.session(start_timeout=2.0)
    assert fake.count("DELETE", "/task/*") == 1
    assert sum(clock.sleeps) == pytest.approx(2.0)


def test_session_returns_running_with_a_live_url(client: SmoothClient, fake: FakeSmooth) -> None:
    session = client.session()
    assert session.status == "running" and session.live_url is not None
    gets = [r for r in fake.requests if r.method == "GET"]
    assert len(gets) == 1 and LONG_POLL_PARAM not in gets[0].query


def test_hung_requests_are_bounded_by_the_action_deadline(fake: FakeSmooth, clock: Clock) -> None:
    read_timeouts: dict[str, float] = {}
    hang = {"POST /event"}

    def hanging(request: httpx.Request) -> httpx.Response:
        kind = f"{request.method} /event" if request.url.path.endswith("/event") else request.method
        if kind in hang:
            read_timeouts[kind] = request.extensions["timeout"]["read"]
            clock.now += read_timeouts[kind]  # the request hangs until its read timeout
            raise httpx.ReadTimeout("hung", request=request)
        return fake.handler(request)

    http = httpx.Client(transport=httpx.MockTransport(hanging))
    with SmoothClient(KEY, FakeSmooth.base_url, http_client=http, timeout=30) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        session = client.session()
        with pytest.raises(SmoothTimeoutError, match=r"^evaluate_js did not finish within 1\.0 s"):
            session.evaluate_js("1", timeout=1.0)
        assert read_timeouts == {"POST /event": 1.5}
        # A hung close: the graceful attempt and the DELETE fallback are both bounded.
        hang.add("DELETE")
        start = clock.now
        with pytest.raises(SmoothTimeoutError):
            session.close(timeout=1.0)
        assert read_timeouts["DELETE"] == 3.5 and clock.now - start == pytest.approx(5.0)
        assert not session.closed


def test_reply_with_an_unknown_code_is_a_protocol_error(
    session: SmoothSession, fake: FakeSmooth
) -> None:
    fake.failures["goto"] = (302, "moved")
    with pytest.raises(SmoothProtocolError, match="code 302"):
        session.goto("https://x.test")
    assert session.events[-1].outcome == "error"


def test_inline_replies_take_one_round_trip(client: SmoothClient, fake: FakeSmooth) -> None:
    fake.inline_replies = True
    fake.outputs["evaluate_js"] = 7
    fake.failures["extract"] = (400, "no such field")
    with client.session() as session:
        gets = fake.count("GET", "/task/*")
        assert session.evaluate_js("3 + 4") == 7
        session.goto("https://x.test")
        with pytest.raises(SmoothActionError, match="no such field"):
            session.extract({"type": "object"})
        assert fake.count("GET", "/task/*") == gets  # no poll: the acks carried the replies
        holds = [int(r.query[LONG_POLL_PARAM]) for r in fake.requests if r.path.endswith("/event")]
        assert holds == [5000, 5000, 5000]  # bounded by the action's 5 s
        outcomes = [(r.action, r.outcome) for r in session.events]
        assert outcomes == [("evaluate_js", "ok"), ("goto", "ok"), ("extract", "error")]
        # The replies stay in the stream, and the cursor is past them: nothing comes twice.
        ids = [r.event_id for r in session.events]
        assert [e.id for e in client.get_task(session.id).events or ()] == ids
        assert session._state.cursor == fake.store.tasks[session.id].last_ts
    assert fake.store.tasks[session.id].status == "done"  # the close reply came inline too


def test_a_held_post_gets_the_hold_plus_a_margin_within_the_deadline(
    fake: FakeSmooth, clock: Clock
) -> None:
    reads: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and LONG_POLL_PARAM in request.url.params:
            reads.append(request.extensions["timeout"]["read"])
        return fake.handler(request)

    fake.inline_replies = True
    http = httpx.Client(transport=httpx.MockTransport(handler))
    short = httpx.Timeout(2.0)
    with SmoothClient(KEY, FakeSmooth.base_url, http_client=http, request_timeout=short) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        session = client.session()
        session.goto("https://x.test", timeout=3)
        session.goto("https://x.test", timeout=None)
        session.close(force=True)
    assert reads == [3.5, 15.0]  # 3 s deadline + grace; 10 s hold + 5 s margin


def test_acks_without_a_usable_reply_fall_back_to_polling(
    client: SmoothClient, fake: FakeSmooth
) -> None:
    def garbling(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        if request.method == "POST" and request.url.path.endswith("/event"):
            ack = response.json()
            return httpx.Response(200, json={"r": {**ack["r"], "reply": {"payload": "x"}}})
        return response

    fake.outputs["evaluate_js"] = 3
    with client.session() as session:
        gets = fake.count("GET", "/task/*")
        assert session.evaluate_js("1 + 2") == 3  # the fake ignores wait_ms: a plain ack
        assert fake.count("GET", "/task/*") > gets
        client._http = httpx.Client(transport=httpx.MockTransport(garbling))
        assert session.evaluate_js("1 + 2") == 3
        assert [r.outcome for r in session.events] == ["ok", "ok"]
