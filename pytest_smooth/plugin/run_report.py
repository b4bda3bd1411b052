"""The shape of ``<output>/report.json``: one run, its tests, their sessions, the settings.

The JSON Schema of :class:`RunReport` ships beside this module as ``report.schema.json``
(``tests/test_run_report.py`` checks it equals the model's); regenerate it with
``python -m pytest_smooth.plugin.run_report``. Paths of artifacts are relative to the output
folder, so the folder can be moved or uploaded as one CI artifact. Secrets never: the settings
have no API key, links follow ``smooth_report_links`` and every text was redacted when the
worker built it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

SCHEMA_VERSION: Final = 1
SCHEMA_PATH: Final = Path(__file__).with_name("report.schema.json")

Outcome = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")  # a newer writer's fields never break a reader


class ReportedSession(_Model):
    """One Smooth session a test used (in its last attempt)."""

    id: str
    fixture: str = Field(description="The fixture that opened it, e.g. smooth_session.")
    status: str = Field(description="The task's status when the report was written.")
    links: dict[str, str] = Field(
        default_factory=dict,
        description="recording / live URLs, as far as smooth_report_links allows them.",
    )
    credits: float = 0.0
    actions: int = Field(default=0, description="Actions this test ran on the session.")
    artifacts: list[str] = Field(
        default_factory=list, description="Its files, relative to the output folder."
    )


class Location(_Model):
    """Where a test failed: the line of the test file the failure passed through."""

    path: str = Field(description="Relative to the repository root (or pytest's rootdir).")
    line: int = Field(ge=1)


class ReportedTest(_Model):
    """One test of the run, as its last attempt ended."""

    nodeid: str
    outcome: Outcome
    flaky: bool = Field(default=False, description="Passed after failed attempts (a rerun plugin).")
    attempts: int = Field(default=1, ge=1)
    duration: float = Field(description="Seconds, every phase of every attempt (JUnit's time).")
    credits: float = Field(default=0.0, description="What its sessions cost, every attempt's.")
    message: str | None = Field(
        default=None, description="First line of the failure, if it failed."
    )
    location: Location | None = None
    sessions: list[ReportedSession] = Field(default_factory=list)
    artifacts: list[str] = Field(
        default_factory=list, description="Files of its attempts, relative to the output folder."
    )


class Totals(_Model):
    """Counts of the run's tests by outcome, and what its sessions cost."""

    tests: int = 0
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    flaky: int = 0
    sessions: int = Field(default=0, description="Sessions the tests used, every attempt's.")
    credits: float = 0.0
    duration: float = Field(default=0.0, description="Sum of the tests' durations, in seconds.")


class RunReport(_Model):
    """``report.json``: written once per run, by the xdist controller when there is one."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    settings: dict[str, str | int | float | bool | None] = Field(
        description="The pytest-smooth settings in effect (never the API key)."
    )
    totals: Totals
    tests: list[ReportedTest]


def schema_text() -> str:
    """Return the JSON Schema of :class:`RunReport` as the shipped file holds it."""
    return json.dumps(RunReport.model_json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    sys.stderr.write(f"wrote {SCHEMA_PATH}\n")
