"""Credits: what each test spent, the run's budget, and ``@pytest.mark.smooth_budget``.

After each test's teardown, its credits (the actions of the sessions it used, its share of a
shared one) go on the teardown report (``smooth_credits``, for JUnit and the controller) and
into the run's ledger: a small JSON file in the run's shared folder, changed under a file lock
so that every xdist worker adds to one total. With ``--smooth-max-credits N`` no new session
opens once the ledger says N are spent (``admission``), and the run's exit status is non-zero.
``@pytest.mark.smooth_budget(credits=N)`` fails a test whose call spent more than N.
The controller's summary gives the run's total (1 credit = $0.01) and the costliest tests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Generator
from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.attempts import ITEM_EVENT_START
from pytest_smooth.plugin.failure_page import EVIDENCE_LABEL
from pytest_smooth.plugin.lifecycle import ITEM_SESSIONS
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.run_folder import is_controller
from pytest_smooth.plugin.run_folder import locked
from pytest_smooth.plugin.run_folder import run_folder

MARKER: Final = "smooth_budget"
MARKER_LINE: Final = (
    "smooth_budget(credits=N): fail this test when its call spends more than N Smooth credits"
    " (1 credit = $0.01; see the README, 'Running on the cloud at scale')"
)
REPORT_CREDITS: Final = "smooth_credits"  # the teardown report's attribute and JUnit property
DOLLARS_PER_CREDIT: Final = 0.01
TOP: Final = 5
LEDGER_KEY: Final = pytest.StashKey["CreditLedger"]()
TALLY_NAME: Final = "smooth-credit-tally"


class CreditLedger:
    """The run's spend, shared by all its processes: ``{spent, refused, out_of_credits}``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "credits.json"
        self._lock_path = folder / "credits.lock"

    def read(self) -> dict[str, Any]:
        """Return the ledger now (zeros when nothing was written yet)."""
        state: dict[str, Any] = {"spent": 0.0, "refused": 0, "out_of_credits": None}
        try:
            state.update(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
        return state

    def _change(self, key: str, value: Any, *, add: bool) -> dict[str, Any]:
        with locked(self._lock_path):
            state = self.read()
            state[key] = state[key] + value if add else value
            scratch = self.path.with_suffix(".tmp")
            scratch.write_text(json.dumps(state), encoding="utf-8")
            scratch.replace(self.path)  # readers never see half a file
        return state

    def spend(self, credits: float) -> float:
        """Add ``credits`` to the run's spend; return the new total."""
        return float(self._change("spent", float(credits), add=True)["spent"])

    def refuse(self) -> None:
        """Count a session the budget did not let open."""
        self._change("refused", 1, add=True)

    def out_of_credits(self, message: str) -> None:
        """Note that the account ran out of credits (a 429 that says so)."""
        self._change("out_of_credits", message, add=False)


def get_ledger(config: pytest.Config) -> CreditLedger:
    ledger = config.stash.get(LEDGER_KEY, None)
    if ledger is None:
        ledger = config.stash[LEDGER_KEY] = CreditLedger(run_folder(config))
    return ledger


def budget_of(item: pytest.Item) -> float | None:
    """Return the closest ``smooth_budget`` marker's credits, or None; UsageError if bad."""
    mark = item.get_closest_marker(MARKER)
    if mark is None:
        return None
    credits = mark.kwargs.get("credits")
    valid = not mark.args and set(mark.kwargs) == {"credits"}
    if not (valid and isinstance(credits, (int, float)) and not isinstance(credits, bool)):
        credits = math.nan
    if not (math.isfinite(credits) and credits >= 0):
        raise pytest.UsageError(
            f"pytest-smooth: {item.nodeid}: @pytest.mark.smooth_budget(*{mark.args!r},"
            f" **{mark.kwargs!r}) is not valid; expected smooth_budget(credits=N), N >= 0"
        )
    return float(credits)


def credits_of(item: pytest.Item) -> float:
    """Return the credits this attempt of ``item`` spent, over every session it used."""
    total = 0.0
    for tracked in item.stash.get(ITEM_SESSIONS, []):
        records = list(tracked.session.events)
        if tracked.shared:  # its own share of a module session (as reporting.own_records)
            start = item.stash.get(ITEM_EVENT_START, {}).get(tracked.id, 0)
            records = [r for r in records[start:] if r.test_nodeid == item.nodeid]
        total += sum(r.credits_used for r in records if r.test_nodeid != EVIDENCE_LABEL)
    return total


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_LINE)
    if is_controller(config):
        config.pluginmanager.register(CreditTally(config), TALLY_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    tally = config.pluginmanager.get_plugin(TALLY_NAME)
    if tally is not None:
        config.pluginmanager.unregister(tally, TALLY_NAME)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Check every ``smooth_budget`` marker before any test runs (a bad one is a usage error)."""
    for item in items:
        budget_of(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Fail a test whose call spent more than its ``smooth_budget``."""
    result = yield
    budget = budget_of(item)
    if budget is not None:
        spent = credits_of(item)
        if spent > budget:
            pytest.fail(
                f"smooth: this test spent {spent:g} credits, over its budget of {budget:g}"
                f" (@pytest.mark.smooth_budget(credits={budget:g}))",
                pytrace=False,
            )
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item,
    call: pytest.CallInfo[None],  # noqa: ARG001
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """After a test's teardown (its sessions released): its credits on the report and ledger."""
    report = yield
    if report.when == "teardown" and item.stash.get(ITEM_SESSIONS, []):
        credits = credits_of(item)
        setattr(report, REPORT_CREDITS, credits)
        if not any(name == REPORT_CREDITS for name, _ in report.user_properties):
            report.user_properties.append((REPORT_CREDITS, credits))
        if credits:
            get_ledger(item.config).spend(credits)
    return report


class CreditTally:
    """On the controller (or the only process): each test's credits, from its reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.by_test: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        credits = getattr(report, REPORT_CREDITS, None)
        if report.when == "teardown" and isinstance(credits, (int, float)):
            self.by_test[report.nodeid] = self.by_test.get(report.nodeid, 0.0) + credits

    def summary_lines(self) -> list[str]:
        """Return the summary: total, dollars, the costliest tests, the budget's state."""
        lines: list[str] = []
        total = sum(self.by_test.values())
        if self.by_test:
            lines.append(
                f"credits: {total:g} (${total * DOLLARS_PER_CREDIT:.2f}) over"
                f" {len(self.by_test)} test(s) that used a session"
            )
            costly = sorted(self.by_test.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
            lines.extend(f"  {credits:>8g}  {nodeid}" for nodeid, credits in costly if credits)
        return lines + self._budget_lines()

    def _budget_lines(self) -> list[str]:
        settings = get_settings(self.config)
        state = get_ledger(self.config).read()
        lines = []
        if state["out_of_credits"]:
            lines.append(
                f"smooth: the Smooth account ran out of credits: {state['out_of_credits']}"
            )
        if settings.max_credits is not None and (state["refused"] or self.over_budget(state)):
            lines.append(
                f"smooth: the run's budget of {settings.max_credits:g} credits"
                f" (--smooth-max-credits) is spent ({state['spent']:g} used);"
                f" {state['refused']} session(s) not opened"
            )
        return lines

    def over_budget(self, state: dict[str, Any]) -> bool:
        limit = get_settings(self.config).max_credits
        return limit is not None and (bool(state["refused"]) or state["spent"] > limit)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        lines = self.summary_lines()
        if lines:
            terminalreporter.write_sep("=", "smooth credits")
            for line in lines:
                terminalreporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Fail the run (exit status 1) when it hit its credit budget or ran out of credits."""
        state = get_ledger(self.config).read()
        failed = self.over_budget(state) or bool(state["out_of_credits"])
        if failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
