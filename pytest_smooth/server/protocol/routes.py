"""The route table: every API path under ``/api/v1`` (smooth-api.md §1.2) and what serves it.

Each ``Route`` declares its method, path, the store method that serves it, and what the
OpenAPI document says about it (summary, query parameters, body, result, error statuses), so
``openapi.py`` is generated from this table and cannot drift from what is served. The
artifact routes are served by the HTTP layer (they read the browser's evidence), and only
documented here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from pydantic import BaseModel

from pytest_smooth._core import models as m
from pytest_smooth.server.protocol.resources import Reply
from pytest_smooth.server.protocol.resources import err
from pytest_smooth.server.protocol.resources import ok
from pytest_smooth.server.protocol.store import Store

API_PREFIX = "/api/v1"
# Files of a session's evidence, served by the HTTP layer: name -> (media type, summary).
ARTIFACTS: dict[str, tuple[str, str]] = {
    "screenshot.png": ("image/png", "Screenshot of the session now, secret fields masked"),
    "trace.zip": ("application/zip", "Playwright trace so far, secrets redacted"),
    "recording.html": ("text/html", "Self-contained replay of the session's frames"),
    "console.json": ("application/json", "Last console errors and page errors"),
    "downloads.zip": ("application/zip", "The files the session downloaded (downloads_url)"),
}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
OBJECT: dict[str, Any] = {"type": "object"}


@dataclass(frozen=True)
class Call:
    """One routed request: the path's id (or ""), the query and the parsed body."""

    id: str
    query: Mapping[str, str]
    body: Any


@dataclass(frozen=True)
class Query:
    """A documented query parameter."""

    name: str
    schema: dict[str, Any]
    description: str


@dataclass(frozen=True)
class Body:
    """A request body: a wire model as JSON, any JSON object (no model), or the upload form."""

    model: type[BaseModel] | None = None
    upload: bool = False
    required: bool = True


Serve = Callable[[Store, Call], Reply]
# What a route may hold its answer for, given ``wait_ms``: new events, or an action's reply.
Hold = Literal["events", "reply"]


@dataclass(frozen=True)
class Route:
    """One operation: ``serve`` is None when the HTTP layer serves it (the artifacts)."""

    method: str
    path: str  # below API_PREFIX; "{id}" stands for the path's id
    summary: str
    serve: Serve | None
    result: type[BaseModel] | dict[str, Any] = field(default_factory=lambda: BOOLEAN)
    many: bool = False  # the result is a list of ``result``
    errors: tuple[int, ...] = ()
    query: tuple[Query, ...] = ()
    body: Body | None = None
    ok_codes: tuple[int, ...] = (200,)
    hold: Hold | None = None
    file_type: str | None = None  # a media type: the result is a file of it, not JSON

    @property
    def pattern(self) -> re.Pattern[str]:
        """The regex of ``path`` (the id as the group ``id``)."""
        return re.compile(re.escape(self.path).replace(r"\{id\}", r"(?P<id>[^/]+)") + r"\Z")


EVENT_T = Query("event_t", {"type": "integer", "default": 0}, "events newer than (ms)")
DOWNLOADS = Query("downloads", {"type": "boolean", "default": False}, "fill downloads_url")
LONG_POLL = Query("wait_ms", {"type": "integer", "maximum": 10000}, "long poll (ms)")
HELD_REPLY = Query(
    "wait_ms",
    {"type": "integer", "maximum": 10000},
    "hold the ack until the action's reply (ms); it then carries 'reply' (null: none yet)",
)
LIST_QUERY = (
    Query("t", {"type": "integer"}, "created before (ms)"),
    Query("l", {"type": "integer", "minimum": 1, "maximum": 128}, "limit"),
)


def _task_routes() -> list[Route]:
    return [
        Route("POST", "/task", "Run a task, or open a session (task null)",
              lambda s, c: s.create_task(c.body), m.TaskResponse, errors=(400, 422),
              body=Body(m.TaskRequest)),
        Route("GET", "/task", "List tasks", lambda s, c: s.list_tasks(c.query),
              m.TaskResponse, many=True, errors=(422,), query=LIST_QUERY),
        Route("GET", "/task/{id}", "Status, output and new events",
              lambda s, c: s.get_task(c.id, c.query), m.TaskResponse, errors=(404, 422),
              query=(EVENT_T, DOWNLOADS, LONG_POLL), ok_codes=(200, 202), hold="events"),
        Route("DELETE", "/task/{id}", "Cancel the task or force-close the session",
              lambda s, c: s.delete_task(c.id), errors=(404,)),
        Route("PUT", "/task/{id}", "Deprecated tool reply",
              lambda s, c: s.put_task(c.id, c.body), errors=(400, 404, 422), body=Body()),
        Route("POST", "/task/{id}/event", "Send an action or a tool-call reply",
              lambda s, c: s.post_event(c.id, c.body), m.EventAck, errors=(400, 404, 422),
              query=(HELD_REPLY,), body=Body(m.RequestEvent), hold="reply"),
        Route("DELETE", "/task/{id}/data", "Wipe a finished task's data",
              lambda s, c: s.delete_task_data(c.id), errors=(400, 404)),
        *(
            Route("GET", f"/task/{{id}}/artifacts/{name}", summary, None,
                  errors=(404, 409, 500), file_type=media_type)
            for name, (media_type, summary) in ARTIFACTS.items()
        ),
    ]  # fmt: skip


