"""What failure reports and the live view read from an executor: its evidence of a session.

``EvidenceSource`` is what an executor must offer to serve evidence at all (screenshots,
traces, screencast frames); the other protocols are optional parts (the replay page, the
console log, the session's life, whether tracing is on). ``Evidence`` puts them behind one
typed face, answering "not available" for a part the executor lacks, so the HTTP routes
never probe with ``getattr``. ``TaskLookup`` is what those routes read of the store.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol
from typing import runtime_checkable

from pytest_smooth._core.constants import FINISHED_STATUSES

# Longest wait for a finished task's session to finish closing before serving its evidence.
SETTLE_TIMEOUT = 10.0


@runtime_checkable
class EvidenceSource(Protocol):
    """Implemented by the browser executor (and test fakes): the evidence every report reads."""

    async def screenshot(self, task_id: str) -> bytes:
        """Return a PNG of the session's page now (KeyError: unknown or closed session)."""

    async def trace_zip(self, task_id: str) -> bytes | None:
        """Return the Playwright trace recorded so far, secrets redacted (None: not traced)."""

    def frames(self, task_id: str) -> list[tuple[int, bytes]]:
        """Return the screencast frames as (ms, JPEG bytes); kept after the session ends."""

    def latest_frame(self, task_id: str) -> tuple[int, bytes] | None:
        """Return the newest screencast frame, for the live view."""


@runtime_checkable
class ReplaySource(Protocol):
    """Optional: the self-contained replay page (``recording.html``)."""

    def recording_html(self, task_id: str) -> str | None:
        """Return the replay page of the frames (None: no frames kept)."""


@runtime_checkable
class ConsoleSource(Protocol):
    """Optional: the console log (``console.json``)."""

    def console(self, task_id: str) -> dict[str, Any] | None:
        """Return ``{"task_id", "entries", "dropped"}`` (None: the evidence is gone)."""


@runtime_checkable
class DownloadSource(Protocol):
    """Optional: the files the session downloaded (``downloads.zip``, at ``downloads_url``)."""

    async def downloads_zip(self, task_id: str) -> bytes | None:
        """Return the downloaded files as one zip (None: none, or the evidence is gone)."""


@runtime_checkable
class SessionLife(Protocol):
    """Optional: whether a session is open, filming it on demand, waiting for its close."""

    def is_open(self, task_id: str) -> bool:
        """Tell whether the task's browser session is still open."""

    def watch(self, task_id: str) -> None:
        """Start filming the session for a live viewer (when it does not record anyway)."""

    async def wait_closed(self, task_id: str, timeout: float) -> bool:
        """Wait (bounded) until the session is torn down; False on timeout."""


@runtime_checkable
class TracingSwitch(Protocol):
    """Optional: ``tracing = False`` says this executor records no trace at all."""

    tracing: bool


class TaskLookup(Protocol):
    """What the evidence routes read of the store (implemented by ``Store``)."""

    def has_task(self, task_id: str) -> bool:
        """Tell whether the store knows ``task_id``."""

    def check_token(self, task_id: str, token: str) -> bool:
        """Tell whether ``token`` is the task's live/recording token."""

    def task_status(self, task_id: str) -> str | None:
        """Return the task's status (None if unknown)."""


class Evidence:
    """An ``EvidenceSource`` with its optional parts, each "not available" when missing."""

    def __init__(self, source: EvidenceSource) -> None:
        self.source = source
        self._replay = source if isinstance(source, ReplaySource) else None
        self._console = source if isinstance(source, ConsoleSource) else None
        self._downloads = source if isinstance(source, DownloadSource) else None
        self._life = source if isinstance(source, SessionLife) else None
        self.tracing = not isinstance(source, TracingSwitch) or source.tracing is not False

    async def screenshot(self, task_id: str) -> bytes:
        """Return a PNG of the page now (KeyError: unknown or closed session)."""
        return await self.source.screenshot(task_id)

    async def trace_zip(self, task_id: str) -> bytes | None:
        """Return the trace so far (None: not traced)."""
        return await self.source.trace_zip(task_id)

    def frames(self, task_id: str) -> list[tuple[int, bytes]]:
        """Return the kept screencast frames as (ms, JPEG bytes)."""
        return self.source.frames(task_id)

    def latest_frame(self, task_id: str) -> tuple[int, bytes] | None:
        """Return the newest frame (None: none yet)."""
        return self.source.latest_frame(task_id)

    def recording_html(self, task_id: str) -> str | None:
        """Return the replay page (None: no frames, or the executor makes none)."""
        return None if self._replay is None else self._replay.recording_html(task_id)

    def console(self, task_id: str) -> dict[str, Any] | None:
        """Return the console document (None: gone, or the executor keeps none)."""
        return None if self._console is None else self._console.console(task_id)

    async def downloads_zip(self, task_id: str) -> bytes | None:
        """Return the downloaded files as a zip (None: none, or the executor keeps none)."""
        return None if self._downloads is None else await self._downloads.downloads_zip(task_id)

    def is_open(self, task_id: str) -> bool | None:
        """Tell whether the session is open (None: the executor does not say)."""
        return None if self._life is None else bool(self._life.is_open(task_id))

    def watch(self, task_id: str) -> None:
        """Ask the executor to film the session for a live viewer, if it films on demand."""
        if self._life is not None:
            self._life.watch(task_id)

    async def settle(self, task_id: str, status: str | None) -> None:
        """Wait (bounded) for a finished task's session to finish closing (final frame, trace).

        So a replay or a trace asked for right after the end holds the whole session.
        """
        finished = status in FINISHED_STATUSES
        if finished and self._life is not None and self._life.is_open(task_id):
            await self._life.wait_closed(task_id, SETTLE_TIMEOUT)
