"""smooth_pass_rate: N attempts at once on fresh sessions, one verdict (pytester, no browser).

The inner runs use the local-backend path with ``smooth_server`` overridden by a LocalServer
whose executor is browserless (tests/plugin_helpers.py), so sessions open and close for real.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini
from tests.test_reporting import CONFTEST

SLUG = "test_rate.py-test_agent"
ONE_OF_FIVE_FAILS = """
import pytest

@pytest.mark.smooth_pass_rate(runs=5, min_passes={k})
def test_agent(smooth_session, smooth_attempt):
    smooth_session.evaluate_js(f"'attempt {{smooth_attempt}}'")
    assert smooth_attempt != 3, "the agent took a wrong turn"
"""


@pytest.fixture(autouse=True)
def _setup(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    write_ini(pytester)
    pytester.makeconftest(CONFTEST)


def summary(pytester: pytest.Pytester, slug: str = SLUG) -> dict[str, Any]:
    path = pytester.path / "smooth-results" / slug / "pass_rate.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def properties(path: Path) -> list[tuple[str, str]]:
    case = next(ET.parse(path).getroot().iter("testcase"))
    return [(p.get("name", ""), p.get("value", "")) for p in case.iter("property")]


def test_one_failing_attempt_of_five_passes_at_four(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rate=ONE_OF_FIVE_FAILS.format(k=4))
    result = pytester.runpytest("-rA", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*pass rate 4/5 >= 4 (threshold 4 of 5, up to 5 at once): passed*",
            "attempt 3: failed in *",
            "  error: AssertionError: the agent took a wrong turn*",
            "*smooth pass rates*",
            "PASS RATE test_rate.py::test_agent: 4/5 >= 4 PASSED",
            "*5 session(s) opened, 5 closed*",
        ]
    )
    data = summary(pytester)
    assert [a["outcome"] for a in data["attempts"]] == ["passed"] * 2 + ["failed"] + ["passed"] * 2
    ids = [a["sessions"][0] for a in data["attempts"]]
    assert len(set(ids)) == 5 and all(len(a["sessions"]) == 1 for a in data["attempts"])
    for number, session_id in enumerate(ids, start=1):
        assert f"attempt {number}: " in result.stdout.str()
        assert f"session {session_id} (smooth_session)" in result.stdout.str()
        folder = pytester.path / "smooth-results" / f"{SLUG}-attempt{number}"
        events = json.loads((folder / "events.json").read_text())
        assert events["attempt"] == number
        assert [s["session_id"] for s in events["sessions"]] == [session_id]
        assert [e["input"]["js"] for e in events["sessions"][0]["events"]][:1] == [
            f"'attempt {number}'"
        ]
    failed = pytester.path / "smooth-results" / f"{SLUG}-attempt3"
    assert {"page.html", "recording.html", "screenshot.png"} <= {p.name for p in failed.iterdir()}
    props = properties(pytester.path / "junit.xml")
    assert ("smooth_pass_rate", "4/5 >= 4") in props
    assert sorted(v for n, v in props if n == "smooth_attempt_session_id") == sorted(
        f"{n}: {i}" for n, i in enumerate(ids, start=1)
    )


def test_one_failing_attempt_of_five_fails_at_five(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rate=ONE_OF_FIVE_FAILS.format(k=5))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*smooth_pass_rate: 4/5 < 5 attempts passed",
            "*attempt 3 failed: AssertionError: the agent took a wrong turn*",
            "PASS RATE test_rate.py::test_agent: 4/5 < 5 FAILED",
        ]
    )
    assert len(summary(pytester)["attempts"]) == 5


SLEEPS = """
import time
import pytest

@pytest.mark.smooth_pass_rate(runs=5, min_passes=5)
def test_agent(smooth_session):
    smooth_session.evaluate_js("'start'")
    time.sleep(2)  # an agent's task on the cloud takes a while
"""


def test_five_slow_attempts_overlap(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rate=SLEEPS)
    pytester.runpytest().assert_outcomes(passed=1)
    attempts = summary(pytester)["attempts"]
    assert len(attempts) == 5 and all(a["duration"] >= 2 for a in attempts)
    # Every attempt started before any ended: all five ran at once, so five took about one.
    assert max(a["started"] for a in attempts) < min(a["ended"] for a in attempts)


EARLY = """
import pytest

@pytest.mark.smooth_pass_rate(runs=5, min_rate=0.8)
def test_agent(smooth_session, smooth_attempt):
    smooth_session.evaluate_js("'x'")
    assert smooth_attempt > {fails}
