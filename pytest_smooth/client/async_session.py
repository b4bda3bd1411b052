"""``AsyncSmoothSession``: one browser session, driven by asynchronous I/O.

The awaited twin of ``SmoothSession``: the same flows (``_session_flows``) driven with its
client's ``httpx.AsyncClient`` and ``asyncio.sleep``, behind an ``asyncio.Lock``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from typing_extensions import Unpack

from pytest_smooth._core.client_base import Timeout
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.payloads import ModelT
from pytest_smooth._core.payloads import extract_input
from pytest_smooth._core.session_flows import SessionArgs
from pytest_smooth._core.session_flows import SessionFlows
from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth.client.drivers import drive_async

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

if TYPE_CHECKING:
    from typing_extensions import Self

    from pytest_smooth.client.async_client import AsyncSmoothClient

__all__ = ["AsyncSessionOpener", "AsyncSmoothSession"]

T = TypeVar("T")


async def _acquire(lock: asyncio.Lock, limit: float | None) -> bool:
    """Acquire ``lock`` within ``limit`` seconds; never leaves it held on timeout or cancel.

    (``asyncio.wait_for`` before 3.12 can lose an acquisition that races its timeout.)
    """
    if not lock.locked():
        return await lock.acquire()  # the fast path does not suspend
    waiter = asyncio.ensure_future(lock.acquire())
    try:
        await asyncio.wait({waiter}, timeout=limit)
    finally:
        if not waiter.done():
            waiter.cancel()
        elif not waiter.cancelled() and sys.exc_info()[0] is not None:
            lock.release()  # acquired, but the caller is being cancelled
    return waiter.done() and not waiter.cancelled()


class AsyncSmoothSession(SessionFlows):
    """An asynchronous browser session: the same methods as ``SmoothSession``, awaited."""

    def __init__(
        self, client: AsyncSmoothClient, task: TaskResponse, **options: Unpack[SessionArgs]
    ) -> None:
        super().__init__(client, task, **options)
        self._client, self._lock = client, asyncio.Lock()

    async def _drive(self, flow: Flow[T]) -> T:
        return await drive_async(flow, self._client._http, self._client._sleep)

    @asynccontextmanager
    async def _holding_lock(self, limit: float | None) -> AsyncIterator[bool]:
        acquired = await _acquire(self._lock, limit)
        try:
            yield acquired
        finally:
            if acquired:
                self._lock.release()

    async def _act(
        self, kind: str, action: str, payload: Any, timeout: Timeout, model: Any = None
    ) -> Any:
        limit, start = self._start_action(action, timeout)
        async with self._holding_lock(limit) as acquired:
            self._check_locked(acquired, action, limit)
            flow = self._action_flow(kind, action, payload, limit=limit, start=start, model=model)
            return await self._drive(flow)

    async def goto(self, url: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        await self._act("browser_action", "goto", {"url": url}, timeout)

    async def evaluate_js(self, js: str, args: Any = None, *, timeout: Timeout = NOT_GIVEN) -> Any:
        return await self._act("browser_action", "evaluate_js", {"js": js, "args": args}, timeout)

    async def extract(
        self,
        schema: type[ModelT] | Mapping[str, Any],
        prompt: str | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> ModelT:
        payload, model = extract_input(schema, prompt)
        return await self._act("browser_action", "extract", payload, timeout, model)  # type: ignore[no-any-return]

    async def run_task(
        self,
        task: str,
        max_steps: int = 32,
        response_model: type[ModelT] | Mapping[str, Any] | None = None,
        url: str | None = None,
        secrets: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> ModelT:
        payload, model = self._run_task_request(
            task, max_steps, response_model, url, secrets, metadata
        )
        return await self._act("session_action", "run_task", payload, timeout, model)  # type: ignore[no-any-return]

    async def refresh(self) -> TaskResponse:
        return await self._drive(self._refresh_flow())

    async def wait_recording_url(self, timeout: float = 30.0) -> str | None:
        return await self._drive(self._wait_recording_url_flow(timeout))

    async def close(self, *, force: bool = False, timeout: Timeout = NOT_GIVEN) -> None:
        limit = self._close_limit(timeout)
        # A forced close (or a no-op one) never waits for the lock: it only takes it if free.
        async with self._holding_lock(0 if force or self.closed else limit) as locked:
            await self._drive(self._close_flow(limit, force=force, locked=locked))

    aclose = close

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Ctrl-C and cancellation: no graceful wait, just DELETE.
        await self.close(force=self._interrupted(exc_info[0]))


class AsyncSessionOpener:
    """What ``AsyncSmoothClient.session()`` returns: await it, or use it with ``async with``."""

    def __init__(self, opener: Callable[[], Awaitable[AsyncSmoothSession]]) -> None:
        self._opener: Callable[[], Awaitable[AsyncSmoothSession]] | None = opener
        self._session: AsyncSmoothSession | None = None

    async def _open(self) -> AsyncSmoothSession:
        if self._opener is None:
            raise RuntimeError("this session() call was already awaited; call session() again")
        opener, self._opener = self._opener, None
        self._session = await opener()
        return self._session

    def __await__(self) -> Generator[Any, None, AsyncSmoothSession]:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncSmoothSession:
        return await self._open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.__aexit__(exc_type, exc, tb)
