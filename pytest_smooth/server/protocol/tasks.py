"""One task's state in the store (``TaskState``) and the pure helpers of its wire replies.

"Task" here is the store's record of one Smooth task or session, not the instruction text a
one-shot task runs (``server/agent/language.py``) nor the runner of that text
(``server/agent/runner.py``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError

from pytest_smooth._core.constants import FINISHED_STATUSES
from pytest_smooth._core.models import BROWSER_ACTIONS
from pytest_smooth._core.models import SESSION_ACTIONS
from pytest_smooth._core.models import EvaluateJsInput
from pytest_smooth._core.models import ExtractInput
from pytest_smooth._core.models import GotoInput
from pytest_smooth._core.models import RunTaskInput
from pytest_smooth._core.models import TaskRequest

# Input model per action name; ``close`` takes none (but for ``keep_evidence``).
ACTION_INPUTS: dict[str, type[BaseModel] | None] = {
    "goto": GotoInput,
    "extract": ExtractInput,
    "evaluate_js": EvaluateJsInput,
    "exec_js": EvaluateJsInput,
    "run_task": RunTaskInput,
    "close": None,
}
KNOWN_ACTIONS = {"browser_action": BROWSER_ACTIONS, "session_action": SESSION_ACTIONS}
CLOSE_REPLY: dict[str, Any] = {"output": True, "credits_used": 0, "duration": 0}
# A client that never moves its cursor past the close reply still sees "done" after this.
CLOSE_GRACE_MS = 5000


@dataclass
class TaskState:
    """Everything the store knows about one task or session."""

    id: str
    request: TaskRequest
    token: str
    created_at: int
    last_activity: int
    status: str = "waiting"
    output: Any = None
    credits: float = 0.0
    # Server -> client events only (replies, tool calls), ascending by timestamp.
    events: list[dict[str, Any]] = field(default_factory=list)
    # The newest event of each id: a held POST looks its reply up here, not by a scan.
    events_by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_ts: int = 0
    # False once the client closed or deleted the session: further actions get 400.
    accepting: bool = True
    executor_closed: bool = False
    # A graceful close: (status, output) applied once the client has the close reply (see
    # Store.get_task); when the reply was first served, in ms (None: not yet).
    pending_finish: tuple[str, Any] | None = None
    close_reply_ts: int = 0
    close_reply_served_at: int | None = None
    # Request event id -> event name (dedupe, and the reply's name); ids already answered.
    requests: dict[str, str] = field(default_factory=dict)
    replied: set[str] = field(default_factory=set)
    # Open agent -> client tool calls: event id -> tool name.
    tool_calls: dict[str, str] = field(default_factory=dict)
    answered_tool_calls: set[str] = field(default_factory=set)
    # Names of the files the session downloaded (its downloads.zip), in order.
    downloads: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def next_ts(self, now_ms: int) -> int:
        """Return a timestamp strictly greater than the previous event's."""
        self.last_ts = max(now_ms, self.last_ts + 1)
        return self.last_ts

    def append(self, now_ms: int, event_id: str, name: str, payload: dict[str, Any]) -> int:
        """Append a server -> client event; return its timestamp."""
        ts = self.next_ts(now_ms)
        event = {"id": event_id, "name": name, "payload": payload, "timestamp": ts}
        self.events.append(event)
        self.events_by_id[event_id] = event
        self.last_activity = now_ms
        return ts

    def close_acknowledged(self, event_t: int, now_ms: int) -> bool:
        """Tell whether a graceful close may now show ``done``.

        The close reply must go out with status running: smooth-py cancels pending calls when
        a finished status comes with the reply, and its first GET after connecting ignores
        events. So "done" waits until the client's cursor passed the reply, or a grace period.
        """
        if event_t >= self.close_reply_ts:
            return True
        served = self.close_reply_served_at
        return served is not None and now_ms - served >= CLOSE_GRACE_MS

    def note_close_reply_served(self, now_ms: int) -> None:
        """Remember when the close reply first went out to a client (starts the grace period)."""
        if self.pending_finish and self.close_reply_served_at is None:
            self.close_reply_served_at = now_ms

    def held_reply(
        self, event_id: str, since: int, now_ms: int
    ) -> tuple[bool, dict[str, Any] | None]:
        """Tell whether a held POST of action ``event_id`` can answer now, and with which reply.

        ``(True, event)`` once the reply is there (it stays in the event stream too); ``(True,
        None)`` when no reply will come for this hold: the task is finished, the id is no
        action request, or another event came after ``since`` (a tool call: the client must
        poll to see it); ``(False, None)`` to keep waiting.
        """
        if event_id not in self.requests:
            return True, None
        event = self.events_by_id.get(event_id)
        if event is not None:
            if self.pending_finish and event["timestamp"] == self.close_reply_ts:
                self.note_close_reply_served(now_ms)
            return True, event
        newer = bool(self.events) and self.events[-1]["timestamp"] > since
        return self.finished or newer, None

    def wipe_data(self) -> None:
        """Forget the events and the output of a finished task (DELETE /task/{id}/data)."""
        self.events.clear()
        self.events_by_id.clear()
        self.output = None


