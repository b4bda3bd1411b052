"""Fixtures: scopes, option merging, markers, module-session attribution, factory, async (pytester).

The inner runs talk to a real LocalServer with a browserless executor, through the plugin's
cloud path (``--smooth-backend=cloud --smooth-base-url=... --smooth-apikey=...``).
"""

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


def opened_by_test(executor: InstantExecutor) -> dict[str, dict[str, object]]:
    """Map each opened session's ``pytest_nodeid`` tag to its request fields."""
    out = {}
    for spec in executor.opened:
        meta = spec.request.metadata or {}
        out[str(meta["pytest_nodeid"]).split("::")[-1]] = spec.request.model_dump()
    return out


def test_scopes_and_every_session_closed(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile(
        test_one="""
        SEEN = {}

        def test_a(smooth_session, smooth_module_session, smooth_client):
            SEEN["a"] = (smooth_session.id, smooth_module_session.id, id(smooth_client))

        def test_b(smooth_session, smooth_module_session, smooth_client):
            SEEN["b"] = (smooth_session.id, smooth_module_session.id, id(smooth_client))
            assert SEEN["a"][0] != SEEN["b"][0]  # function scope: a new session
            assert SEEN["a"][1] == SEEN["b"][1]  # module scope: shared
            assert SEEN["a"][2] == SEEN["b"][2]  # session scope: one client
        """,
        test_two="""
        def test_c(smooth_module_session):
            smooth_module_session.evaluate_js("1")
        """,
    )
    result = pytester.runpytest(*cloud_args(srv))
    result.assert_outcomes(passed=3)
    assert len(executor.opened) == 4  # a, b, module of test_one, module of test_two
    assert sorted(executor.closed) == sorted(spec.task_id for spec in executor.opened)
    result.stdout.fnmatch_lines(["*smooth*", "4 session(s) opened, 4 closed"])


def test_sessions_are_tagged(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile("def test_tagged(smooth_session): pass")
    pytester.runpytest(*cloud_args(srv)).assert_outcomes(passed=1)
    meta = executor.opened[0].request.metadata or {}
    assert meta["pytest_nodeid"] == "test_sessions_are_tagged.py::test_tagged"
    assert meta["pytest_worker"] == "master"
    assert isinstance(meta["pytest_run_id"], str)
    assert len(meta["pytest_run_id"]) == 12


def test_option_merge_order(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def smooth_session_args():
            return {"device": "mobile", "profile_id": "from-fixture", "metadata": {"team": "qa"}}

        def pytest_smooth_session_args(config, item, args):
            if item is not None and "hooked" in item.name:
                return {"allowed_urls": ["https://hook.example/*"], "device": "desktop"}
            return None
        """
    )
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.smooth(profile_id="from-module")

        def test_plain(smooth_session):
            pass

        @pytest.mark.smooth(device="mobile", allowed_urls=["https://m.example/*"])
        def test_marked(smooth_session):
            pass

        @pytest.mark.smooth(device="mobile")
        def test_hooked(smooth_session):
            pass

        @pytest.mark.smooth(profile_id="from-class", device="mobile")
        class TestClass:
            @pytest.mark.smooth(profile_id="from-function")
            def test_closest(self, smooth_session):
                pass
        """
    )
    make_profiles(srv, "from-module", "from-function")  # an unknown profile_id is a 404
    result = pytester.runpytest(*cloud_args(srv), "--smooth-device=desktop-lg")
    result.assert_outcomes(passed=4)
    by_test = opened_by_test(executor)
    # fixture < CLI device < module marker
    assert by_test["test_plain"]["device"] == "desktop-lg"
    assert by_test["test_plain"]["profile_id"] == "from-module"
    assert by_test["test_plain"]["metadata"]["team"] == "qa"  # type: ignore[index]
    # marker beats CLI
    assert by_test["test_marked"]["device"] == "mobile"
    assert by_test["test_marked"]["allowed_urls"] == ["https://m.example/*"]
    # the hook has the last word
    assert by_test["test_hooked"]["device"] == "desktop"
    assert by_test["test_hooked"]["allowed_urls"] == ["https://hook.example/*"]
    # the closest marker wins per option; farther ones still fill the rest
    assert by_test["test_closest"]["profile_id"] == "from-function"
    assert by_test["test_closest"]["device"] == "mobile"


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "@pytest.mark.smooth(devise='mobile')",
            "*@pytest.mark.smooth: unknown session option 'devise'; valid: allowed_urls, *",
        ),
        (
            "@pytest.mark.smooth(device='tablet')",
            "*@pytest.mark.smooth: device='tablet' is not valid; expected one of desktop, mobile*",
        ),
        (
            "@pytest.mark.smooth('mobile')",
            "*@pytest.mark.smooth takes keyword arguments only, got ('mobile',)*",
        ),
        (
            "@pytest.mark.smooth(timeout=-3)",
            "*timeout=-3 is not valid; expected a number of seconds > 0, or None*",
        ),
    ],
)
def test_bad_marker_is_an_error_of_that_test(
    pytester: pytest.Pytester,
    server: tuple[LocalServer, InstantExecutor],
    marker: str,
    message: str,
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile(
        f"""
        import pytest

        {marker}
        def test_bad(smooth_session):
            pass

        def test_good(smooth_session):
            pass
        """
    )
    result = pytester.runpytest(*cloud_args(srv))
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([message])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    assert len(executor.opened) == 1  # the bad one never opened a session


def test_bad_fixture_args_and_hook_result_are_errors(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, _ = server
    write_ini(pytester)
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def smooth_session_args():
            return {"profile": "typo"}
        """
    )
    pytester.makepyfile("def test_x(smooth_session): pass")
    result = pytester.runpytest(*cloud_args(srv))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*smooth_session_args fixture: unknown session option 'profile'*"])


def test_module_session_attributes_actions_to_each_test(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, _ = server
    write_ini(pytester)
    pytester.makepyfile(
        """
        def test_first(smooth_module_session):
            smooth_module_session.evaluate_js("'first-action'")

        def test_second(smooth_module_session):
            smooth_module_session.evaluate_js("'second-action'")
            records = smooth_module_session.events
            assert [r.test_nodeid.split("::")[-1] for r in records] == ["test_first", "test_second"]
            assert False, "second fails"
        """
    )
    result = pytester.runpytest(*cloud_args(srv))
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    section = text[text.index("- smooth -") :]
    assert "second-action" in section
    assert "first-action" not in section
    assert "shared module session: showing this test's 1 of 2 events" in section


def test_factory_opens_and_closes_several_sessions(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile(
        """
        def test_two_users(new_smooth_session):
            alice = new_smooth_session(device="mobile")
            bob = new_smooth_session(profile_id="bob")
            assert alice.id != bob.id
            alice.evaluate_js("'alice'")
            bob.evaluate_js("'bob'")
            assert False
        """
    )
    make_profiles(srv, "bob")
    result = pytester.runpytest(*cloud_args(srv))
    result.assert_outcomes(failed=1)
    ids = [spec.task_id for spec in executor.opened]
    assert len(ids) == 2
    assert sorted(executor.closed) == sorted(ids)
    assert executor.opened[0].request.device == "mobile"
    assert executor.opened[1].request.profile_id == "bob"
    for task_id in ids:
        result.stdout.fnmatch_lines([f"session {task_id} (new_smooth_session)*"])
    result.stdout.fnmatch_lines([f"FAILED *test_two_users: session {ids[0]}, {ids[1]}"])


def test_async_session(
    pytester: pytest.Pytester, server: tuple[LocalServer, InstantExecutor]
) -> None:
    srv, executor = server
    write_ini(pytester)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.smooth(device="desktop-lg")
        async def test_async(async_smooth_session, async_smooth_client):
            assert await async_smooth_session.evaluate_js("'hi'") == "'hi'"
            assert async_smooth_session.events[0].test_nodeid.endswith("test_async")
        """
    )
    result = pytester.runpytest(*cloud_args(srv))
    result.assert_outcomes(passed=1)
    assert executor.opened[0].request.device == "desktop-lg"
    assert executor.closed == [executor.opened[0].task_id]


def make_profiles(server: LocalServer, *profile_ids: str) -> None:
    """Create the profiles a run uses: the backend answers 404 for an unknown profile_id."""
    with SmoothClient(server.api_key, server.base_url) as client:
        for profile_id in profile_ids:
            client.create_profile(profile_id)
