"""Live view and recording replay of local-backend sessions (HTML pages over the screencast).

Routes (the task's token in ``?token=``; 404 for an unknown task, 403 for a wrong token):

- ``/live/{id}``: a page showing the latest frame (about 5 fps) and the task's status;
  ``/live/{id}/frame.jpg`` and ``/live/{id}/status.json`` feed it.
- ``/recording/{id}``: a replay of the kept frames with their timestamps;
  ``/recording/{id}/frames.json``, ``/recording/{id}/frame/{n}.jpg`` and
  ``/recording/{id}/trace.zip`` (the Playwright trace) feed it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route

from pytest_smooth.server.http.live_pages import LIVE_PAGE
from pytest_smooth.server.http.live_pages import RECORDING_PAGE
from pytest_smooth.server.protocol.evidence import Evidence
from pytest_smooth.server.protocol.evidence import TaskLookup

# Token-bearing pages: never cached, never leaked through Referer.
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# An endpoint of a checked task: (request, task id, token) -> response.
Checked = Callable[[Request, str, str], Awaitable[Response]]


def _error(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status, headers=_HEADERS)


def _jpeg(frame: tuple[int, bytes]) -> Response:
    headers = {**_HEADERS, "X-Frame-Timestamp": str(frame[0])}
    return Response(frame[1], media_type="image/jpeg", headers=headers)


def _page(template: str, task_id: str, token: str) -> Response:
    base = f"/{quote(task_id)}"
    body = (
        template.replace("{{TITLE}}", html.escape(task_id))
        .replace("{{TASK_JSON}}", json.dumps(task_id))
        .replace("{{BASE_JSON}}", json.dumps(base))
        .replace("{{TOKEN_JSON}}", json.dumps(token))
    )
    return HTMLResponse(body, headers=_HEADERS)


class LiveView:
    """The live and recording endpoints over ``store`` (tokens, status) and ``evidence``."""

    def __init__(self, store: TaskLookup, evidence: Evidence) -> None:
        self.store = store
        self.evidence = evidence

    def routes(self) -> list[BaseRoute]:
        """Return the Starlette routes, each behind the token check."""
        endpoints: list[tuple[str, Checked]] = [
            ("/live/{task_id}", self.live_page),
            ("/live/{task_id}/frame.jpg", self.live_frame),
            ("/live/{task_id}/status.json", self.live_status),
            ("/recording/{task_id}", self.recording_page),
            ("/recording/{task_id}/frames.json", self.frames_json),
            ("/recording/{task_id}/frame/{n:int}.jpg", self.frame_n),
            ("/recording/{task_id}/trace.zip", self.trace),
        ]
        return [Route(path, self._guarded(serve), methods=["GET"]) for path, serve in endpoints]

    def _guarded(self, serve: Checked) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            task_id = request.path_params["task_id"]
            if not self.store.has_task(task_id):
                return _error(404, "Task not found")
            token = request.query_params.get("token", "")
            if not token or not self.store.check_token(task_id, token):
                message = "a valid token is required (it is part of the live/recording URL)"
                return _error(403, message)
            return await serve(request, task_id, token)

        return endpoint

    async def live_page(self, _: Request, task_id: str, token: str) -> Response:
        return _page(LIVE_PAGE, task_id, token)

    async def live_frame(self, request: Request, task_id: str, _: str) -> Response:
        self.evidence.watch(task_id)  # a session that does not record films only while watched
        frame = self.evidence.latest_frame(task_id)
        if frame is None:
            return _error(404, "no frame yet")
        if request.query_params.get("since") == str(frame[0]):
            return Response(status_code=204, headers=_HEADERS)  # the viewer has this one
        return _jpeg(frame)

    async def live_status(self, _: Request, task_id: str, __: str) -> Response:
        latest = self.evidence.latest_frame(task_id)
        body = {
            "task_id": task_id,
            "status": self.store.task_status(task_id),
            "open": self.evidence.is_open(task_id),
            "frames": len(self.evidence.frames(task_id)),
            "latest_timestamp": latest[0] if latest else None,
        }
        return JSONResponse(body, headers=_HEADERS)

    async def recording_page(self, _: Request, task_id: str, token: str) -> Response:
        return _page(RECORDING_PAGE, task_id, token)

    async def frames_json(self, _: Request, task_id: str, token: str) -> Response:
        status = self.store.task_status(task_id)
        await self.evidence.settle(task_id, status)
        frames = self.evidence.frames(task_id)
        first = frames[0][0] if frames else 0
        listing: list[dict[str, Any]] = [
            {
                "n": n,
                "timestamp": stamp,
                "offset_ms": stamp - first,
                "bytes": len(jpeg),
                "url": f"/recording/{quote(task_id)}/frame/{n}.jpg?token={quote(token)}",
            }
            for n, (stamp, jpeg) in enumerate(frames)
        ]
        body = {"task_id": task_id, "status": self.store.task_status(task_id), "frames": listing}
        return JSONResponse(body, headers=_HEADERS)

    async def frame_n(self, request: Request, task_id: str, _: str) -> Response:
        frames = self.evidence.frames(task_id)
        n = request.path_params["n"]
        if not 0 <= n < len(frames):
            return _error(404, f"no frame {n}: the recording has {len(frames)} frames")
        return _jpeg(frames[n])

    async def trace(self, _: Request, task_id: str, __: str) -> Response:
        await self.evidence.settle(task_id, self.store.task_status(task_id))
        try:
            data = await self.evidence.trace_zip(task_id)
        except KeyError:
            data = None
        if data is None:
            return _error(404, "no trace was recorded for this task (enable_recording off?)")
        headers = {**_HEADERS, "Content-Disposition": 'attachment; filename="trace.zip"'}
        return Response(data, media_type="application/zip", headers=headers)


def live_routes(store: TaskLookup, evidence: Evidence) -> list[BaseRoute]:
    """Return the live-view and recording routes over ``store`` (tokens) and ``evidence``."""
    return LiveView(store, evidence).routes()
