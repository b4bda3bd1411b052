"""``SmoothClient``: the synchronous client (the async twin is re-exported from here).

Both twins have the same method names and hold only the send/sleep lines; everything pure
(URLs, envelope, error mapping, retry decision, poll bookkeeping) lives in ``_base_client`` and
``_polling``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any

import httpx

from ._async_client import AsyncSmoothClient
from ._base_client import BaseSmoothClient
from ._base_client import Timeout
from ._base_client import Tool
from ._base_client import garbled as _garbled
from ._base_client import hold
from ._base_client import late
from ._base_client import log
from ._base_client import remaining
from ._constants import DEFAULT_MAX_RETRIES
from ._constants import DEFAULT_REQUEST_TIMEOUT
from ._constants import DEFAULT_SESSION_START_TIMEOUT
from ._constants import POLL_INTERVAL
from ._exceptions import SmoothConnectionError
from ._exceptions import SmoothError
from ._exceptions import SmoothTimeoutError
from ._models import ProfileResponse
from ._models import TaskResponse
from ._models import UploadResponse
from ._payloads import FileInput
from ._payloads import file_parts
from ._polling import PollState
from ._polling import ToolCall
from ._session import SmoothSession
from ._types import NOT_GIVEN

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets). --full-trace
# shows them.
__tracebackhide__ = True

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AsyncSmoothClient", "SmoothClient"]


class SmoothClient(BaseSmoothClient):
    """Synchronous Smooth client. ``with SmoothClient() as client: client.session()``."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        request_timeout: httpx.Timeout = DEFAULT_REQUEST_TIMEOUT,
        http_client: httpx.Client | None = None,
        redact: Iterable[str] = (),
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            request_timeout=request_timeout,
            redact=redact,
            poll_interval=poll_interval,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=request_timeout)

    # Patched in tests; the session polls through these too.
    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _clock(self) -> float:
        return time.monotonic()

    def _request(
        self,
        method: str,
        path: str,
        *,
        timeout: httpx.Timeout | None = None,
        deadline: float | None = None,
        raw: bool = False,
        **kwargs: Any,
    ) -> Any:
        url = self._url(path)
        attempt = 0
        while True:
            start = self._clock()
            try:
                response = self._http.request(
                    method,
                    url,
                    headers=self.headers,
                    timeout=self._bounded(timeout or self.request_timeout, deadline, start),
                    **kwargs,
                )
            except httpx.TransportError as err:
                self._log(method, url, type(err).__name__, self._clock() - start)
                delay = self._retry_delay(method, attempt, error=err)
                if delay is None or late(deadline, self._clock(), delay):
                    raise self._transport_error(err, method, url) from err
            else:
                self._log(method, url, response.status_code, self._clock() - start)
                if response.is_error:
                    delay = self._retry_delay(method, attempt, response=response)
                    if delay is None or late(deadline, self._clock(), delay):
                        return self._parse(response, method)  # raises the mapped status error
                elif raw:
                    return response.content
                else:
                    try:
                        return self._parse(response, method)
                    except SmoothConnectionError as err:  # a 2xx that is not JSON
                        delay = self._retry_delay(method, attempt, error=_garbled(err))
                        if delay is None or late(deadline, self._clock(), delay):
                            raise
            log.debug("retry %d of %s %s in %.2f s", attempt + 1, method, path, delay)
            self._sleep(delay)
            attempt += 1

    def _get_task(
        self,
        task_id: str,
        params: Mapping[str, Any],
        *,
        wait: float = 0.0,
        deadline: float | None = None,
    ) -> TaskResponse:
        timeout = self._poll_timeout(wait) if wait else None
        body = self._request(
            "GET", f"task/{task_id}", params=params, timeout=timeout, deadline=deadline
        )
        return self._model(TaskResponse, body, f"GET task/{task_id}")

    def _poll(
        self, task_id: str, state: PollState, deadline: float | None, *, long_poll: bool = True
    ) -> tuple[TaskResponse, float, float]:
        """One GET (with the long-poll hint); returns the response, its duration and the hold."""
        start = self._clock()
        wait = hold(remaining(deadline, start)) if long_poll else 0.0
        response = self._get_task(task_id, state.query(wait), wait=wait, deadline=deadline)
        return response, self._clock() - start, wait

    def _post_event(
        self,
        task_id: str,
        body: dict[str, Any],
        deadline: float | None = None,
        *,
        wait: float = 0.0,
    ) -> Any:
        """POST one event; with ``wait``, ask the server to hold the ack for the reply.

        Returns the ack (``{"id", "reply"?}``). Never retried once sent (no idempotency key).
        """
        params, timeout = self._event_hold(wait)
        return self._request(
            "POST",
            f"task/{task_id}/event",
            json=body,
            params=params,
            timeout=timeout,
            deadline=deadline,
        )

    # --- tasks and sessions ---------------------------------------------------------------

    def session(
        self,
        *,
        timeout: Timeout = NOT_GIVEN,
        tools: Mapping[str, Tool] | None = None,
        start_timeout: float | None = DEFAULT_SESSION_START_TIMEOUT,
        **options: Any,
    ) -> SmoothSession:
        """Open a session (POST /task with no task); ``with client.session() as s:`` closes it.

        It returns once the browser runs (the task left ``waiting``), within ``start_timeout``
        seconds (None: do not wait); a session that does not start is deleted.
        """
        body = self._task_body(None, **SmoothSession._options(options, tools))
        created = self._model(TaskResponse, self._request("POST", "task", json=body), "POST /task")
        session = SmoothSession(self, created, timeout=timeout, tools=tools)
        if start_timeout is not None:
            session._wait_started(start_timeout)
        return session

    def run(self, task: str, *, timeout: Timeout = NOT_GIVEN, **options: Any) -> TaskResponse:
        """Run a one-shot task until it ends; ``failed``/``cancelled`` raise TaskFailedError."""
        limit = self._action_timeout(timeout)
        body = self._task_body(task, **options)
        response = self._model(TaskResponse, self._request("POST", "task", json=body), "POST /task")
        deadline = None if limit is None else self._clock() + limit
        state = PollState(max_interval=self.poll_interval)
        state.status = response.status
        while not state.finished:
            if deadline is not None and self._clock() >= deadline:
                self._abandon(response.id)
                raise SmoothTimeoutError(
                    f"run did not finish within {limit} s (task {response.id})"
                )
            response, elapsed, wait = self._poll(response.id, state, deadline)
            update = state.feed(response, elapsed=elapsed, wait=wait)
            for call in update.tool_calls:
                self._refuse_tool(response.id, call)
            if not update.finished and update.delay:
                left = remaining(deadline, self._clock())
                self._sleep(update.delay if left is None else max(min(update.delay, left), 0.0))
        return self._finished(response)

    def _abandon(self, task_id: str) -> None:
        try:
            self.delete_task(task_id)
        except SmoothError as err:
            log.warning("could not cancel task %s after its timeout: %s", task_id, err)

    def _refuse_tool(self, task_id: str, call: ToolCall) -> None:
        try:
            self._post_event(task_id, call.reply(400, f"unknown tool: {call.name}"))
        except SmoothError as err:
            log.warning("could not answer tool call %s: %s", call.event_id, err)

    def get_task(self, task_id: str, *, event_t: int = 0) -> TaskResponse:
        return self._get_task(task_id, {"event_t": event_t})

    def delete_task(self, task_id: str) -> bool:
        """Cancel a task or force-close a session (DELETE /task/{id})."""
        return self._delete_task(task_id)

    def _delete_task(self, task_id: str, deadline: float | None = None) -> bool:
        return bool(self._request("DELETE", f"task/{task_id}", deadline=deadline))

    # --- profiles, files, artifacts ------------------------------------------------------

    def create_profile(self, profile_id: str | None = None) -> ProfileResponse:
        body = self._request("POST", "profile", json={"id": profile_id})
        return self._model(ProfileResponse, body, "POST /profile")

    def list_profiles(self) -> list[ProfileResponse]:
        body = self._request("GET", "profile")
        return [self._model(ProfileResponse, p, "GET /profile") for p in body or ()]

    def delete_profile(self, profile_id: str) -> bool:
        return bool(self._request("DELETE", f"profile/{profile_id}"))

    def upload_file(
        self, file: FileInput, name: str | None = None, purpose: str | None = None
    ) -> UploadResponse:
        files, data = file_parts(file, name, purpose)
        body = self._request("POST", "file", files=files, data=data)
        return self._model(UploadResponse, body, "POST /file")

    def delete_file(self, file_id: str) -> bool:
        return bool(self._request("DELETE", f"file/{file_id}"))

    def artifact(self, task_id: str, name: str) -> bytes:
        """Download a local-backend artifact (``screenshot.png``, ``trace.zip``) of a task."""
        content: bytes = self._request("GET", f"task/{task_id}/artifacts/{name}", raw=True)
        return content

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
