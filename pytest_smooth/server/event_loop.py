"""The local backend's event loop."""

from __future__ import annotations

import asyncio


def new_event_loop() -> asyncio.AbstractEventLoop:
    """Return a new loop: uvloop's when installed (the server extra brings it), else asyncio's.

    Each action wakes the loop several times (HTTP in, browser driver out and back, reply);
    uvloop's wake-ups and socket calls take about a quarter off an evaluate_js round trip.
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
