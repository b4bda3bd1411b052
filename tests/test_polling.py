"""The sans-IO poll state and the retry decision: no I/O, no sleeps, no clock."""

from __future__ import annotations

import email.utils
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from pytest_smooth._core.constants import INITIAL_RETRY_DELAY
from pytest_smooth._core.constants import LONG_POLL_PARAM
from pytest_smooth._core.constants import MAX_RETRY_AFTER
from pytest_smooth._core.constants import MAX_RETRY_DELAY
from pytest_smooth._core.constants import MIN_POLL_INTERVAL
from pytest_smooth._core.constants import POLL_INTERVAL
from pytest_smooth._core.event_cursor import PollState
from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothActionServerError
from pytest_smooth._core.exceptions import SmoothProtocolError
from pytest_smooth._core.models import TaskEvent
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.retry import parse_retry_after
from pytest_smooth._core.retry import retry_delay


def ev(
    event_id: str | None, ts: int | None, payload: dict[str, Any], name: str = "browser_action"
) -> TaskEvent:
    return TaskEvent(name=name, id=event_id, timestamp=ts, payload=payload)


def resp(status: str = "running", *events: TaskEvent) -> TaskResponse:
    return TaskResponse.model_validate({"id": "t1", "status": status, "events": list(events)})


def test_reply_200_nested_output_is_unwrapped() -> None:
    state = PollState()
    state.expect("a", "evaluate_js")
    payload = {"code": 200, "output": {"output": "Shop", "credits_used": 1.5, "duration": 0.2}}
    update = state.feed(resp("running", ev("a", 10, payload)))
    reply = state.take("a")
    assert reply is not None and reply.ok
    assert (reply.output, reply.credits_used, reply.duration) == ("Shop", 1.5, 0.2)
    assert update.replies == [reply]
    assert state.take("a") is None


def test_goto_reply_without_output_key_and_raw_values() -> None:
    state = PollState()
    state.expect("g", "goto")
    state.expect("r", "evaluate_js")
    state.feed(
        resp(
            "running",
            ev("g", 1, {"code": 200, "output": {"credits_used": 0, "duration": 0.1}}),
            ev("r", 2, {"code": 200, "output": [1, 2]}),
        )
    )
    goto, raw = state.take("g"), state.take("r")
    assert goto is not None and goto.output is None and goto.duration == 0.1
    assert raw is not None and raw.output == [1, 2]


@pytest.mark.parametrize(
    ("code", "cls"),
    [(400, SmoothActionError), (500, SmoothActionServerError), (302, SmoothProtocolError)],
)
def test_reply_error_codes(code: int, cls: type[Exception]) -> None:
    state = PollState()
    state.expect("a", "extract")
    state.feed(resp("running", ev("a", 1, {"code": code, "output": "no such element"})))
    reply = state.take("a")
    assert reply is not None and type(reply.error) is cls
    assert "no such element" in str(reply.error)


def test_reply_without_code_is_a_protocol_error_not_a_hang() -> None:
    # smooth-py bug 3.4: an echo of the request (same id, no code) hung forever.
    state = PollState()
    state.expect("a", "goto")
    state.feed(resp("running", ev("a", 1, {"name": "goto", "input": {"url": "x"}})))
    reply = state.take("a")
    assert reply is not None and isinstance(reply.error, SmoothProtocolError)


def test_finished_status_still_delivers_replies_of_the_same_response() -> None:
    # smooth-py bug 3.3: a finished status cancelled the reply it came with.
    state = PollState()
    state.expect("c", "close")
    update = state.feed(resp("done", ev("c", 5, {"code": 200, "output": {"output": True}})))
    assert update.finished and state.finished
    reply = state.take("c")
    assert reply is not None and reply.output is True


def test_cursor_dedup_and_unknown_ids() -> None:
    state = PollState()
    state.expect("a", "goto")
    first = state.feed(resp("running", ev("x", 3, {"code": 200}), ev("a", 7, {"code": 200})))
    assert state.cursor == 7 and len(first.events) == 2 and len(first.replies) == 1
    assert state.query() == {"event_t": 7}
    again = state.feed(resp("running", ev("x", 3, {"code": 200}), ev("a", 7, {"code": 200})))
    assert again.events == [] and again.replies == []


def test_forgotten_request_ignores_a_late_reply() -> None:
    state = PollState()
    state.expect("a", "goto")
    state.forget("a")
    update = state.feed(resp("running", ev("a", 1, {"code": 200})))
    assert update.replies == [] and state.take("a") is None


def test_tool_calls_are_surfaced_once() -> None:
    state = PollState()
    call = ev("t", 4, {"name": "lookup", "input": {"q": "x"}}, name="tool_call")
    update = state.feed(resp("running", call))
    assert [(c.event_id, c.name, c.input) for c in update.tool_calls] == [
        ("t", "lookup", {"q": "x"})
    ]
    assert state.feed(resp("running", call)).tool_calls == []
    assert update.tool_calls[0].reply(200, 42) == {
        "name": "tool_call",
        "id": "t",
        "payload": {"code": 200, "output": 42},
        "timestamp": None,
    }


def test_query_carries_the_long_poll_hint() -> None:
    state = PollState()
    assert state.query(2.5) == {"event_t": 0, LONG_POLL_PARAM: 2500}
    assert state.query(99)[LONG_POLL_PARAM] == 10_000
    assert LONG_POLL_PARAM not in state.query(0)


