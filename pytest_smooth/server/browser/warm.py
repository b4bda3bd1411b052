"""A browser context with its page, ready to serve a session (pooled, or one of its own)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext
    from playwright.async_api import Page


@dataclass
class Warm:
    """A context with its page, ready to serve a session."""

    context: BrowserContext
    page: Page
    device: str
    # A context with a Chromium of its own (extensions): its folder, removed after the close.
    folder: Path | None = None
    tracing: bool = False  # Playwright tracing already started (while pooled)

    async def close(self) -> None:
        """Close the context; then remove its folder (its Chromium has exited by then)."""
        try:
            await self.context.close()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
