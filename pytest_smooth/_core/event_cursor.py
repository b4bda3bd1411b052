"""The event cursor of one task: what a poller knows between two ``GET /task/{id}`` calls.

``PollState`` holds the ``event_t`` cursor, the ids already seen, the requests waiting for a
reply, and the next delay. It never sleeps, sends or reads a clock; the flows feed it responses
and elapsed times.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pydantic

from pytest_smooth._core.constants import FINISHED_STATUSES
from pytest_smooth._core.constants import LONG_POLL_PARAM
from pytest_smooth._core.constants import MAX_LONG_POLL
from pytest_smooth._core.constants import MIN_POLL_INTERVAL
from pytest_smooth._core.constants import POLL_INTERVAL
from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothActionServerError
from pytest_smooth._core.exceptions import SmoothError
from pytest_smooth._core.exceptions import SmoothProtocolError
from pytest_smooth._core.fidelity import APPROXIMATIONS_KEY
from pytest_smooth._core.fidelity import parse_approximations
from pytest_smooth._core.models import TaskEvent
from pytest_smooth._core.models import TaskResponse

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets). --full-trace
# shows them.
__tracebackhide__ = True

__all__ = ["ActionReply", "PollState", "PollUpdate", "ToolCall"]

# A GET that took at least this share of the requested hold was held by the server.
_HELD_SHARE = 0.5
_ACTION_EVENTS = frozenset({"browser_action", "session_action"})
_META_KEYS = frozenset({"credits_used", "duration", APPROXIMATIONS_KEY})


@dataclass(frozen=True)
class ActionReply:
    """The server's reply to one request event; ``error`` is set unless the code was 200."""

    event_id: str
    action: str
    code: int | None
    output: Any = None
    credits_used: float = 0.0
    duration: float | None = None
    error: SmoothError | None = None
    # What the local backend only approximated (its ``approximations`` reply extension).
    approximations: tuple[dict[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ToolCall:
    """An agent -> client ``tool_call`` event: call tool ``name`` with ``input``, then reply."""

    event_id: str
    name: str
    input: dict[str, Any]

    def reply(self, code: int, output: Any) -> dict[str, Any]:
        """Return the POST /task/{id}/event body that answers this call (same event id)."""
        return {
            "name": "tool_call",
            "id": self.event_id,
            "payload": {"code": code, "output": output},
            "timestamp": None,
        }


@dataclass
class PollUpdate:
    """What one fed response changed: new events, resolved replies, tool calls, the next delay."""

    events: list[TaskEvent] = field(default_factory=list)
    replies: list[ActionReply] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    finished: bool = False
    delay: float = 0.0


def _reply_for(event_id: str, action: str, payload: Mapping[str, Any]) -> ActionReply:
    code = payload.get("code")
    output = payload.get("output")
    if code == 200:
        # The SDK's nested form {output, credits_used, duration}; a raw value is tolerated.
        if isinstance(output, dict) and (
            "output" in output or (output and not output.keys() - _META_KEYS)
        ):
            return ActionReply(
                event_id,
                action,
                200,
                output.get("output"),
                credits_used=_number(output.get("credits_used")) or 0.0,
                duration=_number(output.get("duration")),
                approximations=tuple(parse_approximations(output.get(APPROXIMATIONS_KEY))),
            )
        return ActionReply(event_id, action, 200, output)
    message = output if isinstance(output, str) else repr(output)
    error: SmoothError
    if code == 400:
        error = SmoothActionError(message, action=action, output=output, code=400)
    elif code == 500:
        error = SmoothActionServerError(message, action=action, output=output, code=500)
    else:
        error = SmoothProtocolError(
            f"{action} got a reply with code {code!r} (expected 200, 400 or 500): {message}"
        )
    int_code = code if isinstance(code, int) else None
    return ActionReply(event_id, action, int_code, output, error=error)


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class PollState:
    """Cursor, de-duplication and reply matching for one task's event stream (no I/O)."""

    def __init__(
        self, *, min_interval: float = MIN_POLL_INTERVAL, max_interval: float = POLL_INTERVAL
    ) -> None:
        self.cursor = 0
        self.status: str | None = None
        self._min = min_interval
        self._max = max(max_interval, min_interval)
        self._backoff = min_interval
        self._seen: set[str] = set()
        self._pending: dict[str, str] = {}
        self._replies: dict[str, ActionReply] = {}

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def pending(self) -> frozenset[str]:
        return frozenset(self._pending)

    def expect(self, event_id: str, action: str) -> None:
        """Wait for the reply to request ``event_id`` (call before sending the request)."""
        self._pending[event_id] = action

    def forget(self, event_id: str) -> None:
        """Stop waiting for ``event_id`` (its action gave up); a late reply is then ignored."""
        self._pending.pop(event_id, None)
        self._replies.pop(event_id, None)

    def take(self, event_id: str) -> ActionReply | None:
        """Return and drop the reply to ``event_id`` once it has arrived."""
        reply = self._replies.pop(event_id, None)
        if reply is not None:
            self._pending.pop(event_id, None)
        return reply

    def query(self, wait: float | None = None) -> dict[str, int]:
        """Query parameters of the next GET: the cursor, and the long-poll hint if ``wait``."""
        params = {"event_t": self.cursor}
        if wait is not None and wait > 0:
            params[LONG_POLL_PARAM] = int(min(wait, MAX_LONG_POLL) * 1000)
        return params

    def feed(
        self, response: TaskResponse, *, elapsed: float = 0.0, wait: float | None = None
    ) -> PollUpdate:
        """Process one GET response: its events first, then its status.

        ``elapsed`` is how long the GET took and ``wait`` the hold that was asked for; together
        they tell a held long poll (re-poll at once) from a server that ignores the hint.
        """
        update = PollUpdate()
        for event in response.events or ():
            self._take(event, update)
        self.status = response.status
        update.finished = self.finished
        update.delay = self._next_delay(bool(update.events), elapsed, wait)
        return update

    def feed_ack(self, ack: Any) -> PollUpdate:
        """Process the ack of an action POST sent with ``wait_ms``: its inline ``reply`` event.

        The reply goes through the same cursor, de-duplication and matching as a polled event,
        so a later GET that returns it again changes nothing. An ack without a usable reply (a
        server that ignores ``wait_ms``, or the hold ended first) changes nothing either.
        """
        update = PollUpdate()
        raw = ack.get("reply") if isinstance(ack, Mapping) else None
        if isinstance(raw, Mapping):
            try:
                event = TaskEvent.model_validate(raw)
            except pydantic.ValidationError:
                return update
            self._take(event, update)
        return update

    def _take(self, event: TaskEvent, update: PollUpdate) -> None:
        if event.timestamp is not None and event.timestamp > self.cursor:
            self.cursor = event.timestamp
        key = event.id if event.id is not None else f"{event.name}@{event.timestamp}"
        if key in self._seen:
            return
        self._seen.add(key)
        update.events.append(event)
        self._match(event, update)

    def _match(self, event: TaskEvent, update: PollUpdate) -> None:
        if event.id is None:
            return
        if event.name in _ACTION_EVENTS and event.id in self._pending:
            reply = _reply_for(event.id, self._pending[event.id], event.payload)
            self._replies[event.id] = reply
            update.replies.append(reply)
        elif event.name == "tool_call" and "code" not in event.payload:
            name = event.payload.get("name")
            tool_input = event.payload.get("input")
            update.tool_calls.append(
                ToolCall(
                    event.id,
                    name if isinstance(name, str) else "",
                    tool_input if isinstance(tool_input, dict) else {},
                )
            )

    def _next_delay(self, got_new: bool, elapsed: float, wait: float | None) -> float:
        held = wait is not None and wait > 0 and elapsed >= wait * _HELD_SHARE
        if got_new or held:
            self._backoff = self._min
            return 0.0
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self._max)
        return delay
