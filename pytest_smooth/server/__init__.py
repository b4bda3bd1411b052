"""The embedded Smooth-compatible local backend (placeholder until the server lands)."""

from __future__ import annotations
