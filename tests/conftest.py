"""Shared test set-up. Area fixtures live in tests/fixtures_*.py, loaded here."""

from __future__ import annotations

pytest_plugins = [
    "tests.fixtures_server",
]
