"""The fidelity summary: which tests used something the local backend only approximated.

Where the test runs (an xdist worker or the only process), its teardown report carries what
its sessions' actions were told they only approximated (``ActionRecord.approximations``) as a
JSON-ready report attribute, which xdist sends to the controller as it does for
``report.json``'s data (``report_data.py``). Where reports are logged, the terminal summary
reads them back: one line per test, action and approximation, so a suite's author knows what
only the cloud will judge. The texts were redacted by the sessions before they got here.
"""

from __future__ import annotations

from collections.abc import Generator
from collections.abc import Iterable
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.lifecycle import ITEM_SESSIONS
from pytest_smooth.plugin.session_record import own_records

REPORT_FIDELITY: Final = "smooth_fidelity"  # [{"action", "what", "detail"}], teardown reports
TITLE: Final = "smooth fidelity"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On an attempt's teardown report: what its actions only approximated, if anything."""
    del call
    report = yield
    if report.when == "teardown":
        try:
            found = approximations_of(item)
        except Exception:  # the summary is a courtesy; never the reason a report breaks
            found = []
        if found:
            setattr(report, REPORT_FIDELITY, found)
    return report


def approximations_of(item: pytest.Item) -> list[dict[str, str]]:
    """Return each distinct ``(action, what, detail)`` this attempt's sessions were told of."""
    found: list[dict[str, str]] = []
    for tracked in item.stash.get(ITEM_SESSIONS, []):
        for record in own_records(item, tracked):
            for entry in record.approximations:
                line = {"action": record.action, **entry}
                if line not in found:
                    found.append(line)
    return found


def summary_lines(reports: Iterable[Any]) -> list[str]:
    """Return ``nodeid: action: what (detail)`` once each, in the order the tests ran."""
    lines: list[str] = []
    for report in reports:
        entries = getattr(report, REPORT_FIDELITY, None)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("what"):
                continue
            detail = f" ({entry['detail']})" if entry.get("detail") else ""
            line = f"{report.nodeid}: {entry.get('action', '?')}: {entry['what']}{detail}"
            if line not in lines:
                lines.append(line)
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which tests depend on what the local backend only approximates (the controller)."""
    if hasattr(terminalreporter.config, "workerinput"):
        return
    reports = [r for reports in terminalreporter.stats.values() for r in reports]
    lines = summary_lines(r for r in reports if getattr(r, "when", None) == "teardown")
    if not lines:
        return
    tests = len({line.split(": ", 1)[0] for line in lines})
    terminalreporter.write_sep("=", TITLE)
    terminalreporter.write_line(
        f"{tests} test(s) used what the local backend only approximates; the cloud may answer"
        " otherwise:"
    )
    for line in lines:
        terminalreporter.write_line(f"  {line}")
