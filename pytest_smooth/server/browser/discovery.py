"""Find a Chromium for the local backend, or say exactly how to get one.

Order: an explicit value (``--smooth-browser`` / ``SMOOTH_BROWSER``), Playwright's own
Chromium (``playwright install chromium``), then a system Chromium or Chrome on PATH.
``python -m pytest_smooth.server.browser.discovery`` prints what it found (exit 1 when nothing).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pytest_smooth._core.constants import ENV_BROWSER
from pytest_smooth._core.exceptions import SmoothError

# Flags that keep Chromium quiet on a closed network and runnable as root in containers.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
)

SYSTEM_BROWSERS: tuple[str, ...] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
)

HOW_TO_GET_ONE = (
    "no Chromium found for the local backend. Get one with any of:\n"
    "  python -m playwright install chromium      (downloads Playwright's Chromium)\n"
    "  sudo apt-get install chromium              (Debian/Ubuntu system package)\n"
    "or point at one: --smooth-browser=/path/to/chrome (or SMOOTH_BROWSER), or at a remote\n"
    "browser: --smooth-browser=ws://host:port/... (Playwright server) or http://host:9222 (CDP)."
)


class BrowserNotFoundError(SmoothError):
    """No browser could be found; the message says how to install one."""


@dataclass(frozen=True)
class BrowserTarget:
    """Where the local backend gets its browser from."""

    kind: Literal["executable", "playwright", "connect", "cdp"]
    # Executable path (executable), endpoint URL (connect/cdp), or "" for Playwright's bundled one.
    location: str

    def describe(self) -> str:
        if self.kind == "playwright":
            return "Playwright's bundled Chromium"
        return f"{self.kind} {self.location}"


def _playwright_chromium() -> str | None:
    """Return the path of Playwright's downloaded Chromium, if one was installed."""
    default = Path.home() / ".cache" / "ms-playwright"
    base = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(default)
    root = Path(base)
    if not root.is_dir():
        return None
    for folder in sorted(root.glob("chromium*"), reverse=True):
        for rel in (
            "chrome-linux/chrome",
            "chrome-linux64/chrome",
            "chrome-headless-shell-linux64/chrome-headless-shell",
            "chrome-mac/Chromium.app/Contents/MacOS/Chromium",
            "chrome-win/chrome.exe",
        ):
            candidate = folder / rel
            if candidate.is_file():
                return str(candidate)
    return None


def target_from_value(value: str) -> BrowserTarget:
    """Interpret an explicit ``--smooth-browser`` value."""
    if value.startswith(("ws://", "wss://")):
        return BrowserTarget("connect", value)
    if value.startswith(("http://", "https://")):
        return BrowserTarget("cdp", value)
    path = shutil.which(value) or value
    if not Path(path).is_file():
        raise BrowserNotFoundError(
            f"--smooth-browser={value!r} is neither an executable file nor a ws:// or http://"
            " endpoint"
        )
    return BrowserTarget("executable", path)


def find_browser(explicit: str | None = None) -> BrowserTarget:
    """Return the browser to use, or raise ``BrowserNotFoundError`` saying how to get one."""
    value = explicit or os.environ.get(ENV_BROWSER)
    if value:
        return target_from_value(value)
    bundled = _playwright_chromium()
    if bundled:
        return BrowserTarget("executable", bundled)
    for name in SYSTEM_BROWSERS:
        found = shutil.which(name)
        if found:
            return BrowserTarget("executable", found)
    raise BrowserNotFoundError(HOW_TO_GET_ONE)


def main() -> int:
    try:
        target = find_browser()
    except BrowserNotFoundError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    sys.stdout.write(f"{target.describe()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
