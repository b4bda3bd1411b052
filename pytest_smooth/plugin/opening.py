"""Opening sessions for the fixtures: backend choice, options, tracking, announcing, closing.

The fixtures in ``fixtures.py`` stay a few lines each; what they share lives here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.admission import open_admitted
from pytest_smooth.plugin.admission import open_admitted_async
from pytest_smooth.plugin.attempts import evidence_wanted
from pytest_smooth.plugin.lifecycle import CLOSE_TIMEOUT
from pytest_smooth.plugin.lifecycle import ITEM_FAILED
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.lifecycle import get_tracker
from pytest_smooth.plugin.lifecycle import item_sessions
from pytest_smooth.plugin.prewarm import take_prewarmed
from pytest_smooth.plugin.profile_store import profiles_dir
from pytest_smooth.plugin.session_options import SessionOptionError
from pytest_smooth.plugin.session_options import session_args
from pytest_smooth.plugin.settings import SERVER_EXTRA_HINT
from pytest_smooth.plugin.settings import SmoothSettings
from pytest_smooth.plugin.settings import playwright_installed
from pytest_smooth.plugin.shared_backend import BackendStartError
from pytest_smooth.plugin.shared_backend import SharedServer
from pytest_smooth.plugin.shared_backend import acquire

if TYPE_CHECKING:
    from pytest_smooth.client.sync_client import AsyncSmoothClient
    from pytest_smooth.client.sync_client import SmoothClient
    from pytest_smooth.client.sync_session import AsyncSmoothSession
    from pytest_smooth.client.sync_session import SmoothSession

# The test now in setup/call/teardown; a module session attributes its actions to it.
CURRENT_ITEM: Final = pytest.StashKey[pytest.Item]()
MODULE_FIXTURE: Final = "smooth_module_session"
# A test's sync sessions whose fixtures are done, waiting to be closed after its teardown report.
ITEM_PENDING: Final = pytest.StashKey[list[Tracked]]()
# Live-view lines an xdist worker could not print, and the report attribute that carries them.
ITEM_ANNOUNCE: Final = pytest.StashKey[list[str]]()
REPORT_ANNOUNCE: Final = "smooth_announce"


def start_local_server(settings: SmoothSettings, config: pytest.Config) -> SharedServer:
    """Connect to the run's shared backend (starting it), or fail with how to get a browser."""
    if not playwright_installed():
        pytest.fail(f"the local backend needs Playwright: {SERVER_EXTRA_HINT}", pytrace=False)
    from pytest_smooth.server.browser.discovery import BrowserNotFoundError
    from pytest_smooth.server.browser.discovery import find_browser

    try:
        find_browser(settings.browser)  # fails early with a message that says how to get one
        # profiles: shared by workers and runs (profile_store)
        return acquire(config, settings, profiles_dir(config))
    except BrowserNotFoundError as err:
        pytest.fail(f"pytest-smooth local backend: {err}", pytrace=False)
    except BackendStartError as err:
        pytest.fail(f"pytest-smooth local backend: {err}", pytrace=False)


def connection(request: pytest.FixtureRequest) -> tuple[str | None, str]:
    """Return the API key and base URL of the backend in effect (starting a local one)."""
    settings = get_settings(request.config)
    api_key: str | None
    if settings.backend == "local":
        server: SharedServer = request.getfixturevalue("smooth_server")
        api_key, base_url = server.api_key, server.base_url
    else:
        api_key, base_url = settings.api_key, settings.base_url
    get_tracker(request.config).connect(api_key, base_url)
    return api_key, base_url


