"""Running a pass-rate test's attempts at once: sync ones in threads, async ones as tasks.

Why threads and tasks rather than worker processes: the attempts' time goes to waiting on
Smooth (an agent's task takes seconds to minutes), not to Python, so threads overlap them as
well as processes would; and in-process attempts share the test's already set-up fixtures, its
client, the run's tracker, session cap and reports with no pickling, and work unchanged inside
an xdist worker. Async tests run their attempts as tasks in the test's own event loop (that of
pytest-asyncio), since an async client belongs to the loop that made it.

New attempts start while the verdict is open; once it is settled (enough passes, or too few
attempts left) none starts, and running async ones are cancelled (a thread cannot be stopped:
a running sync attempt finishes, and is counted).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.pass_rate_sessions import Attempt
from pytest_smooth.plugin.pass_rate_sessions import AttemptSessions
from pytest_smooth.plugin.pass_rate_sessions import attempt_folder
from pytest_smooth.plugin.pass_rate_sessions import stamp_end
from pytest_smooth.plugin.pass_rate_sessions import stamp_start
from pytest_smooth.plugin.pass_rate_spec import PassRateSpec
from pytest_smooth.plugin.pass_rate_spec import Tally

# The fixtures each attempt gets afresh; every other fixture is set up once and shared.
PER_ATTEMPT: Final = frozenset(
    {"smooth_session", "new_smooth_session", "async_smooth_session", "smooth_attempt"}
)
# What an attempt's test function may raise and still be an attempt's outcome.
OUTCOMES: Final = (Exception, pytest.fail.Exception, pytest.skip.Exception)


@dataclass
class PassRateResult:
    """Every attempt of one pass-rate test and the verdict they reached."""

    spec: PassRateSpec
    attempts: list[Attempt]
    tally: Tally
    width: int  # how many attempts could run at once

    def ran(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome not in ("not started", "cancelled")]

    def stop_note(self) -> str:
        """Say why fewer than ``runs`` attempts ran (empty when all ran)."""
        ran, runs, tally = len(self.ran()), self.spec.runs, self.tally
        if ran >= runs:
            return ""
        if tally.reached:
            why = f"{tally.passed}/{runs} >= {self.spec.min_passes} already reached"
        else:
            best = tally.passed + runs - tally.finished
            why = f"at most {best}/{runs} < {self.spec.min_passes} still possible"
        return f"stopped after {ran} attempts: {why}; {runs - ran} not run"


def _attempts(item: pytest.Item, spec: PassRateSpec) -> list[Attempt]:
    return [Attempt(n, attempt_folder(item, n)) for n in range(1, spec.runs + 1)]


def _shared(funcargs: Mapping[str, Any], argnames: tuple[str, ...]) -> dict[str, Any]:
    return {name: funcargs[name] for name in argnames if name not in PER_ATTEMPT}


def _sync_kwargs(
    sessions: AttemptSessions,
    attempt: Attempt,
    funcargs: Mapping[str, Any],
    argnames: tuple[str, ...],
) -> dict[str, Any]:
    kwargs = _shared(funcargs, argnames)
    client = funcargs.get("smooth_client")
    if "smooth_attempt" in argnames:
        kwargs["smooth_attempt"] = attempt.number
    if "smooth_session" in argnames:
        kwargs["smooth_session"] = sessions.open_sync(attempt, client, "smooth_session")  # type: ignore[arg-type]
    if "new_smooth_session" in argnames:

        def factory(**options: Any) -> Any:
            return sessions.open_sync(attempt, client, "new_smooth_session", options)  # type: ignore[arg-type]

        kwargs["new_smooth_session"] = factory
    return kwargs


def _sync_attempt(
    sessions: AttemptSessions,
    attempt: Attempt,
    func: Callable[..., object],
    funcargs: Mapping[str, Any],
    argnames: tuple[str, ...],
) -> None:
    began = stamp_start(attempt)
    error: BaseException | None = None
    try:
        func(**_sync_kwargs(sessions, attempt, funcargs, argnames))
    except OUTCOMES as err:
        error = err
    stamp_end(attempt, began, error)
    try:
        sessions.gather(attempt)
    finally:
        sessions.close_sync(attempt)
    sessions.after_close(attempt)


def run_sync(
    item: pytest.Function,
    func: Callable[..., object],
    spec: PassRateSpec,
    width: int,
    sessions: AttemptSessions,
) -> PassRateResult:
    """Run a sync test's attempts in up to ``width`` threads; stop once the verdict is settled."""
    funcargs, argnames = item.funcargs, item._fixtureinfo.argnames
    result = PassRateResult(spec, _attempts(item, spec), Tally(spec), width)
    waiting: Iterator[Attempt] = iter(result.attempts)
    running: dict[concurrent.futures.Future[None], Attempt] = {}
    pool = concurrent.futures.ThreadPoolExecutor(width, thread_name_prefix="smooth-pass-rate")

    def start_next() -> bool:
        attempt = next(waiting, None)
        if attempt is None:
            return False
        context = contextvars.copy_context()  # each thread sees the test's context variables

        def run() -> None:
            _sync_attempt(sessions, attempt, func, funcargs, argnames)

        running[pool.submit(context.run, run)] = attempt
        return True

    try:
        while len(running) < width and start_next():
            pass
        while running:
            done, _ = concurrent.futures.wait(running, return_when="FIRST_COMPLETED")
            for future in done:
                attempt = running.pop(future)
                future.result()  # an exit or interrupt raised by the test goes on up
                result.tally.add(passed=attempt.outcome == "passed")
            while not result.tally.settled and len(running) < width and start_next():
                pass
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return result


