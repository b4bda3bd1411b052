"""Pydantic v2 models for every wire shape of the Smooth protocol.

Response models allow unknown fields, so a new server field never breaks a test run.
The local backend builds its replies from the same models, so client and server agree.
"""

from __future__ import annotations

from typing import Any
from typing import Generic
from typing import Literal
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from pytest_smooth._core.types import Device
from pytest_smooth._core.types import TaskStatus

T = TypeVar("T")


class WireModel(BaseModel):
    """Base of every wire model: tolerant of fields we do not know."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- envelopes -------------------------------------------------------------------------------


class Envelope(WireModel, Generic[T]):
    """A success body: ``{"r": <payload>}``."""

    r: T


class ErrorBody(WireModel):
    """An error body: ``{"detail": "<message>"}`` (FastAPI 422s may carry a list)."""

    detail: Any = None


# --- tasks and sessions ----------------------------------------------------------------------


class ToolSignature(WireModel):
    name: str
    description: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)
    output: str = ""


class Certificate(WireModel):
    file: str
    password: str | None = None
    filters: list[list[str]] | None = None


class TaskRequest(WireModel):
    """POST /task. ``task=None`` opens a session that waits for events."""

    task: str | None = None
    response_model: dict[str, Any] | None = None
    url: str | None = None
    metadata: dict[str, str | int | float | bool] | None = None
    files: list[str] | None = None
    agent: str = "smooth"
    max_steps: int = Field(default=32, ge=2, le=128)
    device: Device = "desktop"
    allowed_urls: list[str] | None = None
    enable_recording: bool = True
    profile_id: str | None = None
    profile_read_only: bool = False
    stealth_mode: bool = False
    use_stealth: bool = True
    proxy_server: str | None = None
    proxy_username: str | None = None
    proxy_password: str | None = None
    certificates: list[Certificate] | None = None
    use_adblock: bool | None = True
    use_captcha_solver: bool | None = True
    additional_tools: dict[str, dict[str, Any] | None] | None = None
    custom_tools: list[ToolSignature] | None = None
    experimental_features: dict[str, Any] | None = None
    extensions: list[str] | None = None
    show_cursor: bool = False


class TaskEvent(WireModel):
    """One event of a task. Timestamps are Unix milliseconds."""

    name: str
    payload: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    timestamp: int | None = None


class TaskResponse(WireModel):
    """GET /task/{id} (HTTP 202 while waiting/running, 200 when finished)."""

    id: str
    status: TaskStatus
    output: Any = None
    credits_used: int | float | None = None
    device: Device | None = None
    live_url: str | None = None
    recording_url: str | None = None
    downloads_url: str | None = None
    created_at: int | None = None
    tool_calls: dict[str, Any] | None = None
    events: list[TaskEvent] | None = None


class EventAck(WireModel):
    """POST /task/{id}/event reply; ``reply`` only with our ``wait_ms`` extension."""

    id: str
    reply: TaskEvent | None = None


# --- action requests (client -> server events) -------------------------------------------------

EventName = Literal["browser_action", "session_action", "tool_call"]
BROWSER_ACTIONS: frozenset[str] = frozenset({"goto", "extract", "evaluate_js", "exec_js"})
SESSION_ACTIONS: frozenset[str] = frozenset({"run_task", "close"})


class GotoInput(WireModel):
    url: str


class ExtractInput(WireModel):
    schema_: dict[str, Any] = Field(alias="schema")
    prompt: str | None = None


class EvaluateJsInput(WireModel):
    js: str
    args: dict[str, Any] | list[Any] | None = None


class SecretValue(WireModel):
    value: str
    allowed_urls: list[str] = Field(default_factory=lambda: ["*"])


class RunTaskInput(WireModel):
    task: str
    max_steps: int = Field(default=32, ge=2, le=128)
    response_model: dict[str, Any] | None = None
    url: str | None = None
    metadata: dict[str, Any] | None = None
    secrets: dict[str, SecretValue] | None = None


class RequestEvent(WireModel):
    """POST /task/{id}/event body. The client sets ``id``; the server sets timestamps."""

    name: EventName
    payload: dict[str, Any]
    id: str | None = None
    timestamp: int | None = None


# --- action replies (server -> client events) -------------------------------------------------


class ActionOutput(WireModel):
    """``payload.output`` of a code-200 reply: nested, as the SDK requires."""

    output: Any = None
    credits_used: float = 0.0
    duration: float = 0.0


# --- profiles, files, extensions ---------------------------------------------------------------


class ProfileRequest(WireModel):
    id: str | None = None


class ProfileResponse(WireModel):
    id: str
    cookie_domains: list[str] | None = None
    cookie_count: int | None = None
    profile_size_bytes: int | None = None
    last_saved_at: int | None = None


class UploadResponse(WireModel):
    id: str


class Extension(WireModel):
    id: str
    file_name: str
    creation_time: int


class TelemetryBody(WireModel):
    events: list[dict[str, Any]] = Field(default_factory=list)


# --- the client's event log ---------------------------------------------------------------------

Outcome = Literal["ok", "error", "timeout", "pending"]


class ActionRecord(BaseModel):
    """One entry of a session's event log, ready for reports (inputs already redacted)."""

    model_config = ConfigDict(extra="forbid")

    action: str
    input: dict[str, Any] = Field(default_factory=dict)
    event_id: str | None = None
    outcome: Outcome = "pending"
    error: str | None = None
    output_preview: str | None = None
    started_at: float
    duration: float | None = None
    server_duration: float | None = None
    credits_used: float = 0.0
    test_nodeid: str | None = None
    # What the local backend only approximated: ``{"what", "detail"}`` per part (fidelity).
    approximations: list[dict[str, str]] = Field(default_factory=list)
