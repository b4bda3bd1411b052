"""After a test's sessions closed: their recordings, as a file or as a link.

On the local backend the recording is saved as ``recording.html`` in the attempt's folder
(``--smooth-recording``), and the reports link that file by a relative path: the backend's own
URL dies with the run. On the cloud the recording URL is linked when the link policy allows it.
The recording exists only once a session has ended, so it comes with the teardown report
(junitxml reads properties from that one too).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_smooth.plugin.attempts import attempt_folder
from pytest_smooth.plugin.attempts import earlier_attempts
from pytest_smooth.plugin.attempts import note_files
from pytest_smooth.plugin.attempts import relative
from pytest_smooth.plugin.lifecycle import ITEM_FAILED
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.plugin.redaction import get_registry
from pytest_smooth.plugin.report_extras import html_extras
from pytest_smooth.plugin.report_files import Gathered
from pytest_smooth.plugin.report_files import recording_file
from pytest_smooth.plugin.session_record import SessionRecord
from pytest_smooth.plugin.session_record import record_of

AddSection = Callable[[pytest.Item, pytest.TestReport, list[str]], None]


def report_after_close(
    item: pytest.Item, report: pytest.TestReport, tracked: list[Tracked], add: AddSection
) -> None:
    # A test that passes on a rerun failed before: it keeps what a failing one keeps.
    failed = item.stash.get(ITEM_FAILED, False) or bool(earlier_attempts(item))
    if get_settings(item.config).backend == "local":
        if get_settings(item.config).keeps("recording", failed=failed):
            _local_recordings(item, report, tracked, add)
    elif failed:
        _cloud_recordings(item, report, tracked, add)


def _local_recordings(
    item: pytest.Item, report: pytest.TestReport, tracked: list[Tracked], add: AddSection
) -> None:
    tracker = get_tracker(item.config)
    redactor = get_registry(item.config).scrubber(tracked)
    folder = attempt_folder(item)
    gathered = Gathered()
    for index, t in enumerate(tracked):
        if tracker.is_open(t.id):  # shared or kept open: no recording yet
            gathered.lines.append(f"session {t.id}: still open, no recording.html yet")
            continue
        got = recording_file(item, t, folder, index, redactor)
        gathered.extend(got)
        for path in got.files:
            where = relative(item.config, path)
            gathered.lines.append(f"session {t.id} recording: {where}")
            record_of(item, t, redactor).files.append(path)
            report.user_properties.append(("smooth_recording", where))
            item.user_properties.append(("smooth_recording", where))
    note_files(item, gathered.files)
    add(item, report, gathered.lines + [f"warning: {w}" for w in gathered.warnings])
    html_extras(item.config, report, (), gathered.files)


def _cloud_recordings(
    item: pytest.Item, report: pytest.TestReport, tracked: list[Tracked], add: AddSection
) -> None:
    settings = get_settings(item.config)
    tracker = get_tracker(item.config)
    client = tracker.service_client()
    if settings.report_links == "none" or client is None:
        return
    lines: list[str] = []
    linked: list[SessionRecord] = []
    redactor = get_registry(item.config).scrubber(tracked)
    for t in tracked:
        if tracker.is_open(t.id):  # shared or kept open: no recording yet
            lines.append(f"session {t.id}: still open, its recording comes when it closes")
            continue
        try:
            # The session learns its recording URL from its last poll; ask only when it did not.
            url = t.session.recording_url or client.get_task(t.id).recording_url
        except Exception as err:
            lines.append(
                f"warning: no recording URL of session {t.id}: {type(err).__name__}: {err}"
            )
            continue
        if url and ("smooth_recording_url", url) not in item.user_properties:
            lines.append(f"session {t.id} recording: {url}")
            report.user_properties.append(("smooth_recording_url", url))
            item.user_properties.append(("smooth_recording_url", url))
            record_of(item, t, redactor).links["recording"] = url
            linked.append(
                SessionRecord(t.id, t.fixture, t.session.status, links={"recording": url})
            )
    add(item, report, lines)
    html_extras(item.config, report, linked)
