"""A first run with nothing to explain: no warning caused by the plugins pytest-smooth brings."""

from __future__ import annotations

import pytest

ONE_TEST = "def test_one():\n    assert True\n"
# pytest-playwright's soft-assertion scope does not nest: in-process inner runs go without it.
IN_PROCESS = ("-p", "no:playwright", "-p", "no:cacheprovider")
SHOW_SCOPE = """
def test_scope(pytestconfig):
    print("fixture-loop-scope:" + str(pytestconfig.getini("asyncio_default_fixture_loop_scope")))
"""


def test_a_project_without_configuration_sees_no_warning(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one=ONE_TEST)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "warnings summary" not in output, output
    assert "Warning" not in output, output
    assert "asyncio_default_fixture_loop_scope=function" in output  # pytest-asyncio's header


def test_the_default_loop_scope_reaches_pytest_asyncio(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_scope=SHOW_SCOPE)
    result = pytester.runpytest(*IN_PROCESS, "-s", "-W", "error::pytest.PytestDeprecationWarning")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*fixture-loop-scope:function*"])


@pytest.mark.parametrize("how", ["ini", "override"])
def test_a_users_own_loop_scope_wins(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(test_scope=SHOW_SCOPE)
    if how == "ini":
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = module\n")
        args: tuple[str, ...] = ()
    else:
        args = ("-o", "asyncio_default_fixture_loop_scope=module")
    result = pytester.runpytest(*IN_PROCESS, "-s", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*fixture-loop-scope:module*"])
    result.stdout.no_fnmatch_line("*fixture-loop-scope:function*")


def test_without_pytest_asyncio_the_plugin_still_loads(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one=ONE_TEST)
    result = pytester.runpytest(*IN_PROCESS, "-p", "no:asyncio")
    result.assert_outcomes(passed=1)
