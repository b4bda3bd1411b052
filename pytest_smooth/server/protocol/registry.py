"""The store's tasks and their lifecycle, and the executor's side of the seam (``ReplySink``).

``TaskRegistry`` is the base of ``Store``: it keeps the tasks, moves them to a final status,
closes their executor sessions, reaps idle ones and takes the executor's results (replies,
tool calls, finishes, profile saves) as events. ``on_change(task_id)`` fires whenever a task
gains an event or changes status, so the HTTP layer can wake the requests held on it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from pytest_smooth.server.protocol.executor import Executor
from pytest_smooth.server.protocol.resources import Resources
from pytest_smooth.server.protocol.resources import SaveBlob
from pytest_smooth.server.protocol.resources import new_id
from pytest_smooth.server.protocol.tasks import TaskState

DEFAULT_IDLE_TIMEOUT_MS = 300_000
# Finished tasks kept for GETs, lists and recording pages; older ones are forgotten, so a
# long-running server does not grow without bound.
DEFAULT_KEEP_FINISHED = 2000


def wall_clock_ms() -> int:
    """Return the wall clock in Unix milliseconds (the wire's timestamps)."""
    return time.time_ns() // 1_000_000


class TaskRegistry:
    """The tasks of the local backend, their lifecycle, and the executor's ``ReplySink``."""

    def __init__(
        self,
        executor: Executor | None = None,
        *,
        root_url: str = "http://127.0.0.1",
        clock: Callable[[], int] = wall_clock_ms,
        idle_timeout_ms: int = DEFAULT_IDLE_TIMEOUT_MS,
        on_change: Callable[[str], None] | None = None,
        save_blob: SaveBlob | None = None,
        extra_stats: Callable[[], Mapping[str, Any]] | None = None,
        keep_finished: int = DEFAULT_KEEP_FINISHED,
    ) -> None:
        self.executor = executor
        self.root_url = root_url.rstrip("/")
        self.clock = clock
        self.idle_timeout_ms = idle_timeout_ms
        self.on_change = on_change
        self.extra_stats = extra_stats
        self.resources: Resources = Resources(clock, save_blob)
        self.tasks: dict[str, TaskState] = {}
        # Executions per request event id: a duplicate id must never reach the executor twice.
        self.executions: dict[str, int] = {}
        self.keep_finished = keep_finished
        self._finished: deque[str] = deque()

    # --- ReplySink ------------------------------------------------------------------------

    def post_reply(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        task = self.tasks.get(task_id)
        if task is None or task.finished or event_id in task.replied:
            return  # late, unknown or duplicate replies are dropped
        task.replied.add(event_id)
        if code == 200 and isinstance(output, dict):
            task.credits += float(output.get("credits_used") or 0)
        name = task.requests.get(event_id, "browser_action")
        task.append(self.clock(), event_id, name, {"code": code, "output": output})
        self._changed(task)

    def emit_tool_call(self, task_id: str, tool_name: str, tool_input: dict[str, Any]) -> str:
        event_id = new_id("tool")
        task = self.tasks.get(task_id)
        if task is None or task.finished:
            return event_id
        task.tool_calls[event_id] = tool_name
        task.append(self.clock(), event_id, "tool_call", {"name": tool_name, "input": tool_input})
        self._changed(task)
        return event_id

    def finish_task(self, task_id: str, status: str, output: Any = None, credits: int = 0) -> None:
        task = self.tasks.get(task_id)
        if task is None or task.finished or task.pending_finish:
            return  # a graceful close already decided the outcome
        task.credits += credits
        self.finish(task, status, output)

    def save_profile_state(self, profile_id: str, storage_state: dict[str, Any]) -> None:
        self.resources.save_profile_state(profile_id, storage_state)

    def note_download(self, task_id: str, name: str) -> None:
        task = self.tasks.get(task_id)
        if task is not None:
            task.downloads.append(name)
            self._changed(task)

    # --- lifecycle ------------------------------------------------------------------------

    def reap_idle(self, now_ms: int) -> list[str]:
        """Close unfinished tasks nobody touched for ``idle_timeout_ms``; return their ids."""
        reaped = []
        for task in list(self.tasks.values()):
            if task.finished or now_ms - task.last_activity <= self.idle_timeout_ms:
                continue
            if task.pending_finish:
                self.finish(task, *task.pending_finish)
            else:
                self.finish(task, "cancelled", "closed after the idle timeout (no client)")
            reaped.append(task.id)
        return reaped

    def finish(self, task: TaskState, status: str, output: Any) -> None:
        """Move ``task`` to a final status now and tear its session down."""
        task.status = status
        task.output = output
        task.accepting = False
        task.pending_finish = None
        self.close_executor(task, graceful=False)
        self._changed(task)
        self._finished.append(task.id)
        while len(self._finished) > self.keep_finished:
            old = self.tasks.pop(self._finished.popleft())
            for event_id in old.requests:
                self.executions.pop(event_id, None)

    def close_executor(self, task: TaskState, *, graceful: bool) -> None:
        """Tell the executor to close the session, once per task."""
        if task.executor_closed:
            return
        task.executor_closed = True
        try:
            self.require_executor().close_session(task.id, graceful=graceful)
        except Exception:
            pass

    def _changed(self, task: TaskState) -> None:
        task.last_activity = max(task.last_activity, self.clock())
        if self.on_change is not None:
            self.on_change(task.id)

    def require_executor(self) -> Executor:
        """Return the executor (set by the server once it has one)."""
        if self.executor is None:
            raise RuntimeError("the store has no executor")
        return self.executor
