"""``SmoothClient``: the synchronous client, driving ``_client_flows`` with blocking I/O.

``AsyncSmoothClient`` (re-exported here) is the awaited twin. Both only drive flows: the
request loop, polling and the one-shot run are written once, in ``_client_flows``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import httpx

from pytest_smooth._core.client_base import Timeout
from pytest_smooth._core.client_base import Tool
from pytest_smooth._core.client_flows import ClientFlows
from pytest_smooth._core.constants import DEFAULT_SESSION_START_TIMEOUT
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.models import Extension
from pytest_smooth._core.models import ProfileResponse
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.models import UploadResponse
from pytest_smooth._core.payloads import FileInput
from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth.client.async_client import AsyncSmoothClient
from pytest_smooth.client.drivers import drive_sync
from pytest_smooth.client.drivers import share_docstrings
from pytest_smooth.client.sync_session import SmoothSession

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AsyncSmoothClient", "SmoothClient"]

T = TypeVar("T")


class SmoothClient(ClientFlows[httpx.Client]):
    """Synchronous Smooth client. ``with SmoothClient() as client: client.session()``."""

    def _new_http(self, timeout: httpx.Timeout) -> httpx.Client:
        return httpx.Client(timeout=timeout)

    def _sleep(self, seconds: float) -> None:  # tests swap it for a fake clock's
        time.sleep(seconds)

    def _drive(self, flow: Flow[T]) -> T:
        return drive_sync(flow, self._http, self._sleep)

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
        opened = self._open_session_flow(
            lambda task: SmoothSession(self, task, timeout=timeout, tools=tools),
            start_timeout,
            options,
            tools,
        )
        return self._drive(opened)

    def run(self, task: str, *, timeout: Timeout = NOT_GIVEN, **options: Any) -> TaskResponse:
        """Run a one-shot task until it ends; ``failed``/``cancelled`` raise TaskFailedError."""
        return self._drive(self._run_flow(task, self._action_timeout(timeout), **options))

    def get_task(self, task_id: str, *, event_t: int = 0) -> TaskResponse:
        """GET one task with its events after ``event_t``."""
        return self._drive(self._get_task_flow(task_id, {"event_t": event_t}))

    def delete_task(self, task_id: str) -> bool:
        """Cancel a task or force-close a session (DELETE /task/{id})."""
        return self._drive(self._delete_task_flow(task_id))

    def create_profile(self, profile_id: str | None = None) -> ProfileResponse:
        """Create a browser profile (cookies and storage kept across sessions)."""
        return self._drive(self._create_profile_flow(profile_id))

    def list_profiles(self) -> list[ProfileResponse]:
        """List the account's profiles."""
        return self._drive(self._list_profiles_flow())

    def delete_profile(self, profile_id: str) -> bool:
        """Delete a profile."""
        return self._drive(self._delete_flow(f"profile/{profile_id}"))

    def upload_file(
        self, file: FileInput, name: str | None = None, purpose: str | None = None
    ) -> UploadResponse:
        """Upload a file for sessions to use (a path, bytes or a binary file object)."""
        return self._drive(self._upload_file_flow(file, name, purpose))

    def delete_file(self, file_id: str) -> bool:
        """Delete an uploaded file."""
        return self._drive(self._delete_flow(f"file/{file_id}"))

    def upload_extension(self, file: FileInput, name: str | None = None) -> UploadResponse:
        """Upload a Chrome extension as a .zip (a path, bytes or a binary file object)."""
        return self._drive(self._upload_extension_flow(file, name))

    def list_extensions(self) -> list[Extension]:
        """List the uploaded extensions."""
        return self._drive(self._list_extensions_flow())

    def delete_extension(self, extension_id: str) -> bool:
        """Delete an uploaded extension."""
        return self._drive(self._delete_flow(f"extension/{extension_id}"))

    def artifact(self, task_id: str, name: str) -> bytes:
        """Download a local-backend artifact (``screenshot.png``, ``trace.zip``...) of a task."""
        return self._drive(self._artifact_flow(task_id, name))

    def close(self) -> None:
        """Close the HTTP connection pool (when the client made it)."""
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


share_docstrings(AsyncSmoothClient, SmoothClient)
