"""``GET /api/v1/task/{id}/artifacts/{name}``: a local-backend session's evidence as files.

- ``screenshot.png``: the page now, fields holding a secret masked (409 once closed);
- ``trace.zip``: the Playwright trace so far, with DOM snapshots and the session's frames,
  secrets blanked in every member (409 when tracing is off or none was recorded);
- ``recording.html``: one self-contained page replaying the session's frames (409 without
  frames);
- ``console.json``: ``{"task_id", "entries": [{"type", "text", "url", "time"}], "dropped"}``,
  the pages' last console errors/warnings and uncaught errors, secrets blanked.

All but the screenshot stay available after the session closes, while its evidence is kept.
For a finished task whose session is still closing, the reply waits (bounded) for the close,
so it holds the final frame and the whole trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from pytest_smooth._core.constants import FINISHED_STATUSES

ARTIFACTS = ("screenshot.png", "trace.zip", "recording.html", "console.json")
# Longest wait for a finished task's session to finish closing.
SETTLE_TIMEOUT = 10.0
TRACING_OFF = (
    "no trace: tracing is off on this local backend (LocalServer(tracing=False) or"
    " python -m pytest_smooth.server --no-tracing)"
)
_NO_STORE = {"Cache-Control": "no-store"}


def _detail(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status)


def artifact_route(
    store: Any, evidence: Any, auth_error: Callable[[Request], Response | None]
) -> Route:
    """Return the route serving ``ARTIFACTS`` of ``store``'s tasks from ``evidence``."""

    async def settled(task_id: str) -> None:
        wait_closed = getattr(evidence, "wait_closed", None)
        snapshot = store.task_snapshot(task_id) or {}
        finished = snapshot.get("status") in FINISHED_STATUSES
        if finished and callable(wait_closed) and evidence.is_open(task_id):
            await wait_closed(task_id, SETTLE_TIMEOUT)

    async def serve(task_id: str, name: str) -> Response:
        if name == "screenshot.png":
            try:
                return Response(await evidence.screenshot(task_id), media_type="image/png")
            except KeyError:
                return _detail(409, "no screenshot: the session is closed")
        if name == "trace.zip" and getattr(evidence, "tracing", True) is False:
            return _detail(409, TRACING_OFF)
        await settled(task_id)
        if name == "trace.zip":
            data = await evidence.trace_zip(task_id)
            if data is None:
                return _detail(409, "no trace was recorded for this task")
            return Response(data, media_type="application/zip", headers=_NO_STORE)
        reader = getattr(
            evidence, "recording_html" if name == "recording.html" else "console", None
        )
        document = reader(task_id) if callable(reader) else None
        if name == "recording.html":
            if document is None:
                return _detail(
                    409, "no recording: the session kept no screencast frames"
                    " (opened with enable_recording=False, or its evidence was dropped)",
                )  # fmt: skip
            return HTMLResponse(document, headers=_NO_STORE)
        if document is None:
            return _detail(409, "no console log: the session's evidence was dropped")
        return JSONResponse(document, headers=_NO_STORE)

    async def artifact(request: Request) -> Response:
        denied = auth_error(request)
        if denied is not None:
            return denied
        task_id, name = request.path_params["id"], request.path_params["name"]
        if name not in ARTIFACTS:
            return _detail(404, f"unknown artifact {name!r}; known: {', '.join(ARTIFACTS)}")
        if not store.has_task(task_id):
            return _detail(404, "Task not found")
        if evidence is None:
            return _detail(409, "artifacts need the local Playwright executor")
        return await serve(task_id, name)

    return Route("/api/v1/task/{id}/artifacts/{name}", artifact, methods=["GET"])
