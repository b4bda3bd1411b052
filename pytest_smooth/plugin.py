"""pytest entry point for pytest-smooth (placeholder until the plugin lands)."""

from __future__ import annotations
