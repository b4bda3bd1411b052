"""Run a login or check function in a session of its own, sync or async; describe its failure.

A sync function gets a ``SmoothSession`` from the run's ``smooth_client``. An ``async def`` one
gets an ``AsyncSmoothSession`` of a client made for it, in an event loop of its own
(``asyncio.run``; in a worker thread when this thread already runs a loop, as inside an async
fixture), so it works whatever loop the tests use. The session is closed either way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import os
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth._core.types import NotGiven

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import SmoothClient

Timeout = float | NotGiven | None


def run_in_session(
    client: SmoothClient,
    connection: tuple[str | None, str],
    function: Callable[[Any], Any],
    options: dict[str, Any],
    timeout: Timeout,
) -> Any:
    """Open a session with ``options``, call ``function(session)``, close it; return its result."""
    if inspect.iscoroutinefunction(function):
        return _run_coroutine(lambda: _in_async_session(connection, function, options, timeout))
    with client.session(**options) as session:
        return function(session)


async def _in_async_session(
    connection: tuple[str | None, str],
    function: Callable[[Any], Any],
    options: dict[str, Any],
    timeout: Timeout,
) -> Any:
    from pytest_smooth.client.async_client import AsyncSmoothClient

    api_key, base_url = connection
    kwargs: dict[str, Any] = {} if isinstance(timeout, NotGiven) else {"timeout": timeout}
    async with AsyncSmoothClient(api_key, base_url, **kwargs) as client:
        async with client.session(**options) as session:
            return await function(session)


def _run_coroutine(make: Callable[[], Any]) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # This thread runs a loop already (an async fixture called us): run ours beside it.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="smooth-login") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def login_name(function: Callable[..., Any]) -> str:
    """Return how a login function is named in messages: ``module.qualname``."""
    module = getattr(function, "__module__", None) or ""
    qualname = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{qualname}" if module else qualname


def describe_failure(name: str, login: Callable[..., Any], err: BaseException) -> str:
    """Return the one message every test needing the profile errors with."""
    where = ""
    code = getattr(login, "__code__", None)
    if code is not None:
        frames = [
            f for f in traceback.extract_tb(err.__traceback__) if f.filename == code.co_filename
        ]
        line = frames[-1].lineno if frames else code.co_firstlineno
        where = f" ({os.path.basename(code.co_filename)}:{line})"
    reason = str(err).strip() or "(no message)"
    return (
        f"smooth_profile({name!r}): the login function {login_name(login)}{where} failed:"
        f" {type(err).__name__}: {reason}\n(every test that needs this profile errors with"
        " this message; the login is not retried in this run)"
    )
