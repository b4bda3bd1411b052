"""The seam between the pure store and whatever executes actions (Chromium, or a canned fake).

The store never awaits anything: it tells the executor what to do through ``Executor`` and
the executor answers later through ``ReplySink`` (implemented by the store). All calls happen
on the server's event-loop thread, so neither side needs locks. What an executor offers for
reports and the live view is ``protocol/evidence.py``'s ``EvidenceSource``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol
from typing import runtime_checkable

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
    # Local paths of the uploaded .zip of each extension passed with ``extensions=[...]``.
    extension_paths: dict[str, str] = field(default_factory=dict)


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

    def note_download(self, task_id: str, name: str) -> None:
        """Record that the session downloaded the file ``name`` (``downloads_url`` is filled)."""


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


# Optional parts of an executor, which ``LocalServer`` uses when they are there.


@runtime_checkable
class Startable(Protocol):
    """An executor that needs starting on the server's loop (the browser launch)."""

    async def start(self) -> None:
        """Start; the server serves once this returns (bounded by its start timeout)."""


@runtime_checkable
class Stoppable(Protocol):
    """An executor that needs stopping when the server stops."""

    async def stop(self) -> None:
        """Stop, closing every session (bounded by the server's stop timeout)."""


@runtime_checkable
class StatsSource(Protocol):
    """An executor with figures of its own for ``/local/stats`` (contexts, browser pid)."""

    def stats(self) -> Mapping[str, Any]:
        """Return the figures to merge into the store's."""


@runtime_checkable
class ContextCounter(Protocol):
    """An executor that only counts its browser contexts for ``/local/stats``."""

    def context_count(self) -> int:
        """Return the number of open browser contexts."""


@runtime_checkable
class EvidenceKeeper(Protocol):
    """An executor that keeps evidence, which a client may say at close it will not read."""

    def discard_evidence(self, task_id: str) -> None:
        """Let ``task_id``'s close skip its final frame and trace export; drop its recording."""


def discard_evidence(executor: object, task_id: str) -> None:
    """Tell an executor that keeps evidence that nobody will read ``task_id``'s."""
    if isinstance(executor, EvidenceKeeper):
        executor.discard_evidence(task_id)


async def start_executor(executor: object, timeout: float) -> None:
    """Start an executor that needs it (a browser launch), bounded by ``timeout``."""
    if isinstance(executor, Startable):
        await asyncio.wait_for(executor.start(), timeout)


async def stop_executor(executor: object, timeout: float) -> None:
    """Stop an executor that needs it, bounded by ``timeout``."""
    if isinstance(executor, Stoppable):
        await asyncio.wait_for(executor.stop(), timeout)


def executor_stats(executor: object) -> Callable[[], Mapping[str, Any]] | None:
    """Return the executor's figures for ``/local/stats`` (contexts, browser pid), if any."""
    if isinstance(executor, StatsSource):
        return executor.stats
    if isinstance(executor, ContextCounter):
        return lambda: {"contexts": executor.context_count()}
    return None
