"""Attempt bookkeeping, settings and failure messages for ``expect(...)`` (no pytest, no I/O).

A :class:`Run` is one expectation being retried: its deadline, its backoff (50 ms doubling to
1 s), what the last attempt received or raised, and at the end the failure message. The suite
default timeout and the soft-failure collectors are module state, set by the pytest layer.
"""

from __future__ import annotations

import asyncio
import difflib
import pprint
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError

from ._exceptions import SmoothActionError
from ._exceptions import SmoothTimeoutError
from ._matchers import Matcher
from ._matchers import Outcome
from ._matchers import plain
from ._matchers import short_repr

__all__ = [
    "CLOCK",
    "RETRYABLE",
    "Clock",
    "OracleMismatch",
    "Run",
    "SmoothExpectationError",
    "SmoothSoftExpectationsError",
    "collect_soft_failures",
    "configure_expect",
    "current_differ",
    "default_timeout",
    "set_differ",
]

DEFAULT_EXPECT_TIMEOUT = 5.0
FIRST_INTERVAL = 0.05
MAX_INTERVAL = 1.0
# An attempt may outlive the deadline by up to this much, so the last one is not doomed to time
# out on a slow backend or a busy CI machine (an action that times out on the client still runs
# on the server, so cutting it short would gain nothing).
MIN_ATTEMPT_TIMEOUT = 2.0
EVENTS_SHOWN = 8
_MAX_RECEIVED = 2000

# A failed attempt: the page is not there yet. Anything else (SessionClosedError, auth, a
# connection error) is raised at once, because retrying cannot help.
RETRYABLE: tuple[type[BaseException], ...] = (
    SmoothActionError,
    SmoothTimeoutError,
    ValidationError,
)

Differ = Callable[[Any, Any], "list[str] | None"]


_settings = {"timeout": DEFAULT_EXPECT_TIMEOUT}
# Collectors of soft failures, innermost last; the pytest hook pushes one per test.
soft_collectors: list[list[SmoothExpectationError]] = []


def configure_expect(*, default_timeout: float) -> None:
    """Set the suite default timeout of ``expect`` (the plugin calls this from its options)."""
    if default_timeout < 0:
        raise ValueError(f"default_timeout must be >= 0, got {default_timeout!r}")
    _settings["timeout"] = float(default_timeout)


def default_timeout() -> float:
    """Return the suite default timeout of ``expect``, in seconds."""
    return _settings["timeout"]


@contextmanager
def collect_soft_failures() -> Iterator[list[SmoothExpectationError]]:
    """Collect the failures of ``expect.soft(...)`` made inside the block into the yielded list."""
    failures: list[SmoothExpectationError] = []
    soft_collectors.append(failures)
    try:
        yield failures
    finally:
        soft_collectors[:] = [c for c in soft_collectors if c is not failures]


class Clock:
    """Time for the polling loop; tests swap ``_attempts.CLOCK`` for a fake one."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


CLOCK = Clock()


def _difflib_diff(received: Any, expected: Any) -> list[str] | None:
    want = pprint.pformat(expected, width=88, sort_dicts=False).splitlines()
    got = pprint.pformat(received, width=88, sort_dicts=False).splitlines()
    return [line.rstrip() for line in difflib.ndiff(want, got)]


def _short_pair(received: Any, expected: Any) -> bool:
    # Short scalars: the Expected/Received lines already say it all.
    containers = (dict, list, tuple, set, BaseModel)
    if isinstance(received, containers) or isinstance(expected, containers):
        return False
    return len(repr(received)) + len(repr(expected)) < 60


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


class SmoothExpectationError(AssertionError):
    """An ``expect(...)`` matcher did not pass before its timeout: a test failure, not an error."""

    def __init__(
        self,
        message: str,
        *,
        received: Any = None,
        attempts: int = 0,
        elapsed: float = 0.0,
        last_error: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.received = received
        self.attempts = attempts
        self.elapsed = elapsed
        self.last_error = last_error
        self.where: str | None = None


class SmoothSoftExpectationsError(SmoothExpectationError):
    """The soft expectations of one test that failed, reported together at its end."""

    def __init__(self, failures: Sequence[SmoothExpectationError]) -> None:
        self.failures = list(failures)
        count = len(self.failures)
        parts = [f"{count} soft expectation{'s' if count != 1 else ''} failed:"]
        for number, failure in enumerate(self.failures, 1):
            body = "\n".join("    " + line for line in str(failure).splitlines())
            parts.append(f"\n[{number}] at {failure.where or '?'}\n{body}")
        super().__init__("\n".join(parts), attempts=sum(f.attempts for f in self.failures))

    def __reduce__(self) -> tuple[Any, ...]:
        # The default would rebuild it from the message text instead of the failures.
        return (type(self), (self.failures,))


@dataclass(frozen=True)
class OracleMismatch:
    """A cross-check that failed: the extracted field and the DOM's answer differ."""

    field: str
    extracted: Any
    js: str
    dom: Any


_MISSING: Any = object()


