"""The pure half of the sessions: state, action payloads, the event log, tool results.

``_session_flows`` builds the session's loops on top of it, and ``SmoothSession`` /
``AsyncSmoothSession`` only drive them. Nothing here performs I/O.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Literal

from pytest_smooth._core.client_base import Timeout
from pytest_smooth._core.client_base import log
from pytest_smooth._core.constants import FINISHED_STATUSES
from pytest_smooth._core.event_cursor import ActionReply
from pytest_smooth._core.event_cursor import PollState
from pytest_smooth._core.event_cursor import ToolCall
from pytest_smooth._core.exceptions import BadRequestError
from pytest_smooth._core.exceptions import SessionClosedError
from pytest_smooth._core.exceptions import SmoothActionError
from pytest_smooth._core.exceptions import SmoothError
from pytest_smooth._core.exceptions import SmoothTimeoutError
from pytest_smooth._core.fidelity import report_approximations
from pytest_smooth._core.fidelity import strict_from_env
from pytest_smooth._core.models import ActionRecord
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.payloads import convert
from pytest_smooth._core.payloads import new_event_id
from pytest_smooth._core.payloads import shorten
from pytest_smooth._core.redact import Redactor
from pytest_smooth._core.transport import SessionTransport
from pytest_smooth._core.types import NOT_GIVEN

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets). --full-trace
# shows them.
__tracebackhide__ = True

__all__ = ["BaseSmoothSession", "Listener"]

Listener = Callable[[ActionRecord], object]
# Graceful close waits at most this long before falling back to DELETE.
CLOSE_TIMEOUT = 15.0


class BaseSmoothSession:
    """State and pure helpers shared by ``SmoothSession`` and ``AsyncSmoothSession``."""

    def __init__(
        self,
        transport: SessionTransport,
        task: TaskResponse,
        *,
        timeout: Timeout = NOT_GIVEN,
        tools: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self._transport = transport
        self._id = task.id
        self._timeout = transport.action_timeout(timeout)
        self._tools = dict(tools or {})
        self._state = PollState(max_interval=transport.poll_interval)
        self._records: list[ActionRecord] = []
        self._listeners: list[Listener] = []
        self._closed = False
        self._credits = 0.0
        self._task = task
        self.label: str | None = None
        # Strict fidelity: an approximation of the local backend raises SmoothFidelityError
        # instead of warning (the plugin sets it from --smooth-local-strict).
        self.local_strict: bool = strict_from_env()
        # False: at close, a local backend skips the final frame and the trace export and
        # drops the recording (evidence nobody will read: a passing test under retain-on-failure).
        self.keep_evidence = True
        self._live_url: str | None = None
        self._recording_url: str | None = None
        self._apply(task)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self._id!r} status={self.status!r}>"

    # --- public state ----------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._id

    @property
    def status(self) -> str:
        return self._task.status

    @property
    def live_url(self) -> str | None:
        return self._live_url

    @property
    def recording_url(self) -> str | None:
        return self._recording_url

    @property
    def closed(self) -> bool:
        return self._closed or self._state.finished or self.status in FINISHED_STATUSES

    @property
    def events(self) -> list[ActionRecord]:
        return list(self._records)

    @property
    def credits_used(self) -> float:
        return max(self._credits, float(self._task.credits_used or 0))

    @property
    def redactor(self) -> Redactor:
        return self._transport.redactor

    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(record)`` each time an action's record completes."""
        self._listeners.append(callback)

    # --- pure helpers for the twins ------------------------------------------------------

    def _apply(self, task: TaskResponse) -> None:
        # The poll state's status is only set by feed(), after the events of the same response.
        self._task = task
        if task.live_url is not None:
            self._live_url = task.live_url
        if task.recording_url is not None:
            self._recording_url = task.recording_url

    def _limit(self, timeout: Timeout) -> float | None:
        return self._transport.action_timeout(timeout, self._timeout)

    def _check_open(self, action: str) -> None:
        if self.closed:
            raise SessionClosedError(
                f"{action} on session {self._id}, which is {self._state_name()}"
            )

    def _state_name(self) -> str:
        return "closed" if self._closed else f"finished ({self.status})"

    def _begin(
        self, kind: str, action: str, payload_input: dict[str, Any] | None
    ) -> tuple[str, dict[str, Any], ActionRecord]:
        event_id = new_event_id()
        payload: dict[str, Any] = {"name": action}
        if payload_input is not None:
            payload["input"] = payload_input
        record = ActionRecord(
            action=action,
            input=shorten(self._transport.redactor.redact_value(payload_input or {})),
            event_id=event_id,
            started_at=time.time(),
            test_nodeid=self.label,
        )
        self._state.expect(event_id, action)
        body = {"name": kind, "id": event_id, "payload": payload, "timestamp": None}
        return event_id, body, record

    def _end(
        self,
        record: ActionRecord,
        elapsed: float,
        reply: ActionReply | None = None,
        error: BaseException | None = None,
    ) -> None:
        redactor = self._transport.redactor
        record.duration = elapsed
        if reply is not None:
            record.server_duration = reply.duration
            record.credits_used = reply.credits_used
            record.approximations = self._approximations(reply)
            self._credits += reply.credits_used
            error = error or reply.error
            if error is None:
                text = json.dumps(reply.output, default=str)
                record.output_preview = shorten(redactor.redact(text))
        if error is None:
            record.outcome = "ok"
        else:
            record.outcome = "timeout" if isinstance(error, SmoothTimeoutError) else "error"
            record.error = shorten(redactor.redact(f"{type(error).__name__}: {error}"))
        self._records.append(record)
        for listener in list(self._listeners):
            try:
                listener(record)
            except Exception:
                log.exception("event listener %r failed", listener)

    def _approximations(self, reply: ActionReply) -> list[dict[str, str]]:
        redact = self._transport.redactor.redact
        return [{k: redact(v) for k, v in a.items()} for a in reply.approximations]

    def _check_fidelity(self, action: str, reply: ActionReply, result: Any) -> None:
        """Warn about, or in strict mode refuse, what the local backend only approximated."""
        if reply.approximations:
            subject = f"{self.label} (session {self._id})" if self.label else f"session {self._id}"
            approximations = self._approximations(reply)
            report_approximations(
                subject, action, approximations, strict=self.local_strict, output=result
            )

    def _reply_error(self, error: SmoothError) -> SmoothError:
        """Return the error of a reply with the server's text redacted."""
        redactor = self._transport.redactor
        if isinstance(error, SmoothActionError):
            return type(error)(
                redactor.redact(error.message),
                action=error.action,
                output=redactor.redact_value(error.output),
                code=error.code,
            )
        return type(error)(redactor.redact(str(error)))

    def _timeout_error(self, action: str, limit: float | None) -> SmoothTimeoutError:
        return SmoothTimeoutError(f"{action} did not finish within {limit} s (session {self._id})")

    def _start_error(self, limit: float) -> SmoothTimeoutError:
        return SmoothTimeoutError(f"session {self._id} did not start within {limit} s")

    def _busy_error(self, action: str, limit: float | None) -> SmoothTimeoutError:
        return SmoothTimeoutError(
            f"{action} could not start within {limit} s: another action is still running"
            f" on session {self._id}"
        )

    def _ended_error(self, action: str) -> SessionClosedError:
        return SessionClosedError(
            f"session {self._id} ended ({self.status}) before {action} got its reply"
        )

    def _post_failed(
        self, action: str, error: SmoothError, expired: float | Literal[False] | None
    ) -> SmoothError:
        """Map a failed POST event to the error the caller should see.

        A timeout past the deadline names the action (``expired`` is then its limit); a 400
        "Session closed" becomes SessionClosedError.
        """
        if expired is not False and isinstance(error, SmoothTimeoutError):
            return self._timeout_error(action, expired)
        if isinstance(error, BadRequestError) and "closed" in str(error.detail).lower():
            self._closed = True
            return SessionClosedError(f"{action} on session {self._id}, which is closed")
        return error

    def _close_limit(self, timeout: Timeout) -> float:
        limit = self._limit(timeout)
        if isinstance(timeout, (int, float)) and limit is not None:
            return limit
        return CLOSE_TIMEOUT if limit is None else min(limit, CLOSE_TIMEOUT)

    def _tool_failure(self, call: ToolCall, error: Exception) -> tuple[int, Any]:
        """Return the reply to a tool that raised: 400 for SmoothActionError, else 500."""
        text = self._transport.redactor.redact(str(error) or type(error).__name__)
        log.warning("tool %s raised: %s", call.name, text)
        return (400 if isinstance(error, SmoothActionError) else 500), text

    def _tool_function(self, call: ToolCall) -> Callable[..., Any] | None:
        return self._tools.get(call.name)

    # --- inputs and outputs (pure, in _payloads) -------------------------------------

    def _convert(self, action: str, output: Any, model: Any) -> Any:
        return convert(self._transport.redactor, action, output, model)
