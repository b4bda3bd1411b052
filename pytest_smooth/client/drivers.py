"""The two drivers of the client's flows: the only code that sends, sleeps or awaits.

Each takes a flow (``_flow``), performs what it yields and feeds back the result, or throws
the exception into the flow, which decides (retry, map, re-raise). Ctrl-C and cancellation are
thrown in as well, so the flow's bookkeeping (the event log) sees them, and they end the flow.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import TypeVar

import httpx

from pytest_smooth._core.flow import CallTool
from pytest_smooth._core.flow import Effect
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.flow import Send

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

__all__ = ["drive_async", "drive_sync", "share_docstrings"]

T = TypeVar("T")


def _step(flow: Flow[T], value: Any, error: BaseException | None) -> tuple[bool, Any]:
    """Advance ``flow`` once: (True, effect) to perform, or (False, its return value)."""
    try:
        return True, (flow.send(value) if error is None else flow.throw(error))
    except StopIteration as stop:
        return False, stop.value


def drive_sync(flow: Flow[T], http: httpx.Client, sleep: Callable[[float], None]) -> T:
    """Run ``flow`` to its end with blocking I/O."""
    value: Any = None
    error: BaseException | None = None
    while True:
        running, effect = _step(flow, value, error)
        if not running:
            return effect  # type: ignore[no-any-return]
        value, error = None, None
        try:
            value = _perform_sync(effect, http, sleep)
        except BaseException as err:  # the flow decides; what it does not catch ends it
            error = err


def _perform_sync(effect: Effect, http: httpx.Client, sleep: Callable[[float], None]) -> Any:
    if isinstance(effect, Send):
        return http.request(effect.method, effect.url, timeout=effect.timeout, **effect.options)
    if isinstance(effect, CallTool):
        return effect.function(**effect.arguments)
    sleep(effect.seconds)
    return None


async def drive_async(
    flow: Flow[T], http: httpx.AsyncClient, sleep: Callable[[float], Awaitable[None]]
) -> T:
    """Run ``flow`` to its end with asynchronous I/O."""
    value: Any = None
    error: BaseException | None = None
    while True:
        running, effect = _step(flow, value, error)
        if not running:
            return effect  # type: ignore[no-any-return]
        value, error = None, None
        try:
            value = await _perform_async(effect, http, sleep)
        except BaseException as err:  # cancellation included: the flow records it, re-raises
            error = err


async def _perform_async(
    effect: Effect, http: httpx.AsyncClient, sleep: Callable[[float], Awaitable[None]]
) -> Any:
    if isinstance(effect, Send):
        return await http.request(
            effect.method, effect.url, timeout=effect.timeout, **effect.options
        )
    if isinstance(effect, CallTool):
        output = effect.function(**effect.arguments)
        return await output if inspect.isawaitable(output) else output
    await sleep(effect.seconds)
    return None


def share_docstrings(twin: type, documented: type) -> None:
    """Give ``twin``'s methods the docstrings of ``documented``'s, where they have none.

    The async twins are documented once, in the sync classes: same names, same behaviour.
    """
    for name, member in vars(twin).items():
        source = getattr(documented, name, None)
        if callable(member) and not getattr(member, "__doc__", None) and source is not None:
            member.__doc__ = source.__doc__
