"""The run as a whole, gathered from the logged test reports: ``report.json`` and CI reports.

Registered where reports are logged (the xdist controller, or the only process), it reads each
report as it is logged, attempt by attempt (reruns included), and at the end of the run builds
one :class:`~pytest_smooth.plugin.run_report.RunReport`: written to ``<output>/report.json``
and, in GitHub Actions, rendered as annotations and the job summary (``github.py``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth.plugin.artifacts import write_json
from pytest_smooth.plugin.github import annotation_lines
from pytest_smooth.plugin.github import in_github_actions
from pytest_smooth.plugin.github import write_step_summary
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.redaction import get_registry
from pytest_smooth.plugin.report_data import REPORT_ATTEMPT
from pytest_smooth.plugin.report_data import REPORT_FAILURE
from pytest_smooth.plugin.run_report import Location
from pytest_smooth.plugin.run_report import ReportedSession
from pytest_smooth.plugin.run_report import ReportedTest
from pytest_smooth.plugin.run_report import RunReport
from pytest_smooth.plugin.run_report import Totals
from pytest_smooth.plugin.session_options import run_id

REPORT_NAME: Final = "report.json"


@dataclass
class _Progress:
    """One test's reports so far; ``phases`` are those of the attempt now being logged."""

    nodeid: str
    attempts: int = 0
    duration: float = 0.0
    phases: dict[str, str] = field(default_factory=dict)  # when -> passed/failed/skipped/...
    failed_before: bool = False
    failure: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)  # of every attempt
    credits: float = 0.0  # of every attempt

    def add(self, report: pytest.TestReport) -> None:
        if report.when == "setup":
            if self.phases:  # a rerun: the attempt before has ended
                self.failed_before = self.failed_before or _attempt_failed(self.phases)
            self.attempts += 1
            self.phases, self.failure = {}, None
        self.duration += report.duration
        self.phases[report.when] = _phase_outcome(report)
        failure = getattr(report, REPORT_FAILURE, None)
        if isinstance(failure, dict) and self.failure is None:
            self.failure = failure
        data = getattr(report, REPORT_ATTEMPT, None)
        if isinstance(data, dict):
            self.data = data
            self.artifacts += [a for a in data.get("artifacts", []) if a not in self.artifacts]
            for session in data.get("sessions", []):
                self.session_ids.append(str(session.get("id")))
                self.credits += float(session.get("credits", 0))

    def outcome(self) -> str:
        setup, call = self.phases.get("setup", "passed"), self.phases.get("call", "passed")
        teardown = self.phases.get("teardown", "passed")
        if setup == "failed":
            return "error"
        if call == "failed":
            return "failed"
        if teardown == "failed":
            return "error"
        if "xfailed" in (setup, call):
            return "xfailed"
        if "skipped" in (setup, call):
            return "skipped"
        return "xpassed" if call == "xpassed" else "passed"


def _phase_outcome(report: pytest.TestReport) -> str:
    outcome: str = report.outcome  # pytest-rerunfailures adds "rerun"
    if outcome == "rerun":  # pytest-rerunfailures: this attempt failed, another follows
        return "failed"
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return outcome


def _attempt_failed(phases: dict[str, str]) -> bool:
    return "failed" in phases.values()


class RunCollector:
    """Gathers the logged reports; writes the run's reports at its end (one per run)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tests: dict[str, _Progress] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        progress = self.tests.get(report.nodeid)
        if progress is None:
            progress = self.tests[report.nodeid] = _Progress(report.nodeid)
        progress.add(report)

    def used_smooth(self) -> bool:
        """Tell whether the run used Smooth: a test had a session, or files were written.

        A run that never touched Smooth leaves no trace (no output folder, no summary).
        """
        if any(p.data.get("sessions") for p in self.tests.values()):
            return True
        return get_settings(self.config).output.is_dir()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """Write ``report.json`` and, in GitHub Actions only, the job summary."""
        if not self.used_smooth():
            return
        report = self.build()
        output = get_settings(self.config).output
        write_json(output / REPORT_NAME, report.model_dump(mode="json"))
        if in_github_actions():
            write_step_summary(report)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print one ``::error`` workflow command per failed test (GitHub Actions only)."""
        if not (in_github_actions() and self.used_smooth()):
            return
        for line in annotation_lines(self.build()):
            terminalreporter.write_line(line)

    def build(self) -> RunReport:
        """Return the run report of the reports logged so far."""
        tests = [self._test(p) for p in self.tests.values()]
        totals = Totals(tests=len(tests), duration=sum(t.duration for t in tests))
        for test in tests:
            setattr(totals, test.outcome, getattr(totals, test.outcome) + 1)
            totals.flaky += test.flaky
            totals.credits += test.credits
        # A module session serves several tests; each attempt of a rerun opens its own.
        totals.sessions = len({i for p in self.tests.values() for i in p.session_ids})
        return RunReport(
            run_id=run_id(self.config), settings=self._settings(), totals=totals, tests=tests
        )

    def _test(self, progress: _Progress) -> ReportedTest:
        outcome = progress.outcome()
        failure = progress.failure if outcome in ("failed", "error") else None
        location = None
        if failure is not None and failure.get("path"):
            location = Location(path=self._from_root(failure["path"]), line=int(failure["line"]))
        return ReportedTest(
            nodeid=progress.nodeid,
            outcome=outcome,  # type: ignore[arg-type]  # one of Outcome by construction
            flaky=outcome == "passed" and progress.failed_before,
            attempts=max(progress.attempts, 1),
            duration=round(progress.duration, 6),
            credits=progress.credits,
            message=failure.get("message") if failure else None,
            location=location,
            sessions=[ReportedSession(**s) for s in progress.data.get("sessions", [])],
            artifacts=progress.artifacts,
        )

    def _from_root(self, path: str) -> str:
        """Return ``path`` relative to the repository (GITHUB_WORKSPACE) or pytest's rootdir."""
        root = Path(os.environ.get("GITHUB_WORKSPACE") or self.config.rootpath)
        try:
            return Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def _settings(self) -> dict[str, str | int | float | bool | None]:
        """Return the settings in effect: the fields their repr shows (never the API key)."""
        settings = get_settings(self.config)
        redact = get_registry(self.config).scrubber().redact
        shown: dict[str, str | int | float | bool | None] = {"backend": settings.backend}
        for f in dataclasses.fields(settings):
            if not f.repr:
                continue
            value = getattr(settings, f.name)
            if isinstance(value, str | Path):
                value = redact(str(value))
            shown[f.name] = value
        return shown
