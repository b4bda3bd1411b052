"""``expect(session)``: the entry point of the retrying assertions (no pytest).

``expect(session).js(code)`` and ``expect(session).extract(schema)`` name a value that is
fetched again until the matcher passes or the timeout ends; on an async session the matchers
are awaitables. ``expect.soft(session)`` records a failure instead of raising it, when a
collector is active (the pytest plugin opens one per test), and raises it otherwise.

Timeouts, first one given wins: the matcher's ``timeout=``, ``expect(session, timeout=)``,
then the suite default (:func:`configure_expect`, ``smooth_expect_timeout``, 5 s).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any
from typing import Protocol
from typing import overload

from pytest_smooth.expect.polling import AsyncExtractPoll
from pytest_smooth.expect.polling import AsyncPoll
from pytest_smooth.expect.polling import ExtractPoll
from pytest_smooth.expect.polling import Poll
from pytest_smooth.expect.sources import Source

__all__ = ["AsyncExpect", "AsyncSessionLike", "Expect", "ExpectFactory", "SessionLike", "expect"]


class SessionLike(Protocol):
    """What ``expect`` needs of a sync session (``SmoothSession`` has it)."""

    def evaluate_js(self, js: str, args: Any = ..., *, timeout: float = ...) -> Any: ...
    def extract(self, schema: Any, prompt: str | None = ..., *, timeout: float = ...) -> Any: ...
    def close(self) -> None: ...


class AsyncSessionLike(Protocol):
    """What ``expect`` needs of an async session (``AsyncSmoothSession`` has it)."""

    def evaluate_js(self, js: str, args: Any = ..., *, timeout: float = ...) -> Awaitable[Any]: ...
    def extract(
        self, schema: Any, prompt: str | None = ..., *, timeout: float = ...
    ) -> Awaitable[Any]: ...
    def close(self) -> Awaitable[None]: ...


def _check_timeout(timeout: float | None) -> float | None:
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds, got {timeout!r}")
    return timeout


class Expect:
    """``expect(session)`` on a sync session: pick the value to poll."""

    def __init__(
        self,
        session: Any,
        *,
        timeout: float | None = None,
        soft: bool = False,
        message: str | None = None,
    ) -> None:
        self._session = session
        self._options: dict[str, Any] = {
            "timeout": _check_timeout(timeout),
            "soft": soft,
            "message": message,
        }

    def js(self, code: str, args: Any = None) -> Poll:
        """Poll the value of ``session.evaluate_js(code, args)``."""
        return Poll(self._session, Source("js", code, args), **self._options)

    def extract(self, schema: Any, prompt: str | None = None) -> ExtractPoll:
        """Poll the value of ``session.extract(schema, prompt)``."""
        return ExtractPoll(self._session, Source("extract", schema, prompt), **self._options)


class AsyncExpect(Expect):
    """``expect(session)`` on an async session: the same, with awaitable matchers."""

    def js(self, code: str, args: Any = None) -> AsyncPoll:  # type: ignore[override]
        """Poll the value of ``await session.evaluate_js(code, args)``."""
        return AsyncPoll(self._session, Source("js", code, args), **self._options)

    def extract(  # type: ignore[override]
        self, schema: Any, prompt: str | None = None
    ) -> AsyncExtractPoll:
        """Poll the value of ``await session.extract(schema, prompt)``."""
        return AsyncExtractPoll(self._session, Source("extract", schema, prompt), **self._options)


def _make(session: Any, timeout: float | None, soft: bool, message: str | None) -> Expect:
    # Decided by the session's method, so any async twin (or test double) works.
    is_async = inspect.iscoroutinefunction(getattr(session, "evaluate_js", None))
    cls = AsyncExpect if is_async else Expect
    return cls(session, timeout=timeout, soft=soft, message=message)


class ExpectFactory:
    """The ``expect`` object: ``expect(session)`` and ``expect.soft(session)``."""

    @overload
    def __call__(
        self, session: AsyncSessionLike, *, timeout: float | None = ..., message: str | None = ...
    ) -> AsyncExpect: ...
    @overload
    def __call__(
        self, session: SessionLike, *, timeout: float | None = ..., message: str | None = ...
    ) -> Expect: ...
    def __call__(
        self, session: Any, *, timeout: float | None = None, message: str | None = None
    ) -> Expect:
        """Start expectations on ``session`` that raise ``SmoothExpectationError`` on failure.

        ``timeout`` (seconds) applies to every matcher of this expectation that does not set
        its own; ``message`` is printed first when it fails.
        """
        return _make(session, timeout, False, message)

    @overload
    def soft(
        self, session: AsyncSessionLike, *, timeout: float | None = ..., message: str | None = ...
    ) -> AsyncExpect: ...
    @overload
    def soft(
        self, session: SessionLike, *, timeout: float | None = ..., message: str | None = ...
    ) -> Expect: ...
    def soft(
        self, session: Any, *, timeout: float | None = None, message: str | None = None
    ) -> Expect:
        """Start expectations whose failures are collected and fail the test at its end.

        Outside a collector (no pytest plugin, or outside a test's call phase) they raise
        at once, like ``expect(...)``.
        """
        return _make(session, timeout, True, message)

    def __repr__(self) -> str:
        return "<pytest_smooth.expect>"


expect = ExpectFactory()
