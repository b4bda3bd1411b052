"""The extract corpus: pages made by real generators (tests/corpus), read as a new user would.

Each page folder holds ``page.html`` (saved by ``scripts/regen_corpus.py``; what made it is in
``manifest.json``) and ``cases.json``: schemas a QA engineer would write for that page, with the
output written by reading the page. The pages are served over HTTP on loopback, opened in
Chromium, and every case's ``extract`` must equal its ``expected``.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import sys
import threading
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS
from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.extract.reader import SETTLE_INIT_SCRIPT
from pytest_smooth.server.extract.reader import extract

CORPUS = Path(__file__).parent / "corpus"
MANIFEST: dict[str, dict[str, str]] = json.loads(
    (CORPUS / "manifest.json").read_text(encoding="utf-8")
)
CASES = [
    (folder.name, case)
    for folder in sorted(p.parent for p in CORPUS.glob("*/cases.json"))
    for case in json.loads((folder / "cases.json").read_text(encoding="utf-8"))
]
IDS = [f"{page}/{case['name']}" for page, case in CASES]


def test_corpus_shape() -> None:
    """At least 10 pages, 3 of them applications, each with 2+ cases and a manifest entry."""
    pages = {page for page, _ in CASES}
    assert pages == set(MANIFEST)
    assert len(pages) >= 10
    assert sum(MANIFEST[p]["kind"].startswith("application") for p in pages) >= 3
    for page in pages:
        assert sum(p == page for p, _ in CASES) >= 2, page
        assert (CORPUS / page / "page.html").is_file()
    assert len(set(IDS)) == len(IDS)


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the stdlib declares it as a class attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    handler = functools.partial(_Handler, directory=str(CORPUS))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="corpus-pages", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def engine() -> AsyncIterator[Any]:
    try:
        target = find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser: {exc}")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        location = target.location if target.kind == "executable" else None
        launched = await pw.chromium.launch(
            executable_path=location, args=list(CHROMIUM_ARGS), headless=True, timeout=60_000
        )
        try:
            yield launched
        finally:
            await launched.close()


async def _run(engine: Any, site: str, page_name: str, case: dict[str, Any]) -> Any:
    context = await engine.new_context()
    await context.add_init_script(SETTLE_INIT_SCRIPT)
    try:
        page = await context.new_page()
        await page.goto(f"{site}/{page_name}/page.html", timeout=30_000)
        return await extract(page, case["schema"], case["prompt"], timeout=10.0)
    finally:
        await context.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def results(engine: Any, site: str) -> dict[str, Any]:
    """Run every case once, a few at a time; each case's test reads its own result."""
    gate = asyncio.Semaphore(3)  # the machine may have only 2 cores

    async def run(page_name: str, case: dict[str, Any]) -> Any:
        async with gate:
            try:
                return await _run(engine, site, page_name, case)
            except Exception as exc:  # reported by the case's own test
                return f"{type(exc).__name__}: {exc}"

    outcomes = await asyncio.gather(*(run(p, c) for p, c in CASES))
    return dict(zip(IDS, outcomes, strict=True))


@pytest.mark.browser
@pytest.mark.parametrize(("page_name", "case"), CASES, ids=IDS)
def test_case(results: dict[str, Any], page_name: str, case: dict[str, Any]) -> None:
    assert results[f"{page_name}/{case['name']}"] == case["expected"]


@pytest.mark.browser
def test_score(results: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    expected = dict(zip(IDS, (case["expected"] for _, case in CASES), strict=True))
    wrong = [name for name, got in results.items() if got != expected[name]]
    with capsys.disabled():
        sys.stdout.write(f"\ncorpus score: {len(IDS) - len(wrong)}/{len(IDS)} cases right\n")
    assert not wrong, f"wrong: {', '.join(wrong)}"
