"""A cloud-like test server: a FaultProxy that enforces a plan's limits in front of a backend.

``LimitedCloud(upstream, max_open=K)`` answers ``POST /task`` with a 429 ("concurrent session
limit") while K sessions are open or opening, as Smooth's plans do; with ``credits_after=M`` it
answers every ``POST /task`` after the M-th created session with a credits-exhausted 429. It
keeps what the tests check: each session's open and close times, the most open at once, how
many sessions were created and how many 429s were sent. With ``broken_list=True`` the task list
(``GET /task``) answers 500, so nothing can be found by metadata.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import httpx

from tests.faultproxy import Fault
from tests.faultproxy import FaultProxy
from tests.faultproxy import LoggedRequest

LIMIT_DETAIL = "Concurrent session limit reached: your plan allows {k} browsers at once"
CREDITS_DETAIL = "Credits exhausted: top up your balance to keep using Smooth"
_TASK = re.compile(r"^/api/v1/task$")
_ONE_TASK = re.compile(r"^/api/v1/task/([^/]+)$")
_EVENT = re.compile(r"^/api/v1/task/([^/]+)/event$")


@dataclass
class Interval:
    """One session as the server saw it: opened at ``start``, closed at ``end`` (monotonic)."""

    session_id: str
    start: float
    end: float | None = None


@dataclass
class CloudLog:
    intervals: dict[str, Interval] = field(default_factory=dict)
    most_open: int = 0
    created: int = 0
    refused: int = 0
    out_of_credits: int = 0
    deleted: list[str] = field(default_factory=list)

    def open_now(self) -> int:
        return sum(1 for i in self.intervals.values() if i.end is None)

    def overlaps(self) -> list[tuple[str, str]]:
        """Pairs of sessions that were open at the same time."""
        spans = sorted(self.intervals.values(), key=lambda i: i.start)
        pairs = []
        for n, first in enumerate(spans):
            for later in spans[n + 1 :]:
                if first.end is None or later.start < first.end:
                    pairs.append((first.session_id, later.session_id))
        return pairs


class LimitedCloud(FaultProxy):
    """The proxy; ``flag`` (a path) is created when the first concurrency 429 goes out."""

    def __init__(
        self,
        upstream: str,
        *,
        max_open: int | None = None,
        credits_after: int | None = None,
        retry_after: float = 0.2,
        flag: Path | None = None,
        broken_list: bool = False,
    ) -> None:
        super().__init__(upstream)
        self.max_open = max_open
        self.credits_after = credits_after
        self.retry_after = retry_after
        self.flag = flag
        self.cloud = CloudLog()
        self._opening = 0
        self._state = threading.Lock()
        if broken_list:
            self.add("GET", r"^/api/v1/task$", Fault.status(500), count=None)

    def _arrive(self, method: str, path: str, query: str, body: bytes) -> LoggedRequest:
        entry = super()._arrive(method, path, query, body)
        fault = self._admit(method, path) if entry.fault is None else None
        if fault is not None:
            with self._lock:  # this request gets the plan's refusal instead
                self._faults[id(entry)] = fault
                self.injected[fault.kind] += 1
                entry.fault = fault.kind
        return entry

    def _admit(self, method: str, path: str) -> Fault | None:
        """Decide, atomically, whether this POST /task may go on (counted as opening)."""
        if method != "POST" or not _TASK.match(path):
            return None
        with self._state:
            if self.credits_after is not None and self.cloud.created >= self.credits_after:
                self.cloud.out_of_credits += 1
                return Fault.status(429, detail=CREDITS_DETAIL)
            if self.max_open is not None and self.cloud.open_now() + self._opening >= self.max_open:
                self.cloud.refused += 1
                if self.flag is not None:
                    self.flag.touch()
                detail = LIMIT_DETAIL.format(k=self.max_open)
                return Fault.status(429, retry_after=self.retry_after, detail=detail)
            self._opening += 1
        return None

    def _forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        path = target.partition("?")[0]
        closing = self._closes(method, path, body)
        if closing is not None:
            self._closed(closing)  # counted closed when the close is asked, before the reply
        try:
            reply = super()._forward(method, target, headers, body)
        except BaseException:
            if method == "POST" and _TASK.match(path):
                with self._state:
                    self._opening -= 1
            raise
        if method == "POST" and _TASK.match(path):
            self._opened(reply)
        return reply

    def _opened(self, reply: httpx.Response) -> None:
        with self._state:
            self._opening -= 1
            if reply.is_success:
                session_id = str(reply.json()["r"]["id"])
                self.cloud.intervals[session_id] = Interval(session_id, time.monotonic())
                self.cloud.created += 1
                self.cloud.most_open = max(self.cloud.most_open, self.cloud.open_now())

    def _closed(self, session_id: str) -> None:
        with self._state:
            interval = self.cloud.intervals.get(session_id)
            if interval is not None and interval.end is None:
                interval.end = time.monotonic()

    def _closes(self, method: str, path: str, body: bytes) -> str | None:
        """Return the session id this request closes (DELETE, or a close event), if any."""
        one = _ONE_TASK.match(path)
        if method == "DELETE" and one:
            with self._state:
                self.cloud.deleted.append(one.group(1))
            return one.group(1)
        event = _EVENT.match(path)
        if method == "POST" and event and b'"close"' in body:
            try:
                payload = json.loads(body)
            except ValueError:
                return None
            if (
                payload.get("name") == "session_action"
                and (payload.get("payload") or {}).get("name") == "close"
            ):
                return event.group(1)
        return None
