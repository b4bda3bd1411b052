"""The plugin as a whole: fixtures listed, marker registered, -p no:smooth, inert when unused."""

from __future__ import annotations

import pytest

from tests.plugin_helpers import clean_env
from tests.plugin_helpers import write_ini

FIXTURES = [
    "smooth_settings",
    "smooth_client",
    "async_smooth_client",
    "smooth_session",
    "smooth_module_session",
    "async_smooth_session",
    "new_smooth_session",
    "smooth_session_args",
    "smooth_server",
]


@pytest.fixture(autouse=True)
def _clean(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    write_ini(pytester)


def test_fixtures_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures")
    result.stdout.fnmatch_lines(["*fixtures defined from pytest_smooth.plugin.fixtures*"])
    for name in FIXTURES:
        result.stdout.fnmatch_lines([f"{name}*"])


def test_marker_is_registered_under_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.smooth(device="mobile")
        def test_marked():
            pass
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.smooth(*, device=None, allowed_urls=None, profile_id=None, timeout=None*"]
    )


def test_options_are_in_the_smooth_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "pytest-smooth: browser tests on Smooth:",
            "*--smooth-apikey=KEY*",
            "*--smooth-prewarm=N*",
            "*smooth_report_links (string):*",
        ]
    )


def test_disabled_with_p_no_smooth(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.smooth(device="mobile")
        def test_marked():
            pass
        """
    )
    # In a subprocess: pytest.mark caches known marker names across in-process runs.
    result = pytester.runpytest_subprocess("-p", "no:smooth", "--strict-markers", timeout=120)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*'smooth' not found in `markers` configuration option*"])
    result = pytester.runpytest("-p", "no:smooth", "--fixtures")
    result.stdout.no_fnmatch_line("*smooth_session*")
    result = pytester.runpytest("-p", "no:smooth", "-W", "ignore::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("smooth:*")
    result = pytester.runpytest("-p", "no:smooth", "--smooth-device=mobile")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_inert_when_unused(pytester: pytest.Pytester) -> None:
    """No smooth fixture requested: no server, no browser, no output folder, no summary."""
    pytester.makeconftest(
        """
        import sys
        import threading

        def pytest_sessionfinish(session):
            names = ("playwright", "pytest_smooth.server.local", "uvicorn")
            heavy = [m for m in names if m in sys.modules]
            threads = [t.name for t in threading.enumerate() if t.name.startswith("smooth")]
            with open("loaded.txt", "w") as out:
                out.write(repr((heavy, threads)))
        """
    )
    pytester.makepyfile("def test_plain(): assert 1 + 1 == 2")
    result = pytester.runpytest_subprocess("-p", "no:playwright", timeout=120)
    result.assert_outcomes(passed=1)
    assert (pytester.path / "loaded.txt").read_text() == "([], [])"
    assert not (pytester.path / "smooth-results").exists()
    result.stdout.no_fnmatch_line("*= smooth =*")
    result.stdout.fnmatch_lines(["smooth: backend=local (auto), base_url=started on first use*"])


LOADED_BY_ENTRY_POINT = (
    "pytest_smooth.plugin.fixtures",
    "pytest_smooth.plugin.reporting",
    "pytest_smooth.plugin.assertions",
)


@pytest.mark.parametrize("disabled", [False, True], ids=["enabled", "p-no-smooth"])
def test_entry_point_loads_its_modules_through_pytest_plugins(
    pytester: pytest.Pytester, disabled: bool
) -> None:
    """``smooth`` registers fixtures, reporting and assertions, rewritten; ``-p no:smooth`` none."""
    pytester.makeconftest(
        f"""
        def pytest_sessionstart(session):
            manager = session.config.pluginmanager
            names = {LOADED_BY_ENTRY_POINT!r}
            with open("loaded.txt", "w") as out:
                out.write(",".join(n for n in ("smooth", *names) if manager.has_plugin(n)))
        """
    )
    pytester.makepyfile("def test_plain(): pass")
    args = ["-p", "no:smooth"] if disabled else []
    # A subprocess imports the modules afresh: a module imported before pytest marks it for
    # rewriting would warn (PytestAssertRewriteWarning), and -W error makes that an error.
    result = pytester.runpytest_subprocess(
        *args, "-W", "error::pytest.PytestAssertRewriteWarning", timeout=120
    )
    result.assert_outcomes(passed=1)
    loaded = (pytester.path / "loaded.txt").read_text()
    assert loaded == ("" if disabled else ",".join(("smooth", *LOADED_BY_ENTRY_POINT)))


def test_expect_timeout_is_passed_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_smooth.expect.attempts import default_timeout

        def test_timeout():
            assert default_timeout() == 2.5
        """
    )
    pytester.runpytest("--smooth-expect-timeout=2.5").assert_outcomes(passed=1)


def test_missing_browser_is_a_clear_error_at_the_first_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_a(smooth_session):
            pass

        def test_b(smooth_session):
            pass

        def test_c():
            pass
        """
    )
    result = pytester.runpytest("--smooth-browser=/nonexistent/chrome")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*pytest-smooth local backend: --smooth-browser='/nonexistent/chrome' is neither an"
            " executable file nor a ws:// or http:// endpoint*"
        ]
    )
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
