"""``SmoothSession``: one browser session, driven by actions (the async twin is re-exported).

Each action POSTs a request event with a fresh id, then polls until the matching reply, the
action's deadline, or the end of the session, whichever comes first. Only the I/O lines live
here; the state and the pure helpers are in ``_base_session`` and ``_polling``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import overload

from ._async_session import AsyncSessionOpener
from ._async_session import AsyncSmoothSession
from ._base_client import Timeout
from ._base_client import hold
from ._base_client import log
from ._base_client import remaining
from ._base_session import FALLBACK_DELETE_TIMEOUT
from ._base_session import SETTLE_TIMEOUT
from ._base_session import BaseSmoothSession
from ._base_session import capped
from ._constants import FINISHED_STATUSES
from ._constants import MIN_POLL_INTERVAL
from ._exceptions import NotFoundError
from ._exceptions import SessionClosedError
from ._exceptions import SmoothConnectionError
from ._exceptions import SmoothError
from ._models import TaskResponse
from ._payloads import M
from ._payloads import extract_input
from ._payloads import run_task_input
from ._polling import ActionReply
from ._polling import ToolCall
from ._types import NOT_GIVEN

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets). --full-trace
# shows them.
__tracebackhide__ = True

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._client import SmoothClient

__all__ = ["AsyncSessionOpener", "AsyncSmoothSession", "SmoothSession"]


class SmoothSession(BaseSmoothSession):
    """A synchronous browser session; ``with client.session() as session:`` closes it."""

    def __init__(
        self,
        client: SmoothClient,
        task: TaskResponse,
        *,
        timeout: Timeout = NOT_GIVEN,
        tools: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        super().__init__(client, task, timeout=timeout, tools=tools)
        self._client = client
        self._lock = threading.Lock()

    def goto(self, url: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Navigate the session's tab to ``url``."""
        self._act("browser_action", "goto", {"url": url}, timeout)

    def evaluate_js(self, js: str, args: Any = None, *, timeout: Timeout = NOT_GIVEN) -> Any:
        """Run JavaScript in the page and return its JSON value."""
        return self._act("browser_action", "evaluate_js", {"js": js, "args": args}, timeout)

    @overload
    def extract(
        self, schema: type[M], prompt: str | None = None, *, timeout: Timeout = NOT_GIVEN
    ) -> M: ...
    @overload
    def extract(
        self, schema: Mapping[str, Any], prompt: str | None = None, *, timeout: Timeout = NOT_GIVEN
    ) -> Any: ...
    def extract(
        self, schema: Any, prompt: str | None = None, *, timeout: Timeout = NOT_GIVEN
    ) -> Any:
        """Extract data matching a JSON schema, or a pydantic model (returns an instance)."""
        payload, model = extract_input(schema, prompt)
        return self._act("browser_action", "extract", payload, timeout, model)

    @overload
    def run_task(
        self,
        task: str,
        max_steps: int = ...,
        *,
        response_model: type[M],
        url: str | None = ...,
        secrets: Mapping[str, Any] | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        timeout: Timeout = ...,
    ) -> M: ...
    @overload
    def run_task(
        self,
        task: str,
        max_steps: int = ...,
        response_model: Mapping[str, Any] | None = ...,
        url: str | None = ...,
        secrets: Mapping[str, Any] | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        *,
        timeout: Timeout = ...,
    ) -> Any: ...
    def run_task(
        self,
        task: str,
        max_steps: int = 32,
        response_model: Any = None,
        url: str | None = None,
        secrets: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> Any:
        """Let the agent do ``task`` in this session; secrets are redacted everywhere."""
        payload = run_task_input(
            self.redactor, task, max_steps, response_model, url, secrets, metadata
        )
        model = response_model if isinstance(response_model, type) else None
        return self._act("session_action", "run_task", payload, timeout, model)

    def _poll_until(self, done: Callable[[], bool], limit: float) -> bool:
        """Poll (no long-poll hint: a status change is not an event) until ``done()``.

        Returns False when ``limit`` seconds pass first.
        """
        client = self._client
        deadline = client._clock() + limit
        while not done():
            if client._clock() >= deadline:
                return False
            response, elapsed, wait = client._poll(self._id, self._state, deadline, long_poll=False)
            update = self._state.feed(response, elapsed=elapsed, wait=wait)
            self._apply(response)
            for call in update.tool_calls:
                self._answer(call, deadline)
            if update.delay and not done():
                client._sleep(capped(update.delay, deadline, client._clock()))
        return True

    def _wait_started(self, limit: float) -> None:
        """Poll until the browser runs (status leaves ``waiting``); DELETE the task on failure."""
        try:
            if not self._poll_until(lambda: self.status != "waiting", limit):
                raise self._start_error(limit)
        except BaseException:
            try:
                self._delete(FALLBACK_DELETE_TIMEOUT)
            except SmoothError as err:
                log.warning("could not delete session %s after a failed start: %s", self._id, err)
            raise

    def _settle(self) -> None:
        """After a graceful close, poll briefly so the server reports the task finished."""
        try:
            self._poll_until(lambda: self.status in FINISHED_STATUSES, SETTLE_TIMEOUT)
        except SmoothError as err:
            log.debug("session %s closed; its final status is unknown: %s", self._id, err)

    def refresh(self) -> TaskResponse:
        """GET the task now and update ``status``, ``live_url`` and ``recording_url``."""
        return self._refresh(None)

    def _refresh(self, deadline: float | None) -> TaskResponse:
        response = self._client._get_task(
            self._id, {"event_t": self._state.cursor}, deadline=deadline
        )
        self._apply(response)
        return response

    def wait_recording_url(self, timeout: float = 30.0) -> str | None:
        """Poll until the recording URL is known; None if there is none or time runs out."""
        clock, deadline, delay = (
            self._client._clock,
            self._client._clock() + timeout,
            MIN_POLL_INTERVAL,
        )
        while True:
            self._refresh(deadline)
            if self._recording_url is not None:
                return self._recording_url or None
            if clock() >= deadline:
                return None
            self._client._sleep(capped(delay, deadline, clock()))
            delay = min(delay * 2, self._client.poll_interval)

    def close(self, *, force: bool = False, timeout: Timeout = NOT_GIVEN) -> None:
        """Close gracefully (session_action close), falling back to DELETE; idempotent."""
        if self.closed:
            self._closed = True
            return
        limit = self._close_limit(timeout)
        deadline = self._client._clock() + limit
        if not force:
            try:
                self._act("session_action", "close", None, limit)
            except SessionClosedError:
                pass
            except SmoothError as err:
                log.info("graceful close of session %s failed (%s); deleting it", self._id, err)
                left = deadline - self._client._clock()
                return self._delete(max(left, FALLBACK_DELETE_TIMEOUT))
            self._closed = True
            self._settle()
            return
        self._delete(limit)

    def _delete(self, budget: float) -> None:
        try:
            self._client._delete_task(self._id, self._client._clock() + budget)
        except NotFoundError:
            pass  # already finished: "not found or already completed"
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Ctrl-C and friends: no graceful wait, just DELETE.
        self.close(force=exc_type is not None and not issubclass(exc_type, Exception))

    # --- the action loop ---------------------------------------------------------------

    def _act(
        self,
        kind: str,
        action: str,
        payload: dict[str, Any] | None,
        timeout: Timeout,
        model: Any = None,
    ) -> Any:
        limit = self._limit(timeout)
        self._check_open(action)
        clock = self._client._clock
        start = clock()
        deadline = None if limit is None else start + limit
        if not self._lock.acquire(timeout=-1 if limit is None else limit):
            raise self._busy_error(action, limit)
        try:
            self._check_open(action)
            event_id, body, record = self._begin(kind, action, payload)
            reply: ActionReply | None = None
            try:
                try:
                    wait = hold(remaining(deadline, clock()))
                    ack = self._client._post_event(self._id, body, deadline, wait=wait)
                except SmoothError as err:
                    past = deadline is not None and clock() >= deadline
                    raise self._post_failed(action, err, limit if past else False) from err
                self._state.feed_ack(ack)  # the reply inline, when the server held the POST
                reply = self._wait(event_id, action, deadline, limit)
                if reply.error is not None:
                    raise self._reply_error(reply.error)
                result = self._convert(action, reply.output, model)
            except BaseException as exc:
                self._state.forget(event_id)
                self._end(record, clock() - start, reply, exc)
                raise
            self._end(record, clock() - start, reply)
            return result
        finally:
            self._lock.release()

    def _wait(
        self, event_id: str, action: str, deadline: float | None, limit: float | None
    ) -> ActionReply:
        client = self._client
        while True:
            reply = self._state.take(event_id)
            if reply is not None:
                return reply
            if self._state.finished:
                raise self._ended_error(action)
            if deadline is not None and client._clock() >= deadline:
                raise self._timeout_error(action, limit)
            try:
                response, elapsed, wait = client._poll(self._id, self._state, deadline)
            except SmoothConnectionError as err:
                if deadline is not None and client._clock() >= deadline:
                    raise self._timeout_error(action, limit) from err
                raise
            update = self._state.feed(response, elapsed=elapsed, wait=wait)
            self._apply(response)
            for call in update.tool_calls:
                self._answer(call, deadline)
            if update.delay and not (update.replies or update.finished):
                client._sleep(capped(update.delay, deadline, client._clock()))

    def _answer(self, call: ToolCall, deadline: float | None) -> None:
        func = self._tool_function(call)
        if func is None:
            code, output = 400, f"unknown tool: {call.name}"
        else:
            try:
                code, output = 200, func(**call.input)
            except Exception as err:
                code, output = self._tool_failure(call, err)
        try:
            self._client._post_event(self._id, call.reply(code, output), deadline)
        except SmoothError as err:
            log.warning("could not answer tool call %s: %s", call.event_id, err)