async def _async_kwargs(
    sessions: AttemptSessions,
    attempt: Attempt,
    funcargs: Mapping[str, Any],
    argnames: tuple[str, ...],
) -> dict[str, Any]:
    sync_names = {"smooth_session", "new_smooth_session", "smooth_attempt"} & set(argnames)
    sync_only = tuple(name for name in argnames if name in sync_names or name not in PER_ATTEMPT)
    # A sync session opened from an async test: in a thread, so the loop keeps turning.
    kwargs = await asyncio.to_thread(_sync_kwargs, sessions, attempt, funcargs, sync_only)
    if "async_smooth_session" in argnames:
        client = funcargs["async_smooth_client"]
        kwargs["async_smooth_session"] = await sessions.open_async(
            attempt, client, "async_smooth_session"
        )
    return kwargs


async def _async_attempt(
    sessions: AttemptSessions,
    attempt: Attempt,
    func: Callable[..., Any],
    funcargs: Mapping[str, Any],
    argnames: tuple[str, ...],
) -> None:
    began = stamp_start(attempt)
    error: BaseException | None = None
    cancelled = False
    try:
        await func(**await _async_kwargs(sessions, attempt, funcargs, argnames))
    except OUTCOMES as err:
        error = err
    except asyncio.CancelledError:  # the verdict was settled without it: close, then end
        cancelled = True
    stamp_end(attempt, began, error)
    if cancelled:
        attempt.outcome = "cancelled"
    try:
        await asyncio.to_thread(sessions.gather, attempt)
    finally:
        await sessions.close_async(attempt)
    await asyncio.to_thread(sessions.after_close, attempt)


async def run_async(
    item: pytest.Function,
    func: Callable[..., Any],
    spec: PassRateSpec,
    width: int,
    sessions: AttemptSessions,
) -> PassRateResult:
    """Run an async test's attempts as up to ``width`` tasks in the test's event loop."""
    funcargs, argnames = item.funcargs, item._fixtureinfo.argnames
    result = PassRateResult(spec, _attempts(item, spec), Tally(spec), width)
    waiting: Iterator[Attempt] = iter(result.attempts)
    running: dict[asyncio.Task[None], Attempt] = {}
    cancelled: set[asyncio.Task[None]] = set()

    def start_next() -> bool:
        attempt = next(waiting, None)
        if attempt is None:
            return False
        task = asyncio.create_task(_async_attempt(sessions, attempt, func, funcargs, argnames))
        running[task] = attempt
        return True

    try:
        while len(running) < width and start_next():
            pass
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                attempt = running.pop(task)
                if task.cancelled():
                    attempt.outcome = "cancelled"
                    continue
                task.result()  # an exit or interrupt raised by the test goes on up
                if attempt.outcome != "cancelled":
                    result.tally.add(passed=attempt.outcome == "passed")
            if result.tally.settled:
                for task in set(running) - cancelled:
                    task.cancel()  # once: a second cancel would cut its sessions' close short
                    cancelled.add(task)
            while not result.tally.settled and len(running) < width and start_next():
                pass
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
    return result
