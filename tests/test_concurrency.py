"""The run's session cap and credit ledger across processes (real processes, bounded waits).

Slots are flock'ed files: two processes cannot hold the same one, a release frees it for
another process, and a SIGKILLed holder frees it too. The ledger adds every process's spend
to one total under its file lock.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.context import SpawnContext
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from pytest_smooth.plugin.budget import CreditLedger
from pytest_smooth.plugin.concurrency import SessionSlots
from pytest_smooth.plugin.concurrency import SlotTimeout
from pytest_smooth.plugin.run_folder import STALE_AFTER
from pytest_smooth.plugin.run_folder import prune_stale

WAIT = 30.0  # every cross-process wait is bounded by this


@pytest.fixture
def ctx() -> SpawnContext:
    # spawn, not fork: forking a process that runs threads (pytest's) is unsafe.
    return multiprocessing.get_context("spawn")


def hold_slot(folder: str, size: int, got: Queue[int], release: Event) -> None:
    """Take a slot, report its index, hold it until ``release`` is set."""
    slot = SessionSlots(Path(folder), size).acquire(deadline=float("inf"))
    got.put(slot.index)
    release.wait(WAIT)
    slot.release()


def try_slot(folder: str, size: int, out: Queue[str]) -> None:
    """Report whether a slot is free now, then wait for one (bounded) and report that."""
    slots = SessionSlots(Path(folder), size)
    out.put("free" if slots.try_acquire() is not None else "full")


def spend(folder: str, times: int) -> None:
    ledger = CreditLedger(Path(folder))
    for _ in range(times):
        ledger.spend(1.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_slots_in_one_process(tmp_path: Path) -> None:
    slots = SessionSlots(tmp_path, 2)
    first, second = slots.try_acquire(), slots.try_acquire()
    assert first is not None and second is not None
    assert {first.index, second.index} == {0, 1}
    assert slots.try_acquire() is None
    first.release()
    first.release()  # idempotent
    third = slots.try_acquire()
    assert third is not None and third.index == first.index
    with pytest.raises(ValueError, match="at least one slot"):
        SessionSlots(tmp_path, 0)


def test_a_full_cap_waits_until_the_deadline_and_says_so_once(tmp_path: Path) -> None:
    slots = SessionSlots(tmp_path, 1)
    held = slots.acquire(deadline=1.0)
    clock, said = FakeClock(), []
    with pytest.raises(SlotTimeout, match="all 1 session slot"):
        slots.acquire(5.0, on_wait=lambda: said.append("wait"), clock=clock.time, sleep=clock.sleep)
    assert said == ["wait"]
    assert clock.now == pytest.approx(5.0) and max(clock.sleeps) <= 0.5  # backoff capped
    held.release()
    assert slots.acquire(clock.now, clock=clock.time, sleep=clock.sleep).held


@pytest.mark.asyncio
async def test_the_async_wait_is_bounded_too(tmp_path: Path) -> None:
    slots = SessionSlots(tmp_path, 1)
    held = slots.acquire(deadline=1.0)
    clock = FakeClock()

    async def sleep(seconds: float) -> None:
        clock.sleep(seconds)

    with pytest.raises(SlotTimeout):
        await slots.acquire_async(2.0, clock=clock.time, sleep=sleep)
    held.release()
    assert (await slots.acquire_async(clock.now, clock=clock.time, sleep=sleep)).held


def test_slots_are_shared_by_processes(tmp_path: Path, ctx: SpawnContext) -> None:
    got: Queue[int] = ctx.Queue()
    out: Queue[str] = ctx.Queue()
    release = ctx.Event()
    holders = [
        ctx.Process(target=hold_slot, args=(str(tmp_path), 2, got, release)) for _ in range(2)
    ]
    for process in holders:
        process.start()
    try:
        assert sorted(got.get(timeout=WAIT) for _ in holders) == [0, 1]
        probe = ctx.Process(target=try_slot, args=(str(tmp_path), 2, out))
        probe.start()
        probe.join(WAIT)
        assert out.get(timeout=WAIT) == "full"
        assert SessionSlots(tmp_path, 2).try_acquire() is None  # this process too
    finally:
        release.set()
        for process in holders:
            process.join(WAIT)
    assert all(process.exitcode == 0 for process in holders)
    assert SessionSlots(tmp_path, 2).try_acquire() is not None


def test_a_killed_holder_frees_its_slot(tmp_path: Path, ctx: SpawnContext) -> None:
    got: Queue[int] = ctx.Queue()
    never = ctx.Event()
    holder = ctx.Process(target=hold_slot, args=(str(tmp_path), 1, got, never))
    holder.start()
    try:
        assert got.get(timeout=WAIT) == 0
        assert SessionSlots(tmp_path, 1).try_acquire() is None
    finally:
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(WAIT)
    assert holder.exitcode == -signal.SIGKILL
    assert SessionSlots(tmp_path, 1).try_acquire() is not None


def test_the_ledger_adds_every_process_spend(tmp_path: Path, ctx: SpawnContext) -> None:
    workers = [ctx.Process(target=spend, args=(str(tmp_path), 25)) for _ in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(WAIT)
    assert all(process.exitcode == 0 for process in workers)
    ledger = CreditLedger(tmp_path)
    assert ledger.read()["spent"] == 100.0
    ledger.refuse()
    ledger.out_of_credits("Credits exhausted")
    assert ledger.read() == {"spent": 100.0, "refused": 1, "out_of_credits": "Credits exhausted"}


def test_an_empty_ledger_reads_as_zero(tmp_path: Path) -> None:
    assert CreditLedger(tmp_path).read() == {"spent": 0.0, "refused": 0, "out_of_credits": None}


def test_stale_run_folders_are_pruned(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    os.utime(old, (0, 0))
    prune_stale(tmp_path, now=STALE_AFTER + 10)
    assert not old.exists() and new.exists()
