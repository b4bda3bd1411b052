"""Client -> server events of the store: actions, tool-call replies, the deprecated PUT.

``EventIntake`` sits between ``TaskRegistry`` (the tasks and the executor's side) and ``Store``
(the task endpoints): it validates each event, hands actions to the executor exactly once
per event id, and answers the held POST's question "is this action's reply there yet?".
"""

from __future__ import annotations

import json
from typing import Any

from pytest_smooth.server.protocol.executor import discard_evidence
from pytest_smooth.server.protocol.registry import TaskRegistry
from pytest_smooth.server.protocol.resources import Reply
from pytest_smooth.server.protocol.resources import err
from pytest_smooth.server.protocol.resources import new_id
from pytest_smooth.server.protocol.resources import ok
from pytest_smooth.server.protocol.tasks import CLOSE_REPLY
from pytest_smooth.server.protocol.tasks import TaskState
from pytest_smooth.server.protocol.tasks import parse_action

ACTION_EVENTS = ("browser_action", "session_action")


class EventIntake(TaskRegistry):
    """``POST /task/{id}/event`` and ``PUT /task/{id}``, as methods of the store."""

    def post_event(self, task_id: str, body: Any) -> Reply:
        """Take an action or a tool-call reply; acknowledge it with ``{"id"}``."""
        event_id = body.get("id") if isinstance(body, dict) else None
        task = self._open_task(task_id, event_id)
        if not isinstance(task, TaskState):
            return task
        if not isinstance(body, dict):
            return err(422, "the event body must be a JSON object {name, payload, id}")
        name, payload = body.get("name"), body.get("payload")
        if event_id is not None and (not isinstance(event_id, str) or not event_id):
            return err(422, "event id must be a non-empty string or null")
        if name == "tool_call":
            if not isinstance(payload, dict) or not event_id:
                return err(422, "a tool_call reply needs the tool call's id and a payload")
            return self._tool_reply(task, event_id, payload.get("code"), payload.get("output"))
        if name not in ACTION_EVENTS:
            known = ", ".join((*ACTION_EVENTS, "tool_call"))
            return err(400, f"unknown event {name!r}; known: {known}")
        parsed = parse_action(name, payload)
        if isinstance(parsed[0], int):
            return err(parsed[0], parsed[1])
        action, action_input = parsed
        event_id = event_id or new_id("event")
        task.requests[event_id] = name
        if action == "close":
            if action_input.get("keep_evidence") is False:
                discard_evidence(self.require_executor(), task.id)
            self._close_gracefully(task, event_id)
        else:
            self._submit(task, event_id, str(action), action_input)
        return ok({"id": event_id})

    def put_task(self, task_id: str, body: Any) -> Reply:
        """Take a deprecated tool reply ``{"tool_response": {id, code, output: JSON str}}``."""
        task = self._open_task(task_id)
        if not isinstance(task, TaskState):
            return task
        response = body.get("tool_response") if isinstance(body, dict) else None
        if not isinstance(response, dict) or not isinstance(response.get("id"), str):
            return err(422, "body must be {'tool_response': {'id', 'code', 'output'}}")
        output = response.get("output")
        if isinstance(output, str):
            try:
                output = json.loads(output)
            except ValueError:
                pass  # a plain string output
        status, reply = self._tool_reply(task, response["id"], response.get("code"), output)
        return (status, {"r": True}) if status == 200 else (status, reply)

    # --- held replies (POST /task/{id}/event?wait_ms=N, our extension) ------------------------

    def last_event_ts(self, task_id: str) -> int:
        """Return the timestamp of the task's newest event (0 if none): a held POST's start."""
        task = self.tasks.get(task_id)
        return 0 if task is None else task.last_ts

    def held_reply(
        self, task_id: str, event_id: str, since: int
    ) -> tuple[bool, dict[str, Any] | None]:
        """Tell whether a held POST can answer now, and with which reply (``TaskState``'s).

        A task that is gone answers ``(True, None)``: no reply will come for this hold.
        """
        task = self.tasks.get(task_id)
        if task is None:
            return True, None
        return task.held_reply(event_id, since, self.clock())

    # --- helpers ------------------------------------------------------------------------------

    def _open_task(self, task_id: str, event_id: Any = None) -> TaskState | Reply:
        task = self.tasks.get(task_id)
        if task is None:
            return err(404, "Task not found")
        if isinstance(event_id, str) and event_id in task.requests:
            return ok({"id": event_id})  # a resent event: acknowledged, never run twice
        if not task.accepting or task.finished:
            return err(400, "Session closed")
        task.last_activity = self.clock()
        return task

    def _close_gracefully(self, task: TaskState, event_id: str) -> None:
        task.accepting = False
        self.post_reply(task.id, event_id, 200, dict(CLOSE_REPLY))
        task.pending_finish = ("done", task.output)
        task.close_reply_ts = task.last_ts
        self.close_executor(task, graceful=True)

    def _submit(self, task: TaskState, event_id: str, action: str, action_input: Any) -> None:
        self.executions[event_id] = self.executions.get(event_id, 0) + 1
        try:
            self.require_executor().submit(task.id, event_id, action, action_input)
        except Exception as exc:  # reply 500 rather than a 5xx the SDK would retry
            self.post_reply(task.id, event_id, 500, f"the executor failed: {exc}")

    def _tool_reply(self, task: TaskState, event_id: str, code: Any, output: Any) -> Reply:
        if event_id not in task.tool_calls:
            return err(400, f"no tool call {event_id!r} is waiting for a reply")
        if code not in (200, 400, 500):
            return err(422, "a tool_call reply needs code 200, 400 or 500")
        if event_id in task.answered_tool_calls:
            return ok({"id": event_id})
        task.answered_tool_calls.add(event_id)
        tool = task.tool_calls[event_id]
        try:
            self.require_executor().tool_result(task.id, event_id, code, output)
        except Exception as exc:  # fail the task rather than answer a 5xx the SDK would retry
            self.finish(task, "failed", f"the executor failed on tool {tool!r}: {exc}")
            return ok({"id": event_id})
        if code == 500:
            self.finish(task, "failed", f"tool {tool!r} failed: {output}")
        return ok({"id": event_id})
