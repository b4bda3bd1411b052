"""AsyncSmoothSession: the mirror of test_session.py for the async twin (fake clock, no waits)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pydantic
import pytest
import pytest_asyncio

from pytest_smooth._core.constants import LONG_POLL_PARAM
from pytest_smooth._core.exceptions import InternalServerError
from pytest_smooth._core.exceptions import SessionClosedError
from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothActionServerError
from pytest_smooth._core.exceptions import SmoothProtocolError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth._core.models import ActionRecord
from pytest_smooth.client.async_client import AsyncSmoothClient
from pytest_smooth.client.async_session import AsyncSmoothSession
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

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeSmooth:
    return FakeSmooth(api_key=KEY)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def client(fake: FakeSmooth, clock: Clock) -> AsyncIterator[AsyncSmoothClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake.handler))
    async with AsyncSmoothClient(KEY, FakeSmooth.base_url, http_client=http, timeout=5) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        yield client


@pytest_asyncio.fixture
async def session(client: AsyncSmoothClient) -> AsyncIterator[AsyncSmoothSession]:
    async with client.session(device="mobile") as session:
        yield session


def sent_events(fake: FakeSmooth) -> list[dict[str, Any]]:
    return [r.body for r in fake.requests if r.method == "POST" and r.path.endswith("/event")]


@pytest.mark.asyncio
async def test_every_action_happy_path(session: AsyncSmoothSession, fake: FakeSmooth) -> None:
    fake.outputs["evaluate_js"] = lambda inp: {"title": "Shop", "args": inp["args"]}
    fake.outputs["extract"] = {"name": "Mug", "price": 9.5}
    fake.outputs["run_task"] = {"name": "Cart", "price": 3}
    await session.goto("https://shop.test")
    assert await session.evaluate_js("document.title", {"a": 1}) == {
        "title": "Shop",
        "args": {"a": 1},
    }
    assert await session.extract({"type": "object"}, "the product") == {"name": "Mug", "price": 9.5}
    product = await session.extract(Product)
    assert product == Product(name="Mug", price=9.5)
    assert await session.run_task("add to cart", response_model=Product) == Product(
        name="Cart", price=3
    )
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


@pytest.mark.asyncio
async def test_action_errors_carry_the_server_message(
    session: AsyncSmoothSession, fake: FakeSmooth
) -> None:
    fake.failures["goto"] = (400, "net::ERR_NAME_NOT_RESOLVED")
    fake.failures["evaluate_js"] = (500, "executor crashed")
    with pytest.raises(SmoothActionError, match="ERR_NAME_NOT_RESOLVED") as info:
        await session.goto("https://nowhere.test")
    assert info.value.action == "goto" and info.value.code == 400
    with pytest.raises(SmoothActionServerError, match="executor crashed"):
        await session.evaluate_js("1")
    assert [(r.outcome, r.error is not None) for r in session.events] == [
        ("error", True),
        ("error", True),
    ]
    fake.outputs["extract"] = {"name": "Mug"}
    with pytest.raises(SmoothActionError, match="does not match Product"):
        await session.extract(Product)


@pytest.mark.asyncio
async def test_never_replying_server_times_out_naming_the_action(
    session: AsyncSmoothSession, fake: FakeSmooth, clock: Clock
) -> None:
    fake.never_reply = {"evaluate_js"}
    with pytest.raises(SmoothTimeoutError) as info:
        await session.evaluate_js("1", timeout=0.5)
    assert str(info.value) == f"evaluate_js did not finish within 0.5 s (session {session.id})"
    assert session.events[-1].outcome == "timeout"
    assert sum(clock.sleeps) == pytest.approx(0.5)
    # The client default (5 s) applies when no per-call timeout is given.
    with pytest.raises(SmoothTimeoutError, match=r"within 5\.0 s"):
        await session.evaluate_js("1")
    # A late reply for the abandoned action does not confuse the next one.
    fake.never_reply = False
    fake.outputs["evaluate_js"] = 7
    assert await session.evaluate_js("7") == 7


@pytest.mark.asyncio
async def test_polls_are_retried_but_action_posts_are_not(
    session: AsyncSmoothSession, fake: FakeSmooth
) -> None:
    fake.fault("GET", "/task/*", status=503)
    fake.outputs["evaluate_js"] = 1
    assert await session.evaluate_js("1") == 1
    fake.fault("POST", "/task/*/event", status=503, execute=True)
    with pytest.raises(InternalServerError):
        await session.evaluate_js("2")
    assert fake.count("POST", "/task/*/event") == 2
    assert len(fake.executor.submitted) == 2


@pytest.mark.asyncio
async def test_graceful_close_is_idempotent(client: AsyncSmoothClient, fake: FakeSmooth) -> None:
    session = await client.session()
    await session.close()
    await session.close()
    assert session.closed and fake.executor.closed == {session.id: True}
    assert session.status == "done"  # the final status, one poll after the close reply
    assert fake.count("DELETE", "/task/*") == 0
    assert session.events[-1].action == "close"
    with pytest.raises(SessionClosedError):
        await session.goto("https://x.test")


@pytest.mark.asyncio
async def test_force_close_and_fallback_to_delete(
    client: AsyncSmoothClient, fake: FakeSmooth
) -> None:
    forced = await client.session()
    await forced.close(force=True)
    assert forced.closed and fake.count("DELETE", "/task/*") == 1
    fallback = await client.session()
    fake.fault("POST", "/task/*/event", status=400)
    await fallback.close()
    assert fallback.closed and fake.count("DELETE", "/task/*") == 2
    assert fake.executor.closed == {forced.id: False, fallback.id: False}


@pytest.mark.asyncio
async def test_with_block_closes_the_session(client: AsyncSmoothClient, fake: FakeSmooth) -> None:
    async with client.session() as session:
        await session.goto("https://x.test")
    assert session.closed and fake.executor.closed == {session.id: True}


@pytest.mark.asyncio
async def test_server_side_close_gives_session_closed(
    session: AsyncSmoothSession, client: AsyncSmoothClient
) -> None:
    await client.delete_task(session.id)
    with pytest.raises(SessionClosedError, match="closed"):
        await session.goto("https://x.test")
    assert session.closed
    await session.close()  # idempotent, no error


@pytest.mark.asyncio
async def test_session_ending_during_an_action(client: AsyncSmoothClient, fake: FakeSmooth) -> None:
    session = await client.session()
    fake.never_reply = {"goto"}
    real_deliver = fake.executor.deliver

    def deliver(task_id: str) -> None:
        real_deliver(task_id)
        fake.store.finish_task(task_id, "cancelled")

    fake.executor.deliver = deliver  # type: ignore[method-assign]
    with pytest.raises(SessionClosedError, match=r"ended \(cancelled\) before goto"):
        await session.goto("https://x.test")
    assert session.closed


@pytest.mark.asyncio
async def test_session_ending_with_reply_in_the_same_response(
    client: AsyncSmoothClient, fake: FakeSmooth
) -> None:
    session = await client.session()

    def answer_then_finish(_inp: Any) -> str:
        return "late"

    fake.outputs["evaluate_js"] = answer_then_finish
    real_deliver = fake.executor.deliver

    def deliver(task_id: str) -> None:
        real_deliver(task_id)
        fake.store.finish_task(task_id, "done")

    fake.executor.deliver = deliver  # type: ignore[method-assign]
    assert await session.evaluate_js("x") == "late"
    assert session.closed


@pytest.mark.asyncio
async def test_tool_calls_are_answered(client: AsyncSmoothClient, fake: FakeSmooth) -> None:
    async def lookup(q: str) -> str:
        """Look a word up (an async tool is awaited)."""
        return q.upper()

    def broken() -> None:
        raise RuntimeError("tool blew up")

    session = await client.session(tools={"lookup": lookup, "broken": broken})
    body = next(r.body for r in fake.requests if r.method == "POST" and r.path.endswith("/task"))
    assert {t["name"] for t in body["custom_tools"]} == {"lookup", "broken"}
    ids = [
        fake.emit_tool_call(session.id, name, inp)
        for name, inp in [("lookup", {"q": "mug"}), ("nope", {}), ("broken", {})]
    ]
    await session.goto("https://x.test")
    results = {e: (code, out) for _, e, code, out in fake.executor.tool_results}
    assert results[ids[0]] == (200, "MUG")
    assert results[ids[1]] == (400, "unknown tool: nope")
    assert results[ids[2]] == (500, "tool blew up")


@pytest.mark.asyncio
async def test_event_log_listeners_label_and_credits(
    session: AsyncSmoothSession, fake: FakeSmooth
) -> None:
    seen: list[ActionRecord] = []
    session.add_listener(seen.append)
    session.add_listener(lambda _r: 1 / 0)  # a broken listener is logged, not raised
    session.label = "tests/test_x.py::test_y"
    fake.outputs["evaluate_js"] = "x" * 1000
    await session.evaluate_js("y" * 1000)
    record = seen[0]
    assert record.test_nodeid == "tests/test_x.py::test_y"
    assert record.duration is not None and record.server_duration == 0.01
    assert len(record.input["js"]) < 300 and "1000 chars" in record.input["js"]
    assert record.output_preview is not None and len(record.output_preview) < 300
    assert session.credits_used == 0.0


@pytest.mark.asyncio
async def test_refresh_and_recording_url(client: AsyncSmoothClient) -> None:
    session = await client.session()
    assert (await session.refresh()).status == "running"
    assert session.recording_url is None
    assert await session.wait_recording_url(timeout=0.2) is None
    await session.close()
    url = await session.wait_recording_url(timeout=1)
    assert url is not None and "/recording/" in url


@pytest.mark.asyncio
async def test_run_task_secrets_never_leak(
    client: AsyncSmoothClient, fake: FakeSmooth, caplog: pytest.LogCaptureFixture
) -> None:
    fake.failures["run_task"] = (400, f"login failed with password {SECRET}")
    caplog.set_level(logging.DEBUG, logger="pytest_smooth")
    async with client.session() as session:
        with pytest.raises(SmoothActionError) as info:
            await session.run_task(
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


@pytest.mark.asyncio
async def test_bad_inputs_fail_before_any_request(
    session: AsyncSmoothSession, fake: FakeSmooth
) -> None:
    before = len(fake.requests)
    with pytest.raises(ValueError, match="max_steps"):
        await session.run_task("x", max_steps=500)
    with pytest.raises(ValueError, match="secret 'p'"):
        await session.run_task("x", secrets={"p": {"nope": 1}})
    with pytest.raises(TypeError, match="JSON schema"):
        await session.extract(42)  # type: ignore[arg-type]
    assert len(fake.requests) == before


@pytest.mark.asyncio
async def test_held_long_polls_repoll_at_once(fake: FakeSmooth, clock: Clock) -> None:
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

    http = httpx.AsyncClient(transport=httpx.MockTransport(holding))
    async with AsyncSmoothClient(KEY, FakeSmooth.base_url, http_client=http) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        session = await client.session()
        fake.never_reply = {"goto"}
        with pytest.raises(SmoothTimeoutError, match=r"goto did not finish within 12\.0 s"):
            await session.goto("https://x.test", timeout=12)
    assert holds == [10_000, 2_000] and clock.sleeps == []


@pytest.mark.asyncio
async def test_one_action_at_a_time(session: AsyncSmoothSession) -> None:
    async with session._lock:
        with pytest.raises(SmoothTimeoutError, match="another action is still running"):
            await session.evaluate_js("1", timeout=0.01)
    assert await session.evaluate_js("1") is None


@pytest.mark.asyncio
async def test_session_waits_for_the_browser_and_deletes_one_that_never_starts(
    fake: FakeSmooth, clock: Clock
) -> None:
    def never_starts(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            task_id = request.url.path.rsplit("/", 1)[-1]
            return httpx.Response(202, json={"r": {"id": task_id, "status": "waiting"}})
        return fake.handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(never_starts))
    async with AsyncSmoothClient(KEY, FakeSmooth.base_url, http_client=http) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        with pytest.raises(SmoothTimeoutError, match=r"did not start within 2\.0 s"):
            await client.session(start_timeout=2.0)
    assert fake.count("DELETE", "/task/*") == 1
    assert sum(clock.sleeps) == pytest.approx(2.0)


@pytest.mark.asyncio
async def test_session_returns_running_with_a_live_url(
    client: AsyncSmoothClient, fake: FakeSmooth
) -> None:
    session = await client.session()
    assert session.status == "running" and session.live_url is not None
    gets = [r for r in fake.requests if r.method == "GET"]
    assert len(gets) == 1 and LONG_POLL_PARAM not in gets[0].query


@pytest.mark.asyncio
async def test_hung_requests_are_bounded_by_the_action_deadline(
    fake: FakeSmooth, clock: Clock
) -> None:
    read_timeouts: dict[str, float] = {}
    hang = {"POST /event"}

    def hanging(request: httpx.Request) -> httpx.Response:
        kind = f"{request.method} /event" if request.url.path.endswith("/event") else request.method
        if kind in hang:
            read_timeouts[kind] = request.extensions["timeout"]["read"]
            clock.now += read_timeouts[kind]  # the request hangs until its read timeout
            raise httpx.ReadTimeout("hung", request=request)
        return fake.handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(hanging))
    async with AsyncSmoothClient(KEY, FakeSmooth.base_url, http_client=http, timeout=30) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        client._sleep = clock.sleep  # type: ignore[method-assign]
        session = await client.session()
        with pytest.raises(SmoothTimeoutError, match=r"^evaluate_js did not finish within 1\.0 s"):
            await session.evaluate_js("1", timeout=1.0)
        assert read_timeouts == {"POST /event": 1.5}
        # A hung close: the graceful attempt and the DELETE fallback are both bounded.
        hang.add("DELETE")
        start = clock.now
        with pytest.raises(SmoothTimeoutError):
            await session.close(timeout=1.0)
        assert read_timeouts["DELETE"] == 3.5 and clock.now - start == pytest.approx(5.0)
        assert not session.closed


@pytest.mark.asyncio
async def test_reply_with_an_unknown_code_is_a_protocol_error(
    session: AsyncSmoothSession, fake: FakeSmooth
) -> None:
    fake.failures["goto"] = (302, "moved")
    with pytest.raises(SmoothProtocolError, match="code 302"):
        await session.goto("https://x.test")
    assert session.events[-1].outcome == "error"


@pytest.mark.asyncio
async def test_a_waiting_action_gets_the_lock_and_a_cancelled_one_leaks_nothing(
    session: AsyncSmoothSession,
) -> None:
    await session._lock.acquire()
    waiting = asyncio.create_task(session.evaluate_js("1", timeout=5))
    cancelled = asyncio.create_task(session.evaluate_js("2", timeout=5))
    await asyncio.sleep(0)  # a yield (no time passes): both now wait for the lock
    cancelled.cancel()
    session._lock.release()
    assert await waiting is None
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert not session._lock.locked()
    assert [r.action for r in session.events] == ["evaluate_js"]


def test_the_twins_have_the_same_public_names() -> None:
    from pytest_smooth.client.sync_session import SmoothSession

    def public(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")}

    assert public(AsyncSmoothSession) - {"aclose"} == public(SmoothSession)


@pytest.mark.asyncio
async def test_inline_replies_take_one_round_trip(
    client: AsyncSmoothClient, fake: FakeSmooth
) -> None:
    fake.inline_replies = True
    fake.outputs["evaluate_js"] = 7
    fake.failures["extract"] = (400, "no such field")
    async with client.session() as session:
        gets = fake.count("GET", "/task/*")
        assert await session.evaluate_js("3 + 4") == 7
        await session.goto("https://x.test")
        with pytest.raises(SmoothActionError, match="no such field"):
            await session.extract({"type": "object"})
        assert fake.count("GET", "/task/*") == gets  # no poll: the acks carried the replies
        holds = [int(r.query[LONG_POLL_PARAM]) for r in fake.requests if r.path.endswith("/event")]
        assert holds == [5000, 5000, 5000]  # bounded by the action's 5 s
        outcomes = [(r.action, r.outcome) for r in session.events]
        assert outcomes == [("evaluate_js", "ok"), ("goto", "ok"), ("extract", "error")]
        ids = [r.event_id for r in session.events]
        assert [e.id for e in (await client.get_task(session.id)).events or ()] == ids
        assert session._state.cursor == fake.store.tasks[session.id].last_ts
    assert fake.store.tasks[session.id].status == "done"


@pytest.mark.asyncio
async def test_a_held_post_gets_the_hold_plus_a_margin_within_the_deadline(
    fake: FakeSmooth, clock: Clock
) -> None:
    reads: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and LONG_POLL_PARAM in request.url.params:
            reads.append(request.extensions["timeout"]["read"])
        return fake.handler(request)

    fake.inline_replies = True
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    short = httpx.Timeout(2.0)
    async with AsyncSmoothClient(
        KEY, FakeSmooth.base_url, http_client=http, request_timeout=short
    ) as client:
        client._clock = clock.time  # type: ignore[method-assign]
        session = await client.session()
        await session.goto("https://x.test", timeout=3)
        await session.goto("https://x.test", timeout=None)
        await session.close(force=True)
    assert reads == [3.5, 15.0]  # 3 s deadline + grace; 10 s hold + 5 s margin


@pytest.mark.asyncio
async def test_acks_without_a_usable_reply_fall_back_to_polling(
    client: AsyncSmoothClient, fake: FakeSmooth
) -> None:
    def garbling(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        if request.method == "POST" and request.url.path.endswith("/event"):
            ack = response.json()
            return httpx.Response(200, json={"r": {**ack["r"], "reply": {"payload": "x"}}})
        return response

    fake.outputs["evaluate_js"] = 3
    async with client.session() as session:
        gets = fake.count("GET", "/task/*")
        assert await session.evaluate_js("1 + 2") == 3  # the fake ignores wait_ms: a plain ack
        assert fake.count("GET", "/task/*") > gets
        client._http = httpx.AsyncClient(transport=httpx.MockTransport(garbling))
        assert await session.evaluate_js("1 + 2") == 3
        assert [r.outcome for r in session.events] == ["ok", "ok"]
