"""Prewarmed browser contexts: a session starts on a context that is already made.

The pool keeps ``size`` contexts ready per device (desktop from the start, other devices after
their first use), each with Playwright tracing already started when the executor traces, and
refills in the background, one context at a time so it never starves live sessions.

It keeps contexts, not pages: a page opened ahead and navigated later costs Chromium a second
renderer process, measured at twice the renderer CPU of a cycle (about 0.45 s more a session on
2 cores), while a page opened just before its first ``goto`` takes the browser's spare renderer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.browser.traces import start_trace
from pytest_smooth.server.browser.warm import Warm
from pytest_smooth.server.page.devices import context_options

if TYPE_CHECKING:
    from playwright.async_api import Browser
    from playwright.async_api import BrowserContext


class ContextPool:
    """Makes contexts (``new``) and keeps prewarmed ones (``acquire`` takes one)."""

    def __init__(
        self, size: int, browser: Callable[[], Awaitable[Browser]], *, tracing: bool = False
    ) -> None:
        self.size = max(0, size)
        self._browser = browser
        self.tracing = tracing  # start Playwright tracing on pooled contexts (most sessions record)
        self._ready: dict[str, list[BrowserContext]] = {}
        self._refills: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    def ready(self, device: str) -> int:
        return len(self._ready.get(device, []))

    def peek(self, device: str) -> list[BrowserContext]:
        """List the prewarmed contexts of ``device``, next one first (without taking any)."""
        return list(self._ready.get(device, []))

    async def warmed(self, device: str, timeout: float = 60.0) -> int:
        """Wait (bounded) for the device's refill in progress; return how many are ready."""
        running = self._refills.get(device)
        if running is not None and not running.done():
            await asyncio.wait([running], timeout=timeout)
        return self.ready(device)

    async def _context(self, device: str, storage_state: dict[str, Any] | None) -> BrowserContext:
        browser = await self._browser()
        options = context_options(device, browser.version)
        if storage_state is not None:
            options["storage_state"] = storage_state
        context = await browser.new_context(**options)
        try:
            # Lets extract tell a page that is still filling (short timers, pending fetches).
            from pytest_smooth.server.extract.reader import SETTLE_INIT_SCRIPT

            await context.add_init_script(script=SETTLE_INIT_SCRIPT)
        except BaseException:
            await context.close()
            raise
        return context

    async def new(self, device: str, storage_state: dict[str, Any] | None = None) -> Warm:
        """Make a context with its page for ``device`` (optionally from a storage state)."""
        return await _with_page(await self._context(device, storage_state), device, False)

    def traces(self, device: str) -> bool:
        """Whether pooled contexts of ``device`` wait with tracing on.

        Desktop only: while a context traces, the driver keeps the stack of every API call of
        the connection for it, so a rarely used device's idle contexts would grow all run.
        """
        return self.tracing and device == "desktop"

    async def acquire(self, device: str, storage_state: dict[str, Any] | None) -> Warm:
        """Take a prewarmed context when the session starts fresh, else make a new one."""
        if storage_state is None and self.size:
            ready = self._ready.setdefault(device, [])
            self.refill(device)
            while ready:
                context = ready.pop(0)
                try:
                    return await _with_page(context, device, self.traces(device))
                except Exception:
                    continue  # closed under us (its browser went away): try the next one
        return await self.new(device, storage_state)

    def refill(self, device: str) -> None:
        """Top the device's pool up in the background (one refill task per device)."""
        running = self._refills.get(device)
        if self.size and not self._closed and (running is None or running.done()):
            self._refills[device] = asyncio.get_running_loop().create_task(self._refill(device))

    def _is_closed(self) -> bool:
        return self._closed  # a method, so mypy does not narrow the flag across awaits

    async def _refill(self, device: str) -> None:
        ready = self._ready.setdefault(device, [])
        while not self._closed and len(ready) < self.size:
            try:
                context = await self._context(device, None)
            except Exception:
                return  # browser gone: the sessions that need one report it
            try:
                if self.traces(device):
                    await start_trace(context)
            except BaseException:
                await asyncio.gather(context.close(), return_exceptions=True)
                return
            if self._is_closed():
                await context.close()
                return
            ready.append(context)

    def discard(self) -> None:
        """Forget the prewarmed contexts (their browser is gone) and refill from scratch."""
        self._ready.clear()
        for device in list(self._refills):
            self.refill(device)

    async def close(self) -> None:
        """Stop refilling and close every pooled context."""
        self._closed = True
        refills = list(self._refills.values())
        for task in refills:
            task.cancel()
        await asyncio.gather(*refills, return_exceptions=True)
        pooled = [c for ready in self._ready.values() for c in ready]
        self._ready.clear()
        await asyncio.gather(*(c.close() for c in pooled), return_exceptions=True)


async def _with_page(context: BrowserContext, device: str, tracing: bool) -> Warm:
    """Open the context's page (closing the context if that fails)."""
    try:
        page = await context.new_page()
    except BaseException:
        await asyncio.gather(context.close(), return_exceptions=True)
        raise
    return Warm(context, page, device, tracing=tracing)
