"""Many sessions at once on a cloud-like server: the cap, 429 waits, credits, budgets, reaping.

The inner runs point the plugin (as if at the cloud) at ``LimitedCloud``, a proxy in front of
a browserless local backend (``InstantExecutor``: each evaluate_js costs 1 credit) that answers
429 above a plan's concurrent-session limit, or once the credits are gone, and records when
each session was open. Tests that need two sessions at once hold theirs until the other test
has asked for one (a file per test in a shared folder), each hold bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_smooth.server.local import LocalServer
from tests.backend_probe import Backend
from tests.cloud_limits import LimitedCloud
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import instant_server
from tests.plugin_helpers import write_ini

RUN_TIMEOUT = 240.0  # one inner run, end to end

CONFTEST = """
import os
import pathlib
import time

SHARED = pathlib.Path(os.environ["SMOOTH_TEST_SHARED"])

def pytest_smooth_session_args(config, item, args):
    if item is not None:
        (SHARED / ("wants-" + item.name)).touch()

def hold_until(done, limit=20.0):
    # Bounded: a test that never sees the other one ask just ends after ``limit``.
    deadline = time.monotonic() + limit
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)

def others_asked(n):
    return lambda: len(list(SHARED.glob("wants-*"))) >= n
"""

# Two files (one per worker under --dist loadfile); each holds its session until both asked.
PAIR = """
from conftest import hold_until, others_asked

def test_{name}(smooth_session):
    assert smooth_session.evaluate_js("1") == "1"
    hold_until(others_asked(2))
"""

# Hold until the server refused a session (the other test's), so the 429 path surely runs.
REFUSED = """
from conftest import SHARED, hold_until

def test_{name}(smooth_session):
    assert smooth_session.evaluate_js("1") == "1"
    hold_until((SHARED / "refused").exists)
"""


@pytest.fixture(autouse=True)
def shared(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    clean_env(monkeypatch)
    folder = tmp_path_factory.mktemp("shared")
    monkeypatch.setenv("SMOOTH_TEST_SHARED", str(folder))
    write_ini(pytester)
    pytester.makeconftest(CONFTEST)
    return folder


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with instant_server() as (local, _):
        yield local


def _args(server: LocalServer, cloud: LimitedCloud) -> list[str]:
    return [
        "--smooth-backend=cloud",
        f"--smooth-base-url={cloud.url}/api/",
        f"--smooth-apikey={server.api_key}",
    ]


def test_the_cap_holds_across_workers_and_a_waiting_test_says_so(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(test_a=PAIR.format(name="a"), test_b=PAIR.format(name="b"))
    with LimitedCloud(server.url) as cloud:
        result = pytester.runpytest_subprocess(
            *_args(server, cloud), "-n", "2", "--dist", "loadfile", "-v",
            "--smooth-max-sessions=1", timeout=RUN_TIMEOUT,
        )  # fmt: skip
    result.assert_outcomes(passed=2)
    assert cloud.cloud.created == 2
    assert cloud.cloud.most_open == 1
    assert cloud.cloud.overlaps() == []
    assert cloud.cloud.refused == 0
    result.stdout.fnmatch_lines(
        ["smooth: test_*.py::test_* waits for a session slot: all 1 of the run are in use*"]
    )


BUSY = """
import time

def test_{name}(smooth_session):
    assert smooth_session.evaluate_js("1") == "1"
    time.sleep(0.2)  # hold the session a while, as a real test would
"""


def test_four_workers_under_a_cap_of_two_never_pass_a_plan_of_two(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(**{f"test_{n}": BUSY.format(name=n) for n in "abcdefgh"})
    with LimitedCloud(server.url, max_open=2) as cloud:
        result = pytester.runpytest_subprocess(
            *_args(server, cloud), "-n", "4", "--smooth-max-sessions=2", timeout=RUN_TIMEOUT
        )
    result.assert_outcomes(passed=8)
    assert cloud.cloud.most_open <= 2
    assert cloud.cloud.refused == 0  # the cap kept the run under the plan: no 429 at all
    assert cloud.cloud.created == 8


def test_without_a_cap_429s_are_waited_on_and_no_session_is_doubled(
    pytester: pytest.Pytester, shared: Path, server: LocalServer
) -> None:
    pytester.makepyfile(test_a=REFUSED.format(name="a"), test_b=REFUSED.format(name="b"))
    with LimitedCloud(server.url, max_open=1, flag=shared / "refused") as cloud:
        result = pytester.runpytest_subprocess(
            *_args(server, cloud), "-n", "2", "--dist", "loadfile", timeout=RUN_TIMEOUT
        )
        posts = cloud.requests("POST", r"^/api/v1/task$")
    result.assert_outcomes(passed=2)
    assert cloud.cloud.refused >= 1  # the plan refused the second session at least once
    assert cloud.cloud.created == 2  # and exactly one POST /task got through per session
    assert sum(1 for p in posts if p.status == 200) == 2
    assert cloud.cloud.most_open == 1


ACTIONS = """
import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
def test_spends(smooth_session, n):
    for _ in range(n):
        smooth_session.evaluate_js("1")
