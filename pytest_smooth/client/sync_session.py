"""``SmoothSession``: one browser session, driven by blocking I/O.

Its loops are the flows of ``_session_flows``; this class holds its lock and drives them with
its client's ``httpx.Client`` and ``time.sleep``. ``AsyncSmoothSession`` is the awaited twin.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from typing_extensions import Unpack

from pytest_smooth._core.client_base import Timeout
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.payloads import ModelT
from pytest_smooth._core.payloads import extract_input
from pytest_smooth._core.session_flows import SessionArgs
from pytest_smooth._core.session_flows import SessionFlows
from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth.client.async_session import AsyncSessionOpener
from pytest_smooth.client.async_session import AsyncSmoothSession
from pytest_smooth.client.drivers import drive_sync
from pytest_smooth.client.drivers import share_docstrings

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

if TYPE_CHECKING:
    from typing_extensions import Self

    from pytest_smooth.client.sync_client import SmoothClient

__all__ = ["AsyncSessionOpener", "AsyncSmoothSession", "SmoothSession"]

T = TypeVar("T")


class SmoothSession(SessionFlows):
    """A synchronous browser session; ``with client.session() as session:`` closes it."""

    def __init__(
        self, client: SmoothClient, task: TaskResponse, **options: Unpack[SessionArgs]
    ) -> None:
        super().__init__(client, task, **options)
        self._client, self._lock = client, threading.Lock()

    def _drive(self, flow: Flow[T]) -> T:
        return drive_sync(flow, self._client._http, self._client._sleep)

    @contextmanager
    def _holding_lock(self, limit: float | None) -> Iterator[bool]:
        acquired = self._lock.acquire(timeout=-1 if limit is None else limit)
        try:
            yield acquired
        finally:
            if acquired:
                self._lock.release()

    def _act(
        self, kind: str, action: str, payload: Any, timeout: Timeout, model: Any = None
    ) -> Any:
        limit, start = self._start_action(action, timeout)
        with self._holding_lock(limit) as acquired:
            self._check_locked(acquired, action, limit)
            flow = self._action_flow(kind, action, payload, limit=limit, start=start, model=model)
            return self._drive(flow)

    def goto(self, url: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Navigate the session's tab to ``url``."""
        self._act("browser_action", "goto", {"url": url}, timeout)

    def evaluate_js(self, js: str, args: Any = None, *, timeout: Timeout = NOT_GIVEN) -> Any:
        """Run JavaScript in the page and return its JSON value."""
        return self._act("browser_action", "evaluate_js", {"js": js, "args": args}, timeout)

    def extract(
        self,
        schema: type[ModelT] | Mapping[str, Any],
        prompt: str | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> ModelT:
        """Extract data matching a JSON schema, or a pydantic model (returns an instance)."""
        payload, model = extract_input(schema, prompt)
        return self._act("browser_action", "extract", payload, timeout, model)  # type: ignore[no-any-return]

    def run_task(
        self,
        task: str,
        max_steps: int = 32,
        response_model: type[ModelT] | Mapping[str, Any] | None = None,
        url: str | None = None,
        secrets: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> ModelT:
        """Let the agent do ``task`` in this session; secrets are redacted everywhere."""
        payload, model = self._run_task_request(
            task, max_steps, response_model, url, secrets, metadata
        )
        return self._act("session_action", "run_task", payload, timeout, model)  # type: ignore[no-any-return]

    def refresh(self) -> TaskResponse:
        """GET the task now and update ``status``, ``live_url`` and ``recording_url``."""
        return self._drive(self._refresh_flow())

    def wait_recording_url(self, timeout: float = 30.0) -> str | None:
        """Poll until the recording URL is known; None if there is none or time runs out."""
        return self._drive(self._wait_recording_url_flow(timeout))

    def close(self, *, force: bool = False, timeout: Timeout = NOT_GIVEN) -> None:
        """Close gracefully (session_action close), falling back to DELETE; idempotent."""
        limit = self._close_limit(timeout)
        # A forced close (or a no-op one) never waits for the lock: it only takes it if free.
        with self._holding_lock(0 if force or self.closed else limit) as locked:
            self._drive(self._close_flow(limit, force=force, locked=locked))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Ctrl-C and cancellation: no graceful wait, just DELETE.
        self.close(force=self._interrupted(exc_info[0]))


share_docstrings(AsyncSmoothSession, SmoothSession)
