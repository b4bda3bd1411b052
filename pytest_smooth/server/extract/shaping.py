"""Apply a prompt's filters, order and pick to what the DOM reader read (pure, no I/O).

``read_target(node, plan)`` says what to read for a schema and a ``PromptPlan``: a schema that
is one object (``Product``) asked for "the cheapest product" is read as a list of such
objects, and the answer is the first after sorting; an object holding one array of objects
(``{"products": [...]}``) has that array shaped; an array schema is shaped itself.
``finish(target, value, plan)`` does it and returns the value with the approximations: a
field the prompt names that the items do not have, or a schema the forms cannot apply to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pytest_smooth._core.fidelity import approximation
from pytest_smooth.server.extract.prompt import Filter
from pytest_smooth.server.extract.prompt import Order
from pytest_smooth.server.extract.prompt import PromptPlan
from pytest_smooth.server.extract.schema import Node

__all__ = ["Target", "finish", "pick_field", "read_target", "shape_items", "unread_note"]

_OUT_OF_STOCK = re.compile(r"out of stock|sold out|unavailable|not available|backorder", re.I)
_IN_STOCK = re.compile(r"in stock|available|yes|true|✓|✔|\d*[1-9]\d* (?:left|in stock)", re.I)
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Target:
    """What the DOM reader reads for a plan, and where the items to shape are in it."""

    node: Node
    path: str | None = None  # the object property holding the list
    single: bool = False  # the schema is one object: read a list of it, answer the first


def read_target(node: Node, plan: PromptPlan) -> Target:
    """Return what to read so that ``plan``'s filters, order and pick can be applied."""
    if not plan.reshapes or node["kind"] != "object":
        return Target(node)
    lists = [p for p in node["properties"] if p["node"]["kind"] == "array"]
    if len(lists) == 1:
        return Target(node, path=lists[0]["name"])
    return Target({"kind": "array", "items": node, "nullable": False}, single=True)


def finish(target: Target, value: Any, plan: PromptPlan) -> tuple[Any, list[dict[str, str]]]:
    """Shape ``value`` (read for ``target``) by ``plan``; return it and the approximations."""
    if not plan.reshapes:
        return value, []
    if target.node["kind"] == "map":
        return value, [_note("the prompt's filter, order or pick", "a dict schema has no items")]
    if target.path is not None:
        if not isinstance(value, dict) or not isinstance(value.get(target.path), list):
            return value, []
        items, notes = shape_items(value[target.path], plan)
        return {**value, target.path: items}, notes
    if not isinstance(value, list):
        return value, []
    items, notes = shape_items(value, plan)
    if target.single:
        return (items[0] if items else None), notes
    return items, notes


def shape_items(items: list[Any], plan: PromptPlan) -> tuple[list[Any], list[dict[str, str]]]:
    """Filter, sort and pick ``items`` as ``plan`` says (a stable sort, missing values last)."""
    notes: list[dict[str, str]] = []
    keys = _keys(items)
    for rule in plan.filters:
        key = pick_field(keys, rule.fields) if keys else None
        if key is None and keys:
            notes.append(_missing("filter", rule.text, rule.fields, keys))
            continue
        items = [item for item in items if _passes(_field_value(item, key), rule)]
    if plan.order is not None:
        items, note = _sorted(items, keys, plan.order)
        notes += note
    if plan.pick is not None:
        pick = plan.pick
        if pick.end == "last":
            items = items[-pick.count :] if pick.count else []
        else:
            items = items[pick.offset : pick.offset + pick.count]
    return items, notes


def pick_field(keys: Sequence[str], names: Sequence[str]) -> str | None:
    """Return the item key named by the first of ``names`` that one matches (loosely)."""
    squashed = {_squash(k): k for k in keys}
    for name in names:
        want = _squash(name)
        if want in squashed:
            return squashed[want]
    for name in names:
        want = _squash(name)
        for squash, key in squashed.items():
            if want and (want in squash or (len(squash) > 2 and squash in want)):
                return key
    return None


def _squash(text: str) -> str:
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower()
    squash = re.sub(r"[^a-z0-9]", "", words)
    return squash[:-1] if squash.endswith("s") and not squash.endswith("ss") else squash


def _keys(items: list[Any]) -> list[str]:
    keys: dict[str, None] = {}
    for item in items:
        if isinstance(item, dict):
            keys.update(dict.fromkeys(item))
    return list(keys)


def _field_value(item: Any, key: str | None) -> Any:
    if key is None:
        return item
    return item.get(key) if isinstance(item, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _NUMBER.search(value)
        if match:
            return float(match.group(0).replace(",", ""))
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return " ".join(str(value).split()).casefold()


def _stocked(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    text = str(value)
    if _OUT_OF_STOCK.search(text):
        return False
    if _IN_STOCK.search(text):
        return True
    number = _number(text)
    return None if number is None else number > 0


def _passes(value: Any, rule: Filter) -> bool:
    if rule.op in ("in_stock", "out_of_stock"):
        stocked = _stocked(value)
        return stocked is (rule.op == "in_stock")
    if isinstance(value, list):
        return (
            any(_passes(v, rule) for v in value)
            if rule.op != "ne"
            else all(_passes(v, rule) for v in value)
        )
    if value is None:
        return rule.op in ("ne", "excludes")
    if rule.op in ("lt", "le", "gt", "ge"):
        number, limit = _number(value), _number(rule.value)
        if number is None or limit is None:
            return False
        return {"lt": number < limit, "le": number <= limit, "gt": number > limit,
                "ge": number >= limit}[rule.op]  # fmt: skip
    if isinstance(rule.value, float):
        number = _number(value)
        same = number is not None and number == rule.value
    else:
        same = _text(value) == _text(rule.value)
    if rule.op == "eq":
        return same
    if rule.op == "ne":
        return not same
    contained = _text(rule.value) in _text(value)
    return contained if rule.op == "contains" else not contained


def _sorted(
    items: list[Any], keys: list[str], order: Order
) -> tuple[list[Any], list[dict[str, str]]]:
    key = pick_field(keys, order.fields) if keys else None
    if key is None and keys:
        return items, [_missing("order", order.text, order.fields, keys)]
    values = [_field_value(item, key) for item in items]
    present = [v for v in values if v is not None]
    numbers = [_number(v) for v in present]
    numeric = bool(present) and all(n is not None for n in numbers)

    def sort_key(value: Any) -> Any:
        return _number(value) if numeric else _text(value)

    known = [(sort_key(v), i) for i, v in enumerate(values) if v is not None]
    known.sort(key=lambda pair: pair[0], reverse=order.descending)
    missing = [i for i, v in enumerate(values) if v is None]
    return [items[i] for _, i in known] + [items[i] for i in missing], []


def _missing(kind: str, text: str, fields: Sequence[str], keys: list[str]) -> dict[str, str]:
    wanted = " or ".join(repr(f) for f in fields[:3])
    return _note(
        f"prompt {kind} {text!r}",
        f"not applied: the items have no field {wanted} (fields: {', '.join(keys)})",
    )


def unread_note(prompt: str, unread: str) -> dict[str, str]:
    """Return the approximation for a prompt's words that the DOM reader cannot honour."""
    return approximation(
        "prompt",
        f"{prompt!r}: the DOM reader does not understand {unread!r} (README: extract prompts);"
        " it read the page as if the prompt did not say it",
    )


def _note(what: str, detail: str) -> dict[str, str]:
    return approximation(what, detail)
