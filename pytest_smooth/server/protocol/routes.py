"""The route table of the store: every Smooth API path under ``/api/v1`` (smooth-api.md §1.2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.protocol.events import post_event
from pytest_smooth.server.protocol.events import put_task
from pytest_smooth.server.protocol.resources import Reply
from pytest_smooth.server.protocol.resources import err
from pytest_smooth.server.protocol.resources import ok

if TYPE_CHECKING:
    from pytest_smooth.server.protocol.store import Store

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Call:
    """One routed request: the path's id (or ""), the query and the parsed body."""

    id: str
    query: Mapping[str, str]
    body: Any


Handler = Callable[["Store", Call], Reply]
_ID = r"(?P<id>[^/]+)"

# (method, path pattern below /api/v1, handler)
_TABLE: list[tuple[str, str, Handler]] = [
    ("POST", "/task", lambda s, c: s.create_task(c.body)),
    ("GET", "/task", lambda s, c: s.list_tasks(c.query)),
    ("GET", f"/task/{_ID}", lambda s, c: s.get_task(c.id, c.query)),
    ("DELETE", f"/task/{_ID}", lambda s, c: s.delete_task(c.id)),
    ("PUT", f"/task/{_ID}", lambda s, c: put_task(s, c.id, c.body)),
    ("POST", f"/task/{_ID}/event", lambda s, c: post_event(s, c.id, c.body)),
    ("DELETE", f"/task/{_ID}/data", lambda s, c: s.delete_task_data(c.id)),
    ("POST", "/profile", lambda s, c: s.resources.create_profile(c.body)),
    ("GET", "/profile", lambda s, _: s.resources.list_profiles()),
    ("DELETE", f"/profile/{_ID}", lambda s, c: s.resources.delete_profile(c.id)),
    ("POST", "/file", lambda s, c: s.resources.upload_file(c.body)),
    ("DELETE", f"/file/{_ID}", lambda s, c: s.resources.delete_file(c.id)),
    ("POST", "/extension", lambda s, c: s.resources.upload_extension(c.body)),
    ("GET", "/extension", lambda s, _: s.resources.list_extensions()),
    # The SDK deletes at /extension/{id}, the openapi document at /browser/extension/{id}.
    ("DELETE", f"/extension/{_ID}", lambda s, c: s.resources.delete_extension(c.id)),
    ("GET", "/browser/extension", lambda s, _: s.resources.list_extensions()),
    ("DELETE", f"/browser/extension/{_ID}", lambda s, c: s.resources.delete_extension(c.id)),
    ("POST", "/browser/session", lambda s, c: s.open_browser_session(c.body)),
    ("DELETE", f"/browser/session/{_ID}", lambda s, c: s.delete_task(c.id)),
    ("POST", "/telemetry", lambda s, c: s.resources.telemetry(c.body)),
    ("GET", "/local/stats", lambda s, _: ok(s.stats())),
]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(pattern + r"\Z"), handler) for method, pattern, handler in _TABLE
]


def route(store: Store, method: str, path: str, query: Mapping[str, str], body: Any) -> Reply:
    """Dispatch one request to the store: 404 for unknown paths, 405 for wrong methods."""
    if not path.startswith(API_PREFIX + "/"):
        return err(404, "Not Found")
    sub = path[len(API_PREFIX) :].rstrip("/") or "/"
    allowed = False
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(sub)
        if match is None:
            continue
        if route_method != method.upper():
            allowed = True
            continue
        return handler(store, Call(match.groupdict().get("id") or "", query, body))
    return err(405, "Method Not Allowed") if allowed else err(404, "Not Found")
