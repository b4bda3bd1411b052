"""``FakeSmooth``: an in-memory Smooth server for client tests, served through httpx.MockTransport.

It is the local backend's ``Store`` with a canned executor, so it speaks the same wire protocol
(smooth-api.md §4): 202 while running, a stateless ``event_t`` filter, and action replies that
appear on a *later* poll: the canned executor delivers a task's pending results right after a
GET of that task, so the reply shows up in the GET after it. Like the cloud, it ignores
``wait_ms`` and answers at once (``inline_replies = True`` answers a POST's ``wait_ms`` like
the local backend: the reply comes in the ack). One ``FakeSmooth().handler`` serves sync and
async clients::

    fake = FakeSmooth()
    fake.outputs["evaluate_js"] = "Shop"                 # a value, or a callable(input)
    fake.failures["goto"] = (400, "net::ERR_NAME_NOT_RESOLVED")
    fake.fault("POST", "/task/*/event", status=503)       # one-shot, queued
    client = httpx.Client(transport=fake.transport(), base_url=fake.base_url + "v1/")
"""

from __future__ import annotations

import contextlib
import fnmatch
import threading
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import httpx

from pytest_smooth._core.constants import API_KEY_HEADER
from pytest_smooth.server.protocol.bodies import BodyError
from pytest_smooth.server.protocol.bodies import parse_json
from pytest_smooth.server.protocol.bodies import parse_multipart
from pytest_smooth.server.protocol.executor import ReplySink
from pytest_smooth.server.protocol.executor import SessionSpec
from pytest_smooth.server.protocol.handler import ApiHandler
from pytest_smooth.server.protocol.routes import API_PREFIX
from pytest_smooth.server.protocol.store import Store

__all__ = ["CannedExecutor", "FakeSmooth", "Fault", "RecordedRequest"]

