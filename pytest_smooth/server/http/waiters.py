"""Wake-ups for held requests: the store's change notifications as a ``ChangeSignal``.

``Waiters`` is fed by the store's ``on_change``; ``Waiters.signal(request)`` is the
``ChangeSignal`` that ``ApiHandler.wait_out`` waits on for one request, which also stops
waiting once that client has gone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator

from starlette.requests import Request

from pytest_smooth.server.protocol.registry import TaskRegistry

IsGone = Callable[[], Awaitable[bool]]


class EventWatch:
    """One held request's view of one task: an ``asyncio.Event`` set on each change."""

    def __init__(self, event: asyncio.Event, is_gone: IsGone | None) -> None:
        self._event = event
        self._is_gone = is_gone
        self._woken = False

    async def wait(self, timeout: float) -> bool:
        """Wait for a change, at most ``timeout`` s; False once the client disconnected."""
        # Not asked on the first wait: the hot path of a reply that comes within ms.
        if self._woken and self._is_gone is not None and await self._is_gone():
            return False
        with contextlib.suppress(asyncio.TimeoutError):  # not builtins' on 3.10
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()
        self._woken = True
        return True


class Waiters:
    """Per-task wake-ups for held requests, fed by the store's ``on_change``."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}

    def attach(self, store: TaskRegistry) -> None:
        """Be notified of the store's changes (after any ``on_change`` it already had)."""
        previous = store.on_change

        def on_change(task_id: str) -> None:
            self.notify(task_id)
            if previous is not None:
                previous(task_id)

        store.on_change = on_change

    def notify(self, task_id: str) -> None:
        """Wake every request held on ``task_id``."""
        for event in self._events.get(task_id, ()):
            event.set()

    @contextlib.contextmanager
    def watch(self, task_id: str, is_gone: IsGone | None = None) -> Iterator[EventWatch]:
        """Watch ``task_id`` while the context lasts."""
        event = asyncio.Event()
        self._events.setdefault(task_id, set()).add(event)
        try:
            yield EventWatch(event, is_gone)
        finally:
            watchers = self._events.get(task_id, set())
            watchers.discard(event)
            if not watchers:
                self._events.pop(task_id, None)

    def signal(self, request: Request) -> RequestChanges:
        """Return the ``ChangeSignal`` of one request."""
        return RequestChanges(self, request)


class RequestChanges:
    """A ``ChangeSignal`` for one request: its watches end when the client disconnects."""

    def __init__(self, waiters: Waiters, request: Request) -> None:
        self._waiters = waiters
        self._request = request

    def watch(self, task_id: str) -> contextlib.AbstractContextManager[EventWatch]:
        return self._waiters.watch(task_id, self._request.is_disconnected)
