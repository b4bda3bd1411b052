"""The Smooth sessions of one pass-rate attempt: opened fresh, tracked, their evidence, closed.

pytest's fixture cache holds one value per test, so the per-attempt fixtures
(``smooth_session``, ``new_smooth_session``, ``async_smooth_session``) are opened here, once per
attempt, through the same admission as the fixtures (budget, the run's session cap, the reaper's
record) and the run's ``SessionTracker`` (so the end-of-run sweep closes what an attempt left).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import pytest

from pytest_smooth._core.redact import Redactor
from pytest_smooth.plugin.admission import open_admitted
from pytest_smooth.plugin.admission import open_admitted_async
from pytest_smooth.plugin.artifacts import slug
from pytest_smooth.plugin.artifacts import write_json
from pytest_smooth.plugin.lifecycle import CLOSE_TIMEOUT
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.plugin.opening import ITEM_ANNOUNCE
from pytest_smooth.plugin.opening import announce
from pytest_smooth.plugin.opening import write_lines
from pytest_smooth.plugin.redaction import get_registry
from pytest_smooth.plugin.report_files import Gathered
from pytest_smooth.plugin.report_files import local_files
from pytest_smooth.plugin.report_files import page_state
from pytest_smooth.plugin.report_files import recording_file
from pytest_smooth.plugin.session_options import SessionOptionError
from pytest_smooth.plugin.session_options import session_args
from pytest_smooth.plugin.session_record import SessionRecord
from pytest_smooth.plugin.session_record import allowed_links
from pytest_smooth.plugin.session_record import build_record

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import AsyncSmoothClient
    from pytest_smooth.client.sync_client import SmoothClient

# Attempts run in threads; the terminal is one, and capturing is switched off around a write.
_TERMINAL = threading.Lock()


@dataclass(eq=False)
class Attempt:
    """One attempt of a pass-rate test: its sessions, outcome, timing and evidence."""

    number: int
    folder: Path
    tracked: list[Tracked] = field(default_factory=list)
    outcome: str = "not started"  # passed, failed, skipped, cancelled
    error: str = ""  # the first line of its failure
    started: float = 0.0  # time.time(), for reports; the duration is from the monotonic clock
    ended: float = 0.0
    duration: float = 0.0
    records: list[SessionRecord] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def credits(self) -> float:
        return sum(record.credits for record in self.records)


def attempt_folder(item: pytest.Item, number: int) -> Path:
    """Return ``<output>/<slug>-attempt<N>/``, this attempt's own folder."""
    return get_settings(item.config).output / f"{slug(item.nodeid)}-attempt{number}"


