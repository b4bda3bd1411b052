"""The fixtures of pytest-smooth (loaded by the entry point through ``pytest_plugins``).

Nothing starts until a test asks: the local backend comes up with the first session of the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

import pytest
import pytest_asyncio

from pytest_smooth._core.types import NOT_GIVEN
from pytest_smooth._core.types import NotGiven
from pytest_smooth.plugin.attempts import note_shared
from pytest_smooth.plugin.attempts import start_attempt
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.plugin.lifecycle import item_sessions
from pytest_smooth.plugin.opening import CURRENT_ITEM
from pytest_smooth.plugin.opening import MODULE_FIXTURE
from pytest_smooth.plugin.opening import connection
from pytest_smooth.plugin.opening import open_async_session
from pytest_smooth.plugin.opening import open_session
from pytest_smooth.plugin.opening import start_local_server
from pytest_smooth.plugin.prewarm import Prewarmer
from pytest_smooth.plugin.prewarm import prewarming
from pytest_smooth.plugin.redaction import get_registry
from pytest_smooth.plugin.settings import SmoothSettings

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import AsyncSmoothClient
    from pytest_smooth.client.sync_client import SmoothClient
    from pytest_smooth.client.sync_session import AsyncSmoothSession
    from pytest_smooth.client.sync_session import SmoothSession
    from pytest_smooth.plugin.shared_backend import SharedServer

# Set once this plugin's smooth_server started: then its stop, and the sweep that closes the
# sessions before it, wait for the last test's teardown report (its evidence needs them).
OWN_SERVER = pytest.StashKey[bool]()


def _timeout(settings: SmoothSettings) -> float | NotGiven:
    # An unset --smooth-timeout means "the client's default", which None would disable.
    return NOT_GIVEN if settings.timeout is None else settings.timeout


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before each attempt's fixtures: reset its state, point shared sessions at this test."""
    start_attempt(item)  # first: a rerun of this item starts from a clean slate
    get_registry(item.config).ask_hooks(item.config)
    item.config.stash[CURRENT_ITEM] = item
    for tracked in get_tracker(item.config).open_sessions():
        if tracked.shared:
            tracked.session.label = item.nodeid
            if MODULE_FIXTURE in getattr(item, "fixturenames", ()):
                note_shared(item, tracked)
                item_sessions(item).append(tracked)


@pytest.fixture(scope="session")
def smooth_settings(pytestconfig: pytest.Config) -> SmoothSettings:
    """Give the run's resolved pytest-smooth settings (CLI > ini > env > default)."""
    return get_settings(pytestconfig)


@pytest.fixture(scope="session")
def smooth_session_args() -> dict[str, Any]:
    """Session options for the whole suite; override it in a conftest.py (e.g. device)."""
    return {}


@pytest.fixture(scope="session")
def smooth_redact(pytestconfig: pytest.Config) -> Callable[..., None]:
    """Give ``smooth_redact(*values)``: blank these values out of every report and artifact."""
    return get_registry(pytestconfig).add


@pytest.fixture(scope="session")
def smooth_server(pytestconfig: pytest.Config) -> SharedServer:
    """Give the run's local backend, shared by every xdist worker (started on first use).

    Its own process, stopped by the controller once every worker is done (``shared_backend``).
    """
    server = start_local_server(get_settings(pytestconfig), pytestconfig)
    pytestconfig.stash[OWN_SERVER] = True  # not a user's own smooth_server fixture
    return server


@pytest.fixture(scope="session")
def _smooth_connection(request: pytest.FixtureRequest) -> Iterator[tuple[str | None, str]]:
    yield connection(request)
    # Torn down before the backend (even a user's own smooth_server): close what is still open;
    # when the backend outlives this teardown (ours, or the cloud), after the last test's report.
    tracker = get_tracker(request.config)
    if (
        request.config.stash.get(OWN_SERVER, False)
        or get_settings(request.config).backend != "local"
    ):
        tracker.defer(tracker.close_all)
    else:
        tracker.close_all()


