"""The matchers behind ``expect(...)``: pure predicates over one received value (no pytest).

Each matcher answers one question about a value with an :class:`Outcome`; the polling core in
``expect/polling.py`` asks it again on every attempt and negates it for ``.not_``.

The ``to_match`` rule (a nested subset match):

- a mapping in ``expected`` matches a mapping whose keys include all of its keys, each value
  matching recursively; keys the page adds are ignored;
- a list (or tuple) in ``expected`` matches a list of the *same length*, element by element;
  with ``partial_lists=True`` it matches any list that holds matching elements *in the same
  order*, possibly with others between them (an ordered subsequence);
- a compiled ``re.Pattern`` matches a string it finds (``pattern.search``);
- anything else matches by ``==``, so ``pytest.approx``, ``unittest.mock.ANY`` and the like
  work at any depth.

Pydantic models received from ``extract(Model)`` are compared as their ``model_dump()``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import TypeAdapter
from pydantic import ValidationError

__all__ = [
    "Matcher",
    "Outcome",
    "contain",
    "equal",
    "match",
    "match_regex",
    "plain",
    "satisfy",
    "short_repr",
    "truthy",
    "validate",
]

_SHORT = 80


@dataclass(frozen=True)
class Outcome:
    """The answer for one value. ``undecided`` fails whether or not the matcher is negated."""

    passed: bool
    details: tuple[str, ...] = ()
    undecided: bool = False


@dataclass(frozen=True)
class Matcher:
    """One matcher call: its name and argument (for messages) and the test it runs."""

    name: str
    argument: str
    expected_text: str
    test: Callable[[Any], Outcome]
    expected: Any = None
    diff: bool = False

    def verdict(self, value: Any, *, negate: bool) -> Outcome:
        """Run the test on ``value``; ``negate`` flips a decided answer (``.not_``)."""
        outcome = self.test(value)
        if outcome.undecided or not negate:
            return outcome
        return Outcome(not outcome.passed, outcome.details)


def short_repr(value: Any, limit: int = _SHORT) -> str:
    """``repr`` cut to ``limit`` characters, for one-line mentions."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plain(value: Any) -> Any:
    """Return a pydantic model as its ``model_dump()``, anything else unchanged."""
    return value.model_dump() if isinstance(value, BaseModel) else value


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _equals(received: Any, expected: Any) -> bool:
    try:
        return bool(received == expected)
    except Exception:  # an __eq__ that raises cannot say "equal"
        return False


def equal(expected: Any) -> Matcher:
    """``to_equal``: ``received == expected`` (a received model compares as its dict)."""

    def test(value: Any) -> Outcome:
        received = value if isinstance(expected, BaseModel) else plain(value)
        return Outcome(_equals(received, expected))

    shown = short_repr(expected, 2000)
    return Matcher("to_equal", short_repr(expected), shown, test, expected, True)


def mismatches(expected: Any, received: Any, path: str = "", *, partial: bool = False) -> list[str]:
    """Where ``received`` fails the ``to_match`` rule, one line per difference (empty: a match)."""
    received = plain(received)
    where = path or "value"
    if isinstance(expected, Mapping):
        if not isinstance(received, Mapping):
            return [f"{where}: expected a mapping, got {short_repr(received)}"]
        found: list[str] = []
        for key, sub in expected.items():
            if key not in received:
                found.append(f"{path}[{key!r}]: missing (expected {short_repr(sub)})")
            else:
                found += mismatches(sub, received[key], f"{path}[{key!r}]", partial=partial)
        return found
    if _is_list(expected):
        if not _is_list(received):
            return [f"{where}: expected a list, got {short_repr(received)}"]
        if partial:
            return _subsequence(list(expected), list(received), path)
        if len(expected) != len(received):
            return [f"{where}: expected {len(expected)} items, got {len(received)}"]
        found = []
        for index, (want, got) in enumerate(zip(expected, received, strict=True)):
            found += mismatches(want, got, f"{path}[{index}]", partial=partial)
        return found
    if isinstance(expected, re.Pattern):
        if isinstance(received, str) and expected.search(received):
            return []
        return [f"{where}: {short_repr(received)} does not match /{expected.pattern}/"]
    if _equals(received, expected):
        return []
    return [f"{where}: expected {short_repr(expected)}, got {short_repr(received)}"]


