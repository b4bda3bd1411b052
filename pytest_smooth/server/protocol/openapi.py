"""The local backend's OpenAPI 3.1 document, generated from the route table (``routes.py``).

Schemas come from the wire models in ``_core.models`` and the operations from ``ROUTES``, so
the document cannot drift from what is served.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pytest_smooth._core.constants import API_KEY_HEADER
from pytest_smooth._core.models import ErrorBody
from pytest_smooth.server.protocol.routes import API_PREFIX
from pytest_smooth.server.protocol.routes import ROUTES
from pytest_smooth.server.protocol.routes import Body
from pytest_smooth.server.protocol.routes import Query
from pytest_smooth.server.protocol.routes import Route

REF = "#/components/schemas/{model}"
JSON = "application/json"
_PATH_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_UPLOAD_FORM = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "file_purpose": {"type": "string", "maxLength": 64},
    },
}
# Every route needs the apikey; a route with a body also refuses a malformed or huge one.
_ALWAYS = (401,)
_WITH_BODY = (400, 413)


def _schema(shape: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    if isinstance(shape, dict):
        return shape
    return {"$ref": REF.format(model=shape.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _success(route: Route) -> dict[str, Any]:
    if route.file_type is not None:
        binary = {"type": "string", "format": "binary"}
        return {"description": route.file_type, "content": {route.file_type: {"schema": binary}}}
    result = _schema(route.result)
    if route.many:
        result = {"type": "array", "items": result}
    return _json({"type": "object", "required": ["r"], "properties": {"r": result}}, "success")


def _parameter(query: Query) -> dict[str, Any]:
    return {
        "name": query.name,
        "in": "query",
        "required": False,
        "schema": query.schema,
        "description": query.description,
    }


def _request_body(body: Body) -> dict[str, Any]:
    if body.upload:
        return {"required": True, "content": {"multipart/form-data": {"schema": _UPLOAD_FORM}}}
    schema = _schema(body.model) if body.model is not None else {"type": "object"}
    document: dict[str, Any] = {"required": True} if body.required else {}
    return {**document, "content": {JSON: {"schema": schema}}}


def operation(route: Route) -> dict[str, Any]:
    """Return the OpenAPI operation object of one route."""
    responses = {str(code): _success(route) for code in route.ok_codes}
    codes = (*route.errors, *_ALWAYS, *(_WITH_BODY if route.body else ()))
    error = _json(_schema(ErrorBody), "error: {detail}")
    responses.update({str(code): error for code in sorted(set(codes))})
    document: dict[str, Any] = {"summary": route.summary, "responses": responses}
    parameters = [_PATH_ID] if "{id}" in route.path else []
    parameters += [_parameter(query) for query in route.query]
    if parameters:
        document["parameters"] = parameters
    if route.body:
        document["requestBody"] = _request_body(route.body)
    return document


def _models() -> list[type[BaseModel]]:
    """Return the wire models the routes name (results and bodies), then ``ErrorBody``."""
    named: list[type[BaseModel]] = []
    for route in ROUTES.routes:
        for shape in (route.result, route.body.model if route.body else None):
            if isinstance(shape, type) and shape not in named:
                named.append(shape)
    return [*named, ErrorBody]


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in ROUTES.routes:
        paths.setdefault(API_PREFIX + route.path, {})[route.method.lower()] = operation(route)
    paths["/openapi.json"] = {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
        }
    }
    return paths


@cache
def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the local backend (built once)."""
    models = [(model, "validation") for model in _models()]
    _, defs = models_json_schema(models, ref_template=REF)  # type: ignore[arg-type]
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
        "paths": _paths(),
    }
