"""One browser session: context, page, action queue, screencast, trace and teardown.

Actions run one at a time, in the order they were submitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.agent.tools import ToolCalls
from pytest_smooth.server.browser.evidence import Evidence
from pytest_smooth.server.browser.fidelity import FidelityNotes
from pytest_smooth.server.browser.fidelity import reply_output
from pytest_smooth.server.browser.fidelity import session_approximations
from pytest_smooth.server.browser.screencast import Screencast
from pytest_smooth.server.browser.screencast import final_frame
from pytest_smooth.server.browser.traces import TraceRecorder
from pytest_smooth.server.page import actions
from pytest_smooth.server.page.actions import ActionFailed
from pytest_smooth.server.page.devices import url_allowed
from pytest_smooth.server.page.secret_fields import secret_values

if TYPE_CHECKING:
    from playwright.async_api import Page
    from playwright.async_api import Route

    from pytest_smooth.server.agent.llm import LLMClient
    from pytest_smooth.server.browser.warm import Warm
    from pytest_smooth.server.protocol.executor import ReplySink
    from pytest_smooth.server.protocol.executor import SessionSpec

# Longest wait for a context to close or a profile to be read at teardown.
TEARDOWN_TIMEOUT = 5.0


_CLOSE = "\x00close"  # queue marker: graceful close without a reply (close_session)


class BrowserSession:
    """Serves one task: actions from ``submit`` run one at a time on its page."""

    def __init__(
        self,
        spec: SessionSpec,
        sink: ReplySink,
        evidence: Evidence,
        *,
        action_timeout: float,
        llm: LLMClient | None,
    ) -> None:
        self.spec = spec
        self.sink = sink
        self.evidence = evidence
        self.task_id = spec.task_id
        self.action_timeout = action_timeout
        self.llm = llm
        self.warm: Warm | None = None
        self.queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()
        self.tools = ToolCalls(sink, spec.task_id)  # run_task's ``call tool``
        self.notes = FidelityNotes(session_approximations(spec.request))  # approximations
        self.screencast: Screencast | None = None
        self._watched: asyncio.Future[None] | None = None  # filming started for a viewer
        self.runner: asyncio.Task[None] | None = None
        self.closed = False
        self._pages_seen = 0
        self.close_requested = False
        self.saved_state: dict[str, Any] | None = None  # the profile state saved at teardown
        self.torn_down = asyncio.Event()
        self._teardown: asyncio.Future[None] | None = None

    @property
    def allowed_urls(self) -> list[str] | None:
        return self.spec.request.allowed_urls or None

    @property
    def page(self) -> Page:
        if self.warm is None:
            raise ActionFailed("the session's browser page is not open")
        return self.warm.page

    # --- set-up -------------------------------------------------------------------------------

    async def attach(self, warm: Warm, trace: TraceRecorder | None) -> None:
        """Take over a ready context: allowed_urls, tracing, the console and the screencast."""
        self.warm = warm
        self.evidence.console.watch(warm.context)
        if self.allowed_urls:
            await warm.context.route("**/*", self._route)
        if trace is not None:
            await trace.start(warm.context, started=warm.tracing)
            self.evidence.trace = trace
        elif warm.tracing:  # pooled with tracing on, for a session that records nothing
            await warm.context.tracing.stop()
        self.evidence.frames.record = self.spec.request.enable_recording
        if self.evidence.frames.record:
            await self._film(warm.page)
        self._pages_seen = len(warm.context.pages)

    async def _film(self, page: Page) -> None:
        """Point the screencast at ``page`` (stopping the one before)."""
        assert self.warm is not None
        previous, self.screencast = self.screencast, Screencast(self.evidence.frames)
        started = self.screencast
        if previous is not None:
            await previous.stop()
        await started.start(self.warm.context, page)

    def watch(self) -> None:
        """Start the screencast for a live viewer when the session does not record.

        Without a recording nothing else needs the screencast, and it costs the browser about
        a tenth of a short session's CPU, so it starts only for a person who watches.
        """
        if self.screencast is None and self._watched is None and self.warm is not None:
            if not self.closed:
                self._watched = asyncio.ensure_future(self._film(self.warm.page))
                self._watched.add_done_callback(_ignore_failure)  # the page may be closing

    async def _route(self, route: Route) -> None:
        if url_allowed(route.request.url, self.allowed_urls):
            await route.fallback()
        else:
            await route.abort("blockedbyclient")

    # --- the action loop ------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run queued actions until a close; then tear down (saving the profile)."""
        if self.spec.request.url:
            await self._navigate_first(self.spec.request.url)
        while True:
            event_id, action, action_input = await self.queue.get()
            if action == _CLOSE:
                break
            if action == "close":
                started = time.monotonic()
                await self.teardown(save=True)
                self.sink.post_reply(
                    self.task_id,
                    event_id,
                    200,
                    {"output": True, "credits_used": 0, "duration": time.monotonic() - started},
                )
                return
            await self.run_action(event_id, action, action_input)
        await self.teardown(save=True)

    async def _navigate_first(self, url: str) -> None:
        with contextlib.suppress(ActionFailed):
            await actions.goto(
                self.page, url, allowed_urls=self.allowed_urls, timeout=self.action_timeout
            )

    def enqueue(self, event_id: str, action: str, action_input: dict[str, Any]) -> None:
        self.queue.put_nowait((event_id, action, action_input))

    def request_close(self) -> None:
        self.close_requested = True
        self.queue.put_nowait(("", _CLOSE, {}))

    async def run_action(self, event_id: str, action: str, action_input: dict[str, Any]) -> None:
        """Execute one action and post its reply (200 / 400 / 500)."""
        from playwright.async_api import Error as PlaywrightError

        started = time.monotonic()
        redact = self.evidence.secrets.redact
        self.notes.start()
        if action == "run_task":
            self.evidence.secrets.add(*secret_values(action_input))
        try:
            await self.ensure_page()
            value = await self._dispatch(action, action_input)
        except ActionFailed as exc:
            self.sink.post_reply(self.task_id, event_id, 400, redact(exc.message))
            return
        except PlaywrightError as exc:  # the page or browser went away under the action
            text = f"{action} failed: {actions.playwright_message(exc)}"
            self.sink.post_reply(self.task_id, event_id, 400, redact(text))
            return
        except Exception as exc:  # our bug, not the user's: code 500 with the cause
            text = redact(f"internal error in {action}: {type(exc).__name__}: {exc}")
            self.sink.post_reply(self.task_id, event_id, 500, text)
            return
        output = reply_output(action, value, time.monotonic() - started, self.notes.take())
        self.sink.post_reply(self.task_id, event_id, 200, output)

    async def ensure_page(self) -> None:
        """Follow the current tab: a tab the site opened, or another one when it closed ours.

        A new tab (``target=_blank``, ``window.open``) becomes the session's page, as it would
        for a person; a closed page is replaced by the newest open tab, else a new one. This
        only reads Playwright's own page list, so an action costs no extra round trip.
        """
        warm = self.warm
        if warm is None:
            return
        count = len(warm.context.pages)
        opened, self._pages_seen = count > self._pages_seen, count
        if not opened and not warm.page.is_closed():
            return
        pages = [p for p in warm.context.pages if not p.is_closed()]
        warm.page = pages[-1] if pages else await warm.context.new_page()
        self._pages_seen = len(warm.context.pages)
        if self.screencast is not None:
            await self._film(warm.page)

    async def _dispatch(self, action: str, data: dict[str, Any]) -> Any:
        timeout = self.action_timeout
        if action == "goto":
            await actions.goto(
                self.page, data.get("url", ""), allowed_urls=self.allowed_urls, timeout=timeout
            )
            return None
        if action in ("evaluate_js", "exec_js"):
            return await actions.evaluate_js(
                self.page, data.get("js"), data.get("args"), timeout=timeout
            )
        if action == "extract":
            schema, prompt = data.get("schema"), data.get("prompt")
            return await actions.extract(
                self.page, schema, prompt, timeout=timeout, llm=self.llm, notes=self.notes.action
            )
        if action == "run_task":
            from pytest_smooth.server.agent.runner import (
                run_task,  # lazy: keeps the plain actions light
            )

            return await run_task(self, data)
        raise ActionFailed(
            f"unknown action {action!r}: the local backend runs goto, evaluate_js, exec_js,"
            " extract, run_task and close"
        )

    # --- teardown -------------------------------------------------------------------------------

    async def teardown(self, *, save: bool) -> None:
        """Save the profile (unless read-only), finish the trace, close the context.

        Bounded; runs once, shielded so that cancelling the caller cannot leave a context open.
        """
        self.closed = True
        if self._teardown is None:
            self._teardown = asyncio.ensure_future(self._close(save))
        await asyncio.shield(self._teardown)

    @property
    def closing(self) -> asyncio.Future[None] | None:
        """The teardown in progress or done (None before it starts)."""
        return self._teardown

    async def _close(self, save: bool) -> None:
        try:
            await self._close_context(save)
        finally:
            self.evidence.open = False  # now complete: final frame in, trace finished
            self.torn_down.set()

    async def _close_context(self, save: bool) -> None:
        warm = self.warm
        if warm is None:
            return
        request = self.spec.request
        if save and request.profile_id and not request.profile_read_only:
            with contextlib.suppress(Exception):  # a dead browser has no state to save
                state = await asyncio.wait_for(warm.context.storage_state(), TEARDOWN_TIMEOUT)
                self.saved_state = dict(state)
                self.sink.save_profile_state(request.profile_id, self.saved_state)
        keep = self.evidence.keep
        if self.screencast is not None:
            if self.evidence.frames.record and keep:
                await final_frame(self.screencast, warm.page, self.evidence.frames)
            await self.screencast.stop()
        trace = self.evidence.trace
        if trace is not None:
            with contextlib.suppress(Exception):
                ending = trace.finish() if keep else trace.discard()
                await asyncio.wait_for(ending, TEARDOWN_TIMEOUT)
        if not keep:
            with contextlib.suppress(Exception):  # a chunk file that will not go: still close
                self.evidence.discard()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(warm.close(), TEARDOWN_TIMEOUT)


def _ignore_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
