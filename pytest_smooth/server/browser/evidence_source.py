"""The ``EvidenceSource`` half of the Playwright executor: what reports and the live view read.

Screenshots mask every field holding a secret; the trace, the console log and the recording
come out of ``EvidenceStore`` with the session's secrets redacted.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.page.secret_fields import masked_screenshot

if TYPE_CHECKING:
    from playwright.async_api import Page

    from pytest_smooth.server.browser.evidence import EvidenceStore
    from pytest_smooth.server.browser.session import BrowserSession


class EvidenceMethods:
    """Mixed into ``PlaywrightExecutor``: evidence per task id, open sessions and kept ones."""

    _sessions: dict[str, BrowserSession]
    evidence: EvidenceStore
    action_timeout: float
    tracing: bool

    async def screenshot(self, task_id: str) -> bytes:
        """Return a PNG of the open session's page, secret fields masked (KeyError: not open)."""
        session = self._sessions.get(task_id)
        if session is None or session.closed or session.warm is None:
            raise KeyError(task_id)
        return await masked_screenshot(session.warm.page, "png", self.action_timeout)

    def discard_evidence(self, task_id: str) -> None:
        """Skip ``task_id``'s final frame and trace export at its close: nobody will read them."""
        evidence = self.evidence.get(task_id)
        if evidence is not None:
            evidence.keep = False

    async def trace_zip(self, task_id: str) -> bytes | None:
        return await self.evidence.trace_zip(task_id)

    async def downloads_zip(self, task_id: str) -> bytes | None:
        """Return the files the session downloaded as one zip (None: none, or gone)."""
        return await self.evidence.downloads_zip(task_id)

    def recording_html(self, task_id: str) -> str | None:
        """Return the self-contained replay page of the session's frames (None without frames)."""
        return self.evidence.recording_html(task_id)

    def console(self, task_id: str) -> dict[str, Any] | None:
        """Return the ``console.json`` document (None when the session's evidence is gone)."""
        return self.evidence.console(task_id)

    def frames(self, task_id: str) -> list[tuple[int, bytes]]:
        return self.evidence.frames(task_id)

    def latest_frame(self, task_id: str) -> tuple[int, bytes] | None:
        return self.evidence.latest_frame(task_id)

    def watch(self, task_id: str) -> None:
        """Start filming the session for a live viewer (when it does not record anyway)."""
        session = self._sessions.get(task_id)
        if session is not None:
            session.watch()

    def is_open(self, task_id: str) -> bool:
        """Whether the task's browser session is still open."""
        return self.evidence.is_open(task_id)

    def page_of(self, task_id: str) -> Page | None:
        """Return the open session's Playwright page (for diagnostics and tests), else None."""
        session = self._sessions.get(task_id)
        if session is None or session.closed or session.warm is None:
            return None
        return session.warm.page

    async def wait_closed(self, task_id: str, timeout: float) -> bool:
        """Wait (bounded) until the task's session is torn down; False on timeout."""
        session = self._sessions.get(task_id)
        if session is None:
            return True
        try:
            await asyncio.wait_for(session.torn_down.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True