def test_delay_backs_off_on_quick_empty_polls_and_resets() -> None:
    state = PollState()
    delays = [state.feed(resp(), elapsed=0.001, wait=5.0).delay for _ in range(6)]
    assert delays[0] == MIN_POLL_INTERVAL
    assert delays == sorted(delays) and delays[-1] == POLL_INTERVAL
    # A held GET (the server honoured wait_ms) means poll again at once.
    assert state.feed(resp(), elapsed=4.0, wait=5.0).delay == 0.0
    assert state.feed(resp(), elapsed=0.0, wait=5.0).delay == MIN_POLL_INTERVAL
    # New events: at once, too.
    assert state.feed(resp("running", ev("n", 9, {})), elapsed=0.0, wait=5.0).delay == 0.0


events_st = st.lists(
    st.builds(
        lambda i, ts, code: ev(f"e{i}", ts, {"code": code, "output": "x"}),
        st.integers(0, 6),
        st.integers(0, 50) | st.none(),
        st.sampled_from([200, 400, 500, 418]) | st.none(),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(events_st, max_size=5), pending=st.sets(st.integers(0, 6)))
def test_property_cursor_dedup_matching(batches: list[list[TaskEvent]], pending: set[int]) -> None:
    state = PollState()
    for i in pending:
        state.expect(f"e{i}", "goto")
    seen: set[str] = set()
    resolved: list[str] = []
    for batch in batches:
        before = state.cursor
        update = state.feed(resp("running", *batch))
        stamps = [e.timestamp for e in batch if e.timestamp is not None]
        assert state.cursor == max([before, *stamps])
        ids = [e.id for e in update.events if e.id is not None]
        assert not seen & set(ids) and len(ids) == len(set(ids))
        seen |= set(ids)
        resolved += [r.event_id for r in update.replies]
        # Feeding the same response again changes nothing.
        assert state.feed(resp("running", *batch)).events == []
    # Each pending request is resolved at most once, and only pending ones are.
    assert len(resolved) == len(set(resolved)) and set(resolved) <= {f"e{i}" for i in pending}
    for event_id in resolved:
        reply = state.take(event_id)
        assert reply is not None and (reply.ok == (reply.code == 200))


# --- retries --------------------------------------------------------------------------------


def request() -> httpx.Request:
    return httpx.Request("GET", "http://x")


def test_retry_get_and_delete_on_transient_statuses() -> None:
    for method in ("GET", "DELETE"):
        for status in (408, 429, 500, 502, 503, 504):
            delay = retry_delay(method, 0, 2, status_code=status, rand=lambda: 0.0)
            assert delay == INITIAL_RETRY_DELAY
    assert retry_delay("GET", 0, 2, status_code=404) is None
    assert retry_delay("GET", 2, 2, status_code=503) is None


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_post_is_never_retried_on_a_status(status: int) -> None:
    assert retry_delay("POST", 0, 5, status_code=status) is None
    assert retry_delay("PUT", 0, 5, status_code=status) is None


def test_post_retried_only_when_nothing_was_sent() -> None:
    refused = httpx.ConnectError("refused", request=request())
    reset = httpx.ReadError("reset", request=request())
    assert retry_delay("POST", 0, 2, error=refused, rand=lambda: 0.0) == INITIAL_RETRY_DELAY
    assert retry_delay("POST", 0, 2, error=reset) is None
    assert retry_delay("POST", 0, 2, error=httpx.ReadTimeout("t", request=request())) is None
    assert retry_delay("GET", 0, 2, error=reset, rand=lambda: 0.0) == INITIAL_RETRY_DELAY


def test_backoff_is_exponential_jittered_and_capped() -> None:
    top = [retry_delay("GET", n, 20, status_code=503, rand=lambda: 0.0) for n in range(8)]
    assert top[:3] == [0.5, 1.0, 2.0] and top[-1] == MAX_RETRY_DELAY
    low = retry_delay("GET", 1, 20, status_code=503, rand=lambda: 1.0)
    assert low == pytest.approx(0.75)


def test_retry_after_seconds_date_and_cap() -> None:
    assert retry_delay("GET", 0, 2, status_code=429, headers={"retry-after": "7"}) == 7.0
    ms = {"retry-after-ms": "1500"}
    assert retry_delay("GET", 0, 2, status_code=429, headers=ms) == 1.5
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == pytest.approx(30)
    too_long = {"retry-after": str(MAX_RETRY_AFTER + 1)}
    assert retry_delay("GET", 0, 2, status_code=429, headers=too_long) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_an_inline_reply_is_matched_once_and_moves_the_cursor() -> None:
    state = PollState()
    state.expect("ev-1", "evaluate_js")
    event = {"id": "ev-1", "name": "browser_action", "timestamp": 42}
    event["payload"] = {"code": 200, "output": {"output": 2, "credits_used": 0, "duration": 0.1}}
    update = state.feed_ack({"id": "ev-1", "reply": event})
    assert [r.output for r in update.replies] == [2] and state.cursor == 42
    # The same event polled later (a GET from an older cursor) is not processed again.
    again = state.feed(TaskResponse.model_validate({"id": "t", "status": "running",
                                                      "events": [event]}))  # fmt: skip
    assert again.replies == [] and again.events == []
    assert state.take("ev-1") is not None and state.take("ev-1") is None
    for ack in ({"id": "ev-2"}, {"id": "ev-2", "reply": None}, {"reply": {"payload": 1}}, None):
        assert state.feed_ack(ack).events == []
    assert state.cursor == 42
