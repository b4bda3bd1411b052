"""The HTTP-independent request handler: the route table plus the held answers of ``wait_ms``.

Two wire extensions (docs/wire-extensions.md) hold an answer:

- ``GET /task/{id}?wait_ms=N`` (the long poll) until the task has a newer event or ends;
- ``POST /task/{id}/event?wait_ms=N`` (the held POST) until the action's reply is there, and
  the ack then carries it as ``reply``.

``ApiHandler.respond`` answers at once or returns a ``Held`` answer; ``ApiHandler.serve``
waits a held one out over a ``ChangeSignal``: the Starlette app's is the store's change
notifications, ``FakeSmooth``'s runs the canned executor's pending work. A hold is capped at
``MAX_LONG_POLL`` seconds.
"""

from __future__ import annotations

import time
from abc import ABC
from abc import abstractmethod
from collections.abc import Callable
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any
from typing import Protocol

from pytest_smooth._core.constants import LONG_POLL_PARAM
from pytest_smooth._core.constants import MAX_LONG_POLL
from pytest_smooth.server.protocol.resources import Reply
from pytest_smooth.server.protocol.resources import err
from pytest_smooth.server.protocol.resources import ok
from pytest_smooth.server.protocol.routes import ROUTES
from pytest_smooth.server.protocol.routes import Match
from pytest_smooth.server.protocol.routes import RouteTable
from pytest_smooth.server.protocol.store import Store

BAD_WAIT = f"{LONG_POLL_PARAM} must be an integer (milliseconds)"


class Watch(Protocol):
    """Changes of one task, as seen by one held request."""

    async def wait(self, timeout: float) -> bool:
        """Wait until the task changed or ``timeout`` s passed; False: stop waiting now."""


class ChangeSignal(Protocol):
    """The wake-up primitive a held answer waits on."""

    def watch(self, task_id: str) -> AbstractContextManager[Watch]:
        """Watch ``task_id`` for as long as the context lasts."""


def hold_seconds(wait: str) -> float | None:
    """Return the seconds of a ``wait_ms`` hold, capped at MAX_LONG_POLL (None: no integer)."""
    try:
        return min(max(int(wait), 0) / 1000, MAX_LONG_POLL)
    except ValueError:
        return None


class Held(ABC):
    """An answer that waits for a change of ``task_id``, at most ``budget`` seconds."""

    def __init__(self, task_id: str, budget: float) -> None:
        self.task_id = task_id
        self.budget = budget

    @abstractmethod
    def poll(self) -> Reply | None:
        """Return the answer if it is ready now, else None."""

    @abstractmethod
    def expire(self) -> Reply:
        """Return the answer once the budget ran out (or the client left)."""


class HeldReply(Held):
    """A held POST: the ack, with the action's reply event once it is in the store."""

    def __init__(self, store: Store, task_id: str, ack: dict[str, Any], since: int, budget: float):
        super().__init__(task_id, budget)
        self.store, self.ack, self.since = store, ack, since

    def poll(self) -> Reply | None:
        done, event = self.store.held_reply(self.task_id, self.ack["id"], self.since)
        return ok({**self.ack, "reply": event}) if done else None

    def expire(self) -> Reply:
        return self.poll() or ok({**self.ack, "reply": None})


class LongPoll(Held):
    """A held GET of a running task: answered again once it has a newer event or ends."""

    def __init__(self, store: Store, match: Match, query: Mapping[str, str], first: Reply):
        budget = hold_seconds(query[LONG_POLL_PARAM]) or 0.0
        super().__init__(match.id, budget)
        self.store, self.match, self.query, self.last = store, match, query, first

    def poll(self) -> Reply | None:
        self.last = self.match.serve(self.store, self.query, None)
        status, body = self.last
        return self.last if status != 202 or body["r"]["events"] else None

    def expire(self) -> Reply:
        return self.last


class ApiHandler:
    """Serve ``(method, path, query, body)`` -> ``(status, json_body)`` over a ``Store``.

    ``long_poll`` / ``held_replies`` False answer those requests at once, as the cloud does.
    """

    def __init__(
        self,
        store: Store,
        *,
        routes: RouteTable = ROUTES,
        long_poll: bool = True,
        held_replies: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.routes = routes
        self.long_poll = long_poll
        self.held_replies = held_replies
        self._monotonic = monotonic

    def respond(self, method: str, path: str, query: Mapping[str, str], body: Any) -> Reply | Held:
        """Answer now, or return the held answer to wait out with ``serve``/``wait_out``."""
        matched = self.routes.match(method, path)
        if not isinstance(matched, Match):
            return matched
        wait = query.get(LONG_POLL_PARAM)
        if wait and matched.route.hold == "reply" and self.held_replies:
            return self._hold_reply(matched, query, body, wait)
        reply = matched.serve(self.store, query, body)
        if wait and matched.route.hold == "events" and self.long_poll and reply[0] == 202:
            if hold_seconds(wait) is None:
                return err(422, BAD_WAIT)
            return reply if reply[1]["r"]["events"] else LongPoll(self.store, matched, query, reply)
        return reply

    async def serve(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: Any,
        changes: ChangeSignal,
    ) -> Reply:
        """Answer one request, waiting out a held answer on ``changes``."""
        answer = self.respond(method, path, query, body)
        return await self.wait_out(answer, changes) if isinstance(answer, Held) else answer

    def serve_now(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: Any,
        changes: ChangeSignal,
    ) -> Reply:
        """Serve synchronously, over a ``changes`` whose waits never suspend (``FakeSmooth``).

        ``FakeSmooth.handler`` is synchronous (it serves sync and async clients alike); its
        signal "waits" by running the canned executor's pending results, so the coroutine of
        ``serve`` never suspends and one ``send`` runs it to its end.
        """
        serving = self.serve(method, path, query, body, changes)
        try:
            serving.send(None)
        except StopIteration as finished:
            reply: Reply = finished.value
            return reply
        serving.close()
        raise RuntimeError("serve_now: the change signal suspended (it must never wait)")

    async def wait_out(self, held: Held, changes: ChangeSignal) -> Reply:
        """Wait (woken by ``changes``) until ``held`` can answer, or its budget ran out."""
        deadline = self._monotonic() + held.budget
        with changes.watch(held.task_id) as watch:
            while (remaining := deadline - self._monotonic()) > 0 and await watch.wait(remaining):
                answer = held.poll()
                if answer is not None:
                    return answer
        return held.expire()

    def _hold_reply(
        self, matched: Match, query: Mapping[str, str], body: Any, wait: str
    ) -> Reply | Held:
        budget = hold_seconds(wait)
        if budget is None:  # refused before the event runs, not after
            return err(422, BAD_WAIT)
        since = self.store.last_event_ts(matched.id)
        status, reply = matched.serve(self.store, query, body)
        ack = reply["r"] if status == 200 else None
        if not isinstance(ack, dict) or "id" not in ack:
            return status, reply
        held = HeldReply(self.store, matched.id, ack, since, budget)
        return held.poll() or held