class Run:
    """One expectation's attempts: deadline, backoff, and what the last attempt saw."""

    def __init__(self, timeout: float, source: str, clock: Clock) -> None:
        self.clock = clock
        self.timeout = timeout
        self.source = source
        self.started = clock.now()
        self.deadline = self.started + timeout
        self.attempts = 0
        self.interval = FIRST_INTERVAL
        self.received: Any = _MISSING
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        self.error_attempt = 0
        self.oracle: OracleMismatch | None = None
        self.last_kind = ""

    def attempt_timeout(self) -> float:
        """Return the next attempt's action timeout: the time left, and at least a floor."""
        return round(max(self.deadline - self.clock.now(), MIN_ATTEMPT_TIMEOUT), 3)

    def start_attempt(self) -> None:
        self.attempts += 1

    def saw_value(self, value: Any, outcome: Outcome) -> None:
        self.received, self.outcome, self.last_kind = value, outcome, "value"

    def saw_error(self, error: BaseException) -> None:
        self.error, self.error_attempt, self.last_kind = error, self.attempts, "error"

    def saw_oracle(self, mismatch: OracleMismatch) -> None:
        self.oracle, self.last_kind = mismatch, "oracle"

    def next_delay(self) -> float | None:
        """Seconds to wait before the next attempt, or None when the time is up."""
        remaining = self.deadline - self.clock.now()
        if remaining <= 0:
            return None
        delay = min(self.interval, remaining)
        self.interval = min(self.interval * 2, MAX_INTERVAL)
        return delay

    @property
    def elapsed(self) -> float:
        return self.clock.now() - self.started

    def failure(
        self, *, label: str, matcher: Matcher, negate: bool, message: str | None, session: Any
    ) -> SmoothExpectationError:
        """Build the error for a run that ended without a pass, the whole story in its text."""
        lines = [message] if message else []
        lines.append(label)
        plural = "s" if self.attempts != 1 else ""
        lines.append(
            f"Timed out after {self.elapsed:.2f} s ({self.attempts} attempt{plural}; "
            f"timeout {self.timeout:g} s from {self.source})."
        )
        lines.append(f"Expected: {'not ' if negate else ''}{matcher.expected_text}")
        lines += self._received_lines(matcher, negate)
        if self.oracle is not None and self.last_kind == "oracle":
            lines += _oracle_lines(self.oracle)
        if self.error is not None:
            when = "last attempt" if self.last_kind == "error" else f"attempt {self.error_attempt}"
            lines.append(f"Last error ({when}): {type(self.error).__name__}: {self.error}")
        lines += _event_lines(session)
        lines.append(
            "To wait longer, pass timeout=... to the matcher or to expect(...), or set "
            f"smooth_expect_timeout (--smooth-expect-timeout); it was {self.timeout:g} s here."
        )
        received = None if self.received is _MISSING else self.received
        return SmoothExpectationError(
            "\n".join(lines),
            received=received,
            attempts=self.attempts,
            elapsed=self.elapsed,
            last_error=self.error,
        )

    def _received_lines(self, matcher: Matcher, negate: bool) -> list[str]:
        if self.received is _MISSING:
            return ["Received: nothing (every attempt raised an error)"]
        shown = pprint.pformat(plain(self.received), width=88, sort_dicts=False)
        if len(shown) > _MAX_RECEIVED:
            shown = shown[:_MAX_RECEIVED] + " ..."
        first, *rest = shown.splitlines()
        lines = [f"Received: {first}", *("          " + line for line in rest)]
        outcome = self.outcome
        if outcome is not None and outcome.details and not (negate and not outcome.undecided):
            lines.append(
                "Mismatch:" if len(outcome.details) > 1 else f"Mismatch: {outcome.details[0]}"
            )
            if len(outcome.details) > 1:
                lines += ["  " + detail for detail in outcome.details]
        if matcher.diff and not negate:
            keep = isinstance(matcher.expected, BaseModel)
            received = self.received if keep else plain(self.received)
            diff = (
                None
                if _short_pair(received, matcher.expected)
                else _differ(received, matcher.expected)
            )
            if diff:
                lines += ["Diff (- expected, + received):", *("  " + line for line in diff)]
        return lines


def _oracle_lines(mismatch: OracleMismatch) -> list[str]:
    return [
        f"Oracle mismatch: the extraction and the DOM disagree on {mismatch.field!r}",
        f"  extract: {short_repr(mismatch.extracted, 200)}",
        f"  js:      {short_repr(mismatch.dom, 200)}   ({mismatch.js})",
    ]


def _event_lines(session: Any) -> list[str]:
    try:
        events = list(getattr(session, "events", None) or [])[-EVENTS_SHOWN:]
        session_id = getattr(session, "id", None)
    except Exception:  # a broken session must not hide the assertion failure
        return []
    if not events:
        return []
    lines = [f"Last {len(events)} events of session {session_id}:"]
    for record in events:
        duration = f"{record.duration:.2f} s" if record.duration is not None else "-"
        inputs = ", ".join(f"{k}={short_repr(v, 50)}" for k, v in (record.input or {}).items())
        error = f"  {short_repr(record.error, 100)}" if record.error else ""
        lines.append(f"  {record.action:<12} {record.outcome:<8} {duration:>8}  {inputs}{error}")
    return lines
