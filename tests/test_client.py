"""SmoothClient over FakeSmooth and small handlers: config, resources, errors, retries, secrets.

Mirrored for the async twin in test_async_client.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pytest_smooth._core.constants import ENV_API_KEY
from pytest_smooth._core.constants import ENV_BASE_URL
from pytest_smooth._core.constants import LONG_POLL_PARAM
from pytest_smooth._core.exceptions import AuthenticationError
from pytest_smooth._core.exceptions import BadRequestError
from pytest_smooth._core.exceptions import ConflictError
from pytest_smooth._core.exceptions import InternalServerError
from pytest_smooth._core.exceptions import NotFoundError
from pytest_smooth._core.exceptions import PermissionDeniedError
from pytest_smooth._core.exceptions import RateLimitError
from pytest_smooth._core.exceptions import SmoothConnectionError
from pytest_smooth._core.exceptions import SmoothError
from pytest_smooth._core.exceptions import SmoothProtocolError
from pytest_smooth._core.exceptions import SmoothStatusError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth._core.exceptions import TaskFailedError
from pytest_smooth._core.exceptions import UnprocessableEntityError
from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.testing import FakeSmooth

KEY = "cmzr-test-key-0123456789"
Handler = Callable[[httpx.Request], httpx.Response]


class Clock:
    """A fake monotonic clock; sleeping advances it and records the delay."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make(handler: Handler, clock: Clock | None = None, **kwargs: object) -> SmoothClient:
    client = SmoothClient(
        KEY,
        FakeSmooth.base_url,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        **kwargs,  # type: ignore[arg-type]
    )
    clock = clock or Clock()
    client._clock = clock.time  # type: ignore[method-assign]
    client._sleep = clock.sleep  # type: ignore[method-assign]
    return client


@pytest.fixture
def fake() -> FakeSmooth:
    return FakeSmooth(api_key=KEY)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(fake: FakeSmooth, clock: Clock) -> Iterator[SmoothClient]:
    with make(fake.handler, clock) as client:
        yield client


def reply(status: int, body: object = None, **kwargs: object) -> Handler:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, **kwargs)  # type: ignore[arg-type]

    return handler


# --- configuration --------------------------------------------------------------------------


def test_key_and_base_url_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_API_KEY, raising=False)
    monkeypatch.delenv(ENV_BASE_URL, raising=False)
    with pytest.raises(SmoothError, match=ENV_API_KEY):
        SmoothClient()
    monkeypatch.setenv(ENV_API_KEY, "env-key-123")
    monkeypatch.setenv(ENV_BASE_URL, "http://127.0.0.1:9321/api/")
    with SmoothClient() as env_client:
        assert env_client.api_url == "http://127.0.0.1:9321/api/v1"
        assert env_client.headers["apikey"] == "env-key-123"
        assert env_client.headers["User-Agent"].startswith("pytest-smooth/")
    with SmoothClient("arg-key-123", "http://h/api") as arg_client:
        assert arg_client.api_url == "http://h/api/v1"
        assert arg_client.headers["apikey"] == "arg-key-123"
    monkeypatch.delenv(ENV_BASE_URL)
    with SmoothClient() as default:
        assert default.api_url == "https://api.smooth.sh/api/v1"


def test_repr_never_shows_the_key(client: SmoothClient) -> None:
    assert KEY not in repr(client)
    assert KEY not in repr(client.redactor)


def test_bad_timeout_and_retries_are_rejected() -> None:
    with pytest.raises(ValueError, match="timeout"):
        SmoothClient(KEY, timeout=0)
    with pytest.raises(ValueError, match="max_retries"):
        SmoothClient(KEY, max_retries=-1)


def test_extra_secrets_are_redacted_too(client: SmoothClient) -> None:
    assert client.redactor.redact(f"key={KEY}") == "key=***"
    with make(reply(200, {"r": []}), redact=["db-password-1"]) as other:
        assert other.redactor.redact("db-password-1 and abc") == "*** and abc"


# --- resources ------------------------------------------------------------------------------


