"""pytest entry point of pytest-smooth (``pytest11: smooth``); ``-p no:smooth`` disables it all.

Options and ini keys, the hook specs, the ``smooth`` marker, the report header, the end-of-run
close sweep and the terminal summary live here; fixtures and reports are in the modules below.
"""

from __future__ import annotations

from typing import Any
from typing import Final

import pytest

from pytest_smooth.expect.attempts import configure_expect
from pytest_smooth.plugin import hookspecs
from pytest_smooth.plugin.attempts import EARLIER_PROPERTY
from pytest_smooth.plugin.lifecycle import SETTINGS_KEY
from pytest_smooth.plugin.lifecycle import TRACKER_KEY
from pytest_smooth.plugin.lifecycle import LifecycleStats
from pytest_smooth.plugin.lifecycle import SessionTracker
from pytest_smooth.plugin.opening import LiveLinkPrinter
from pytest_smooth.plugin.output_dir import clean_output
from pytest_smooth.plugin.reaper import ReapResult
from pytest_smooth.plugin.reaper import reap
from pytest_smooth.plugin.report_extras import JunitSystemOut
from pytest_smooth.plugin.session_options import MARKER_LINE
from pytest_smooth.plugin.session_options import RUN_ID_INPUT
from pytest_smooth.plugin.session_options import run_id
from pytest_smooth.plugin.settings import SmoothSettings
from pytest_smooth.plugin.settings import add_options
from pytest_smooth.plugin.settings import resolve
from pytest_smooth.plugin.shared_backend import run_backend
from pytest_smooth.plugin.shared_backend import stop_run_backend

# Loaded (and rewritten) by pytest once this module is registered; never imported here.
pytest_plugins = [
    "pytest_smooth.plugin.fixtures",
    "pytest_smooth.plugin.reporting",
    "pytest_smooth.plugin.assertions",
    "pytest_smooth.plugin.budget",
    "pytest_smooth.plugin.run_folder",
    "pytest_smooth.plugin.shared_backend",
    "pytest_smooth.plugin.profiles",
    "pytest_smooth.plugin.asyncio_defaults",
    "pytest_smooth.plugin.fidelity_summary",
    "pytest_smooth.plugin.pass_rate",
]

WORKER_OUTPUT: Final = "smooth_lifecycle"
TRACKER_NAME: Final = "smooth-tracker"
PRINTER_NAME: Final = "smooth-live-links"
JUNIT_NAME: Final = "smooth-junit-system-out"
LINK_PROPERTIES: Final = ("smooth_recording_url", "smooth_live_url", "smooth_recording")
STATS_KEY: Final = pytest.StashKey[LifecycleStats]()  # merged worker stats, controller only
CRASHED_KEY: Final = pytest.StashKey[set[str]]()  # ids of xdist workers that died mid-run
REAPED_KEY: Final = pytest.StashKey[ReapResult]()  # what the orphan reaper found and closed


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_LINE)
    try:
        settings = resolve(config)
    except pytest.UsageError:
        if not (config.getoption("help", False) or config.getoption("version", False)):
            raise
        settings = SmoothSettings()  # --help must work even with a bad option in the env
    config.stash[SETTINGS_KEY] = settings
    tracker = config.stash[TRACKER_KEY] = SessionTracker(settings)
    config.pluginmanager.register(tracker, TRACKER_NAME)  # it hears about Ctrl-C
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(LiveLinkPrinter(config), PRINTER_NAME)
        config.pluginmanager.register(JunitSystemOut(config), JUNIT_NAME)
    run_id(config)
    configure_expect(default_timeout=settings.expect_timeout)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Empty the output folder of the previous run's files (not on xdist workers)."""
    clean_output(session.config, session.config.stash[SETTINGS_KEY].output)


