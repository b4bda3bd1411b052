"""The Playwright executor on real Chromium: actions, devices, allowed_urls, profiles, the pool.

Most tests drive ``PlaywrightExecutor`` directly (one browser for the module) with a recording
sink; the last ones go through ``local_server`` and the HTTP API end to end.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import struct
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from pytest_smooth._core.exceptions import NotFoundError
from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.browser.executor import PlaywrightExecutor
from pytest_smooth.server.local import LocalServer
from tests.browser_support import RecordingSink
from tests.browser_support import open_session
from tests.fixtures_server import StaticSite


def _target() -> Any:
    try:
        return find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def executor() -> AsyncIterator[PlaywrightExecutor]:
    ex = PlaywrightExecutor(_target(), prewarm=1, action_timeout=10.0)
    await ex.start()
    try:
        yield ex
    finally:
        await ex.stop()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture(scope="module")
def pages(static_site: StaticSite) -> dict[str, str]:
    return {
        "home": static_site.page(
            "b/home.html",
            '<meta name=viewport content="width=device-width"><title>Home</title><h1>Home</h1>',
        ),
        "other": static_site.page("b/other.html", "<title>Other</title><p>other</p>"),
        "allowed": static_site.page(
            "allowed/index.html",
            "<title>In</title><script src='/blocked/x.js'></script>"
            "<script>window.inline = 1</script>",
        ),
        "script": static_site.page("blocked/x.js", "window.loaded = 1;"),
        "blocked": static_site.page("blocked/page.html", "<title>Out</title>"),
    }


# --- actions on real Chromium ----------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_goto_and_the_three_evaluate_js_forms(
    executor: PlaywrightExecutor, sink: RecordingSink, pages: dict[str, str]
) -> None:
    s = open_session(executor, sink)
    code, output = await s.act("goto", {"url": pages["home"]})
    assert code == 200
    assert set(output) == {"credits_used", "duration"}
    assert await s.js("document.title") == "Home"
    assert await s.js("const a = 1; return a + 1") == 2
    assert await s.js("(args) => args.x * 2", {"x": 21}) == 42
    assert await s.js("function (args) { return args.name + '!' }", {"name": "hi"}) == "hi!"
    assert await s.js("async (args) => { await null; return args.n + 1 }", {"n": 1}) == 2
    assert await s.js("const t = document.title; return args.p + t", {"p": ">"}) == ">Home"
    assert await s.js("location.href") == pages["home"]
    assert await s.js("new Date(0)") == "1970-01-01T00:00:00Z"
    code, output = await s.act("exec_js", {"js": "1 + 1"})
    assert (code, output["output"]) == (200, 2)
    await s.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_action_errors_are_code_400_with_the_reason(
    executor: PlaywrightExecutor, sink: RecordingSink, pages: dict[str, str]
) -> None:
    s = open_session(executor, sink)
    await s.ok("goto", {"url": pages["home"]})
    assert await s.act("evaluate_js", {"js": "throw new Error('boom')"}) == (400, "Error: boom")
    code, message = await s.act("evaluate_js", {"js": "nope.nothing"})
    assert code == 400
    assert "ReferenceError: nope is not defined" in message
    code, message = await s.act("evaluate_js", {"js": "Promise.reject(new TypeError('late'))"})
    assert (code, message) == (400, "TypeError: late")
    code, message = await s.act("evaluate_js", {"js": "'x'.repeat(2 * 1024 * 1024)"})
    assert code == 400
    assert "2097154 bytes" in message
    assert "limit of 1048576 bytes" in message
    cyclic = "(() => { const a = {}; a.a = a; return a })()"
    code, message = await s.act("evaluate_js", {"js": cyclic})
    assert (code, message) == (400, "the result is not JSON-serializable: it contains a cycle")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    code, message = await s.act("goto", {"url": f"http://127.0.0.1:{closed_port}/x"})
    assert code == 400
    assert "ERR_CONNECTION_REFUSED" in message
    # a tab the site opens becomes the session's page, as it would for a person
    first = executor.page_of(s.task_id)
    assert first is not None
    async with first.context.expect_page():
        await s.ok("evaluate_js", {"js": "window.open('about:blank') && 1"})
    assert await s.js("window.opener !== null") is True
    popup = executor.page_of(s.task_id)
    assert popup is not None
    # closing it returns to the first tab; closing that one too gives a fresh tab
    await popup.close()
    assert await s.js("window.opener") is None
    assert executor.page_of(s.task_id) is first
    await first.close()
    assert await s.js("location.href") == "about:blank"
    assert executor.page_of(s.task_id) not in (first, popup)
    code, message = await s.act("fly", {})
    assert code == 400
    assert "unknown action 'fly'" in message
    # the session still works after all of that, in order
    assert await s.js("1 + 1") == 2
    await s.ok("goto", {"url": pages["home"]})
    assert await s.js("document.title") == "Home"
    await s.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_actions_run_one_at_a_time_in_order(
    executor: PlaywrightExecutor, sink: RecordingSink, pages: dict[str, str]
) -> None:
    s = open_session(executor, sink)
    first = s.submit("goto", {"url": pages["home"]})
    slow = s.submit("evaluate_js", {"js": "new Promise(r => setTimeout(() => r(1), 300))"})
    count = "window.n = (window.n || 0) + 1; "
    after = [s.submit("evaluate_js", {"js": f"{count}{i}"}) for i in range(5)]
    final = s.submit("evaluate_js", {"js": "window.n"})
    assert (await sink.reply(final))[1]["output"] == 5
    assert [sink.replies[e][1]["output"] for e in after] == [0, 1, 2, 3, 4]
    order = list(sink.replies)
    assert order.index(first) < order.index(slow) < order.index(after[0])
    await s.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("device", "width", "height", "mobile"),
    [("desktop", 1280, 800, False), ("desktop-lg", 1920, 1080, False), ("mobile", 390, 844, True)],
)
async def test_devices(
    executor: PlaywrightExecutor,
    sink: RecordingSink,
    pages: dict[str, str],
    device: str,
    width: int,
    height: int,
    mobile: bool,
) -> None:
    s = open_session(executor, sink, device=device)
    await s.ok("goto", {"url": pages["home"]})
    seen = await s.js(
        "({w: innerWidth, h: innerHeight, touch: navigator.maxTouchPoints > 0,"
        " ua: navigator.userAgent})"
    )
    assert (seen["w"], seen["h"], seen["touch"]) == (width, height, mobile)
    assert ("Mobile" in seen["ua"]) is mobile
    assert "HeadlessChrome" not in seen["ua"]
    await s.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_allowed_urls_block_navigation_and_requests(
    executor: PlaywrightExecutor, sink: RecordingSink, pages: dict[str, str]
) -> None:
    s = open_session(executor, sink, allowed_urls=["http://127.0.0.1/allowed/**"])
    await s.ok("goto", {"url": pages["allowed"]})
    assert await s.js("[window.inline, window.loaded]") == [1, None]  # /blocked/x.js aborted
    code, message = await s.act("goto", {"url": pages["blocked"]})
    assert code == 400
    assert "does not match the session's allowed_urls" in message
    code, message = await s.act("evaluate_js", {"js": f"fetch({pages['script']!r}).then(r => 1)"})
    assert code == 400
    assert "Failed to fetch" in message
    assert await s.js("location.pathname") == "/allowed/index.html"
    await s.close()

    free = open_session(executor, sink)  # without allowed_urls nothing is intercepted
    await free.ok("goto", {"url": pages["allowed"]})
    assert await free.js("window.loaded") == 1
    await free.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_profiles_keep_cookies_and_read_only_does_not_save(
    executor: PlaywrightExecutor, sink: RecordingSink, pages: dict[str, str]
) -> None:
    first = open_session(executor, sink, profile_id="p1")
    await first.ok("goto", {"url": pages["home"]})
    await first.js("document.cookie = 'who=alice; max-age=3600'; localStorage.k = 'v'; 1")
    await first.close()
    state = sink.profiles["p1"]
    assert [c["value"] for c in state["cookies"] if c["name"] == "who"] == ["alice"]

    second = open_session(executor, sink, storage_state=state, profile_id="p1")
    await second.ok("goto", {"url": pages["other"]})
    assert await second.js("[document.cookie, localStorage.k]") == ["who=alice", "v"]
    await second.js("document.cookie = 'who=bob; max-age=3600'; 1")
    await second.close()
    assert [c["value"] for c in sink.profiles["p1"]["cookies"]] == ["bob"]

    reader = open_session(
        executor, sink, storage_state=sink.profiles["p1"], profile_id="p2", profile_read_only=True
    )
    await reader.ok("goto", {"url": pages["home"]})
    assert await reader.js("document.cookie") == "who=bob"
    await reader.js("document.cookie = 'who=mallory; max-age=3600'; 1")
    await reader.close()
    assert "p2" not in sink.profiles
    assert [c["value"] for c in sink.profiles["p1"]["cookies"]] == ["bob"]


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_a_session_starts_on_a_prewarmed_context(
    executor: PlaywrightExecutor, sink: RecordingSink
) -> None:
    assert await executor.pool.warmed("desktop") == 1
    warm_context = executor.pool.peek("desktop")[0]
    s = open_session(executor, sink)
    await s.js("1")
    page = executor.page_of(s.task_id)
    assert page is not None and page.context is warm_context
    assert await executor.pool.warmed("desktop") == 1  # refilled in the background
    assert executor.pool.peek("desktop")[0] is not warm_context
    await s.close()
    assert executor.page_of(s.task_id) is None


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_screenshots_and_traces_while_open_and_after_close(
    executor: PlaywrightExecutor, sink: RecordingSink, pages: dict[str, str]
) -> None:
    s = open_session(executor, sink)
    await s.ok("goto", {"url": pages["home"]})
    png = await executor.screenshot(s.task_id)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 800)  # IHDR: width, height
    first = await executor.trace_zip(s.task_id)  # cuts a chunk; tracing goes on
    await s.ok("goto", {"url": pages["other"]})
    await s.close()
    with pytest.raises(KeyError):
        await executor.screenshot(s.task_id)
    assert first is not None
    whole = await executor.trace_zip(s.task_id)
    assert whole is not None
    with zipfile.ZipFile(io.BytesIO(whole)) as archive:
        lines = archive.read("trace.trace").decode().splitlines()
        shots = [n for n in archive.namelist() if n.endswith(".jpeg")]
    events = [json.loads(line) for line in lines]
    assert sum(e["type"] == "context-options" for e in events) == 1
    gotos = [e["params"]["url"] for e in events if e.get("method") == "goto"]
    assert gotos == [pages["home"], pages["other"]]
    # The session's screencast is the film strip: each frame event names a file in the zip.
    strip = [e for e in events if e["type"] == "screencast-frame"]
    assert strip and {e["file"] for e in strip} <= set(shots)
    assert [e["timestamp"] for e in strip] == sorted(e["timestamp"] for e in strip)
    assert len(strip) == len(executor.frames(s.task_id))

    quiet = open_session(executor, sink, enable_recording=False)
    await quiet.ok("goto", {"url": pages["home"]})
    assert await executor.trace_zip(quiet.task_id) is None
    assert executor.latest_frame(quiet.task_id) is None  # not filmed: nobody watches
    executor.watch(quiet.task_id)  # a live viewer asks
    for _ in range(100):  # the first frame comes within a few hundred ms
        if executor.latest_frame(quiet.task_id) is not None:
            break
        await asyncio.sleep(0.1)
    assert executor.latest_frame(quiet.task_id) is not None  # the live view works
    await quiet.close()
    assert executor.frames(quiet.task_id) == []  # but nothing is kept for a replay


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_stop_closes_every_context_and_the_browser(sink: RecordingSink) -> None:
    ex = PlaywrightExecutor(_target(), prewarm=2)
    await ex.start()
    sessions = [open_session(ex, sink), open_session(ex, sink, device="mobile")]
    for s in sessions:
        await s.ok("goto", {"url": "data:text/html,<title>x</title>"})
    pid = ex.browser_pid
    assert ex.open_sessions() == 2
    assert ex.context_count() >= 2
    await ex.stop()
    assert ex.context_count() == 0
    assert ex.open_sessions() == 0
    assert pid is not None
    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


# --- end to end through the HTTP API -----------------------------------------------------


@pytest.mark.browser
def test_http_goto_evaluate_and_profile_across_sessions(
    local_server: LocalServer, pages: dict[str, str]
) -> None:
    with SmoothClient(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        profile = client.create_profile()
        with client.session(profile_id=profile.id) as first:
            first.goto(pages["home"])
            assert first.evaluate_js("(args) => document.title + args.s", {"s": "!"}) == "Home!"
            first.evaluate_js("document.cookie = 'cart=3; max-age=3600'; 1")
        with client.session(profile_id=profile.id) as second:
            second.goto(pages["other"])
            assert second.evaluate_js("document.cookie") == "cart=3"


@pytest.mark.browser
def test_an_unknown_profile_id_is_a_not_found_error(local_server: LocalServer) -> None:
    with SmoothClient(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        before = len(client.list_profiles())
        with pytest.raises(NotFoundError, match="Profile not found"):
            client.session(profile_id="no-such-profile")
        assert len(client.list_profiles()) == before  # no empty profile made on first use
