"""The Starlette adapter around the pure ``Store``: auth, JSON envelope, long poll, limits.

Every response is JSON (``application/json``), errors included, so smooth-py's aiohttp keeps the
real status. All store calls happen on the event loop's thread, as ``executor.py`` requires.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib
import importlib.util
import logging
import math
import re
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route

from pytest_smooth._core.constants import API_KEY_HEADER
from pytest_smooth._core.constants import LONG_POLL_PARAM
from pytest_smooth._core.constants import MAX_LONG_POLL
from pytest_smooth.server.http.artifacts import artifact_route
from pytest_smooth.server.http.body import DEFAULT_MAX_JSON_BYTES
from pytest_smooth.server.http.body import DEFAULT_MAX_UPLOAD_BYTES
from pytest_smooth.server.http.body import BodyError
from pytest_smooth.server.http.body import parse_json
from pytest_smooth.server.http.body import parse_multipart
from pytest_smooth.server.http.body import read_limited
from pytest_smooth.server.protocol.events import event_mark
from pytest_smooth.server.protocol.events import held_reply
from pytest_smooth.server.protocol.openapi import openapi_document
from pytest_smooth.server.protocol.store import Store

logger = logging.getLogger("pytest_smooth.server")

API_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
UPLOAD_PATHS = frozenset({"/api/v1/file", "/api/v1/extension"})
EVIDENCE_METHODS = ("screenshot", "trace_zip", "frames", "latest_frame")
DEFAULT_REAP_INTERVAL = 5.0
# POST /task/{id}/event: with wait_ms, the ack also carries the action's reply (our extension).
_EVENT_PATH = re.compile(r"/api/v1/task/([^/]+)/event/?\Z")


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (not JSON) with None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class JSON(JSONResponse):
    """A JSON response that never fails on NaN (a page's JS may return one)."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except ValueError:
            return super().render(_finite(content))


def _budget(wait: str) -> float | None:
    """Seconds of a ``wait_ms`` hold, capped at MAX_LONG_POLL (None: not an integer)."""
    try:
        return min(max(int(wait), 0) / 1000, MAX_LONG_POLL)
    except ValueError:
        return None


def detail(status: int, message: Any, headers: dict[str, str] | None = None) -> JSON:
    """Build an error response ``{"detail": message}``."""
    return JSON({"detail": message}, status, headers=headers)


class Waiters:
    """Per-task wake-ups for long polls, fed by the store's ``on_change``."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}

    def notify(self, task_id: str) -> None:
        for event in self._events.get(task_id, ()):
            event.set()

    @contextlib.contextmanager
    def watch(self, task_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._events.setdefault(task_id, set()).add(event)
        try:
            yield event
        finally:
            watchers = self._events.get(task_id, set())
            watchers.discard(event)
            if not watchers:
                self._events.pop(task_id, None)


def is_evidence_source(executor: object) -> bool:
    """Tell whether the executor also offers screenshots, traces and screencast frames."""
    return all(callable(getattr(executor, name, None)) for name in EVIDENCE_METHODS)


def _live_routes(store: Store, evidence: Any) -> list[BaseRoute]:
    """Return the live/recording routes of ``server/live.py`` when that module exists."""
    name = f"{__package__}.live"
    if evidence is None or importlib.util.find_spec(name) is None:
        return []
    routes: list[BaseRoute] = importlib.import_module(name).live_routes(store, evidence)
    return routes


def create_app(
    store: Store,
    *,
    api_key: str,
    evidence: Any = None,
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    reap_interval: float = DEFAULT_REAP_INTERVAL,
    clock: Callable[[], int] | None = None,
) -> Starlette:
    """Build the ASGI app serving ``store`` under ``/api/v1`` (plus live and OpenAPI routes)."""
    waiters = Waiters()
    previous = store.on_change

    def on_change(task_id: str) -> None:
        waiters.notify(task_id)
        if previous is not None:
            previous(task_id)

    store.on_change = on_change
    expected = api_key.encode()
    now_ms = clock or store.clock

    def auth_error(request: Request) -> JSON | None:
        given = request.headers.get(API_KEY_HEADER)
        if not given:
            return detail(401, f"Missing API key: send it in the '{API_KEY_HEADER}' header")
        if not hmac.compare_digest(given.encode(), expected):
            return detail(401, "Invalid API key")
        return None

    async def read_body(request: Request) -> Any:
        if request.method not in BODY_METHODS:
            return None  # a body on GET/DELETE means nothing here; it is not even read
        if request.url.path in UPLOAD_PATHS and request.method == "POST":
            raw = await read_limited(request, max_upload_bytes)
            return parse_multipart(request.headers.get("content-type", ""), raw)
        return parse_json(await read_limited(request, max_json_bytes))

    async def api(request: Request) -> Response:
        denied = auth_error(request)
        if denied is not None:
            return denied
        try:
            body = await read_body(request)
        except BodyError as exc:
            return detail(exc.status, exc.detail)
        path, query = request.url.path, dict(request.query_params)
        wait = query.get(LONG_POLL_PARAM)
        held = _EVENT_PATH.match(path) if wait and request.method == "POST" else None
        if held is None:
            status, reply = store.handle(request.method, path, query, body)
            if status == 202 and request.method == "GET" and wait and "events" in reply["r"]:
                status, reply = await long_poll(request, path, query, wait, status, reply)
            return JSON(reply, status)
        budget = _budget(wait or "")
        if budget is None:  # refused before the event runs, not after
            return detail(422, f"{LONG_POLL_PARAM} must be an integer (milliseconds)")
        task_id = held.group(1)
        mark = event_mark(store, task_id)
        status, reply = store.handle(request.method, path, query, body)
        if status == 200 and isinstance(reply["r"], dict) and "id" in reply["r"]:
            event = await hold_reply(request, task_id, reply["r"]["id"], mark, budget)
            reply = {"r": {**reply["r"], "reply": event}}
        return JSON(reply, status)

    async def hold_reply(
        request: Request, task_id: str, event_id: str, mark: int, budget: float
    ) -> dict[str, Any] | None:
        """Wait (woken by the store's changes) until the action's reply is there, or budget."""
        done, event = held_reply(store, task_id, event_id, mark)
        if done:
            return event
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        woken = False
        with waiters.watch(task_id) as changed:
            while True:
                changed.clear()
                done, event = held_reply(store, task_id, event_id, mark)
                remaining = deadline - loop.time()
                if done or remaining <= 0:
                    return event
                if woken and await request.is_disconnected():  # not on the hot first wait
                    return None
                with contextlib.suppress(asyncio.TimeoutError):  # not builtins' on 3.10
                    await asyncio.wait_for(changed.wait(), remaining)
                woken = True

    async def long_poll(
        request: Request, path: str, query: dict[str, str], wait: str, status: int, reply: Any
    ) -> tuple[int, Any]:
        budget = _budget(wait)
        if budget is None:
            return 422, {"detail": f"{LONG_POLL_PARAM} must be an integer (milliseconds)"}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        task_id = reply["r"]["id"]
        while status == 202 and not reply["r"]["events"]:
            remaining = deadline - loop.time()
            if remaining <= 0 or await request.is_disconnected():
                break
            with waiters.watch(task_id) as changed:
                with contextlib.suppress(asyncio.TimeoutError):  # not builtins' on 3.10
                    await asyncio.wait_for(changed.wait(), remaining)
            status, reply = store.handle("GET", path, query, None)
        return status, reply

    async def openapi(_: Request) -> Response:
        return JSON(openapi_document())

    async def http_error(_: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return detail(exc.status_code, exc.detail, dict(exc.headers or {}))
        return detail(500, f"internal error: {type(exc).__name__}")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async def reap() -> None:
            while True:
                await asyncio.sleep(reap_interval)
                try:
                    store.reap_idle(now_ms())
                except Exception:  # a store bug must not end reaping for the whole run
                    logger.exception("reaping idle sessions failed")

        reaper = asyncio.create_task(reap())
        try:
            yield
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper

    routes: list[BaseRoute] = [
        Route("/openapi.json", openapi, methods=["GET"]),
        artifact_route(store, evidence, auth_error),
        Route("/api/{rest:path}", api, methods=API_METHODS),
        *_live_routes(store, evidence),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: http_error},
        lifespan=lifespan,
    )
