"""``ClientTransport``: a client's flows and settings as its sessions' ``SessionTransport``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth._core.event_cursor import PollState
from pytest_smooth._core.flow import Flow
from pytest_smooth._core.models import TaskResponse
from pytest_smooth._core.redact import Redactor
from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth._core.types import NotGiven

if TYPE_CHECKING:
    from pytest_smooth._core.client_flows import ClientFlows

# pytest hides frames of modules that set this: a failing test's traceback ends at the
# user's call, without our internals (whose arguments may hold secrets).
__tracebackhide__ = True

__all__ = ["ClientTransport"]


class ClientTransport:
    """A client's flows and settings as the ``SessionTransport`` its sessions run on."""

    def __init__(self, client: ClientFlows[Any]) -> None:
        self._client = client

    @property
    def redactor(self) -> Redactor:
        return self._client.redactor

    @property
    def poll_interval(self) -> float:
        return self._client.poll_interval

    def clock(self) -> float:
        return self._client._clock()

    def action_timeout(
        self, timeout: float | NotGiven | None, default: float | NotGiven | None = NOT_GIVEN
    ) -> float | None:
        return self._client._action_timeout(timeout, default)

    def poll(
        self, task_id: str, state: PollState, deadline: float | None, *, long_poll: bool = True
    ) -> Flow[tuple[TaskResponse, float, float]]:
        return self._client._poll_flow(task_id, state, deadline, long_poll=long_poll)

    def get_task(
        self, task_id: str, params: Mapping[str, Any], *, deadline: float | None = None
    ) -> Flow[TaskResponse]:
        return self._client._get_task_flow(task_id, params, deadline=deadline)

    def post_event(
        self, task_id: str, body: dict[str, Any], deadline: float | None = None, *, wait: float = 0
    ) -> Flow[Any]:
        return self._client._post_event_flow(task_id, body, deadline, wait=wait)

    def delete_task(self, task_id: str, deadline: float | None = None) -> Flow[bool]:
        return self._client._delete_task_flow(task_id, deadline)
