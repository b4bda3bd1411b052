"""Playwright tracing per session, exported in chunks and merged into one trace.zip.

Chunks let a trace be read while the session is still open.

Tracing records screenshots (the screencast film strip) but no DOM snapshots: snapshots cost
a round trip per action, screenshots cost nothing measurable per action.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


class TraceRecorder:
    """The trace of one context: ``start``, ``export`` (while open), ``finish`` (at close)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self.chunks: list[Path] = []
        self._context: BrowserContext | None = None
        self._lock = asyncio.Lock()
        self._merged: tuple[int, bytes] | None = None

    async def start(self, context: BrowserContext) -> None:
        await context.tracing.start(screenshots=True, snapshots=False, sources=False)
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

    async def export(self) -> bytes:
        """Return the trace so far (closes the current chunk and opens the next one)."""
        async with self._lock:
            await self._cut(restart=True)
        return self.merged()

    async def finish(self) -> None:
        """Close the last chunk; call before the context closes."""
        async with self._lock:
            await self._cut(restart=False)

    def merged(self) -> bytes:
        """All chunks as one trace.zip (cached until a new chunk arrives)."""
        if self._merged is not None and self._merged[0] == len(self.chunks):
            return self._merged[1]
        data = merge_chunks(self.chunks)
        self._merged = (len(self.chunks), data)
        return data

    def delete(self) -> None:
        for path in self.chunks:
            path.unlink(missing_ok=True)
        self.chunks = []
        self._merged = None


def merge_chunks(paths: list[Path]) -> bytes:
    """Concatenate trace chunks: events in order, the context header once, files unioned."""
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
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as merged:
        merged.writestr("trace.trace", "\n".join(events) + "\n")
        merged.writestr("trace.network", b"".join(network))
        for name, data in files.items():
            merged.writestr(name, data)
    return out.getvalue()


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
