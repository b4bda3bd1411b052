from __future__ import annotations

import os
from typing import Any

import pytest

from benchmarks.suites.common import site

__all__ = ["site"]


@pytest.fixture(scope="session")
def smooth_session_args() -> dict[str, Any]:
    """BENCH_RECORDING=0: sessions without recording (no frames, no Playwright trace)."""
    return {"enable_recording": os.environ.get("BENCH_RECORDING", "1") != "0"}
