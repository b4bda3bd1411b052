"""``GET /api/v1/task/{id}/artifacts/{name}``: a local-backend session's evidence as files.

- ``screenshot.png``: the page now, fields holding a secret masked (409 once closed);
- ``trace.zip``: the Playwright trace so far, with DOM snapshots and the session's frames,
  secrets blanked in every member (409 when tracing is off or none was recorded);
- ``recording.html``: one self-contained page replaying the session's frames (409 without
  frames);
- ``console.json``: ``{"task_id", "entries": [{"type", "text", "url", "time"}], "dropped"}``,
  the pages' last console errors/warnings and uncaught errors, secrets blanked;
- ``downloads.zip``: the files the session downloaded (the task's ``downloads_url``; 409 when
  none). That URL carries the task's token, so it needs no API key, as the cloud's does not.

All but the screenshot stay available after the session closes, while its evidence is kept.
For a finished task whose session is still closing, the reply waits (bounded) for the close,
so it holds the final frame and the whole trace. The names and media types are declared in
the route table (``protocol/routes.py``), which documents them.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import Response
from starlette.routing import Route

from pytest_smooth.server.protocol.evidence import Evidence
from pytest_smooth.server.protocol.evidence import TaskLookup
from pytest_smooth.server.protocol.routes import API_PREFIX
from pytest_smooth.server.protocol.routes import ARTIFACTS

TRACING_OFF = (
    "no trace: tracing is off on this local backend (LocalServer(tracing=False) or"
    " python -m pytest_smooth.server --no-tracing)"
)
NO_RECORDING = (
    "no recording: the session kept no screencast frames"
    " (opened with enable_recording=False, closed with keep_evidence=False, or its evidence"
    " was dropped)"
)
NO_TRACE = (
    "no trace was recorded for this task (opened with enable_recording=False, closed with"
    " keep_evidence=False, or its evidence was dropped)"
)
_NO_STORE = {"Cache-Control": "no-store"}


def _detail(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status)


class ArtifactFiles:
    """Serve each artifact of one ``TaskLookup``'s tasks from ``Evidence``."""

    def __init__(self, store: TaskLookup, evidence: Evidence) -> None:
        self.store = store
        self.evidence = evidence

    async def serve(self, task_id: str, name: str) -> Response:
        """Answer the artifact ``name`` (one of ``ARTIFACTS``) of a known task."""
        if name == "screenshot.png":
            return await self.screenshot(task_id)
        if name == "trace.zip" and not self.evidence.tracing:
            return _detail(409, TRACING_OFF)
        await self.evidence.settle(task_id, self.store.task_status(task_id))
        if name == "trace.zip":
            return await self.trace(task_id)
        if name == "recording.html":
            return self.recording(task_id)
        if name == "downloads.zip":
            return await self.downloads(task_id)
        return self.console(task_id)

    async def screenshot(self, task_id: str) -> Response:
        try:
            return Response(await self.evidence.screenshot(task_id), media_type="image/png")
        except KeyError:
            return _detail(409, "no screenshot: the session is closed")

    async def trace(self, task_id: str) -> Response:
        data = await self.evidence.trace_zip(task_id)
        if data is None:
            return _detail(409, NO_TRACE)
        return Response(data, media_type="application/zip", headers=_NO_STORE)

    def recording(self, task_id: str) -> Response:
        document = self.evidence.recording_html(task_id)
        if document is None:
            return _detail(409, NO_RECORDING)
        return HTMLResponse(document, headers=_NO_STORE)

    async def downloads(self, task_id: str) -> Response:
        data = await self.evidence.downloads_zip(task_id)
        if data is None:
            return _detail(409, "no downloads: the session downloaded no file (or it was dropped)")
        return Response(data, media_type="application/zip", headers=_NO_STORE)

    def console(self, task_id: str) -> Response:
        document = self.evidence.console(task_id)
        if document is None:
            return _detail(409, "no console log: the session's evidence was dropped")
        return JSONResponse(document, headers=_NO_STORE)


def _token_ok(store: TaskLookup, task_id: str, token: str) -> bool:
    """Tell whether ``token`` is the task's (its downloads_url works without the API key)."""
    return bool(token) and store.has_task(task_id) and store.check_token(task_id, token)


def artifact_route(
    store: TaskLookup, evidence: Evidence | None, auth_error: Callable[[Request], Response | None]
) -> Route:
    """Return the route serving ``ARTIFACTS`` of ``store``'s tasks from ``evidence``."""
    files = None if evidence is None else ArtifactFiles(store, evidence)

    async def artifact(request: Request) -> Response:
        task_id, name = request.path_params["id"], request.path_params["name"]
        denied = auth_error(request)
        token = request.query_params.get("token", "")
        if denied is not None and not (
            name == "downloads.zip" and _token_ok(store, task_id, token)
        ):
            return denied
        if name not in ARTIFACTS:
            return _detail(404, f"unknown artifact {name!r}; known: {', '.join(ARTIFACTS)}")
        if not store.has_task(task_id):
            return _detail(404, "Task not found")
        if files is None:
            return _detail(409, "artifacts need the local Playwright executor")
        return await files.serve(task_id, name)

    return Route(API_PREFIX + "/task/{id}/artifacts/{name}", artifact, methods=["GET"])
