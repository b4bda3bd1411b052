"""The local backend's protocol core: a pure, synchronous state machine (no I/O, no asyncio).

``Store`` answers every Smooth API request as a method returning ``(status, json_body)``; the
route table (``routes.py``) maps method and path onto those methods, and ``handler.py`` adds
the held requests. The layers, each a base of the next: ``TaskRegistry`` (tasks, lifecycle,
the executor's ``ReplySink``), ``EventIntake`` (client events), ``Store`` (task endpoints,
the live view's lookups, stats). The store tells an ``Executor`` what to do and receives its
results through ``ReplySink``, so a reply always lands as an event seen on a later poll.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from pytest_smooth._core.models import TaskRequest
from pytest_smooth.server.protocol.events import EventIntake
from pytest_smooth.server.protocol.executor import SessionSpec
from pytest_smooth.server.protocol.resources import Reply
from pytest_smooth.server.protocol.resources import err
from pytest_smooth.server.protocol.resources import new_id
from pytest_smooth.server.protocol.resources import ok
from pytest_smooth.server.protocol.tasks import TaskState
from pytest_smooth.server.protocol.tasks import describe_validation
from pytest_smooth.server.protocol.tasks import int_param
from pytest_smooth.server.protocol.tasks import task_response

MAX_TASK_LIST = 128


class Store(EventIntake):
    """Tasks, events and resources of the local backend; also the executor's ``ReplySink``."""

    # --- tasks ----------------------------------------------------------------------------

    def create_task(self, body: Any) -> Reply:
        """Run a one-shot task or open a session (``task`` null); answer its TaskResponse."""
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
        if request.profile_id and not self.resources.has_profile(request.profile_id):
            # As the cloud: a profile is made with POST /profile first, never on first use.
            return err(404, f"Profile not found: {request.profile_id!r} (POST /profile creates it)")
        now = self.clock()
        task = TaskState(new_id("task"), request, secrets.token_urlsafe(24), now, now)
        self.tasks[task.id] = task
        reply = ok(task_response(task, self.root_url, event_t=None))
        spec = self._session_spec(task)
        task.status = "running"
        try:
            self.require_executor().open_session(spec, self)
        except Exception as exc:  # an executor bug must not leave a task running forever
            self.finish(task, "failed", f"could not open the session: {exc}")
        return reply

    def _session_spec(self, task: TaskState) -> SessionSpec:
        request = task.request
        storage_state = None
        if request.profile_id:
            storage_state = self.resources.profile_for_task(request.profile_id).storage_state
        paths = {f: self.resources.files[f].path or "" for f in request.files or []}
        stored = self.resources.extensions
        extensions = {e: stored[e].path or "" for e in request.extensions or []}
        return SessionSpec(task.id, request, storage_state, paths, extensions)

    def list_tasks(self, query: Mapping[str, str]) -> Reply:
        """List tasks, newest first: ``t`` created before (ms), ``l`` at most so many."""
        before = int_param(query, "t", 0)
        limit = int_param(query, "l", 32)
        if before is None or limit is None or not 1 <= limit <= MAX_TASK_LIST:
            return err(422, f"t must be an integer and l an integer in 1..{MAX_TASK_LIST}")
        tasks = sorted(self.tasks.values(), key=lambda t: t.created_at, reverse=True)
        chosen = [t for t in tasks if not before or t.created_at < before][:limit]
        return ok([task_response(t, self.root_url, event_t=None) for t in chosen])

    def get_task(self, task_id: str, query: Mapping[str, str]) -> Reply:
        """Answer the task's status and its events newer than ``event_t`` (202: running)."""
        task = self.tasks.get(task_id)
        if task is None:
            return err(404, "Task not found")
        event_t = int_param(query, "event_t", 0)
        if event_t is None:
            return err(422, "event_t must be an integer (Unix milliseconds)")
        now = task.last_activity = self.clock()
        if task.pending_finish and task.close_acknowledged(event_t, now):
            self.finish(task, *task.pending_finish)
        downloads = query.get("downloads", "").lower() in ("true", "1")
        body = task_response(task, self.root_url, event_t=event_t, downloads=downloads)
        if event_t < task.close_reply_ts:
            task.note_close_reply_served(now)
        return ok(body, 200 if task.finished else 202)

    def delete_task(self, task_id: str) -> Reply:
        """Cancel the task, or force-close the session (a pending graceful close completes)."""
        task = self.tasks.get(task_id)
        if task is None:
            return err(404, "Task not found")
        if task.pending_finish:
            self.finish(task, *task.pending_finish)
        elif not task.finished:
            self.finish(task, "cancelled", task.output)
        return ok(True)

    def delete_task_data(self, task_id: str) -> Reply:
        """Wipe a finished task's events and output."""
        task = self.tasks.get(task_id)
        if task is None:
            return err(404, "Task not found")
        if not task.finished:
            return err(400, "the task is still running; delete it first")
        task.wipe_data()
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

    # --- for the live view and the HTTP layer (``TaskLookup``) -----------------------------

    def has_task(self, task_id: str) -> bool:
        """Tell whether the store knows ``task_id``."""
        return task_id in self.tasks

    def check_token(self, task_id: str, token: str) -> bool:
        """Whether ``token`` is the task's live/recording token (constant-time compare)."""
        task = self.tasks.get(task_id)
        return task is not None and hmac.compare_digest(task.token.encode(), token.encode())

    def task_status(self, task_id: str) -> str | None:
        """Return the task's status without side effects (None if unknown)."""
        task = self.tasks.get(task_id)
        return None if task is None else task.status

    def task_snapshot(self, task_id: str) -> dict[str, Any] | None:
        """Return the TaskResponse with all events, without side effects (None if unknown)."""
        task = self.tasks.get(task_id)
        return None if task is None else task_response(task, self.root_url, event_t=0)

    def stats(self) -> dict[str, Any]:
        """Return the ``/local/stats`` figures: open sessions, tasks, executions per event id."""
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