"""


@pytest.mark.parametrize(
    ("fails", "outcome", "line"),
    [
        (0, "passed", "stopped after 4 attempts: 4/5 >= 4 already reached; 1 not run"),
        (2, "failed", "stopped after 2 attempts: at most 3/5 < 4 still possible; 3 not run"),
    ],
)
def test_stops_once_the_verdict_is_settled(
    pytester: pytest.Pytester, fails: int, outcome: str, line: str
) -> None:
    pytester.makepyfile(test_rate=EARLY.format(fails=fails))
    result = pytester.runpytest("-rA", "--smooth-pass-rate-concurrency=1")
    result.assert_outcomes(**{outcome: 1})
    result.stdout.fnmatch_lines([f"*{line}*", "attempt 5: not started"])
    data = summary(pytester)
    assert data["stopped"] == line and data["concurrency"] == 1


RAISES = """
import pytest
from pytest_smooth import SmoothTimeoutError

@pytest.mark.smooth_pass_rate(runs=4, min_passes=2)
def test_agent(smooth_session, new_smooth_session, smooth_attempt):
    new_smooth_session(device="mobile").evaluate_js("'second'")
    if smooth_attempt == 1:
        raise RuntimeError("the page crashed")
    if smooth_attempt == 2:
        raise SmoothTimeoutError("run_task took longer than 30 s")
"""


def test_every_session_is_closed_when_attempts_raise_or_time_out(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_rate=RAISES)
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*error: RuntimeError: the page crashed*",
            "*error: SmoothTimeoutError: run_task took longer than 30 s*",
            "*8 session(s) opened, 8 closed",
        ]
    )
    assert "could not be closed" not in result.stdout.str()
    assert all(len(a["sessions"]) == 2 for a in summary(pytester)["attempts"])


ASYNC = """
import asyncio
import pytest

@pytest.mark.asyncio
@pytest.mark.smooth_pass_rate(runs=3, min_passes={k})
async def test_agent(async_smooth_session, smooth_attempt):
    await async_smooth_session.evaluate_js(f"'async {{smooth_attempt}}'")
    if smooth_attempt > 1 and {k} == 1:  # left waiting: cancelled once attempt 1 passed
        await asyncio.wait_for(asyncio.Event().wait(), timeout=60)
"""


@pytest.mark.parametrize(
    ("k", "outcomes"), [(3, ["passed"] * 3), (1, ["passed", "cancelled", "cancelled"])]
)
def test_async_attempts_run_as_tasks(
    pytester: pytest.Pytester, k: int, outcomes: list[str]
) -> None:
    pytester.makepyfile(test_rate=ASYNC.format(k=k))
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*pass rate 1/1 >= 1*" if k == 1 else "*pass rate 3/3 >= 3*",
            "*(async_smooth_session)*",
            "*3 session(s) opened, 3 closed",
        ]
    )
    attempts = summary(pytester)["attempts"]
    assert [a["outcome"] for a in attempts] == outcomes


def test_under_xdist_the_attempts_run_in_one_worker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rate=ONE_OF_FIVE_FAILS.format(k=4))
    result = pytester.runpytest_subprocess("-n", "2", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["PASS RATE test_rate.py::test_agent: 4/5 >= 4 PASSED"])
    assert ("smooth_pass_rate", "4/5 >= 4") in properties(pytester.path / "junit.xml")
    assert len({a["sessions"][0] for a in summary(pytester)["attempts"]}) == 5


@pytest.mark.parametrize(
    ("marker", "why"),
    [
        ("runs=0, min_passes=1", "runs=0 must be a whole number >= 1"),
        ("runs=3, min_passes=4", "min_passes=4 must be a whole number from 1 to 3"),
        ("runs=3, min_passes=2, min_rate=0.5", "both min_passes and min_rate given"),
        ("runs=3", "neither min_passes nor min_rate given"),
        ("runs=3, min_rate=1.5", "min_rate=1.5 must be a number above 0 and at most 1"),
        ("runs=3, min_passes=2, retries=1", "unknown argument(s) retries"),
    ],
)
def test_bad_marker_is_a_usage_error(pytester: pytest.Pytester, marker: str, why: str) -> None:
    pytester.makepyfile(
        test_rate=f"import pytest\n\n@pytest.mark.smooth_pass_rate({marker})\n"
        "def test_agent(smooth_session):\n    pass\n"
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*test_rate.py::test_agent: bad smooth_pass_rate marker: {why}*; use @pytest.mark*"]
    )


def test_fixture_built_on_a_per_attempt_one_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_rate="import pytest\n\n@pytest.fixture\ndef page(smooth_session):\n"
        "    return smooth_session\n\n@pytest.mark.smooth_pass_rate(runs=2, min_passes=1)\n"
        "def test_agent(page):\n    pass\n"
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*fixture 'page' uses smooth_session*"])


def test_bad_concurrency_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_rate="def test_x():\n    pass\n")
    result = pytester.runpytest("--smooth-pass-rate-concurrency=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--smooth-pass-rate-concurrency='0' is not valid*"])
