"""What sessions leave behind (screencast frames, trace chunks), kept within budgets."""

from __future__ import annotations

from .session import Evidence

# Evidence of this many finished sessions is kept (frames in memory, traces on disk) ...
KEEP_EVIDENCE = 200
# ... and their frames take at most this much memory together.
EVIDENCE_BYTES = 256 * 1024 * 1024


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
        return evidence

    def get(self, task_id: str) -> Evidence | None:
        return self._items.get(task_id)

    async def trace_zip(self, task_id: str) -> bytes | None:
        """Return the trace so far (None when unknown or not recorded)."""
        evidence = self._items.get(task_id)
        trace = evidence.trace if evidence is not None else None
        if evidence is None or trace is None:
            return None
        if evidence.open:
            return await trace.export(evidence.frames.frames)
        return trace.merged(evidence.frames.frames) if trace.chunks else None

    def frames(self, task_id: str) -> list[tuple[int, bytes]]:
        evidence = self._items.get(task_id)
        return evidence.frames.frames if evidence is not None else []

    def latest_frame(self, task_id: str) -> tuple[int, bytes] | None:
        evidence = self._items.get(task_id)
        return evidence.frames.latest if evidence is not None else None

    def is_open(self, task_id: str) -> bool:
        evidence = self._items.get(task_id)
        return evidence is not None and evidence.open
