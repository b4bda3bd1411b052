"""A fault-injecting HTTP reverse proxy for tests.

``FaultProxy(upstream)`` listens on 127.0.0.1 (port 0) in a background thread and forwards every
request to ``upstream`` (a base URL such as ``http://127.0.0.1:9321``). Rules, matched by method,
path regex and the nth occurrence of that match, replace or damage chosen requests::

    with FaultProxy("http://127.0.0.1:9321") as proxy:
        proxy.add("GET", r"/api/v1/task/[^/]+$", Fault.status(503), nth=1, count=2)
        proxy.add("POST", r"/event$", Fault.reset(when="after"))
        client = SmoothClient(api_key=key, base_url=proxy.base_url + "/api/")

A fault with ``when="before"`` never reaches the upstream; ``when="after"`` forwards the request
first and then breaks the reply, so the upstream has done the work but the client cannot know.
Every request lands in ``proxy.log``; ``proxy.count(...)`` and ``proxy.injected`` count them.
"""

from __future__ import annotations

import json
import re
import select
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qsl
from urllib.parse import urlencode

import httpx
from typing_extensions import Self

__all__ = ["Fault", "FaultKind", "FaultProxy", "LoggedRequest", "Rule"]

FaultKind = Literal["status", "reset", "hang", "slow", "truncate", "non_json"]
When = Literal["before", "after"]

# Headers that describe one hop, not the message; the proxy sets its own.
_HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade", "host"}
    # httpx decodes compressed bodies, so ask the upstream for identity and never relay it.
    | {"accept-encoding", "content-encoding"}
)
# The server side of a "hang" is bounded too, so a test that forgets the client never leaks.
DEFAULT_HANG_LIMIT = 30.0
# Longer than the long-poll cap of the backend (10 s), so held GETs pass through untouched.
UPSTREAM_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


@dataclass(frozen=True)
class Fault:
    """What to do to a matched request. Build one with the class methods."""

    kind: FaultKind
    when: When = "before"
    status_code: int = 503
    retry_after: float | None = None
    delay_ms: int = 0
    hang_limit: float = DEFAULT_HANG_LIMIT
    body: bytes = b""
    detail: str | None = None  # the status reply's {"detail": ...}; None: "injected <code>"

    @classmethod
    def status(
        cls,
        code: int = 503,
        *,
        retry_after: float | None = None,
        when: When = "before",
        detail: str | None = None,
    ) -> Fault:
        """Answer ``code`` with a JSON ``{"detail": ...}`` body (and ``Retry-After`` if given)."""
        return cls("status", when=when, status_code=code, retry_after=retry_after, detail=detail)

    @classmethod
    def rate_limit(cls, retry_after: float = 0.1, *, when: When = "before") -> Fault:
        """Answer 429 with ``Retry-After: <retry_after>``."""
        return cls.status(429, retry_after=retry_after, when=when)

    @classmethod
    def reset(cls, *, when: When = "before") -> Fault:
        """Close the socket without a reply (an RST, as a crashed peer gives)."""
        return cls("reset", when=when)

    @classmethod
    def hang(cls, *, limit: float = DEFAULT_HANG_LIMIT, when: When = "before") -> Fault:
        """Never reply: hold the connection until the client leaves or ``limit`` s pass."""
        return cls("hang", when=when, hang_limit=limit)

    @classmethod
    def slow(cls, delay_ms: int) -> Fault:
        """Forward normally, but only after ``delay_ms`` milliseconds."""
        return cls("slow", when="after", delay_ms=delay_ms)

    @classmethod
    def truncate(cls, *, when: When = "after") -> Fault:
        """Announce the full Content-Length, send half of the body, then close."""
        return cls("truncate", when=when)

    @classmethod
    def non_json(
        cls, code: int = 502, body: bytes = b"<html>Bad Gateway</html>", *, when: When = "before"
    ) -> Fault:
        """Answer ``code`` with a ``text/html`` body, as a load balancer's error page does."""
        return cls("non_json", when=when, status_code=code, body=body)


