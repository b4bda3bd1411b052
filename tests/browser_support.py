"""Helpers for the browser-executor tests: a recording ReplySink, a session driver, PNG pixels.

The executor tests drive ``PlaywrightExecutor`` directly on the test's event loop, with this
sink standing in for the store; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
import time
import zlib
from typing import Any

from pytest_smooth._core.models import TaskRequest
from pytest_smooth.server.browser.executor import PlaywrightExecutor
from pytest_smooth.server.protocol.executor import SessionSpec

FORM = """<!doctype html><title>Signup</title>
<form id="f">
  <label for="name">Full name</label><input id="name">
  <input id="email" placeholder="Email address">
  <label>Password <input id="pw" type="password"></label>
  <label>Country <select id="country"><option value="fr">France</option>
    <option value="de">Germany</option></select></label>
  <label><input id="news" type="checkbox" checked> Newsletter</label>
  <label><input id="terms" type="checkbox"> I agree</label>
  <input id="q" aria-label="Search">
  <label>Attachment <input id="file" type="file"></label>
  <button type="button" id="more">Load more</button>
  <button type="submit">Send</button>
</form>
<p id="pressed"></p><pre id="out"></pre><p id="fname"></p>
<script>
  const $ = (id) => document.getElementById(id);
  $("q").addEventListener("keydown", (e) => {
    if (e.key === "Enter") $("pressed").textContent = "enter:" + $("q").value;
  });
  $("file").onchange = () => { $("fname").textContent = $("file").files[0].name; };
  $("more").onclick = () => setTimeout(() => {
    const p = document.createElement("p"); p.textContent = "Loaded later"; document.body.append(p);
  }, 150);
  $("f").onsubmit = (e) => {
    e.preventDefault();
    $("out").textContent = JSON.stringify({name: $("name").value, email: $("email").value,
      pwlen: $("pw").value.length, country: $("country").value, news: $("news").checked,
      terms: $("terms").checked});
  };
</script>"""


def form_page(site: Any) -> str:
    """Serve the signup form (and a next page) on a StaticSite; return the form's URL."""
    site.page("t/next.html", "<title>Next</title><h1>Next page</h1>")
    url: str = site.page("t/form.html", FORM)
    return url


WAIT = 30.0
SESSION_ACTIONS = frozenset({"run_task", "close"})
_ids = itertools.count(1)


