"""Attempt bookkeeping, settings and errors of ``expect(...)`` (no pytest, no I/O).

A :class:`RetryState` is one expectation being retried: its deadline, its backoff (50 ms doubling to
1 s), what the last attempt received or raised, and at the end its error (the text is built in
``messages``). The suite default timeout and the soft-failure collectors are module state,
set by the pytest layer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth.expect.matchers import Matcher
from pytest_smooth.expect.matchers import Outcome
from pytest_smooth.expect.messages import failure_text

__all__ = [
    "CLOCK",
    "RETRYABLE",
    "Clock",
    "OracleMismatch",
    "RetryState",
    "SmoothExpectationError",
    "SmoothSoftExpectationsError",
    "collect_soft_failures",
    "configure_expect",
    "default_timeout",
]

DEFAULT_EXPECT_TIMEOUT = 5.0
FIRST_INTERVAL = 0.05
MAX_INTERVAL = 1.0
# An attempt may outlive the deadline by up to this much, so the last one is not doomed to time
# out on a slow backend or a busy CI machine (an action that times out on the client still runs
# on the server, so cutting it short would gain nothing).
MIN_ATTEMPT_TIMEOUT = 2.0

# A failed attempt: the page is not there yet. Anything else (SessionClosedError, auth, a
# connection error) is raised at once, because retrying cannot help.
RETRYABLE: tuple[type[BaseException], ...] = (
    SmoothActionError,
    SmoothTimeoutError,
    ValidationError,
)

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
    """Time for the polling loop; tests swap ``attempts.CLOCK`` for a fake one."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


CLOCK = Clock()


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


class RetryState:
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
        """Build the error of an expectation that never passed, the whole story in its text."""
        text = failure_text(
            self, label=label, matcher=matcher, negate=negate, message=message, session=session
        )
        return SmoothExpectationError(
            text,
            received=self.last_received,
            attempts=self.attempts,
            elapsed=self.elapsed,
            last_error=self.error,
        )

    @property
    def last_received(self) -> Any:
        """Return the last value received, or None if every attempt raised."""
        return None if self.received is _MISSING else self.received

    @property
    def received_anything(self) -> bool:
        return self.received is not _MISSING
