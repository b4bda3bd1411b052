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
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route

from pytest_smooth._core.constants import FINISHED_STATUSES
from pytest_smooth.server.http.live_pages import LIVE_PAGE
from pytest_smooth.server.http.live_pages import RECORDING_PAGE

# Longest wait for a finished task's session to finish closing before serving its recording.
SETTLE_TIMEOUT = 10.0

# Token-bearing pages: never cached, never leaked through Referer.
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _error(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status, headers=_HEADERS)


def _task_status(store: Any, task_id: str) -> str | None:
    snapshot = store.task_snapshot(task_id)
    return None if snapshot is None else str(snapshot.get("status"))


def live_routes(store: Any, evidence: Any) -> list[BaseRoute]:
    """Return the live-view and recording routes over ``store`` (tokens) and ``evidence``."""

    def guard(request: Request) -> tuple[str, str] | Response:
        task_id = request.path_params["task_id"]
        if not store.has_task(task_id):
            return _error(404, "Task not found")
        token = request.query_params.get("token", "")
        if not token or not store.check_token(task_id, token):
            return _error(403, "a valid token is required (it is part of the live/recording URL)")
        return task_id, token

    async def settled(task_id: str) -> None:
        # A finished task's session may still be closing (final frame, trace): wait for it,
        # so the replay lists the whole recording.
        wait_closed = getattr(evidence, "wait_closed", None)
        finished = _task_status(store, task_id) in FINISHED_STATUSES
        if finished and callable(wait_closed) and evidence.is_open(task_id):
            await wait_closed(task_id, SETTLE_TIMEOUT)

    def page(template: str, task_id: str, token: str) -> Response:
        base = f"/{quote(task_id)}"
        body = (
            template.replace("{{TITLE}}", html.escape(task_id))
            .replace("{{TASK_JSON}}", json.dumps(task_id))
            .replace("{{BASE_JSON}}", json.dumps(base))
            .replace("{{TOKEN_JSON}}", json.dumps(token))
        )
        return HTMLResponse(body, headers=_HEADERS)

    async def live_page(request: Request) -> Response:
        checked = guard(request)
        return checked if isinstance(checked, Response) else page(LIVE_PAGE, *checked)

    async def live_frame(request: Request) -> Response:
        checked = guard(request)
        if isinstance(checked, Response):
            return checked
        watch = getattr(evidence, "watch", None)
        if callable(watch):
            watch(checked[0])  # a session that does not record films only while watched
        frame = evidence.latest_frame(checked[0])
        if frame is None:
            return _error(404, "no frame yet")
        if request.query_params.get("since") == str(frame[0]):
            return Response(status_code=204, headers=_HEADERS)  # the viewer has this one
        headers = {**_HEADERS, "X-Frame-Timestamp": str(frame[0])}
        return Response(frame[1], media_type="image/jpeg", headers=headers)

    async def live_status(request: Request) -> Response:
        checked = guard(request)
        if isinstance(checked, Response):
            return checked
        task_id = checked[0]
        latest = evidence.latest_frame(task_id)
        is_open = getattr(evidence, "is_open", None)
        body = {
            "task_id": task_id,
            "status": _task_status(store, task_id),
            "open": bool(is_open(task_id)) if callable(is_open) else None,
            "frames": len(evidence.frames(task_id)),
            "latest_timestamp": latest[0] if latest else None,
        }
        return JSONResponse(body, headers=_HEADERS)

    async def recording_page(request: Request) -> Response:
        checked = guard(request)
        return checked if isinstance(checked, Response) else page(RECORDING_PAGE, *checked)

    async def frames_json(request: Request) -> Response:
        checked = guard(request)
        if isinstance(checked, Response):
            return checked
        task_id, token = checked
        await settled(task_id)
        frames = evidence.frames(task_id)
        first = frames[0][0] if frames else 0
        listing = [
            {
                "n": n,
                "timestamp": stamp,
                "offset_ms": stamp - first,
                "bytes": len(jpeg),
                "url": f"/recording/{quote(task_id)}/frame/{n}.jpg?token={quote(token)}",
            }
            for n, (stamp, jpeg) in enumerate(frames)
        ]
        body = {"task_id": task_id, "status": _task_status(store, task_id), "frames": listing}
        return JSONResponse(body, headers=_HEADERS)

    async def frame_n(request: Request) -> Response:
        checked = guard(request)
        if isinstance(checked, Response):
            return checked
        frames = evidence.frames(checked[0])
        n = request.path_params["n"]
        if not 0 <= n < len(frames):
            return _error(404, f"no frame {n}: the recording has {len(frames)} frames")
        headers = {**_HEADERS, "X-Frame-Timestamp": str(frames[n][0])}
        return Response(frames[n][1], media_type="image/jpeg", headers=headers)

    async def trace(request: Request) -> Response:
        checked = guard(request)
        if isinstance(checked, Response):
            return checked
        await settled(checked[0])
        try:
            data = await evidence.trace_zip(checked[0])
        except KeyError:
            data = None
        if data is None:
            return _error(404, "no trace was recorded for this task (enable_recording off?)")
        headers = {**_HEADERS, "Content-Disposition": 'attachment; filename="trace.zip"'}
        return Response(data, media_type="application/zip", headers=headers)

    return [
        Route("/live/{task_id}", live_page, methods=["GET"]),
        Route("/live/{task_id}/frame.jpg", live_frame, methods=["GET"]),
        Route("/live/{task_id}/status.json", live_status, methods=["GET"]),
        Route("/recording/{task_id}", recording_page, methods=["GET"]),
        Route("/recording/{task_id}/frames.json", frames_json, methods=["GET"]),
        Route("/recording/{task_id}/frame/{n:int}.jpg", frame_n, methods=["GET"]),
        Route("/recording/{task_id}/trace.zip", trace, methods=["GET"]),
    ]
