"""Helpers shared by the plugin's pytester tests (inner runs of pytest with pytest-smooth)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_smooth.plugin.settings import OPTIONS
from pytest_smooth.server.local import LocalServer
from pytest_smooth.server.protocol.executor import ReplySink
from pytest_smooth.server.protocol.executor import SessionSpec

ENV_NAMES = [opt.env for opt in OPTIONS if opt.env] + ["GITHUB_ACTIONS"]

# pytest-playwright is installed in the dev venv; its soft-assertion scope does not nest, so an
# in-process inner run would trip over the outer one.
BASE_INI = [
    "[pytest]",
    "asyncio_default_fixture_loop_scope = function",
    "addopts = -p no:playwright -p no:cacheprovider",
]


def write_ini(pytester: pytest.Pytester, *extra_lines: str, **keys: str) -> None:
    """Write the inner run's pytest.ini: the base lines, ``key = value`` lines, extra lines."""
    lines = [*BASE_INI, *(f"{key} = {value}" for key, value in keys.items()), *extra_lines]
    pytester.makeini("\n".join(lines) + "\n")


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every pytest-smooth environment variable for the inner run."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def make_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """Build a valid RGB PNG of one colour (what the instant executor hands out)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


TINY_PNG = make_png()


class InstantExecutor:
    """A browserless executor for plugin tests: every action succeeds on the next loop turn.

    ``evaluate_js`` answers with its ``js`` text, except that js containing ``throw`` gets a
    code-400 reply. Screenshots are a tiny PNG and traces a short zip-like blob.
    """

    def __init__(self) -> None:
        self.sink: ReplySink | None = None
        self.opened: list[SessionSpec] = []
        self.closed: list[str] = []
        self.submitted: list[tuple[str, str, dict[str, Any]]] = []
        self.console_entries: list[dict[str, Any]] = []
        self.recordings = True

    def open_session(self, spec: SessionSpec, sink: ReplySink) -> None:
        self.sink = sink
        self.opened.append(spec)

    def submit(
        self, task_id: str, event_id: str, action: str, action_input: dict[str, Any]
    ) -> None:
        self.submitted.append((task_id, action, action_input))
        code: int = 200
        output: Any = {"output": action_input.get("js"), "credits_used": 1, "duration": 0.01}
        if "throw" in str(action_input.get("js", "")):
            code, output = 400, "Error: thrown by the page"
        elif "outerHTML" in str(action_input.get("js", "")):  # the plugin's page snapshot
            page = {"url": "https://shop.example/cart", "title": "Cart", "size": 26}
            page["html"] = "<html><body>cart</body></html>"
            output = {"output": page, "credits_used": 0, "duration": 0.01}
        sink = self.sink
        assert sink is not None  # open_session always comes first
        # The store runs on the server's loop; reply on its next turn, as a browser would later.
        asyncio.get_running_loop().call_soon(sink.post_reply, task_id, event_id, code, output)

    def tool_result(self, task_id: str, event_id: str, code: int, output: Any) -> None:
        """Tool calls are not used by these tests."""

    def close_session(self, task_id: str, *, graceful: bool) -> None:  # noqa: ARG002
        self.closed.append(task_id)

    async def screenshot(self, task_id: str) -> bytes:  # noqa: ARG002
        return TINY_PNG

    async def trace_zip(self, task_id: str) -> bytes | None:  # noqa: ARG002
        return b"PK\x05\x06" + bytes(18)

    def frames(self, task_id: str) -> list[tuple[int, bytes]]:  # noqa: ARG002
        return []

    def latest_frame(self, task_id: str) -> tuple[int, bytes] | None:  # noqa: ARG002
        return None

    def recording_html(self, task_id: str) -> str | None:
        """Return a stand-in player page; ``None`` (no frames: 409) once ``recordings`` is False."""
        if not self.recordings:
            return None
        return f"<!doctype html><title>recording of {task_id}</title><p>frames</p>"

    def console(self, task_id: str) -> dict[str, Any] | None:
        return {"task_id": task_id, "entries": list(self.console_entries), "dropped": 0}


@contextlib.contextmanager
def instant_server() -> Iterator[tuple[LocalServer, InstantExecutor]]:
    """Run a LocalServer on loopback with the InstantExecutor (no browser)."""
    executor = InstantExecutor()
    with LocalServer(executor=executor, prewarm=0) as server:
        yield server, executor


def cloud_args(server: LocalServer) -> list[str]:
    """Inner-run options that point the plugin at ``server`` as if it were the cloud."""
    return [
        "--smooth-backend=cloud",
        f"--smooth-base-url={server.base_url}",
        f"--smooth-apikey={server.api_key}",
    ]


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes): (width, height, pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), f"unsupported PNG: depth {depth}, colour {colour}"
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    pixels = [tuple(row[x * channels : x * channels + 3]) for row in rows for x in range(width)]
    return width, height, pixels
