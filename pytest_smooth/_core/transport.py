"""What a session needs from its client: a small typed interface, not the client's internals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import Protocol

from pytest_smooth._core.event_cursor import PollState
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.redact import Redactor
from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth._core.types import NotGiven

__all__ = ["SessionTransport"]


class SessionTransport(Protocol):
    """The flows and settings a session runs its actions with (``ClientFlows`` provides them)."""

    @property
    def redactor(self) -> Redactor: ...

    @property
    def poll_interval(self) -> float: ...

    def clock(self) -> float: ...

    def action_timeout(
        self, timeout: float | NotGiven | None, default: float | NotGiven | None = NOT_GIVEN
    ) -> float | None: ...

    def poll(
        self, task_id: str, state: PollState, deadline: float | None, *, long_poll: bool = True
    ) -> Flow[tuple[TaskResponse, float, float]]: ...

    def get_task(
        self, task_id: str, params: Mapping[str, Any], *, deadline: float | None = None
    ) -> Flow[TaskResponse]: ...

    def post_event(
        self, task_id: str, body: dict[str, Any], deadline: float | None = None, *, wait: float = 0
    ) -> Flow[Any]: ...

    def delete_task(self, task_id: str, deadline: float | None = None) -> Flow[bool]: ...
