"""``expect`` end to end: real Chromium through the local backend, sync and async twins.

Pages change after a delay chosen in their URL (``?delay=ms``). A test that must fail uses a
delay far beyond its timeout, so its outcome never depends on how busy the machine is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator

import pytest
import pytest_asyncio
from pydantic import BaseModel

from pytest_smooth.client.async_client import AsyncSmoothClient
from pytest_smooth.client.async_session import AsyncSmoothSession
from pytest_smooth.client.sync_client import SmoothClient
from pytest_smooth.client.sync_session import SmoothSession
from pytest_smooth.expect.attempts import SmoothExpectationError
from pytest_smooth.expect.attempts import SmoothSoftExpectationsError
from pytest_smooth.expect.attempts import collect_soft_failures
from pytest_smooth.expect.entry import AsyncExpect
from pytest_smooth.expect.entry import Expect
from pytest_smooth.plugin.assertions import expect
from pytest_smooth.server.local import LocalServer
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini

pytestmark = pytest.mark.browser

DELAY = "new URLSearchParams(location.search).get('delay') || 500"
TITLE_PAGE = f"""<!doctype html><html><head><title>Loading</title></head><body>
<h1>Smooth  Shop</h1><p class="price">9.50</p>
<script>setTimeout(() => {{ document.title = "Shop"; }}, {DELAY});</script></body></html>"""
FEED_PAGE = f"""<!doctype html><html><head><title>Feed</title></head><body><ul id="feed"></ul>
<script>setTimeout(() => {{
  for (const text of ["first", "second", "third"]) {{
    const li = document.createElement("li"); li.textContent = text;
    document.getElementById("feed").append(li);
  }}
}}, {DELAY});</script></body></html>"""
NEVER = 600_000  # ms: the page does not change while a test runs
TITLE = "document.title"
COUNT = "document.querySelectorAll('#feed li').length"


class Feed(BaseModel):
    feed: list[str]


class Heading(BaseModel):
    title: str


@pytest.fixture(scope="module")
def pages(static_site: StaticSite) -> dict[str, str]:
    return {
        "title": static_site.page("expect/title.html", TITLE_PAGE),
        "feed": static_site.page("expect/feed.html", FEED_PAGE),
    }


@pytest.fixture
def session(local_server: LocalServer) -> Iterator[SmoothSession]:
    with SmoothClient(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        with client.session() as opened:
            yield opened


@pytest_asyncio.fixture
async def async_session(local_server: LocalServer) -> AsyncIterator[AsyncSmoothSession]:
    async with AsyncSmoothClient(
        api_key=local_server.api_key, base_url=local_server.base_url
    ) as client:
        async with client.session() as opened:
            yield opened


# --- sync ----------------------------------------------------------------------------------------


def test_title_that_changes_late(session: SmoothSession, pages: dict[str, str]) -> None:
    session.goto(pages["title"] + "?delay=500")
    waiting: Expect = expect(session)
    waiting.js(TITLE).to_equal("Shop")
    waiting.js(TITLE).not_.to_equal("Loading", timeout=0)


def test_title_timeout_fails_cleanly(session: SmoothSession, pages: dict[str, str]) -> None:
    session.goto(f"{pages['title']}?delay={NEVER}")
    with pytest.raises(SmoothExpectationError) as info:
        expect(session).js(TITLE).to_equal("Shop", timeout=0.2)
    error = info.value
    assert error.received == "Loading"
    assert error.attempts >= 1
    assert error.elapsed >= 0.2
    text = str(error)
    assert text.startswith("expect(session).js('document.title').to_equal('Shop')\n")
    assert "timeout 0.2 s from the matcher's timeout=" in text
    assert "Expected: 'Shop'\nReceived: 'Loading'\n" in text
    assert f"events of session {session.id}:" in text
    assert "  evaluate_js  ok " in text


def test_js_errors_are_failed_attempts(session: SmoothSession, pages: dict[str, str]) -> None:
    session.goto(f"{pages['feed']}?delay={NEVER}")
    with pytest.raises(SmoothExpectationError) as info:
        expect(session, timeout=0.2).js("document.querySelector('#feed li').textContent").to_equal(
            "first"
        )
    assert "Received: nothing (every attempt raised an error)" in str(info.value)
    assert "Last error (last attempt): SmoothActionError: " in str(info.value)


def test_extract_of_a_late_list(session: SmoothSession, pages: dict[str, str]) -> None:
    session.goto(pages["feed"] + "?delay=700")
    expect(session).extract(Feed).to_match({"feed": ["first", "second", "third"]})
    expect(session).extract(Feed).to_match({"feed": ["first", "third"]}, partial_lists=True)
    expect(session).js(COUNT).not_.to_equal(0)


def test_soft_block_reports_both(session: SmoothSession, pages: dict[str, str]) -> None:
    session.goto(f"{pages['title']}?delay={NEVER}")
    with collect_soft_failures() as failures:
        expect.soft(session, timeout=0.1).js(TITLE).to_equal("Shop")
        expect.soft(session, timeout=0.1).js(TITLE).to_equal("Loading")
        expect.soft(session, timeout=0.1).js(TITLE).to_match_regex("^Checkout")
    report = str(SmoothSoftExpectationsError(failures))
    assert report.startswith("2 soft expectations failed:")
    assert "to_equal('Shop')" in report and "to_match_regex('^Checkout')" in report


def test_cross_check_against_the_dom(session: SmoothSession, pages: dict[str, str]) -> None:
    session.goto(f"{pages['title']}?delay={NEVER}")
    heading = expect(session, timeout=1).extract(Heading)
    heading.cross_check(js="document.querySelector('h1').textContent", field="title").to_match(
        {"title": "Smooth Shop"}
    )
    with pytest.raises(SmoothExpectationError) as info:
        heading.cross_check(js="document.title", field="title").to_be_truthy(timeout=0.2)
    assert (
        "Oracle mismatch: the extraction and the DOM disagree on 'title'\n"
        "  extract: 'Smooth Shop'\n"
        "  js:      'Loading'   (document.title)"
    ) in str(info.value)


# --- async ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_title_that_changes_late(
    async_session: AsyncSmoothSession, pages: dict[str, str]
) -> None:
    await async_session.goto(pages["title"] + "?delay=500")
    waiting: AsyncExpect = expect(async_session)
    await waiting.js(TITLE).to_equal("Shop")
    await waiting.js(TITLE).not_.to_equal("Loading", timeout=0)


@pytest.mark.asyncio
async def test_async_title_timeout_fails_cleanly(
    async_session: AsyncSmoothSession, pages: dict[str, str]
) -> None:
    await async_session.goto(f"{pages['title']}?delay={NEVER}")
    with pytest.raises(SmoothExpectationError) as info:
        await expect(async_session).js(TITLE).to_equal("Shop", timeout=0.2)
    assert info.value.received == "Loading"
    assert info.value.elapsed >= 0.2
    assert "Expected: 'Shop'\nReceived: 'Loading'\n" in str(info.value)


@pytest.mark.asyncio
async def test_async_extract_of_a_late_list(
    async_session: AsyncSmoothSession, pages: dict[str, str]
) -> None:
    await async_session.goto(pages["feed"] + "?delay=700")
    await expect(async_session).extract(Feed).to_match({"feed": ["first", "second", "third"]})
    await expect(async_session).js(COUNT).not_.to_equal(0)


@pytest.mark.asyncio
async def test_async_soft_block_reports_both(
    async_session: AsyncSmoothSession, pages: dict[str, str]
) -> None:
    await async_session.goto(f"{pages['title']}?delay={NEVER}")
    with collect_soft_failures() as failures:
        await expect.soft(async_session, timeout=0.1).js(TITLE).to_equal("Shop")
        await expect.soft(async_session, timeout=0.1).js(TITLE).not_.to_equal("Loading")
        await expect.soft(async_session, timeout=0.1).js(TITLE).to_contain("Load")
    assert len(failures) == 2
    assert "not_.to_equal('Loading')" in str(SmoothSoftExpectationsError(failures))


@pytest.mark.asyncio
async def test_async_cross_check(async_session: AsyncSmoothSession, pages: dict[str, str]) -> None:
    await async_session.goto(f"{pages['title']}?delay={NEVER}")
    await (
        expect(async_session, timeout=1)
        .extract(Heading)
        .cross_check(js="document.querySelector('h1').textContent", field="title")
        .to_match({"title": "Smooth Shop"})
    )


# --- through the plugin: fixtures, the soft hook, a real pytest run ------------------------------


def test_soft_failures_through_the_plugin(
    pytester: pytest.Pytester,
    local_server: LocalServer,
    pages: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clean_env(monkeypatch)
    write_ini(pytester)
    pytester.makepyfile(
        test_soft=f"""
