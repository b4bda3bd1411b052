"""The browser actions of a session (goto, evaluate_js, extract) on one Playwright page.

Each raises ``ActionFailed`` for the user's mistakes and the page's errors (a code-400 reply);
anything else escaping is our bug (a code-500 reply).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.page import jsrun
from pytest_smooth.server.page.devices import url_allowed

if TYPE_CHECKING:
    from playwright.async_api import Page


# How long a failed goto waits for Chromium's error page before replying.
ERROR_PAGE_SETTLE = 2.0
# After a navigation's last request finished, how long to wait for its document to commit.
NAVIGATION_GRACE = 1.0


class ActionFailed(Exception):
    """An action failed for a reason the client should see (reply code 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def playwright_message(exc: BaseException) -> str:
    """Return the useful first part of a Playwright error (no call log, no stack)."""
    text = getattr(exc, "message", None) or str(exc)
    return jsrun.js_error_message(str(text))


def check_allowed(url: str, allowed_urls: list[str] | None) -> None:
    """Raise ActionFailed when ``url`` is outside the session's ``allowed_urls``."""
    if not url_allowed(url, allowed_urls):
        raise ActionFailed(
            f"navigation to {url} is blocked: it does not match the session's allowed_urls"
            f" {allowed_urls}"
        )


async def goto(page: Page, url: str, *, allowed_urls: list[str] | None, timeout: float) -> None:
    """Navigate and wait for ``load``; a failed navigation or a blocked URL is ActionFailed."""
    from playwright.async_api import Error as PlaywrightError

    if not isinstance(url, str) or not url.strip():
        raise ActionFailed("goto needs a non-empty 'url'")
    check_allowed(url, allowed_urls)
    try:
        await page.goto(url, wait_until="load", timeout=timeout * 1000)
    except PlaywrightError as exc:
        message = playwright_message(exc)
        if "net::ERR_" in message and "ERR_ABORTED" not in message:
            await _settle_on_error_page(page)
        if allowed_urls and "ERR_BLOCKED_BY_CLIENT" in message:
            message += f" (a redirect left the session's allowed_urls {allowed_urls})"
        raise ActionFailed(f"goto {url} failed: {message}") from None


async def _settle_on_error_page(page: Page) -> None:
    """Wait (bounded) for the error page Chromium commits after a failed navigation.

    Without this the next action can land mid-navigation: "Execution context was destroyed".
    """
    from playwright.async_api import Error as PlaywrightError

    main = page.main_frame
    with contextlib.suppress(PlaywrightError):
        if not page.url.startswith("chrome-error:"):
            await page.wait_for_event(
                "framenavigated",
                predicate=lambda f: f == main and f.url.startswith("chrome-error:"),
                timeout=ERROR_PAGE_SETTLE * 1000,
            )
        await page.wait_for_load_state("load", timeout=ERROR_PAGE_SETTLE * 1000)


async def evaluate_js(page: Page, js: Any, args: Any, *, timeout: float) -> Any:
    """Run ``js`` in one of its three forms and return its JSON value.

    ActionFailed on a JS exception, a non-JSON result, a result over the size limit, a timeout.
    """
    from playwright.async_api import Error as PlaywrightError

    if not isinstance(js, str) or not js.strip():
        raise ActionFailed("evaluate_js needs a non-empty 'js' string")
    source, arg = jsrun.prepare(js, args)
    try:
        if arg is None:
            value = await asyncio.wait_for(page.evaluate(source), timeout)
        else:
            value = await asyncio.wait_for(page.evaluate(source, arg), timeout)
    except PlaywrightError as exc:
        raise ActionFailed(playwright_message(exc)) from None
    except asyncio.TimeoutError:
        raise ActionFailed(f"evaluate_js did not finish within {timeout:g} s") from None
    try:
        return jsrun.encode_result(value)
    except jsrun.ResultError as exc:
        raise ActionFailed(str(exc)) from None


async def extract(
    page: Page,
    schema: Any,
    prompt: str | None,
    *,
    timeout: float,
    llm: Any = None,
    notes: list[dict[str, str]] | None = None,
) -> Any:
    """Read ``schema``'s values from the DOM through ``server.extract``.

    What the reader could only approximate is appended to ``notes`` (the reply's
    ``approximations``). A prompt it cannot read, or an empty result, goes to the LLM (when one
    is configured) with the page text instead.
    """
    from playwright.async_api import Error as PlaywrightError

    if not isinstance(schema, dict):
        raise ActionFailed("extract needs a JSON schema object in 'schema'")
    from pytest_smooth.server.extract.reader import (
        extract_noting,  # lazy: a sibling module, optional at import
    )
    from pytest_smooth.server.extract.schema import ExtractError

    try:
        value, found = await extract_noting(page, schema, prompt, timeout=timeout)
    except ExtractError as exc:  # an unusable schema or prompt, or a page that never settled
        raise ActionFailed(f"extract failed: {exc}") from None
    except PlaywrightError as exc:
        raise ActionFailed(f"extract failed: {playwright_message(exc)}") from None
    unread = any(note["what"] == "prompt" for note in found)
    if llm is not None and (unread or is_empty(value)):
        text = await page_text(page)
        value = await llm.extract(text, schema, prompt)
        found = []  # the model read the prompt and the page itself
    if notes is not None:
        notes.extend(found)
    return value


def is_empty(value: Any) -> bool:
    """Whether an extract result carries nothing (None, "", [], {}, or only empty fields)."""
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, dict):
        return all(is_empty(v) for v in value.values())
    return False


async def page_text(page: Page, limit: int = 20_000) -> str:
    """Return the visible text of the page, cut to ``limit`` characters."""
    text = await page.evaluate("document.body ? document.body.innerText : ''")
    return str(text)[:limit]


async def settle_navigation(page: Page, act: Callable[[], Awaitable[None]], ms: float) -> None:
    """Run ``act`` (a click, a key press); if it started a navigation of the page, wait for it.

    A form that posts (with its CSRF token) and redirects navigates after the click returns:
    the next instruction must see the new document, not the old one. So, when the main frame
    made a document request during ``act``, wait (bounded by ``ms``) until a document commits
    and loads, or the request fails (a 204 or a download commits nothing).
    """
    from playwright.async_api import Error as PlaywrightError

    loop = asyncio.get_running_loop()
    started: list[Any] = []
    done: asyncio.Future[None] = loop.create_future()

    def finish(*_: Any) -> None:
        if not done.done():
            done.set_result(None)

    def on_request(request: Any) -> None:
        if request.is_navigation_request() and request.frame == page.main_frame:
            started.append(request)

    def on_navigated(frame: Any) -> None:
        if frame == page.main_frame and started:
            finish()

    def on_failed(request: Any) -> None:
        if request in started:
            finish()

    def on_finished(request: Any) -> None:
        # A final answer that is no document (204, a download) commits nothing.
        if request in started and request.redirected_to is None:
            loop.call_later(NAVIGATION_GRACE, finish)

    hooks = {"request": on_request, "framenavigated": on_navigated,
             "requestfailed": on_failed, "requestfinished": on_finished}  # fmt: skip
    for event, hook in hooks.items():
        page.on(event, hook)  # type: ignore[call-overload]
    try:
        await act()
        if started:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), ms / 1000)
            with contextlib.suppress(PlaywrightError):
                await page.wait_for_load_state("load", timeout=ms)
    finally:
        for event, hook in hooks.items():
            page.remove_listener(event, hook)
