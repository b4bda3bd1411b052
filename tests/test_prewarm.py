"""Session prewarming (``--smooth-prewarm=N``), with pytester against a browserless LocalServer.

Sessions opened ahead are used by tests or closed at the end of the run, never leaked, and never
opened when the option is off.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_smooth.plugin.prewarm import PREWARMED_NODEID
from pytest_smooth.server.local import LocalServer
from tests.plugin_helpers import InstantExecutor
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import cloud_args
from tests.plugin_helpers import instant_server
from tests.plugin_helpers import write_ini

FIVE_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(5))
def test_page(smooth_session, n):
    assert smooth_session.evaluate_js(f"js {n}") == f"js {n}"
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalServer, InstantExecutor]]:
    clean_env(monkeypatch)
    with instant_server() as pair:
        yield pair


def prewarmed(executor: InstantExecutor) -> list[str]:
    """Task ids of the sessions that were opened ahead."""
    return [
        spec.task_id
        for spec in executor.opened
        if (spec.request.metadata or {}).get("pytest_nodeid") == PREWARMED_NODEID
    ]


def used_by(executor: InstantExecutor) -> set[str]:
    """Task ids that got at least one action."""
    return {task_id for task_id, _action, _input in executor.submitted}


def assert_nothing_left(srv: LocalServer, executor: InstantExecutor) -> None:
    assert sorted(set(executor.closed)) == sorted(spec.task_id for spec in executor.opened)
    assert srv.stats()["open_sessions"] == 0


def test_off_by_default_opens_one_session_per_test(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile(FIVE_TESTS)
    pytester.runpytest(*cloud_args(srv)).assert_outcomes(passed=5)
    assert srv.stats()["tasks"] == 5
    assert prewarmed(executor) == []
    assert_nothing_left(srv, executor)


def test_explicit_zero_opens_nothing_ahead(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile(FIVE_TESTS)
    pytester.runpytest(*cloud_args(srv), "--smooth-prewarm=0").assert_outcomes(passed=5)
    assert srv.stats()["tasks"] == 5
    assert prewarmed(executor) == []


def test_every_test_takes_a_prewarmed_session(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile(FIVE_TESTS)
    result = pytester.runpytest(*cloud_args(srv), "--smooth-prewarm=2")
    result.assert_outcomes(passed=5)
    # No more than the tests need: the pool stops at the number of tests still to come.
    assert srv.stats()["tasks"] == 5
    assert sorted(prewarmed(executor)) == sorted(used_by(executor))
    assert len(used_by(executor)) == 5
    result.stdout.fnmatch_lines(["5 session(s) opened, 5 closed"])
    assert_nothing_left(srv, executor)


def test_other_options_open_their_own_and_leftovers_are_closed(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile(
        """
        import pytest

        def test_a(smooth_session):
            smooth_session.evaluate_js("a")

        @pytest.mark.smooth(device="mobile")
        def test_b(smooth_session):
            smooth_session.evaluate_js("b")

        def test_c(smooth_session):
            smooth_session.evaluate_js("c")
        """
    )
    pytester.runpytest(*cloud_args(srv), "--smooth-prewarm=2").assert_outcomes(passed=3)
    ahead = prewarmed(executor)
    own = [spec for spec in executor.opened if spec.task_id not in ahead]
    assert [spec.request.device for spec in own] == ["mobile"]
    assert {spec.request.device for spec in executor.opened if spec.task_id in ahead} == {"desktop"}
    # a and c took prewarmed sessions; one more was opened ahead for b and never used.
    assert len(ahead) == 3
    assert len(used_by(executor) & set(ahead)) == 2
    assert_nothing_left(srv, executor)


def test_suite_args_and_cli_device_are_prewarmed(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def smooth_session_args():
            return {"allowed_urls": ["https://*.example.com/*"]}
        """
    )
    pytester.makepyfile(FIVE_TESTS)
    args = [*cloud_args(srv), "--smooth-prewarm=3", "--smooth-device=mobile"]
    pytester.runpytest(*args).assert_outcomes(passed=5)
    assert len(prewarmed(executor)) == 5 == len(executor.opened)
    for spec in executor.opened:
        assert spec.request.device == "mobile"
        assert spec.request.allowed_urls == ["https://*.example.com/*"]
    assert_nothing_left(srv, executor)


def test_a_failing_backend_falls_back_to_each_test_opening_its_own(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env(monkeypatch)
    write_ini(pytester)
    pytester.makepyfile("def test_x(smooth_session): pass")
    args = [
        "--smooth-backend=cloud",
        "--smooth-base-url=http://127.0.0.1:9/api/",  # nothing listens on the discard port
        "--smooth-apikey=key",
        "--smooth-prewarm=2",
    ]
    result = pytester.runpytest(*args)
    # The test reports the backend's error itself; the failed prewarm neither hangs nor hides it.
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*could not open a session ahead*", "ERROR *test_x*"])