class RecordingSink:
    """A ReplySink that records everything and lets tests await it (bounded)."""

    def __init__(self) -> None:
        self.replies: dict[str, tuple[int, Any]] = {}
        self.finished: dict[str, tuple[str, Any]] = {}
        self.reply_tasks: dict[str, str] = {}
        self.credits: dict[str, int] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self.tool_calls: list[tuple[str, str, dict[str, Any], str]] = []
        self.downloads: list[tuple[str, str]] = []  # (task id, file name)
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        self._changed.set()

    def post_reply(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        self.replies[event_id] = (code, output)
        self.reply_tasks[event_id] = task_id
        self._notify()

    def emit_tool_call(self, task_id: str, tool_name: str, tool_input: dict[str, Any]) -> str:
        event_id = f"tool-{next(_ids)}"
        self.tool_calls.append((task_id, tool_name, tool_input, event_id))
        self._notify()
        return event_id

    def finish_task(self, task_id: str, status: str, output: Any = None, credits: int = 0) -> None:
        self.finished[task_id] = (status, output)
        self.credits[task_id] = credits
        self._notify()

    def save_profile_state(self, profile_id: str, storage_state: dict[str, Any]) -> None:
        self.profiles[profile_id] = storage_state
        self._notify()

    def note_download(self, task_id: str, name: str) -> None:
        self.downloads.append((task_id, name))
        self._notify()

    async def until(self, check: Any, timeout: float = WAIT) -> Any:
        """Wait until ``check()`` returns something truthy; return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = check()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def reply(self, event_id: str, timeout: float = WAIT) -> tuple[int, Any]:
        result: tuple[int, Any] = await self.until(lambda: self.replies.get(event_id), timeout)
        return result


class Driven:
    """One session opened on an executor, with ``act`` posting an action and awaiting it."""

    def __init__(self, executor: PlaywrightExecutor, sink: RecordingSink, task_id: str) -> None:
        self.executor = executor
        self.sink = sink
        self.task_id = task_id

    def submit(self, action: str, data: dict[str, Any] | None = None) -> str:
        event_id = f"ev-{next(_ids)}"
        self.executor.submit(self.task_id, event_id, action, data or {})
        return event_id

    async def act(self, action: str, data: dict[str, Any] | None = None) -> tuple[int, Any]:
        return await self.sink.reply(self.submit(action, data))

    async def ok(self, action: str, data: dict[str, Any] | None = None) -> Any:
        """Run an action that must succeed; return its ``output`` value."""
        code, output = await self.act(action, data)
        assert code == 200, output
        return output.get("output") if action != "goto" else output

    async def js(self, js: str, args: Any = None) -> Any:
        return await self.ok("evaluate_js", {"js": js, "args": args})

    async def close(self) -> None:
        self.executor.close_session(self.task_id, graceful=True)
        assert await self.executor.wait_closed(self.task_id, WAIT)


def open_session(
    executor: PlaywrightExecutor,
    sink: RecordingSink,
    storage_state: dict[str, Any] | None = None,
    **request: Any,
) -> Driven:
    task_id = f"task-{next(_ids)}"
    spec = SessionSpec(task_id, TaskRequest(**request), storage_state)
    executor.open_session(spec, sink)
    return Driven(executor, sink, task_id)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG: (width, height, RGB pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), f"unsupported PNG (depth {depth}, color {color})"
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up = prev[x]
            corner = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i : i + 3]) for r in rows for i in range(0, stride, bpp)]


def distinct_colours(png: bytes) -> set[bytes]:
    """Return the RGB colours of a PNG (every 7th pixel: enough to tell a blank page)."""
    _, _, pixels = png_pixels(png)
    return set(pixels[::7])


class HttpSession:
    """One session of a running LocalServer, driven over plain HTTP (held POSTs, bounded).

    The artifact tests use it instead of the client, so they exercise the wire as it is.
    """

    def __init__(self, http: Any, task_id: str) -> None:
        self.http = http
        self.task_id = task_id

    @classmethod
    def open(cls, http: Any, **request: Any) -> HttpSession:
        reply = http.post("task", json={"task": None, **request})
        assert reply.status_code == 200, reply.text
        return cls(http, reply.json()["r"]["id"])

    def act(self, action: str, data: dict[str, Any] | None = None) -> tuple[int, Any]:
        """Post an action and return its reply (code, output), within WAIT seconds."""
        event_id = f"ev-{next(_ids)}"
        kind = "session_action" if action in SESSION_ACTIONS else "browser_action"
        body = {"name": kind, "payload": {"name": action, "input": data or {}}, "id": event_id}
        posted = self.http.post(f"task/{self.task_id}/event", params={"wait_ms": 10000}, json=body)
        assert posted.status_code == 200, posted.text
        reply = posted.json()["r"].get("reply")
        deadline = time.monotonic() + WAIT
        while reply is None and time.monotonic() < deadline:
            time.sleep(0.05)  # a tool call ended the hold: poll the event stream
            events = self.http.get(f"task/{self.task_id}").json()["r"].get("events") or []
            reply = next((e for e in events if e.get("id") == event_id), None)
        if reply is not None:
            return int(reply["payload"]["code"]), reply["payload"]["output"]
        raise TimeoutError(f"no reply to {action} within {WAIT} s")

    def ok(self, action: str, data: dict[str, Any] | None = None) -> Any:
        code, output = self.act(action, data)
        assert code == 200, output
        return output.get("output") if isinstance(output, dict) else output

    def artifact(self, name: str) -> Any:
        return self.http.get(f"task/{self.task_id}/artifacts/{name}")

    def close(self) -> None:
        self.act("close")
