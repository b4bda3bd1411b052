"""The Starlette adapter around the protocol's ``ApiHandler``: auth, bodies, limits, routes.

Every response is JSON (``application/json``), errors included, so smooth-py's aiohttp keeps the
real status. All store calls happen on the event loop's thread, as ``executor.py`` requires.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
from collections.abc import AsyncIterator
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route
from starlette.types import Lifespan

from pytest_smooth._core.constants import API_KEY_HEADER
from pytest_smooth.server.http.artifacts import artifact_route
from pytest_smooth.server.http.body import DEFAULT_MAX_JSON_BYTES
from pytest_smooth.server.http.body import DEFAULT_MAX_UPLOAD_BYTES
from pytest_smooth.server.http.body import read_limited
from pytest_smooth.server.http.live import live_routes
from pytest_smooth.server.http.waiters import Waiters
from pytest_smooth.server.protocol.bodies import BodyError
from pytest_smooth.server.protocol.bodies import parse_json
from pytest_smooth.server.protocol.bodies import parse_multipart
from pytest_smooth.server.protocol.evidence import Evidence
from pytest_smooth.server.protocol.handler import ApiHandler
from pytest_smooth.server.protocol.openapi import openapi_document
from pytest_smooth.server.protocol.store import Store

logger = logging.getLogger("pytest_smooth.server")

API_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
UPLOAD_PATHS = frozenset({"/api/v1/file", "/api/v1/extension"})
DEFAULT_REAP_INTERVAL = 5.0


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


def detail(status: int, message: Any, headers: dict[str, str] | None = None) -> JSON:
    """Build an error response ``{"detail": message}``."""
    return JSON({"detail": message}, status, headers=headers)


class ApiKeyCheck:
    """The ``apikey`` header check (constant-time); returns the 401 response, or None."""

    def __init__(self, api_key: str) -> None:
        self._expected = api_key.encode()

    def __call__(self, request: Request) -> Response | None:
        given = request.headers.get(API_KEY_HEADER)
        if not given:
            return detail(401, f"Missing API key: send it in the '{API_KEY_HEADER}' header")
        if not hmac.compare_digest(given.encode(), self._expected):
            return detail(401, "Invalid API key")
        return None


class ApiEndpoint:
    """``/api/...``: the API key, the body within its limit, then the protocol's handler."""

    def __init__(
        self, handler: ApiHandler, auth: ApiKeyCheck, waiters: Waiters, limits: tuple[int, int]
    ) -> None:
        self._handler = handler
        self._auth = auth
        self._waiters = waiters
        self._max_json, self._max_upload = limits

    async def serve(self, request: Request) -> Response:
        """Answer one API request (held ones wait on the store's changes)."""
        denied = self._auth(request)
        if denied is not None:
            return denied
        try:
            body = await self._read_body(request)
        except BodyError as exc:
            return detail(exc.status, exc.detail)
        query = dict(request.query_params)
        changes = self._waiters.signal(request)
        status, reply = await self._handler.serve(
            request.method, request.url.path, query, body, changes
        )
        return JSON(reply, status)

    async def _read_body(self, request: Request) -> Any:
        if request.method not in BODY_METHODS:
            return None  # a body on GET/DELETE means nothing here; it is not even read
        if request.url.path in UPLOAD_PATHS and request.method == "POST":
            raw = await read_limited(request, self._max_upload)
            return parse_multipart(request.headers.get("content-type", ""), raw)
        return parse_json(await read_limited(request, self._max_json))


def idle_reaper(store: Store, interval: float, now_ms: Callable[[], int]) -> Lifespan[Starlette]:
    """Return the app's lifespan: close idle sessions every ``interval`` seconds."""

    async def reap() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                store.reap_idle(now_ms())
            except Exception:  # a store bug must not end reaping for the whole run
                logger.exception("reaping idle sessions failed")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        reaper = asyncio.create_task(reap())
        try:
            yield
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper

    return lifespan


async def _openapi(_: Request) -> Response:
    return JSON(openapi_document())


async def _http_error(_: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return detail(exc.status_code, exc.detail, dict(exc.headers or {}))
    return detail(500, f"internal error: {type(exc).__name__}")


def create_app(
    store: Store,
    *,
    api_key: str,
    evidence: Evidence | None = None,
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    reap_interval: float = DEFAULT_REAP_INTERVAL,
    clock: Callable[[], int] | None = None,
) -> Starlette:
    """Build the ASGI app serving ``store`` under ``/api/v1`` (plus live and OpenAPI routes)."""
    waiters = Waiters()
    waiters.attach(store)
    auth = ApiKeyCheck(api_key)
    api = ApiEndpoint(ApiHandler(store), auth, waiters, (max_json_bytes, max_upload_bytes))
    routes: list[BaseRoute] = [
        Route("/openapi.json", _openapi, methods=["GET"]),
        artifact_route(store, evidence, auth),
        Route("/api/{rest:path}", api.serve, methods=API_METHODS),
        *(live_routes(store, evidence) if evidence is not None else []),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _http_error},
        lifespan=idle_reaper(store, reap_interval, clock or store.clock),
    )
