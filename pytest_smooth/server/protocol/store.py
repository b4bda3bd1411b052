"""The local backend's protocol core: a pure, synchronous state machine (no I/O, no asyncio).

``Store.handle(method, path, query, body) -> (status, json_body)`` serves every route of the
Smooth API under ``/api/v1`` (smooth-api.md §1.2) plus ``/local/stats``. The store tells an
``Executor`` what to do and receives its results through ``ReplySink`` (it implements it), so
a reply always lands as an event that the client sees on a later poll. ``on_change(task_id)``
fires whenever a task gains an event or changes status, so the ASGI layer can wake long polls.
Public helpers for the live view: ``check_token``, ``task_snapshot``, ``has_task``.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from pytest_smooth._core.models import TaskRequest
from pytest_smooth.server.protocol.executor import Executor
from pytest_smooth.server.protocol.executor import SessionSpec
from pytest_smooth.server.protocol.resources import Reply
from pytest_smooth.server.protocol.resources import Resources
from pytest_smooth.server.protocol.resources import SaveBlob
from pytest_smooth.server.protocol.resources import err
from pytest_smooth.server.protocol.resources import new_id
from pytest_smooth.server.protocol.resources import ok
from pytest_smooth.server.protocol.routes import route
from pytest_smooth.server.protocol.tasks import CLOSE_GRACE_MS
from pytest_smooth.server.protocol.tasks import TaskState
from pytest_smooth.server.protocol.tasks import describe_validation
from pytest_smooth.server.protocol.tasks import int_param
from pytest_smooth.server.protocol.tasks import task_response

DEFAULT_IDLE_TIMEOUT_MS = 300_000
MAX_TASK_LIST = 128
# Finished tasks kept for GETs, lists and recording pages; older ones are forgotten, so a
# long-running server does not grow without bound.
DEFAULT_KEEP_FINISHED = 2000


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Store:
    """Tasks, events and resources of the local backend; also the executor's ``ReplySink``."""

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

    def handle(self, method: str, path: str, query: Mapping[str, str], body: Any) -> Reply:
        """Serve one API request (``path`` includes ``/api/v1``); return (status, body)."""
        return route(self, method, path, query, body)

    # --- tasks ----------------------------------------------------------------------------

    def create_task(self, body: Any) -> Reply:
        if not isinstance(body, dict):
            return err(422, "the task body must be a JSON object (a TaskRequest)")
        try:
            request = TaskRequest.model_validate(body)
        except ValidationError as exc:
            return err(422, describe_validation("TaskRequest", exc))
        if request.proxy_server == "self":
            return err(400, "proxy_server='self' (the P2P tunnel) is not available locally")
        unknown = [f for f in request.files or [] if f not in self.resources.files]
        unknown += [e for e in request.extensions or [] if e not in self.resources.extensions]
        if unknown:
            return err(400, f"unknown file or extension ids: {', '.join(unknown)}")
        now = self.clock()
        task = TaskState(new_id("task"), request, secrets.token_urlsafe(24), now, now)
        self.tasks[task.id] = task
        reply = ok(task_response(task, self.root_url, event_t=None))
        storage_state = None
        if request.profile_id:
            storage_state = self.resources.profile_for_task(request.profile_id).storage_state
        paths = {f: self.resources.files[f].path or "" for f in request.files or []}
        spec = SessionSpec(task.id, request, storage_state, paths)
        task.status = "running"
        try:
            self.require_executor().open_session(spec, self)
        except Exception as exc:  # an executor bug must not leave a task running forever
            self.finish(task, "failed", f"could not open the session: {exc}")
        return reply

    def list_tasks(self, query: Mapping[str, str]) -> Reply:
        before = int_param(query, "t", 0)
        limit = int_param(query, "l", 32)
        if before is None or limit is None or not 1 <= limit <= MAX_TASK_LIST:
            return err(422, f"t must be an integer and l an integer in 1..{MAX_TASK_LIST}")
        tasks = sorted(self.tasks.values(), key=lambda t: t.created_at, reverse=True)
        chosen = [t for t in tasks if not before or t.created_at < before][:limit]
        return ok([task_response(t, self.root_url, event_t=None) for t in chosen])

    def get_task(self, task_id: str, query: Mapping[str, str]) -> Reply:
        task = self.tasks.get(task_id)
        if task is None:
            return err(404, "Task not found")
        event_t = int_param(query, "event_t", 0)
        if event_t is None:
            return err(422, "event_t must be an integer (Unix milliseconds)")
        now = task.last_activity = self.clock()
        if task.pending_finish and self._close_acknowledged(task, event_t, now):
            self.finish(task, *task.pending_finish)
        downloads = query.get("downloads", "").lower() in ("true", "1")
        body = task_response(task, self.root_url, event_t=event_t, downloads=downloads)
        if (
            task.pending_finish
            and task.close_reply_served_at is None
            and event_t < task.close_reply_ts
        ):
            task.close_reply_served_at = now
        return ok(body, 200 if task.finished else 202)

    @staticmethod
    def _close_acknowledged(task: TaskState, event_t: int, now: int) -> bool:
        """Tell whether a graceful close may now show ``done``.

        The close reply must go out with status running: smooth-py cancels pending calls when
        a finished status comes with the reply, and its first GET after connecting ignores
        events. So "done" waits until the client's cursor passed the reply, or a grace period.
        """
        if event_t >= task.close_reply_ts:
            return True
        served = task.close_reply_served_at
        return served is not None and now - served >= CLOSE_GRACE_MS

    def delete_task(self, task_id: str) -> Reply:
        task = self.tasks.get(task_id)
        if task is None:
            return err(404, "Task not found")
        if task.pending_finish:
            self.finish(task, *task.pending_finish)
        elif not task.finished:
            self.finish(task, "cancelled", task.output)
        return ok(True)

    def delete_task_data(self, task_id: str) -> Reply:
        task = self.tasks.get(task_id)
        if task is None:
            return err(404, "Task not found")
        if not task.finished:
            return err(400, "the task is still running; delete it first")
        task.events.clear()
        task.events_by_id.clear()
        task.output = None
        return ok(True)

    def open_browser_session(self, body: Any) -> Reply:
        """Open a session for the deprecated POST /browser/session; answer in its old shape."""
        options = body if isinstance(body, dict) else {}
        status, reply = self.create_task({"profile_id": options.get("profile_id")})
        if status != 200:
            return status, reply
        task = reply["r"]
        live = f"{self.root_url}/live/{task['id']}?token={self.tasks[task['id']].token}"
        return ok(
            {"profile_id": options.get("profile_id"), "live_id": task["id"], "live_url": live}
        )

    # --- events ---------------------------------------------------------------------------

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

    # --- for the live view and the ASGI layer ---------------------------------------------

    def has_task(self, task_id: str) -> bool:
        return task_id in self.tasks

    def check_token(self, task_id: str, token: str) -> bool:
        """Whether ``token`` is the task's live/recording token (constant-time compare)."""
        task = self.tasks.get(task_id)
        return task is not None and hmac.compare_digest(task.token.encode(), token.encode())

    def task_snapshot(self, task_id: str) -> dict[str, Any] | None:
        """Return the TaskResponse with all events, without side effects (None if unknown)."""
        task = self.tasks.get(task_id)
        return None if task is None else task_response(task, self.root_url, event_t=0)

    def stats(self) -> dict[str, Any]:
        # A gracefully closed session is no longer open, though it shows "done" only later.
        open_sessions = sum(1 for t in self.tasks.values() if not t.executor_closed)
        stats: dict[str, Any] = {
            "open_sessions": open_sessions,
            "contexts": open_sessions,
            "tasks": len(self.tasks),
            "executions": dict(self.executions),
            "pid": os.getpid(),
            "browser_pid": None,
        }
        if self.extra_stats is not None:
            stats.update(self.extra_stats())
        return stats
