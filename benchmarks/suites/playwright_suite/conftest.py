from __future__ import annotations

import os
from typing import Any

import pytest

from benchmarks.suites.common import site
from pytest_smooth.server.browser.discovery import CHROMIUM_ARGS

__all__ = ["site"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the same Chromium binary, with the same flags, as the local backend does."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("SMOOTH_BROWSER", "/usr/bin/chromium"),
        "args": list(CHROMIUM_ARGS),
        "headless": True,
    }
