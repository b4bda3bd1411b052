"""One record per session of a test's attempt, from which every report channel is rendered.

The ``smooth`` section text, the JUnit properties, the pytest-html extras, ``events.json`` and
the run report (``report.json``) all read the same :class:`SessionRecord`; nothing is written
as text and parsed back. Its strings are redacted when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.models import ActionRecord
from pytest_smooth._core.redact import Redactor
from pytest_smooth.plugin.artifacts import event_dicts
from pytest_smooth.plugin.artifacts import events_table
from pytest_smooth.plugin.attempts import ITEM_EVENT_START
from pytest_smooth.plugin.attempts import attempt
from pytest_smooth.plugin.failure_page import EVIDENCE_LABEL
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings

# The records of each attempt (by its number), by session id.
ITEM_RECORDS: Final = pytest.StashKey[dict[int, dict[str, "SessionRecord"]]]()


@dataclass
class SessionRecord:
    """What the reports say about one session of one attempt (redacted)."""

    id: str
    fixture: str
    status: str
    shared: bool = False
    links: dict[str, str] = field(default_factory=dict)  # name ("recording", "live") -> URL
    credits: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)  # this attempt's, as JSON
    table: list[str] = field(default_factory=list)  # the same events as aligned text rows
    total_events: int = 0  # of a shared session: every test's
    files: list[Path] = field(default_factory=list)

    def head_lines(self) -> list[str]:
        """Return the section's first lines: id, fixture, status, credits, links."""
        lines = [
            f"session {self.id} ({self.fixture}) status={self.status} credits={self.credits:g}"
        ]
        lines += [f"  {name}: {url}" for name, url in self.links.items()]
        if self.shared:
            lines.append(
                f"  shared module session: showing this test's {len(self.events)}"
                f" of {self.total_events} events"
            )
        return lines

    def table_lines(self) -> list[str]:
        return ["  " + row for row in self.table] if self.table else ["  (no events)"]

    def properties(self) -> list[tuple[str, object]]:
        """Return the JUnit properties of a failure: id, links, credits, action count."""
        props: list[tuple[str, object]] = [("smooth_session_id", self.id)]
        props += [(f"smooth_{name}_url", url) for name, url in self.links.items()]
        props += [("smooth_credits", self.credits), ("smooth_actions", len(self.events))]
        return props

    def as_events_json(self) -> dict[str, Any]:
        """Return this session's entry of ``events.json``."""
        return {
            "session_id": self.id,
            "fixture": self.fixture,
            "status": self.status,
            "shared": self.shared,
            "links": dict(self.links),
            "credits": self.credits,
            "events": self.events,
        }

    def summary(self, output: Path) -> dict[str, Any]:
        """Return this session's entry of the run report (files relative to ``output``)."""
        return {
            "id": self.id,
            "fixture": self.fixture,
            "status": self.status,
            "links": dict(self.links),
            "credits": self.credits,
            "actions": len(self.events),
            "artifacts": [relative_to_output(path, output) for path in self.files],
        }


def relative_to_output(path: Path, output: Path) -> str:
    """Return ``path`` as a POSIX path relative to the output folder when inside it."""
    try:
        return path.resolve().relative_to(output.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def own_records(item: pytest.Item, tracked: Tracked) -> list[ActionRecord]:
    """Return this attempt's events: all of its own session, or its share of a shared one."""
    records = tracked.session.events
    if tracked.shared:
        start = item.stash.get(ITEM_EVENT_START, {}).get(tracked.id, 0)
        records = [r for r in records[start:] if r.test_nodeid == item.nodeid]
    return [r for r in records if r.test_nodeid != EVIDENCE_LABEL]


def allowed_links(item: pytest.Item, tracked: Tracked) -> dict[str, str]:
    """Return the URLs the link policy allows; on the local backend, never the recording URL.

    The local backend's recording URL dies with the run: reports link ``recording.html``.
    """
    settings = get_settings(item.config)
    policy = settings.report_links
    links: dict[str, str] = {}
    recording, live = tracked.session.recording_url, tracked.session.live_url
    if policy in ("recording", "live") and recording and settings.backend != "local":
        links["recording"] = recording
    if policy == "live" and live:
        links["live"] = live
    return links


def build_record(item: pytest.Item, tracked: Tracked, redactor: Redactor) -> SessionRecord:
    """Read one session's state and this attempt's events into a new record (redacted)."""
    records = own_records(item, tracked)
    all_events = [r for r in tracked.session.events if r.test_nodeid != EVIDENCE_LABEL]
    record = SessionRecord(
        id=tracked.id,
        fixture=tracked.fixture,
        status=tracked.session.status,
        shared=tracked.shared,
        links=allowed_links(item, tracked),
        credits=sum(r.credits_used for r in records),
        events=event_dicts(records, redactor.redact),
        table=events_table(records, redactor.redact) if records else [],
        total_events=len(all_events),
    )
    attempt_records(item)[tracked.id] = record
    return record


def attempt_records(item: pytest.Item) -> dict[str, SessionRecord]:
    """Return the records of the attempt now running, by session id."""
    return item.stash.setdefault(ITEM_RECORDS, {}).setdefault(attempt(item), {})


def record_of(item: pytest.Item, tracked: Tracked, redactor: Redactor) -> SessionRecord:
    """Return this attempt's record of ``tracked``, built now if no failure built it."""
    known = attempt_records(item).get(tracked.id)
    return known if known is not None else build_record(item, tracked, redactor)
