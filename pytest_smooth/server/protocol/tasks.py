"""One task's state and the pure helpers the store builds its task replies with."""

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

# Input model per action name; ``close`` takes no input.
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

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def next_ts(self, now_ms: int) -> int:
        """Return a timestamp strictly greater than the previous event's."""
        self.last_ts = max(now_ms, self.last_ts + 1)
        return self.last_ts

    def append(self, now_ms: int, event_id: str, name: str, payload: dict[str, Any]) -> int:
        ts = self.next_ts(now_ms)
        event = {"id": event_id, "name": name, "payload": payload, "timestamp": ts}
        self.events.append(event)
        self.events_by_id[event_id] = event
        self.last_activity = now_ms
        return ts


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
        # Nothing is ever downloaded locally: "" (no archive) once finished, null before.
        "downloads_url": ("" if finished else None) if downloads else None,
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
    if model is None:
        return action, {}
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