def _resource_routes() -> list[Route]:
    extensions = m.Extension
    return [
        Route("POST", "/profile", "Create a profile",
              lambda s, c: s.resources.create_profile(c.body), m.ProfileResponse,
              errors=(409, 422), body=Body(m.ProfileRequest)),
        Route("GET", "/profile", "List profiles", lambda s, _: s.resources.list_profiles(),
              m.ProfileResponse, many=True),
        Route("DELETE", "/profile/{id}", "Delete a profile",
              lambda s, c: s.resources.delete_profile(c.id), errors=(404,)),
        Route("POST", "/file", "Upload a file", lambda s, c: s.resources.upload_file(c.body),
              m.UploadResponse, errors=(400,), body=Body(upload=True)),
        Route("DELETE", "/file/{id}", "Delete a file",
              lambda s, c: s.resources.delete_file(c.id), errors=(404,)),
        Route("POST", "/extension", "Upload a Chrome extension (.zip)",
              lambda s, c: s.resources.upload_extension(c.body), m.UploadResponse,
              errors=(400,), body=Body(upload=True)),
        Route("GET", "/extension", "List extensions",
              lambda s, _: s.resources.list_extensions(), extensions, many=True),
        # The SDK deletes at /extension/{id}, the openapi document at /browser/extension/{id}.
        Route("DELETE", "/extension/{id}", "Delete an extension (SDK path)",
              lambda s, c: s.resources.delete_extension(c.id), errors=(404,)),
        Route("GET", "/browser/extension", "List extensions (old path)",
              lambda s, _: s.resources.list_extensions(), extensions, many=True),
        Route("DELETE", "/browser/extension/{id}", "Delete an extension (openapi path)",
              lambda s, c: s.resources.delete_extension(c.id), errors=(404,)),
        Route("POST", "/browser/session", "Deprecated: open an interactive session",
              lambda s, c: s.open_browser_session(c.body), OBJECT, errors=(400, 422),
              body=Body(required=False)),
        Route("DELETE", "/browser/session/{id}", "Deprecated: close a session",
              lambda s, c: s.delete_task(c.id), errors=(404,)),
        Route("POST", "/telemetry", "SDK telemetry sink",
              lambda s, c: s.resources.telemetry(c.body), body=Body(m.TelemetryBody)),
        Route("GET", "/local/stats", "Local backend statistics", lambda s, _: ok(s.stats()),
              {"type": "object", "additionalProperties": True}),
    ]  # fmt: skip


@dataclass(frozen=True)
class Match:
    """A served route and the id its path carried ("" when none)."""

    route: Route
    id: str

    def serve(self, store: Store, query: Mapping[str, str], body: Any) -> Reply:
        """Answer the request with the route's store method."""
        assert self.route.serve is not None  # RouteTable.match only finds served routes
        return self.route.serve(store, Call(self.id, query, body))


class RouteTable:
    """Match a method and path to a ``Route``; dispatch it to the store."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._patterns = [(route, route.pattern) for route in routes]

    def match(self, method: str, path: str) -> Match | Reply:
        """Find the route of ``path`` (with /api/v1): 404 for unknown paths, 405 for methods.

        Routes the HTTP layer serves (``serve`` None) never match here.
        """
        if not path.startswith(API_PREFIX + "/"):
            return err(404, "Not Found")
        sub = path[len(API_PREFIX) :].rstrip("/") or "/"
        allowed = False
        for route, pattern in self._patterns:
            found = pattern.match(sub) if route.serve is not None else None
            if found is None:
                continue
            if route.method != method.upper():
                allowed = True
                continue
            return Match(route, found.groupdict().get("id") or "")
        return err(405, "Method Not Allowed") if allowed else err(404, "Not Found")

    def dispatch(
        self, store: Store, method: str, path: str, query: Mapping[str, str], body: Any
    ) -> Reply:
        """Serve one request at once (no held answers): ``(status, body)``."""
        matched = self.match(method, path)
        if not isinstance(matched, Match):
            return matched
        return matched.serve(store, query, body)


ROUTES = RouteTable([*_task_routes(), *_resource_routes()])
