"""pytest-smooth: browser-driven end-to-end tests on Smooth, with an embedded local backend."""

from __future__ import annotations

__version__ = "0.1.0"
