"""smooth_profile on the local backend with Chromium: a login's cookie reaches later sessions.

Two xdist workers each run their own backend; they share the profile through the profiles
folder (mode 0700), a second run reuses it without logging in, and the cookie's value is in no
file under the output folder even when a test fails (its artifacts are kept).
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env

pytestmark = pytest.mark.browser

RUN_TIMEOUT = 300  # seconds for one inner run; the machine may be busy
TOKEN = "sid-7f3c2a9e5b1d4c80"  # the login's cookie value: long enough to count as a secret
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -p no:playwright\n"

CONFTEST = """
import pathlib

import pytest

LOGINS = pathlib.Path(__file__).parent / "logins.txt"
PAGE = {url!r}


def log_in(session):
    with LOGINS.open("a") as handle:
        handle.write("login\\n")
    session.goto(PAGE)
    session.evaluate_js("document.cookie = 'sid={token}; max-age=3600; path=/'")


@pytest.fixture(scope="session")
def smooth_session_args(smooth_session_args, smooth_profile):
    profile = smooth_profile("shop-user", log_in, max_age=3600)
    return {{**smooth_session_args, "profile_id": profile, "profile_read_only": True}}
"""

TESTS = """
PAGE = {url!r}


def test_signed_in(smooth_session):
    smooth_session.goto(PAGE)
    assert "sid={token}" in smooth_session.evaluate_js("document.cookie")


def test_also_signed_in(smooth_session):
    smooth_session.goto(PAGE)
    assert "sid={token}" in smooth_session.evaluate_js("document.cookie")


def test_fails_and_keeps_its_artifacts(smooth_session):
    smooth_session.goto(PAGE)
    cookie = smooth_session.evaluate_js("document.cookie")
    assert cookie == "signed out", "shows the cookie in the report"
"""


@pytest.fixture
def page_url(static_site: StaticSite) -> str:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    return static_site.page("profiles/home.html", "<!doctype html><title>Home</title><p>hi")


@pytest.fixture(autouse=True)
def _inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    cache = Path.home() / ".cache" / "ms-playwright"  # pytester points HOME elsewhere
    if "PLAYWRIGHT_BROWSERS_PATH" not in os.environ and cache.is_dir():
        monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(cache))
    pytester.makeini(INI)


def _contents(path: Path) -> bytes:
    """Return a file's bytes, a zip's members unpacked (a trace is deflated)."""
    if not zipfile.is_zipfile(path):
        return path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_login_cookie_reaches_every_worker_and_the_next_run(
    pytester: pytest.Pytester, page_url: str
) -> None:
    pytester.makeconftest(CONFTEST.format(url=page_url, token=TOKEN))
    pytester.makepyfile(test_shop=TESTS.format(url=page_url, token=TOKEN))
    args = ("-n", "2", "--smooth-backend=local", "--smooth-profiles-dir=profiles")
    result = pytester.runpytest_subprocess(*args, timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=2, failed=1)
    logins = pytester.path / "logins.txt"
    assert logins.read_text().splitlines() == ["login"]

    profiles = pytester.path / "profiles"
    assert _mode(profiles) == 0o700
    (folder,) = [p for p in profiles.iterdir() if p.is_dir()]
    assert _mode(folder) == 0o700 and _mode(folder / "profile.json") == 0o600
    assert TOKEN in (folder / "profile.json").read_text()

    output = pytester.path / "smooth-results"
    files = [p for p in output.rglob("*") if p.is_file()]
    assert any(p.name == "trace.zip" for p in files)  # the failing test kept its artifacts
    assert not [p for p in files if TOKEN.encode() in _contents(p)]
    assert TOKEN not in result.stdout.str()

    again = pytester.runpytest_subprocess(*args, timeout=RUN_TIMEOUT)
    again.assert_outcomes(passed=2, failed=1)
    assert logins.read_text().splitlines() == ["login"]  # reused from the pytest cache
