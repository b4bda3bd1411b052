"""``@pytest.mark.smooth_pass_rate(runs=N, min_passes=K)``: N attempts at once, one verdict.

At collection the marker is checked (a bad one is a ``pytest.UsageError``) and the per-attempt
fixtures (``pass_rate_run.PER_ATTEMPT``) are taken out of the test's fixture closure, so pytest
sets up only the shared ones. At call time the test function is swapped for a runner that runs
the attempts concurrently (``pass_rate_run``), each on fresh sessions (``pass_rate_sessions``),
and passes or fails the test once; the call report carries every attempt (``pass_rate_report``).
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Generator
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.attempts import attempt
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.pass_rate_report import failure_message
from pytest_smooth.plugin.pass_rate_report import report_pass_rate
from pytest_smooth.plugin.pass_rate_report import summary_lines
from pytest_smooth.plugin.pass_rate_run import PER_ATTEMPT
from pytest_smooth.plugin.pass_rate_run import PassRateResult
from pytest_smooth.plugin.pass_rate_run import run_async
from pytest_smooth.plugin.pass_rate_run import run_sync
from pytest_smooth.plugin.pass_rate_sessions import AttemptSessions
from pytest_smooth.plugin.pass_rate_spec import MARKER
from pytest_smooth.plugin.pass_rate_spec import MARKER_LINE
from pytest_smooth.plugin.pass_rate_spec import PassRateSpec
from pytest_smooth.plugin.pass_rate_spec import parse_marker
from pytest_smooth.plugin.redaction import get_registry

OPTION: Final = "--smooth-pass-rate-concurrency"
INI: Final = "smooth_pass_rate_concurrency"
ENV: Final = "SMOOTH_PASS_RATE_CONCURRENCY"
DEFAULT_CONCURRENCY: Final = 5
SPEC_KEY: Final = pytest.StashKey[PassRateSpec]()
RESULT_KEY: Final = pytest.StashKey[PassRateResult]()
WIDTH_KEY: Final = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smooth")
    group.addoption(
        OPTION,
        dest=INI,
        default=None,
        metavar="N",
        help=f"Attempts of one smooth_pass_rate test run at once (ini {INI}, env {ENV};"
        f" default {DEFAULT_CONCURRENCY}).",
    )
    parser.addini(INI, "Attempts of one smooth_pass_rate test run at once.", default=None)


def _concurrency(config: pytest.Config) -> int:
    given = config.getoption(INI) or config.getini(INI) or os.environ.get(ENV)
    if given in (None, ""):
        return DEFAULT_CONCURRENCY
    try:
        value = int(str(given))
    except ValueError:
        value = 0
    if value < 1:
        raise pytest.UsageError(
            f"{OPTION}={given!r} is not valid: give a whole number of attempts >= 1"
            f" (CLI {OPTION}, ini {INI} or env {ENV})"
        )
    return value


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_LINE)
    try:
        config.stash[WIDTH_KEY] = _concurrency(config)
    except pytest.UsageError:
        if not (config.getoption("help", False) or config.getoption("version", False)):
            raise


def _check_fixtures(item: pytest.Function) -> None:
    """Refuse a fixture built on a per-attempt one: it would be one session for all attempts."""
    for name in item.fixturenames:
        defs = item._fixtureinfo.name2fixturedefs.get(name)
        if name in PER_ATTEMPT or not defs:
            continue
        uses = sorted(PER_ATTEMPT & set(defs[-1].argnames))
        if uses:
            raise pytest.UsageError(
                f"{item.nodeid}: fixture {name!r} uses {', '.join(uses)}, which a"
                " smooth_pass_rate test gets afresh per attempt; request it in the test"
                " function itself"
            )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Check each pass-rate test's marker; leave its per-attempt fixtures to the runner."""
    for item in items:
        mark = item.get_closest_marker(MARKER)
        if mark is None:
            continue
        spec = parse_marker(item.nodeid, mark)
        if not isinstance(item, pytest.Function):
            raise pytest.UsageError(f"{item.nodeid}: smooth_pass_rate marks test functions only")
        _check_fixtures(item)
        item.fixturenames[:] = [n for n in item.fixturenames if n not in PER_ATTEMPT]
        item.stash[SPEC_KEY] = spec


@pytest.fixture
def smooth_attempt(request: pytest.FixtureRequest) -> int:
    """Give the number of the attempt now running (1 first; a pass-rate attempt's, or a rerun's)."""
    return attempt(request.node) if isinstance(request.node, pytest.Item) else 1


def _width(item: pytest.Item, spec: PassRateSpec) -> int:
    width = min(item.config.stash.get(WIDTH_KEY, DEFAULT_CONCURRENCY), spec.runs)
    cap = get_settings(item.config).max_sessions
    return min(width, cap) if cap else width  # an attempt needs a slot of the run's cap


def _conclude(item: pytest.Function, result: PassRateResult) -> None:
    item.stash[RESULT_KEY] = result
    if result.tally.reached:
        return
    ran = result.ran()
    if ran and all(a.outcome == "skipped" for a in ran):
        pytest.skip(f"smooth_pass_rate: every attempt skipped: {ran[0].error}")
    pytest.fail(failure_message(result), pytrace=False)


def _runner(item: pytest.Function, spec: PassRateSpec) -> Any:
    """Return what pytest calls instead of the test function: all its attempts."""
    original = item.obj
    base = item.funcargs.get("smooth_session_args")
    base = base if isinstance(base, dict) else {}
    sessions = AttemptSessions(item, base)
    width = _width(item, spec)
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def run_all_async(**_: Any) -> None:
            _conclude(item, await run_async(item, original, spec, width, sessions))

        return run_all_async

    @functools.wraps(original)
    def run_all(**_: Any) -> None:
        _conclude(item, run_sync(item, original, spec, width, sessions))

    return run_all


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Swap a pass-rate test's function for its attempts' runner while pytest calls it."""
    spec = item.stash.get(SPEC_KEY, None)
    if spec is None or not isinstance(item, pytest.Function):
        return (yield)
    original = item.obj
    for name in PER_ATTEMPT & set(item._fixtureinfo.argnames):
        item.funcargs[name] = None  # pytest passes every argument; the runner fills these
    item.obj = _runner(item, spec)
    try:
        return (yield)
    finally:
        item.obj = original
        for name in PER_ATTEMPT:
            item.funcargs.pop(name, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    result = item.stash.get(RESULT_KEY, None)
    if call.when == "call" and result is not None:
        tracked = [t for a in result.attempts for t in a.tracked]
        redactor = get_registry(item.config).scrubber(tracked)
        try:
            report_pass_rate(item, report, result, redactor)
        except Exception as err:  # evidence is best effort; the verdict stands
            report.sections.append(("smooth", f"warning: could not report the pass rate: {err}"))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = summary_lines(terminalreporter.stats)
    if lines:
        terminalreporter.write_sep("=", "smooth pass rates")
        for line in lines:
            terminalreporter.write_line(line)
