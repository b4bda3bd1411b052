"""Session tracking: every session the plugin opens is closed, and the run reports any it could not.

One ``SessionTracker`` per run (in ``config.stash``). Fixtures add sessions as they open them
and release them when done; a failed test's session may be kept open for a person for a while
(closed later by a background timer or at the end of the run, whichever is first). The run's end
closes whatever is still open, each close bounded, and records the ones that failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.exceptions import NotFoundError
from pytest_smooth._core.session_base import BaseSmoothSession
from pytest_smooth.client.sync_session import SmoothSession
from pytest_smooth.plugin.settings import SmoothSettings

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import SmoothClient

log = logging.getLogger("pytest_smooth.plugin.lifecycle")

# One close may take this long; the sweep at the end of the run stops after SWEEP_DEADLINE.
CLOSE_TIMEOUT: Final = 15.0
SWEEP_DEADLINE: Final = 60.0


@dataclass(eq=False)
class Tracked:
    """One session the plugin opened, and what the reports need to know about it."""

    session: BaseSmoothSession  # a SmoothSession or an AsyncSmoothSession
    fixture: str  # the fixture that opened it, e.g. "smooth_session"
    owner: str  # node id of the test (or module, for a shared session) that opened it
    shared: bool = False
    is_async: bool = False

    @property
    def id(self) -> str:
        return self.session.id


@dataclass
class LifecycleStats:
    """Counts and failures of one process, sent from xdist workers to the controller."""

    opened: int = 0
    closed: int = 0
    kept_open: int = 0
    unclosed: list[str] = field(default_factory=list)  # "session id: reason"

    def merge(self, data: dict[str, Any]) -> None:
        self.opened += int(data.get("opened", 0))
        self.closed += int(data.get("closed", 0))
        self.kept_open += int(data.get("kept_open", 0))
        self.unclosed.extend(str(line) for line in data.get("unclosed", []))

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "closed": self.closed,
            "kept_open": self.kept_open,
            "unclosed": list(self.unclosed),
        }


class SessionTracker:
    """Sessions of this process that are still open, and the means to close them."""

    def __init__(self, settings: SmoothSettings) -> None:
        self.settings = settings
        self.stats = LifecycleStats()
        self._lock = threading.Lock()
        self._open: dict[str, Tracked] = {}
        self._timers: dict[str, threading.Timer] = {}
        # Per session: steps once done with it (free its slot, strike it from the reaper's list).
        self._finishers: dict[str, list[Callable[[], object]]] = {}
        self._connection: tuple[str | None, str] | None = None
        self._service: SmoothClient | None = None
        # End-of-run steps of the session fixtures (close all, close the client, stop the
        # local backend), run in order after the last test's teardown report: its evidence
        # needs the sessions open and the backend up (run_deferred).
        self._deferred: list[Callable[[], object]] = []
        # Set on Ctrl-C: close by DELETE at once instead of waiting for a graceful close.
        self.interrupted = False

    # --- connection -------------------------------------------------------------------------

    def connect(self, api_key: str | None, base_url: str) -> None:
        """Remember where sessions live, for closing by id and fetching artifacts."""
        with self._lock:
            stale = self._service if self._connection != (api_key, base_url) else None
            if stale is not None:
                # A new backend (flaky reruns the run's last test with fresh session
                # fixtures): the old client would talk to a server that has stopped.
                self._service = None
            self._connection = (api_key, base_url)
        if stale is not None:
            stale.close()

    @property
    def connection(self) -> tuple[str | None, str] | None:
        """The API key and base URL that sessions were opened with, if any were."""
        return self._connection

    def service_client(self) -> SmoothClient | None:
        """Return a sync client of our own (evidence, close by id), made on first use."""
        with self._lock:
            if self._service is None and self._connection is not None:
                from pytest_smooth.client.sync_client import SmoothClient

                api_key, base_url = self._connection
                self._service = SmoothClient(api_key=api_key, base_url=base_url, max_retries=1)
            return self._service

    # --- tracking ---------------------------------------------------------------------------

    def add(self, tracked: Tracked) -> Tracked:
        with self._lock:
            self._open[tracked.id] = tracked
            self.stats.opened += 1
        return tracked

    def when_done(self, session_id: str, step: Callable[[], object]) -> None:
        """Run ``step`` once this session is closed, or its close failed and was recorded."""
        self._finishers.setdefault(session_id, []).append(step)  # the GIL keeps these whole

    def _done(self, session_id: str) -> None:
        for step in self._finishers.pop(session_id, []):
            step()  # the steps catch their own errors

    def is_open(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._open

    def open_sessions(self) -> list[Tracked]:
        with self._lock:
            return list(self._open.values())

    def _take(self, session_id: str) -> Tracked | None:
        with self._lock:
            timer = self._timers.pop(session_id, None)
            if timer is not None:
                timer.cancel()
            return self._open.pop(session_id, None)

    def closed(self, tracked: Tracked) -> None:
        """Record that the owner closed ``tracked`` itself (the async fixture, in its loop)."""
        if self._take(tracked.id) is not None:
            with self._lock:
                self.stats.closed += 1
            self._done(tracked.id)

    def failed_to_close(self, tracked: Tracked, error: BaseException) -> None:
        """Handle a failed close by the owner: try once more by id, then record it."""
        if self._take(tracked.id) is not None:
            self._close_by_id(tracked, first_error=error)
            self._done(tracked.id)

    def close(self, tracked: Tracked) -> None:
        """Close a sync session now (bounded); a failure is recorded, never raised."""
        taken = self._take(tracked.id)
        if taken is None:
            return
        try:
            self._close_taken(taken)
        finally:
            self._done(taken.id)

    def _close_taken(self, taken: Tracked) -> None:
        session = taken.session
        if not isinstance(session, SmoothSession):  # async: it closes in its own event loop
            self._close_by_id(taken)
            return
        try:
            session.close(force=self.interrupted, timeout=CLOSE_TIMEOUT)
        except Exception as err:
            self._close_by_id(taken, first_error=err)
            return
        with self._lock:
            self.stats.closed += 1

    def keep_open(self, tracked: Tracked, seconds: float) -> None:
        """Leave ``tracked`` open for ``seconds``; a daemon timer closes it then."""
        timer = threading.Timer(seconds, self._expire, args=(tracked.id,))
        timer.daemon = True  # never keeps the interpreter alive; the run's end sweeps anyway
        with self._lock:
            if tracked.id not in self._open:
                return
            self._timers[tracked.id] = timer
            self.stats.kept_open += 1
        timer.start()

    def _expire(self, session_id: str) -> None:
        with self._lock:
            self._timers.pop(session_id, None)
            tracked = self._open.get(session_id)
        if tracked is not None:
            self.close(tracked)

    def _close_by_id(self, tracked: Tracked, first_error: BaseException | None = None) -> None:
        """DELETE the task by id through the service client; record a failure."""
        client = self.service_client()
        error: BaseException | None = first_error
        if client is not None:
            try:
                client.delete_task(tracked.id)
            except NotFoundError:
                error = None  # "not found or already completed": it is closed all the same
            except Exception as err:
                error = err
            else:
                error = None
        elif error is None:
            error = RuntimeError("no connection to close it through")
        with self._lock:
            if error is None:
                self.stats.closed += 1
            else:
                reason = f"{type(error).__name__}: {error}"
                self.stats.unclosed.append(f"{tracked.id} ({tracked.owner}): {reason}")

    def close_all(self) -> None:
        """Close every session still open (kept-open ones too), within SWEEP_DEADLINE."""
        deadline = time.monotonic() + SWEEP_DEADLINE
        for tracked in self.open_sessions():
            if time.monotonic() > deadline:
                taken = self._take(tracked.id)
                if taken is not None:
                    with self._lock:
                        self.stats.unclosed.append(
                            f"{taken.id} ({taken.owner}): not closed, the run's close deadline"
                            f" of {SWEEP_DEADLINE:g} s passed"
                        )
                    self._done(taken.id)
                continue
            self.close(tracked)

    def defer(self, step: Callable[[], object]) -> None:
        """Run ``step`` at the end of the run, after the last test's teardown report."""
        with self._lock:
            self._deferred.append(step)

    def run_deferred(self) -> None:
        """Run the deferred steps in the order given; a failure is logged, never raised."""
        while True:
            with self._lock:
                if not self._deferred:
                    return
                step = self._deferred.pop(0)
            try:
                step()
            except Exception:
                log.warning("pytest-smooth: an end-of-run step failed", exc_info=True)

    def pytest_keyboard_interrupt(self) -> None:
        """Hear Ctrl-C (as a registered plugin): later closes DELETE instead of waiting."""
        self.interrupted = True

    def shutdown(self) -> None:
        """Run the deferred steps, close everything and the service client (end of the run)."""
        self.run_deferred()
        self.close_all()
        with self._lock:
            service, self._service = self._service, None
        if service is not None:
            service.close()


TRACKER_KEY: Final = pytest.StashKey[SessionTracker]()
SETTINGS_KEY: Final = pytest.StashKey[SmoothSettings]()
# Sessions a test used (its own and shared ones), in order; filled by the fixtures.
ITEM_SESSIONS: Final = pytest.StashKey[list[Tracked]]()
# Set by the makereport wrapper when a phase of the test failed.
ITEM_FAILED: Final = pytest.StashKey[bool]()


def get_settings(config: pytest.Config) -> SmoothSettings:
    return config.stash[SETTINGS_KEY]


def get_tracker(config: pytest.Config) -> SessionTracker:
    tracker = config.stash.get(TRACKER_KEY, None)
    if tracker is None:
        tracker = config.stash[TRACKER_KEY] = SessionTracker(get_settings(config))
    return tracker


def item_sessions(item: pytest.Item) -> list[Tracked]:
    return item.stash.setdefault(ITEM_SESSIONS, [])