def _build(
    request: pytest.FixtureRequest,
    base: Mapping[str, Any],
    item: pytest.Item | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    try:
        return session_args(request, get_settings(request.config), base, item=item, extra=extra)
    except SessionOptionError as err:
        pytest.fail(str(err), pytrace=False)


def _item_of(request: pytest.FixtureRequest) -> pytest.Item | None:
    return request.node if isinstance(request.node, pytest.Item) else None


def _nodeid(request: pytest.FixtureRequest, item: pytest.Item | None) -> str:
    return item.nodeid if item is not None else str(request.node.nodeid)


def _sayer(request: pytest.FixtureRequest, item: pytest.Item | None) -> Callable[[str], None]:
    """Return a function that puts a line on the terminal now (a worker's: on its report)."""
    config = request.config

    def say(line: str) -> None:
        if not hasattr(config, "workerinput"):
            write_lines(config, [line])
        elif item is not None:  # shown by the controller's LiveLinkPrinter
            item.stash.setdefault(ITEM_ANNOUNCE, []).append(line)

    return say


def _track(
    request: pytest.FixtureRequest, session: Any, fixture: str, item: pytest.Item | None
) -> Tracked:
    config = request.config
    current = item or config.stash.get(CURRENT_ITEM, None)
    tracked = Tracked(
        session=session,
        fixture=fixture,
        owner=item.nodeid if item else request.node.nodeid,
        shared=item is None,
        is_async=fixture.startswith("async"),
    )
    get_tracker(config).add(tracked)
    session.local_strict = get_settings(config).local_strict  # approximations: error or warn
    if current is not None:
        session.label = current.nodeid
        item_sessions(current).append(tracked)
    announce(config, session, current.nodeid if current else tracked.owner, current)
    return tracked


def announce(config: pytest.Config, session: Any, nodeid: str, item: pytest.Item | None) -> None:
    """Print the live URL on the terminal (-v or links=live) and as a GitHub notice (live)."""
    live = session.live_url
    settings = get_settings(config)
    if not live or settings.report_links == "none":
        return
    lines = []
    # A live URL is a credential: under the default policy it is shown only to a person at
    # an interactive terminal (-v), never written into a log that CI keeps and shares.
    wanted = config.get_verbosity() > 0 and terminal_is_interactive(config)
    if settings.report_links == "live" or wanted:
        lines.append(f"smooth: live view of {nodeid} (session {session.id}): {live}")
    if os.environ.get("GITHUB_ACTIONS") == "true" and settings.report_links == "live":
        lines.append(f"::notice title=Smooth live view::{nodeid}: {live}")
    if not lines:
        return
    if hasattr(config, "workerinput"):
        # An xdist worker's terminal is not shown: the lines ride on this phase's report to
        # the controller, which prints them (LiveLinkPrinter).
        if item is not None:
            item.stash.setdefault(ITEM_ANNOUNCE, []).extend(lines)
        return
    write_lines(config, lines)


def terminal_is_interactive(config: pytest.Config) -> bool:
    """Whether pytest's terminal is a real TTY (never on an xdist worker, whose output is piped)."""
    try:
        return bool(config.get_terminal_writer()._file.isatty())
    except (AttributeError, ValueError):
        return False


def write_lines(config: pytest.Config, lines: list[str]) -> None:
    """Write lines on the terminal now, past pytest's output capturing."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    capman = config.pluginmanager.get_plugin("capturemanager")
    # The test's output is being captured; write past it, as live logging does.
    with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
        # xdist's progress dots do not count for ensure_newline(); start a fresh line anyway.
        if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):
            reporter.write("\n")
        for line in lines:
            reporter.write_line(line)


class LiveLinkPrinter:
    """On the xdist controller: print the live-view lines that workers put on their reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        lines = getattr(report, REPORT_ANNOUNCE, None)
        if isinstance(lines, list) and lines:
            write_lines(self.config, [str(line) for line in lines])


def attach_announcements(item: pytest.Item, report: pytest.TestReport) -> None:
    """Worker side: move the test's pending live-view lines onto this report."""
    lines = item.stash.get(ITEM_ANNOUNCE, None)
    if lines:
        setattr(report, REPORT_ANNOUNCE, list(lines))
        lines.clear()


def _keep_seconds(request: pytest.FixtureRequest, item: pytest.Item | None) -> float:
    """How long to keep this session open: only a failed test's own sessions are kept."""
    if item is None or not item.stash.get(ITEM_FAILED, False):
        return 0.0
    return get_settings(request.config).keep_open_on_failure


def _created(request: pytest.FixtureRequest, session: Any, item: pytest.Item | None) -> None:
    request.config.hook.pytest_smooth_session_created(session=session, item=item, request=request)


@contextlib.contextmanager
def open_session(
    request: pytest.FixtureRequest,
    client: SmoothClient,
    base: Mapping[str, Any],
    fixture: str,
    extra: Mapping[str, Any] | None = None,
) -> Iterator[SmoothSession]:
    """Open, track and finally close (or keep open after a failure) one sync session."""
    item = _item_of(request)
    args = _build(request, base, item, extra)
    session = take_prewarmed(request, fixture, args) or open_admitted(
        request, args, _nodeid(request, item), lambda a: client.session(**a), _sayer(request, item)
    )
    tracked = _track(request, session, fixture, item)
    tracker = get_tracker(request.config)
    try:
        _created(request, session, item)
        yield session
    finally:
        if item is not None:
            # Closed right after this test's teardown report, so a teardown failure in a later
            # finalizer still finds the session open for its screenshot (release_after_test).
            item.stash.setdefault(ITEM_PENDING, []).append(tracked)
        else:
            tracker.close(tracked)


def release_after_test(item: pytest.Item) -> None:
    """Close the test's sync sessions, or keep them open for a person when the test failed."""
    tracker = get_tracker(item.config)
    keep = get_settings(item.config).keep_open_on_failure
    failed = item.stash.get(ITEM_FAILED, False)
    wanted = evidence_wanted(item)
    for tracked in item.stash.get(ITEM_PENDING, []):
        if failed and keep > 0:
            tracker.keep_open(tracked, keep)
        else:
            tracked.session.keep_evidence = wanted
            tracker.close(tracked)
    item.stash[ITEM_PENDING] = []


@contextlib.asynccontextmanager
async def open_async_session(
    request: pytest.FixtureRequest,
    client: AsyncSmoothClient,
    base: Mapping[str, Any],
    fixture: str,
) -> AsyncIterator[AsyncSmoothSession]:
    """Open, track and close one async session, awaiting the close in the test's loop."""
    item = _item_of(request)
    args = _build(request, base, item, None)
    session = await open_admitted_async(
        request, args, _nodeid(request, item), lambda a: client.session(**a), _sayer(request, item)
    )
    tracked = _track(request, session, fixture, item)
    tracker = get_tracker(request.config)
    try:
        _created(request, session, item)
        yield session
    finally:
        keep = _keep_seconds(request, item)
        if keep > 0:
            tracker.keep_open(tracked, keep)
        elif tracker.is_open(tracked.id):
            try:
                await session.close(timeout=CLOSE_TIMEOUT)
            except Exception as err:
                tracker.failed_to_close(tracked, err)
            else:
                tracker.closed(tracked)
