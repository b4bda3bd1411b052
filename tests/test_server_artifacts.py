"""The local backend's artifacts on real Chromium: no secret in any of them, and each usable.

One module-scoped run types a run_task secret into a page (``fill secret`` and ``{{name}}``)
that echoes it to the console and into a request URL, collects every artifact while the
session is open and after it closed, then stops its LocalServer. The tests scan every member
of trace.zip, the recording and console.json for every form of the secret, and open
recording.html through file:// with no server left.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.parse import quote_plus

import httpx
import pytest
from playwright.sync_api import sync_playwright

from pytest_smooth.server.__main__ import parse_args
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS
from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.local import LocalServer
from tests.browser_support import HttpSession
from tests.browser_support import png_pixels
from tests.fixtures_server import StaticSite

SECRET = 'Hunter2-s3cret+/&x"q'
MASK_COLOUR = b"\xff\x00\xff"  # Playwright's default screenshot mask colour
LOGIN = """<!doctype html><title>Login</title><link rel="icon" href="data:,"><h1>Login</h1>
<label>Code <input id="code" style="font-size:28px;width:520px"></label>
<label>Note <input id="note" style="font-size:28px;width:520px"></label>
<script>
  window.maskedAtInput = {};
  for (const el of document.querySelectorAll("input")) {
    el.addEventListener("input", () => {
      window.maskedAtInput[el.id] = getComputedStyle(el).webkitTextSecurity;
      console.warn("typed " + el.value);
      fetch("echo.txt?v=" + encodeURIComponent(el.value)).catch(() => {});
    });
  }
  console.error("page loaded with a problem");
  setTimeout(() => { throw new Error("late failure"); }, 0);
</script>"""
TASK = 'fill secret pw into "Code"; type note-{{pw}} into "Note"'


def secret_forms(secret: str) -> set[str]:
    """Return the secret raw, JSON-escaped and URL-encoded (both ways): what a leak looks like."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


def leaks(data: bytes | str, where: str) -> list[str]:
    """Name every form of SECRET found in ``data``."""
    raw = data.encode() if isinstance(data, str) else data
    return [f"{where}: {form!r}" for form in secret_forms(SECRET) if form.encode() in raw]


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def drive(server: LocalServer, login_url: str) -> dict[str, Any]:
    """Run the secret-typing session; return every artifact (open, then closed)."""
    got: dict[str, Any] = {}
    headers = {"apikey": server.api_key}
    with httpx.Client(base_url=server.base_url + "v1/", headers=headers, timeout=60) as http:
        session = HttpSession.open(http)
        session.ok("goto", {"url": login_url})
        assert session.ok("evaluate_js", {"js": "document.title"}) == "Login"
        session.ok("run_task", {"task": TASK, "secrets": {"pw": {"value": SECRET}}})
        got["masked_at_input"] = session.ok("evaluate_js", {"js": "window.maskedAtInput"})
        box = "(a) => { const r = document.getElementById(a.id).getBoundingClientRect();"
        box += " return [r.x + r.width / 2, r.y + r.height / 2] }"
        got["centre"] = session.ok("evaluate_js", {"js": box, "args": {"id": "code"}})
        session.ok("evaluate_js", {"js": "document.body.style.background = '#c00'; 1"})
        time.sleep(0.4)  # a few distinct frames for the replay
        session.ok("evaluate_js", {"js": "document.body.style.background = '#00c'; 1"})
        time.sleep(0.4)
        for name in ("screenshot.png", "trace.zip", "recording.html", "console.json"):
            reply = session.artifact(name)
            assert reply.status_code == 200, (name, reply.text)
            got[f"open {name}"] = reply.content
        session.close()
        for name in ("trace.zip", "recording.html", "console.json"):
            reply = session.artifact(name)
            assert reply.status_code == 200, (name, reply.text)
            got[name] = reply.content
        closed = session.artifact("screenshot.png")
        got["closed screenshot"] = (closed.status_code, closed.json())
    return got


@pytest.fixture(scope="module")
def run(static_site: StaticSite) -> dict[str, Any]:
    """Artifacts of one secret-typing session on its own LocalServer, stopped afterwards."""
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    static_site.page("art/echo.txt", "ok")
    login_url = static_site.page("art/login.html", LOGIN)
    with LocalServer(prewarm=0) as server:
        return drive(server, login_url)


@pytest.mark.browser
def test_no_form_of_the_secret_in_any_artifact(run: dict[str, Any]) -> None:
    found: list[str] = []
    for key in ("open trace.zip", "trace.zip"):
        for name, data in zip_members(run[key]).items():
            found += leaks(data, f"{key}/{name}")
    for key in ("open recording.html", "recording.html", "open console.json", "console.json"):
        found += leaks(run[key], key)
    found += leaks(run["open screenshot.png"], "screenshot.png")
    assert found == []
    # Redacted, not missing: the fills and the echoed request are in the trace as ***.
    members = zip_members(run["trace.zip"])
    trace = members["trace.trace"].decode()
    fills = [json.loads(line) for line in trace.splitlines() if '"method":"fill"' in line]
    assert [e["params"]["value"] for e in fills if e["type"] == "before"] == ["***", "note-***"]
    assert "echo.txt?v=***" in members["trace.network"].decode()


