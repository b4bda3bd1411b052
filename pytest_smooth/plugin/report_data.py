"""What each test report carries for the run's reports (report.json, GitHub), as attributes.

Set where the test runs (an xdist worker or the only process) and read where reports are
logged (the controller): pytest serializes a report's JSON-ready attributes for xdist, as it
does for ``user_properties``. A failed phase's report carries where it failed and the first
line of the failure; an attempt's teardown report carries its sessions and files. Every text
is redacted here, before it leaves the process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.redact import Redactor
from pytest_smooth.plugin.attempts import ITEM_FILES
from pytest_smooth.plugin.attempts import attempt
from pytest_smooth.plugin.lifecycle import ITEM_SESSIONS
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.session_record import record_of
from pytest_smooth.plugin.session_record import relative_to_output

REPORT_FAILURE: Final = "smooth_failure"  # {"path": absolute, "line": 1-based, "message": str}
REPORT_ATTEMPT: Final = "smooth_attempt_data"  # {"attempt", "sessions", "artifacts"}
MESSAGE_WIDTH: Final = 300


def note_failure(
    item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None], redactor: Redactor
) -> None:
    """On a failed phase: the test file's line it failed at, and its first line (redacted)."""
    if not report.failed:
        return
    path, line = _test_line(item, call)
    message = ""
    if call.excinfo is not None:
        message = next((ln for ln in call.excinfo.exconly().splitlines() if ln.strip()), "")
    message = redactor.redact(message.strip())[:MESSAGE_WIDTH]
    setattr(report, REPORT_FAILURE, {"path": path, "line": line, "message": message})


def _test_line(item: pytest.Item, call: pytest.CallInfo[None]) -> tuple[str, int]:
    """Return the last traceback line inside the test's file, else the test's own line."""
    file, lineno, _ = item.location  # lineno is 0-based; file relative to rootdir
    path = str(item.path)
    if call.excinfo is not None:
        for entry in reversed(call.excinfo.traceback):
            if Path(entry.path) == item.path:
                return path, entry.lineno + 1
    if not file.endswith(".py"):  # e.g. a doctest of a text file
        return str(item.config.rootpath / file), (lineno or 0) + 1
    return path, (lineno or 0) + 1


def note_attempt(item: pytest.Item, report: pytest.TestReport, redactor: Redactor) -> None:
    """On an attempt's teardown report: its number, sessions and files (for report.json)."""
    output = get_settings(item.config).output
    tracked = item.stash.get(ITEM_SESSIONS, [])
    data: dict[str, Any] = {
        "attempt": attempt(item),
        "sessions": [record_of(item, t, redactor).summary(output) for t in tracked],
        "artifacts": [relative_to_output(p, output) for p in item.stash.get(ITEM_FILES, [])],
    }
    setattr(report, REPORT_ATTEMPT, data)
