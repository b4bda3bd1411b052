"""GitHub Actions: an ``::error`` annotation per failed test, and the job summary.

Only when ``GITHUB_ACTIONS=true``; outside GitHub Actions nothing here writes anything. Both
are rendered from the run report (``run_report.RunReport``), whose texts were redacted where
the tests ran and whose links follow ``smooth_report_links``. Workflow commands are escaped as
the runner unescapes them (``%25``, ``%0D``, ``%0A``; in properties also ``%3A`` and ``%2C``).
"""

from __future__ import annotations

import os
from typing import Final

from pytest_smooth.plugin.run_report import ReportedTest
from pytest_smooth.plugin.run_report import RunReport

FAILED: Final = ("failed", "error")
SUMMARY_TITLE: Final = "pytest-smooth"


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """Escape a workflow command's message (after the ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (``file=``, ``title=``...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_lines(report: RunReport) -> list[str]:
    """Return one ``::error`` command per failed test, at the line it failed at."""
    lines = []
    for test in report.tests:
        if test.outcome not in FAILED:
            continue
        props: list[tuple[str, str]] = []
        if test.location is not None:
            props += [("file", test.location.path), ("line", str(test.location.line))]
        props.append(("title", f"{test.nodeid} {test.outcome}"))
        body = [test.message or test.outcome]
        for session in test.sessions:
            links = ", ".join(f"{name} {url}" for name, url in session.links.items())
            body.append(f"Smooth session {session.id}" + (f": {links}" if links else ""))
        head = ",".join(f"{name}={escape_property(value)}" for name, value in props)
        lines.append(f"::error {head}::{escape_data(chr(10).join(body))}")
    return lines


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ") or " "


def _sessions_cell(test: ReportedTest) -> str:
    return "<br>".join(f"`{s.id}` ({s.status})" for s in test.sessions) or "-"


def _links_cell(test: ReportedTest) -> str:
    links = [f"[{name}]({url})" for s in test.sessions for name, url in s.links.items()]
    return " ".join(links) or "-"


def summary_markdown(report: RunReport) -> str:
    """Return the job summary: totals, the failed and flaky tests, the run's credits."""
    t = report.totals
    counts = [
        f"{value} {name}"
        for name, value in (
            ("passed", t.passed),
            ("failed", t.failed),
            ("errors", t.error),
            ("skipped", t.skipped),
            ("xfailed", t.xfailed),
            ("xpassed", t.xpassed),
            ("flaky", t.flaky),
        )
        if value
    ]
    lines = [
        f"## {SUMMARY_TITLE}",
        "",
        f"**{t.tests} tests**: {', '.join(counts) or 'none ran'} in {t.duration:.1f} s; "
        f"{t.sessions} Smooth session(s), {t.credits:g} credits.",
        "",
    ]
    shown = [test for test in report.tests if test.outcome in FAILED or test.flaky]
    if shown:
        lines += [
            "| test | outcome | attempts | sessions | links | credits | duration |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for test in shown:
            outcome = "flaky" if test.flaky else test.outcome
            row = [
                f"`{_cell(test.nodeid)}`",
                outcome + (f": {_cell(test.message)}" if test.message else ""),
                str(test.attempts),
                _sessions_cell(test),
                _links_cell(test),
                f"{test.credits:g}",
                f"{test.duration:.2f} s",
            ]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    lines.append(f"Run `{report.run_id}`; the run report is `report.json` in the output folder.")
    return "\n".join(lines) + "\n"


def write_step_summary(report: RunReport) -> None:
    """Append the summary to ``$GITHUB_STEP_SUMMARY``, when the runner names that file."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as out:
        out.write(summary_markdown(report))