def pytest_report_header(config: pytest.Config) -> str:
    return config.stash[SETTINGS_KEY].header()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Give each xdist worker this run's id (xdist controller)."""
    node.workerinput[RUN_ID_INPUT] = run_id(node.config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:  # noqa: ARG001
    """Collect an xdist worker's session counts and unclosed sessions; note a crashed one."""
    data = (getattr(node, "workeroutput", None) or {}).get(WORKER_OUTPUT)
    if isinstance(data, dict):
        node.config.stash.setdefault(STATS_KEY, LifecycleStats()).merge(data)
    else:  # it never reached its own sessionfinish: its sessions may still be open
        worker = (getattr(node, "workerinput", None) or {}).get("workerid")
        if worker:
            node.config.stash.setdefault(CRASHED_KEY, set()).add(str(worker))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Close every session still open (after pytest tore the fixtures down), bounded."""
    config = session.config
    tracker = config.stash.get(TRACKER_KEY, None)
    if tracker is None:
        return
    tracker.shutdown()
    workeroutput = getattr(config, "workeroutput", None)
    if isinstance(workeroutput, dict):
        workeroutput[WORKER_OUTPUT] = tracker.stats.as_dict()
    else:
        config.stash.setdefault(STATS_KEY, LifecycleStats()).merge(tracker.stats.as_dict())
        _reap_orphans(config, tracker.connection)


def _reap_orphans(config: pytest.Config, connection: tuple[str | None, str] | None) -> None:
    """Close this run's sessions that nobody closed (the controller, or the only process).

    Under xdist, those of crashed workers; without it, any of this run still open (e.g. a
    session a prewarm thread opened too late). On the local backend, only the crashed workers'
    sessions on the run's shared backend: it closes the rest itself when it stops.
    """
    settings = config.stash[SETTINGS_KEY]
    if REAPED_KEY in config.stash:
        return
    crashed = config.stash.get(CRASHED_KEY, set())
    shared = run_backend(config) if settings.backend == "local" else None
    if settings.backend == "local" and (shared is None or not crashed):
        return
    if crashed:
        workers: set[str] | None = crashed
        api_key, base_url = (
            (shared.api_key, shared.base_url) if shared else (settings.api_key, settings.base_url)
        )
    elif connection is not None:  # sessions ran here (an xdist controller runs none)
        workers = None
        api_key, base_url = connection
    else:
        return
    try:
        result = reap(api_key, base_url, run_id(config), workers)
    except Exception as err:  # e.g. no API key: report it, never an INTERNALERROR
        result = ReapResult(error=f"{type(err).__name__}: {err}")
    config.stash[REAPED_KEY] = result


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last resort when sessionfinish never ran (e.g. an error during start-up)."""
    tracker = config.stash.get(TRACKER_KEY, None)
    if tracker is not None:
        tracker.shutdown()  # a no-op when sessionfinish did it
        config.pluginmanager.unregister(tracker, TRACKER_NAME)
    stop_run_backend(config)  # after the last closes; run_folder removes its folder after this
    for name in (PRINTER_NAME, JUNIT_NAME):
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin, name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    lines = _failure_lines(terminalreporter.stats)
    stats = config.stash.get(STATS_KEY, None)
    if stats is not None and stats.opened:
        lines.append(
            f"{stats.opened} session(s) opened, {stats.closed} closed"
            + (f", {stats.kept_open} kept open after a failure" if stats.kept_open else "")
        )
    reaped = config.stash.get(REAPED_KEY, None)
    unclosed = (stats.unclosed if stats is not None else []) + (reaped.failed if reaped else [])
    if reaped is not None and reaped.error:
        lines.append(f"smooth: could not look for sessions left open: {reaped.error}")
    elif reaped is not None and reaped.found:
        by = " by crashed workers" if config.stash.get(CRASHED_KEY, None) else ""
        lines.append(f"smooth: {reaped.found} session(s) left open{by}, {reaped.reaped} reaped")
    if unclosed:
        lines.append(f"{len(unclosed)} session(s) could not be closed:")
        lines.extend(f"  {line}" for line in unclosed)
    if not lines:
        return
    terminalreporter.write_sep("=", "smooth")
    for line in lines:
        terminalreporter.write_line(line)


def _failure_lines(stats: dict[str, list[Any]]) -> list[str]:
    """Each failed test that used Smooth, with its sessions and the links in its reports.

    Read from the reports' user_properties, so it works on the xdist controller too; the
    recording URL arrives with the teardown report, which may count as passed.
    """
    links: dict[str, list[str]] = {}
    for reports in stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", None) or []:
                if name in LINK_PROPERTIES:
                    entry = f"  {name.removeprefix('smooth_')}: {value}"
                    nodeid = getattr(report, "nodeid", "")
                    if entry not in links.setdefault(nodeid, []):
                        links[nodeid].append(entry)
    lines: list[str] = []
    for report in stats.get("failed", []) + stats.get("error", []):
        props = getattr(report, "user_properties", [])
        ids = [str(value) for name, value in props if name == "smooth_session_id"]
        if not ids:
            continue
        what = "FAILED" if report.when == "call" else f"ERROR at {report.when} of"
        lines.append(f"{what} {report.nodeid}: session {', '.join(ids)}")
        lines.extend(links.get(report.nodeid, []))
    return lines + _flaky_lines(stats)


def _flaky_lines(stats: dict[str, list[Any]]) -> list[str]:
    """Each test that passed on a rerun, with its failed attempts' folders and links."""
    failed = {r.nodeid for r in stats.get("failed", []) + stats.get("error", [])}
    last: dict[str, list[tuple[str, object]]] = {}  # flaky logs every attempt's teardown
    for report in [r for reports in stats.values() for r in reports]:
        if getattr(report, "when", None) == "teardown" and report.nodeid not in failed:
            last[report.nodeid] = getattr(report, "user_properties", None) or []
    lines: list[str] = []
    for nodeid, props in last.items():
        earlier = [str(value) for name, value in props if name == EARLIER_PROPERTY]
        if earlier:
            number = next((value for name, value in props if name == "smooth_attempt"), "?")
            lines.append(f"FLAKY {nodeid}: passed on attempt {number}")
            lines.extend(f"  {line}" for line in earlier)
    return lines