FAKE_ROOT = "https://fake.smooth.test"
DEFAULT_OUTPUTS: dict[str, Any] = {
    "evaluate_js": None,
    "exec_js": None,
    "extract": {},
    "run_task": "done",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (``faulted``: it was answered by an injected fault)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    faulted: bool = False


@dataclass
class Fault:
    """A one-shot fault: a status (with Retry-After) or an exception such as httpx.ConnectError.

    ``execute=True`` runs the request first and only then answers with the fault: the server
    did the work but the client never saw the reply (what makes POST retries dangerous).
    """

    method: str
    pattern: str
    status: int = 503
    retry_after: float | None = None
    error: type[httpx.TransportError] | None = None
    execute: bool = False
    detail: str = "injected fault"


@dataclass
class CannedExecutor:
    """An ``Executor`` that answers from the fake's knobs, one GET after being asked."""

    fake: FakeSmooth
    sink: ReplySink | None = None
    pending: dict[str, list[Callable[[], None]]] = field(default_factory=dict)
    opened: list[SessionSpec] = field(default_factory=list)
    submitted: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    tool_results: list[tuple[str, str, int, Any]] = field(default_factory=list)
    closed: dict[str, bool] = field(default_factory=dict)

    def open_session(self, spec: SessionSpec, sink: ReplySink) -> None:
        self.sink = sink
        self.opened.append(spec)
        request = spec.request
        if request.task is None:
            return
        task_input = request.model_dump(include={"task", "response_model", "url", "metadata"})
        task_input["max_steps"] = request.max_steps

        def finish() -> None:
            code, output = self.fake.answer("run_task", task_input)
            status = "done" if code == 200 else "failed"
            sink.finish_task(spec.task_id, status, output)

        if not self.fake.silent("run_task"):
            self.pending.setdefault(spec.task_id, []).append(finish)

    def submit(
        self, task_id: str, event_id: str, action: str, action_input: dict[str, Any]
    ) -> None:
        self.submitted.append((task_id, event_id, action, action_input))
        if self.fake.silent(action):
            return
        sink = self.sink
        assert sink is not None  # open_session always comes first

        def reply() -> None:
            code, output = self.fake.answer(action, action_input)
            if code == 200:
                value = {"credits_used": 0, "duration": 0.01}
                if action != "goto":
                    value["output"] = output
                output = value
            sink.post_reply(task_id, event_id, code, output)

        self.pending.setdefault(task_id, []).append(reply)

    def tool_result(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        self.tool_results.append((task_id, event_id, code, output))

    def close_session(self, task_id: str, *, graceful: bool) -> None:
        self.closed[task_id] = graceful
        self.pending.pop(task_id, None)

    @contextlib.contextmanager
    def watch(self, task_id: str) -> Iterator[DeliveryWatch]:
        """Be the held answers' ``ChangeSignal``: a change is a result delivered."""
        yield DeliveryWatch(self, task_id)

    def deliver(self, task_id: str) -> None:
        """Run what the task is waiting for (called after each GET of the task)."""
        for job in self.pending.pop(task_id, []):
            job()


@dataclass(frozen=True)
class DeliveryWatch:
    """The fake's ``Watch`` of a held request: "waiting" runs the task's pending results."""

    executor: CannedExecutor
    task_id: str

    async def wait(self, timeout: float) -> bool:  # noqa: ARG002
        """Deliver the pending results at once; False when there were none (stop waiting)."""
        waiting = bool(self.executor.pending.get(self.task_id))
        self.executor.deliver(self.task_id)
        return waiting


class FakeSmooth:
    """The fake server. Knobs: ``outputs``, ``failures``, ``never_reply``, ``inline_replies``."""

    base_url = f"{FAKE_ROOT}/api/"

    def __init__(self, *, api_key: str | None = None) -> None:
        # None: any non-empty key is accepted; a missing key is still a 401.
        self.api_key = api_key
        self.outputs: dict[str, Any] = dict(DEFAULT_OUTPUTS)
        self.failures: dict[str, tuple[int, str]] = {}
        self.never_reply: bool | Collection[str] = False
        # Like the cloud, the fake ignores wait_ms on POST /task/{id}/event; True answers it as
        # the local backend does: the action runs at once and its reply comes in the ack.
        self.inline_replies = False
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self.executor = CannedExecutor(self)
        self.store = Store(self.executor, root_url=FAKE_ROOT)
        self._lock = threading.Lock()

    # --- knobs ----------------------------------------------------------------------------

    def fault(
        self,
        method: str,
        pattern: str,
        *,
        status: int = 503,
        retry_after: float | None = None,
        error: type[httpx.TransportError] | None = None,
        execute: bool = False,
    ) -> Fault:
        """Queue a one-shot fault for ``method`` on paths matching ``pattern``.

        ``pattern`` is an fnmatch pattern for the path below /api/v1, e.g. ``/task/*``.
        """
        fault = Fault(method.upper(), pattern, status, retry_after, error, execute)
        self.faults.append(fault)
        return fault

    def silent(self, action: str) -> bool:
        """Tell whether ``action`` is set never to reply."""
        if isinstance(self.never_reply, bool):
            return self.never_reply
        return action in self.never_reply

    def answer(self, action: str, action_input: dict[str, Any]) -> tuple[int, Any]:
        """Return the canned ``(code, output)`` for an action."""
        if action in self.failures:
            return self.failures[action]
        value = self.outputs.get(action)
        return 200, value(action_input) if callable(value) else value

    def emit_tool_call(self, task_id: str, name: str, tool_input: dict[str, Any]) -> str:
        """Make the agent of ``task_id`` call the client's tool ``name``; return the event id."""
        with self._lock:
            return self.store.emit_tool_call(task_id, name, tool_input)

    def finish(self, task_id: str, status: str = "failed", output: Any = None) -> None:
        """End ``task_id`` from the server side (e.g. the browser crashed)."""
        with self._lock:
            self.store.finish_task(task_id, status, output)

    def count(self, method: str, pattern: str) -> int:
        """Count received requests by method and path pattern (below /api/v1)."""
        return sum(1 for r in self.requests if r.method == method and _matches(pattern, r.path))

    # --- transport ------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Serve one request (usable by httpx.MockTransport, sync and async)."""
        with self._lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        query = dict(request.url.params)
        body: Any = None
        body_error: BodyError | None = None
        try:
            body = _parse_body(request)
        except BodyError as exc:
            body_error = exc
        fault = self._take_fault(method, path)
        self.requests.append(RecordedRequest(method, path, query, body, fault is not None))
        if fault is not None and not fault.execute:
            return _fault_response(fault, request)
        given = request.headers.get(API_KEY_HEADER)
        reply: Any
        if not given or (self.api_key is not None and given != self.api_key):
            status, reply = 401, {"detail": "Invalid API key" if given else "Missing API key"}
        elif body_error is not None:
            status, reply = body_error.status, {"detail": body_error.detail}
        else:
            # Like the cloud, no long poll; held POSTs only with inline_replies.
            api = ApiHandler(self.store, long_poll=False, held_replies=self.inline_replies)
            status, reply = api.serve_now(method, path, query, body, self.executor)
        if method == "GET" and status in (200, 202) and path.startswith(API_PREFIX + "/task/"):
            self.executor.deliver(path.rsplit("/", 1)[-1])
        if fault is not None:
            return _fault_response(fault, request)
        return httpx.Response(status, json=reply)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and _matches(fault.pattern, path):
                self.faults.remove(fault)
                return fault
        return None


def _matches(pattern: str, path: str) -> bool:
    below = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
    return fnmatch.fnmatchcase(below, pattern) or fnmatch.fnmatchcase(path, pattern)


def _parse_body(request: httpx.Request) -> Any:
    raw = request.read()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        return parse_multipart(content_type, raw)
    return parse_json(raw)


def _fault_response(fault: Fault, request: httpx.Request) -> httpx.Response:
    if fault.error is not None:
        raise fault.error(fault.detail, request=request)
    headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
    return httpx.Response(fault.status, json={"detail": fault.detail}, headers=headers)
