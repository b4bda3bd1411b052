"""Live view and recording replay: watched from a second headless Chromium, as a person would.

The live page must show what the session's browser shows (checked on the pixels of a
screenshot), follow a navigation, and the recording must list the frames after the session
ends. Tokens gate everything: 403 for a wrong one, 404 for an unknown task.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright

from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.browser.screencast import FrameBuffer
from pytest_smooth.server.local import LocalServer
from tests.browser_support import distinct_colours
from tests.browser_support import png_pixels
from tests.fixtures_server import StaticSite

# Whether the frame the live page shows is mostly the given colour, read from its pixels.
SHOWS_COLOUR = """(want) => {
  const img = document.getElementById("screen");
  if (!img || !img.complete || !img.naturalWidth) return false;
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
  const [r, g, b] = ctx.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
  return want === "red" ? r > 150 && g < 90 && b < 90 : b > 150 && r < 90 && g < 90;
}"""


@pytest.fixture(scope="module")
def coloured(static_site: StaticSite) -> dict[str, str]:
    def page(colour: str, hex_code: str) -> str:
        return static_site.page(
            f"live/{colour}.html",
            f"<title>{colour}</title><body style='margin:0;height:100vh;background:{hex_code}'>"
            f"<h1 style='color:white;margin:0'>{colour.upper()}</h1></body>",
        )

    return {"red": page("red", "#d00000"), "blue": page("blue", "#0000d0")}


@pytest.fixture(scope="module")
def viewer() -> Iterator[Browser]:
    """Launch a second, independent headless Chromium: the person watching."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=find_browser().location, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def watcher(viewer: Browser) -> Iterator[Page]:
    context = viewer.new_context(viewport={"width": 480, "height": 360})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def client(local_server: LocalServer) -> Iterator[SmoothClient]:
    with SmoothClient(
        api_key=local_server.api_key, base_url=local_server.base_url, timeout=60
    ) as c:
        yield c


@pytest.mark.browser
def test_the_live_view_shows_the_page_and_follows_a_goto(
    client: SmoothClient, watcher: Page, coloured: dict[str, str], tmp_path: Path
) -> None:
    with client.session() as session:
        session.goto(coloured["red"])
        assert session.live_url is not None
        watcher.goto(session.live_url)
        watcher.wait_for_function(SHOWS_COLOUR, arg="red", timeout=30_000)
        watcher.wait_for_function(
            "document.getElementById('status').textContent.startsWith('running')", timeout=30_000
        )
        red_png = watcher.screenshot(path=tmp_path / "live-red.png")

        session.goto(coloured["blue"])
        watcher.wait_for_function(SHOWS_COLOUR, arg="blue", timeout=30_000)
        blue_png = watcher.screenshot(path=tmp_path / "live-blue.png")

    assert (tmp_path / "live-red.png").read_bytes() == red_png
    width, height, _ = png_pixels(red_png)
    assert (width, height) == (480, 360)
    red_colours, blue_colours = distinct_colours(red_png), distinct_colours(blue_png)
    assert len(red_colours) > 3  # page chrome, the frame and its text: not a blank page
    assert any(r > 150 and g < 90 and b < 90 for r, g, b in red_colours)
    assert any(b > 150 and r < 90 and g < 90 for r, g, b in blue_colours)
    assert not any(b > 150 and r < 90 and g < 90 for r, g, b in red_colours)


@pytest.mark.browser
def test_a_session_without_recording_is_filmed_once_someone_watches(
    client: SmoothClient, watcher: Page, coloured: dict[str, str]
) -> None:
    with client.session(enable_recording=False) as session:
        session.goto(coloured["red"])
        assert session.live_url is not None
        status_url = session.live_url.replace("?", "/status.json?", 1)
        before = httpx.get(status_url, timeout=30).json()
        assert before["latest_timestamp"] is None  # no screencast until a viewer asks
        watcher.goto(session.live_url)
        watcher.wait_for_function(SHOWS_COLOUR, arg="red", timeout=30_000)
        session.goto(coloured["blue"])
        watcher.wait_for_function(SHOWS_COLOUR, arg="blue", timeout=30_000)
    assert httpx.get(status_url, timeout=30).json()["frames"] == 0  # nothing kept for a replay


