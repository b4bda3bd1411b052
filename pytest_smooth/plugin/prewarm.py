"""Session prewarming (``--smooth-prewarm=N``): sessions opened ahead, so a test's is ready.

Opening a session on Smooth's cloud takes seconds. With ``--smooth-prewarm=N`` the plugin keeps
up to N sessions opening or open in background threads, with the run's default session
options (the ``smooth_session_args`` fixture plus ``--smooth-device``/``--smooth-timeout``). A
``smooth_session`` whose merged options equal those takes one; a test with other options
(a marker, the hook) opens its own. Sessions no test took are closed when the run ends, and
nothing is opened ahead when the option is 0 (the default).

Only ``smooth_session`` uses the pool: async sessions belong to their test's event loop, and
module sessions and the ``new_smooth_session`` factory are opened once or on demand.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.constants import DEFAULT_SESSION_START_TIMEOUT
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.session_options import session_args

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import SmoothClient
    from pytest_smooth.client.sync_session import SmoothSession

log = logging.getLogger("pytest_smooth.plugin.prewarm")

FIXTURE: Final = "_smooth_prewarmer"
USES: Final = "smooth_session"  # the only fixture that takes prewarmed sessions
NODEID_TAG: Final = "pytest_nodeid"
PREWARMED_NODEID: Final = "(prewarmed)"
# A test waits at most this long for a session that is still opening, then opens its own.
TAKE_TIMEOUT: Final = DEFAULT_SESSION_START_TIMEOUT + 10.0
# The run's end waits this long for sessions still opening, to close them too.
DRAIN_TIMEOUT: Final = 30.0


def _comparable(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options without the per-test tag, to compare a test's with the prewarmed ones."""
    out = dict(options)
    metadata = dict(out.get("metadata") or {})
    metadata.pop(NODEID_TAG, None)
    out["metadata"] = metadata
    return out


class Prewarmer:
    """Keeps up to ``size`` sessions opening or open, for at most ``budget`` more tests.

    Thread-safe: sessions open in daemon threads, tests take them from the fixture's thread.
    """

    def __init__(
        self, client: SmoothClient, options: Mapping[str, Any], size: int, budget: int
    ) -> None:
        self._client = client
        self.options = dict(options)
        self._key = _comparable(options)
        self.size = size
        self._budget = budget  # tests that may still take one (an upper bound under xdist)
        self._cond = threading.Condition()
        self._ready: collections.deque[SmoothSession] = collections.deque()
        self._pending = 0
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.opened = 0
        self.taken = 0
        self.errors: list[BaseException] = []

    def fill(self) -> None:
        """Start opening sessions until ``size`` are open or opening (or the budget is met)."""
        with self._cond:
            while (
                not self._closed
                and not self.errors  # a failing backend: tests open their own and say why
                and len(self._ready) + self._pending < min(self.size, self._budget)
            ):
                self._pending += 1
                thread = threading.Thread(target=self._open_one, name="smooth-prewarm", daemon=True)
                self._threads.append(thread)
                thread.start()

    def _open_one(self) -> None:
        try:
            session = self._client.session(**self.options)
        except Exception as err:
            log.warning("could not open a session ahead: %s", err)
            with self._cond:
                self._pending -= 1
                self.errors.append(err)
                self._cond.notify_all()
            return
        with self._cond:
            self._pending -= 1
            self.opened += 1
            late = self._closed
            if not late:
                self._ready.append(session)
                self._cond.notify_all()
        if late:  # the run ended while it was opening
            self._close(session)

    def take(self, options: Mapping[str, Any]) -> SmoothSession | None:
        """Return an open session when ``options`` match the prewarmed ones, else None."""
        with self._cond:
            self._budget = max(0, self._budget - 1)  # this test has started either way
        if _comparable(options) != self._key:
            self.fill()
            return None
        session: SmoothSession | None = None
        with self._cond:
            deadline = time.monotonic() + TAKE_TIMEOUT
            while session is None and not self._closed:
                while self._ready and session is None:
                    candidate = self._ready.popleft()
                    if not candidate.closed:  # e.g. reaped by the server while it waited
                        session = candidate
                if session is not None or self._pending == 0:
                    break
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    break
            if session is not None:
                self.taken += 1
        self.fill()
        return session

    def close(self) -> None:
        """Close the sessions no test took, and those still opening (bounded)."""
        with self._cond:
            self._closed = True
            leftovers = list(self._ready)
            self._ready.clear()
            threads = list(self._threads)
        closers = [
            threading.Thread(target=self._close, args=(s,), name="smooth-prewarm-close")
            for s in leftovers
        ]
        for closer in closers:
            closer.start()
        deadline = time.monotonic() + DRAIN_TIMEOUT
        for thread in [*closers, *threads]:
            thread.join(max(0.0, deadline - time.monotonic()))

    @staticmethod
    def _close(session: SmoothSession) -> None:
        try:
            session.close(force=True)  # unused: nothing to wait for, DELETE at once
        except Exception as err:
            log.warning("could not close prewarmed session %s: %s", session.id, err)


def _budget(request: pytest.FixtureRequest) -> int:
    items = getattr(request.session, "items", None) or []
    return sum(1 for item in items if USES in getattr(item, "fixturenames", ()))


@contextlib.contextmanager
def prewarming(
    request: pytest.FixtureRequest, client: SmoothClient, base: Mapping[str, Any]
) -> Iterator[Prewarmer | None]:
    """Start prewarming (the ``_smooth_prewarmer`` fixture's body); close what is left at the end.

    Gives None when prewarming is off or the default options cannot be built.
    """
    settings = get_settings(request.config)
    if settings.prewarm <= 0:
        yield None
        return
    try:
        options = session_args(request, settings, base, item=None)
    except Exception as err:  # a bad option, or a hook that needs an item: no prewarming
        log.warning("not prewarming: the default session options failed: %s", err)
        yield None  # each test opens its own session and reports the problem itself
        return
    options["metadata"] = {**options["metadata"], NODEID_TAG: PREWARMED_NODEID}
    pool = Prewarmer(client, options, settings.prewarm, _budget(request))
    pool.fill()
    try:
        yield pool
    finally:
        pool.close()


def take_prewarmed(
    request: pytest.FixtureRequest, fixture: str, options: Mapping[str, Any]
) -> SmoothSession | None:
    """Return a prewarmed session for ``fixture`` with ``options``, or None (open your own)."""
    if fixture != USES or get_settings(request.config).prewarm <= 0:
        return None
    pool: Prewarmer | None = request.getfixturevalue(FIXTURE)
    return None if pool is None else pool.take(options)