import pytest
from pytest_smooth import expect

URL = {pages["title"]!r} + "?delay={NEVER}"
TITLE = "document.title"

def test_sync(smooth_session):
    smooth_session.goto(URL)
    expect.soft(smooth_session, timeout=0.2).js(TITLE).to_equal("Shop")
    expect.soft(smooth_session, timeout=0.2).js(TITLE).to_equal("Loading")
    expect.soft(smooth_session, timeout=0.2).js(TITLE).not_.to_contain("Load")

@pytest.mark.asyncio
async def test_async(async_smooth_session):
    await async_smooth_session.goto(URL)
    await expect.soft(async_smooth_session, timeout=0.2).js(TITLE).to_equal("Shop")
    await expect.soft(async_smooth_session, timeout=0.2).js(TITLE).to_match_regex("^Check")
"""
    )
    result = pytester.runpytest(
        "--smooth-backend=cloud",
        f"--smooth-base-url={local_server.base_url}",
        f"--smooth-apikey={local_server.api_key}",
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_sync _*",
            '>       expect.soft(smooth_session, timeout=0.2).js(TITLE).to_equal("Shop")',
            "E       *SmoothSoftExpectationsError: 2 soft expectations failed:",
            "E       [[]1] at test_soft.py:9",
            "E           expect.soft(session).js('document.title').to_equal('Shop')",
            "E       [[]2] at test_soft.py:11",
            "E           expect.soft(session).js('document.title').not_.to_contain('Load')",
            "*_ test_async _*",
            "E       *SmoothSoftExpectationsError: 2 soft expectations failed:",
            "E       [[]1] at test_soft.py:16",
            "E       [[]2] at test_soft.py:17",
            "E           expect.soft(session).js('document.title').to_match_regex('^Check')",
        ]
    )
