"""The client's loops, written once as sans-IO flows (see ``_flow``).

``ClientFlows`` adds to the pure ``BaseSmoothClient`` the flows that both twins drive: a request
with its retries, a task GET (plain or long-polled), an action POST, a DELETE, opening a session
and a one-shot run. Nothing here sends or sleeps: it yields ``Send`` and ``Sleep``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

import httpx

from pytest_smooth._core.client_base import BaseSmoothClient
from pytest_smooth._core.client_base import H
from pytest_smooth._core.client_base import Tool
from pytest_smooth._core.client_base import log
from pytest_smooth._core.client_transport import ClientTransport
from pytest_smooth._core.constants import DEFAULT_SESSION_START_TIMEOUT
from pytest_smooth._core.event_cursor import PollState
from pytest_smooth._core.event_cursor import ToolCall
from pytest_smooth._core.exceptions import RateLimitError
from pytest_smooth._core.exceptions import SmoothConnectionError
from pytest_smooth._core.exceptions import SmoothError
from pytest_smooth._core.exceptions import SmoothStatusError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.flow import Send
from pytest_smooth._core.flow import Sleep
from pytest_smooth._core.models import Extension
from pytest_smooth._core.models import ProfileResponse
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.models import UploadResponse
from pytest_smooth._core.payloads import FileInput
from pytest_smooth._core.payloads import file_parts
from pytest_smooth._core.payloads import session_options
from pytest_smooth._core.retry import credits_exhausted
from pytest_smooth._core.retry import long_poll_hold
from pytest_smooth._core.retry import open_refused
from pytest_smooth._core.retry import open_retry_delay
from pytest_smooth._core.retry import retry_would_be_late
from pytest_smooth._core.retry import seconds_left
from pytest_smooth._core.retry import unreadable_body
from pytest_smooth._core.session_flows import SessionFlows

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

__all__ = ["ClientFlows", "ClientTransport"]

S = TypeVar("S", bound=SessionFlows)


class ClientFlows(BaseSmoothClient[H]):
    """The flows of a client; ``SmoothClient`` and ``AsyncSmoothClient`` only drive them.

    ``H`` is the twin's HTTP client (``httpx.Client`` or ``httpx.AsyncClient``).
    """

    @property
    def transport(self) -> ClientTransport:
        """Return the client's flows as the ``SessionTransport`` its sessions run on."""
        return ClientTransport(self)

    def _request_flow(
        self,
        method: str,
        path: str,
        *,
        timeout: httpx.Timeout | None = None,
        deadline: float | None = None,
        raw: bool = False,
        **options: Any,
    ) -> Flow[Any]:
        """Send one request, retrying what ``retry_delay`` allows; return the unwrapped body."""
        url = self._url(path)
        attempt = 0
        while True:
            start = self._clock()
            limits = self._bounded(timeout or self.request_timeout, deadline, start)
            try:
                response = yield Send(method, url, limits, {"headers": self.headers, **options})
            except httpx.TransportError as err:
                self._log(method, url, type(err).__name__, self._clock() - start)
                delay = self._retry_delay(method, attempt, error=err)
                if delay is None or retry_would_be_late(deadline, self._clock(), delay):
                    raise self._transport_error(err, method, url) from err
            else:
                self._log(method, url, response.status_code, self._clock() - start)
                if raw and response.is_success:
                    return response.content
                try:
                    return self._parse(response, method)
                except SmoothStatusError:
                    delay = self._retry_delay(method, attempt, response=response)
                    if delay is None or retry_would_be_late(deadline, self._clock(), delay):
                        raise
                except SmoothConnectionError as err:  # a 2xx whose body is not JSON
                    delay = self._retry_delay(method, attempt, error=unreadable_body(err))
                    if delay is None or retry_would_be_late(deadline, self._clock(), delay):
                        raise
            log.debug("retry %d of %s %s in %.2f s", attempt + 1, method, path, delay)
            yield Sleep(delay)
            attempt += 1

    def _get_task_flow(
        self,
        task_id: str,
        params: Mapping[str, Any],
        *,
        wait: float = 0.0,
        deadline: float | None = None,
    ) -> Flow[TaskResponse]:
        timeout = self._poll_timeout(wait) if wait else None
        body = yield from self._request_flow(
            "GET", f"task/{task_id}", params=params, timeout=timeout, deadline=deadline
        )
        return self._model(TaskResponse, body, f"GET task/{task_id}")

    def _poll_flow(
        self, task_id: str, state: PollState, deadline: float | None, *, long_poll: bool = True
    ) -> Flow[tuple[TaskResponse, float, float]]:
        """One GET (with the long-poll hint); return the response, its duration and the hold."""
        start = self._clock()
        wait = long_poll_hold(seconds_left(deadline, start)) if long_poll else 0.0
        response = yield from self._get_task_flow(
            task_id, state.query(wait), wait=wait, deadline=deadline
        )
        return response, self._clock() - start, wait

    def _post_event_flow(
        self, task_id: str, body: dict[str, Any], deadline: float | None = None, *, wait: float = 0
    ) -> Flow[Any]:
        """POST one event; with ``wait``, ask the server to hold the ack for the reply.

        Returns the ack (``{"id", "reply"?}``). Never retried once sent (no idempotency key).
        """
        params, timeout = self._event_hold(wait)
        return (
            yield from self._request_flow(
                "POST",
                f"task/{task_id}/event",
                json=body,
                params=params,
                timeout=timeout,
                deadline=deadline,
            )
        )

    def _delete_task_flow(self, task_id: str, deadline: float | None = None) -> Flow[bool]:
        return (yield from self._delete_flow(f"task/{task_id}", deadline))

    def _create_task_flow(self, body: dict[str, Any]) -> Flow[TaskResponse]:
        created = yield from self._request_flow("POST", "task", json=body)
        return self._model(TaskResponse, created, "POST /task")

    def _open_session_flow(
        self,
        make_session: Callable[[TaskResponse], S],
        start_timeout: float | None,
        options: dict[str, Any],
        tools: Mapping[str, Tool] | None,
    ) -> Flow[S]:
        """Open a session and wait until its browser runs (``start_timeout``; None: no wait).

        The options are validated at once, before the flow runs: bad input sends nothing.
        """
        body = self._task_body(None, **session_options(options, tools))
        return self._started_session_flow(make_session, start_timeout, body)

    def _started_session_flow(
        self,
        make_session: Callable[[TaskResponse], S],
        start_timeout: float | None,
        body: dict[str, Any],
    ) -> Flow[S]:
        """POST /task, then wait for the browser: ``start_timeout`` bounds both (see below)."""
        # The start wait gets what is left, at least a tenth: a session accepted late is not
        # deleted before its first poll.
        limit = DEFAULT_SESSION_START_TIMEOUT if start_timeout is None else start_timeout
        deadline = self._clock() + limit
        session = make_session((yield from self._create_session_task_flow(body, deadline)))
        if start_timeout is not None:
            left = max(deadline - self._clock(), start_timeout / 10)
            yield from session._wait_started_flow(left)
        return session

    def _create_session_task_flow(
        self, body: dict[str, Any], deadline: float
    ) -> Flow[TaskResponse]:
        """POST /task for a session; a concurrency-limit 429 is waited on and sent again.

        That 429 is a refusal: nothing was created, so a second POST cannot open a second
        billed session. Out of credits raises at once; a 5xx or a lost connection is never
        retried (the POST may have landed, and Smooth has no idempotency key).
        """
        start, attempt = self._clock(), 0
        while True:
            try:
                return (yield from self._create_task_flow(body))
            except RateLimitError as err:
                delay = (
                    None
                    if credits_exhausted(err.detail)
                    else open_retry_delay(attempt, err.retry_after)
                )
                if delay is None or retry_would_be_late(deadline, self._clock(), delay):
                    raise open_refused(err, attempt + 1, self._clock() - start) from None
            log.info("POST /task: over the concurrent-session limit; again in %.2f s", delay)
            yield Sleep(delay)
            attempt += 1

    def _run_flow(self, task: str, limit: float | None, **options: Any) -> Flow[TaskResponse]:
        """Run a one-shot task until it ends; ``failed``/``cancelled`` raise TaskFailedError."""
        response = yield from self._create_task_flow(self._task_body(task, **options))
        deadline = None if limit is None else self._clock() + limit
        state = PollState(max_interval=self.poll_interval)
        state.status = response.status
        while not state.finished:
            if deadline is not None and self._clock() >= deadline:
                yield from self._abandon_flow(response.id)
                raise SmoothTimeoutError(
                    f"run did not finish within {limit} s (task {response.id})"
                )
            response, elapsed, wait = yield from self._poll_flow(response.id, state, deadline)
            update = state.feed(response, elapsed=elapsed, wait=wait)
            for call in update.tool_calls:
                yield from self._refuse_tool_flow(response.id, call)
            if not update.finished and update.delay:
                left = seconds_left(deadline, self._clock())
                yield Sleep(update.delay if left is None else max(min(update.delay, left), 0.0))
        return self._finished(response)

    def _create_profile_flow(self, profile_id: str | None) -> Flow[ProfileResponse]:
        body = yield from self._request_flow("POST", "profile", json={"id": profile_id})
        return self._model(ProfileResponse, body, "POST /profile")

    def _list_profiles_flow(self) -> Flow[list[ProfileResponse]]:
        body = yield from self._request_flow("GET", "profile")
        return [self._model(ProfileResponse, p, "GET /profile") for p in body or ()]

    def _upload_file_flow(
        self, file: FileInput, name: str | None, purpose: str | None
    ) -> Flow[UploadResponse]:
        files, data = file_parts(file, name, purpose)
        body = yield from self._request_flow("POST", "file", files=files, data=data)
        return self._model(UploadResponse, body, "POST /file")

    def _upload_extension_flow(self, file: FileInput, name: str | None) -> Flow[UploadResponse]:
        files, _ = file_parts(file, name, None)
        body = yield from self._request_flow("POST", "extension", files=files)
        return self._model(UploadResponse, body, "POST /extension")

    def _list_extensions_flow(self) -> Flow[list[Extension]]:
        body = yield from self._request_flow("GET", "extension")
        return [self._model(Extension, e, "GET /extension") for e in body or ()]

    def _delete_flow(self, path: str, deadline: float | None = None) -> Flow[bool]:
        return bool((yield from self._request_flow("DELETE", path, deadline=deadline)))

    def _artifact_flow(self, task_id: str, name: str) -> Flow[bytes]:
        path = f"task/{task_id}/artifacts/{name}"
        return bytes((yield from self._request_flow("GET", path, raw=True)))

    def _abandon_flow(self, task_id: str) -> Flow[None]:
        try:
            yield from self._delete_task_flow(task_id)
        except SmoothError as err:
            log.warning("could not cancel task %s after its timeout: %s", task_id, err)

    def _refuse_tool_flow(self, task_id: str, call: ToolCall) -> Flow[None]:
        try:
            yield from self._post_event_flow(task_id, call.reply(400, f"unknown tool: {call.name}"))
        except SmoothError as err:
            log.warning("could not answer tool call %s: %s", call.event_id, err)
