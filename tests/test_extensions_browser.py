"""Extensions on the local backend with real Chromium: loaded into the session's own browser.

A tiny MV3 extension (a content script marking every page) is uploaded through the client; a
session opened with ``extensions=[id]`` sees pages marked, one without does not, nothing is
flagged, the session's user-data folder is gone after its close, and the profile's cookies and
local storage reach it and are saved back. On a remote browser (``ws://``) the extension is not
loaded and the session says so (an error under ``local_strict``).
"""

from __future__ import annotations

import io
import json
import os
import time
import warnings
import zipfile
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_smooth import SmoothClient
from pytest_smooth import SmoothError
from pytest_smooth._core.exceptions import SmoothFidelityError
from pytest_smooth._core.exceptions import SmoothFidelityWarning
from pytest_smooth.server.local import LocalServer
from tests.fixtures_server import StaticSite

pytestmark = pytest.mark.browser

MARKED = "document.documentElement.dataset.marked"
PAGE = "<!doctype html><html><body><h1>Extension page</h1></body></html>"


def marker_extension(run_at: str = "document_start") -> bytes:
    """Build the .zip of an MV3 extension whose content script marks every page."""
    manifest = {
        "manifest_version": 3,
        "name": "pytest-smooth marker",
        "version": "1.0",
        "content_scripts": [{"matches": ["<all_urls>"], "js": ["mark.js"], "run_at": run_at}],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("mark.js", 'document.documentElement.dataset.marked = "yes";\n')
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client(local_server: LocalServer) -> Iterator[SmoothClient]:
    with SmoothClient(local_server.api_key, local_server.base_url) as client:
        yield client


@pytest.fixture(scope="module")
def extension_id(client: SmoothClient) -> str:
    return client.upload_extension(marker_extension("document_idle"), name="marker.zip").id


@pytest.fixture(scope="module")
def page_url(static_site: StaticSite) -> str:
    return static_site.page("extensions/page.html", PAGE)


def _soon(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _descends_from_me(pid: int) -> bool:
    me = os.getpid()
    for _ in range(16):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        if pid == me:
            return True
        if pid <= 1:
            return False
    return False


def extension_browsers() -> dict[int, str]:
    """Map each Chromium of this process started with --load-extension to its user-data dir."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        is_main = not any(a.startswith("--type=") for a in argv)
        folders = [a.split("=", 1)[1] for a in argv if a.startswith("--user-data-dir=")]
        loads = any(a.startswith("--load-extension=") for a in argv)
        if is_main and loads and folders and _descends_from_me(int(entry.name)):
            found[int(entry.name)] = folders[0]
    return found


def test_a_session_with_the_extension_runs_its_content_script(
    client: SmoothClient, extension_id: str, page_url: str
) -> None:
    before = extension_browsers()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmoothFidelityWarning)  # nothing is approximated
        with client.session(extensions=[extension_id]) as session:
            session.goto(page_url)
            assert session.evaluate_js(MARKED) == "yes"
            assert session.evaluate_js("innerWidth") == 1280  # the device's viewport
            assert "HeadlessChrome" not in session.evaluate_js("navigator.userAgent")
            ours = {p: d for p, d in extension_browsers().items() if p not in before}
            assert len(ours) == 1, ours
            user_data = Path(next(iter(ours.values())))
            assert user_data.is_dir()
            session.evaluate_js("console.error('seen by the console log')")
            assert all(not a.approximations for a in session.events)
            task_id = session.id
            assert client.artifact(task_id, "screenshot.png").startswith(b"\x89PNG")
    # The close is answered at once and torn down right after: the folder goes with its browser.
    assert _soon(lambda: not user_data.exists() and not set(extension_browsers()) - set(before))
    # Its evidence is kept as for any session: trace, recording, console log.
    assert zipfile.ZipFile(io.BytesIO(client.artifact(task_id, "trace.zip"))).namelist()
    assert b"<html" in client.artifact(task_id, "recording.html").lower()
    assert b"seen by the console log" in client.artifact(task_id, "console.json")


def test_a_session_without_the_extension_is_not_marked(client: SmoothClient, page_url: str) -> None:
    with client.session() as session:
        session.goto(page_url)
        assert session.evaluate_js(MARKED) is None


DEVICE_JS = (
    "[innerWidth, screen.width, devicePixelRatio, navigator.maxTouchPoints > 0,"
    " navigator.userAgent]"
)


def test_a_mobile_session_with_extensions_is_the_same_device(
    client: SmoothClient, page_url: str
) -> None:
    early = client.upload_extension(marker_extension("document_start"), name="early.zip").id
    with client.session(device="mobile") as pooled:
        pooled.goto(page_url)
        expected = pooled.evaluate_js(DEVICE_JS)
    with client.session(extensions=[early], device="mobile") as session:
        session.goto(page_url)
        assert session.evaluate_js(MARKED) == "yes"
        assert session.evaluate_js(DEVICE_JS) == expected
    assert expected[1:4] == [390, 2, True]
    assert "Mobile" in expected[4]


def test_a_profile_reaches_an_extension_session_and_is_saved_back(
    client: SmoothClient, extension_id: str, page_url: str
) -> None:
    profile = client.create_profile().id
    with client.session(profile_id=profile) as plain:
        plain.goto(page_url)
        plain.evaluate_js("document.cookie = 'sid=abc123; max-age=3600; path=/'")
        plain.evaluate_js("localStorage.setItem('cart', '3 lamps')")
    with client.session(profile_id=profile, extensions=[extension_id]) as session:
        session.goto(page_url)
        assert session.evaluate_js(MARKED) == "yes"
        assert "sid=abc123" in session.evaluate_js("document.cookie")
        assert session.evaluate_js("localStorage.getItem('cart')") == "3 lamps"
        session.evaluate_js("document.cookie = 'seen=ext; max-age=3600; path=/'")
    with client.session(profile_id=profile, profile_read_only=True) as after:
        after.goto(page_url)
        cookies = after.evaluate_js("document.cookie")
        assert "sid=abc123" in cookies
        assert "seen=ext" in cookies
        assert after.evaluate_js(MARKED) is None


def test_a_bad_extension_fails_the_session_with_the_reason(
    client: SmoothClient, page_url: str
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escape.js", "1")
    bad = client.upload_extension(buffer.getvalue(), name="bad.zip").id
    with client.session(extensions=[bad]) as session:
        with pytest.raises(SmoothError):
            session.goto(page_url)
        task = client.get_task(session.id)
    assert task.status == "failed"
    assert f"extension {bad}: unsafe member" in str(task.output)


# --- a remote browser (ws://) -------------------------------------------------------------


@pytest.fixture
def remote(launch_server: str) -> Iterator[SmoothClient]:
    with (
        LocalServer(browser=launch_server, prewarm=0) as server,
        SmoothClient(server.api_key, server.base_url) as client,
    ):
        yield client


def test_on_a_ws_browser_extensions_are_still_flagged(remote: SmoothClient, page_url: str) -> None:
    extension = remote.upload_extension(marker_extension(), name="marker.zip").id
    with remote.session(extensions=[extension]) as session:
        with pytest.warns(SmoothFidelityWarning, match="extensions") as caught:
            session.goto(page_url)
        assert "ws:// Playwright server" in str(caught[0].message)
        assert session.evaluate_js(MARKED) is None
    with remote.session(extensions=[extension]) as strict:
        strict.local_strict = True
        with pytest.raises(SmoothFidelityError, match="session option extensions"):
            strict.goto(page_url)
