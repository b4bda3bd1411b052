"""Fixtures for tests that need the local backend (filled in with the server)."""

from __future__ import annotations