@pytest.mark.browser
def test_a_secret_field_is_hidden_before_its_value_arrives(run: dict[str, Any]) -> None:
    # The page saw the field's text hidden when the value came in: no frame shows it in clear.
    assert run["masked_at_input"] == {"code": "disc", "note": "disc"}
    width, _, pixels = png_pixels(run["open screenshot.png"])
    x, y = (int(v) for v in run["centre"])
    assert pixels[y * width + x] == MASK_COLOUR  # and screenshots mask it


@pytest.mark.browser
def test_trace_has_dom_snapshots_and_the_sessions_frames(run: dict[str, Any]) -> None:
    members = zip_members(run["trace.zip"])
    events = [json.loads(line) for line in members["trace.trace"].decode().splitlines()]
    kinds = {e["type"] for e in events}
    assert {"frame-snapshot", "screencast-frame"} <= kinds
    phases = {e["snapshot"].get("phase") for e in events if e["type"] == "frame-snapshot"}
    assert {"before", "after"} <= phases  # the viewer's Before and After panes


@pytest.mark.browser
def test_console_json_lists_errors_warnings_and_page_errors(run: dict[str, Any]) -> None:
    for key in ("open console.json", "console.json"):
        document = json.loads(run[key])
        entries = document["entries"]
        assert {"type", "text", "url", "time"} == set(entries[0])
        kinds = [(e["type"], e["text"]) for e in entries]
        assert ("error", "page loaded with a problem") in kinds
        assert ("pageerror", "Error: late failure") in kinds
        assert ("warning", "typed ***") in kinds and ("warning", "typed note-***") in kinds
        assert [e for e in entries if not e["url"].endswith("/art/login.html")] == []
        assert all(isinstance(e["time"], int) and e["time"] > 1_600_000_000_000 for e in entries)
        assert document["dropped"] == 0


@pytest.mark.browser
def test_screenshot_is_a_409_once_the_session_closed(run: dict[str, Any]) -> None:
    status, body = run["closed screenshot"]
    assert status == 409 and "closed" in body["detail"]


@pytest.mark.browser
def test_recording_html_plays_from_file_with_no_server(run: dict[str, Any], tmp_path: Path) -> None:
    assert b"data:image/jpeg;base64," in run["open recording.html"]  # also while open
    page_file = tmp_path / "recording.html"
    page_file.write_bytes(run["recording.html"])  # the server of the run is stopped by now
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=find_browser().location, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            total = page.evaluate("FRAMES.length")
            assert total > 1
            shown: set[str] = set()
            deadline = time.monotonic() + 15
            while len(shown) < 3 and time.monotonic() < deadline:
                shown.add(page.evaluate("document.getElementById('screen').src"))
                page.wait_for_timeout(100)
            counter = page.inner_text("#counter")
            assert page.evaluate("document.getElementById('screen').naturalWidth") > 0
        finally:
            browser.close()
    assert len(shown) > 1, "the replay never moved past its first frame"
    assert all(src.startswith("data:image/jpeg;base64,") for src in shown)
    assert counter.startswith("frame ") and counter.endswith(f" / {total}")


@pytest.fixture(scope="module")
def untraced() -> Iterator[LocalServer]:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    with LocalServer(prewarm=0, tracing=False) as server:
        yield server


@pytest.mark.browser
def test_tracing_off_makes_trace_zip_a_409_and_keeps_the_rest(untraced: LocalServer) -> None:
    headers = {"apikey": untraced.api_key}
    with httpx.Client(base_url=untraced.base_url + "v1/", headers=headers, timeout=60) as http:
        session = HttpSession.open(http)
        session.ok("goto", {"url": "data:text/html,<title>t</title><h1>untraced</h1>"})
        trace = session.artifact("trace.zip")
        assert trace.status_code == 409 and "tracing is off" in trace.json()["detail"]
        assert session.artifact("screenshot.png").status_code == 200
        assert session.artifact("console.json").json()["entries"] == []
        session.close()
        assert session.artifact("recording.html").status_code == 200
        quiet = HttpSession.open(http, enable_recording=False)
        quiet.ok("goto", {"url": "data:text/html,<title>q</title>"})
        quiet.close()
        none = quiet.artifact("recording.html")
        assert none.status_code == 409 and "no recording" in none.json()["detail"]
        unknown = quiet.artifact("video.mp4")
        assert unknown.status_code == 404 and "console.json" in unknown.json()["detail"]


def test_no_tracing_flag() -> None:
    assert parse_args(["--no-tracing"]).no_tracing is True
    assert parse_args([]).no_tracing is False
