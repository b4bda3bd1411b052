"""smooth_profile: log in once per run (across xdist workers), reuse it in later runs.

The inner runs use the browserless InstantExecutor behind a LocalServer posing as the cloud, so
profiles go through the profile API (create_profile / list_profiles) as on Smooth's cloud. The
pytest cache stays on (it carries the profile id to the next run).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_smooth.server.local import LocalServer
from tests.plugin_helpers import InstantExecutor
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import cloud_args
from tests.plugin_helpers import instant_server

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -p no:playwright\n"

CONFTEST = """
import os
import pathlib

import pytest

LOGINS = pathlib.Path(__file__).parent / "logins.txt"


{async_}def log_in(session):
    with LOGINS.open("a") as handle:
        handle.write("login\\n")
    if os.environ.get("LOGIN_FAILS"):
        raise RuntimeError("the shop said: wrong password")
    {await_}session.evaluate_js("document.cookie = 'sid=1'")


def signed_in(session):
    return os.environ.get("CHECK_FAILS") is None


@pytest.fixture(scope="session")
def smooth_session_args(smooth_session_args, smooth_profile):
    profile = smooth_profile(
        "shop-user", log_in, max_age=float(os.environ.get("MAX_AGE", "3600")), check=signed_in
    )
    return {{**smooth_session_args, "profile_id": profile, "profile_read_only": True}}
"""

TESTS = """
import pytest


@pytest.mark.parametrize("n", range({count}))
def test_signed_in(smooth_session, n):
    assert smooth_session.evaluate_js("1") == "1"
"""


@pytest.fixture
def server() -> Iterator[tuple[LocalServer, InstantExecutor]]:
    with instant_server() as pair:
        yield pair


@pytest.fixture(autouse=True)
def _inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    for name in ("LOGIN_FAILS", "CHECK_FAILS", "MAX_AGE"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini(INI)


def _suite(pytester: pytest.Pytester, count: int = 2, *, is_async: bool = False) -> Path:
    pytester.makeconftest(
        CONFTEST.format(async_="async " if is_async else "", await_="await " if is_async else "")
    )
    pytester.makepyfile(test_shop=TESTS.format(count=count))
    return pytester.path / "logins.txt"


def _logins(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _profile_sessions(executor: InstantExecutor) -> list[tuple[str | None, bool]]:
    return [(s.request.profile_id, s.request.profile_read_only) for s in executor.opened]


def test_two_tests_log_in_once_and_a_later_run_reuses_it(
    pytester: pytest.Pytester,
    server: tuple[LocalServer, InstantExecutor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own, executor = server
    logins = _suite(pytester)
    pytester.runpytest(*cloud_args(own)).assert_outcomes(passed=2)
    assert _logins(logins) == 1
    (login, *tests) = _profile_sessions(executor)
    profile = login[0]
    assert profile and login == (profile, False)
    assert tests == [(profile, True), (profile, True)]

    executor.opened.clear()
    pytester.runpytest(*cloud_args(own)).assert_outcomes(passed=2)
    assert _logins(logins) == 1  # reused: only the check's read-only session ran
    assert _profile_sessions(executor) == [(profile, True)] * 3

    monkeypatch.setenv("MAX_AGE", "0")
    pytester.runpytest(*cloud_args(own)).assert_outcomes(passed=2)
    assert _logins(logins) == 2
    assert [p.id for p in own.store.resources.profiles.values()] != [profile]  # old one deleted


def test_a_failing_check_logs_in_again(
    pytester: pytest.Pytester,
    server: tuple[LocalServer, InstantExecutor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own, _executor = server
    logins = _suite(pytester)
    pytester.runpytest(*cloud_args(own)).assert_outcomes(passed=2)
    monkeypatch.setenv("CHECK_FAILS", "1")
    pytester.runpytest(*cloud_args(own)).assert_outcomes(passed=2)
    assert _logins(logins) == 2


def test_under_xdist_one_worker_logs_in(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    own, executor = server
    logins = _suite(pytester, count=6)
    result = pytester.runpytest_subprocess("-n", "2", *cloud_args(own), timeout=120)
    result.assert_outcomes(passed=6)
    assert _logins(logins) == 1
    profiles = {p for p, _read_only in _profile_sessions(executor)}
    assert len(profiles) == 1 and None not in profiles


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_failing_login_errors_every_dependent_test_with_one_message(
    pytester: pytest.Pytester,
    server: tuple[LocalServer, InstantExecutor],
    monkeypatch: pytest.MonkeyPatch,
    workers: list[str],
) -> None:
    own, _executor = server
    logins = _suite(pytester, count=4)
    monkeypatch.setenv("LOGIN_FAILS", "1")
    result = pytester.runpytest_subprocess(*workers, *cloud_args(own), timeout=120)
    result.assert_outcomes(errors=4)
    assert _logins(logins) == 1
    message = (
        "*smooth_profile('shop-user'): the login function conftest.log_in (conftest.py:13)"
        " failed: RuntimeError: the shop said: wrong password*"
    )
    result.stdout.fnmatch_lines([message])
    assert result.stdout.str().count("the shop said: wrong password") >= 4
    assert not own.store.resources.profiles  # the half-made profile was deleted


def test_an_async_login_runs_in_its_own_loop(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    own, executor = server
    logins = _suite(pytester, is_async=True)
    pytester.runpytest(*cloud_args(own)).assert_outcomes(passed=2)
    assert _logins(logins) == 1
    assert len({p for p, _ in _profile_sessions(executor)}) == 1


def test_profiles_dir_inside_the_output_folder_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "def test_x(smooth_profile):\n    pass\n"  # never collected: a conftest
    )
    pytester.makepyfile("def test_x(smooth_profile):\n    pass\n")
    result = pytester.runpytest(
        "--smooth-backend=local", "--smooth-output=out", "--smooth-profiles-dir=out/profiles"
    )
    result.stdout.fnmatch_lines(["*invalid value *out/profiles* for --smooth-profiles-dir*"])
