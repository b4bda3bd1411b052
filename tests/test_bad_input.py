"""Bad input through the public surface: each case gets a clear error type and message.

Options and ini values, marker kwargs (pytester: a UsageError or a test error naming the value
and the valid ones, never INTERNALERROR or a traceback), then client and session calls against
a real local backend: invalid schemas and models, JS that throws or returns what JSON cannot
hold, invalid and disallowed URLs, unknown actions, bad API keys, oversized bodies, unknown ids,
and actions on closed sessions. Every call is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from pytest_smooth import AuthenticationError
from pytest_smooth import NotFoundError
from pytest_smooth import RequestTooLargeError
from pytest_smooth import SessionClosedError
from pytest_smooth import SmoothActionError
from pytest_smooth import SmoothClient
from pytest_smooth import SmoothError
from pytest_smooth import SmoothSession
from pytest_smooth.server.local import LocalServer
from tests.backend_probe import Backend

NO_HANG = 30.0
OFFLINE = [
    "--smooth-backend=cloud",
    "--smooth-apikey=k-bad-input",
    "--smooth-base-url=http://127.0.0.1:9/api/",
]

# (CLI args, the value and source the message must name, the valid values it must list)
BAD_OPTIONS = [
    (["--smooth-backend=moon"], "'moon' from --smooth-backend", "auto, cloud, local"),
    (["--smooth-device=tablet"], "'tablet' from --smooth-device", "desktop, mobile, desktop-lg"),
    (["--smooth-timeout=soon"], "'soon' from --smooth-timeout", "seconds > 0"),
    (["--smooth-timeout=-1"], "'-1' from --smooth-timeout", "seconds > 0"),
    (["--smooth-timeout=0"], "'0' from --smooth-timeout", "seconds > 0"),
    (["--smooth-timeout=nan"], "'nan' from --smooth-timeout", "seconds > 0"),
    (["--smooth-expect-timeout=inf"], "'inf' from --smooth-expect-timeout", "seconds > 0"),
    (["--smooth-report-links=all"], "'all' from --smooth-report-links", "none, recording, live"),
    (["--smooth-keep-open-on-failure=-5"], "'-5' from --smooth-keep-open-on-failure", ">= 0"),
    (["--smooth-base-url=ftp://x/"], "'ftp://x/' from --smooth-base-url", "http:// or https://"),
    (["--smooth-base-url=api.smooth.sh"], "'api.smooth.sh' from --smooth-base-url", "https://"),
    (["--smooth-prewarm=two"], "'two' from --smooth-prewarm", "whole number"),
    (["--smooth-prewarm=-1"], "'-1' from --smooth-prewarm", "whole number"),
    (["--smooth-backend=cloud"], "needs an API key", "--smooth-apikey"),
]
BAD_INI = [
    ("smooth_backend = moon", "'moon' from ini smooth_backend", "auto, cloud, local"),
    ("smooth_device = tablet", "'tablet' from ini smooth_device", "desktop, mobile"),
    ("smooth_timeout = later", "'later' from ini smooth_timeout", "seconds > 0"),
    ("smooth_report_links = everything", "'everything' from ini smooth_report_links", "live"),
]
BAD_ENV = [
    ("SMOOTH_BACKEND", "moon", "'moon' from env SMOOTH_BACKEND", "auto, cloud, local"),
    ("SMOOTH_BASE_URL", "localhost:9", "'localhost:9' from env SMOOTH_BASE_URL", "http://"),
]
# (marker arguments, what the error must say)
BAD_MARKERS = [
    ('device="tablet"', "device='tablet' is not valid; expected one of desktop, mobile"),
    ('devcie="mobile"', "unknown session option 'devcie'; valid: "),
    ('"mobile"', "keyword arguments only"),
    ("timeout=-1", "timeout=-1 is not valid; expected a number of seconds > 0"),
    ('timeout="5"', "timeout='5' is not valid"),
    ('allowed_urls="https://x/*"', "allowed_urls='https://x/*' is not valid; expected a list"),
    ('metadata={"k": [1]}', "metadata={'k': [1]} is not valid"),
    ('profile_read_only="yes"', "profile_read_only='yes' is not valid; expected True or False"),
]


def _any(value: object) -> Any:
    """Pass a deliberately wrong value past the type checker."""
    return value


# The inner runs get the same asyncio setting as ours, so pytest-asyncio stays quiet.
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def _no_internal_error(result: pytest.RunResult) -> None:
    text = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in text
    assert "Traceback" not in text


@pytest.mark.parametrize(("args", "named", "valid"), BAD_OPTIONS, ids=lambda v: str(v)[:40])
def test_bad_option_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str], named: str, valid: str
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert named in result.stderr.str()
    assert valid in result.stderr.str()
    _no_internal_error(result)


@pytest.mark.parametrize(("line", "named", "valid"), BAD_INI, ids=[c[0] for c in BAD_INI])
def test_bad_ini_value_is_a_usage_error(
    pytester: pytest.Pytester, line: str, named: str, valid: str
) -> None:
    pytester.makeini(f"{INI}{line}\n")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert named in result.stderr.str()
    assert valid in result.stderr.str()
    _no_internal_error(result)


@pytest.mark.parametrize(("var", "value", "named", "valid"), BAD_ENV, ids=[c[0] for c in BAD_ENV])
def test_bad_env_value_is_a_usage_error(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    var: str,
    value: str,
    named: str,
    valid: str,
) -> None:
    monkeypatch.setenv(var, value)
    pytester.makeini(INI)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert named in result.stderr.str()
    assert valid in result.stderr.str()
    _no_internal_error(result)


@pytest.mark.parametrize(("kwargs", "message"), BAD_MARKERS, ids=[c[0] for c in BAD_MARKERS])
def test_bad_marker_kwargs_error_the_test(
    pytester: pytest.Pytester, kwargs: str, message: str
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        f"import pytest\n\n@pytest.mark.smooth({kwargs})\ndef test_x(smooth_session):\n    pass\n"
    )
    result = pytester.runpytest(*OFFLINE)
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()
    _no_internal_error(result)


# --- the client and sessions against a real local backend -----------------------------------


class Product(BaseModel):
    name: str
    price: int


@pytest.fixture(scope="module")
def client(local_server: LocalServer) -> Iterator[SmoothClient]:
    with SmoothClient(
        api_key=local_server.api_key, base_url=local_server.base_url, timeout=NO_HANG
    ) as smooth:
        yield smooth


@pytest.fixture(scope="module")
def session(client: SmoothClient) -> Iterator[SmoothSession]:
    opened = client.session(allowed_urls=["http://127.0.0.1:*/**", "about:*", "data:*"])
    opened.goto("data:text/html,<title>Shop</title><h1>Nothing for sale</h1>")
    try:
        yield opened
    finally:
        opened.close(timeout=NO_HANG)


Call = Callable[[SmoothSession], Any]
# (call on the shared session, the error type, text the message must contain)
SESSION_CASES: dict[str, tuple[Call, type[Exception], str]] = {
    "extract-unknown-type": (lambda s: s.extract({"type": "nope"}), SmoothActionError, "nope"),
    "extract-bad-properties": (
        lambda s: s.extract({"type": "object", "properties": "price"}),
        SmoothActionError,
        "properties",
    ),
    "extract-not-a-schema": (
        lambda s: s.extract(_any(42)),
        TypeError,
        "JSON schema dict or a pydantic",
    ),
    "extract-not-a-model": (
        lambda s: s.extract(_any(int)),
        TypeError,
        "JSON schema dict or a pydantic",
    ),
    "extract-model-mismatch": (lambda s: s.extract(Product), SmoothActionError, "Product"),
    "js-throws": (
        lambda s: s.evaluate_js("throw new Error('boom-417')"),
        SmoothActionError,
        "boom-417",
    ),
    "js-syntax-error": (lambda s: s.evaluate_js("function ("), SmoothActionError, "SyntaxError"),
    "js-rejects": (
        lambda s: s.evaluate_js("Promise.reject(new Error('nope-23'))"),
        SmoothActionError,
        "nope-23",
    ),
    "js-circular": (
        lambda s: s.evaluate_js("const a = {}; a.self = a; return a"),
        SmoothActionError,
        "cycle",
    ),
    "js-huge": (
        lambda s: s.evaluate_js("'x'.repeat(3 * 1024 * 1024)"),
        SmoothActionError,
        "over the local backend's limit",
    ),
    "js-oversized-body": (
        lambda s: s.evaluate_js("'" + "y" * (6 * 1024 * 1024) + "'"),
        RequestTooLargeError,
        "too large",
    ),
    "js-bad-args": (lambda s: s.evaluate_js("(a) => a", args="not-an-object"), SmoothError, "args"),
    "goto-not-a-url": (lambda s: s.goto("not a url"), SmoothActionError, "not a url"),
    "goto-empty": (lambda s: s.goto(""), SmoothActionError, "url"),
    "goto-no-host": (lambda s: s.goto("http://"), SmoothActionError, "http://"),
    "goto-disallowed": (
        lambda s: s.goto("https://example.com/admin"),
        SmoothActionError,
        "does not match the session's allowed_urls",
    ),
    "goto-disallowed-scheme": (
        lambda s: s.goto("file:///etc/passwd"),
        SmoothActionError,
        "allowed_urls",
    ),
    "run-task-max-steps": (lambda s: s.run_task("click Buy", max_steps=1), ValueError, "max_steps"),
    "action-timeout-negative": (lambda s: s.evaluate_js("1", timeout=-1), ValueError, "timeout"),
}


@pytest.mark.browser
@pytest.mark.parametrize(
    ("call", "error", "text"), SESSION_CASES.values(), ids=SESSION_CASES.keys()
)
def test_bad_session_input(
    session: SmoothSession, call: Call, error: type[Exception], text: str
) -> None:
    started = time.monotonic()
    with pytest.raises(error) as caught:
        call(session)
    assert time.monotonic() - started < NO_HANG
    message = str(caught.value)
    assert text in message
    assert "Traceback" not in message
    assert "internal error" not in message.lower()
    # The session survives every bad input.
    assert session.evaluate_js("1 + 1") == 2


def _open_with_key(server: LocalServer, key: str) -> SmoothSession:
    with SmoothClient(api_key=key, base_url=server.base_url) as other:
        return other.session()


# JS values JSON cannot hold come back as a documented stand-in, never as an error or a hang.
ODD_VALUES = {
    "bigint": ("10n ** 30n", 10**30),
    "function": ("() => 1", 1),
    "window": ("window", "ref: <Window>"),
    "dom-node": ("document.body", "ref: <Node>"),
    "undefined": ("undefined", None),
    "nan": ("NaN", None),
    "symbol": ("Symbol('x')", None),
    "map": ("new Map([[1, 2]])", {}),
}


@pytest.mark.browser
@pytest.mark.parametrize(("js", "value"), ODD_VALUES.values(), ids=ODD_VALUES.keys())
def test_js_values_json_cannot_hold(session: SmoothSession, js: str, value: Any) -> None:
    assert session.evaluate_js(js, timeout=NO_HANG) == value


ClientCall = Callable[[SmoothClient, LocalServer], Any]
CLIENT_CASES: dict[str, tuple[ClientCall, type[Exception], str]] = {
    "unknown-task-get": (lambda c, _: c.get_task("task_unknown"), NotFoundError, "Task not found"),
    "unknown-task-delete": (
        lambda c, _: c.delete_task("task_unknown"),
        NotFoundError,
        "Task not found",
    ),
    "unknown-profile-delete": (lambda c, _: c.delete_profile("nobody"), NotFoundError, "404"),
    "bad-device": (lambda c, _: c.session(device="tablet"), ValueError, "device"),
    "bad-max-steps": (lambda c, _: c.run("hi", max_steps=500), ValueError, "max_steps"),
    "wrong-api-key": (
        lambda _, srv: _open_with_key(srv, "wrong-key-8c1f"),
        AuthenticationError,
        "Invalid API key",
    ),
    "unknown-artifact": (
        lambda c, _: c.artifact("task_unknown", "screenshot.png"),
        NotFoundError,
        "404",
    ),
}


@pytest.mark.browser
@pytest.mark.parametrize(("call", "error", "text"), CLIENT_CASES.values(), ids=CLIENT_CASES.keys())
def test_bad_client_input(
    client: SmoothClient,
    local_server: LocalServer,
    call: ClientCall,
    error: type[Exception],
    text: str,
) -> None:
    started = time.monotonic()
    with pytest.raises(error) as caught:
        call(client, local_server)
    assert time.monotonic() - started < NO_HANG
    assert text in str(caught.value)
    assert "wrong-key-8c1f" not in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_missing_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIRCLEMIND_API_KEY", raising=False)
    with pytest.raises(SmoothError, match="no API key"):
        SmoothClient(base_url="http://127.0.0.1:9/api/")


RAW_EVENTS = {
    "unknown-action": (
        {"name": "browser_action", "payload": {"name": "fly", "input": {}}},
        400,
        "fly",
    ),
    "unknown-event": ({"name": "teleport", "payload": {}}, 400, "teleport"),
    "missing-payload": ({"name": "browser_action"}, 422, "payload"),
    "goto-without-url": (
        {"name": "browser_action", "payload": {"name": "goto", "input": {}}},
        422,
        "url",
    ),
    "not-an-object": ([1, 2, 3], 422, "object"),
}


@pytest.mark.browser
@pytest.mark.parametrize(("body", "status", "text"), RAW_EVENTS.values(), ids=RAW_EVENTS.keys())
def test_raw_bad_events(
    session: SmoothSession, local_server: LocalServer, body: Any, status: int, text: str
) -> None:
    reply = httpx.post(
        f"{local_server.url}/api/v1/task/{session.id}/event",
        json=body,
        headers={"apikey": local_server.api_key},
        timeout=NO_HANG,
    )
    assert reply.status_code == status
    assert text in reply.json()["detail"]


@pytest.mark.browser
@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "Missing API key"), ({"apikey": "nope"}, "Invalid API key"), ({"apikey": ""}, "Missing")],
    ids=["missing", "wrong", "empty"],
)
def test_raw_bad_api_key(local_server: LocalServer, headers: dict[str, str], detail: str) -> None:
    reply = httpx.post(f"{local_server.url}/api/v1/task", json={}, headers=headers, timeout=NO_HANG)
    assert reply.status_code == 401
    assert detail in reply.json()["detail"]


@pytest.mark.browser
def test_raw_oversized_task_body(local_server: LocalServer) -> None:
    body = b'{"task": "' + b"z" * (6 * 1024 * 1024) + b'"}'
    reply = httpx.post(
        f"{local_server.url}/api/v1/task",
        content=body,
        headers={"apikey": local_server.api_key, "content-type": "application/json"},
        timeout=NO_HANG,
    )
    assert reply.status_code == 413
    assert "too large" in reply.json()["detail"]


@pytest.mark.browser
@pytest.mark.parametrize("how", ["closed-by-client", "deleted-on-server"])
def test_action_on_a_closed_session(
    client: SmoothClient, local_server: LocalServer, how: str
) -> None:
    opened = client.session()
    if how == "closed-by-client":
        opened.close()
    else:
        with Backend(local_server.url, local_server.api_key) as backend:
            backend.delete(opened.id)
    started = time.monotonic()
    with pytest.raises(SessionClosedError, match=opened.id):
        opened.evaluate_js("1")
    assert time.monotonic() - started < NO_HANG
    opened.close()  # idempotent, and no error on a session the server already ended
