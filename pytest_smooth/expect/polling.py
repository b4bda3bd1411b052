"""The polled values behind ``expect(session)``: matchers that retry until they pass (no pytest).

``Poll`` (sync) and ``AsyncPoll`` (awaitable matchers) share everything but their drivers: the
attempt logic is one generator (:meth:`_Poll._flow`) that yields the calls to make and the
sleeps to take, as httpx drives one auth flow from both of its clients.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Generator
from dataclasses import dataclass
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import TypeVar

from pytest_smooth.expect import attempts as _attempts
from pytest_smooth.expect import matchers as m
from pytest_smooth.expect.attempts import RETRYABLE
from pytest_smooth.expect.attempts import RetryState
from pytest_smooth.expect.matchers import Matcher
from pytest_smooth.expect.sources import CrossCheck
from pytest_smooth.expect.sources import Source
from pytest_smooth.expect.sources import oracle_mismatch

if TYPE_CHECKING:
    from types import FrameType

    from typing_extensions import Self

__all__ = ["AsyncExtractPoll", "AsyncPoll", "ExtractPoll", "Poll"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

R = TypeVar("R")
Step = Callable[[], Any]


@dataclass(frozen=True)
class Caller:
    """The test line that made an expectation: ``file:line``, and a traceback entry for it."""

    where: str | None = None
    traceback: TracebackType | None = None


def _caller() -> Caller:
    # The first frame outside this package is the test line that made the expectation. Its
    # traceback entry is built now: a coroutine's frame moves on before a soft report is due.
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_PACKAGE_DIR):
            relative = os.path.relpath(path)
            where = f"{path if relative.startswith('..') else relative}:{frame.f_lineno}"
            return Caller(where, TracebackType(None, frame, frame.f_lasti, frame.f_lineno))
        frame = frame.f_back
    return Caller()


class _Poll:
    """A value to poll and the options of the expectation; the matchers live in subclasses."""

    def __init__(
        self,
        session: Any,
        source: Source,
        *,
        timeout: float | None,
        soft: bool,
        message: str | None,
        negate: bool = False,
    ) -> None:
        self._session = session
        self._source = source
        self._timeout = timeout
        self._soft = soft
        self._message = message
        self._negate = negate

    def _copy(self, *, source: Source | None = None, negate: bool | None = None) -> Self:
        return type(self)(
            self._session,
            source or self._source,
            timeout=self._timeout,
            soft=self._soft,
            message=self._message,
            negate=self._negate if negate is None else negate,
        )

    @property
    def not_(self) -> Self:
        """The same expectation, negated: it passes once the matcher fails."""
        return self._copy(negate=not self._negate)

    def _retry_state(self, timeout: float | None) -> RetryState:
        if timeout is not None:
            return RetryState(timeout, "the matcher's timeout=", _attempts.CLOCK)
        if self._timeout is not None:
            return RetryState(self._timeout, "expect(..., timeout=)", _attempts.CLOCK)
        return RetryState(_attempts.default_timeout(), "smooth_expect_timeout", _attempts.CLOCK)

    def _flow(self, matcher: Matcher, retry: RetryState) -> Generator[Step | float, Any, bool]:
        """Make attempts until a pass (True) or the deadline (False); yield calls and sleeps."""
        session, source = self._session, self._source
        while True:
            retry.start_attempt()
            try:
                value = yield source.step(session, retry.attempt_timeout())
                outcome = matcher.verdict(value, negate=self._negate)
                retry.saw_value(value, outcome)
                if outcome.passed:
                    for check in source.checks:
                        dom = yield check.step(session, retry.attempt_timeout())
                        mismatch = oracle_mismatch(check, value, dom)
                        if mismatch is not None:
                            retry.saw_oracle(mismatch)
                            break
                    else:
                        return True
            except RETRYABLE as exc:
                retry.saw_error(exc)
            delay = retry.next_delay()
            if delay is None:
                return False
            yield float(delay)

    def _finish(self, passed: bool, matcher: Matcher, retry: RetryState, caller: Caller) -> None:
        __tracebackhide__ = True
        if passed:
            return
        entry = "expect.soft(session)" if self._soft else "expect(session)"
        label = f"{entry}.{self._source.label()}{'.not_' if self._negate else ''}"
        label += f".{matcher.name}({matcher.argument})"
        error = retry.failure(
            label=label,
            matcher=matcher,
            negate=self._negate,
            message=self._message,
            session=self._session,
        )
        error.where = caller.where
        if self._soft and _attempts.soft_collectors:
            # Reported at the test's end, pointing at the line that made the expectation.
            _attempts.soft_collectors[-1].append(error.with_traceback(caller.traceback))
            return
        raise error


class _Matchers(_Poll, Generic[R]):
    """The matcher methods, shared by the sync (R = None) and async (R = awaitable) twins."""

    def _check(self, matcher: Matcher, timeout: float | None) -> R:
        raise NotImplementedError

    def to_equal(self, expected: Any, *, timeout: float | None = None) -> R:
        """Pass when the value ``== expected`` (``pytest.approx`` inside works)."""
        __tracebackhide__ = True
        return self._check(m.equal(expected), timeout)

    def to_match(
        self, expected: Any, *, partial_lists: bool = False, timeout: float | None = None
    ) -> R:
        """Pass when the value matches ``expected`` as a nested subset (see ``_matchers``)."""
        __tracebackhide__ = True
        return self._check(m.match(expected, partial_lists=partial_lists), timeout)

    def to_contain(self, item: Any, *, timeout: float | None = None) -> R:
        """Pass when the value holds ``item``: substring, mapping key, or matching list item."""
        __tracebackhide__ = True
        return self._check(m.contain(item), timeout)

    def to_match_regex(self, pattern: Any, flags: int = 0, *, timeout: float | None = None) -> R:
        """Pass when the value is a string in which ``re.search(pattern)`` finds a match."""
        __tracebackhide__ = True
        return self._check(m.match_regex(pattern, flags), timeout)

    def to_be_truthy(self, *, timeout: float | None = None) -> R:
        """Pass when ``bool(value)`` is true."""
        __tracebackhide__ = True
        return self._check(m.truthy(), timeout)

    def to_satisfy(
        self,
        predicate: Callable[[Any], object],
        description: str | None = None,
        *,
        timeout: float | None = None,
    ) -> R:
        """Pass when ``predicate(value)`` is truthy (a predicate that raises never passes)."""
        __tracebackhide__ = True
        return self._check(m.satisfy(predicate, description), timeout)

    def to_validate(self, model: Any, *, timeout: float | None = None) -> R:
        """Pass when pydantic validates the value as ``model`` (a model class or any type)."""
        __tracebackhide__ = True
        return self._check(m.validate(model), timeout)


class _CrossCheckMixin(_Poll):
    def cross_check(
        self,
        *,
        js: str,
        field: str | None = None,
        args: Any = None,
        compare: Callable[[Any, Any], bool] | None = None,
    ) -> Self:
        """Also read the same fact with ``evaluate_js(js)`` and require it to agree.

        ``field`` is a dotted path into the extraction (``"title"``, ``"items.0.name"``; None:
        the whole value). Strings agree when equal with whitespace collapsed, numbers and
        numeric text by value; ``compare(extracted, dom)`` overrides that. A disagreement is
        an "oracle mismatch" attempt, retried like any other until the timeout. The DOM is read
        only once the matcher passes; ``.not_`` negates the matcher, never the cross-checks.
        """
        check = CrossCheck(js, field, args, compare)
        return self._copy(source=replace(self._source, checks=(*self._source.checks, check)))


class Poll(_Matchers[None]):
    """A value polled through a sync session; the matchers return when they pass."""

    def _check(self, matcher: Matcher, timeout: float | None) -> None:
        __tracebackhide__ = True
        caller, retry = _caller(), self._retry_state(timeout)
        flow = self._flow(matcher, retry)
        try:
            step = next(flow)
            while True:
                if isinstance(step, float):
                    _attempts.CLOCK.sleep(step)
                    step = flow.send(None)
                    continue
                try:
                    result = step()
                except RETRYABLE as exc:
                    step = flow.throw(exc)
                else:
                    step = flow.send(result)
        except StopIteration as stop:
            passed: bool = stop.value
        # Outside the except block, so the failure does not chain onto StopIteration.
        self._finish(passed, matcher, retry, caller)


class AsyncPoll(_Matchers[Coroutine[Any, Any, None]]):
    """A value polled through an async session; the matchers are awaitables."""

    def _check(self, matcher: Matcher, timeout: float | None) -> Coroutine[Any, Any, None]:
        # The caller is the test line now; once awaited, the stack may be the event loop's.
        return self._check_async(matcher, timeout, _caller())

    async def _check_async(self, matcher: Matcher, timeout: float | None, caller: Caller) -> None:
        __tracebackhide__ = True
        retry = self._retry_state(timeout)
        flow = self._flow(matcher, retry)
        try:
            step = next(flow)
            while True:
                if isinstance(step, float):
                    await _attempts.CLOCK.asleep(step)
                    step = flow.send(None)
                    continue
                try:
                    result = step()
                    if inspect.isawaitable(result):
                        result = await result
                except RETRYABLE as exc:
                    step = flow.throw(exc)
                else:
                    step = flow.send(result)
        except StopIteration as stop:
            passed: bool = stop.value
        self._finish(passed, matcher, retry, caller)


class ExtractPoll(_CrossCheckMixin, Poll):
    """``expect(session).extract(...)`` on a sync session (adds ``cross_check``)."""


class AsyncExtractPoll(_CrossCheckMixin, AsyncPoll):
    """``expect(session).extract(...)`` on an async session (adds ``cross_check``)."""
