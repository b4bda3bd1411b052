"""Reports where CI looks: GitHub annotations and job summary, report.json, Allure results.

The inner runs point the plugin, as if at the cloud, at a LocalServer whose executor is
browserless (tests/plugin_helpers.py), so sessions, links and recordings are real but fast.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_smooth.plugin.github import escape_data
from pytest_smooth.plugin.github import escape_property
from pytest_smooth.plugin.run_report import SCHEMA_PATH
from pytest_smooth.plugin.run_report import RunReport
from pytest_smooth.plugin.run_report import schema_text
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import cloud_args
from tests.plugin_helpers import instant_server
from tests.plugin_helpers import write_ini

MODULE = """
import pathlib
import pytest

def test_passes(smooth_session):
    smooth_session.evaluate_js("'fine'")

def test_fails(smooth_session):
    smooth_session.evaluate_js("document.title")
    assert False, "the page is wrong"

def test_plain_failure():
    assert 1 == 2

@pytest.mark.flaky(reruns=1)
def test_flaky(smooth_session):
    counter = pathlib.Path("counter.txt")
    number = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(number + 1))
    smooth_session.evaluate_js("'attempt'")
    assert number >= 1, "first attempt fails"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""
FAIL_LINE = MODULE.lstrip().splitlines().index('    assert False, "the page is wrong"') + 1
PLAIN_LINE = MODULE.lstrip().splitlines().index("    assert 1 == 2") + 1
OUTCOMES = {"passed": 2, "failed": 2, "skipped": 1, "rerun": 1}
EXPECTED = {
    "test_ci.py::test_passes": "passed",
    "test_ci.py::test_fails": "failed",
    "test_ci.py::test_plain_failure": "failed",
    "test_ci.py::test_flaky": "passed",
    "test_ci.py::test_skipped": "skipped",
}


@pytest.fixture(autouse=True)
def _setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    write_ini(pytester)
    pytester.makepyfile(test_ci=MODULE)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    with instant_server() as (server, _):
        return pytester.runpytest_subprocess(
            *cloud_args(server), "-p", "no:flaky", *args, timeout=180
        )


def _report(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "smooth-results/report.json").read_text())
    return data


def test_escaping_follows_the_runner() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a.py::t, b") == "a.py%3A%3At%2C b"


def test_github_annotations_and_summary(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(pytester.path))
    result = _run(pytester)
    assert result.parseoutcomes() == OUTCOMES
    errors = [line for line in result.stdout.lines if line.startswith("::error ")]
    assert len(errors) == 2, errors
    fails, plain = sorted(errors, key=lambda line: "plain" in line)
    assert fails.startswith(
        f"::error file=test_ci.py,line={FAIL_LINE},title=test_ci.py%3A%3Atest_fails failed::"
        "AssertionError: the page is wrong"
    )
    assert "%0ASmooth session task_" in fails
    assert ": recording http://127.0.0.1:" in fails  # the default policy links recordings
    assert plain.startswith(f"::error file=test_ci.py,line={PLAIN_LINE},title=")
    text = summary.read_text()
    assert text.count("## pytest-smooth") == 1  # written once
    assert "**5 tests**: 2 passed, 2 failed, 1 skipped, 1 flaky" in text
    assert "| test | outcome | attempts | sessions | links | credits | duration |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `test_ci.py")]
    assert [row.split("|")[1].strip() for row in rows] == [
        "`test_ci.py::test_fails`",
        "`test_ci.py::test_plain_failure`",
        "`test_ci.py::test_flaky`",
    ]
    assert "[recording](http://127.0.0.1:" in rows[0]
    assert "| flaky: " not in rows[2] and "| flaky | 2 |" in rows[2]


def test_links_follow_the_policy_in_github_reports(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = _run(pytester, "--smooth-report-links=none")
    errors = [line for line in result.stdout.lines if line.startswith("::error ")]
    assert len(errors) == 2
    assert not any("http" in line for line in errors)
    assert "http" not in summary.read_text()
    assert "/recording/" not in (pytester.path / "smooth-results/report.json").read_text()


def test_nothing_for_github_outside_github_actions(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))  # set, but not in GitHub Actions
    result = _run(pytester)
    assert result.parseoutcomes() == OUTCOMES
    assert "::error" not in result.stdout.str()
    assert not summary.exists()


