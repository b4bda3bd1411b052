"""Playwright tracing per session, exported in chunks and merged into one trace.zip.

Chunks let a trace be read while the session is still open.

Tracing records DOM snapshots (the trace viewer's Before/After panes, at a round trip per
action) but not screenshots: Playwright's are a second screencast of the page beside the
session's own (screencast.py), which doubled the browser's encoding work. The film strip comes
from the session's frames instead: ``merge_chunks`` writes them into the trace as Playwright
would. Secrets are blanked on export (``evidence.py``), not here.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


Frame = tuple[int, bytes]  # (wall-clock ms, JPEG), as screencast.FrameBuffer keeps them


class TraceRecorder:
    """The trace of one context: ``start``, ``export`` (while open), ``finish`` (at close)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self.chunks: list[Path] = []
        self._context: BrowserContext | None = None
        self._lock = asyncio.Lock()
        self._merged: tuple[tuple[int, int, int], bytes] | None = None

    async def start(self, context: BrowserContext, *, started: bool = False) -> None:
        """Trace ``context`` from now on.

        ``started``: the pool started tracing while the context waited (``start_trace``), off
        the session's path; only what it recorded meanwhile is dropped here (a new chunk, a
        third of a ``tracing.start``).
        """
        if started:
            await context.tracing.stop_chunk()
            await context.tracing.start_chunk()
        else:
            await start_trace(context)
        self._context = context

    async def _cut(self, restart: bool) -> None:
        context = self._context
        if context is None:
            return
        path = self.folder / f"{self.name}-{len(self.chunks)}.zip"
        await context.tracing.stop_chunk(path=str(path))
        self.chunks.append(path)
        if restart:
            await context.tracing.start_chunk()
        else:
            await context.tracing.stop()
            self._context = None

    async def export(self, frames: Sequence[Frame] = ()) -> bytes:
        """Return the trace so far (closes the current chunk and opens the next one)."""
        async with self._lock:
            await self._cut(restart=True)
        return self.merged(frames)

    async def finish(self) -> None:
        """Close the last chunk; call before the context closes."""
        async with self._lock:
            await self._cut(restart=False)

    async def discard(self) -> None:
        """Stop tracing without writing the last chunk: nobody will read it."""
        async with self._lock:
            context, self._context = self._context, None
            if context is not None:
                await context.tracing.stop()  # no path: the driver zips nothing

    def merged(self, frames: Sequence[Frame] = ()) -> bytes:
        """All chunks and ``frames`` as one trace.zip (cached until either changes)."""
        key = (len(self.chunks), len(frames), frames[-1][0] if frames else 0)
        if self._merged is not None and self._merged[0] == key:
            return self._merged[1]
        data = merge_chunks(self.chunks, frames)
        self._merged = (key, data)
        return data

    def delete(self) -> None:
        for path in self.chunks:
            path.unlink(missing_ok=True)
        self.chunks = []
        self._merged = None


async def start_trace(context: BrowserContext) -> None:
    """Start tracing ``context`` (a pooled one ahead of the session that will take it)."""
    await context.tracing.start(screenshots=False, snapshots=True, sources=False)


def merge_chunks(paths: list[Path], frames: Sequence[Frame] = ()) -> bytes:
    """Merge trace chunks and add ``frames`` as the film strip.

    Events stay in order, the context header appears once, and files are unioned.
    """
    events: list[str] = []
    network: list[bytes] = []
    files: dict[str, bytes] = {}
    seen_headers: set[str] = set()
    for path in paths:
        if not path.exists():
            continue
        with zipfile.ZipFile(path) as chunk:
            for name in chunk.namelist():
                if name == "trace.trace":
                    for line in chunk.read(name).decode().splitlines():
                        key = _header_key(line)
                        if key:
                            # Every chunk repeats the context header and its page events.
                            if key in seen_headers:
                                continue
                            seen_headers.add(key)
                        events.append(line)
                elif name == "trace.network":
                    network.append(chunk.read(name))
                else:
                    files[name] = chunk.read(name)
    strip, images = film_strip(events, frames)
    events += strip
    files.update(images)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as merged:
        merged.writestr("trace.trace", "\n".join(events) + "\n")
        merged.writestr("trace.network", b"".join(network))
        for name, data in files.items():
            merged.writestr(name, data)
    return out.getvalue()


def film_strip(lines: list[str], frames: Sequence[Frame]) -> tuple[list[str], dict[str, bytes]]:
    """Return screencast-frame events and their JPEG files for ``frames`` (wall-clock ms).

    Each frame goes on the trace's monotonic clock (its context-options header maps wall time
    to it) and to the page that was open at that moment.
    """
    header: dict[str, Any] | None = None
    pages: list[tuple[float, str]] = []  # (trace time, page id) of each page opened
    for line in lines:
        if _header_key(line):
            parsed = json.loads(line)
            if parsed.get("type") == "context-options":
                header = parsed
            else:
                pages.append((float(parsed.get("time", 0)), str(parsed["params"]["pageId"])))
    if header is None or not pages or not frames:
        return [], {}
    wall, monotonic = float(header["wallTime"]), float(header["monotonicTime"])
    viewport = (header.get("options") or {}).get("viewport") or {"width": 1280, "height": 720}
    # Version 10 names the file; earlier versions give a sha1 under resources/ (the viewer
    # modernizes those).
    by_file = int(header.get("version", 0)) >= 10
    events: list[str] = []
    images: dict[str, bytes] = {}
    for stamp, jpeg in frames:
        at = monotonic + (stamp - wall)
        page = next((pid for t, pid in reversed(pages) if t <= at), pages[0][1])
        name = f"{page}-{stamp}.jpeg"
        event: dict[str, Any] = {
            "type": "screencast-frame",
            "pageId": page,
            "width": viewport.get("width", 1280),
            "height": viewport.get("height", 720),
            "timestamp": at,
            "frameSwapWallTime": float(stamp),
        }
        if by_file:
            event["file"] = f"screencast/{name}"
        else:
            event["sha1"] = name
        images[event.get("file") or f"resources/{name}"] = jpeg
        events.append(json.dumps(event))
    return events, images


def _header_key(line: str) -> str:
    """Return a key for the lines every chunk repeats ("ctx", "page:<id>"), else ""."""
    if '"context-options"' not in line and '"method":"page"' not in line:
        return ""
    try:
        event = json.loads(line)
    except ValueError:
        return ""
    if event.get("type") == "context-options":
        return "ctx"
    if event.get("type") == "event" and event.get("method") == "page":
        return f"page:{event.get('params', {}).get('pageId')}"
    return ""
