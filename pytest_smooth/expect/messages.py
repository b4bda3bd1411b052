"""The text of a failed ``expect(...)`` (no pytest).

It says what was expected and received, the diff, the attempts, the last error, the session's
recent events and the option to change.

The diff of ``to_equal`` is difflib over pprint here; the pytest layer swaps in pytest's own
assertion diff with :func:`set_differ`.
"""

from __future__ import annotations

import difflib
import pprint
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from pydantic import BaseModel

from pytest_smooth.expect.matchers import Matcher
from pytest_smooth.expect.matchers import plain
from pytest_smooth.expect.matchers import short_repr

if TYPE_CHECKING:
    from pytest_smooth.expect.attempts import OracleMismatch
    from pytest_smooth.expect.attempts import RetryState

__all__ = ["Differ", "current_differ", "failure_text", "set_differ"]

EVENTS_SHOWN = 8
_MAX_RECEIVED = 2000
_INDENT = " " * len("Received: ")

Differ = Callable[[Any, Any], "list[str] | None"]


def _difflib_diff(received: Any, expected: Any) -> list[str] | None:
    want = pprint.pformat(expected, width=88, sort_dicts=False).splitlines()
    got = pprint.pformat(received, width=88, sort_dicts=False).splitlines()
    return [line.rstrip() for line in difflib.ndiff(want, got)]


_differ: Differ = _difflib_diff


def current_differ() -> Differ:
    """Return the function that renders to_equal diffs now."""
    return _differ


def set_differ(differ: Differ | None) -> None:
    """Use ``differ(received, expected)`` for to_equal diffs (None: back to difflib).

    It returns the lines of the diff ("-" for expected, "+" for received) or None.
    """
    global _differ
    _differ = differ or _difflib_diff


def failure_text(
    retry: RetryState,
    *,
    label: str,
    matcher: Matcher,
    negate: bool,
    message: str | None,
    session: Any,
) -> str:
    """Render the failure of ``retry``, which ended without a pass."""
    lines = [message] if message else []
    lines.append(label)
    plural = "s" if retry.attempts != 1 else ""
    lines.append(
        f"Timed out after {retry.elapsed:.2f} s ({retry.attempts} attempt{plural}; "
        f"timeout {retry.timeout:g} s from {retry.source})."
    )
    lines.append(f"Expected: {'not ' if negate else ''}{matcher.expected_text}")
    lines += _received_lines(retry, matcher, negate)
    if retry.oracle is not None and retry.last_kind == "oracle":
        lines += _oracle_lines(retry.oracle)
    if retry.error is not None:
        when = "last attempt" if retry.last_kind == "error" else f"attempt {retry.error_attempt}"
        lines.append(f"Last error ({when}): {type(retry.error).__name__}: {retry.error}")
    lines += _event_lines(session)
    lines.append(
        "To wait longer, pass timeout=... to the matcher or to expect(...), or set "
        f"smooth_expect_timeout (--smooth-expect-timeout); it was {retry.timeout:g} s here."
    )
    return "\n".join(lines)


def _received_lines(retry: RetryState, matcher: Matcher, negate: bool) -> list[str]:
    if not retry.received_anything:
        return ["Received: nothing (every attempt raised an error)"]
    shown = pprint.pformat(plain(retry.received), width=88, sort_dicts=False)
    if len(shown) > _MAX_RECEIVED:
        shown = shown[:_MAX_RECEIVED] + " ..."
    first, *rest = shown.splitlines()
    lines = [f"Received: {first}", *(_INDENT + line for line in rest)]
    outcome = retry.outcome
    # Under .not_ a decided outcome's details explain why it matched: nothing to show.
    if outcome is not None and outcome.details and (outcome.undecided or not negate):
        if len(outcome.details) == 1:
            lines.append(f"Mismatch: {outcome.details[0]}")
        else:
            lines += ["Mismatch:", *("  " + detail for detail in outcome.details)]
    if matcher.diff and not negate:
        keep = isinstance(matcher.expected, BaseModel)
        received = retry.received if keep else plain(retry.received)
        if not _short_pair(received, matcher.expected):
            diff = _differ(received, matcher.expected)
            if diff:
                lines += ["Diff (- expected, + received):", *("  " + line for line in diff)]
    return lines


def _short_pair(received: Any, expected: Any) -> bool:
    # Short scalars: the Expected/Received lines already say it all.
    containers = (dict, list, tuple, set, BaseModel)
    if isinstance(received, containers) or isinstance(expected, containers):
        return False
    return len(repr(received)) + len(repr(expected)) < 60


def _oracle_lines(mismatch: OracleMismatch) -> list[str]:
    return [
        f"Oracle mismatch: the extraction and the DOM disagree on {mismatch.field!r}",
        f"  extract: {short_repr(mismatch.extracted, 200)}",
        f"  js:      {short_repr(mismatch.dom, 200)}   ({mismatch.js})",
    ]


def _event_lines(session: Any) -> list[str]:
    try:
        events = list(getattr(session, "events", None) or [])[-EVENTS_SHOWN:]
        if not events:
            return []
        plural = "s" if len(events) != 1 else ""
        lines = [f"Last {len(events)} event{plural} of session {getattr(session, 'id', None)}:"]
        for record in events:
            duration = f"{record.duration:.2f} s" if record.duration is not None else "-"
            inputs = ", ".join(
                f"{key}={short_repr(value, 50)}"
                for key, value in (record.input or {}).items()
                if value is not None
            )
            error = f"  {short_repr(record.error, 100)}" if record.error else ""
            lines.append(
                f"  {record.action:<12} {record.outcome:<8} {duration:>8}  {inputs}{error}"
            )
    except Exception:  # a session that cannot list its events must not hide the failure
        return []
    return lines
