"""Shared test set-up. Area fixtures live in tests/fixtures_*.py, loaded here."""

from __future__ import annotations

# httpx imports httpcore lazily, on its first request, and keeps the map of httpcore's exception
# classes from then on. A first request made inside an in-process pytester run would import
# httpcore there, and pytester's sys.modules snapshot would drop it afterwards: later requests
# then raise a second copy's classes that httpx no longer maps (a raw httpcore.ReadError instead
# of httpx.ReadError). Importing it here keeps one copy for the whole run.
import httpcore  # noqa: F401

pytest_plugins = [
    "tests.fixtures_server",
]
