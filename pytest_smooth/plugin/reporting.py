"""Failure reports, captured at the moment a phase (setup, call or teardown) fails.

For every session the test used: a ``smooth`` report section (session id, status, links the
link policy allows, the page at the failure, the event log), JUnit ``user_properties`` and
``system-out``, pytest-html extras when pytest-html is present, and files under this attempt's
folder (``attempts.attempt_folder``). Every text and file goes through the run's redactor.
Anything that goes wrong while gathering evidence becomes a warning line in the section, never
an INTERNALERROR.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.redact import Redactor
from pytest_smooth.plugin.allure_report import attach_attempt
from pytest_smooth.plugin.artifacts import write_json
from pytest_smooth.plugin.attempts import EARLIER_PROPERTY
from pytest_smooth.plugin.attempts import ITEM_FILES
from pytest_smooth.plugin.attempts import attempt
from pytest_smooth.plugin.attempts import attempt_folder
from pytest_smooth.plugin.attempts import earlier_attempts
from pytest_smooth.plugin.attempts import note_files
from pytest_smooth.plugin.attempts import relative
from pytest_smooth.plugin.lifecycle import ITEM_FAILED
from pytest_smooth.plugin.lifecycle import ITEM_SESSIONS
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.plugin.opening import attach_announcements
from pytest_smooth.plugin.opening import release_after_test
from pytest_smooth.plugin.redaction import get_registry
from pytest_smooth.plugin.redaction import scrub_report
from pytest_smooth.plugin.report_data import note_attempt
from pytest_smooth.plugin.report_data import note_failure
from pytest_smooth.plugin.report_extras import REPORT_JUNIT_OUT
from pytest_smooth.plugin.report_extras import html_extras
from pytest_smooth.plugin.report_extras import junit_text
from pytest_smooth.plugin.report_files import Gathered
from pytest_smooth.plugin.report_files import local_files
from pytest_smooth.plugin.report_files import page_state
from pytest_smooth.plugin.report_recordings import report_after_close
from pytest_smooth.plugin.run_collector import RunCollector
from pytest_smooth.plugin.session_record import SessionRecord
from pytest_smooth.plugin.session_record import build_record
from pytest_smooth.plugin.session_record import record_of

SECTION: Final = "smooth"
# This attempt's section texts, for the JUnit system-out of its teardown report.
ITEM_TEXTS: Final = pytest.StashKey[list[str]]()


COLLECTOR_NAME: Final = "smooth-run-report"


def pytest_configure(config: pytest.Config) -> None:
    """Gather the run's reports where they are logged (not on xdist workers)."""
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(RunCollector(config), COLLECTOR_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.pluginmanager.get_plugin(COLLECTOR_NAME)
    if collector is not None:
        config.pluginmanager.unregister(collector, COLLECTOR_NAME)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    try:
        _gather(item, report)
        _carry(item, report, call)
        tracked = item.stash.get(ITEM_SESSIONS, [])
        scrub_report(report, get_registry(item.config).scrubber(tracked))
    finally:
        if report.when == "teardown":
            # After the last test: the end-of-run steps that its evidence had to wait for
            # (close the sessions, the client, stop the local backend). Usually a no-op.
            get_tracker(item.config).run_deferred()
    return report


def _carry(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
    """Note what the run's reports need (report.json, GitHub, Allure); never raises."""
    tracked = item.stash.get(ITEM_SESSIONS, [])
    redactor = get_registry(item.config).scrubber(tracked)
    try:
        note_failure(item, report, call, redactor)
        if report.when == "teardown":
            note_attempt(item, report, redactor)
            if item.stash.get(ITEM_FAILED, False):
                records = [record_of(item, t, redactor) for t in tracked]
                files = item.stash.get(ITEM_FILES, [])
                attach_attempt(item.config, files, records, attempt(item))
    except Exception as err:
        add_section(item, report, [f"warning: could not note the run's report: {_describe(err)}"])


def _failed(report: pytest.TestReport) -> bool:
    """Tell whether this phase failed, expected failures (xfail) included: keep their evidence."""
    return report.failed or (report.skipped and hasattr(report, "wasxfail"))


def _gather(item: pytest.Item, report: pytest.TestReport) -> None:
    attach_announcements(item, report)
    tracked = item.stash.get(ITEM_SESSIONS, [])
    first = False
    if _failed(report):
        first = not item.stash.get(ITEM_FAILED, False)
        item.stash[ITEM_FAILED] = True
    try:
        if _failed(report) and tracked:
            _report_failure(item, report, tracked, first=first)
        if report.when == "teardown":
            if tracked and not item.stash.get(ITEM_FAILED, False):
                _report_passed(item, report, tracked)
            release_after_test(item)
            if tracked:
                report_after_close(item, report, tracked, add_section)
            _report_attempts(item, report)
    except Exception as err:  # evidence is best effort; the test's own outcome stands
        add_section(item, report, [f"warning: could not gather Smooth evidence: {_describe(err)}"])
    finally:
        if report.when == "teardown":
            release_after_test(item)  # a no-op when done above; never leave sessions behind
            _finish_junit(item, report)


def add_section(item: pytest.Item, report: pytest.TestReport, lines: list[str]) -> None:
    """Add lines to this report's ``smooth`` section (redacted), creating it if needed."""
    if not lines:
        return
    tracked: list[Tracked] = item.stash.get(ITEM_SESSIONS, [])
    redactor = get_registry(item.config).scrubber(tracked)
    text = redactor.redact("\n".join(lines))
    item.stash.setdefault(ITEM_TEXTS, []).append(text)
    if report.sections and report.sections[-1][0] == SECTION:  # this phase failed too
        text = report.sections.pop()[1] + "\n" + text
    report.sections.append((SECTION, text))


def _finish_junit(item: pytest.Item, report: pytest.TestReport) -> None:
    texts = item.stash.get(ITEM_TEXTS, [])
    files = item.stash.get(ITEM_FILES, [])
    if texts or files:
        setattr(report, REPORT_JUNIT_OUT, junit_text(item.config, texts, files))
    item.stash[ITEM_TEXTS] = []


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _session_evidence(
    item: pytest.Item, t: Tracked, index: int, folder: Path, redactor: Redactor
) -> tuple[SessionRecord, Gathered]:
    """Record one session at a failure, and save its page and (local backend) files."""
    record = build_record(item, t, redactor)  # before the page is read: not the test's action
    out = Gathered()
    open_now = get_tracker(item.config).is_open(t.id)
    if open_now:
        out.extend(page_state(t, folder, index, redactor))
    if get_settings(item.config).backend == "local":
        if open_now:
            out.extend(local_files(item, t, folder, index, redactor, failed=True))
        else:
            out.warnings.append(f"no screenshot or trace of session {t.id}: it is already closed")
    record.files += out.files
    out.lines = record.head_lines() + out.lines + record.table_lines()
    return record, out


def _report_failure(
    item: pytest.Item, report: pytest.TestReport, tracked: list[Tracked], *, first: bool
) -> None:
    redactor = get_registry(item.config).scrubber(tracked)
    folder = attempt_folder(item)
    gathered = Gathered()
    records: list[SessionRecord] = []
    for index, t in enumerate(tracked):
        record, out = _session_evidence(item, t, index, folder, redactor)
        records.append(record)
        gathered.extend(out)
    payload = {
        "test": item.nodeid,
        "phase": report.when,
        "attempt": attempt(item),
        "sessions": [record.as_events_json() for record in records],
    }
    _write_events(folder, payload, redactor, gathered)
    note_files(item, gathered.files)
    _artifacts_line(item, folder, gathered)
    add_section(item, report, gathered.lines)
    if first:
        # junitxml reads properties from the teardown report, which copies the item's.
        properties = [prop for record in records for prop in record.properties()]
        item.user_properties.extend(properties)
        report.user_properties.extend(properties)
    html_extras(item.config, report, records if first else (), gathered.files)


def _write_events(
    folder: Path, payload: dict[str, Any], redactor: Redactor, gathered: Gathered
) -> None:
    try:
        gathered.files.insert(0, write_json(folder / "events.json", redactor.redact_value(payload)))
    except OSError as err:
        gathered.warnings.append(f"could not write events.json: {_describe(err)}")


def _artifacts_line(item: pytest.Item, folder: Path, gathered: Gathered) -> None:
    if gathered.files:
        names = ", ".join(sorted({f.name for f in gathered.files}, key=_file_order))
        gathered.lines.append(f"artifacts: {relative(item.config, folder)} ({names})")
    gathered.lines.extend(f"warning: {w}" for w in gathered.warnings)


def _file_order(name: str) -> tuple[int, str]:
    return (0 if name == "events.json" else 1, name)


def _report_passed(item: pytest.Item, report: pytest.TestReport, tracked: list[Tracked]) -> None:
    """Save a passing attempt's files: under the ``on`` modes, or all after failed attempts.

    A test that passes on a rerun failed before: its passing attempt keeps what a failing
    one keeps (``retain-on-failure``), so the attempts can be compared.
    """
    tracker = get_tracker(item.config)
    rerun = bool(earlier_attempts(item))
    local = get_settings(item.config).backend == "local"
    if not (local or rerun):
        return
    redactor = get_registry(item.config).scrubber(tracked)
    folder = attempt_folder(item)
    gathered = Gathered()
    records = [build_record(item, t, redactor) for t in tracked]
    for index, (t, record) in enumerate(zip(tracked, records, strict=True)):
        if local and tracker.is_open(t.id):
            files = local_files(item, t, folder, index, redactor, failed=rerun)
            record.files += files.files
            gathered.extend(files)
    if not (gathered.files or rerun):
        return
    for record in records if rerun else ():
        gathered.lines.append(f"session {record.id} ({record.fixture})")
        gathered.lines.extend(record.table_lines())
    data = [{"session_id": record.id, "events": record.events} for record in records]
    payload = {"test": item.nodeid, "phase": "passed", "attempt": attempt(item), "sessions": data}
    _write_events(folder, payload, redactor, gathered)
    note_files(item, gathered.files)
    _artifacts_line(item, folder, gathered)
    add_section(item, report, gathered.lines)
    html_extras(item.config, report, (), gathered.files)
    if rerun:
        props = [("smooth_session_id", t.id) for t in tracked]
        report.user_properties.extend(props)
        item.user_properties.extend(props)


def _report_attempts(item: pytest.Item, report: pytest.TestReport) -> None:
    """On a rerun: which attempt this was, and the earlier failed ones (folders, links)."""
    earlier = earlier_attempts(item)
    if not earlier:
        return
    number = attempt(item)
    outcome = "failed" if item.stash.get(ITEM_FAILED, False) else "passed"
    props: list[tuple[str, object]] = [("smooth_attempt", number)]
    props += [(EARLIER_PROPERTY, line) for line in earlier]
    report.user_properties.extend(props)
    item.user_properties.extend(props)
    add_section(item, report, [f"attempt {number} {outcome}; earlier:", *earlier])
