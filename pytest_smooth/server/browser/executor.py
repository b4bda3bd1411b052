"""The Playwright executor of the local backend.

One Chromium, one isolated context per session (a Chromium of its own for a session that loads
extensions), a pool of prewarmed contexts per device, and the evidence sessions leave behind.

Everything runs on the server's event loop: the ``Executor`` methods are sync and only schedule
tasks; results go back through ``ReplySink``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth._core.constants import DEFAULT_ACTION_TIMEOUT
from pytest_smooth.server.agent.llm import llm_from_settings
from pytest_smooth.server.browser.downloads import Downloads
from pytest_smooth.server.browser.downloads import watch_downloads
from pytest_smooth.server.browser.evidence import EvidenceStore
from pytest_smooth.server.browser.evidence_source import EvidenceMethods
from pytest_smooth.server.browser.extensions import extension_context
from pytest_smooth.server.browser.extensions import loads_extensions
from pytest_smooth.server.browser.extensions import remote_note
from pytest_smooth.server.browser.launch import open_browser
from pytest_smooth.server.browser.pool import ContextPool
from pytest_smooth.server.browser.profiles import ProfileHandoff
from pytest_smooth.server.browser.session import BrowserSession
from pytest_smooth.server.browser.traces import TraceRecorder
from pytest_smooth.server.page.actions import ActionFailed

if TYPE_CHECKING:
    from playwright.async_api import Browser
    from playwright.async_api import Playwright

    from pytest_smooth.server.agent.llm import LLMClient
    from pytest_smooth.server.browser.discovery import BrowserTarget
    from pytest_smooth.server.browser.warm import Warm
    from pytest_smooth.server.protocol.executor import ReplySink
    from pytest_smooth.server.protocol.executor import SessionSpec

logger = logging.getLogger("pytest_smooth.server")


class PlaywrightExecutor(EvidenceMethods):
    """Implements ``Executor`` and ``EvidenceSource`` with the Playwright async API."""

    def __init__(
        self,
        target: BrowserTarget,
        *,
        headless: bool = True,
        prewarm: int = 2,
        llm_url: str | None = None,
        llm_model: str | None = None,
        action_timeout: float = DEFAULT_ACTION_TIMEOUT,
        tracing: bool = True,
    ) -> None:
        self.target = target
        self.tracing = tracing  # False: no Playwright tracing for any session
        self.headless = headless
        self.action_timeout = action_timeout
        self.llm: LLMClient | None = llm_from_settings(llm_url, llm_model)
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._started: asyncio.Future[None] | None = None
        self._stopping = False
        self._sessions: dict[str, BrowserSession] = {}
        self.evidence = EvidenceStore()
        self.pool = ContextPool(prewarm, self._running_browser, tracing=tracing)
        self.profiles = ProfileHandoff()
        self._background: set[asyncio.Task[Any]] = set()
        self._sink: ReplySink | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="smooth-evidence-"))
        self.browser_pid: int | None = None
        self.disconnected = asyncio.Event()  # set when the current browser goes away
        self._relaunch = asyncio.Lock()

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Launch (or connect to) the browser and start prewarming desktop contexts."""
        from playwright.async_api import async_playwright

        started = self._started_future()
        try:
            self._pw = await async_playwright().start()
            await self._open_browser()
        except BaseException as exc:
            if not started.done():
                started.set_exception(RuntimeError(f"could not start the browser: {exc}"))
                started.exception()  # retrieved here; sessions re-raise it themselves
            raise
        started.set_result(None)
        self.pool.refill("desktop")

    async def _open_browser(self) -> Browser:
        assert self._pw is not None
        browser, self.browser_pid = await open_browser(
            self._pw, self.target, headless=self.headless
        )
        self._browser = browser
        self.disconnected = asyncio.Event()
        browser.on("disconnected", lambda _b: self._on_disconnected(browser))
        return browser

    def _on_disconnected(self, browser: Browser) -> None:
        if browser is self._browser:
            self.pool.discard()  # their contexts died with the browser
            self.disconnected.set()

    def _started_future(self) -> asyncio.Future[None]:
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
        return self._started

    async def _running_browser(self) -> Browser:
        """Return the browser, launching a new one if it crashed (not once stopping)."""
        await self._started_future()
        async with self._relaunch:
            browser = self._browser
            if browser is not None and browser.is_connected():
                return browser
            if self._stopping or self._pw is None:
                raise RuntimeError("the browser is not running (the local backend is stopping)")
            logger.warning("the browser disconnected (crashed?); launching a new one")
            return await self._open_browser()

    async def stop(self, timeout: float = 10.0) -> None:
        """Close every session, pooled context and the browser, within ``timeout`` seconds."""
        self._stopping = True
        try:
            await asyncio.wait_for(self._shutdown(), timeout)
        except asyncio.TimeoutError:
            pass  # what is left dies with the Playwright driver below
        finally:
            if self._pw is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._pw.stop(), timeout)
                self._pw = None
            shutil.rmtree(self._tmp, ignore_errors=True)

    async def _shutdown(self) -> None:
        await self.pool.close()
        runners = [s.runner for s in self._sessions.values() if s.runner is not None]
        for task in runners:
            task.cancel()
        # Force-closes in flight (DELETEs just before shutdown) finish: they save profiles.
        await asyncio.gather(*runners, *self._background, return_exceptions=True)
        sessions = list(self._sessions.values())
        await asyncio.gather(*(s.teardown(save=True) for s in sessions), return_exceptions=True)
        if self._browser is not None:
            browser, self._browser = self._browser, None
            await asyncio.gather(*(c.close() for c in browser.contexts), return_exceptions=True)
            await browser.close()

    # --- stats ----------------------------------------------------------------------------------

    def open_sessions(self) -> int:
        return sum(1 for s in self._sessions.values() if not s.closed)

    def context_count(self) -> int:
        browser = self._browser
        return len(browser.contexts) if browser is not None and browser.is_connected() else 0

    def stats(self) -> dict[str, Any]:
        """Figures for ``/local/stats``."""
        prewarmed = sum(self.pool.ready(d) for d in ("desktop", "desktop-lg", "mobile"))
        # "contexts" counts every context of the browser, the prewarmed ones included.
        return {
            "contexts": self.context_count(),
            "prewarmed": prewarmed,
            "browser_pid": self.browser_pid,
        }

    # --- Executor -------------------------------------------------------------------------------

    def open_session(self, spec: SessionSpec, sink: ReplySink) -> None:
        self._sink = sink
        evidence = self.evidence.add(spec.task_id)
        session = BrowserSession(
            spec, sink, evidence, action_timeout=self.action_timeout, llm=self.llm
        )
        self._sessions[spec.task_id] = session
        if spec.extension_paths and not loads_extensions(self.target):
            session.notes.add_session(*remote_note(self.target))
        runner = asyncio.get_running_loop().create_task(self._run(session))
        session.runner = runner
        runner.add_done_callback(lambda _t: self._session_done(session))

    async def _run(self, session: BrowserSession) -> None:
        spec = session.spec
        try:
            state = await self.profiles.storage_state(session)
            warm = await self._context(spec, state)
            trace = None
            if self.tracing and spec.request.enable_recording:
                trace = TraceRecorder(self._tmp, f"trace-{uuid.uuid4().hex}")
            if session.closed:  # closed while the context was being made
                await warm.close()
                return
            await session.attach(warm, trace)
            session.evidence.downloads = Downloads(self._tmp / f"downloads-{uuid.uuid4().hex}")
            watch_downloads(warm.context, session)  # saved; served at downloads_url
        except Exception as exc:
            await session.teardown(save=False)
            session.sink.finish_task(
                spec.task_id, "failed", f"could not open a browser session: {exc}"
            )
            return
        if spec.request.task:
            await self._one_shot(session)
        else:
            await session.serve()

    async def _context(self, spec: SessionSpec, state: dict[str, Any] | None) -> Warm:
        """Take a pooled context, or launch one of its own when the session loads extensions."""
        if not spec.extension_paths or not loads_extensions(self.target):
            return await self.pool.acquire(spec.request.device, state)
        browser = await self._running_browser()  # for its version (the same executable)
        assert self._pw is not None
        folder = self._tmp / f"extensions-{uuid.uuid4().hex}"  # removed at stop at the latest
        return await extension_context(
            self._pw, self.target, spec, state,
            headless=self.headless, browser_version=browser.version, folder=folder,
        )  # fmt: skip

    async def _one_shot(self, session: BrowserSession) -> None:
        """Run a task given with POST /task, close the session and finish the task."""
        from pytest_smooth.server.agent.runner import run_task

        request = session.spec.request
        data = {
            "task": request.task,
            "max_steps": request.max_steps,
            "response_model": request.response_model,
            "url": request.url,
        }
        try:
            status, output = "done", await run_task(session, data)
        except ActionFailed as exc:
            status, output = "failed", session.evidence.secrets.redact(exc.message)
        except Exception as exc:  # our bug: fail the task with the cause, never hang
            text = f"internal error: {type(exc).__name__}: {exc}"
            status, output = "failed", session.evidence.secrets.redact(text)
        await session.teardown(save=True)
        session.sink.finish_task(session.task_id, status, output)

    def _session_done(self, session: BrowserSession) -> None:
        self.profiles.forget(session)
        if self._sessions.get(session.task_id) is session and session.closed:
            del self._sessions[session.task_id]
        runner = session.runner
        if runner is not None and not runner.cancelled() and runner.exception() is not None:
            logger.error("browser session %s crashed", session.task_id, exc_info=runner.exception())

    def submit(
        self, task_id: str, event_id: str, action: str, action_input: dict[str, Any]
    ) -> None:
        session = self._sessions.get(task_id)
        if session is None or session.closed:
            if self._sink is not None:
                self._sink.post_reply(task_id, event_id, 400, "the session is closed")
            return
        session.enqueue(event_id, action, action_input or {})

    def tool_result(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        session = self._sessions.get(task_id)
        if session is not None:
            session.tools.result(event_id, code, output)

    def close_session(self, task_id: str, *, graceful: bool) -> None:
        session = self._sessions.get(task_id)
        if session is None or session.closed:
            return
        if graceful and not session.spec.request.task:
            session.request_close()
            return
        session.closed = True  # no new actions from here on
        session.close_requested = True
        if session.runner is not None:
            session.runner.cancel()
        task = asyncio.get_running_loop().create_task(self._force_close(session))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _force_close(self, session: BrowserSession) -> None:
        if session.runner is not None:
            await asyncio.gather(session.runner, return_exceptions=True)
        await session.teardown(save=True)
        self._sessions.pop(session.task_id, None)
        self.profiles.forget(session)
