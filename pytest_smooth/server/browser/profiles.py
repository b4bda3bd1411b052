"""Hand a profile over from a closing session to the next session that uses it.

A client closes a session and opens the next one at once; the store reads the profile when the
second task is created, possibly before the first session has saved its cookies. The executor
therefore waits (bounded) for the previous session of that profile to finish saving, and
starts the new one from what it saved.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from pytest_smooth.server.browser.session import BrowserSession

# Longest wait for the previous session of a profile to save it.
HANDOFF_TIMEOUT = 15.0


class ProfileHandoff:
    """Remembers the last writing session of each profile."""

    def __init__(self) -> None:
        self._writers: dict[str, BrowserSession] = {}

    async def storage_state(self, session: BrowserSession) -> dict[str, Any] | None:
        """Return the storage state ``session`` should start from (and register it)."""
        request = session.spec.request
        state = session.spec.storage_state
        profile = request.profile_id
        if not profile:
            return state
        previous = self._writers.get(profile)
        if previous is not None and previous is not session and previous.close_requested:
            # Closing: its save is about to land; the store's copy may be older than it.
            try:
                await asyncio.wait_for(previous.torn_down.wait(), HANDOFF_TIMEOUT)
            except asyncio.TimeoutError:
                pass
            if previous.saved_state is not None:
                state = previous.saved_state
        if not request.profile_read_only:
            self._writers[profile] = session
        return state

    def forget(self, session: BrowserSession) -> None:
        """Drop ``session`` once it is torn down and nobody can be waiting on it any more."""
        profile = session.spec.request.profile_id
        if profile and self._writers.get(profile) is session and session.torn_down.is_set():
            del self._writers[profile]
