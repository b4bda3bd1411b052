"""The official SDK (smooth-py 0.4.5) against LocalServer with a scripted executor.

This is the conformance check that matters most: the SDK's poller relies on details the docs
do not state (smooth-api.md §2.2, §4 cases 3-17 and 22). About 10 s, because the SDK polls
once a second.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest

from pytest_smooth.server.local import LocalServer
from pytest_smooth.server.protocol.executor import ReplySink
from pytest_smooth.server.protocol.executor import SessionSpec

os.environ.setdefault("SMOOTH_TELEMETRY", "off")  # before smooth is imported
smooth: Any = pytest.importorskip("smooth")

# smooth-py itself warns on every task it submits (its deprecated session_id field).
pytestmark = pytest.mark.filterwarnings("ignore:'session_id' is deprecated:DeprecationWarning")


@dataclass
class ScriptedExecutor:
    """Answers at once: goto ok, evaluate_js echoes, ``throw`` in the JS gives code 400."""

    sink: ReplySink | None = None
    closed: list[tuple[str, bool]] = field(default_factory=list)

    def open_session(self, spec: SessionSpec, sink: ReplySink) -> None:
        self.sink = sink
        if spec.request.task:
            sink.finish_task(spec.task_id, "done", {"answer": spec.request.task})

    def submit(
        self, task_id: str, event_id: str, action: str, action_input: dict[str, Any]
    ) -> None:
        assert self.sink is not None
        if "throw" in str(action_input.get("js", "")):
            self.sink.post_reply(task_id, event_id, 400, "Error: boom")
            return
        output: dict[str, Any] = {"credits_used": 0, "duration": 0.01}
        if action != "goto":
            output["output"] = {action: action_input}
        self.sink.post_reply(task_id, event_id, 200, output)

    def tool_result(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        raise AssertionError(f"no tools here: {task_id} {event_id} {code} {output}")

    def close_session(self, task_id: str, *, graceful: bool) -> None:
        self.closed.append((task_id, graceful))


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(executor=ScriptedExecutor()) as local:
        yield local


def test_sdk_session_actions_errors_and_force_close(server: LocalServer) -> None:
    client = smooth.SmoothClient(api_key=server.api_key, base_url=server.base_url)
    with client.session() as session:
        assert session.goto("https://example.com").credits_used == 0
        assert session.evaluate_js("document.title").output == {
            "evaluate_js": {"js": "document.title", "args": None}
        }
        with pytest.raises(smooth.ToolCallError, match="boom"):
            session.evaluate_js("throw new Error('boom')")
        assert session.live_url().startswith(server.url + "/live/")
        task_id = session.id()
    assert server.store.tasks[task_id].status == "cancelled"  # case 13: `with` exit DELETEs


def test_sdk_graceful_close_returns_true_then_done(server: LocalServer) -> None:
    client = smooth.SmoothClient(api_key=server.api_key, base_url=server.base_url)
    session = client.session()
    session.goto("https://example.com")
    assert session.close(force=False) is True  # case 12: no CancelledError
    assert session.result().status == "done"


def test_sdk_one_shot_run_and_recording(server: LocalServer) -> None:
    client = smooth.SmoothClient(api_key=server.api_key, base_url=server.base_url)
    handle = client.run("say hi", url="https://example.com", metadata={"k": "v"})
    result = handle.result(timeout=20)
    assert (result.status, result.output) == ("done", {"answer": "say hi"})
    assert handle.recording_url().startswith(server.url + "/recording/")


def test_sdk_profiles_and_errors(server: LocalServer) -> None:
    client = smooth.SmoothClient(api_key=server.api_key, base_url=server.base_url)
    assert client.create_profile("sdk-p1").id == "sdk-p1"
    assert "sdk-p1" in [p.id for p in client.list_profiles()]
    with pytest.raises(smooth.ApiError) as conflict:
        client.create_profile("sdk-p1")
    assert conflict.value.status_code == 409
    wrong = smooth.SmoothClient(api_key="wrong", base_url=server.base_url)
    with pytest.raises(smooth.ApiError) as denied:
        wrong.list_profiles()
    assert denied.value.status_code == 401  # case 1-2: the real status, not 0