def _timestamp(event: dict[str, Any]) -> int:
    stamp: int = event["timestamp"]
    return stamp


def task_response(
    task: TaskState,
    root_url: str,
    *,
    event_t: int | None = 0,
    downloads: bool = False,
) -> dict[str, Any]:
    """Build the TaskResponse wire shape; ``event_t=None`` leaves events out (lists)."""
    finished = task.finished
    token_query = f"?token={task.token}"
    if not finished:
        recording: str | None = None
    elif task.request.enable_recording:
        recording = f"{root_url}/recording/{task.id}{token_query}"
    else:
        recording = ""
    body: dict[str, Any] = {
        "id": task.id,
        "status": task.status,
        "output": task.output,
        "credits_used": round(task.credits),
        "device": task.request.device,
        "live_url": None if finished else f"{root_url}/live/{task.id}{token_query}",
        "recording_url": recording,
        "downloads_url": _downloads_url(task, root_url) if downloads else None,
        "created_at": task.created_at,
        "tool_calls": None,
    }
    if event_t is None:
        # Listings carry the session's metadata (an extra field; models allow extras), so a
        # run can find its own sessions by the tags it set (the plugin's orphan reaper).
        body["metadata"] = task.request.metadata
    else:
        # Events are in ascending timestamp order: a binary search finds the first newer one.
        body["events"] = task.events[bisect_right(task.events, event_t, key=_timestamp) :]
    return body


def _downloads_url(task: TaskState, root_url: str) -> str | None:
    """Return the archive's URL once a file was downloaded; else "" when finished, null before.

    The URL carries the task's token, as the recording's does: a plain GET fetches it.
    """
    if task.downloads:
        return f"{root_url}/api/v1/task/{task.id}/artifacts/downloads.zip?token={task.token}"
    return "" if task.finished else None


def describe_validation(what: str, exc: ValidationError) -> str:
    """Summarise a pydantic error on one line: ``invalid what: field: message; ...``."""
    parts = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{loc}: {error['msg']}")
    return f"invalid {what}: " + "; ".join(parts)


def parse_action(name: str, payload: Any) -> tuple[str, dict[str, Any]] | tuple[int, str]:
    """Validate a browser/session action payload: ``(action, input)`` or ``(status, detail)``."""
    if not isinstance(payload, dict):
        return 422, f"{name} payload must be an object like {{'name': ..., 'input': {{...}}}}"
    action = payload.get("name")
    known = KNOWN_ACTIONS[name]
    if action not in known:
        return 400, f"unknown {name} {action!r}; known: {', '.join(sorted(known))}"
    raw_input = payload.get("input")
    model = ACTION_INPUTS[action]
    if model is None:  # close: only our keep_evidence extension is read (wire-extensions.md)
        keep = raw_input.get("keep_evidence") if isinstance(raw_input, dict) else None
        return action, {} if keep is not False else {"keep_evidence": False}
    if not isinstance(raw_input, dict):
        return 422, f"{action} needs an 'input' object"
    try:
        parsed = model.model_validate(raw_input)
    except ValidationError as exc:
        return 422, describe_validation(f"{action} input", exc)
    return action, parsed.model_dump(by_alias=True)


def int_param(query: Mapping[str, str], name: str, default: int) -> int | None:
    """Read an integer query parameter (None when it is not an integer)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None