def test_profiles_files_and_tasks(client: SmoothClient, fake: FakeSmooth, tmp_path: Path) -> None:
    assert client.create_profile("p1").id == "p1"
    assert [p.id for p in client.list_profiles()] == ["p1"]
    with pytest.raises(ConflictError):
        client.create_profile("p1")
    assert client.delete_profile("p1") is True
    with pytest.raises(NotFoundError, match="not found"):
        client.delete_profile("p1")
    uploaded = client.upload_file(b"hello", name="a.txt", purpose="test")
    assert fake.requests[-1].body is not None
    path = tmp_path / "b.txt"
    path.write_text("x")
    assert client.upload_file(path).id != uploaded.id
    assert client.delete_file(uploaded.id) is True
    with pytest.raises(ValueError, match="name"):
        client.upload_file(b"no name")


def test_run_waits_for_the_end_and_polls_with_the_hint(
    client: SmoothClient, fake: FakeSmooth
) -> None:
    fake.outputs["run_task"] = {"answer": 42}
    result = client.run("say hi", max_steps=5, timeout=30)
    assert result.status == "done" and result.output == {"answer": 42}
    gets = [r for r in fake.requests if r.method == "GET"]
    assert gets and all(LONG_POLL_PARAM in r.query for r in gets)
    assert client.get_task(result.id).status == "done"
    with pytest.raises(ValueError, match="max_steps"):
        client.run("x", max_steps=1)


def test_run_failed_raises_task_failed(client: SmoothClient, fake: FakeSmooth) -> None:
    fake.failures["run_task"] = (400, "could not log in")
    with pytest.raises(TaskFailedError, match="could not log in") as info:
        client.run("log in")
    assert info.value.status == "failed"


def test_run_times_out_and_cancels_the_task(
    client: SmoothClient, fake: FakeSmooth, clock: Clock
) -> None:
    fake.never_reply = True
    with pytest.raises(SmoothTimeoutError, match=r"run did not finish within 0\.5 s"):
        client.run("forever", timeout=0.5)
    assert fake.count("DELETE", "/task/*") == 1
    assert sum(clock.sleeps) == pytest.approx(0.5)


def test_artifact_returns_bytes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/task/t1/artifacts/screenshot.png"
        return httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"})

    with make(handler) as client:
        assert client.artifact("t1", "screenshot.png") == b"\x89PNG"
    with make(reply(404, {"detail": "Task not found"})) as client, pytest.raises(NotFoundError):
        client.artifact("t1", "trace.zip")


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (418, SmoothStatusError),
    ],
)
def test_status_maps_to_error_with_server_detail(status: int, cls: type[Exception]) -> None:
    with make(reply(status, {"detail": "the server says no"}), max_retries=0) as client:
        with pytest.raises(cls, match="the server says no") as info:
            client.get_task("t1")
    err = info.value
    assert isinstance(err, SmoothStatusError) and err.status_code == status
    assert err.detail == "the server says no" and err.method == "GET"


def test_wrong_key_is_an_authentication_error(fake: FakeSmooth) -> None:
    client = SmoothClient(
        "cmzr-wrong-key-999",
        FakeSmooth.base_url,
        http_client=httpx.Client(transport=fake.transport()),
    )
    with pytest.raises(AuthenticationError) as info:
        client.list_profiles()
    assert "cmzr-wrong-key-999" not in str(info.value)