@dataclass
class Rule:
    """Apply ``fault`` to occurrences ``nth`` .. ``nth + count - 1`` of method + path matches.

    Occurrences are counted per rule, from 1. ``count=None`` means every one from ``nth`` on.
    """

    method: str
    path: str
    fault: Fault
    nth: int = 1
    count: int | None = 1
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method) and bool(self._pattern.search(path))

    def take(self) -> bool:
        """Count one matching request; True when this occurrence gets the fault."""
        self.seen += 1
        last = None if self.count is None else self.nth + self.count - 1
        hit = self.seen >= self.nth and (last is None or self.seen <= last)
        self.fired += hit
        return hit


@dataclass
class LoggedRequest:
    """One request seen by the proxy, logged on arrival (before any reply goes out).

    ``forwarded`` and ``status`` are filled in as the request proceeds; ``status`` stays None
    when no reply was sent (reset, hang, or a client that left first).
    """

    method: str
    path: str
    query: str
    body: bytes
    fault: FaultKind | None
    started: float = field(compare=False)
    forwarded: bool = False
    status: int | None = None


class FaultProxy:
    """The proxy. Use as a context manager, or call ``start()`` and ``close()``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.log: list[LoggedRequest] = []
        self.injected: Counter[FaultKind] = Counter()
        self._faults: dict[int, Fault | None] = {}
        self._drops: list[tuple[str, re.Pattern[str], frozenset[str]]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._http = httpx.Client(timeout=UPSTREAM_TIMEOUT)
        self.errors: list[BaseException] = []
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.owner = self
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The proxy's root, e.g. ``http://127.0.0.1:PORT`` (append ``/api/`` for a client)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, release held connections and close the upstream client."""
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
        self._http.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- rules and observations ------------------------------------------------------------

    def add(
        self, method: str, path: str, fault: Fault, *, nth: int = 1, count: int | None = 1
    ) -> Rule:
        """Add a rule (``method`` may be ``"*"``); the first rule that fires wins."""
        rule = Rule(method.upper(), path, fault, nth=nth, count=count)
        with self._lock:
            self.rules.append(rule)
        return rule

    def drop_params(self, method: str, path: str, *names: str) -> None:
        """Strip query parameters ``names`` from matching requests before forwarding.

        E.g. ``drop_params("POST", r"/event$", "wait_ms")`` makes the backend answer an action
        POST at once, as a server without our long-poll extension (the cloud) does.
        """
        with self._lock:
            self._drops.append((method.upper(), re.compile(path), frozenset(names)))

    def clear(self) -> None:
        """Drop every rule (the log and counters stay)."""
        with self._lock:
            self.rules.clear()

    def requests(self, method: str = "*", path: str = "") -> list[LoggedRequest]:
        """Return the logged requests with ``method`` (``"*"``: any) and a path matching it."""
        pattern = re.compile(path)
        with self._lock:
            return [
                r
                for r in self.log
                if (method == "*" or r.method == method.upper()) and pattern.search(r.path)
            ]

    def count(self, method: str = "*", path: str = "") -> int:
        return len(self.requests(method, path))

    @property
    def total_injected(self) -> int:
        with self._lock:
            return sum(self.injected.values())

    def _arrive(self, method: str, path: str, query: str, body: bytes) -> LoggedRequest:
        """Log a request and pick its fault, atomically (so counts never lag the replies).

        Every matching rule counts the request, so each rule's ``nth`` is independent of
        the others; the first rule that fires wins.
        """
        with self._lock:
            hits = [r for r in self.rules if r.matches(method, path) and r.take()]
            for extra in hits[1:]:
                extra.fired -= 1
            fault = hits[0].fault if hits else None
            if fault is not None:
                self.injected[fault.kind] += 1
            entry = LoggedRequest(
                method, path, query, body, None if fault is None else fault.kind, time.monotonic()
            )
            self.log.append(entry)
            self._faults[id(entry)] = fault
        return entry

    def _fault_of(self, entry: LoggedRequest) -> Fault | None:
        with self._lock:
            return self._faults.pop(id(entry), None)

    def _forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        path, _, query = target.partition("?")
        with self._lock:
            drop = {n for m, p, names in self._drops if m in ("*", method) and p.search(path)
                    for n in names}  # fmt: skip
        params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in drop]
        url = self.upstream + path + ("?" + urlencode(params) if params else "")
        return self._http.request(method, url, headers=headers, content=body)

    def _hold(self, sock: socket.socket, limit: float) -> None:
        """Block until the client closes ``sock``, the proxy stops, or ``limit`` s pass."""
        deadline = time.monotonic() + limit
        while not self._stopping.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        return
                except OSError:
                    return
                # A pipelined byte is not a goodbye; keep holding without busy-looping on it.
                self._stopping.wait(0.05)