"""


def test_the_summary_totals_the_tests_credits_and_names_the_costliest(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(test_spend=ACTIONS)
    with LimitedCloud(server.url) as cloud:
        result = pytester.runpytest_subprocess(
            *_args(server, cloud), "--junitxml=junit.xml", timeout=RUN_TIMEOUT
        )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*= smooth credits =*",
            "credits: 6 ($0.06) over 3 test(s) that used a session",
            "*3  test_spend.py::test_spends[[]3[]]",
            "*2  test_spend.py::test_spends[[]2[]]",
            "*1  test_spend.py::test_spends[[]1[]]",
        ]
    )
    junit = (pytester.path / "junit.xml").read_text()
    assert junit.count('name="smooth_credits"') == 3
    assert '<property name="smooth_credits" value="3.0" />' in junit


def test_the_budget_stops_new_sessions_and_fails_the_run(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(test_spend=ACTIONS)
    with LimitedCloud(server.url) as cloud:
        result = pytester.runpytest_subprocess(
            *_args(server, cloud), "-rs", "--smooth-max-credits=3", timeout=RUN_TIMEOUT
        )
    result.assert_outcomes(passed=2, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert cloud.cloud.created == 2
    result.stdout.fnmatch_lines(
        [
            "smooth: the run's budget of 3 credits (--smooth-max-credits) is spent (3 used);"
            " 1 session(s) not opened",
            "SKIPPED*smooth: no new session: the run's credit budget of 3 credits"
            " (--smooth-max-credits) is spent (3 used)",
        ]
    )


BUDGETED = """
import pytest

@pytest.mark.smooth_budget(credits=1)
def test_expensive(smooth_session):
    smooth_session.evaluate_js("1")
    smooth_session.evaluate_js("2")

@pytest.mark.smooth_budget(credits=2)
def test_cheap(smooth_session):
    smooth_session.evaluate_js("1")
"""


def test_smooth_budget_fails_a_test_that_spends_more(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(test_budget=BUDGETED)
    with LimitedCloud(server.url) as cloud:
        result = pytester.runpytest_subprocess(*_args(server, cloud), timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*smooth: this test spent 2 credits, over its budget of 1"
            " (@pytest.mark.smooth_budget(credits=1))",
        ]
    )


@pytest.mark.parametrize(
    "mark", ["smooth_budget(5)", "smooth_budget(credits='x')", "smooth_budget(credit=1)"]
)
def test_a_bad_smooth_budget_is_a_usage_error(pytester: pytest.Pytester, mark: str) -> None:
    pytester.makepyfile(f"import pytest\n\n@pytest.mark.{mark}\ndef test_x():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*smooth_budget(credits=N), N >= 0*"])


THREE = """
import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
def test_one(smooth_session, n):
    smooth_session.evaluate_js("1")
"""


def test_out_of_credits_ends_the_run_with_one_message(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(test_three=THREE)
    with LimitedCloud(server.url, credits_after=1) as cloud:
        result = pytester.runpytest_subprocess(*_args(server, cloud), timeout=RUN_TIMEOUT)
    result.assert_outcomes(passed=1, errors=1)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert cloud.cloud.out_of_credits == 1  # asked once, never again
    output = result.stdout.str()
    assert output.count("ERROR at setup of") == 1, output  # the one test that asked
    assert "During handling" not in output, output
    result.stdout.fnmatch_lines(["*Interrupted: smooth: the Smooth account is out of credits*"])


KILLED = """
import os
import pathlib
import signal

def test_dies(smooth_session):
    smooth_session.evaluate_js("1")
    pathlib.Path("killed.txt").write_text(smooth_session.id)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_workers_session_is_closed_by_id_without_the_task_list(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(test_killed=KILLED)
    with LimitedCloud(server.url, broken_list=True) as cloud:
        result = pytester.runpytest_subprocess(
            *_args(server, cloud), "-n", "1", "--max-worker-restart=0", timeout=RUN_TIMEOUT
        )
    killed = (pytester.path / "killed.txt").read_text()
    output = result.stdout.str()
    assert killed in cloud.cloud.deleted, output
    assert "smooth: 1 session(s) left open by crashed workers, 1 reaped" in output, output
    assert "could not" not in output, output
    with Backend(server.url, server.api_key) as backend:
        assert backend.status(killed) == "cancelled"


SLOTS = """
import pytest

@pytest.mark.asyncio
@pytest.mark.parametrize("n", [1, 2])
async def test_async(async_smooth_session, n):
    assert await async_smooth_session.evaluate_js("1") == "1"

@pytest.mark.smooth(start_timeout=0.5)
def test_two_at_once(new_smooth_session):
    new_smooth_session()
    new_smooth_session()
"""


def test_async_sessions_free_their_slot_and_a_full_cap_fails_clearly(
    pytester: pytest.Pytester, server: LocalServer
) -> None:
    pytester.makepyfile(test_slots=SLOTS)
    with LimitedCloud(server.url) as cloud:
        result = pytester.runpytest_subprocess(
            *_args(server, cloud), "--smooth-max-sessions=1", timeout=RUN_TIMEOUT
        )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*smooth: no session slot came free within 0.5 s (the session's start timeout):"
            " all 1 of --smooth-max-sessions=1 stayed in use by this run's other sessions*",
        ]
    )
    assert cloud.cloud.created == 3 and cloud.cloud.overlaps() == []
