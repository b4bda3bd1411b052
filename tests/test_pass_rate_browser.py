"""smooth_pass_rate on real Chromium through the local backend (a subprocess run)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini

pytestmark = pytest.mark.browser

RUN_TIMEOUT = 300  # seconds for the inner run; the machine may be busy
PAGE = "<!doctype html><html><head><title>Shop</title></head><body>Shop</body></html>"


@pytest.fixture
def shop_url(static_site: StaticSite) -> str:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    return static_site.page("pass_rate/shop.html", PAGE)


def test_three_attempts_on_chromium(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shop_url: str
) -> None:
    clean_env(monkeypatch)
    cache = Path.home() / ".cache" / "ms-playwright"
    if "PLAYWRIGHT_BROWSERS_PATH" not in os.environ and cache.is_dir():
        monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(cache))
    write_ini(pytester)
    pytester.makepyfile(
        test_shop=f"""
import pytest

@pytest.mark.smooth_pass_rate(runs=3, min_passes=2)
def test_shop(smooth_session, smooth_attempt):
    smooth_session.goto({shop_url!r})
    assert smooth_session.evaluate_js("document.title") == "Shop"
    assert smooth_attempt != 2, "the agent lost its way"
"""
    )
    result = pytester.runpytest_subprocess("-rA", timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*pass rate 2/3 >= 2*", "*3 session(s) opened, 3 closed*"])
    output = pytester.path / "smooth-results"
    data = json.loads((output / "test_shop.py-test_shop" / "pass_rate.json").read_text())
    assert [a["outcome"] for a in data["attempts"]] == ["passed", "failed", "passed"]
    failed = output / "test_shop.py-test_shop-attempt2"
    assert {"events.json", "page.html"} <= {p.name for p in failed.iterdir()}
    assert "Shop" in next(failed.glob("page*.html")).read_text()