def _junit_outcomes(path: Path) -> dict[str, str]:
    """Return the outcome of each test's last testcase (junitxml writes one per attempt)."""
    outcomes: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        nodeid = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        kinds = {child.tag for child in case}
        outcomes[nodeid] = (
            "failed" if "failure" in kinds else "skipped" if "skipped" in kinds else "passed"
        )
    return outcomes


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_report_json_validates_and_agrees_with_junit(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    result = _run(pytester, *workers, "--junitxml=out.xml")
    assert result.parseoutcomes() == OUTCOMES
    data = _report(pytester)
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    tests = {test["nodeid"]: test for test in data["tests"]}
    assert {nodeid: test["outcome"] for nodeid, test in tests.items()} == EXPECTED
    assert _junit_outcomes(pytester.path / "out.xml") == EXPECTED
    assert data["totals"] == data["totals"] | {
        "tests": 5, "passed": 2, "failed": 2, "skipped": 1, "flaky": 1, "sessions": 4,
    }  # fmt: skip
    flaky = tests["test_ci.py::test_flaky"]
    assert flaky["flaky"] is True and flaky["attempts"] == 2
    fails = tests["test_ci.py::test_fails"]
    assert fails["location"] == {"path": "test_ci.py", "line": FAIL_LINE}
    assert fails["message"] == "AssertionError: the page is wrong"
    [session] = fails["sessions"]
    assert session["id"].startswith("task_") and session["fixture"] == "smooth_session"
    assert session["actions"] == 1
    assert session["links"]["recording"].startswith("http://127.0.0.1:")
    assert "test_ci.py-test_fails/events.json" in fails["artifacts"]
    for path in fails["artifacts"]:
        assert (pytester.path / "smooth-results" / path).is_file()
    assert tests["test_ci.py::test_plain_failure"]["sessions"] == []
    assert data["settings"]["backend"] == "cloud"
    assert "api_key" not in data["settings"]
    text = (pytester.path / "smooth-results/report.json").read_text()
    assert "sk-" not in text and "apikey" not in text.lower()
    assert sum(t["duration"] for t in data["tests"]) == pytest.approx(data["totals"]["duration"])


def test_no_report_json_when_the_run_never_used_smooth(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ci="def test_plain(): pass")
    pytester.runpytest().assert_outcomes(passed=1)
    assert not (pytester.path / "smooth-results").exists()


def test_the_shipped_schema_is_the_models() -> None:
    """Regenerate with ``python -m pytest_smooth.plugin.run_report`` after changing the model."""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()
    RunReport.model_validate(
        {"run_id": "r", "settings": {}, "totals": {}, "tests": [], "added_later": 1}
    )


LOCAL_CONFTEST = """
import pytest
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.server.local import LocalServer
from tests.plugin_helpers import InstantExecutor

KEY = "sk-allure-key-00001"

@pytest.fixture(scope="session")
def smooth_server(pytestconfig):
    server = LocalServer(executor=InstantExecutor(), prewarm=0, api_key=KEY).start()
    yield server
    get_tracker(pytestconfig).defer(server.stop)
"""
ALLURE_MODULE = """
import os

def test_passes(smooth_session):
    smooth_session.evaluate_js("'fine'")

def test_fails(smooth_session):
    smooth_session.run_task("log in", secrets={"password": os.environ["TASK_SECRET"]})
    assert False, "the page is wrong"
"""
TASK_SECRET = "hunter2-allure-secret"


def _allure_result(root: Path, name: str) -> dict[str, Any]:
    for path in root.glob("*-result.json"):
        data: dict[str, Any] = json.loads(path.read_text())
        if data["name"] == name:
            return data
    raise AssertionError(f"no Allure result named {name}")


def test_allure_gets_the_failures_files(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASK_SECRET", TASK_SECRET)
    pytester.makeconftest(LOCAL_CONFTEST)
    pytester.makepyfile(test_ci=ALLURE_MODULE)
    result = pytester.runpytest_subprocess("--alluredir=allure-results", timeout=180)
    result.assert_outcomes(passed=1, failed=1)
    root = pytester.path / "allure-results"
    failed = _allure_result(root, "test_fails")
    attachments = {a["name"]: a for a in failed["attachments"]}
    kinds = {
        "smooth events.json": "application/json",
        "smooth page.html": "text/html",
        "smooth screenshot.png": "image/png",
        "smooth trace.zip": "application/zip",
        "smooth console.json": "application/json",
        "smooth recording.html": "text/html",
    }
    assert {name: attachments[name]["type"] for name in kinds} == kinds
    for attachment in attachments.values():
        assert (root / attachment["source"]).is_file()
    [parameter] = [p for p in failed["parameters"] if p["name"] == "smooth session"]
    assert parameter["value"].strip("'").startswith("task_") and parameter["excluded"] is True
    assert not any(
        a["name"].startswith("smooth")
        for a in _allure_result(root, "test_passes").get("attachments", [])
    )
    for path in root.iterdir():
        data = path.read_bytes()
        assert TASK_SECRET.encode() not in data and b"sk-allure-key-00001" not in data, path


def test_allure_gets_the_links_the_policy_allows(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ci=ALLURE_MODULE.replace('os.environ["TASK_SECRET"]', '"x"'))
    with instant_server() as (server, _):
        result = pytester.runpytest_subprocess(
            *cloud_args(server), "--alluredir=allure-results", timeout=180
        )
        key = server.api_key
    result.assert_outcomes(passed=1, failed=1)
    root = pytester.path / "allure-results"
    failed = _allure_result(root, "test_fails")
    links = [link for link in failed.get("links", []) if link["name"].startswith("smooth")]
    assert [link["name"].split()[1] for link in links] == ["recording"]
    assert links[0]["url"].startswith("http://127.0.0.1:")
    for path in root.iterdir():
        assert key.encode() not in path.read_bytes(), path
