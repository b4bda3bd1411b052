"""Suite-wide set-up: the shop under test, options for every session, and one plugin hook."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
from shop_app import ShopServer

from pytest_smooth import AsyncSmoothSession
from pytest_smooth import SmoothSession

logger = logging.getLogger("shop_e2e")
# INFO on this logger only: its lines reach a failed test's "Captured log" without the INFO
# chatter of every other library.
logger.setLevel(logging.INFO)


@pytest.fixture(scope="session")
def shop_url() -> Iterator[str]:
    """Return the shop's base URL: $SHOP_URL when set, else a shop served here on loopback.

    On the cloud backend the browser runs at Smooth, so it cannot reach 127.0.0.1: expose the
    shop somewhere public and point SHOP_URL at it (see README.md).
    """
    if url := os.environ.get("SHOP_URL"):
        yield url.rstrip("/")
        return
    with ShopServer() as shop:
        yield shop.url


@pytest.fixture(scope="session")
def smooth_session_args(smooth_session_args: dict[str, Any], shop_url: str) -> dict[str, Any]:
    """Keep every session of the suite on the shop: a stray link fails instead of wandering off."""
    return {**smooth_session_args, "allowed_urls": [f"{shop_url}/**"]}


def pytest_smooth_session_created(
    session: SmoothSession | AsyncSmoothSession,
    item: pytest.Item | None,
    request: pytest.FixtureRequest,
) -> None:
    """Log which test got which session, so a log line leads to its recording."""
    owner = item.nodeid if item is not None else request.node.nodeid
    logger.info("%s runs in Smooth session %s", owner, session.id)
