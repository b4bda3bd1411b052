"""Failure reports, captured at the moment a phase (setup, call or teardown) fails.

For every session the test used: a ``smooth`` report section (session id, status, links the
link policy allows, the event log), JUnit ``user_properties``, pytest-html extras when
pytest-html is present, and files under ``<output>/<test slug>/``. Anything that goes wrong
while gathering evidence becomes a warning line in the section, never an INTERNALERROR.
"""

from __future__ import annotations

import html
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ._models import ActionRecord
from ._redact import Redactor
from .artifacts import event_dicts
from .artifacts import events_table
from .artifacts import fetch_local_artifacts
from .artifacts import slug
from .artifacts import write_json
from .lifecycle import ITEM_FAILED
from .lifecycle import ITEM_SESSIONS
from .lifecycle import Tracked
from .lifecycle import get_settings
from .lifecycle import get_tracker
from .opening import attach_announcements
from .opening import release_after_test
from .settings import SmoothSettings

SECTION = "smooth"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
    call: pytest.CallInfo[None],  # noqa: ARG001
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    try:
        _gather(item, report)
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
    if not tracked:
        if _failed(report):
            item.stash[ITEM_FAILED] = True
        return
    try:
        if _failed(report):
            first = not item.stash.get(ITEM_FAILED, False)
            item.stash[ITEM_FAILED] = True
            _report_failure(item, report, tracked, first=first)
        if report.when == "teardown":
            release_after_test(item)
            if item.stash.get(ITEM_FAILED, False):
                _report_recordings(item, report, tracked)
    except Exception as err:  # evidence is best effort; the test's own outcome stands
        report.sections.append(
            (SECTION, f"warning: could not gather Smooth evidence: {_describe(err)}")
        )
    finally:
        if report.when == "teardown":
            release_after_test(item)  # a no-op when done above; never leave sessions behind


def _report_recordings(
    item: pytest.Item, report: pytest.TestReport, tracked: list[Tracked]
) -> None:
    """After the failed test's sessions closed: their recording URLs, when the policy allows.

    The recording exists only once a session has ended, so it comes with the teardown report
    (junitxml reads properties from that one too).
    """
    settings = get_settings(item.config)
    tracker = get_tracker(item.config)
    client = tracker.service_client()
    if settings.report_links == "none" or client is None:
        return
    lines: list[str] = []
    links: list[tuple[str, str, str]] = []
    for t in tracked:
        if tracker.is_open(t.id):  # shared or kept open: no recording yet
            lines.append(f"session {t.id}: still open, its recording comes when it closes")
            continue
        try:
            # The session learns its recording URL from its last poll; ask only when it did not
            # (and before the local backend stops at the end of the run, if we can).
            url = getattr(t.session, "recording_url", None) or client.get_task(t.id).recording_url
        except Exception as err:
            lines.append(f"warning: no recording URL of session {t.id}: {_describe(err)}")
            continue
        if url and ("smooth_recording_url", url) not in item.user_properties:
            lines.append(f"session {t.id} recording: {url}")
            report.user_properties.append(("smooth_recording_url", url))
            links.append((t.id, f"recording: {url}", ""))
    if lines:
        text = "\n".join(lines)
        if report.sections and report.sections[-1][0] == SECTION:  # this phase failed too
            text = report.sections.pop()[1] + "\n" + text
        report.sections.append((SECTION, text))
    _html_extras(item.config, report, links)


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def own_records(tracked: Tracked, nodeid: str) -> list[ActionRecord]:
    """Return the test's events: all of its own session, or its share of a module one."""
    records: list[ActionRecord] = list(tracked.session.events)
    if tracked.shared:
        records = [r for r in records if r.test_nodeid == nodeid]
    return records


class _Scrubber:
    """Blank the API key and every secret the sessions' own redactors know (run_task secrets)."""

    def __init__(self, settings: SmoothSettings, tracked: list[Tracked]) -> None:
        self._redactors = [Redactor([settings.api_key] if settings.api_key else [])]
        for t in tracked:
            redactor = getattr(t.session, "redactor", None)
            if isinstance(redactor, Redactor):
                self._redactors.append(redactor)

    def redact(self, text: str) -> str:
        for redactor in self._redactors:
            text = redactor.redact(text)
        return text


