"""Normalise a JSON schema into the small shape tree that the DOM reader walks.

A node is a plain dict, so it can be handed to ``page.evaluate`` as is:

- ``{"kind": "object", "properties": [{"name", "names", "node"}], "nullable"}``
- ``{"kind": "array", "items": node, "nullable"}``
- ``{"kind": "map", "values": node, "nullable"}``: an object with no properties but
  ``additionalProperties`` (``dict[str, X]``): every label/value pair in its scope
- ``{"kind": "scalar", "types": ["string" | "number" | "integer" | "boolean"], "enum", "nullable"}``
- ``{"kind": "none"}``: a recursive ``$ref`` cut off (reads as null, or ``[]`` in an array)

Local ``$ref`` (``#/$defs/...``, ``#/definitions/...``), ``allOf``, and ``anyOf``/``oneOf``
with ``null`` (pydantic's ``Optional``) are resolved here; anything else unreadable raises
``ExtractError``.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_smooth._core.exceptions import SmoothError

__all__ = ["ExtractError", "Node", "normalise_schema", "property_names"]

Node = dict[str, Any]

SCALAR_TYPES = frozenset({"string", "number", "integer", "boolean"})
KNOWN_TYPES = SCALAR_TYPES | {"object", "array", "null"}
# How deep one $ref may re-enter itself before the branch reads as null (tree models).
MAX_REF_DEPTH = 3


class ExtractError(SmoothError):
    """Extraction cannot run: an unusable schema or prompt selector. The message says why."""


def property_names(key: str, schema: dict[str, Any]) -> list[str]:
    """Names a property may appear under on a page: its key, then its title if different."""
    names = [key]
    title = schema.get("title")
    if isinstance(title, str) and title.strip() and _squash(title) != _squash(key):
        names.append(title.strip())
    return names


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


class _Normaliser:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.ref_stack: list[str] = []

    def resolve(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#"):
            raise ExtractError(f"cannot resolve $ref {ref!r}: only local refs (#/...) are read")
        target: Any = self.root
        for raw in ref[1:].lstrip("/").split("/") if ref != "#" else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            else:
                raise ExtractError(f"cannot resolve $ref {ref!r}: {part!r} not found in the schema")
        if not isinstance(target, dict):
            raise ExtractError(f"$ref {ref!r} does not point at a schema object")
        return target

    def node(self, schema: Any, where: str) -> Node:
        if schema is True or schema == {}:
            return {"kind": "scalar", "types": ["string"], "enum": None, "nullable": True}
        if not isinstance(schema, dict):
            raise ExtractError(f"schema at {where} must be an object, got {schema!r}")
        if "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str):
                raise ExtractError(f"$ref at {where} must be a string")
            if self.ref_stack.count(ref) >= MAX_REF_DEPTH:
                return {"kind": "none"}
            self.ref_stack.append(ref)
            try:
                rest = {k: v for k, v in schema.items() if k != "$ref"}
                return self.node({**self.resolve(ref), **rest}, where)
            finally:
                self.ref_stack.pop()
        if "allOf" in schema:
            return self.node(self._merge_all_of(schema, where), where)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._union(schema, key, where)
        return self._typed(schema, where)

    def _merge_all_of(self, schema: dict[str, Any], where: str) -> dict[str, Any]:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        branches = schema["allOf"]
        if not isinstance(branches, list):
            raise ExtractError(f"allOf at {where} must be a list")
        for raw in branches:
            branch = self.resolve(raw["$ref"]) if isinstance(raw, dict) and "$ref" in raw else raw
            if not isinstance(branch, dict):
                raise ExtractError(f"allOf branch at {where} must be an object")
            props = {**merged.get("properties", {}), **branch.get("properties", {})}
            merged = {**branch, **merged}
            if props:
                merged["properties"] = props
        return merged

    def _union(self, schema: dict[str, Any], key: str, where: str) -> Node:
        branches = schema[key]
        if not isinstance(branches, list) or not branches:
            raise ExtractError(f"{key} at {where} must be a non-empty list")
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        nodes = []
        nullable = False
        for i, branch in enumerate(branches):
            if isinstance(branch, dict) and branch.get("type") == "null":
                nullable = True
                continue
            merged = {**branch, **rest} if isinstance(branch, dict) else branch
            nodes.append(self.node(merged, f"{where}/{key}/{i}"))
        if not nodes:
            return {"kind": "scalar", "types": ["null"], "enum": None, "nullable": True}
        scalars = [n for n in nodes if n["kind"] == "scalar"]
        if len(scalars) == len(nodes):
            types = [t for n in scalars for t in n["types"]]
            enum = [v for n in scalars for v in (n["enum"] or [])] or None
            return {"kind": "scalar", "types": types, "enum": enum, "nullable": True}
        # Mixed shapes: read the first structured branch, the others cannot be told apart.
        first = next(n for n in nodes if n["kind"] != "scalar")
        return {**first, "nullable": nullable or first.get("nullable", False)}

    def _typed(self, schema: dict[str, Any], where: str) -> Node:
        declared = schema.get("type")
        if declared is None:
            if "properties" in schema:
                declared = "object"
            elif "items" in schema:
                declared = "array"
            elif "enum" in schema or "const" in schema:
                declared = "string"
            else:
                declared = ["string", "null"]
        types = declared if isinstance(declared, list) else [declared]
        for t in types:
            if t not in KNOWN_TYPES:
                raise ExtractError(
                    f"unknown type {t!r} at {where}; known: {', '.join(sorted(KNOWN_TYPES))}"
                )
        nullable = "null" in types
        real = [t for t in types if t != "null"]
        if "object" in real:
            return self._object(schema, where, nullable)
        if "array" in real:
            items = schema.get("items", {})
            if isinstance(items, list):  # old tuple form: read the first item's shape
                items = items[0] if items else {}
            item_node = self.node(items, f"{where}/items")
            return {"kind": "array", "items": item_node, "nullable": nullable}
        enum = schema.get("enum")
        if "const" in schema:
            enum = [schema["const"]]
        if enum is not None and not isinstance(enum, list):
            raise ExtractError(f"enum at {where} must be a list")
        if not real:
            real = ["null"]
        return {"kind": "scalar", "types": real, "enum": enum, "nullable": nullable}

    def _object(self, schema: dict[str, Any], where: str, nullable: bool) -> Node:
        props = schema.get("properties", {})
        if not isinstance(props, dict):
            raise ExtractError(f"properties at {where} must be an object")
        extra = schema.get("additionalProperties")
        if not props and isinstance(extra, dict):
            values = self.node(extra, f"{where}/additionalProperties")
            if values["kind"] != "scalar":
                raise ExtractError(f"additionalProperties at {where} must be a scalar schema")
            return {"kind": "map", "values": values, "nullable": nullable}
        out = []
        for key, sub in props.items():
            sub_dict = sub if isinstance(sub, dict) else {}
            out.append(
                {
                    "name": key,
                    "names": property_names(key, sub_dict),
                    "node": self.node(sub, f"{where}/properties/{key}"),
                }
            )
        return {"kind": "object", "properties": out, "nullable": nullable}


def normalise_schema(schema: Any) -> Node:
    """Return the shape tree of ``schema``; raise ``ExtractError`` if it cannot be read.

    The top level must be an object or an array schema, as Smooth's ``extract`` expects.
    """
    if not isinstance(schema, dict):
        raise ExtractError(f"schema must be a JSON schema object, got {type(schema).__name__}")
    node = _Normaliser(schema).node(schema, "#")
    if node["kind"] not in ("object", "array", "map"):
        raise ExtractError(
            "schema must describe an object or an array at the top level,"
            f" got {schema.get('type', 'no type')!r}"
        )
    return node
