"""The local backend's OpenAPI 3.1 document: every route, its parameters and response shapes.

Schemas come from the wire models in ``_models`` so the document cannot drift from them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pytest_smooth._core import models as m
from pytest_smooth._core.constants import API_KEY_HEADER

REF = "#/components/schemas/{model}"
_MODELS: tuple[type[BaseModel], ...] = (
    m.TaskRequest,
    m.TaskResponse,
    m.TaskEvent,
    m.RequestEvent,
    m.EventAck,
    m.ProfileRequest,
    m.ProfileResponse,
    m.UploadResponse,
    m.Extension,
    m.TelemetryBody,
    m.ErrorBody,
)


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=name)}


def _envelope(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["r"], "properties": {"r": schema}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _json(_ref("ErrorBody"), "error: {detail}")
_BOOL = _envelope({"type": "boolean"})
_PATH_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_UPLOAD_FORM = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "file_purpose": {"type": "string", "maxLength": 64},
                },
            }
        }
    },
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _op(
    summary: str,
    ok: dict[str, Any],
    errors: tuple[int, ...],
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    ok_codes: tuple[int, ...] = (200,),
) -> dict[str, Any]:
    responses: dict[str, Any] = {str(code): _json(ok, "success") for code in ok_codes}
    # Every route needs the apikey; a route with a body also refuses a malformed or huge one.
    codes = (*errors, 401, *((400, 413) if body else ()))
    responses.update({str(code): _ERROR for code in sorted(set(codes))})
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    return op


def _artifact(summary: str, media_type: str) -> dict[str, Any]:
    op = _op(summary, {}, (404, 409, 500), params=[_PATH_ID])
    binary = {"type": "string", "format": "binary"}
    op["responses"]["200"] = {
        "description": media_type,
        "content": {media_type: {"schema": binary}},
    }
    return op


def _json_body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _paths() -> dict[str, Any]:
    task = _envelope(_ref("TaskResponse"))
    event_t = _query("event_t", {"type": "integer", "default": 0}, "events newer than (ms)")
    wait_ms = _query("wait_ms", {"type": "integer", "maximum": 10000}, "long poll (ms)")
    event_wait = _query(
        "wait_ms",
        {"type": "integer", "maximum": 10000},
        "hold the ack until the action's reply (ms); it then carries 'reply' (null: none yet)",
    )
    downloads = _query("downloads", {"type": "boolean", "default": False}, "fill downloads_url")
    by_id = [_PATH_ID]
    ext_list = _envelope({"type": "array", "items": _ref("Extension")})
    stats = _envelope({"type": "object", "additionalProperties": True})
    put_body = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "/api/v1/task": {
            "post": _op(
                "Run a task, or open a session (task null)",
                task,
                (400, 422),
                body=_json_body("TaskRequest"),
            ),
            "get": _op(
                "List tasks",
                _envelope({"type": "array", "items": _ref("TaskResponse")}),
                (422,),
                params=[
                    _query("t", {"type": "integer"}, "created before (ms)"),
                    _query("l", {"type": "integer", "minimum": 1, "maximum": 128}, "limit"),
                ],
            ),
        },
        "/api/v1/task/{id}": {
            "get": _op(
                "Status, output and new events",
                task,
                (404, 422),
                params=[_PATH_ID, event_t, downloads, wait_ms],
                ok_codes=(200, 202),
            ),
            "delete": _op(
                "Cancel the task or force-close the session", _BOOL, (404,), params=by_id
            ),
            "put": _op(
                "Deprecated tool reply", _BOOL, (400, 404, 422), params=by_id, body=put_body
            ),
        },
        "/api/v1/task/{id}/event": {
            "post": _op(
                "Send an action or a tool-call reply",
                _envelope(_ref("EventAck")),
                (400, 404, 422),
                params=[_PATH_ID, event_wait],
                body=_json_body("RequestEvent"),
            ),
        },
        "/api/v1/task/{id}/data": {
            "delete": _op("Wipe a finished task's data", _BOOL, (400, 404), params=by_id),
        },
        "/api/v1/task/{id}/artifacts/screenshot.png": {
            "get": _artifact("Screenshot of the session now, secret fields masked", "image/png"),
        },
        "/api/v1/task/{id}/artifacts/trace.zip": {
            "get": _artifact("Playwright trace so far, secrets redacted", "application/zip"),
        },
        "/api/v1/task/{id}/artifacts/recording.html": {
            "get": _artifact("Self-contained replay of the session's frames", "text/html"),
        },
        "/api/v1/task/{id}/artifacts/console.json": {
            "get": _artifact("Last console errors and page errors", "application/json"),
        },
        "/api/v1/profile": {
            "post": _op(
                "Create a profile",
                _envelope(_ref("ProfileResponse")),
                (409, 422),
                body=_json_body("ProfileRequest"),
            ),
            "get": _op(
                "List profiles", _envelope({"type": "array", "items": _ref("ProfileResponse")}), ()
            ),
        },
        "/api/v1/profile/{id}": {"delete": _op("Delete a profile", _BOOL, (404,), params=by_id)},
        "/api/v1/file": {
            "post": _op(
                "Upload a file", _envelope(_ref("UploadResponse")), (400,), body=_UPLOAD_FORM
            ),
        },
        "/api/v1/file/{id}": {"delete": _op("Delete a file", _BOOL, (404,), params=by_id)},
        "/api/v1/extension": {
            "post": _op(
                "Upload a Chrome extension (.zip)",
                _envelope(_ref("UploadResponse")),
                (400,),
                body=_UPLOAD_FORM,
            ),
            "get": _op("List extensions", ext_list, ()),
        },
        "/api/v1/extension/{id}": {
            "delete": _op("Delete an extension (SDK path)", _BOOL, (404,), params=by_id),
        },
        "/api/v1/browser/extension": {"get": _op("List extensions (old path)", ext_list, ())},
        "/api/v1/browser/extension/{id}": {
            "delete": _op("Delete an extension (openapi path)", _BOOL, (404,), params=by_id),
        },
        "/api/v1/browser/session": {
            "post": _op(
                "Deprecated: open an interactive session",
                _envelope({"type": "object"}),
                (400, 422),
                body={"content": {"application/json": {"schema": {"type": "object"}}}},
            ),
        },
        "/api/v1/browser/session/{id}": {
            "delete": _op("Deprecated: close a session", _BOOL, (404,), params=by_id),
        },
        "/api/v1/telemetry": {
            "post": _op("SDK telemetry sink", _BOOL, (), body=_json_body("TelemetryBody")),
        },
        "/api/v1/local/stats": {"get": _op("Local backend statistics", stats, ())},
    }


@cache
def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the local backend (built once)."""
    _, defs = models_json_schema([(model, "validation") for model in _MODELS], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "pytest-smooth local backend (Smooth-compatible)", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "APIKeyHeader": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER},
            },
        },
        "security": [{"APIKeyHeader": []}],
        "paths": {
            **_paths(),
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
                }
            },
        },
    }
