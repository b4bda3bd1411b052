"""Shared pieces of the store tests: a frozen clock, a recording executor, request helpers."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from pytest_smooth.server.protocol.executor import ReplySink
from pytest_smooth.server.protocol.executor import SessionSpec
from pytest_smooth.server.protocol.routes import ROUTES
from pytest_smooth.server.protocol.store import Store

NANOID = "V1StGXR8_Z5jdHi6B-myT"  # 21 chars, like the SDK's event ids

# The exact keys smooth-py 0.4.5 sends for run("say hi", ...) (smooth-api.md §1.3).
SDK_BODY: dict[str, Any] = {
    "task": "say hi", "response_model": None, "url": "https://example.com",
    "metadata": {"k": "v"}, "files": None, "agent": "smooth", "max_steps": 32,
    "device": "desktop", "allowed_urls": ["https://**.example.com/**"], "enable_recording": True,
    "session_id": None, "profile_id": None, "profile_read_only": False, "stealth_mode": False,
    "use_stealth": True, "proxy_server": None, "proxy_username": None, "proxy_password": None,
    "certificates": None, "use_adblock": True, "use_captcha_solver": True,
    "additional_tools": None, "custom_tools": None, "experimental_features": None,
    "extensions": None, "show_cursor": False,
}  # fmt: skip


@dataclass
class Clock:
    now: int = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


@dataclass
class RecordingExecutor:
    """Records what the store asks; tests answer through the store (the ReplySink) by hand."""

    opened: list[SessionSpec] = field(default_factory=list)
    submitted: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    tool_results: list[tuple[str, str, int, Any]] = field(default_factory=list)
    closed: list[tuple[str, bool]] = field(default_factory=list)
    sinks: list[ReplySink] = field(default_factory=list)
    broken: bool = False

    def open_session(self, spec: SessionSpec, sink: ReplySink) -> None:
        if self.broken:
            raise RuntimeError("browser crashed")
        self.opened.append(spec)
        self.sinks.append(sink)

    def submit(
        self, task_id: str, event_id: str, action: str, action_input: dict[str, Any]
    ) -> None:
        if self.broken:
            raise RuntimeError("browser crashed")
        self.submitted.append((task_id, event_id, action, action_input))

    def tool_result(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        if self.broken:
            raise RuntimeError("browser crashed")
        self.tool_results.append((task_id, event_id, code, output))

    def close_session(self, task_id: str, *, graceful: bool) -> None:
        self.closed.append((task_id, graceful))


def call(store: Store, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
    query_text = {k: str(v) for k, v in query.items()}
    return ROUTES.dispatch(store, method, "/api/v1" + path, query_text, body)


def open_session(store: Store, **options: Any) -> str:
    status, body = call(store, "POST", "/task", {"task": None, **options})
    assert status == 200, body
    task_id: str = body["r"]["id"]
    return task_id


def send(store: Store, task_id: str, name: str, data: Any = None, event_id: str = NANOID) -> Any:
    kind = "session_action" if name in ("run_task", "close") else "browser_action"
    payload: dict[str, Any] = {"name": name} if data is None else {"name": name, "input": data}
    return call(
        store,
        "POST",
        f"/task/{task_id}/event",
        {"name": kind, "payload": payload, "id": event_id, "timestamp": None},
    )


def get(store: Store, task_id: str, event_t: int = 0, **query: Any) -> tuple[int, dict[str, Any]]:
    status, body = call(store, "GET", f"/task/{task_id}", event_t=event_t, **query)
    return status, body["r"]