def test_non_json_bodies_keep_the_status() -> None:
    html = {"content": b"<html>oops</html>", "headers": {"content-type": "text/html"}}
    calls: list[str] = []

    def page(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(200, **html)  # type: ignore[arg-type]

    # A 2xx that is not JSON is no usable response: a GET is retried, a POST is not.
    with make(page) as client:
        with pytest.raises(SmoothConnectionError, match="HTTP 200 with a non-JSON body"):
            client.get_task("t1")
        with pytest.raises(SmoothConnectionError):
            client.create_profile("p1")
    assert calls == ["GET", "GET", "GET", "POST"]
    with make(lambda _r: httpx.Response(502, **html), max_retries=0) as client:  # type: ignore[arg-type]
        with pytest.raises(InternalServerError, match="oops") as info:
            client.get_task("t1")
    assert info.value.status_code == 502
    with make(reply(200, {"no": "envelope"})) as client:
        with pytest.raises(SmoothProtocolError, match="without 'r'"):
            client.get_task("t1")
    with make(reply(200, {"r": {"id": "t1", "status": "weird"}})) as client:
        with pytest.raises(SmoothProtocolError, match="unexpected reply shape"):
            client.get_task("t1")


def test_transport_errors_map_to_connection_and_timeout() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with make(refused, max_retries=0) as client, pytest.raises(SmoothConnectionError) as info:
        client.get_task("t1")
    assert not isinstance(info.value, SmoothTimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    with make(slow, max_retries=0) as client, pytest.raises(SmoothTimeoutError):
        client.get_task("t1")


# --- retries --------------------------------------------------------------------------------


def test_get_503_is_retried_with_backoff(
    client: SmoothClient, fake: FakeSmooth, clock: Clock
) -> None:
    fake.fault("GET", "/profile", status=503)
    assert client.list_profiles() == []
    assert fake.count("GET", "/profile") == 2
    assert len(clock.sleeps) == 1 and 0.375 <= clock.sleeps[0] <= 0.5


def test_429_honours_retry_after(client: SmoothClient, fake: FakeSmooth, clock: Clock) -> None:
    fake.fault("GET", "/profile", status=429, retry_after=3)
    fake.fault("DELETE", "/profile/*", status=429, retry_after=2)
    client.create_profile("p2")
    assert client.list_profiles()[0].id == "p2"
    assert client.delete_profile("p2") is True
    assert clock.sleeps == [3.0, 2.0]


def test_retries_give_up_after_max_retries(fake: FakeSmooth, clock: Clock) -> None:
    for _ in range(3):
        fake.fault("GET", "/profile", status=503)
    with make(fake.handler, clock, max_retries=1) as client, pytest.raises(InternalServerError):
        client.list_profiles()
    assert fake.count("GET", "/profile") == 2 and len(clock.sleeps) == 1


def test_post_task_503_is_not_sent_twice(client: SmoothClient, fake: FakeSmooth) -> None:
    fake.fault("POST", "/task", status=503, execute=True)
    with pytest.raises(InternalServerError):
        client.run("book a flight")
    assert fake.count("POST", "/task") == 1
    # The server did create it: a retry would have opened a second, billed task.
    assert len(fake.store.tasks) == 1


def test_post_read_error_is_not_retried_but_connect_error_is(
    fake: FakeSmooth, clock: Clock
) -> None:
    fake.fault("POST", "/profile", error=httpx.ReadError, execute=True)
    with make(fake.handler, clock) as client, pytest.raises(SmoothConnectionError):
        client.create_profile("p3")
    assert fake.count("POST", "/profile") == 1
    fake.fault("POST", "/profile", error=httpx.ConnectError)
    with make(fake.handler, clock) as client:
        assert client.create_profile("p4").id == "p4"
    assert fake.count("POST", "/profile") == 3


# --- secrets --------------------------------------------------------------------------------


def test_key_absent_from_logs_and_errors(
    client: SmoothClient, caplog: pytest.LogCaptureFixture
) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"detail": f"bad key {request.headers['apikey']}"})

    with caplog.at_level(logging.DEBUG, logger="pytest_smooth"):
        client.create_profile("p5")
        with make(echo) as echoing, pytest.raises(BadRequestError) as info:
            echoing.list_profiles()
    assert caplog.records, "requests are logged at DEBUG"
    assert KEY not in caplog.text
    assert KEY not in str(info.value) and KEY not in repr(info.value.detail)
    assert "***" in str(info.value)


def test_an_unknown_profile_id_is_a_not_found_error(client: SmoothClient) -> None:
    with pytest.raises(NotFoundError, match="Profile not found"):
        client.session(profile_id="no-such-profile")
    profile = client.create_profile("shop-user")
    with client.session(profile_id=profile.id, start_timeout=None) as session:
        assert session.id
