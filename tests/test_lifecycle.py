"""SessionTracker and artifact helpers as plain units (no pytester, no server)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pytest_smooth._core.exceptions import InternalServerError
from pytest_smooth._core.exceptions import NotFoundError
from pytest_smooth._core.models import ActionRecord
from pytest_smooth.client.sync_session import SmoothSession
from pytest_smooth.plugin.artifacts import MAX_SLUG
from pytest_smooth.plugin.artifacts import artifact_name
from pytest_smooth.plugin.artifacts import events_table
from pytest_smooth.plugin.artifacts import slug
from pytest_smooth.plugin.lifecycle import LifecycleStats
from pytest_smooth.plugin.lifecycle import SessionTracker
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.settings import SmoothSettings


class FakeSession(SmoothSession):
    """A sync session with no client: records how it was closed; ``fail`` makes close raise."""

    def __init__(self, session_id: str, *, fail: bool = False) -> None:  # no super(): no client
        self._id = session_id
        self.fail = fail
        self.closes: list[dict[str, Any]] = []
        self.closed_event = threading.Event()

    def close(self, **kwargs: Any) -> None:
        self.closes.append(kwargs)
        self.closed_event.set()
        if self.fail:
            raise RuntimeError("server went away")


def track(tracker: SessionTracker, session: FakeSession) -> Tracked:
    return tracker.add(Tracked(session=session, fixture="smooth_session", owner="t.py::test"))


def test_close_is_graceful_and_counted_once() -> None:
    tracker = SessionTracker(SmoothSettings())
    session = FakeSession("task_1")
    tracked = track(tracker, session)
    tracker.close(tracked)
    tracker.close(tracked)  # idempotent
    assert session.closes == [{"force": False, "timeout": 15.0}]
    assert tracker.stats.as_dict() == {"opened": 1, "closed": 1, "kept_open": 0, "unclosed": []}


def test_interrupted_closes_by_force() -> None:
    tracker = SessionTracker(SmoothSettings())
    session = FakeSession("task_1")
    tracked = track(tracker, session)
    tracker.pytest_keyboard_interrupt()
    tracker.close(tracked)
    assert session.closes[0]["force"] is True


def test_failed_close_without_connection_is_recorded() -> None:
    tracker = SessionTracker(SmoothSettings())
    track(tracker, FakeSession("task_9", fail=True))
    tracker.shutdown()
    [line] = tracker.stats.unclosed
    assert line.startswith("task_9 (t.py::test): RuntimeError: server went away")
    assert tracker.open_sessions() == []


class RefusingService:
    """A service client whose DELETE answers ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.deleted: list[str] = []

    def delete_task(self, task_id: str) -> bool:
        self.deleted.append(task_id)
        raise self.error


@pytest.mark.parametrize(
    ("error", "closed"),
    [
        (NotFoundError("not found or already completed", status_code=404), True),
        (InternalServerError("boom", status_code=500), False),
    ],
)
def test_close_by_id_counts_404_as_closed(error: Exception, closed: bool) -> None:
    tracker = SessionTracker(SmoothSettings())
    service = RefusingService(error)
    tracker.service_client = lambda: service  # type: ignore[assignment,method-assign,return-value]
    track(tracker, FakeSession("task_4", fail=True))  # the graceful close fails first
    tracker.shutdown()
    assert service.deleted == ["task_4"]
    assert tracker.stats.closed == (1 if closed else 0)
    assert bool(tracker.stats.unclosed) is not closed
    assert tracker.open_sessions() == []


def test_deferred_steps_run_once_in_order_and_failures_do_not_stop_them() -> None:
    tracker = SessionTracker(SmoothSettings())
    ran: list[str] = []

    def broken() -> None:
        ran.append("broken")
        raise RuntimeError("stop failed")

    tracker.defer(lambda: ran.append("close"))
    tracker.defer(broken)
    tracker.defer(lambda: ran.append("stop"))
    tracker.run_deferred()
    tracker.shutdown()  # nothing left to run
    assert ran == ["close", "broken", "stop"]


def test_keep_open_timer_closes_later() -> None:
    tracker = SessionTracker(SmoothSettings())
    session = FakeSession("task_2")
    tracker.keep_open(track(tracker, session), 0.01)
    # an event, not a sleep: the timer thread sets it when it closes the session
    assert session.closed_event.wait(30)
    assert tracker.open_sessions() == []
    assert tracker.stats.kept_open == 1
    assert tracker.stats.closed == 1


def test_run_end_closes_kept_open_sessions_at_once() -> None:
    tracker = SessionTracker(SmoothSettings())
    session = FakeSession("task_3")
    tracker.keep_open(track(tracker, session), 3600)
    tracker.shutdown()
    assert len(session.closes) == 1
    assert tracker.stats.closed == 1


def test_stats_merge_from_workers() -> None:
    stats = LifecycleStats()
    stats.merge({"opened": 2, "closed": 1, "kept_open": 0, "unclosed": ["task_x (a): boom"]})
    stats.merge({"opened": 1, "closed": 1, "kept_open": 1, "unclosed": []})
    assert stats.as_dict() == {
        "opened": 3,
        "closed": 2,
        "kept_open": 1,
        "unclosed": ["task_x (a): boom"],
    }


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        ("tests/test_shop.py::test_cart", "tests-test_shop.py-test_cart"),
        ("t.py::test_x[mobile-1]", "t.py-test_x-mobile-1"),
        ("t.py::test_x[a/b c]", "t.py-test_x-a-b-c"),
    ],
)
def test_slug(nodeid: str, expected: str) -> None:
    assert slug(nodeid) == expected


def test_long_slugs_are_truncated_and_stay_distinct() -> None:
    base = "tests/test_shop.py::test_checkout[" + "x" * 200
    first, second = slug(base + "1]"), slug(base + "2]")
    assert len(first) == MAX_SLUG
    assert first != second
    assert first[:40] == second[:40]


def test_artifact_names_per_session() -> None:
    assert artifact_name("screenshot.png", 0) == "screenshot.png"
    assert artifact_name("trace.zip", 1) == "trace-2.zip"


def test_events_table_redacts_and_shortens() -> None:
    record = ActionRecord(
        action="run_task",
        input={"task": "log in with sk-secret-value " + "and more " * 20},
        outcome="ok",
        started_at=0.0,
        duration=1.25,
        credits_used=3,
    )
    header, row = events_table([record], lambda text: text.replace("sk-secret-value", "***"))
    assert header.split() == ["#", "action", "input", "outcome", "duration", "credits"]
    assert "sk-secret-value" not in row
    assert "task=log in with *** and more" in row
    assert "...  ok" in row
    assert row.endswith("1.25s     3")
