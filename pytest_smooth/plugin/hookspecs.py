"""Hook specifications of pytest-smooth: implement them in a conftest.py or a plugin.

All are called with keyword arguments; an implementation may accept any subset of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

import pytest

if TYPE_CHECKING:
    from pytest_smooth.client.sync_session import AsyncSmoothSession
    from pytest_smooth.client.sync_session import SmoothSession


def pytest_smooth_session_args(
    config: pytest.Config, item: pytest.Item | None, args: dict[str, Any]
) -> dict[str, Any] | None:
    """Adjust the options of a session about to be opened; the last word before it opens.

    ``args`` holds the merged options so far (``smooth_session_args`` fixture, then
    ``--smooth-device``/``--smooth-timeout``, then the closest ``@pytest.mark.smooth``), as
    keyword arguments of ``SmoothClient.session``. Return a dict of options to set (merged over
    ``args``, later implementations winning) or None; changing ``args`` in place also works.
    ``item`` is the test the session is for, or None for a module-scoped session.
    """


def pytest_smooth_session_created(
    session: SmoothSession | AsyncSmoothSession,
    item: pytest.Item | None,
    request: pytest.FixtureRequest,
) -> None:
    """Act on a session once it is open, before the test (or fixture) that asked for it gets it.

    ``session`` is a ``SmoothSession`` or an ``AsyncSmoothSession`` (``async_smooth_session``):
    read ``session.id`` / ``session.live_url`` here, but call no action on an async session.
    ``item`` is the test (None for a module-scoped session); ``request`` is the fixture request
    that opened it.
    """


def pytest_smooth_redact(config: pytest.Config) -> Iterable[str] | None:
    """Return secrets of the suite (passwords, tokens) to blank out of every report and artifact.

    Called once per run, before the first test, with every conftest.py loaded; the values of
    all implementations are kept. Values known only later can be registered with the
    ``smooth_redact`` fixture. Strings shorter than 4 characters are ignored.
    """
