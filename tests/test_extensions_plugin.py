"""Extensions through the plugin, on the local backend with real Chromium.

Uploaded in a conftest and given to every session by ``smooth_session_args``, the extension is
loaded under ``--smooth-local-strict`` (so nothing is approximated);
``@pytest.mark.smooth(extensions=[])`` leaves it out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini

pytestmark = pytest.mark.browser

RUN_TIMEOUT = 300  # seconds for one inner run; the machine may be busy

CONFTEST = """
import io
import json
import zipfile

import pytest


def marker_extension():
    manifest = {
        "manifest_version": 3, "name": "marker", "version": "1.0",
        "content_scripts": [{"matches": ["<all_urls>"], "js": ["mark.js"]}],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("mark.js", 'document.documentElement.dataset.marked = "yes";')
    return buffer.getvalue()


@pytest.fixture(scope="session")
def smooth_session_args(smooth_session_args, smooth_client):
    extension = smooth_client.upload_extension(marker_extension(), name="marker.zip").id
    return {**smooth_session_args, "extensions": [extension]}
"""

TESTS = """
import pytest

PAGE = {url!r}
MARKED = "document.documentElement.dataset.marked"


def test_the_extension_marks_the_page(smooth_session):
    smooth_session.goto(PAGE)
    assert smooth_session.evaluate_js(MARKED) == "yes"


@pytest.mark.smooth(extensions=[])
def test_the_marker_leaves_it_out(smooth_session):
    smooth_session.goto(PAGE)
    assert smooth_session.evaluate_js(MARKED) is None
"""


@pytest.fixture(autouse=True)
def _inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    cache = Path.home() / ".cache" / "ms-playwright"
    if "PLAYWRIGHT_BROWSERS_PATH" not in os.environ and cache.is_dir():
        monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(cache))
    write_ini(pytester)


def test_sessions_of_a_plugin_run_load_the_suites_extension(
    pytester: pytest.Pytester, static_site: StaticSite
) -> None:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    url = static_site.page("extensions/plugin.html", "<h1>Plugin page</h1>")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_marked=TESTS.format(url=url))
    result = pytester.runpytest_subprocess("--smooth-local-strict", "-v", timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=2)
    assert "smooth fidelity" not in result.stdout.str()
