"""Letting a new session open: the run's credit budget, its session cap, the reaper's record.

Before a fixture's POST /task: no session opens once the run spent its ``--smooth-max-credits``
or the account ran out of credits (the test is skipped, naming why); with
``--smooth-max-sessions`` it waits for a slot of the run's cap (saying so under ``-v``). The
session's start timeout bounds the slot wait and the client's 429 waits together. Once open,
its id is written down for the reaper, and closing it frees the slot and strikes the id off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any
from typing import Final
from typing import TypeVar

import pytest

from pytest_smooth._core.constants import DEFAULT_SESSION_START_TIMEOUT
from pytest_smooth._core.exceptions import CreditsExhaustedError
from pytest_smooth.plugin.budget import get_ledger
from pytest_smooth.plugin.concurrency import SessionSlots
from pytest_smooth.plugin.concurrency import Slot
from pytest_smooth.plugin.concurrency import SlotTimeout
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.plugin.reaper import record_done
from pytest_smooth.plugin.reaper import record_opened
from pytest_smooth.plugin.run_folder import run_folder

log = logging.getLogger("pytest_smooth.plugin.admission")

S = TypeVar("S")
SLOTS_KEY: Final = pytest.StashKey[SessionSlots]()
Say = Callable[[str], None]


def _slots(config: pytest.Config) -> SessionSlots | None:
    size = get_settings(config).max_sessions
    if not size:
        return None
    slots = config.stash.get(SLOTS_KEY, None)
    if slots is None:
        slots = config.stash[SLOTS_KEY] = SessionSlots(run_folder(config), size)
    return slots


def _check_budget(config: pytest.Config) -> None:
    """Skip the test that wants a session when the run may open no more (budget, credits)."""
    limit = get_settings(config).max_credits
    ledger = get_ledger(config)
    state = ledger.read()
    if state["out_of_credits"]:
        why = state["out_of_credits"]
        pytest.skip(f"smooth: no new session: the Smooth account is out of credits ({why})")
    if limit is not None and state["spent"] >= limit:
        ledger.refuse()
        pytest.skip(
            f"smooth: no new session: the run's credit budget of {limit:g} credits"
            f" (--smooth-max-credits) is spent ({state['spent']:g} used)"
        )


def _timing(args: Mapping[str, Any]) -> tuple[dict[str, Any], float, float]:
    """Return the client arguments without the start timeout, the timeout and its deadline."""
    rest = dict(args)
    given = rest.pop("start_timeout", DEFAULT_SESSION_START_TIMEOUT)
    limit = DEFAULT_SESSION_START_TIMEOUT if given is None else float(given)
    return rest, limit, time.monotonic() + limit


def _waiting(config: pytest.Config, nodeid: str, say: Say) -> Callable[[], None]:
    size = get_settings(config).max_sessions

    def on_wait() -> None:
        line = (
            f"smooth: {nodeid} waits for a session slot: all {size} of the run are in use"
            f" (--smooth-max-sessions={size})"
        )
        log.info(line)
        if config.get_verbosity() > 0:
            say(line)

    return on_wait


def _no_slot(config: pytest.Config, limit: float) -> BaseException:
    size = get_settings(config).max_sessions
    return pytest.fail.Exception(
        f"smooth: no session slot came free within {limit:g} s (the session's start timeout):"
        f" all {size} of --smooth-max-sessions={size} stayed in use by this run's other"
        " sessions; raise the cap (up to the plan's limit) or run fewer workers",
        pytrace=False,
    )


def _started(
    rest: dict[str, Any], args: Mapping[str, Any], limit: float, deadline: float
) -> dict[str, Any]:
    """Return the client arguments with what is left of the start timeout (at least a tenth).

    ``start_timeout=None`` (do not wait for the browser) stays None; the slot wait still
    had the default bound.
    """
    if "start_timeout" in args and args["start_timeout"] is None:
        return {**rest, "start_timeout": None}
    return {**rest, "start_timeout": max(deadline - time.monotonic(), limit / 10)}


def _opened(config: pytest.Config, session: Any, nodeid: str, slot: Slot | None) -> None:
    """Write the id down for the reaper; closing the session frees the slot, strikes the id."""
    session_id = str(session.id)
    try:
        record_opened(config, session_id, nodeid)
    except OSError as err:
        log.warning("pytest-smooth: could not write down session %s: %s", session_id, err)

    def done() -> None:
        if slot is not None:
            slot.release()
        try:
            record_done(config, session_id)
        except OSError as err:
            log.warning("pytest-smooth: could not strike off session %s: %s", session_id, err)

    get_tracker(config).when_done(session_id, done)


def _release(slot: Slot | None) -> None:
    if slot is not None:
        slot.release()


def _out_of_credits(request: pytest.FixtureRequest, err: CreditsExhaustedError) -> BaseException:
    """Tell every worker, stop the run after this test, and fail this one with the reason."""
    get_ledger(request.config).out_of_credits(str(err.detail))
    request.session.shouldstop = "smooth: the Smooth account is out of credits"
    return pytest.fail.Exception(f"smooth: {err}", pytrace=False)


@contextmanager
def _slot_wait(config: pytest.Config, limit: float) -> Iterator[None]:
    """Turn a slot wait that outlived the start timeout into the test's error."""
    try:
        yield
    except SlotTimeout:
        raise _no_slot(config, limit) from None


@contextmanager
def _opening(request: pytest.FixtureRequest, slot: Slot | None) -> Iterator[None]:
    """Give the slot back when opening fails; out of credits stops the run."""
    try:
        yield
    except CreditsExhaustedError as err:
        _release(slot)
        raise _out_of_credits(request, err) from None
    except BaseException:
        _release(slot)
        raise


def open_admitted(
    request: pytest.FixtureRequest,
    args: Mapping[str, Any],
    nodeid: str,
    open_session: Callable[[dict[str, Any]], S],
    say: Say,
) -> S:
    """Open a session through ``open_session(args)`` within the run's budget and cap."""
    config = request.config
    _check_budget(config)
    rest, limit, deadline = _timing(args)
    slots, slot = _slots(config), None
    if slots is not None:
        with _slot_wait(config, limit):
            slot = slots.acquire(deadline, on_wait=_waiting(config, nodeid, say))
    with _opening(request, slot):
        session = open_session(_started(rest, args, limit, deadline))
    _opened(config, session, nodeid, slot)
    return session


async def open_admitted_async(
    request: pytest.FixtureRequest,
    args: Mapping[str, Any],
    nodeid: str,
    open_session: Callable[[dict[str, Any]], Awaitable[S]],
    say: Say,
) -> S:
    """Open a session like ``open_admitted``, waiting for a slot in the event loop."""
    config = request.config
    _check_budget(config)
    rest, limit, deadline = _timing(args)
    slots, slot = _slots(config), None
    if slots is not None:
        with _slot_wait(config, limit):
            slot = await slots.acquire_async(deadline, on_wait=_waiting(config, nodeid, say))
    with _opening(request, slot):
        session = await open_session(_started(rest, args, limit, deadline))
    _opened(config, session, nodeid, slot)
    return session
