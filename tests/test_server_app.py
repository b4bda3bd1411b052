"""The store through the real ASGI app over real HTTP on loopback, with a fake executor.

Auth, JSON everywhere, body limits, long polls, uploads, artifacts and the OpenAPI document.

Covers the HTTP-level conformance cases of smooth-api.md §4: 1 (auth), 2 (JSON content type)
and 20 (GETs are bounded: the long poll is capped and wakes on change).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import httpx
import pytest

from pytest_smooth.server.http.artifacts import NO_TRACE
from pytest_smooth.server.local import LocalServer
from pytest_smooth.server.protocol.executor import ReplySink
from pytest_smooth.server.protocol.executor import SessionSpec
from tests.fixtures_server import StaticSite

LIMIT = 4096
EXPECTED_PATHS = (
    "/task", "/task/{id}", "/task/{id}/event", "/task/{id}/data", "/profile", "/profile/{id}",
    "/file", "/file/{id}", "/extension", "/extension/{id}", "/browser/extension/{id}",
    "/browser/session", "/telemetry", "/local/stats", "/task/{id}/artifacts/screenshot.png",
)  # fmt: skip
CLIENT_TIMEOUT = httpx.Timeout(5.0)


@dataclass
class LoopExecutor:
    """Replies to every action 0.3 s later on the server's loop (so a long poll must wake)."""

    sink: ReplySink | None = None
    calls: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    closed: list[tuple[str, bool]] = field(default_factory=list)
    tool_replies: list[tuple[str, str, int, Any]] = field(default_factory=list)
    traces: dict[str, bytes] = field(default_factory=dict)
    shot: bytes | Exception = b"\x89PNG fake"

    async def start(self) -> None:
        self.calls.append("start")

    async def stop(self) -> None:
        self.calls.append("stop")

    def open_session(self, spec: SessionSpec, sink: ReplySink) -> None:
        self.sink = sink
        self.opened.append(spec.task_id)

    def submit(
        self, task_id: str, event_id: str, action: str, action_input: dict[str, Any]
    ) -> None:
        sink = self.sink
        assert sink is not None
        output = {"output": {action: action_input}, "credits_used": 0, "duration": 0.3}
        asyncio.get_running_loop().call_later(0.3, sink.post_reply, task_id, event_id, 200, output)

    def tool_result(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        self.tool_replies.append((task_id, event_id, code, output))

    def close_session(self, task_id: str, *, graceful: bool) -> None:
        self.closed.append((task_id, graceful))

    # EvidenceSource
    async def screenshot(self, task_id: str) -> bytes:
        if task_id not in self.opened:
            raise KeyError(task_id)
        if isinstance(self.shot, Exception):
            raise self.shot
        return self.shot

    async def trace_zip(self, task_id: str) -> bytes | None:
        return self.traces.get(task_id)

    def frames(self, task_id: str) -> list[tuple[int, bytes]]:
        return [(0, self.traces[task_id])] if task_id in self.traces else []

    def latest_frame(self, task_id: str) -> tuple[int, bytes] | None:
        frames = self.frames(task_id)
        return frames[-1] if frames else None


@pytest.fixture(scope="module")
def executor() -> LoopExecutor:
    return LoopExecutor()


@pytest.fixture(scope="module")
def server(executor: LoopExecutor) -> Iterator[LocalServer]:
    with LocalServer(executor=executor, max_body_bytes=LIMIT, max_upload_bytes=2 * LIMIT) as local:
        yield local


@pytest.fixture
def client(server: LocalServer) -> Iterator[httpx.Client]:
    headers = {"apikey": server.api_key}
    with httpx.Client(
        base_url=server.base_url + "v1/", headers=headers, timeout=CLIENT_TIMEOUT
    ) as http:
        yield http


def new_session(client: httpx.Client) -> str:
    task_id: str = client.post("task", json={"task": None}).json()["r"]["id"]
    return task_id


def goto(client: httpx.Client, task_id: str, event_id: str) -> None:
    body = {
        "name": "browser_action",
        "payload": {"name": "goto", "input": {"url": "x"}},
        "id": event_id,
    }
    assert client.post(f"task/{task_id}/event", json=body).status_code == 200


def test_case_1_missing_or_wrong_api_key_is_401_json(server: LocalServer) -> None:
    url = server.base_url + "v1/profile"
    missing = httpx.get(url, timeout=CLIENT_TIMEOUT)
    wrong = httpx.get(url, headers={"apikey": "wrong"}, timeout=CLIENT_TIMEOUT)
    right = httpx.get(url, headers={"apikey": server.api_key}, timeout=CLIENT_TIMEOUT)
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "apikey" in missing.json()["detail"]
    assert wrong.json() == {"detail": "Invalid API key"}


def test_case_2_every_error_is_json(server: LocalServer, client: httpx.Client) -> None:
    responses = [
        client.get("no/such/route"),
        client.patch("task"),
        client.get("task/nope"),
        client.post("task", content=b"{not json", headers={"content-type": "application/json"}),
        httpx.get(server.url + "/not-api", timeout=CLIENT_TIMEOUT),
        httpx.delete(server.url + "/openapi.json", timeout=CLIENT_TIMEOUT),
    ]
    statuses = [r.status_code for r in responses]
    assert statuses == [404, 405, 404, 400, 404, 405]
    for response in responses:
        assert response.headers["content-type"] == "application/json"
    assert [r.json()["detail"] for r in responses[:3]] == [
        "Not Found",
        "Method Not Allowed",
        "Task not found",
    ]


def test_json_body_over_the_limit_is_413(client: httpx.Client) -> None:
    response = client.post("task", json={"task": "x" * LIMIT})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert "too large" in response.json()["detail"]


def test_upload_over_the_limit_is_413_and_a_small_one_is_stored(
    server: LocalServer, client: httpx.Client
) -> None:
    too_big = client.post("file", files={"file": ("big.bin", b"x" * (3 * LIMIT))})
    assert too_big.status_code == 413
    created = client.post("file", files={"file": ("a.txt", b"hello")}, data={"file_purpose": "p"})
    file_id = created.json()["r"]["id"]
    assert server.store.resources.files[file_id].data == b"hello"
    extension = client.post("extension", files={"file": ("e.zip", b"PK\x05\x06" + b"\0" * 18)})
    assert extension.status_code == 200
    assert client.delete(f"browser/extension/{extension.json()['r']['id']}").json() == {"r": True}


def test_case_20_long_poll_wakes_when_the_reply_lands(client: httpx.Client) -> None:
    task_id = new_session(client)
    goto(client, task_id, "slow-1")
    # The reply lands 0.3 s later; the server holds the GET (up to 10 s, beyond the client's
    # 5 s timeout), so an answer at all proves the hold ended on the store's change.
    held = client.get(f"task/{task_id}", params={"event_t": 0, "wait_ms": 10_000})
    assert held.status_code == 202
    assert [e["id"] for e in held.json()["r"]["events"]] == ["slow-1"]


def test_long_poll_without_news_answers_202_after_wait_ms(client: httpx.Client) -> None:
    task_id = new_session(client)
    held = client.get(f"task/{task_id}", params={"wait_ms": 50})
    assert held.status_code == 202
    assert held.json()["r"]["events"] == []
    assert client.get(f"task/{task_id}", params={"wait_ms": "soon"}).status_code == 422


def test_idle_sessions_are_reaped_and_the_long_poll_sees_it() -> None:
    executor = LoopExecutor()
    with LocalServer(executor=executor, idle_timeout=0.3, reap_interval=0.05) as local:
        headers = {"apikey": local.api_key}
        with httpx.Client(base_url=local.base_url + "v1/", headers=headers, timeout=5) as http:
            task_id = new_session(http)
            # The reaper cancels the task 0.3 s after this GET; its change wakes the hold.
            held = http.get(f"task/{task_id}", params={"wait_ms": 4_000})
            if held.status_code == 202:  # a slow machine: the hold ended first; ask again
                held = http.get(f"task/{task_id}", params={"wait_ms": 4_000})
    assert held.status_code == 200
    assert held.json()["r"]["status"] == "cancelled"
    assert executor.closed == [(task_id, False)]


def test_artifacts(server: LocalServer, client: httpx.Client, executor: LoopExecutor) -> None:
    task_id = new_session(client)
    shot = client.get(f"task/{task_id}/artifacts/screenshot.png")
    assert (shot.status_code, shot.headers["content-type"]) == (200, "image/png")
    assert shot.content == b"\x89PNG fake"
    trace = client.get(f"task/{task_id}/artifacts/trace.zip")
    assert (trace.status_code, trace.json()["detail"]) == (
        409,
        NO_TRACE,
    )
    assert client.get(f"task/{task_id}/artifacts/video.mp4").status_code == 404
    assert client.get("task/nope/artifacts/screenshot.png").status_code == 404
    executor.shot = RuntimeError("page crashed")
    broken = client.get(f"task/{task_id}/artifacts/screenshot.png")
    executor.shot = b"\x89PNG fake"
    assert (broken.status_code, broken.headers["content-type"]) == (500, "application/json")
    assert (
        httpx.get(server.base_url + f"v1/task/{task_id}/artifacts/screenshot.png").status_code
        == 401
    )


def test_openapi_document_describes_every_route(server: LocalServer) -> None:
    response = httpx.get(server.url + "/openapi.json", timeout=CLIENT_TIMEOUT)
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in EXPECTED_PATHS:
        assert f"/api/v1{path}" in paths
    assert set(paths["/api/v1/task/{id}"]["get"]["responses"]) >= {"200", "202", "401", "404"}
    assert "TaskResponse" in document["components"]["schemas"]


def test_session_round_trip_and_stats(
    server: LocalServer, client: httpx.Client, executor: LoopExecutor
) -> None:
    task_id = new_session(client)
    goto(client, task_id, "rt-1")
    goto(client, task_id, "rt-1")  # resent: acknowledged, executed once
    close = {"name": "session_action", "payload": {"name": "close"}, "id": "rt-close"}
    client.post(f"task/{task_id}/event", json=close)
    first = client.get(f"task/{task_id}", params={"wait_ms": 4_000})
    assert (first.status_code, first.json()["r"]["status"]) == (202, "running")
    cursor = first.json()["r"]["events"][-1]["timestamp"]
    last = client.get(f"task/{task_id}", params={"event_t": cursor})
    assert (last.status_code, last.json()["r"]["status"]) == (200, "done")
    assert server.stats()["executions"]["rt-1"] == 1
    assert (task_id, True) in executor.closed and executor.calls == ["start"]


def test_local_server_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LocalServer(host="0.0.0.0", executor=LoopExecutor())


def test_stop_stops_the_executor() -> None:
    executor = LoopExecutor()
    with LocalServer(executor=executor) as local:
        assert httpx.get(local.url + "/openapi.json", timeout=CLIENT_TIMEOUT).status_code == 200
    assert executor.calls == ["start", "stop"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(local.url + "/openapi.json", timeout=CLIENT_TIMEOUT)


@pytest.mark.browser
def test_local_server_drives_chromium_on_a_static_page(
    local_server: LocalServer, static_site: StaticSite
) -> None:
    url = static_site.page("hello.html", "<title>Hello page</title><h1>hi</h1>")
    headers = {"apikey": local_server.api_key}
    with httpx.Client(base_url=local_server.base_url + "v1/", headers=headers, timeout=30) as http:
        task_id = new_session(http)
        for n, (name, data) in enumerate(
            [("goto", {"url": url}), ("evaluate_js", {"js": "document.title"})]
        ):
            body = {
                "name": "browser_action",
                "payload": {"name": name, "input": data},
                "id": f"b{n}",
            }
            http.post(f"task/{task_id}/event", json=body)
        replies: dict[str, Any] = {}
        # Follow the event_t cursor as the SDK does: without it every GET answers at once with
        # the goto reply, and a count of polls runs out before a slow evaluate_js replies.
        cursor, deadline = 0, time.monotonic() + 60
        while len(replies) < 2 and time.monotonic() < deadline:
            params = {"event_t": cursor, "wait_ms": 2000}
            for event in http.get(f"task/{task_id}", params=params).json()["r"]["events"]:
                replies[event["id"]] = event["payload"]
                cursor = max(cursor, event["timestamp"])
        http.delete(f"task/{task_id}")
    assert replies["b0"]["code"] == 200
    assert replies["b1"] == {"code": 200, "output": replies["b1"]["output"]}
    assert replies["b1"]["output"]["output"] == "Hello page"


@pytest.mark.browser
def test_cli_prints_base_url_and_key_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_smooth.server", "--port", "0", "--api-key", "k-123"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    text = "".join(lines)
    assert "base URL: http://127.0.0.1:" in text and "/api/" in text
    assert "API key:  k-123" in text
    assert "stopping" in rest
    assert process.returncode == 0


def test_missing_server_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytest_smooth.server as server_package

    # The module's __getattr__ runs only while no LocalServer sits in its namespace.
    if "LocalServer" in vars(server_package):
        monkeypatch.delattr(server_package, "LocalServer")
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes `import uvicorn` fail
    with pytest.raises(ImportError, match=r"pip install 'pytest-smooth\[server\]'"):
        server_package.LocalServer  # noqa: B018 - the attribute access is the import


class BrokenStartExecutor(LoopExecutor):
    """An executor whose browser never comes up."""

    async def start(self) -> None:
        self.calls.append("start")
        raise OSError("chromium: cannot open display")


def test_a_failing_executor_start_fails_start_and_still_stops_it() -> None:
    executor = BrokenStartExecutor()
    server = LocalServer(executor=executor)
    with pytest.raises(RuntimeError, match="failed to start: chromium: cannot open display"):
        server.start()
    assert executor.calls == ["start", "stop"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/openapi.json", timeout=CLIENT_TIMEOUT)


def test_cli_refuses_a_public_host_with_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_smooth.server", "--host", "0.0.0.0"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: LocalServer listens on loopback only")
    assert "Traceback" not in done.stderr
