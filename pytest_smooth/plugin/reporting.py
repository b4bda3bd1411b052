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

from pytest_smooth._core.models import ActionRecord
from pytest_smooth._core.redact import Redactor
from pytest_smooth.plugin.artifacts import event_dicts
from pytest_smooth.plugin.artifacts import events_table
from pytest_smooth.plugin.artifacts import write_json
from pytest_smooth.plugin.attempts import EARLIER_PROPERTY
from pytest_smooth.plugin.attempts import ITEM_EVENT_START
from pytest_smooth.plugin.attempts import ITEM_FILES
from pytest_smooth.plugin.attempts import attempt
from pytest_smooth.plugin.attempts import attempt_folder
from pytest_smooth.plugin.attempts import earlier_attempts
from pytest_smooth.plugin.attempts import note_files
from pytest_smooth.plugin.attempts import relative
from pytest_smooth.plugin.failure_page import EVIDENCE_LABEL
from pytest_smooth.plugin.lifecycle import ITEM_FAILED
from pytest_smooth.plugin.lifecycle import ITEM_SESSIONS
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.plugin.opening import attach_announcements
from pytest_smooth.plugin.opening import release_after_test
from pytest_smooth.plugin.redaction import get_registry
from pytest_smooth.plugin.redaction import scrub_report
from pytest_smooth.plugin.report_extras import REPORT_JUNIT_OUT
from pytest_smooth.plugin.report_extras import html_extras
from pytest_smooth.plugin.report_extras import junit_text
from pytest_smooth.plugin.report_files import Gathered
from pytest_smooth.plugin.report_files import local_files
from pytest_smooth.plugin.report_files import page_state
from pytest_smooth.plugin.report_recordings import report_after_close

SECTION: Final = "smooth"
# This attempt's section texts, for the JUnit system-out of its teardown report.
ITEM_TEXTS: Final = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
    call: pytest.CallInfo[None],  # noqa: ARG001
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    try:
        _gather(item, report)
        tracked = item.stash.get(ITEM_SESSIONS, [])
        scrub_report(report, get_registry(item.config).scrubber(tracked))
    finally:
        if report.when == "teardown":
            # After the last test: the end-of-run steps that its evidence had to wait for
            # (close the sessions, the client, stop the local backend). Usually a no-op.
            get_tracker(item.config).run_deferred()
    return report


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


def own_records(item: pytest.Item, tracked: Tracked) -> list[ActionRecord]:
    """Return this attempt's events: all of its own session, or its share of a shared one."""
    records: list[ActionRecord] = list(tracked.session.events)
    if tracked.shared:
        start = item.stash.get(ITEM_EVENT_START, {}).get(tracked.id, 0)
        records = [r for r in records[start:] if r.test_nodeid == item.nodeid]
    return [r for r in records if r.test_nodeid != EVIDENCE_LABEL]


def _links(item: pytest.Item, tracked: Tracked) -> dict[str, str]:
    """Return the URLs the link policy allows; on the local backend, never the recording URL.

    The local backend's recording URL dies with the run: reports link ``recording.html``.
    """
    settings = get_settings(item.config)
    policy = settings.report_links
    links: dict[str, str] = {}
    recording = getattr(tracked.session, "recording_url", None)
    live = getattr(tracked.session, "live_url", None)
    if policy in ("recording", "live") and recording and settings.backend != "local":
        links["recording"] = str(recording)
    if policy == "live" and live:
        links["live"] = str(live)
    return links


def _session_evidence(
    item: pytest.Item, t: Tracked, index: int, folder: Path, redactor: Redactor
) -> tuple[Gathered, dict[str, Any], list[tuple[str, object]], tuple[str, str, str]]:
    records = own_records(item, t)  # before the page is read: that action is not the test's
    links = _links(item, t)
    credits = sum(r.credits_used for r in records)
    status = getattr(t.session, "status", "unknown")
    out = Gathered([f"session {t.id} ({t.fixture}) status={status} credits={credits:g}"])
    out.lines.extend(f"  {name}: {url}" for name, url in links.items())
    if t.shared:
        total = len([r for r in t.session.events if r.test_nodeid != EVIDENCE_LABEL])
        out.lines.append(
            f"  shared module session: showing this test's {len(records)} of {total} events"
        )
    open_now = get_tracker(item.config).is_open(t.id)
    if open_now:
        out.extend(page_state(t, folder, index, redactor))
    if get_settings(item.config).backend == "local":
        if open_now:
            out.extend(local_files(item, t, folder, index, redactor, failed=True))
        else:
            out.warnings.append(f"no screenshot or trace of session {t.id}: it is already closed")
    table = events_table(records, redactor.redact) if records else ["  (no events)"]
    out.lines.extend("  " + row for row in table)
    data = {
        "session_id": t.id,
        "fixture": t.fixture,
        "status": str(status),
        "shared": t.shared,
        "links": links,
        "credits": credits,
        "events": event_dicts(records, redactor.redact),
    }
    props: list[tuple[str, object]] = [("smooth_session_id", t.id)]
    props += [(f"smooth_{name}_url", url) for name, url in links.items()]
    props += [("smooth_credits", credits), ("smooth_actions", len(records))]
    extra = (t.id, "\n".join(f"{k}: {v}" for k, v in links.items()), "\n".join(table))
    return out, data, props, extra


def _report_failure(
    item: pytest.Item, report: pytest.TestReport, tracked: list[Tracked], *, first: bool
) -> None:
    redactor = get_registry(item.config).scrubber(tracked)
    folder = attempt_folder(item)
    gathered = Gathered()
    sessions_json: list[dict[str, Any]] = []
    properties: list[tuple[str, object]] = []
    extras: list[tuple[str, str, str]] = []  # (session id, links, event table)
    for index, t in enumerate(tracked):
        out, data, props, extra = _session_evidence(item, t, index, folder, redactor)
        gathered.extend(out)
        sessions_json.append(data)
        properties += props
        extras.append(extra)
    payload = {
        "test": item.nodeid,
        "phase": report.when,
        "attempt": attempt(item),
        "sessions": sessions_json,
    }
    _write_events(folder, payload, redactor, gathered)
    note_files(item, gathered.files)
    _artifacts_line(item, folder, gathered)
    add_section(item, report, gathered.lines)
    if first:
        # junitxml reads properties from the teardown report, which copies the item's.
        item.user_properties.extend(properties)
        report.user_properties.extend(properties)
    html_extras(item.config, report, extras if first else (), gathered.files)


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
    for index, t in enumerate(tracked):
        if local and tracker.is_open(t.id):
            gathered.extend(local_files(item, t, folder, index, redactor, failed=rerun))
    if not (gathered.files or rerun):
        return
    for t in tracked if rerun else ():
        records = own_records(item, t)
        gathered.lines.append(f"session {t.id} ({t.fixture})")
        table = events_table(records, redactor.redact) if records else ["  (no events)"]
        gathered.lines.extend("  " + row for row in table)
    data = [
        {"session_id": t.id, "events": event_dicts(own_records(item, t), redactor.redact)}
        for t in tracked
    ]
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
