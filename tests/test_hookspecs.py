"""The pytest_smooth_* hooks, implemented by an inner conftest.py (pytester)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_smooth import SmoothClient
from pytest_smooth.server.local import LocalServer
from tests.plugin_helpers import InstantExecutor
from tests.plugin_helpers import clean_env
from tests.plugin_helpers import cloud_args
from tests.plugin_helpers import instant_server
from tests.plugin_helpers import write_ini


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalServer, InstantExecutor]]:
    clean_env(monkeypatch)
    with instant_server() as pair:
        yield pair


def test_both_hooks(pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makeconftest(
        """
        CREATED = []
        ARGS = []

        def pytest_smooth_session_args(config, item, args):
            ARGS.append((item.name if item else None, dict(args)))
            args["profile_id"] = "changed-in-place"  # in-place changes count too

        def pytest_smooth_session_created(session, item, request):
            CREATED.append((session.id, item.name if item else None, request.fixturename))
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from conftest import ARGS, CREATED

        @pytest.mark.smooth(device="mobile")
        def test_fn(smooth_session):
            assert CREATED[-1] == (smooth_session.id, "test_fn", "smooth_session")
            name, args = ARGS[-1]
            assert name == "test_fn"
            assert args["device"] == "mobile"
            assert "metadata" not in args  # the run tags are added after the hook

        def test_module(smooth_module_session):
            assert CREATED[-1] == (smooth_module_session.id, None, "smooth_module_session")
            assert ARGS[-1][0] is None
        """
    )
    with SmoothClient(srv.api_key, srv.base_url) as client:
        client.create_profile("changed-in-place")  # an unknown profile_id is a 404
    pytester.runpytest(*cloud_args(srv)).assert_outcomes(passed=2)
    assert [spec.request.profile_id for spec in executor.opened] == ["changed-in-place"] * 2


def test_hooks_accept_a_subset_of_arguments(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makeconftest(
        """
        def pytest_smooth_session_args(args):
            return {"allowed_urls": ["https://only.example/*"]}

        def pytest_smooth_session_created(session):
            session.label = "set-by-hook"
        """
    )
    pytester.makepyfile(
        """
        def test_x(smooth_session):
            assert smooth_session.label == "set-by-hook"
        """
    )
    pytester.runpytest(*cloud_args(srv)).assert_outcomes(passed=1)
    assert executor.opened[0].request.allowed_urls == ["https://only.example/*"]


def test_hook_specs_are_registered(pytester: pytest.Pytester) -> None:
    """A conftest asking for an argument the spec lacks is rejected, so the spec is known."""
    write_ini(pytester)
    pytester.makeconftest("def pytest_smooth_session_created(session, no_such_argument): pass")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret != pytest.ExitCode.OK
    assert "no_such_argument" in str(result.stdout) + str(result.stderr)


def test_bad_hook_result_is_an_error_of_that_test(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makeconftest(
        """
        def pytest_smooth_session_args(args):
            return {"device": "fridge"}
        """
    )
    pytester.makepyfile("def test_x(smooth_session): pass")
    result = pytester.runpytest(*cloud_args(srv))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*pytest_smooth_session_args hook: device='fridge' is not valid*"])
    assert executor.opened == []
