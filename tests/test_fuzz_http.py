"""Schema-driven fuzz of the local backend's HTTP API, generated from its ``/openapi.json``.

Each documented operation gets bounded hypothesis examples: valid bodies from the schema,
arbitrary JSON, non-JSON bytes and empty bodies; ids of real tasks or made-up ones; valid,
wrong or missing API keys. Every reply must be below 500, have a documented status, and match
the documented shape. ``LocalServer`` runs with a canned executor, so this needs no browser;
an unhandled server exception shows up as a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from pytest_smooth.server.local import LocalServer
from pytest_smooth.server.protocol.executor import ReplySink
from pytest_smooth.server.protocol.executor import SessionSpec
from pytest_smooth.server.protocol.openapi import openapi_document
from pytest_smooth.server.protocol.routes import ROUTES
from pytest_smooth.server.protocol.store import Store
from tests.schema_fuzz import any_json
from tests.schema_fuzz import from_schema
from tests.schema_fuzz import schema_errors

KEY = "fuzz-apikey-5b1e0c7d"
DOC = openapi_document()
METHODS = ("get", "post", "put", "delete", "patch")
OPERATIONS = [
    (path, method) for path, item in DOC["paths"].items() for method in item if method in METHODS
]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# Ids that URLs can carry as one path segment (a "/" would route elsewhere, by design).
ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~"
# The long poll may hold a GET for wait_ms (up to 10 s); bound it so the fuzz never stalls.
MAX_FUZZ_WAIT_MS = 50


class CannedExecutor:
    """Answers every action at once with code 200; a one-shot task finishes ``done``."""

    def __init__(self) -> None:
        self.sink: ReplySink | None = None
        self.open: set[str] = set()

    def open_session(self, spec: SessionSpec, sink: ReplySink) -> None:
        self.sink = sink
        self.open.add(spec.task_id)
        if spec.request.task is not None:
            sink.finish_task(spec.task_id, "done", {"answer": spec.request.task})

    def submit(
        self, task_id: str, event_id: str, action: str, action_input: dict[str, Any]
    ) -> None:
        assert self.sink is not None
        output = {
            "output": {"action": action, "input": action_input},
            "credits_used": 0,
            "duration": 0,
        }
        self.sink.post_reply(task_id, event_id, 200, output)

    def tool_result(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        """Nothing to resume: the canned agent never waits on tools."""

    def close_session(self, task_id: str, *, graceful: bool) -> None:  # noqa: ARG002
        self.open.discard(task_id)


class Api:
    def __init__(self, client: httpx.Client, store: Store, executor: CannedExecutor) -> None:
        self.client, self.store, self.executor = client, store, executor
        self.ids: list[str] = []


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    executor = CannedExecutor()
    with (
        LocalServer(api_key=KEY, executor=executor) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        api = Api(client, server.store, executor)
        headers = {"apikey": KEY}
        for body in ({}, {"task": "say hi"}, {"device": "mobile"}):
            reply = client.post("/api/v1/task", json=body, headers=headers)
            api.ids.append(reply.json()["r"]["id"])
        client.delete(f"/api/v1/task/{api.ids[2]}", headers=headers)
        reply = client.post("/api/v1/profile", json={"id": "p1"}, headers=headers)
        api.ids.append(reply.json()["r"]["id"])
        yield api


def _query_value(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    typed = from_schema(schema, DOC).map(lambda v: json.dumps(v) if not isinstance(v, str) else v)
    return typed | st.text(max_size=8)


@st.composite
def requests(draw: st.DrawFn, path: str, method: str, ids: list[str]) -> dict[str, Any]:
    """Draw one request for the operation ``method path``: url, headers, body."""
    op = DOC["paths"][path][method]
    url = path
    query: dict[str, str] = {}
    for param in op.get("parameters", []):
        if param["in"] == "path":
            value = draw(st.sampled_from(ids) | st.text(ID_CHARS, min_size=1, max_size=12))
            url = url.replace("{" + param["name"] + "}", quote(value, safe=""))
        elif draw(st.booleans()):
            schema = dict(param["schema"])
            if param["name"] == "wait_ms":
                schema = {"type": "integer", "minimum": -10, "maximum": MAX_FUZZ_WAIT_MS}
            query[param["name"]] = draw(_query_value(schema))
    headers = {}
    if op.get("security") != []:
        auth = draw(st.sampled_from(["good", "good", "good", "missing", "wrong", "empty"]))
        headers = {
            "good": {"apikey": KEY},
            "wrong": {"apikey": KEY[:-1] + "X"},
            "empty": {"apikey": ""},
        }.get(auth, {})
    request: dict[str, Any] = {
        "method": method.upper(),
        "url": url,
        "params": query,
        "headers": headers,
    }
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        mode = draw(st.sampled_from(["valid", "valid", "valid", "json", "bytes", "empty"]))
        if mode == "valid":
            body = json.dumps(
                draw(from_schema(content["application/json"]["schema"], DOC))
            ).encode()
        elif mode == "json":
            body = json.dumps(draw(any_json)).encode()
        else:
            body = b"" if mode == "empty" else draw(st.binary(max_size=40))
        request["content"] = body
        request["headers"] = {**headers, "content-type": "application/json"}
    elif "multipart/form-data" in content:
        if draw(st.booleans()):
            name = draw(st.text(ID_CHARS + ".", min_size=1, max_size=12))
            request["files"] = {"file": (name, draw(st.binary(max_size=64)))}
        if draw(st.booleans()):
            request["data"] = {"file_purpose": draw(st.text(max_size=80))}
    return request


def _check(
    op: dict[str, Any], request: dict[str, Any], status: int, headers: Any, body: bytes
) -> None:
    shown = {k: v for k, v in request.items() if k != "headers"}
    assert status < 500, f"{status} for {shown}: {body[:300]!r}"
    documented = op["responses"]
    assert str(status) in documented, f"undocumented status {status} for {shown}: {body[:300]!r}"
    content = documented[str(status)].get("content", {})
    if "application/json" in content:
        assert headers.get("content-type", "").startswith("application/json"), (status, shown)
        errors = schema_errors(content["application/json"]["schema"], json.loads(body), DOC)
        assert errors == [], f"{status} for {shown} breaks the documented shape: {errors}"
    for media in content:
        assert headers.get("content-type", "").startswith(media.split(";")[0]), (status, shown)


@pytest.mark.parametrize(
    ("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS]
)
def test_operation_never_fails_and_matches_its_documented_shape(
    api: Api, path: str, method: str
) -> None:
    op = DOC["paths"][path][method]

    @FUZZ
    @given(request=requests(path, method, api.ids))
    def fuzz(request: dict[str, Any]) -> None:
        reply = api.client.request(**request)
        _check(op, request, reply.status_code, reply.headers, reply.content)

    fuzz()


def test_served_document_is_the_documented_one(api: Api) -> None:
    reply = api.client.get("/openapi.json")
    assert reply.status_code == 200
    assert reply.json() == json.loads(json.dumps(DOC))


def test_every_store_route_is_documented() -> None:
    documented = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, item in DOC["paths"].items()
        for method in item
        if method in METHODS
    }
    for route in ROUTES.routes:
        served = (route.method, route.path)
        assert served in documented, f"{route.method} /api/v1{route.path} is not documented"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v2/task"),
        ("GET", "/api/v1/nope"),
        ("PATCH", "/api/v1/task"),
        ("POST", "/api/v1/task/x/y/z"),
        ("GET", "/api/v1/"),
        ("DELETE", "/api/v1/profile"),
    ],
)
def test_unknown_paths_and_methods_are_json_4xx(api: Api, method: str, url: str) -> None:
    reply = api.client.request(method, url, headers={"apikey": KEY})
    assert 400 <= reply.status_code < 500
    assert reply.headers["content-type"].startswith("application/json")
    assert isinstance(reply.json()["detail"], str)


def test_after_the_fuzz_every_session_can_be_closed(api: Api) -> None:
    # Runs last in this module: whatever the fuzz opened, DELETE closes it and nothing leaks.
    for task_id in list(api.store.tasks):
        assert (
            api.client.delete(f"/api/v1/task/{task_id}", headers={"apikey": KEY}).status_code == 200
        )
    stats = api.client.get("/api/v1/local/stats", headers={"apikey": KEY}).json()["r"]
    assert stats["open_sessions"] == 0
    assert api.executor.open == set()
    # No request event ran twice, whatever ids the fuzz resent.
    assert all(count == 1 for count in stats["executions"].values())