@pytest.mark.browser
def test_the_recording_lists_frames_after_the_session_ends(
    client: SmoothClient, watcher: Page, coloured: dict[str, str], local_server: LocalServer
) -> None:
    with client.session() as session:
        session.goto(coloured["red"])
        session.goto(coloured["blue"])
    recording = session.wait_recording_url(timeout=30)
    assert recording is not None
    base, _, query = recording.partition("?")

    listing = httpx.get(f"{base}/frames.json?{query}", timeout=30).json()
    frames = listing["frames"]
    assert listing["status"] == "done"
    assert frames
    stamps = [f["timestamp"] for f in frames]
    assert stamps == sorted(set(stamps))
    first = httpx.get(f"{local_server.url}{frames[0]['url']}", timeout=30)
    assert first.headers["content-type"] == "image/jpeg"
    assert first.content[:2] == b"\xff\xd8"
    watcher.goto(recording)
    watcher.wait_for_function(
        f"document.querySelectorAll('#list li').length === {len(frames)}"
        " && document.getElementById('screen').naturalWidth > 0",
        timeout=30_000,
    )
    watcher.click("#play")  # plays to the end, then stops at the last frame
    watcher.wait_for_function(
        f"document.getElementById('seek').value === '{len(frames) - 1}'", timeout=30_000
    )
    # the last frame is the page as the session left it (taken at close if need be)
    watcher.wait_for_function(SHOWS_COLOUR, arg="blue", timeout=30_000)

    trace = httpx.get(f"{base}/trace.zip?{query}", timeout=30)
    assert trace.status_code == 200
    with zipfile.ZipFile(io.BytesIO(trace.content)) as archive:
        events = archive.read("trace.trace").decode()
    assert '"method":"goto"' in events
    assert coloured["blue"] in events


@pytest.mark.browser
def test_tokens_gate_every_live_and_recording_route(
    client: SmoothClient, local_server: LocalServer
) -> None:
    routes = ["/live/{}", "/live/{}/frame.jpg", "/live/{}/status.json", "/recording/{}",
              "/recording/{}/frames.json", "/recording/{}/frame/0.jpg",
              "/recording/{}/trace.zip"]  # fmt: skip
    with client.session() as session:
        session.goto("data:text/html,<title>t</title>")
        assert session.live_url is not None
        token = session.live_url.partition("token=")[2]
        for route in routes:
            url = local_server.url + route.format(session.id)
            assert httpx.get(f"{url}?token=wrong", timeout=30).status_code == 403, route
            assert httpx.get(url, timeout=30).status_code == 403, route
            unknown = local_server.url + route.format("task_nope")
            assert httpx.get(f"{unknown}?token={token}", timeout=30).status_code == 404, route
        frame_url = f"{local_server.url}/live/{session.id}/frame.jpg?token={token}"
        frame = httpx.get(frame_url, timeout=30)
        assert frame.status_code == 200
        stamp = frame.headers["x-frame-timestamp"]
        unchanged = httpx.get(f"{frame_url}&since={stamp}", timeout=30)
        assert unchanged.status_code in (204, 200)  # 200 only if a newer frame came meanwhile
        assert unchanged.status_code == 204 or unchanged.headers["x-frame-timestamp"] != stamp
        live = httpx.get(session.live_url, timeout=30)
        assert live.status_code == 200
        assert live.headers["cache-control"] == "no-store"
        status = httpx.get(
            f"{local_server.url}/live/{session.id}/status.json?token={token}", timeout=30
        ).json()
        assert (status["status"], status["open"]) == ("running", True)


def test_frame_buffer_stays_bounded_and_spans_the_session() -> None:
    buffer = FrameBuffer(max_frames=10, max_bytes=10_000)
    for i in range(1000):
        buffer.add(1000 + i, bytes([i % 256]) * 500)
    frames = buffer.frames
    assert 2 < len(frames) <= 10
    assert sum(len(jpeg) for _, jpeg in frames) <= 10_000
    assert frames[0][0] == 1000  # the first frame survives thinning
    assert frames[-1][0] == 1999  # and so does the newest
    assert buffer.latest == frames[-1]
    stamps = [stamp for stamp, _ in frames]
    assert stamps == sorted(set(stamps))

    same_ms = FrameBuffer()
    same_ms.add(5, b"a")
    same_ms.add(5, b"b")  # two frames in one ms still get distinct, increasing stamps
    assert [stamp for stamp, _ in same_ms.frames] == [5, 6]

    live_only = FrameBuffer()
    live_only.record = False
    live_only.add(1, b"x")
    assert (live_only.frames, live_only.latest) == ([], (1, b"x"))