def _links(tracked: Tracked, policy: str) -> dict[str, str]:
    links: dict[str, str] = {}
    recording = getattr(tracked.session, "recording_url", None)
    live = getattr(tracked.session, "live_url", None)
    if policy in ("recording", "live") and recording:
        links["recording"] = str(recording)
    if policy == "live" and live:
        links["live"] = str(live)
    return links


def _report_failure(
    item: pytest.Item, report: pytest.TestReport, tracked: list[Tracked], *, first: bool
) -> None:
    settings = get_settings(item.config)
    tracker = get_tracker(item.config)
    redactor = _Scrubber(settings, tracked)
    folder = settings.output / slug(item.nodeid)
    lines: list[str] = []
    warnings: list[str] = []
    files: list[Path] = []
    sessions_json: list[dict[str, Any]] = []
    properties: list[tuple[str, object]] = []
    extras: list[tuple[str, str, str]] = []  # (session id, links, event table)
    for index, t in enumerate(tracked):
        records = own_records(t, item.nodeid)
        total = len(list(t.session.events))
        links = _links(t, settings.report_links)
        credits = sum(r.credits_used for r in records)
        status = getattr(t.session, "status", "unknown")
        lines.append(f"session {t.id} ({t.fixture}) status={status} credits={credits:g}")
        lines.extend(f"  {name}: {url}" for name, url in links.items())
        if t.shared:
            lines.append(
                f"  shared module session: showing this test's {len(records)} of {total} events"
            )
        table = events_table(records, redactor.redact) if records else ["  (no events)"]
        lines.extend("  " + row for row in table)
        sessions_json.append(
            {
                "session_id": t.id,
                "fixture": t.fixture,
                "status": str(status),
                "shared": t.shared,
                "links": links,
                "credits": credits,
                "events": event_dicts(records, redactor.redact),
            }
        )
        properties += [("smooth_session_id", t.id)]
        if "recording" in links:
            properties.append(("smooth_recording_url", links["recording"]))
        if "live" in links:
            properties.append(("smooth_live_url", links["live"]))
        properties += [("smooth_credits", credits), ("smooth_actions", len(records))]
        extras.append((t.id, "\n".join(f"{k}: {v}" for k, v in links.items()), "\n".join(table)))
        if settings.backend == "local":
            if tracker.is_open(t.id) and (client := tracker.service_client()) is not None:
                got, warned = fetch_local_artifacts(client.artifact, t.id, folder, index)
                files += got
                warnings += warned
            else:
                warnings.append(f"no screenshot or trace of session {t.id}: it is already closed")
    payload = {"test": item.nodeid, "phase": report.when, "sessions": sessions_json}
    try:
        files.insert(0, write_json(folder / "events.json", payload))
    except OSError as err:
        warnings.append(f"could not write events.json: {_describe(err)}")
    if files:
        lines.append(f"artifacts: {folder} ({', '.join(f.name for f in files)})")
    lines.extend(f"warning: {redactor.redact(w)}" for w in warnings)
    report.sections.append((SECTION, redactor.redact("\n".join(lines))))
    if first:
        # junitxml reads properties from the teardown report, which copies the item's.
        item.user_properties.extend(properties)
        report.user_properties.extend(properties)
        _html_extras(item.config, report, extras)


def _html_extras(
    config: pytest.Config, report: pytest.TestReport, extras: list[tuple[str, str, str]]
) -> None:
    """Links and the event log as pytest-html extras; nothing when pytest-html is absent."""
    if config.pluginmanager.getplugin("html") is None:
        return
    from pytest_html import extras as html_extras

    found: list[Any] = list(getattr(report, "extras", []))
    for session_id, links, table in extras:
        for line in links.splitlines():
            name, _, url = line.partition(": ")
            found.append(html_extras.url(url, name=f"smooth {name} {session_id}"))
        if table:
            found.append(
                html_extras.html(f"<pre>smooth session {session_id}\n{html.escape(table)}</pre>")
            )
    report.extras = found  # type: ignore[attr-defined]  # pytest-html's attribute
