"""The fidelity summary at the end of a local run: which tests used an approximation."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_smooth.plugin.fidelity_summary import REPORT_FIDELITY
from pytest_smooth.plugin.fidelity_summary import summary_lines
from pytest_smooth.server.browser.discovery import BrowserNotFoundError
from pytest_smooth.server.browser.discovery import find_browser
from tests.fixtures_server import StaticSite
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini
from tests.test_fidelity_plugin import RUN_TIMEOUT
from tests.test_fidelity_plugin import SHOP
from tests.test_fidelity_plugin import shop_module

GIFT = "prompt ('the best gift for my mum'*)"


def _report(nodeid: str, *entries: object) -> SimpleNamespace:
    report = SimpleNamespace(nodeid=nodeid, when="teardown")
    if entries:
        setattr(report, REPORT_FIDELITY, list(entries))
    return report


def test_summary_lines_say_test_action_and_what_once_each() -> None:
    entry = {"action": "extract", "what": "prompt", "detail": "not read"}
    reports = [
        _report("t.py::a", entry, {"action": "goto", "what": "stealth_mode", "detail": ""}),
        _report("t.py::b"),
        _report("t.py::a", entry),  # a rerun's teardown says it again
        _report("t.py::c", {"what": ""}, "junk"),  # tolerated, not shown
    ]
    assert summary_lines(reports) == [
        "t.py::a: extract: prompt (not read)",
        "t.py::a: goto: stealth_mode",
    ]


@pytest.fixture
def shop_url(
    static_site: StaticSite, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> str:
    try:
        find_browser()
    except BrowserNotFoundError as exc:
        pytest.skip(f"no browser for the local backend: {exc}")
    clean_env(monkeypatch)
    monkeypatch.delenv("SMOOTH_LOCAL_STRICT", raising=False)
    cache = Path.home() / ".cache" / "ms-playwright"
    if "PLAYWRIGHT_BROWSERS_PATH" not in os.environ and cache.is_dir():
        monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(cache))
    write_ini(pytester)
    return static_site.page("fidelity/summary-shop.html", SHOP)


@pytest.mark.browser
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_local_run_ends_with_the_tests_that_used_an_approximation(
    pytester: pytest.Pytester, shop_url: str, workers: list[str]
) -> None:
    pytester.makepyfile(test_shop=shop_module(shop_url))
    result = pytester.runpytest_subprocess(*workers, timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*= smooth fidelity =*",
            "1 test(s) used what the local backend only approximates*",
            f"  test_shop.py::test_gift: extract: {GIFT}",
        ]
    )
    summary = result.stdout.str().split("smooth fidelity")[1]
    assert "test_cheapest" not in summary


def test_a_run_without_approximations_has_no_fidelity_summary(pytester: pytest.Pytester) -> None:
    write_ini(pytester)
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "smooth fidelity" not in result.stdout.str()
