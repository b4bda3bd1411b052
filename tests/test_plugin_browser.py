"""The plugin end to end on real Chromium: failure evidence, xdist, Ctrl-C (subprocess runs)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from pytest_smooth.server.local import LocalServer
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import cloud_args
from tests.plugin_helpers import decode_png
from tests.plugin_helpers import write_ini

pytestmark = pytest.mark.browser

RUN_TIMEOUT = 300  # seconds for one inner run; the machine may be busy
SHOP = """<!doctype html><html><head><title>Shop</title></head>
<body style="margin:0;background:#c03030"><h1 style="color:#fff;font-size:80px">Smooth Shop</h1>
</body></html>"""


@pytest.fixture(scope="module")
def shop_url(static_site: StaticSite) -> str:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    return static_site.page("plugin/shop.html", SHOP)


@pytest.fixture(autouse=True)
def _inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    # pytester points HOME elsewhere; keep Playwright's downloaded browsers findable.
    cache = Path.home() / ".cache" / "ms-playwright"
    if "PLAYWRIGHT_BROWSERS_PATH" not in os.environ and cache.is_dir():
        monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(cache))
    write_ini(pytester)


def failing_module(url: str) -> str:
    return f"""
def test_shop(smooth_session):
    smooth_session.goto({url!r})
    assert smooth_session.evaluate_js("document.title") == "Shop"
    assert smooth_session.evaluate_js("document.title") == "Cart", "wrong page"
"""


def check_artifacts(folder: Path) -> None:
    """events.json with the test's actions, a trace, and a screenshot showing the page."""
    assert sorted(p.name for p in folder.iterdir()) == [
        "console.json",
        "events.json",
        "page.html",
        "recording.html",
        "screenshot.png",
        "trace.zip",
    ]
    assert "<h1" in (folder / "page.html").read_text()  # the DOM at the failure
    events = json.loads((folder / "events.json").read_text())
    actions = [e["action"] for e in events["sessions"][0]["events"]]
    assert actions == ["goto", "evaluate_js", "evaluate_js"]
    assert (folder / "trace.zip").read_bytes()[:2] == b"PK"
    width, height, pixels = decode_png((folder / "screenshot.png").read_bytes())
    assert width >= 300
    assert height >= 200
    colours = Counter(pixels)
    assert len(colours) > 2  # not blank: background and text
    (r, g, b), _ = colours.most_common(1)[0]
    assert (r, g, b) == (0xC0, 0x30, 0x30)  # the page's own background fills most of it


def test_failure_report_on_the_local_backend(pytester: pytest.Pytester, shop_url: str) -> None:
    pytester.makepyfile(test_shop=failing_module(shop_url))
    result = pytester.runpytest_subprocess("--junitxml=out.xml", timeout=RUN_TIMEOUT)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- smooth -*",
            "session task_* (smooth_session) status=running credits=*",
            "  #  action       input*outcome*duration*credits",
            f"  1  goto         url={shop_url}*ok*",
            "  2  evaluate_js  js=document.title args=null*ok*",
            "artifacts: smooth-results/test_shop.py-test_shop"
            " (events.json, console.json, page.html, screenshot.png, trace.zip)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*= smooth =*",
            "FAILED test_shop.py::test_shop: session task_*",
            "  recording: smooth-results/test_shop.py-test_shop/recording.html",
            "1 session(s) opened, 1 closed",
        ]
    )
    check_artifacts(pytester.path / "smooth-results" / "test_shop.py-test_shop")
    junit = (pytester.path / "out.xml").read_text()
    assert "smooth_recording_url" not in junit  # the backend's URL died with the run
    assert "smooth-results/test_shop.py-test_shop/recording.html" in junit
    assert "[[ATTACHMENT|smooth-results/test_shop.py-test_shop/trace.zip]]" in junit


def test_a_session_without_recording_says_its_trace_was_not_recorded(
    pytester: pytest.Pytester, shop_url: str
) -> None:
    pytester.makepyfile(
        test_shop="import pytest\n\n"
        "pytestmark = pytest.mark.smooth(enable_recording=False)\n" + failing_module(shop_url)
    )
    result = pytester.runpytest_subprocess(timeout=RUN_TIMEOUT)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "artifacts: smooth-results/test_shop.py-test_shop"
            " (events.json, console.json, page.html, screenshot.png)",
            "warning: no trace.zip for session task_*: *(opened with enable_recording=False*",
        ]
    )
    result.stdout.no_fnmatch_line("*could not fetch*")
    folder = pytester.path / "smooth-results" / "test_shop.py-test_shop"
    assert not (folder / "trace.zip").exists() and not (folder / "recording.html").exists()