class AttemptSessions:
    """Opens, records and closes the sessions of a pass-rate test's attempts."""

    def __init__(self, item: pytest.Item, base: Mapping[str, Any]) -> None:
        self.item = item
        self.config = item.config
        # The test's own request: what the fixtures' options, budget and hooks are read from.
        self.request: pytest.FixtureRequest = item._request  # type: ignore[attr-defined]
        self.base = dict(base)

    def _args(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        settings = get_settings(self.config)
        try:
            return session_args(self.request, settings, self.base, item=self.item, extra=extra)
        except SessionOptionError as err:
            pytest.fail(str(err), pytrace=False)

    def _say(self, line: str) -> None:
        if hasattr(self.config, "workerinput"):
            self.item.stash.setdefault(ITEM_ANNOUNCE, []).append(line)
        else:
            with _TERMINAL:
                write_lines(self.config, [line])

    def _track(self, attempt: Attempt, session: Any, fixture: str) -> None:
        tracked = Tracked(session=session, fixture=fixture, owner=self.item.nodeid)
        tracked.is_async = fixture.startswith("async")
        get_tracker(self.config).add(tracked)
        session.local_strict = get_settings(self.config).local_strict
        session.label = self.item.nodeid
        attempt.tracked.append(tracked)
        with _TERMINAL:
            announce(self.config, session, f"{self.item.nodeid} attempt {attempt.number}", None)
        self.config.hook.pytest_smooth_session_created(
            session=session, item=self.item, request=self.request
        )

    def open_sync(
        self,
        attempt: Attempt,
        client: SmoothClient,
        fixture: str,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """Open one sync session for ``attempt`` (closed by ``close_sync``)."""
        args = self._args(extra)
        nodeid = self.item.nodeid
        session = open_admitted(
            self.request, args, nodeid, lambda a: client.session(**a), self._say
        )
        self._track(attempt, session, fixture)
        return session

    async def open_async(self, attempt: Attempt, client: AsyncSmoothClient, fixture: str) -> Any:
        """Open one async session for ``attempt`` in the running loop."""
        args = self._args(None)
        nodeid = self.item.nodeid
        session = await open_admitted_async(
            self.request, args, nodeid, lambda a: client.session(**a), self._say
        )
        self._track(attempt, session, fixture)
        return session

    def _keep(self, attempt: Attempt) -> float:
        failed = attempt.outcome == "failed"
        return get_settings(self.config).keep_open_on_failure if failed else 0.0

    def close_sync(self, attempt: Attempt) -> None:
        """Close the attempt's sessions (a failed one's may be kept open for a person)."""
        tracker, keep = get_tracker(self.config), self._keep(attempt)
        for tracked in attempt.tracked:
            if keep > 0:
                tracker.keep_open(tracked, keep)
            elif not tracked.is_async:
                tracker.close(tracked)

    async def close_async(self, attempt: Attempt) -> None:
        """Close the attempt's async sessions in their loop, then any sync ones."""
        tracker, keep = get_tracker(self.config), self._keep(attempt)
        for tracked in attempt.tracked:
            if keep > 0 or not tracked.is_async or not tracker.is_open(tracked.id):
                continue
            try:
                await tracked.session.close(timeout=CLOSE_TIMEOUT)  # type: ignore[attr-defined]
            except Exception as err:
                tracker.failed_to_close(tracked, err)
            else:
                tracker.closed(tracked)
        self.close_sync(attempt)

    def redactor(self, tracked: list[Tracked]) -> Redactor:
        return get_registry(self.config).scrubber(tracked)

    def gather(self, attempt: Attempt) -> None:
        """Record the attempt's sessions and save its files (never raises)."""
        try:
            self._gather(attempt)
        except Exception as err:  # evidence is best effort; the attempt's outcome stands
            attempt.warnings.append(f"could not gather evidence: {type(err).__name__}: {err}")

    def _gather(self, attempt: Attempt) -> None:
        redactor = self.redactor(attempt.tracked)
        failed = attempt.outcome == "failed"
        local = get_settings(self.config).backend == "local"
        tracker = get_tracker(self.config)
        out = Gathered()
        for index, tracked in enumerate(attempt.tracked):
            record = build_record(self.item, tracked, redactor)
            attempt.records.append(record)
            if not tracker.is_open(tracked.id):
                continue
            got = page_state(tracked, attempt.folder, index, redactor) if failed else Gathered()
            if local:
                got.extend(
                    local_files(self.item, tracked, attempt.folder, index, redactor, failed=failed)
                )
            record.files += got.files
            out.extend(got)
        payload = {
            "test": self.item.nodeid,
            "attempt": attempt.number,
            "outcome": attempt.outcome,
            "error": attempt.error,
            "started": attempt.started,
            "ended": attempt.ended,
            "sessions": [record.as_events_json() for record in attempt.records],
        }
        try:
            out.files.insert(
                0, write_json(attempt.folder / "events.json", redactor.redact_value(payload))
            )
        except OSError as err:
            out.warnings.append(f"could not write events.json: {err}")
        attempt.files += out.files
        attempt.warnings += out.warnings

    def after_close(self, attempt: Attempt) -> None:
        """Save the closed sessions' recordings (local backend), refresh their links."""
        try:
            self._after_close(attempt)
        except Exception as err:  # evidence is best effort
            attempt.warnings.append(f"could not fetch recordings: {type(err).__name__}: {err}")

    def _after_close(self, attempt: Attempt) -> None:
        settings, tracker = get_settings(self.config), get_tracker(self.config)
        redactor = self.redactor(attempt.tracked)
        failed = attempt.outcome == "failed"
        local = settings.backend == "local" and settings.keeps("recording", failed=failed)
        for index, (tracked, record) in enumerate(
            zip(attempt.tracked, attempt.records, strict=False)
        ):
            # The recording URL may come only once the session ended.
            record.links = {
                k: redactor.redact(v) for k, v in allowed_links(self.item, tracked).items()
            }
            if local and not tracker.is_open(tracked.id):
                got = recording_file(self.item, tracked, attempt.folder, index, redactor)
                record.files += got.files
                attempt.files += got.files
                attempt.warnings += got.warnings


def stamp_start(attempt: Attempt) -> float:
    """Mark the attempt as running; return the monotonic start for its duration."""
    attempt.outcome = "running"
    attempt.started = time.time()
    return time.monotonic()


def stamp_end(attempt: Attempt, began: float, error: BaseException | None) -> None:
    """Set the attempt's outcome from how its test function ended."""
    attempt.ended = time.time()
    attempt.duration = time.monotonic() - began
    if error is None:
        attempt.outcome = "passed"
        return
    if isinstance(error, pytest.skip.Exception):
        attempt.outcome = "skipped"
    else:
        attempt.outcome = "failed"
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    attempt.error = f"{type(error).__name__}: {first}" if first else type(error).__name__
