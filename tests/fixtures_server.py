"""Fixtures for tests that need the local backend or a site to point a browser at.

- ``local_server``: one ``LocalServer`` with the real Playwright executor for the whole run,
  skipped (with the reason) only when discovery finds no browser.
- ``static_site``: an HTTP server on loopback serving a folder of pages; tests add their own
  pages with ``static_site.page("name.html", html)`` and get the URL back.
- ``launch_server``: a ``playwright launch-server`` for Chromium; its ws:// endpoint.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.local import LocalServer

# Pages shipped with the tests (if any) are copied into the served folder.
PAGES_DIR = Path(__file__).parent / "pages"


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """Return the local backend with real Chromium, shared by the whole test session."""
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    with LocalServer(prewarm=1) as server:
        yield server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean (the stdlib handler logs every request to stderr)."""


class StaticSite:
    """A folder served over HTTP on 127.0.0.1; ``url`` is its root (no trailing slash)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="static-site", daemon=True
        )
        self._thread.start()

    def page(self, name: str, html: str) -> str:
        """Write ``html`` to ``name`` under the root and return its URL."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        return self.url_for(name)

    def url_for(self, name: str) -> str:
        return f"{self.url}/{name.lstrip('/')}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture(scope="session")
def static_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    """Serve a folder of test pages (a copy of tests/pages, if present) on loopback."""
    root = tmp_path_factory.mktemp("site")
    if PAGES_DIR.is_dir():
        shutil.copytree(PAGES_DIR, root, dirs_exist_ok=True)
    site = StaticSite(root)
    try:
        yield site
    finally:
        site.close()


@pytest.fixture
def launch_server(tmp_path: Path) -> Iterator[str]:
    """Start ``playwright launch-server`` for Chromium; return its ws:// endpoint."""
    try:
        target = find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser: {exc}")
    config = tmp_path / "launch.json"
    options = {"headless": True, "host": "127.0.0.1",
               "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}  # fmt: skip
    if target.kind == "executable":
        options["executablePath"] = target.location
    config.write_text(json.dumps(options))
    server = subprocess.Popen(
        [sys.executable, "-m", "playwright", "launch-server", "--browser", "chromium",
         "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group: the node driver it starts is stopped with it
    )  # fmt: skip
    assert server.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(server.stdout, selectors.EVENT_READ)
    try:
        # It prints its ws:// endpoint once it listens; bounded, so a broken start fails.
        ready = selector.select(timeout=60)
        endpoint = server.stdout.readline().decode().strip() if ready else ""
        assert endpoint.startswith("ws://"), f"no ws:// endpoint within 60 s: {endpoint!r}"
        yield endpoint
    finally:
        selector.close()
        # The python launcher leaves its node child (and Chromium) behind if only it is ended.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        server.stdout.close()
