"""CDP screencast of a session's page: frames for the live view and the recording replay.

The latest frame feeds the live view; a bounded list of frames is kept after the session ends.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from typing import TYPE_CHECKING
from typing import Any

from pytest_smooth.server.page.secret_fields import masked_screenshot

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext
    from playwright.async_api import CDPSession
    from playwright.async_api import Page

# Modest frames: the live view is a thumbnail-sized stream, not a video master.
SCREENCAST_PARAMS: dict[str, Any] = {
    "format": "jpeg",
    "quality": 55,
    "maxWidth": 960,
    "maxHeight": 960,
    "everyNthFrame": 1,
}
MAX_FRAMES = 300
FINAL_FRAME_QUALITY = 55
MAX_FRAME_BYTES = 6 * 1024 * 1024


class FrameBuffer:
    """Frames of one session as (ms timestamp, JPEG), bounded in count and bytes.

    Past ``max_frames`` or ``max_bytes`` it drops every second frame (keeping the first and the
    newest), so the replay still spans the whole session at a coarser rate.
    """

    def __init__(self, max_frames: int = MAX_FRAMES, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.record = True  # False: keep only the latest frame (recording is off)
        self._frames: list[tuple[int, bytes]] = []
        self._bytes = 0
        self._latest: tuple[int, bytes] | None = None

    def add(self, timestamp_ms: int, jpeg: bytes) -> None:
        if self._latest is not None and timestamp_ms <= self._latest[0]:
            timestamp_ms = self._latest[0] + 1  # strictly increasing, for the replay's keys
        self._latest = (timestamp_ms, jpeg)
        if not self.record:
            return
        self._frames.append(self._latest)
        self._bytes += len(jpeg)
        while len(self._frames) > 2 and (
            len(self._frames) > self.max_frames or self._bytes > self.max_bytes
        ):
            self._thin()

    def _thin(self) -> None:
        last = self._frames[-1]
        kept = self._frames[:-1:2]
        if kept[-1] is not last:
            kept.append(last)
        self._frames = kept
        self._bytes = sum(len(f[1]) for f in kept)

    def clear(self) -> None:
        self._frames = []
        self._bytes = 0
        self._latest = None

    @property
    def frames(self) -> list[tuple[int, bytes]]:
        return list(self._frames)

    @property
    def latest(self) -> tuple[int, bytes] | None:
        return self._latest

    @property
    def size_bytes(self) -> int:
        return self._bytes


class Screencast:
    """Streams a page's frames into a FrameBuffer through a CDP session."""

    def __init__(self, buffer: FrameBuffer) -> None:
        self.buffer = buffer
        self._cdp: CDPSession | None = None
        self._acks: set[asyncio.Task[Any]] = set()
        self._stopped = False

    async def start(self, context: BrowserContext, page: Page) -> None:
        cdp = await context.new_cdp_session(page)
        if self._stopped:  # stopped while the CDP session was being made
            await cdp.detach()
            return
        self._cdp = cdp
        cdp.on("Page.screencastFrame", self._on_frame)
        await cdp.send("Page.startScreencast", SCREENCAST_PARAMS)

    async def capture(self, timeout: float = 2.0) -> bytes | None:
        """Return the page as it is now, as a frame like the stream's (None if not streaming).

        One CDP capture on the stream's own session, at the stream's quality: about a
        fifth of ``page.screenshot``'s work (no fonts wait, caret hiding or mask overlay; a
        secret field is already drawn as discs, as in every streamed frame).
        """
        cdp = self._cdp
        if cdp is None:
            return None
        params: dict[str, Any] = {
            "format": "jpeg",
            "quality": SCREENCAST_PARAMS["quality"],
            "optimizeForSpeed": True,
        }
        # No clip: a clip is in document coordinates (a scrolled page would show its top) and
        # in device pixels; without one the capture is what is on screen now.
        reply = await asyncio.wait_for(cdp.send("Page.captureScreenshot", params), timeout)
        return base64.b64decode(reply["data"])

    def _on_frame(self, params: dict[str, Any]) -> None:
        cdp = self._cdp
        if cdp is None:
            return
        meta = params.get("metadata") or {}
        stamp = meta.get("timestamp")
        ms = int(stamp * 1000) if isinstance(stamp, (int, float)) else int(time.time() * 1000)
        self.buffer.add(ms, base64.b64decode(params["data"]))
        # Chromium sends the next frame only after this ack.
        ack = asyncio.ensure_future(
            cdp.send("Page.screencastFrameAck", {"sessionId": params["sessionId"]})
        )
        self._acks.add(ack)
        ack.add_done_callback(self._ack_done)

    def _ack_done(self, task: asyncio.Task[Any]) -> None:
        self._acks.discard(task)
        if not task.cancelled():
            task.exception()  # a closed page fails its last ack; that is expected

    async def stop(self, timeout: float = 2.0) -> None:
        """Stop streaming (best effort: the page may already be gone)."""
        self._stopped = True
        cdp, self._cdp = self._cdp, None
        if cdp is None:
            return
        # The target may be closed already; then there is nothing to stop.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(cdp.send("Page.stopScreencast"), timeout)
            await asyncio.wait_for(cdp.detach(), timeout)


async def final_frame(screencast: Screencast, page: Page, frames: FrameBuffer) -> None:
    """Add the page as it is now to ``frames``: the screencast may not have sent it yet."""
    with contextlib.suppress(Exception):  # best effort: the page may be gone
        jpeg = await screencast.capture()
        if jpeg is None:
            jpeg = await masked_screenshot(page, "jpeg", 2.0, quality=FINAL_FRAME_QUALITY)
        frames.add(int(time.time() * 1000), jpeg)
