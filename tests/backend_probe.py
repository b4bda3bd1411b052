"""Read a local backend's state from outside, straight over HTTP (no proxy, no client retries).

The reliability tests use it to ask the backend itself what happened: how many sessions are
open, how often each request event ran, which tasks exist, and to clean up orphans.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from typing import TypeVar

import httpx
from typing_extensions import Self

__all__ = ["Backend", "wait_for"]

T = TypeVar("T")


def wait_for(probe: Callable[[], T], *, timeout: float, interval: float = 0.1) -> T:
    """Call ``probe`` until it returns something truthy or ``timeout`` s pass; return the last."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)  # a bounded poll of another process's state, not synchronisation


class Backend:
    """A local backend seen through its HTTP API: ``Backend(root_url, api_key)``."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url + "/api/v1", headers={"apikey": api_key}, timeout=30.0
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _r(self, reply: httpx.Response) -> Any:
        reply.raise_for_status()
        return reply.json()["r"]

    def stats(self) -> dict[str, Any]:
        """``GET /api/v1/local/stats``: open_sessions, contexts, tasks, executions, pids."""
        stats: dict[str, Any] = self._r(self._http.get("/local/stats"))
        return stats

    def executions(self, event_id: str) -> int:
        """How often the backend ran request event ``event_id`` (0: never)."""
        return int(self.stats()["executions"].get(event_id, 0))

    def tasks(self) -> list[dict[str, Any]]:
        """Every task the backend knows (newest first, up to 128)."""
        tasks: list[dict[str, Any]] = self._r(self._http.get("/task", params={"l": 128}))
        return tasks

    def status(self, task_id: str) -> str:
        """GET the task's status (note: this GET also settles a gracefully closed session)."""
        return str(self._r(self._http.get(f"/task/{task_id}"))["status"])

    def open_tasks(self) -> list[dict[str, Any]]:
        return [t for t in self.tasks() if t["status"] in ("waiting", "running")]

    def delete(self, task_id: str) -> None:
        self._http.delete(f"/task/{task_id}").raise_for_status()

    def delete_open(self, *, exclude: frozenset[str] = frozenset()) -> list[str]:
        """DELETE every unfinished task not in ``exclude``; return their ids (orphan cleanup)."""
        ids = [t["id"] for t in self.open_tasks() if t["id"] not in exclude]
        for task_id in ids:
            self.delete(task_id)
        return ids

    def describe_open(self) -> str:
        """One line per open task, for assertion messages."""
        return "; ".join(
            f"{t['id']} {t['status']} metadata={t.get('metadata')}" for t in self.open_tasks()
        )

    def settle(self, task_ids: set[str]) -> None:
        """GET each task once, as a client reading its final status does.

        The backend reports a gracefully closed session ``done`` only on the GET after the
        close reply (smooth-api.md §4 case 12). A session nobody closed stays open: this
        never hides a leak, only the "close acknowledged, status not yet read" window.
        """
        for task_id in task_ids:
            self._http.get(f"/task/{task_id}")

    def assert_no_open_sessions(self) -> None:
        """Fail with the list of open tasks unless ``open_sessions`` is 0."""
        stats = self.stats()
        assert stats["open_sessions"] == 0, (
            f"{stats['open_sessions']} session(s) left open on the backend: {self.describe_open()}"
        )
