"""Property tests: the poll state machine, the retry decision and the wire models.

The schema-driven fuzz of the local server's HTTP API lives in ``test_fuzz_http.py``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pytest_smooth._core.constants import FINISHED_STATUSES
from pytest_smooth._core.constants import MAX_LONG_POLL
from pytest_smooth._core.constants import MAX_RETRY_AFTER
from pytest_smooth._core.constants import MAX_RETRY_DELAY
from pytest_smooth._core.constants import RETRYABLE_STATUS_CODES
from pytest_smooth._core.constants import TASK_STATUSES
from pytest_smooth._core.event_cursor import PollState
from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothActionServerError
from pytest_smooth._core.exceptions import SmoothProtocolError
from pytest_smooth._core.models import ActionOutput
from pytest_smooth._core.models import TaskEvent
from pytest_smooth._core.models import TaskRequest
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.retry import parse_retry_after
from pytest_smooth._core.retry import retry_delay

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_leaf: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
event_ids = st.sampled_from([f"e{i}" for i in range(8)])
codes = st.sampled_from([200, 400, 500]) | st.none() | st.integers(-5, 999)
statuses = st.sampled_from(TASK_STATUSES)


@st.composite
def reply_events(draw: st.DrawFn) -> TaskEvent:
    """Draw a server -> client event: an action reply, a tool call or an echo without a code."""
    name = draw(st.sampled_from(["browser_action", "session_action", "tool_call"]))
    payload: dict[str, Any] = {}
    if draw(st.booleans()):
        payload["code"] = draw(codes)
        payload["output"] = draw(
            json_values
            | st.fixed_dictionaries({"output": json_values, "credits_used": st.floats()})
        )
    else:
        payload = {"name": draw(st.text(max_size=5)), "input": draw(json_values)}
    return TaskEvent(
        name=name,
        payload=payload,
        id=draw(event_ids | st.none()),
        timestamp=draw(st.integers(0, 10_000) | st.none()),
    )


responses = st.builds(
    lambda status, events: TaskResponse(id="t", status=status, events=events),
    statuses,
    st.lists(reply_events(), max_size=6) | st.none(),
)


@FUZZ
@given(
    pending=st.sets(event_ids, max_size=5),
    feeds=st.lists(responses, min_size=1, max_size=8),
    elapsed=st.floats(0, 20),
    wait=st.none() | st.floats(0, 20),
)
def test_poll_state_invariants(
    pending: set[str], feeds: list[TaskResponse], elapsed: float, wait: float | None
) -> None:
    state = PollState(min_interval=0.02, max_interval=0.25)
    for event_id in pending:
        state.expect(event_id, "evaluate_js")
    cursor = 0
    replied: list[str] = []
    for response in feeds:
        update = state.feed(response, elapsed=elapsed, wait=wait)
        stamps = [e.timestamp for e in response.events or () if e.timestamp is not None]
        cursor = max([cursor, *stamps])
        # The cursor is the newest timestamp seen and never moves back.
        assert state.cursor == cursor
        assert state.status == response.status
        assert update.finished is (response.status in FINISHED_STATUSES)
        assert 0.0 <= update.delay <= 0.25
        if update.events:
            assert update.delay == 0.0
        for reply in update.replies:
            assert reply.event_id in pending
            replied.append(reply.event_id)
            code = reply.code
            if code == 200:
                assert reply.ok and reply.error is None
            elif code == 500:
                assert isinstance(reply.error, SmoothActionServerError)
            elif code == 400:
                assert type(reply.error) is SmoothActionError
            else:
                assert isinstance(reply.error, SmoothProtocolError)
        query = state.query(wait)
        assert query["event_t"] == cursor
        assert 0 <= query.get("wait_ms", 0) <= MAX_LONG_POLL * 1000
    # One reply per request at most, however often the server repeats it.
    assert len(replied) == len(set(replied))
    for event_id in replied:
        assert state.take(event_id) is not None
        assert state.take(event_id) is None
    assert state.pending == pending - set(replied)


@FUZZ
@given(feed=responses)
def test_feeding_the_same_response_twice_adds_nothing(feed: TaskResponse) -> None:
    state = PollState()
    for event_id in ("e0", "e1", "e2"):
        state.expect(event_id, "goto")
    state.feed(feed)
    again = state.feed(feed)
    assert again.events == []
    assert again.replies == []
    assert again.tool_calls == []


@FUZZ
@given(
    events=st.lists(reply_events(), max_size=10),
    cuts=st.lists(st.integers(0, 10), max_size=4),
)
def test_chunking_the_stream_gives_the_same_replies(
    events: list[TaskEvent], cuts: list[int]
) -> None:
    """However the server splits (and re-sends) the stream, the same replies come out."""

    def replies(chunks: list[list[TaskEvent]]) -> list[tuple[str, int | None]]:
        state = PollState()
        for event_id in ("e0", "e1", "e2", "e3"):
            state.expect(event_id, "extract")
        out = []
        for chunk in chunks:
            update = state.feed(TaskResponse(id="t", status="running", events=chunk))
            out += [(r.event_id, r.code) for r in update.replies]
        return out

    bounds = sorted({0, len(events), *(min(c, len(events)) for c in cuts)})
    chunks = [events[a:b] for a, b in itertools.pairwise(bounds)]
    # A stateless server filter re-sends the previous chunk too: de-duplication must absorb it.
    overlapping = [events[:b] for b in bounds[1:]]
    assert replies(chunks) == replies([events]) == replies(overlapping)


@FUZZ
@given(event_id=event_ids, code=codes, output=json_values)
def test_forgotten_requests_ignore_late_replies(
    event_id: str, code: int | None, output: Any
) -> None:
    state = PollState()
    state.expect(event_id, "goto")
    state.forget(event_id)
    event = TaskEvent(
        name="browser_action", payload={"code": code, "output": output}, id=event_id, timestamp=1
    )
    assert state.feed(TaskResponse(id="t", status="running", events=[event])).replies == []
    assert state.take(event_id) is None


methods = st.sampled_from(["GET", "DELETE", "POST", "PUT", "get", "post"])
transport_errors = st.sampled_from(
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadError("reset"),
        httpx.ReadTimeout("slow read"),
        httpx.RemoteProtocolError("disconnected"),
        httpx.WriteError("broken pipe"),
    ]
)
header_values = st.text(max_size=30) | st.floats().map(str) | st.integers(-100, 10_000).map(str)


@FUZZ
@given(
    method=methods,
    attempt=st.integers(0, 5),
    max_retries=st.integers(0, 5),
    status=st.none() | st.integers(100, 599),
    error=st.none() | transport_errors,
    retry_after=st.none() | header_values,
    rand=st.floats(0, 1),
)
def test_retry_decision(
    method: str,
    attempt: int,
    max_retries: int,
    status: int | None,
    error: Exception | None,
    retry_after: str | None,
    rand: float,
) -> None:
    headers = {} if retry_after is None else {"retry-after": retry_after}
    delay = retry_delay(
        method,
        attempt,
        max_retries,
        status_code=status,
        headers=headers,
        error=error,
        rand=lambda: rand,
        now=0.0,
    )
    if delay is None:
        return
    assert attempt < max_retries
    assert math.isfinite(delay)
    assert 0.0 <= delay <= max(MAX_RETRY_DELAY, MAX_RETRY_AFTER)
    if method.upper() not in {"GET", "DELETE"}:
        # The one rule that keeps actions from running twice: a POST is retried only when
        # the connection failed before the request could have been sent.
        assert isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))
    elif error is None:
        assert status in RETRYABLE_STATUS_CODES


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUS_CODES))
def test_post_is_never_retried_on_a_status(method: str, status: int) -> None:
    assert retry_delay(method, 0, 5, status_code=status, headers={"retry-after": "0"}) is None


@FUZZ
@given(value=header_values, ms=st.none() | header_values)
def test_parse_retry_after_never_raises_and_never_negative(value: str, ms: str | None) -> None:
    headers = {"retry-after": value} if ms is None else {"retry-after": value, "retry-after-ms": ms}
    parsed = parse_retry_after(headers, now=0.0)
    assert parsed is None or (math.isfinite(parsed) and parsed >= 0.0)


# --- models ------------------------------------------------------------------------------------

extra_fields = st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=10).map(lambda s: "x_" + s),
    json_values,
    max_size=3,
)
events = st.builds(
    TaskEvent,
    name=st.sampled_from(["browser_action", "session_action", "tool_call", "future_kind"]),
    payload=st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    id=st.none() | st.text(min_size=1, max_size=21),
    timestamp=st.none() | st.integers(0, 2**53),
)
task_responses = st.builds(
    TaskResponse,
    id=st.text(min_size=1, max_size=30),
    status=statuses,
    output=json_values,
    credits_used=st.none() | st.integers(0, 10**6),
    device=st.none() | st.sampled_from(["desktop", "mobile", "desktop-lg"]),
    live_url=st.none() | st.text(max_size=40),
    recording_url=st.none() | st.text(max_size=40),
    created_at=st.none() | st.integers(0, 2**40),
    events=st.none() | st.lists(events, max_size=4),
)


@FUZZ
@given(response=task_responses, extra=extra_fields)
def test_task_response_round_trips_and_keeps_unknown_fields(
    response: TaskResponse, extra: dict[str, Any]
) -> None:
    wire = {**response.model_dump(mode="json"), **extra}
    parsed = TaskResponse.model_validate(wire)
    assert parsed.model_dump(mode="json") == wire
    assert (parsed.model_extra or {}) == extra
    assert TaskResponse.model_validate_json(parsed.model_dump_json()) == parsed


@FUZZ
@given(
    task=st.none() | st.text(max_size=40),
    max_steps=st.integers(2, 128),
    device=st.sampled_from(["desktop", "mobile", "desktop-lg"]),
    allowed=st.none() | st.lists(st.text(max_size=20), max_size=3),
    extra=extra_fields,
)
def test_task_request_round_trips(
    task: str | None, max_steps: int, device: str, allowed: list[str] | None, extra: dict[str, Any]
) -> None:
    wire = {"task": task, "max_steps": max_steps, "device": device, "allowed_urls": allowed}
    parsed = TaskRequest.model_validate({**wire, **extra})
    dumped = parsed.model_dump(mode="json")
    assert {k: dumped[k] for k in wire} == wire
    assert TaskRequest.model_validate(dumped) == parsed


@FUZZ
@given(max_steps=st.integers().filter(lambda n: not 2 <= n <= 128))
def test_task_request_rejects_out_of_range_max_steps(max_steps: int) -> None:
    with pytest.raises(ValidationError, match="max_steps"):
        TaskRequest.model_validate({"max_steps": max_steps})


@FUZZ
@given(status=st.text(max_size=12).filter(lambda s: s not in TASK_STATUSES))
def test_task_response_rejects_unknown_status(status: str) -> None:
    with pytest.raises(ValidationError, match="status"):
        TaskResponse.model_validate({"id": "t", "status": status})


@FUZZ
@given(
    output=json_values, credits=st.floats(0, 1e6), duration=st.floats(0, 1e6), extra=extra_fields
)
def test_action_output_round_trips(
    output: Any, credits: float, duration: float, extra: dict[str, Any]
) -> None:
    wire = {"output": output, "credits_used": credits, "duration": duration, **extra}
    assert ActionOutput.model_validate(wire).model_dump(mode="json") == wire
