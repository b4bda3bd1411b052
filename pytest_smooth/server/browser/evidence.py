"""What sessions leave behind (frames, trace chunks, console), kept within budgets.

Everything leaves here through the session's ``Redactor``: the trace (every zip member),
console entries and the recording's text carry no secret the session was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from pytest_smooth._core.redact import Redactor
from pytest_smooth.server.browser.console import ConsoleLog
from pytest_smooth.server.browser.downloads import Downloads
from pytest_smooth.server.browser.recording_html import recording_html
from pytest_smooth.server.browser.screencast import FrameBuffer
from pytest_smooth.server.browser.traces import TraceRecorder

# Evidence of this many finished sessions is kept (frames in memory, traces on disk) ...
KEEP_EVIDENCE = 200
# ... and their frames take at most this much memory together.
EVIDENCE_BYTES = 256 * 1024 * 1024


@dataclass
class Evidence:
    """What a session leaves behind for the live view, the recording and failure reports."""

    frames: FrameBuffer = field(default_factory=FrameBuffer)
    trace: TraceRecorder | None = None
    open: bool = True
    keep: bool = True  # False: the client said at close that nobody will read it
    secrets: Redactor = field(default_factory=Redactor)
    console: ConsoleLog = field(default_factory=ConsoleLog)
    downloads: Downloads | None = None  # the files it downloaded (a folder of its own)
    # (merged trace, secret count) -> its redacted copy, so a repeated export is not redone.
    _redacted_trace: tuple[bytes, int, bytes] | None = field(default=None, repr=False)

    def discard(self) -> None:
        """Drop the recording and the trace (the console log and downloads stay)."""
        self.keep = False
        self.frames.record = False
        self.frames.clear()
        if self.trace is not None:
            self.trace.delete()
        self.trace = None

    def redacted_trace(self, merged: bytes) -> bytes:
        """Return ``merged`` (a trace.zip) with the session's secrets blanked in every member."""
        cached = self._redacted_trace
        count = len(self.secrets)
        if cached is not None and cached[0] is merged and cached[1] == count:
            return cached[2]
        redacted = self.secrets.redact_zip(merged)
        self._redacted_trace = (merged, count, redacted)
        return redacted


class EvidenceStore:
    """Evidence per task id; the oldest finished sessions' evidence goes first."""

    def __init__(self, keep: int = KEEP_EVIDENCE, max_bytes: int = EVIDENCE_BYTES) -> None:
        self.keep = keep
        self.max_bytes = max_bytes
        self._items: dict[str, Evidence] = {}

    def add(self, task_id: str) -> Evidence:
        """Register a new session's evidence; drop the oldest finished ones past the budgets."""
        evidence = self._items[task_id] = Evidence()
        finished = [k for k, e in self._items.items() if not e.open]  # oldest first
        kept_bytes = sum(self._items[k].frames.size_bytes for k in finished)
        while finished and (len(self._items) > self.keep or kept_bytes > self.max_bytes):
            dropped = self._items.pop(finished.pop(0))
            kept_bytes -= dropped.frames.size_bytes
            if dropped.trace is not None:
                dropped.trace.delete()
            if dropped.downloads is not None:
                dropped.downloads.delete()
        return evidence

    def get(self, task_id: str) -> Evidence | None:
        return self._items.get(task_id)

    async def trace_zip(self, task_id: str) -> bytes | None:
        """Return the trace so far, secrets redacted (None when unknown or not recorded)."""
        evidence = self._items.get(task_id)
        trace = evidence.trace if evidence is not None else None
        if evidence is None or trace is None:
            return None
        if evidence.open:
            merged = await trace.export(evidence.frames.frames)
        elif trace.chunks:
            merged = trace.merged(evidence.frames.frames)
        else:
            return None
        return evidence.redacted_trace(merged)

    async def downloads_zip(self, task_id: str) -> bytes | None:
        """Return the session's downloaded files as one zip (None: none, or gone)."""
        evidence = self._items.get(task_id)
        if evidence is None or evidence.downloads is None:
            return None
        return await evidence.downloads.zip()

    def recording_html(self, task_id: str) -> str | None:
        """Return the self-contained replay of the session's frames (None without frames)."""
        evidence = self._items.get(task_id)
        if evidence is None or not evidence.frames.frames:
            return None
        return recording_html(task_id, evidence.frames.frames, evidence.secrets)

    def console(self, task_id: str) -> dict[str, Any] | None:
        """Return the ``console.json`` document (None when the task's evidence is gone)."""
        evidence = self._items.get(task_id)
        if evidence is None:
            return None
        entries = evidence.console.entries(evidence.secrets)
        return {"task_id": task_id, "entries": entries, "dropped": evidence.console.dropped}

    def frames(self, task_id: str) -> list[tuple[int, bytes]]:
        evidence = self._items.get(task_id)
        return evidence.frames.frames if evidence is not None else []

    def latest_frame(self, task_id: str) -> tuple[int, bytes] | None:
        evidence = self._items.get(task_id)
        return evidence.frames.latest if evidence is not None else None

    def is_open(self, task_id: str) -> bool:
        evidence = self._items.get(task_id)
        return evidence is not None and evidence.open
