"""A session's loops, written once as sans-IO flows (see ``_flow``).

An action POSTs a request event with a fresh id, then polls until the matching reply, the
action's deadline, or the end of the session, whichever comes first; tool calls met on the way
are answered. ``SmoothSession`` and ``AsyncSmoothSession`` drive these flows and hold only their
lock and their I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Protocol
from typing import TypedDict

from pytest_smooth._core.client_base import Timeout
from pytest_smooth._core.client_base import log
from pytest_smooth._core.constants import FINISHED_STATUSES
from pytest_smooth._core.constants import MIN_POLL_INTERVAL
from pytest_smooth._core.event_cursor import ActionReply
from pytest_smooth._core.event_cursor import ToolCall
from pytest_smooth._core.exceptions import NotFoundError
from pytest_smooth._core.exceptions import SessionClosedError
from pytest_smooth._core.exceptions import SmoothConnectionError
from pytest_smooth._core.exceptions import SmoothError
from pytest_smooth._core.flow import CallTool
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.flow import Sleep
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.payloads import run_task_input
from pytest_smooth._core.retry import long_poll_hold
from pytest_smooth._core.retry import seconds_left
from pytest_smooth._core.retry import sleep_within
from pytest_smooth._core.session_base import BaseSmoothSession
from pytest_smooth._core.transport import SessionTransport
from pytest_smooth._core.types import NOT_GIVEN

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

__all__ = [
    "FALLBACK_DELETE_TIMEOUT",
    "SETTLE_TIMEOUT",
    "SessionArgs",
    "SessionClient",
    "SessionFlows",
]

# After a graceful close, how long to poll for the final status (it comes a poll later).
SETTLE_TIMEOUT = 2.0
# A DELETE that replaces a failed graceful close gets at least this long.
FALLBACK_DELETE_TIMEOUT = 3.0


class SessionClient(Protocol):
    """What a session is opened with: a client offering its flows as a ``SessionTransport``."""

    @property
    def transport(self) -> SessionTransport: ...


class SessionArgs(TypedDict, total=False):
    """The keyword arguments a session is opened with (besides its client and task)."""

    timeout: Timeout
    tools: Mapping[str, Callable[..., Any]] | None


class SessionFlows(BaseSmoothSession):
    """The flows of a session; the twins add their lock and drive them."""

    def __init__(
        self,
        client: SessionClient,
        task: TaskResponse,
        *,
        timeout: Timeout = NOT_GIVEN,
        tools: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        super().__init__(client.transport, task, timeout=timeout, tools=tools)

    def _start_action(self, action: str, timeout: Timeout) -> tuple[float | None, float]:
        """Check that the session is open; return the action's limit and its start time."""
        limit, start = self._limit(timeout), self._transport.clock()
        self._check_open(action)
        return limit, start

    def _check_locked(self, locked: bool, action: str, limit: float | None) -> None:
        """Raise when the session's lock was not free within the action's limit."""
        if not locked:
            raise self._busy_error(action, limit)

    @staticmethod
    def _interrupted(exc_type: object) -> bool:
        """Tell whether a ``with`` block ended by Ctrl-C or cancellation (no graceful close)."""
        return isinstance(exc_type, type) and not issubclass(exc_type, Exception)

    def _run_task_request(
        self,
        task: str,
        max_steps: int,
        response_model: Any,
        url: str | None,
        secrets: Mapping[str, Any] | None,
        metadata: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any], Any]:
        """Return the run_task payload (validated, secrets registered) and the model class."""
        payload = run_task_input(
            self.redactor, task, max_steps, response_model, url, secrets, metadata
        )
        return payload, response_model if isinstance(response_model, type) else None

    def _action_flow(
        self,
        kind: str,
        action: str,
        payload: dict[str, Any] | None,
        *,
        limit: float | None,
        start: float,
        model: Any = None,
    ) -> Flow[Any]:
        """Send one action and wait for its reply (the caller holds the session's lock)."""
        clock = self._transport.clock
        deadline = None if limit is None else start + limit
        self._check_open(action)
        event_id, body, record = self._begin(kind, action, payload)
        reply: ActionReply | None = None
        try:
            try:
                wait = long_poll_hold(seconds_left(deadline, clock()))
                ack = yield from self._transport.post_event(self._id, body, deadline, wait=wait)
            except SmoothError as err:
                past = deadline is not None and clock() >= deadline
                raise self._post_failed(action, err, limit if past else False) from err
            self._state.feed_ack(ack)  # the reply inline, when the server held the POST
            reply = yield from self._wait_flow(event_id, action, deadline, limit)
            if reply.error is not None:
                raise self._reply_error(reply.error)
            result = self._convert(action, reply.output, model)
            self._check_fidelity(action, reply, result)
        except BaseException as exc:
            self._state.forget(event_id)
            self._end(record, clock() - start, reply, exc)
            raise
        self._end(record, clock() - start, reply)
        return result

    def _wait_flow(
        self, event_id: str, action: str, deadline: float | None, limit: float | None
    ) -> Flow[ActionReply]:
        clock = self._transport.clock
        while True:
            reply = self._state.take(event_id)
            if reply is not None:
                return reply
            if self._state.finished:
                raise self._ended_error(action)
            if deadline is not None and clock() >= deadline:
                raise self._timeout_error(action, limit)
            try:
                response, elapsed, wait = yield from self._transport.poll(
                    self._id, self._state, deadline
                )
            except SmoothConnectionError as err:
                if deadline is not None and clock() >= deadline:
                    raise self._timeout_error(action, limit) from err
                raise
            update = self._state.feed(response, elapsed=elapsed, wait=wait)
            self._apply(response)
            for call in update.tool_calls:
                yield from self._answer_flow(call, deadline)
            if update.delay and not (update.replies or update.finished):
                yield Sleep(sleep_within(update.delay, deadline, clock()))

    def _answer_flow(self, call: ToolCall, deadline: float | None) -> Flow[None]:
        """Run a client-side tool the agent called, and post its result (or its failure)."""
        function = self._tool_function(call)
        if function is None:
            code, output = 400, f"unknown tool: {call.name}"
        else:
            try:
                code, output = 200, (yield CallTool(function, call.input))
            except Exception as err:
                code, output = self._tool_failure(call, err)
        try:
            yield from self._transport.post_event(self._id, call.reply(code, output), deadline)
        except SmoothError as err:
            log.warning("could not answer tool call %s: %s", call.event_id, err)

    def _poll_until_flow(self, done: Callable[[], bool], limit: float) -> Flow[bool]:
        """Poll (no long-poll hint: a status change is not an event) until ``done()``.

        Returns False when ``limit`` seconds pass first.
        """
        clock = self._transport.clock
        deadline = clock() + limit
        while not done():
            if clock() >= deadline:
                return False
            response, elapsed, wait = yield from self._transport.poll(
                self._id, self._state, deadline, long_poll=False
            )
            update = self._state.feed(response, elapsed=elapsed, wait=wait)
            self._apply(response)
            for call in update.tool_calls:
                yield from self._answer_flow(call, deadline)
            if update.delay and not done():
                yield Sleep(sleep_within(update.delay, deadline, clock()))
        return True

    def _wait_started_flow(self, limit: float) -> Flow[None]:
        """Poll until the browser runs (status leaves ``waiting``); DELETE the task on failure."""
        try:
            if not (yield from self._poll_until_flow(lambda: self.status != "waiting", limit)):
                raise self._start_error(limit)
        except BaseException:
            try:
                yield from self._delete_flow(FALLBACK_DELETE_TIMEOUT)
            except SmoothError as err:
                log.warning("could not delete session %s after a failed start: %s", self._id, err)
            raise

    def _refresh_flow(self, deadline: float | None = None) -> Flow[TaskResponse]:
        """GET the task now and update ``status``, ``live_url`` and ``recording_url``."""
        response = yield from self._transport.get_task(
            self._id, {"event_t": self._state.cursor}, deadline=deadline
        )
        self._apply(response)
        return response

    def _wait_recording_url_flow(self, timeout: float) -> Flow[str | None]:
        """Poll until the recording URL is known; None if there is none or time runs out."""
        clock = self._transport.clock
        deadline, delay = clock() + timeout, MIN_POLL_INTERVAL
        while True:
            yield from self._refresh_flow(deadline)
            if self._recording_url is not None:
                return self._recording_url or None
            if clock() >= deadline:
                return None
            yield Sleep(sleep_within(delay, deadline, clock()))
            delay = min(delay * 2, self._transport.poll_interval)

    def _close_flow(self, limit: float, *, force: bool, locked: bool) -> Flow[None]:
        """Close gracefully (session_action close), falling back to DELETE; idempotent.

        ``locked`` tells whether the caller got the session's lock within ``limit``: when
        another action still holds it, the session is deleted instead.
        """
        if self.closed:
            self._closed = True
            return
        start = self._transport.clock()
        if force:
            yield from self._delete_flow(limit)
            return
        try:
            if not locked:
                raise self._busy_error("close", limit)
            evidence = None if self.keep_evidence else {"keep_evidence": False}
            yield from self._action_flow(
                "session_action", "close", evidence, limit=limit, start=start
            )
        except SessionClosedError:
            pass
        except SmoothError as err:
            log.info("graceful close of session %s failed (%s); deleting it", self._id, err)
            left = start + limit - self._transport.clock()
            yield from self._delete_flow(max(left, FALLBACK_DELETE_TIMEOUT))
            return
        self._closed = True
        yield from self._settle_flow()

    def _settle_flow(self) -> Flow[None]:
        """After a graceful close, poll briefly so the server reports the task finished."""
        try:
            yield from self._poll_until_flow(
                lambda: self.status in FINISHED_STATUSES, SETTLE_TIMEOUT
            )
        except SmoothError as err:
            log.debug("session %s closed; its final status is unknown: %s", self._id, err)

    def _delete_flow(self, budget: float) -> Flow[None]:
        try:
            yield from self._transport.delete_task(self._id, self._transport.clock() + budget)
        except NotFoundError:
            pass  # already finished: "not found or already completed"
        self._closed = True