def _subsequence(expected: list[Any], received: list[Any], path: str) -> list[str]:
    # Greedy earliest match is optimal for an ordered subsequence: taking the first element that
    # fits leaves the longest tail for the rest.
    start = 0
    for index, want in enumerate(expected):
        hit = next(
            (
                i
                for i in range(start, len(received))
                if not mismatches(want, received[i], partial=True)
            ),
            None,
        )
        if hit is None:
            return [
                f"{path or 'value'}[{index}]: no item matching {short_repr(want)} in order "
                f"(searched the received items from index {start} on)"
            ]
        start = hit + 1
    return []


def match(expected: Any, *, partial_lists: bool = False) -> Matcher:
    """``to_match``: the nested subset rule of this module's docstring."""

    def test(value: Any) -> Outcome:
        found = mismatches(expected, value, partial=partial_lists)
        return Outcome(not found, tuple(found))

    argument = short_repr(expected) + (", partial_lists=True" if partial_lists else "")
    text = f"matching {short_repr(expected, 2000)}"
    return Matcher("to_match", argument, text, test, expected)


def contain(item: Any) -> Matcher:
    """``to_contain``: a substring of a string, a key of a mapping, or a list item that matches."""

    def test(value: Any) -> Outcome:
        received = plain(value)
        if isinstance(received, str):
            if not isinstance(item, str):
                return Outcome(False, ("received a string but the item is not one",), True)
            return Outcome(item in received)
        if isinstance(received, Mapping):
            try:
                return Outcome(item in received)
            except TypeError:  # an unhashable item cannot be a key
                return Outcome(False, (f"{short_repr(item)} cannot be a mapping key",), True)
        if _is_list(received):
            return Outcome(any(not mismatches(item, element) for element in received))
        return Outcome(False, (f"cannot look inside {type(received).__name__}",), True)

    return Matcher("to_contain", short_repr(item), f"containing {short_repr(item)}", test, item)


def match_regex(pattern: str | re.Pattern[str], flags: int = 0) -> Matcher:
    """``to_match_regex``: ``re.search`` finds ``pattern`` in the received string."""
    compiled = re.compile(pattern, flags) if isinstance(pattern, str) else pattern

    def test(value: Any) -> Outcome:
        if not isinstance(value, str):
            return Outcome(False, (f"received {type(value).__name__}, not a string",), True)
        return Outcome(compiled.search(value) is not None)

    shown = f"/{compiled.pattern}/"
    return Matcher("to_match_regex", repr(compiled.pattern), f"a string matching {shown}", test)


def truthy() -> Matcher:
    """``to_be_truthy``: ``bool(received)``."""
    return Matcher("to_be_truthy", "", "truthy", lambda value: Outcome(bool(value)))


def satisfy(predicate: Callable[[Any], object], description: str | None = None) -> Matcher:
    """``to_satisfy``: ``predicate(received)`` is truthy; a predicate that raises is undecided."""
    name = description or getattr(predicate, "__name__", None) or repr(predicate)

    def test(value: Any) -> Outcome:
        try:
            return Outcome(bool(predicate(value)))
        except Exception as exc:  # a predicate crash is shown, and never counts as a pass
            return Outcome(False, (f"the predicate raised {type(exc).__name__}: {exc}",), True)

    return Matcher("to_satisfy", name, f"satisfying {name}", test)


def validate(model: Any) -> Matcher:
    """``to_validate``: pydantic validates the received value as ``model`` (any pydantic type)."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    name = getattr(model, "__name__", None) or repr(model)

    def test(value: Any) -> Outcome:
        if isinstance(model, type) and isinstance(value, model):
            return Outcome(True)
        try:
            adapter.validate_python(plain(value))
        except ValidationError as exc:
            lines = [
                f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
                for error in exc.errors()
            ]
            return Outcome(False, tuple(lines))
        return Outcome(True)

    return Matcher("to_validate", name, f"valid as {name}", test)
