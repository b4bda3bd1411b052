"""Defaults for the plugins pytest-smooth brings in, so a first run has nothing to explain.

pytest-asyncio warns (a ``PytestDeprecationWarning``) when ``asyncio_default_fixture_loop_scope``
is unset. A project gets pytest-asyncio only because it installed pytest-smooth, so the warning
is ours to silence: when the user has not set the option, it reads as ``"function"`` (the value
pytest-asyncio's warning recommends and will default to). A user's own setting always wins.
"""

from __future__ import annotations

from typing import Final

import pytest

LOOP_SCOPE_INI: Final = "asyncio_default_fixture_loop_scope"
DEFAULT_LOOP_SCOPE: Final = "function"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Give the loop-scope option its default before pytest-asyncio reads it."""
    try:
        value = config.getini(LOOP_SCOPE_INI)
    except ValueError:  # pytest-asyncio is not loaded (-p no:asyncio): nothing to default
        return
    if not value:
        # getini caches what it read; pytest-asyncio's own getini then sees this value.
        config._inicache[LOOP_SCOPE_INI] = DEFAULT_LOOP_SCOPE
