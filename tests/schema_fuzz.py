"""JSON Schema helpers for the HTTP fuzz: hypothesis strategies from a schema, and a checker.

Only the subset of JSON Schema that our OpenAPI document uses (pydantic's output plus the
hand-written envelopes) is covered: ``$ref``, ``anyOf``/``oneOf``/``allOf``, ``enum``,
``const``, ``type`` (one or a list), object ``properties``/``required``/
``additionalProperties``, array ``items``, and the numeric and length bounds. Writing this
(about 150 lines) instead of depending on schemathesis keeps the dev extra small and the
fuzz's behaviour in our hands (e.g. bounding ``wait_ms`` so long polls do not stall it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

__all__ = ["any_json", "from_schema", "schema_errors"]

Schema = Mapping[str, Any]

any_json: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=16),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        ref: str = schema["$ref"]
        node: Any = root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def from_schema(schema: Schema, root: Schema) -> st.SearchStrategy[Any]:
    """Return a strategy for values valid under ``schema`` (``root`` resolves ``$ref``)."""
    schema = _resolve(schema, root)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, root) for s in schema[key]])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part, root))
        return from_schema(merged, root)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}, root) for k in kind])
    if kind == "object" or (kind is None and "properties" in schema):
        return _object(schema, root)
    if kind == "array":
        items = schema.get("items", {})
        return st.lists(
            from_schema(items, root),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 4), 4),
        )
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 24))
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return any_json  # {} or a schema with no constraint: anything goes


def _object(schema: Schema, root: Schema) -> st.SearchStrategy[dict[str, Any]]:
    props: Mapping[str, Schema] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = {name: from_schema(s, root) for name, s in props.items() if name in required}
    optional = {name: from_schema(s, root) for name, s in props.items() if name not in required}
    base = st.fixed_dictionaries(fixed, optional=optional)
    if schema.get("additionalProperties", True) is False:
        return base
    # Unknown fields must be tolerated ("extra=allow"): add some now and then.
    extra = st.dictionaries(
        st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6).map(lambda s: "zz_" + s),
        any_json,
        max_size=2,
    )
    return st.builds(lambda b, e: {**e, **b}, base, extra)


def _type_ok(kind: str, value: Any) -> bool:
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return checks[kind](value)


def schema_errors(schema: Schema, value: Any, root: Schema, where: str = "$") -> list[str]:
    """Return why ``value`` breaks ``schema`` (an empty list when it conforms)."""
    schema = _resolve(schema, root)
    if "const" in schema and value != schema["const"]:
        return [f"{where}: {value!r} != const {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in {schema['enum']!r}"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [schema_errors(s, value, root, where) for s in schema[key]]
            if all(branches):
                return [f"{where}: matches no branch of {key}: {branches}"]
    errors: list[str] = []
    for part in schema.get("allOf", ()):
        errors += schema_errors(part, value, root, where)
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and not any(_type_ok(k, value) for k in kinds):
        return [*errors, f"{where}: {value!r} is not of type {kind}"]
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                errors.append(f"{where}: missing required {name!r}")
        props: Mapping[str, Schema] = schema.get("properties", {})
        for name, item in value.items():
            if name in props:
                errors += schema_errors(props[name], item, root, f"{where}.{name}")
            elif schema.get("additionalProperties", True) is False:
                errors.append(f"{where}: unexpected property {name!r}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(schema["items"], item, root, f"{where}[{i}]")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} > maximum {schema['maximum']}")
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        errors.append(f"{where}: longer than maxLength {schema['maxLength']}")
    return errors
