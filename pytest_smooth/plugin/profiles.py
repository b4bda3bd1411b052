"""``smooth_profile``: log in once, and share the signed-in profile across tests, workers, runs.

``smooth_profile(name, login, *, max_age=None, check=None, session_args=None)`` returns the id
of a profile in which ``login(session)`` ran: once per run across every xdist worker, and reused
by later runs while younger than ``max_age`` (seconds or a ``timedelta``) and ``check(session)``
(run on the profile, read-only) neither raises nor returns False. ``login`` and ``check`` may be
``async def``: they then get an ``AsyncSmoothSession`` in an event loop of their own. The
mechanics are in ``profile_login.py``; where things are kept, in ``profile_store.py``.
"""

from __future__ import annotations

import pytest

from pytest_smooth.plugin.profile_login import ProfileLogins

__all__ = ["smooth_profile"]


@pytest.fixture(scope="session")
def smooth_profile(
    pytestconfig: pytest.Config,
    smooth_client: object,
    _smooth_connection: tuple[str | None, str],
) -> ProfileLogins:
    """Give ``smooth_profile(name, login, *, max_age=None, check=None)`` -> a profile id."""
    from pytest_smooth.client.sync_client import SmoothClient

    assert isinstance(smooth_client, SmoothClient)  # a user's override must still be one
    return ProfileLogins(pytestconfig, smooth_client, _smooth_connection)