class _Server(ThreadingHTTPServer):
    owner: FaultProxy

    def handle_error(self, request: object, client_address: object) -> None:  # noqa: ARG002
        """Keep errors of the proxy itself in ``FaultProxy.errors`` instead of stderr."""
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError):
            with self.owner._lock:
                self.owner.errors.append(error)


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        owner = proxy

    return Handler


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr access log; ``FaultProxy.log`` keeps the record."""

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        entry = self.owner._arrive(self.command, path, query, body)
        fault = self.owner._fault_of(entry)
        reply: httpx.Response | None = None
        if fault is None or fault.when == "after":
            if fault is not None and fault.kind == "slow":
                self.owner._stopping.wait(fault.delay_ms / 1000)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            try:
                reply = self.owner._forward(self.command, self.path, headers, body)
            except httpx.HTTPError:
                entry.status = 502
                self._send(502, b'{"detail": "fault proxy: upstream unreachable"}')
                return
            entry.forwarded = True
        try:
            self._apply(entry, fault, reply)
        except OSError:
            # The client left first (it timed out on a slow reply): nothing was delivered.
            self.close_connection = True
            entry.status = None

    def _apply(
        self, entry: LoggedRequest, fault: Fault | None, reply: httpx.Response | None
    ) -> None:
        """Send the (possibly damaged) reply, setting ``entry.status`` before any byte goes."""
        if fault is None or fault.kind == "slow":
            assert reply is not None
            entry.status = reply.status_code
            self._send(reply.status_code, reply.content, _end_headers(reply))
        elif fault.kind == "status":
            extra = [] if fault.retry_after is None else [("Retry-After", f"{fault.retry_after:g}")]
            text = fault.detail or f"fault proxy: injected {fault.status_code}"
            detail = json.dumps({"detail": text}).encode()
            entry.status = fault.status_code
            self._send(fault.status_code, detail, extra)
        elif fault.kind == "non_json":
            entry.status = fault.status_code
            self._send(fault.status_code, fault.body, content_type="text/html")
        elif fault.kind == "truncate":
            full = reply.content if reply is not None else b'{"r": {"pad": "' + b"x" * 64 + b'"}}'
            entry.status = reply.status_code if reply is not None else 200
            self.send_response(entry.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(full)))
            self.end_headers()
            self.wfile.write(full[: len(full) // 2])
            self.wfile.flush()
            self._drop(rst=False)
        elif fault.kind == "hang":
            self.owner._hold(self.connection, fault.hang_limit)
            self._drop(rst=False)
        else:
            self._drop(rst=True)  # reset

    def _send(
        self,
        code: int,
        body: bytes,
        headers: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(code)
        names = set()
        for name, value in headers or []:
            names.add(name.lower())
            self.send_header(name, value)
        if "content-type" not in names:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self, *, rst: bool) -> None:
        """End the connection: an RST (SO_LINGER 0) for a reset, else an ordinary FIN."""
        self.close_connection = True
        sock = self.connection
        try:
            if rst:
                # Linger 0 + close sends an RST and no FIN; the fd really closes when the
                # handler's rfile is closed, before socketserver's own shutdown (then a no-op).
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client may already be gone; that is the point of most faults


def _end_headers(reply: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in reply.headers.items() if k.lower() not in _HOP_HEADERS]
