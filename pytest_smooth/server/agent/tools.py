"""``call tool`` in a ``run_task``: a tool_call event to the client, and its answer back.

The session waits (bounded) for the client's reply, which the store delivers through
``Executor.tool_result``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.page.actions import ActionFailed

if TYPE_CHECKING:
    from pytest_smooth.server.protocol.executor import ReplySink


class ToolCalls:
    """The tool calls of one session waiting for the client's replies."""

    def __init__(self, sink: ReplySink, task_id: str) -> None:
        self.sink = sink
        self.task_id = task_id
        self.waiters: dict[str, asyncio.Future[tuple[int, Any]]] = {}

    async def call(self, name: str, tool_input: dict[str, Any], timeout: float) -> Any:
        """Emit a tool_call event and wait (bounded) for the client's reply."""
        event_id = self.sink.emit_tool_call(self.task_id, name, tool_input)
        waiter: asyncio.Future[tuple[int, Any]] = asyncio.get_running_loop().create_future()
        self.waiters[event_id] = waiter
        try:
            code, output = await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            raise ActionFailed(
                f"tool {name!r} got no reply within {timeout:g} s (is a tool of that name"
                " registered with custom_tools on the client?)"
            ) from None
        finally:
            self.waiters.pop(event_id, None)
        if code != 200:
            raise ActionFailed(f"tool {name!r} failed (code {code}): {output}")
        return output

    def result(self, event_id: str, code: int, output: Any) -> bool:
        """Deliver the client's reply; False when nothing waits for ``event_id``."""
        waiter = self.waiters.get(event_id)
        if waiter is None or waiter.done():
            return False
        waiter.set_result((code, output))
        return True
