from __future__ import annotations

from benchmarks.suites.common import site

__all__ = ["site"]
