"""The files of one attempt's folder, per session: page state, local-backend artifacts, recording.

Which files are saved follows ``--smooth-screenshot``, ``--smooth-tracing`` and
``--smooth-recording``; every file goes through the run's redactor before it is written.
Each function returns the section lines, the files and the warnings; none raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Final

import pytest

from pytest_smooth._core.redact import Redactor
from pytest_smooth.plugin.artifacts import artifact_name
from pytest_smooth.plugin.artifacts import console_errors
from pytest_smooth.plugin.artifacts import fetch_local_artifacts
from pytest_smooth.plugin.failure_page import read_page
from pytest_smooth.plugin.failure_page import write_page
from pytest_smooth.plugin.lifecycle import Tracked
from pytest_smooth.plugin.lifecycle import get_settings
from pytest_smooth.plugin.lifecycle import get_tracker

SCREENSHOT: Final = "screenshot.png"
TRACE: Final = "trace.zip"
CONSOLE: Final = "console.json"
RECORDING: Final = "recording.html"
PAGE: Final = "page.html"


@dataclass
class Gathered:
    """What gathering one session's evidence produced."""

    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: Gathered) -> None:
        self.lines += other.lines
        self.files += other.files
        self.warnings += other.warnings


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def page_state(t: Tracked, folder: Path, index: int, redactor: Redactor) -> Gathered:
    """Read the page's URL, title and DOM (``page.html``) through the test's own session."""
    out = Gathered()
    if t.is_async:
        out.lines.append("  page: not read (an async session is busy in the test's event loop)")
        return out
    try:
        state = read_page(t.session, redactor)
        out.files.append(write_page(folder, artifact_name(PAGE, index), state))
    except Exception as err:
        out.warnings.append(f"could not read the page of session {t.id}: {_describe(err)}")
        return out
    out.lines.append(f"  page: {state.title!r} at {state.url}")
    return out


def local_files(
    item: pytest.Item,
    t: Tracked,
    folder: Path,
    index: int,
    redactor: Redactor,
    *,
    failed: bool,
) -> Gathered:
    """Screenshot, trace (and at a failure the console) of an open local-backend session."""
    settings = get_settings(item.config)
    names = [
        name
        for name, artifact in ((SCREENSHOT, "screenshot"), (TRACE, "tracing"))
        if settings.keeps(artifact, failed=failed)
    ]
    if failed:
        names.append(CONSOLE)
    out = Gathered()
    client = get_tracker(item.config).service_client()
    if not names or client is None:
        return out
    got, warned = fetch_local_artifacts(
        client.artifact, t.id, folder, index, names=names, redactor=redactor
    )
    out.files += got
    out.warnings += warned
    for path in got:
        if path.name == artifact_name(CONSOLE, index):
            errors = console_errors(path)
            if errors:
                out.lines.append("  console (last errors and warnings):")
                out.lines.extend(f"    {redactor.redact(line)}" for line in errors)
    return out


def recording_file(
    item: pytest.Item, t: Tracked, folder: Path, index: int, redactor: Redactor
) -> Gathered:
    """Save a closed local-backend session's ``recording.html`` (it plays with no server)."""
    out = Gathered()
    client = get_tracker(item.config).service_client()
    if client is None:
        return out
    got, warned = fetch_local_artifacts(
        client.artifact, t.id, folder, index, names=[RECORDING], redactor=redactor
    )
    out.files += got
    out.warnings += [f"no recording of session {t.id}: {w.partition(': ')[2]}" for w in warned]
    return out
