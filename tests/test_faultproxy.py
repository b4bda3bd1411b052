"""Unit tests of tests/faultproxy.py against a trivial JSON echo upstream (no browser)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import httpx
import pytest

from tests.faultproxy import Fault
from tests.faultproxy import FaultProxy

# Generous bound that proves "no hang" for a request whose own timeout is far shorter.
NO_HANG = 10.0


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: list[tuple[str, str]]

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.hits.append((self.command, self.path))
        payload = json.dumps({"r": {"method": self.command, "path": self.path, "body": body}})
        data = payload.encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "echo")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_DELETE = do_GET


class Upstream:
    def __init__(self) -> None:
        self.hits: list[tuple[str, str]] = []
        handler = type("Echo", (_Echo,), {"hits": self.hits})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream()
    up.thread.start()
    yield up
    up.server.shutdown()
    up.server.server_close()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.url) as p:
        yield p
    assert p.errors == []


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=NO_HANG) as client:
        yield client


def test_forwards_method_path_query_body_status_and_headers(
    proxy: FaultProxy, upstream: Upstream, http: httpx.Client
) -> None:
    reply = http.post(proxy.url + "/api/v1/task?x=1", json={"task": None})
    assert reply.status_code == 201
    assert reply.headers["x-upstream"] == "echo"
    assert reply.json()["r"] == {
        "method": "POST",
        "path": "/api/v1/task?x=1",
        "body": '{"task":null}',
    }
    assert upstream.hits == [("POST", "/api/v1/task?x=1")]
    (entry,) = proxy.log
    assert (entry.method, entry.path, entry.query) == ("POST", "/api/v1/task", "x=1")
    assert (entry.fault, entry.forwarded, entry.status) == (None, True, 201)
    assert entry.body == b'{"task":null}'


def test_rule_fires_on_chosen_occurrences_only(
    proxy: FaultProxy, upstream: Upstream, http: httpx.Client
) -> None:
    proxy.add("GET", r"^/a/\d+$", Fault.status(503), nth=2, count=2)
    codes = [http.get(proxy.url + "/a/1").status_code for _ in range(5)]
    assert codes == [200, 503, 503, 200, 200]
    # Another path or method does not advance the rule's occurrence count.
    assert http.get(proxy.url + "/b").status_code == 200
    assert http.delete(proxy.url + "/a/1").status_code == 200
    assert len(upstream.hits) == 5
    assert proxy.injected["status"] == 2
    assert proxy.count("GET", r"^/a/") == 5
    assert [e.fault for e in proxy.requests("GET", "/a/")].count("status") == 2


def test_count_none_fires_forever_and_clear_stops_it(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.add("*", "/x", Fault.status(500), count=None)
    assert [http.get(proxy.url + "/x").status_code for _ in range(3)] == [500, 500, 500]
    assert http.post(proxy.url + "/x").status_code == 500
    proxy.clear()
    assert http.get(proxy.url + "/x").status_code == 200
    assert proxy.total_injected == 4


def test_status_before_never_reaches_upstream(
    proxy: FaultProxy, upstream: Upstream, http: httpx.Client
) -> None:
    proxy.add("POST", "/task", Fault.status(503))
    reply = http.post(proxy.url + "/task", json={})
    assert reply.status_code == 503
    assert reply.json() == {"detail": "fault proxy: injected 503"}
    assert upstream.hits == []
    assert proxy.log[0].forwarded is False


def test_status_after_reaches_upstream(
    proxy: FaultProxy, upstream: Upstream, http: httpx.Client
) -> None:
    proxy.add("POST", "/task", Fault.status(500, when="after"))
    assert http.post(proxy.url + "/task", json={}).status_code == 500
    assert upstream.hits == [("POST", "/task")]


def test_rate_limit_sends_retry_after(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.add("GET", "/", Fault.rate_limit(retry_after=1.5))
    reply = http.get(proxy.url + "/")
    assert reply.status_code == 429
    assert reply.headers["retry-after"] == "1.5"


@pytest.mark.parametrize("when", ["before", "after"])
def test_reset_closes_without_reply(
    proxy: FaultProxy, upstream: Upstream, http: httpx.Client, when: str
) -> None:
    proxy.add("POST", "/event", Fault.reset(when="after" if when == "after" else "before"))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.post(proxy.url + "/task/1/event", json={"id": "e1"})
    assert len(upstream.hits) == (1 if when == "after" else 0)
    assert proxy.log[0].status is None
    # The proxy keeps serving new connections after a reset.
    assert http.post(proxy.url + "/task/1/event").status_code == 201


def test_hang_ends_when_client_gives_up(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.add("GET", "/slowpoke", Fault.hang())
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.get(proxy.url + "/slowpoke", timeout=0.3)
    assert time.monotonic() - started < NO_HANG
    # The held handler notices the client left and logs the request without a status.
    deadline = time.monotonic() + NO_HANG
    while not proxy.log and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    assert proxy.log[0].fault == "hang"
    assert proxy.log[0].status is None


def test_hang_is_bounded_server_side(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.add("GET", "/", Fault.hang(limit=0.2))
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(proxy.url + "/", timeout=NO_HANG)
    assert time.monotonic() - started < NO_HANG


def test_close_releases_held_connections(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url).start()
    proxy.add("GET", "/", Fault.hang())
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(proxy.url + "/", timeout=NO_HANG * 3)
        except httpx.HTTPError as err:
            errors.append(err)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + NO_HANG
    while proxy.injected["hang"] == 0 and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    started = time.monotonic()
    proxy.close()
    caller.join(timeout=NO_HANG)
    assert not caller.is_alive()
    assert time.monotonic() - started < NO_HANG
    assert len(errors) == 1


def test_slow_delays_then_forwards(proxy: FaultProxy) -> None:
    proxy.add("GET", "/", Fault.slow(2000), count=None)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(proxy.url + "/", timeout=0.2)
    proxy.clear()
    proxy.add("GET", "/", Fault.slow(50))
    reply = httpx.get(proxy.url + "/", timeout=NO_HANG)
    assert reply.status_code == 200
    assert reply.json()["r"]["path"] == "/"
    assert proxy.injected["slow"] == 2


@pytest.mark.parametrize("when", ["before", "after"])
def test_truncate_sends_half_the_body(
    proxy: FaultProxy, upstream: Upstream, http: httpx.Client, when: str
) -> None:
    proxy.add("GET", "/", Fault.truncate(when="after" if when == "after" else "before"))
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|peer closed"):
        http.get(proxy.url + "/t")
    assert len(upstream.hits) == (1 if when == "after" else 0)


def test_non_json_body(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.add("GET", "/", Fault.non_json())
    proxy.add("GET", "/", Fault.non_json(200, b"not json", when="after"), nth=2)
    first = http.get(proxy.url + "/")
    assert first.status_code == 502
    assert first.headers["content-type"] == "text/html"
    with pytest.raises(json.JSONDecodeError):
        first.json()
    second = http.get(proxy.url + "/")
    assert (second.status_code, second.text) == (200, "not json")


def test_unreachable_upstream_is_a_502() -> None:
    with FaultProxy("http://127.0.0.1:9") as proxy:
        reply = httpx.get(proxy.url + "/x", timeout=NO_HANG)
    assert reply.status_code == 502
    assert "upstream unreachable" in reply.json()["detail"]


def test_drop_params_strips_query_parameters(
    proxy: FaultProxy, upstream: Upstream, http: httpx.Client
) -> None:
    proxy.drop_params("POST", r"/event$", "wait_ms")
    http.post(proxy.url + "/task/1/event?wait_ms=500&keep=1")
    http.get(proxy.url + "/task/1?wait_ms=500")
    assert upstream.hits == [("POST", "/task/1/event?keep=1"), ("GET", "/task/1?wait_ms=500")]
    # The log keeps what the client sent.
    assert proxy.log[0].query == "wait_ms=500&keep=1"
