"""Secrets of a session: the values it was given, and the fields on the page that hold them.

The values (``run_task`` secrets) go into the session's ``Redactor``, which blanks them in its
error messages, tool-call inputs and exported evidence (trace.zip, console.json,
recording.html). A field about to receive a secret is marked first: the mark hides its text
(``-webkit-text-security: disc``), so no screencast frame ever shows the value, and
screenshots mask every marked field (Playwright's ``mask=``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

if TYPE_CHECKING:
    from playwright.async_api import Locator
    from playwright.async_api import Page

SECRET_FIELD_ATTRIBUTE = "data-smooth-secret"
SECRET_FIELD_SELECTOR = f"[{SECRET_FIELD_ATTRIBUTE}]"
# Runs before the value is set, so the page never paints the secret in clear.
_MARK_JS = f"""(el) => {{
  el.setAttribute({SECRET_FIELD_ATTRIBUTE!r}, "");
  el.style.setProperty("-webkit-text-security", "disc", "important");
}}"""
MARK_TIMEOUT_MS = 5000


def secret_values(action_input: dict[str, Any]) -> list[str]:
    """Return the values of a ``run_task`` input's ``secrets`` (plain or ``{"value": ...}``)."""
    secrets = action_input.get("secrets") or {}
    values = []
    for item in secrets.values() if isinstance(secrets, dict) else []:
        value = item.get("value") if isinstance(item, dict) else item
        if isinstance(value, str) and value:
            values.append(value)
    return values


async def mark_secret_field(locator: Locator, timeout_ms: float = MARK_TIMEOUT_MS) -> None:
    """Hide the text of the field ``locator`` names and mark it for screenshot masks."""
    await locator.evaluate(_MARK_JS, timeout=timeout_ms)


def secret_field_masks(page: Page) -> list[Locator]:
    """Return ``mask=`` for ``page.screenshot``: every field that was given a secret."""
    return [page.locator(SECRET_FIELD_SELECTOR)]


async def masked_screenshot(
    page: Page, kind: Literal["png", "jpeg"], timeout: float, quality: int | None = None
) -> bytes:
    """Take a screenshot of ``page`` with every secret field masked (``timeout`` in seconds)."""
    return await page.screenshot(
        type=kind, quality=quality, timeout=timeout * 1000, mask=secret_field_masks(page)
    )
