"""Turn what the DOM reader found into values of the schema's types (pure, no browser).

The reader (``extract.js``) answers with a tree shaped like the schema:

- scalar: ``{"c": [raw, ...]}``, candidates best first (strings, or booleans from checkboxes);
  the first one that coerces to the property's type wins, none gives ``None``;
- object: ``{"o": {name: tree}, "found": bool}``; an object whose element was not found and
  whose properties are all missing is ``None``;
- array: ``{"a": [tree, ...]}``; scalar items that do not coerce are dropped;
- map: ``{"m": [[label, [raw, ...]], ...]}``; labels whose value does not coerce are dropped.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pytest_smooth.server.extract.schema import Node

__all__ = [
    "build_value",
    "coerce_scalar",
    "is_complete",
    "to_boolean",
    "to_integer",
    "to_number",
    "to_string",
]

TRUE_WORDS = frozenset(
    {"yes", "y", "true", "on", "checked", "enabled", "active", "1", "✓", "✔", "☑", "✅"}
)
FALSE_WORDS = frozenset(
    {"no", "n", "false", "off", "unchecked", "disabled", "inactive", "0", "✗", "✘", "☐", "❌"}
)

# Digit runs joined by single separators: "1,299.50", "1 299,50", "1'000", "12".
_NUMBER = re.compile(r"\d+(?:[.,'\u00a0\u202f\u2009 ]\d+)*")
_SPACES = "'\u00a0\u202f\u2009 "
_SIGN_BEFORE = re.compile(r"(?:^|[\s(:=])[-\u2212]\s?[$€£¥₹]?\s?$")
_SUFFIX = re.compile(r"([kKmM]|[bB]n?)(?![A-Za-z])")
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9}


_EMPTY_MARKS = frozenset({"-", "--", "\u2013", "\u2014", "\u2012", "\u2212"})


def to_string(raw: Any) -> str | None:
    """Trimmed text with whitespace collapsed; empty text, a lone dash and booleans give ``None``.

    A lone dash is how tables show an empty value (Django admin's ``empty_value_display``).
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return str(raw)
    text = " ".join(str(raw).split())
    return None if text in _EMPTY_MARKS else text or None


def _join_number(runs: list[str], seps: list[str]) -> float | None:
    # Spaces and apostrophes only ever group thousands: a run after one must be 3 digits.
    for i, sep in enumerate(seps):
        if sep in _SPACES and len(runs[i + 1]) != 3:
            runs, seps = runs[: i + 1], seps[:i]
            break
    marks = [s for s in seps if s in ".,"]
    decimal: str | None = None
    if marks:
        last = marks[-1]
        if len(set(marks)) == 2:
            decimal = last
        elif len(marks) == 1:
            after = runs[seps.index(last) + 1]
            thousands = last == "," and len(after) == 3 and runs[0] != "0"
            decimal = None if thousands else last
        elif not all(len(runs[i + 1]) == 3 for i, s in enumerate(seps) if s == last):
            # "1.2.3" is no grouped number: read its first two runs as a decimal.
            return float(f"{runs[0]}.{runs[1]}")
    whole, frac = "", ""
    for i, run in enumerate(runs):
        if i and seps[i - 1] == decimal:
            frac = "".join(runs[i:])
            break
        whole += run
    return float(f"{whole}.{frac}" if frac else whole)


def to_number(raw: Any) -> float | None:
    """Return the first number written in ``raw`` (currency signs, separators, sign, k/M)."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw) if math.isfinite(raw) else None
    text = str(raw)
    match = _NUMBER.search(text)
    if match is None:
        return None
    parts = re.split(r"([.,'\u00a0\u202f\u2009 ])", match.group())
    value = _join_number(parts[0::2], parts[1::2])
    if value is None:
        return None
    if _SIGN_BEFORE.search(text[: match.start()]):
        value = -value
    suffix = _SUFFIX.match(text, match.end())
    if suffix:
        value *= _SCALE[suffix.group(1).lower()]
    return value


def to_integer(raw: Any) -> int | None:
    """Return the first number in ``raw`` if whole (``"24.00"`` -> 24, ``"4.5"`` -> None)."""
    value = to_number(raw)
    if value is None or not value.is_integer():
        return None
    return int(value)


def to_boolean(raw: Any) -> bool | None:
    """Return a checkbox state, or the meaning of a yes/no word ("yes", "on", "✓"...)."""
    if isinstance(raw, bool):
        return raw
    text = to_string(raw)
    if text is None:
        return None
    word = text.lower().rstrip(".!")
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _enum_member(value: Any, enum: list[Any]) -> Any:
    if value in enum:
        return value
    if isinstance(value, str):
        for member in enum:
            if isinstance(member, str) and _squash(member) == _squash(value):
                return member
    return None


def coerce_scalar(raw: Any, node: Node) -> Any:
    """``raw`` as the first of the node's types it fits (and its enum, if any), else ``None``."""
    for kind in node.get("types", ["string"]):
        if kind == "string":
            value: Any = to_string(raw)
        elif kind == "number":
            value = to_number(raw)
        elif kind == "integer":
            value = to_integer(raw)
        elif kind == "boolean":
            value = to_boolean(raw)
        else:
            value = None
        if value is not None and node.get("enum") is not None:
            value = _enum_member(value, node["enum"])
        if value is not None:
            return value
    return None


def _empty(value: Any) -> bool:
    if value is None or value == []:
        return True
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    return False


def build_value(tree: Any, node: Node) -> Any:
    """Return the final value for ``node`` from the reader's candidate ``tree``."""
    kind = node["kind"]
    if kind == "array":
        items = tree.get("a", []) if isinstance(tree, dict) else []
        values = [build_value(item, node["items"]) for item in items]
        return [v for v in values if v is not None]
    if tree is None or kind == "none":
        return None
    if kind == "map":
        out: dict[str, Any] = {}
        for label, raws in tree.get("m", []):
            value = build_value({"c": raws}, node["values"])
            if value is not None and label not in out:
                out[label] = value
        return out
    if kind == "object":
        found = tree.get("o", {})
        out = {p["name"]: build_value(found.get(p["name"]), p["node"]) for p in node["properties"]}
        if not tree.get("found", True) and _empty(out):
            return None
        return out
    for raw in tree.get("c", []):
        value = coerce_scalar(raw, node)
        if value is not None:
            return value
    return None


def is_complete(value: Any, node: Node) -> bool:
    """Whether the value has no missing property and no empty array (not looking into items)."""
    if node["kind"] == "array":
        return bool(value) or node["items"]["kind"] == "none"
    if node["kind"] == "map":
        return bool(value)
    if value is None:
        return bool(node["kind"] == "none")
    if node["kind"] == "object":
        props = node["properties"]
        return all(is_complete(value.get(p["name"]), p["node"]) for p in props)
    return True
