"""A local-backend trace loads in the trace viewer that Playwright ships, with DOM snapshots.

The viewer's static files (inside the installed playwright package) and an exported trace.zip
are served together on 127.0.0.1 (its service worker needs http on localhost); headless
Chromium opens ``index.html?trace=...``, and the test reads the action list and the snapshot
that the viewer renders for the fill action. The fill's value shows redacted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import playwright
import pytest
from playwright.sync_api import sync_playwright

from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.local import LocalServer
from tests.browser_support import HttpSession
from tests.fixtures_server import StaticSite

VIEWER = Path(playwright.__file__).parent / "driver" / "package" / "lib" / "vite" / "traceViewer"
SECRET = "viewer-s3cret-Pa55"
PAGE = """<!doctype html><title>Sign in</title><link rel="icon" href="data:,">
<h1>Sign in</h1><label>Password <input id="pw" type="password"></label>"""
LOAD_TIMEOUT_MS = 30_000


def export_trace(server: LocalServer, url: str) -> bytes:
    """Run goto, evaluate_js and a run_task fill on a session; return its trace.zip."""
    headers = {"apikey": server.api_key}
    with httpx.Client(base_url=server.base_url + "v1/", headers=headers, timeout=60) as http:
        session = HttpSession.open(http)
        session.ok("goto", {"url": url})
        assert session.ok("evaluate_js", {"js": "document.title"}) == "Sign in"
        task = 'fill secret pw into "Password"'
        session.ok("run_task", {"task": task, "secrets": {"pw": {"value": SECRET}}})
        session.close()
        reply = session.artifact("trace.zip")
        assert reply.status_code == 200, reply.text
        trace: bytes = reply.content
        return trace


@pytest.mark.browser
def test_the_trace_viewer_lists_the_actions_and_shows_snapshots(
    local_server: LocalServer, static_site: StaticSite, tmp_path: Path
) -> None:
    if not (VIEWER / "index.html").is_file():
        pytest.skip(f"the installed playwright ships no trace viewer at {VIEWER}")
    trace = export_trace(local_server, static_site.page("viewer/signin.html", PAGE))
    root = tmp_path / "viewer"
    shutil.copytree(VIEWER, root)
    (root / "trace.zip").write_bytes(trace)
    site = StaticSite(root)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=find_browser().location, args=list(CHROMIUM_ARGS), headless=True
            )
            try:
                page = browser.new_page()
                page.goto(f"{site.url}/index.html?trace={site.url}/trace.zip")
                fill = page.locator(".action-title", has_text="Fill")
                fill.first.wait_for(timeout=LOAD_TIMEOUT_MS)
                actions = page.locator(".action-title-method").all_inner_texts()
                fill_title = fill.first.inner_text()
                fill.first.click()
                page.get_by_text("After", exact=True).click()
                snapshot = page.frame_locator("iframe.snapshot-visible[name=snapshot]")
                heading = snapshot.locator("h1").inner_text(timeout=LOAD_TIMEOUT_MS)
                marked = snapshot.locator("#pw[data-smooth-secret]").count()
            finally:
                browser.close()
    finally:
        site.close()
    assert {"Navigate", "Evaluate"} <= set(actions) and any(a.startswith("Fill") for a in actions)
    assert SECRET not in fill_title and '"***"' in fill_title
    assert heading == "Sign in"  # the After snapshot of the fill, rendered by the viewer
    assert marked == 1