@pytest.fixture(scope="session")
def smooth_client(
    pytestconfig: pytest.Config,
    _smooth_connection: tuple[str | None, str],
    smooth_settings: SmoothSettings,
) -> Iterator[SmoothClient]:
    """Give a SmoothClient for the backend in effect, closed at the end of the run."""
    from pytest_smooth.client.sync_client import SmoothClient

    api_key, base_url = _smooth_connection
    client = SmoothClient(api_key, base_url, timeout=_timeout(smooth_settings))
    get_registry(pytestconfig).link(client.redactor)
    tracker = get_tracker(pytestconfig)
    try:
        yield client
    finally:
        # Its sessions close through it: before it goes, after the last test's teardown report.
        tracker.defer(tracker.close_all)
        tracker.defer(client.close)


@pytest.fixture(scope="session")
def _smooth_prewarmer(
    request: pytest.FixtureRequest,
    smooth_client: SmoothClient,
    smooth_session_args: dict[str, Any],
) -> Iterator[Prewarmer | None]:
    """Sessions opened ahead (``--smooth-prewarm=N``); the ones no test took close at the end."""
    with prewarming(request, smooth_client, smooth_session_args) as pool:
        yield pool


@pytest_asyncio.fixture
async def async_smooth_client(
    request: pytest.FixtureRequest,
    _smooth_connection: tuple[str | None, str],
    smooth_settings: SmoothSettings,
) -> AsyncIterator[AsyncSmoothClient]:
    """Give an AsyncSmoothClient for the backend in effect, in the test's own event loop."""
    # Function scope: an async HTTP pool belongs to the loop that made it, and this works with
    # whatever loop scope the test uses.
    from pytest_smooth.client.sync_client import AsyncSmoothClient

    api_key, base_url = _smooth_connection
    async with AsyncSmoothClient(api_key, base_url, timeout=_timeout(smooth_settings)) as client:
        get_registry(request.config).link(client.redactor)
        yield client


@pytest.fixture
def smooth_session(
    request: pytest.FixtureRequest,
    smooth_client: SmoothClient,
    smooth_session_args: dict[str, Any],
) -> Iterator[SmoothSession]:
    """Open a fresh session for this test, closed after it (its evidence is kept on failure)."""
    with open_session(request, smooth_client, smooth_session_args, "smooth_session") as session:
        yield session


@pytest.fixture(scope="module")
def smooth_module_session(
    request: pytest.FixtureRequest,
    smooth_client: SmoothClient,
    smooth_session_args: dict[str, Any],
) -> Iterator[SmoothSession]:
    """Open one session shared by a module's tests; each test's report shows its own events."""
    with open_session(request, smooth_client, smooth_session_args, MODULE_FIXTURE) as session:
        yield session


@pytest_asyncio.fixture
async def async_smooth_session(
    request: pytest.FixtureRequest,
    async_smooth_client: AsyncSmoothClient,
    smooth_session_args: dict[str, Any],
) -> AsyncIterator[AsyncSmoothSession]:
    """Open a fresh async session for this test (the twin of smooth_session)."""
    fixture = "async_smooth_session"
    async with open_async_session(
        request, async_smooth_client, smooth_session_args, fixture
    ) as session:
        yield session


@pytest.fixture
def new_smooth_session(
    request: pytest.FixtureRequest,
    smooth_client: SmoothClient,
    smooth_session_args: dict[str, Any],
) -> Iterator[Callable[..., SmoothSession]]:
    """Give a factory: ``new_smooth_session(device="mobile")`` opens one more session."""
    with contextlib.ExitStack() as stack:

        def factory(**options: Any) -> SmoothSession:
            return stack.enter_context(
                open_session(
                    request, smooth_client, smooth_session_args, "new_smooth_session", options
                )
            )

        yield factory
