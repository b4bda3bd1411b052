"""What a pass-rate test reports: one verdict, and every attempt's evidence.

The ``smooth`` section lists each attempt (outcome, the first line of its failure, sessions,
links as the link policy allows, duration, credits, folder), the rate reached and the threshold;
JUnit gets ``smooth_pass_rate`` ("4/5 >= 4") and every attempt's session ids; ``pass_rate.json``
in the test's folder holds the same, with each attempt's start and end times.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from typing import Final

import pytest

from pytest_smooth._core.redact import Redactor
from pytest_smooth.plugin.artifacts import slug
from pytest_smooth.plugin.artifacts import write_json
from pytest_smooth.plugin.attempts import relative
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.pass_rate_run import PassRateResult
from pytest_smooth.plugin.pass_rate_sessions import Attempt

SECTION: Final = "smooth"
RATE_PROPERTY: Final = "smooth_pass_rate"
ATTEMPT_SESSION_PROPERTY: Final = "smooth_attempt_session_id"  # "3: <session id>"


def _attempt_lines(config: pytest.Config, attempt: Attempt) -> list[str]:
    head = f"attempt {attempt.number}: {attempt.outcome}"
    if attempt.outcome in ("not started",):
        return [head]
    head += f" in {attempt.duration:.2f} s, credits={attempt.credits:g}"
    lines = [head]
    if attempt.error:
        lines.append(f"  error: {attempt.error}")
    for record in attempt.records:
        lines.append(f"  session {record.id} ({record.fixture}) status={record.status}")
        lines += [f"    {name}: {url}" for name, url in record.links.items()]
    if attempt.files:
        names = ", ".join(sorted({f.name for f in attempt.files}))
        lines.append(f"  artifacts: {relative(config, attempt.folder)} ({names})")
    lines += [f"  warning: {w}" for w in attempt.warnings]
    return lines


def verdict_line(result: PassRateResult) -> str:
    """Return e.g. ``pass rate 4/5 >= 4 (threshold 4 of 5): passed``."""
    outcome = "passed" if result.tally.reached else "failed"
    return (
        f"pass rate {result.tally.verdict()} (threshold {result.spec.threshold()},"
        f" up to {result.width} at once): {outcome}"
    )


def section_lines(config: pytest.Config, result: PassRateResult) -> list[str]:
    lines = [verdict_line(result)]
    note = result.stop_note()
    if note:
        lines.append(note)
    for attempt in result.attempts:
        lines += _attempt_lines(config, attempt)
    return lines


def failure_message(result: PassRateResult) -> str:
    """Return the failed test's message: the verdict, then each failed attempt's first line."""
    lines = [f"smooth_pass_rate: {result.tally.verdict()} attempts passed"]
    note = result.stop_note()
    if note:
        lines.append(note)
    lines += [
        f"attempt {a.number} {a.outcome}: {a.error}"
        for a in result.attempts
        if a.outcome in ("failed", "skipped")
    ]
    return "\n".join(lines)


def properties(result: PassRateResult) -> list[tuple[str, object]]:
    props: list[tuple[str, object]] = [(RATE_PROPERTY, result.tally.verdict())]
    for attempt in result.attempts:
        props += [(ATTEMPT_SESSION_PROPERTY, f"{attempt.number}: {t.id}") for t in attempt.tracked]
    credits = sum(a.credits for a in result.attempts)
    props.append(("smooth_credits", credits))
    return props


def summary_data(config: pytest.Config, result: PassRateResult) -> dict[str, Any]:
    """Return the test's ``pass_rate.json``."""
    return {
        "verdict": result.tally.verdict(),
        "passed": result.tally.reached,
        "runs": result.spec.runs,
        "min_passes": result.spec.min_passes,
        "concurrency": result.width,
        "stopped": result.stop_note(),
        "attempts": [
            {
                "number": a.number,
                "outcome": a.outcome,
                "error": a.error,
                "started": a.started,
                "ended": a.ended,
                "duration": a.duration,
                "credits": a.credits,
                "sessions": [t.id for t in a.tracked],
                "folder": relative(config, a.folder),
            }
            for a in result.attempts
        ],
    }


def report_pass_rate(
    item: pytest.Item, report: pytest.TestReport, result: PassRateResult, redactor: Redactor
) -> None:
    """Put the verdict and the attempts on the call report, the item and ``pass_rate.json``."""
    lines = section_lines(item.config, result)
    folder = get_settings(item.config).output / slug(item.nodeid)
    try:
        path = write_json(
            folder / "pass_rate.json", redactor.redact_value(summary_data(item.config, result))
        )
        lines.append(f"summary: {relative(item.config, Path(path))}")
    except OSError as err:
        lines.append(f"warning: could not write pass_rate.json: {err}")
    report.sections.append((SECTION, redactor.redact("\n".join(lines))))
    props = properties(result)
    report.user_properties.extend(props)
    item.user_properties.extend(props)  # junitxml reads the teardown report's, a copy of these


def summary_lines(stats: dict[str, list[Any]]) -> list[str]:
    """One line per pass-rate test, from its call report (so on the xdist controller too)."""
    lines = []
    for reports in stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            props = getattr(report, "user_properties", None) or []
            rate = next((str(v) for name, v in props if name == RATE_PROPERTY), None)
            if rate is not None:
                outcome = "PASSED" if report.passed else "FAILED"
                lines.append(f"PASS RATE {report.nodeid}: {rate} {outcome}")
    return sorted(lines, key=lambda line: line.split(": ")[0])