def test_ci_reports_of_a_local_backend_failure(
    pytester: pytest.Pytester, shop_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """report.json, the GitHub annotation and Allure carry the real Chromium evidence."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "summary.md"))
    pytester.makepyfile(test_shop=failing_module(shop_url))
    result = pytester.runpytest_subprocess("--alluredir=allure-results", timeout=RUN_TIMEOUT)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["::error file=test_shop.py,line=4,title=test_shop.py%3A%3Atest_shop failed::*wrong page*"]
    )
    report = json.loads((pytester.path / "smooth-results" / "report.json").read_text())
    [test] = report["tests"]
    [session] = test["sessions"]
    assert session["links"] == {}  # the local backend's URLs die with the run
    assert session["actions"] == 3
    names = sorted(Path(path).name for path in session["artifacts"])
    assert names == ["console.json", "page.html", "recording.html", "screenshot.png", "trace.zip"]
    for path in test["artifacts"]:
        assert (pytester.path / "smooth-results" / path).is_file()
    [result_file] = (pytester.path / "allure-results").glob("*-result.json")
    attached = {a["name"] for a in json.loads(result_file.read_text())["attachments"]}
    assert {"smooth screenshot.png", "smooth trace.zip", "smooth recording.html"} <= attached
    assert "| `test_shop.py::test_shop` | failed: " in (pytester.path / "summary.md").read_text()


def test_xdist_two_workers(pytester: pytest.Pytester, shop_url: str) -> None:
    pytester.makepyfile(test_one=failing_module(shop_url), test_two=failing_module(shop_url))
    result = pytester.runpytest_subprocess("-n", "2", timeout=RUN_TIMEOUT)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["2 session(s) opened, 2 closed"])
    for name in ("test_one", "test_two"):
        result.stdout.fnmatch_lines([f"FAILED {name}.py::test_shop: session task_*"])
        check_artifacts(pytester.path / "smooth-results" / f"{name}.py-test_shop")


@pytest.fixture
def own_server(shop_url: str) -> Iterator[LocalServer]:  # noqa: ARG001  (browser check)
    with LocalServer(prewarm=0) as server:
        yield server


def test_ctrl_c_leaves_no_open_session(
    pytester: pytest.Pytester, shop_url: str, own_server: LocalServer
) -> None:
    pytester.makepyfile(
        test_interrupted=f"""
        def test_interrupted(smooth_session, new_smooth_session):
            smooth_session.goto({shop_url!r})
            new_smooth_session().goto({shop_url!r})
            raise KeyboardInterrupt

        def test_never_runs(smooth_session):
            pass
        """
    )
    result = pytester.runpytest_subprocess(*cloud_args(own_server), timeout=RUN_TIMEOUT)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["2 session(s) opened, 2 closed"])
    result.stdout.fnmatch_lines(["*test_interrupted.py:4: KeyboardInterrupt"])
    assert own_server.stats()["open_sessions"] == 0


def test_teardown_failure_of_the_last_test_keeps_its_screenshot(
    pytester: pytest.Pytester, shop_url: str
) -> None:
    # The only test fails in teardown: pytest tears the session fixtures (the client, the local
    # backend) down in that same teardown, yet the evidence needs the session and the backend.
    pytester.makepyfile(
        test_td=f"""
        import pytest

        @pytest.fixture
        def checked(smooth_session):
            yield smooth_session
            assert smooth_session.evaluate_js("document.title") == "Cart", "wrong page"

        def test_only(checked):
            checked.goto({shop_url!r})
        """
    )
    result = pytester.runpytest_subprocess(timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "ERROR at teardown of test_td.py::test_only: session task_*",
            "1 session(s) opened, 1 closed",
        ]
    )
    assert "already closed" not in result.stdout.str()
    folder = pytester.path / "smooth-results" / "test_td.py-test_only"
    assert sorted(p.name for p in folder.iterdir()) == [
        "console.json",
        "events.json",
        "page.html",
        "recording.html",
        "screenshot.png",
        "trace.zip",
    ]
    assert "<h1" in (folder / "page.html").read_text()  # the DOM at the failure
    _, _, pixels = decode_png((folder / "screenshot.png").read_bytes())
    assert Counter(pixels).most_common(1)[0][0] == (0xC0, 0x30, 0x30)  # the shop page
