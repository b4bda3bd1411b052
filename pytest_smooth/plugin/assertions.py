"""Assertions for Smooth sessions: ``expect(...)``, soft expectations, one-shot helpers.

This is the pytest-facing part; the retrying core is ``pytest_smooth.expect`` (no pytest).
Loaded as a plugin (``pytest_plugins`` of ``plugin/__init__.py``) it:

- makes ``expect.soft(...)`` failures fail the test at its end, all in one report;
- renders ``to_equal`` diffs with pytest's own assertion-diff machinery (and its verbosity).

The package registers this module for assertion rewriting, so the plain ``assert`` of
:func:`assert_js` and :func:`assert_extract` shows pytest's diffs.
"""

from __future__ import annotations

from collections.abc import Coroutine
from collections.abc import Generator
from typing import Any
from typing import overload

import pytest

from pytest_smooth.expect import messages as _messages
from pytest_smooth.expect.attempts import SmoothExpectationError
from pytest_smooth.expect.attempts import SmoothSoftExpectationsError
from pytest_smooth.expect.attempts import collect_soft_failures
from pytest_smooth.expect.attempts import configure_expect
from pytest_smooth.expect.attempts import default_timeout
from pytest_smooth.expect.entry import AsyncSessionLike
from pytest_smooth.expect.entry import SessionLike
from pytest_smooth.expect.entry import expect
from pytest_smooth.expect.matchers import plain

__all__ = [
    "SmoothExpectationError",
    "SmoothSoftExpectationsError",
    "assert_extract",
    "assert_js",
    "configure_expect",
    "expect",
]

# The error classes read better under the module users import them from.
SmoothExpectationError.__module__ = __name__
SmoothSoftExpectationsError.__module__ = __name__


_PREVIOUS_DIFFER = pytest.StashKey[_messages.Differ]()
_PREVIOUS_TIMEOUT = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    def pytest_diff(received: Any, expected: Any) -> list[str] | None:
        try:
            answers = config.hook.pytest_assertrepr_compare(
                config=config, op="==", left=received, right=expected
            )
        except Exception:  # a diff is a nicety; the failure itself must still be reported
            return None
        for lines in answers:
            # The first line is the "left == right" summary; Expected/Received cover it.
            body = [line for line in (lines or [])[1:] if line.strip()]
            if body:
                return body
        return None

    # Kept to restore: a pytester run inside a test configures and unconfigures its own (and
    # the plugin sets the default timeout after this, from smooth_expect_timeout).
    config.stash[_PREVIOUS_DIFFER] = _messages.current_differ()
    config.stash[_PREVIOUS_TIMEOUT] = default_timeout()
    _messages.set_differ(pytest_diff)


def pytest_unconfigure(config: pytest.Config) -> None:
    _messages.set_differ(config.stash.get(_PREVIOUS_DIFFER, None))
    if _PREVIOUS_TIMEOUT in config.stash:
        configure_expect(default_timeout=config.stash[_PREVIOUS_TIMEOUT])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Collect the test's soft failures; fail it with all of them once it has run."""
    __tracebackhide__ = True
    with collect_soft_failures() as failures:
        try:
            result = yield
        except BaseException:
            if failures:
                # The test's own error stays the failure; the soft ones go alongside it.
                text = str(SmoothSoftExpectationsError(failures))
                item.add_report_section("call", "smooth soft expectations", text)
            raise
    if failures:
        # The traceback of the first soft failure points at the test line that made it.
        raise SmoothSoftExpectationsError(failures).with_traceback(failures[0].__traceback__)
    return result


def _same(value: Any, expected: Any) -> Any:
    # A model from extract(Model) compares with a dict as its model_dump().
    return value if hasattr(expected, "model_dump") else plain(value)


@overload
def assert_js(
    session: AsyncSessionLike, code: str, expected: Any, args: Any = ...
) -> Coroutine[Any, Any, None]: ...
@overload
def assert_js(session: SessionLike, code: str, expected: Any, args: Any = ...) -> None: ...
def assert_js(session: Any, code: str, expected: Any, args: Any = None) -> Any:
    """Assert once (no retry) that ``session.evaluate_js(code, args) == expected``.

    On an async session it returns an awaitable: ``await assert_js(session, ...)``.
    """
    __tracebackhide__ = True
    result = session.evaluate_js(code, args)
    if hasattr(result, "__await__"):
        return _assert_js_async(result, code, expected)
    value = _same(result, expected)
    assert value == expected, f"evaluate_js({code!r}) returned an unexpected value"
    return None


async def _assert_js_async(pending: Any, code: str, expected: Any) -> None:
    __tracebackhide__ = True
    value = _same(await pending, expected)
    assert value == expected, f"evaluate_js({code!r}) returned an unexpected value"


@overload
def assert_extract(
    session: AsyncSessionLike, schema: Any, expected: Any, prompt: str | None = ...
) -> Coroutine[Any, Any, None]: ...
@overload
def assert_extract(
    session: SessionLike, schema: Any, expected: Any, prompt: str | None = ...
) -> None: ...
def assert_extract(session: Any, schema: Any, expected: Any, prompt: str | None = None) -> Any:
    """Assert once (no retry) that ``session.extract(schema, prompt) == expected``.

    A model instance compares with a dict as its ``model_dump()``; ``pytest.approx`` works
    inside ``expected``. On an async session it returns an awaitable.
    """
    __tracebackhide__ = True
    result = session.extract(schema, prompt)
    name = getattr(schema, "__name__", "schema")
    if hasattr(result, "__await__"):
        return _assert_extract_async(result, name, expected)
    value = _same(result, expected)
    assert value == expected, f"extract({name}) returned an unexpected value"
    return None


async def _assert_extract_async(pending: Any, name: str, expected: Any) -> None:
    __tracebackhide__ = True
    value = _same(await pending, expected)
    assert value == expected, f"extract({name}) returned an unexpected value"
