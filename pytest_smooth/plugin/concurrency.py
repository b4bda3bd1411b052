"""The run's session cap (``--smooth-max-sessions N``): a semaphore across processes.

N slot files live in the run's shared folder (``run_folder``); a session holds one by an
exclusive ``flock`` on it from before its POST /task until it is closed. The lock belongs to
the open file, so two sessions of one process conflict as two of different workers do, and
the OS drops it when the process dies: a crashed worker's slots are free at once. Waiting for
a slot polls (with backoff up to MAX_POLL) and is bounded by the caller's deadline.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from pathlib import Path
from typing import Final

from pytest_smooth.plugin.run_folder import try_lock

FIRST_POLL: Final = 0.02
MAX_POLL: Final = 0.5


class SlotTimeout(Exception):
    """No slot came free before the deadline."""


class Slot:
    """One held slot; ``release()`` (idempotent) gives it back."""

    def __init__(self, fd: int, index: int) -> None:
        self.index = index
        self._fd: int | None = fd
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file drops its flock


class SessionSlots:
    """``size`` slots under ``folder``, shared by every process that uses the same folder."""

    def __init__(self, folder: Path, size: int) -> None:
        if size < 1:
            raise ValueError(f"a session cap needs at least one slot, got {size}")
        self.folder = folder / "slots"
        self.size = size
        self.folder.mkdir(parents=True, exist_ok=True)

    def try_acquire(self) -> Slot | None:
        """Take a free slot now, or return None when all are held."""
        # Start at a different slot per process, so workers do not all contend on slot 0.
        first = os.getpid() % self.size
        for step in range(self.size):
            index = (first + step) % self.size
            fd = os.open(self.folder / f"slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            if try_lock(fd):
                return Slot(fd, index)
            os.close(fd)
        return None

    def acquire(
        self,
        deadline: float,
        *,
        on_wait: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Slot:
        """Take a slot, waiting until ``deadline`` (a ``clock`` time) at most; SlotTimeout."""
        tries = self._tries(deadline, on_wait, clock)
        while True:
            try:
                sleep(next(tries))
            except StopIteration as taken:
                return taken.value  # type: ignore[no-any-return]

    async def acquire_async(
        self,
        deadline: float,
        *,
        on_wait: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> Slot:
        """Take a slot like ``acquire``, sleeping in the event loop between tries."""
        tries = self._tries(deadline, on_wait, clock)
        while True:
            try:
                delay = next(tries)
            except StopIteration as taken:
                return taken.value  # type: ignore[no-any-return]
            await sleep(delay)

    def _tries(
        self, deadline: float, on_wait: Callable[[], None] | None, clock: Callable[[], float]
    ) -> Generator[float, None, Slot]:
        """Try for a slot until one is free; yield how long to sleep before each next try."""
        delay = FIRST_POLL
        while True:
            slot = self.try_acquire()
            if slot is not None:
                return slot
            delay = self._wait_step(deadline, clock(), delay, on_wait)
            on_wait = None  # said once
            yield delay
            delay = min(delay * 2, MAX_POLL)

    def _wait_step(
        self, deadline: float, now: float, delay: float, on_wait: Callable[[], None] | None
    ) -> float:
        """Return how long to sleep before the next try; raise SlotTimeout past the deadline."""
        if now >= deadline:
            raise SlotTimeout(f"all {self.size} session slot(s) of the run stayed taken")
        if on_wait is not None:
            on_wait()
        return min(delay, deadline - now)
