"""The last console errors and warnings and uncaught page errors of a session's pages.

``console.json`` (an artifact) lists them, each as ``{"type", "text", "url", "time"}``: ``type``
is ``"error"`` or ``"warning"`` (a ``console.*`` call) or ``"pageerror"`` (an uncaught
exception), ``time`` Unix milliseconds. Only the newest ``MAX_CONSOLE_ENTRIES`` are kept.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext
    from playwright.async_api import ConsoleMessage
    from playwright.async_api import WebError

    from pytest_smooth._core.redact import Redactor

MAX_CONSOLE_ENTRIES = 50
MAX_TEXT_CHARS = 4000  # one entry's text (a long stack or a dumped object) is cut there
KEPT_TYPES = frozenset({"error", "warning"})


class ConsoleLog:
    """A bounded log of console errors/warnings and page errors, fed by a context's events."""

    def __init__(self, cap: int = MAX_CONSOLE_ENTRIES) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=cap)
        self.seen = 0  # every entry ever added, the dropped ones included

    def watch(self, context: BrowserContext) -> None:
        """Listen to every page of ``context`` (those it opens later too)."""
        context.on("console", self._on_console)
        context.on("weberror", self._on_web_error)

    def add(self, kind: str, text: str, url: str, at_ms: int | None = None) -> None:
        stamp = int(time.time() * 1000) if at_ms is None else at_ms
        self._entries.append(
            {"type": kind, "text": text[:MAX_TEXT_CHARS], "url": url, "time": stamp}
        )
        self.seen += 1

    def _on_console(self, message: ConsoleMessage) -> None:
        kind = str(message.type)
        if kind not in KEPT_TYPES:
            return
        url = message.location.get("url") or _page_url(message.page)
        stamp = message.timestamp
        at_ms = int(stamp) if isinstance(stamp, (int, float)) and stamp > 0 else None
        self.add(kind, message.text, url, at_ms)

    def _on_web_error(self, web_error: WebError) -> None:
        error = web_error.error
        name = getattr(error, "name", None) or "Error"
        message = getattr(error, "message", None) or str(error)
        text = message if message.startswith(f"{name}:") else f"{name}: {message}"
        self.add("pageerror", text, _page_url(web_error.page))

    def entries(self, redactor: Redactor) -> list[dict[str, Any]]:
        """Return the kept entries, oldest first, with the session's secrets blanked."""
        return [redactor.redact_value(entry) for entry in self._entries]

    @property
    def dropped(self) -> int:
        """How many older entries fell off the end."""
        return self.seen - len(self._entries)


def _page_url(page: Any) -> str:
    try:
        return str(page.url) if page is not None else ""
    except Exception:  # a page that is closing may no longer answer
        return ""
