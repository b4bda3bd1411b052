"""Every attempt apart under pytest-rerunfailures and flaky (pytester, browserless backend).

A test fails twice, then passes. Each attempt must get its own folder, an ``events.json`` with
only its own events, and the final report must name the final attempt's session, report the test
passed, and list the failed attempts (terminal summary and a JUnit property).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini
from tests.test_reporting import CONFTEST

pytest.importorskip("pytest_rerunfailures")
pytest.importorskip("flaky")

FLAKY_BODY = """
    counter = pathlib.Path("attempts.txt")
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    smooth_session.evaluate_js(f"'attempt {attempt}'")
    assert attempt == 3, f"attempt {attempt} fails"
"""
RERUN_MODULE = "import pathlib\n\ndef test_flaky(smooth_session):" + FLAKY_BODY
FLAKY_MODULE = (
    "import pathlib\nfrom flaky import flaky\n\n@flaky(max_runs=3)\n"
    "def test_flaky(smooth_session):" + FLAKY_BODY
)
SLUG = "test_retry.py-test_flaky"
# In a subprocess: the outer run's flaky patches pytest's runner for the test that is running,
# which an in-process inner run with flaky disabled would trip over.


@pytest.fixture(autouse=True)
def _setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    write_ini(pytester)
    pytester.makeconftest(CONFTEST)


def _testcases(path: Path) -> list[dict[str, list[str]]]:
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        props: dict[str, list[str]] = {}
        for prop in case.iter("property"):
            props.setdefault(prop.get("name", ""), []).append(prop.get("value", ""))
        props["failure"] = [f.get("message", "") for f in case.iter("failure")]
        props["system-out"] = [s.text or "" for s in case.iter("system-out")]
        cases.append(props)
    return cases


def _check_folders(root: Path) -> list[str]:
    """Three folders, each events.json holding its own attempt's one action; their sessions."""
    folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert folders == [SLUG, f"{SLUG}-rerun1", f"{SLUG}-rerun2"]
    sessions = []
    for number, name in enumerate([SLUG, f"{SLUG}-rerun1", f"{SLUG}-rerun2"], 1):
        events = json.loads((root / name / "events.json").read_text())
        assert events["attempt"] == number
        [session] = events["sessions"]
        # (the run's last test may see its session closed before its teardown report)
        got = [e["input"].get("js") for e in session["events"] if e["action"] != "close"]
        assert got == [f"'attempt {number}'"], (name, session["events"])
        sessions.append(session["session_id"])
    assert len(set(sessions)) == 3, "each attempt opened its own session"
    return sessions


def test_reruns_keep_every_attempt_apart(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retry=RERUN_MODULE)
    result = pytester.runpytest_subprocess("-p", "no:flaky", "--reruns", "2", "--junitxml=out.xml")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 2}
    sessions = _check_folders(pytester.path / "smooth-results")
    # junitxml writes one testcase per attempt; the last is the final attempt, passing
    final = _testcases(pytester.path / "out.xml")[-1]
    assert final["failure"] == []
    assert final["smooth_session_id"] == [sessions[2]]
    assert final["smooth_attempt"] == ["3"]
    earlier = final["smooth_failed_attempt"]
    assert [line.split(";")[0] for line in earlier] == ["attempt 1 failed", "attempt 2 failed"]
    assert f"folder smooth-results/{SLUG};" in earlier[0]
    assert f"session {sessions[0]}" in earlier[0]
    assert f"folder smooth-results/{SLUG}-rerun1;" in earlier[1]
    assert f"recording smooth-results/{SLUG}-rerun1/recording.html" in earlier[1]
    # the event log and the attachments in system-out
    out = "\n".join(final["system-out"])
    assert "'attempt 3'" in out
    assert f"[[ATTACHMENT|smooth-results/{SLUG}-rerun2/events.json]]" in out
    result.stdout.fnmatch_lines(
        [
            "*= smooth =*",
            "FLAKY test_retry.py::test_flaky: passed on attempt 3",
            f"  attempt 1 failed; folder smooth-results/{SLUG}; session {sessions[0]}*",
            f"  attempt 2 failed; folder smooth-results/{SLUG}-rerun1; session {sessions[1]}*",
        ]
    )


def test_flaky_keeps_every_attempt_apart(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retry=FLAKY_MODULE)
    result = pytester.runpytest_subprocess("-p", "no:rerunfailures", "--junitxml=out.xml")
    result.assert_outcomes(passed=1)
    sessions = _check_folders(pytester.path / "smooth-results")
    case = _testcases(pytester.path / "out.xml")[-1]
    assert case["failure"] == []
    assert case["smooth_session_id"] == [sessions[2]]
    assert len(case["smooth_failed_attempt"]) == 2
    result.stdout.fnmatch_lines(["FLAKY test_retry.py::test_flaky: passed on attempt 3"])


def test_a_test_failing_every_attempt_is_reported_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_retry=RERUN_MODULE.replace("attempt == 3", "attempt == 9"))
    result = pytester.runpytest_subprocess("-p", "no:flaky", "--reruns", "1", "--junitxml=out.xml")
    assert result.parseoutcomes() == {"failed": 1, "rerun": 1}
    final = _testcases(pytester.path / "out.xml")[-1]
    assert final["failure"]
    assert len(final["smooth_session_id"]) == 1
    assert final["smooth_failed_attempt"][0].startswith("attempt 1 failed")
    result.stdout.no_fnmatch_line("FLAKY*")
