"""The seam between the pure store and whatever executes actions (Chromium, or a canned fake).

The store never awaits anything: it tells the executor what to do through ``Executor`` and
the executor answers later through ``ReplySink`` (implemented by the store). All calls happen
on the server's event-loop thread, so neither side needs locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

from pytest_smooth._core.models import TaskRequest


@dataclass(frozen=True)
class SessionSpec:
    """What the executor needs to open a browser session for a task."""

    task_id: str
    request: TaskRequest
    # Cookies/storage of the profile to start from (None: fresh), in Playwright storage_state form.
    storage_state: dict[str, Any] | None = None
    # Local paths of files passed with ``files=[...]``.
    file_paths: dict[str, str] = field(default_factory=dict)


class ReplySink(Protocol):
    """Implemented by the store: where executors deliver results."""

    def post_reply(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        """Append a reply event (``code`` 200/400/500) for the request ``event_id``."""

    def emit_tool_call(self, task_id: str, tool_name: str, tool_input: dict[str, Any]) -> str:
        """Append an agent -> client ``tool_call`` event; returns its server-made event id."""

    def finish_task(self, task_id: str, status: str, output: Any = None, credits: int = 0) -> None:
        """Move a task to ``done``/``failed``/``cancelled`` with its final output."""

    def save_profile_state(self, profile_id: str, storage_state: dict[str, Any]) -> None:
        """Persist a session's cookies/storage into its profile (skipped when read-only)."""


class Executor(Protocol):
    """Implemented by the browser layer (and by ``pytest_smooth.testing``'s canned executor)."""

    def open_session(self, spec: SessionSpec, sink: ReplySink) -> None:
        """Start a session without blocking; a one-shot task (``request.task``) runs to its end."""

    def submit(
        self, task_id: str, event_id: str, action: str, action_input: dict[str, Any]
    ) -> None:
        """Schedule an action; its result arrives later through ``ReplySink.post_reply``."""

    def tool_result(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        """Deliver the client's answer to the agent's ``tool_call`` ``event_id``."""

    def close_session(self, task_id: str, *, graceful: bool) -> None:
        """Tear the session down (graceful: save the profile first)."""


class EvidenceSource(Protocol):
    """Also implemented by the browser executor: what failure reports and the live view read.

    ``recording_html`` and ``console`` are optional: the artifact route answers 409 without.
    An executor may also say ``tracing = False`` (trace.zip then says tracing is off).
    """

    async def screenshot(self, task_id: str) -> bytes:
        """Return a PNG of the session's page now (KeyError: unknown or closed session)."""

    async def trace_zip(self, task_id: str) -> bytes | None:
        """Return the Playwright trace recorded so far, secrets redacted (None: not traced)."""

    def recording_html(self, task_id: str) -> str | None:
        """Return the self-contained replay page of the frames (None: no frames kept)."""

    def console(self, task_id: str) -> dict[str, Any] | None:
        """Return ``{"task_id", "entries", "dropped"}`` (None: the evidence is gone)."""

    def frames(self, task_id: str) -> list[tuple[int, bytes]]:
        """Return the screencast frames as (ms, JPEG bytes); kept after the session ends."""

    def latest_frame(self, task_id: str) -> tuple[int, bytes] | None:
        """Return the newest screencast frame, for the live view."""
