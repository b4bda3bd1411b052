"""Every attempt of a test apart (pytest-rerunfailures, flaky): its own state, folder and report.

A rerun plugin runs setup, call and teardown again on the same item, so whatever the plugin keeps
on the item (its stash, ``user_properties``) would leak from one attempt into the next: the
sessions, the "failed" flag, the JUnit properties. ``start_attempt`` runs first in every
attempt's setup: it files the last attempt away (when it failed) and resets the rest. Attempt 1
writes to ``<output>/<slug>/``, attempt N to ``<output>/<slug>-rerun<N-1>/``, so no attempt
overwrites another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from pytest_smooth.plugin.artifacts import slug
from pytest_smooth.plugin.lifecycle import ITEM_FAILED
from pytest_smooth.plugin.lifecycle import ITEM_SESSIONS
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings

# The number of the attempt now running (1 for the first).
ITEM_ATTEMPT: Final = pytest.StashKey[int]()
# One line per earlier failed attempt: its folder, sessions and recordings.
ITEM_EARLIER: Final = pytest.StashKey[list[str]]()
# Files written for this attempt so far (the reports link and attach them).
ITEM_FILES: Final = pytest.StashKey[list[Path]]()
# A shared session's event count when this attempt started: its events before are not its own.
ITEM_EVENT_START: Final = pytest.StashKey[dict[str, int]]()

PREFIX: Final = "smooth_"
EARLIER_PROPERTY: Final = "smooth_failed_attempt"


def attempt(item: pytest.Item) -> int:
    return item.stash.get(ITEM_ATTEMPT, 1)


def start_attempt(item: pytest.Item) -> None:
    """Begin an attempt of ``item``: count it, file the last one away, reset per-test state."""
    number = item.stash.get(ITEM_ATTEMPT, 0) + 1
    item.stash[ITEM_ATTEMPT] = number
    if number > 1 and item.stash.get(ITEM_FAILED, False):
        item.stash.setdefault(ITEM_EARLIER, []).append(_summary(item, number - 1))
    item.stash[ITEM_FAILED] = False
    item.stash[ITEM_SESSIONS] = []
    item.stash[ITEM_FILES] = []
    item.stash[ITEM_EVENT_START] = {}
    # Our JUnit properties of the last attempt; the test's own (record_property) stay.
    item.user_properties[:] = [
        (name, value) for name, value in item.user_properties if not name.startswith(PREFIX)
    ]


def _summary(item: pytest.Item, number: int) -> str:
    props = [(name, str(value)) for name, value in item.user_properties]
    ids = [value for name, value in props if name == "smooth_session_id"]
    links = [value for name, value in props if name in ("smooth_recording_url", "smooth_recording")]
    parts = [f"attempt {number} failed"]
    files = item.stash.get(ITEM_FILES, [])
    if files:
        parts.append(f"folder {relative(item.config, files[0].parent)}")
    if ids:
        parts.append("session " + ", ".join(ids))
    if links:
        parts.append("recording " + ", ".join(links))
    return "; ".join(parts)


def earlier_attempts(item: pytest.Item) -> list[str]:
    earlier: list[str] = item.stash.get(ITEM_EARLIER, [])
    return list(earlier)


def evidence_wanted(item: pytest.Item) -> bool:
    """Whether this test's sessions keep their recording and trace when they close.

    Only the local backend is told otherwise (the close's ``keep_evidence``): for a test
    that passed, with no earlier failed attempt, under modes that keep nothing for a pass, it
    skips the final frame and the trace export, as pytest-playwright stops a passing test's
    trace without saving it.
    """
    settings = get_settings(item.config)
    failed = item.stash.get(ITEM_FAILED, False) or bool(earlier_attempts(item))
    kept = (settings.keeps(kind, failed=failed) for kind in ("tracing", "recording"))
    return settings.backend != "local" or failed or any(kept)


def attempt_folder(item: pytest.Item) -> Path:
    """Return this attempt's folder: ``<slug>`` for the first, ``<slug>-rerun<N>`` after."""
    number = attempt(item)
    name = slug(item.nodeid) + ("" if number == 1 else f"-rerun{number - 1}")
    return get_settings(item.config).output / name


def note_shared(item: pytest.Item, tracked: Tracked) -> None:
    """Remember where a shared session's event log stood when this attempt began."""
    item.stash.setdefault(ITEM_EVENT_START, {})[tracked.id] = len(list(tracked.session.events))


def note_files(item: pytest.Item, files: list[Path]) -> None:
    known = item.stash.setdefault(ITEM_FILES, [])
    known.extend(f for f in files if f not in known)


def relative(config: pytest.Config, path: Path) -> str:
    """``path`` relative to the invocation folder when inside it (reports move with it)."""
    try:
        return str(path.relative_to(config.invocation_params.dir))
    except ValueError:
        return str(path)
