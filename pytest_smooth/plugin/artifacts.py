"""Per-test evidence: the folder name, the event log as text and JSON, and local-backend files.

Everything here works on plain values (no pytest): the reporting hook gathers, this formats
and writes. A test's folder is ``<output>/<slug of its node id>/``; node ids are unique in a run
and xdist runs each test on one worker, so workers never write the same folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from typing import Final

from pytest_smooth._core.exceptions import ConflictError
from pytest_smooth._core.models import ActionRecord
from pytest_smooth._core.redact import Redactor

MAX_SLUG: Final = 100
INPUT_WIDTH: Final = 48
ERROR_WIDTH: Final = 60
LOCAL_ARTIFACTS: Final = ("screenshot.png", "trace.zip")
CONSOLE_LINES: Final = 5
CONSOLE_WIDTH: Final = 100

Redact = Callable[[str], str]


def slug(nodeid: str, max_len: int = MAX_SLUG) -> str:
    """Return a folder name for a node id: safe characters only; long ones truncated plus a hash."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", nodeid).strip("-.") or "test"
    if len(text) <= max_len:
        return text
    digest = hashlib.sha1(nodeid.encode()).hexdigest()[:10]
    return text[: max_len - 11].rstrip("-.") + "-" + digest


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def format_input(record: ActionRecord, redact: Redact) -> str:
    parts = []
    for key, value in record.input.items():
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        parts.append(f"{key}={shown}")
    return shorten(redact(" ".join(parts)), INPUT_WIDTH)


def format_outcome(record: ActionRecord, redact: Redact) -> str:
    if record.error:
        return f"{record.outcome}: {shorten(redact(record.error), ERROR_WIDTH)}"
    return record.outcome


def events_table(records: Iterable[ActionRecord], redact: Redact) -> list[str]:
    """Render the event log as aligned text rows (header first)."""
    rows = [("#", "action", "input", "outcome", "duration", "credits")]
    for number, record in enumerate(records, 1):
        duration = "-" if record.duration is None else f"{record.duration:.2f}s"
        rows.append(
            (
                str(number),
                record.action,
                format_input(record, redact),
                format_outcome(record, redact),
                duration,
                f"{record.credits_used:g}",
            )
        )
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def event_dicts(records: Iterable[ActionRecord], redact: Redact) -> list[dict[str, Any]]:
    """Return the records as JSON-ready dicts, every string passed through ``redact``."""
    out = []
    for record in records:
        text = redact(json.dumps(record.model_dump(mode="json"), default=str))
        out.append(json.loads(text))
    return out


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)  # readers never see a half-written file
    return path


def artifact_name(name: str, index: int) -> str:
    """``screenshot.png`` for a test's first session, ``screenshot-2.png`` for its second..."""
    if index == 0:
        return name
    stem, dot, ext = name.partition(".")
    return f"{stem}-{index + 1}{dot}{ext}"


def scrub_artifact(name: str, data: bytes, redactor: Redactor) -> bytes:
    """Blank secrets in a fetched file: every member of a zip, the text of JSON and HTML.

    The server redacts too; this is the second line of defence, on the client side. Images
    pass through (secret fields are masked before the capture).
    """
    if name.endswith(".zip"):
        try:
            return redactor.redact_zip(data)
        except zipfile.BadZipFile:
            return redactor.redact_bytes(data)
    if name.endswith(".png"):
        return data
    return redactor.redact_bytes(data)


def fetch_local_artifacts(
    fetch: Callable[[str, str], bytes],
    session_id: str,
    folder: Path,
    index: int,
    *,
    names: Iterable[str] = LOCAL_ARTIFACTS,
    redactor: Redactor | None = None,
) -> tuple[list[Path], list[str]]:
    """Save local-backend files of a session (secrets blanked); return files and warnings."""
    files: list[Path] = []
    warnings: list[str] = []
    for name in names:
        try:
            data = fetch(session_id, name)
        except ConflictError as err:  # 409: the server has none, and says why
            why = err.detail if isinstance(err.detail, str) else err
            warnings.append(f"no {name} for session {session_id}: {why}")
            continue
        except Exception as err:
            warnings.append(f"could not fetch {name} of session {session_id}: {err}")
            continue
        if redactor is not None:
            data = scrub_artifact(name, data, redactor)
        path = folder / artifact_name(name, index)
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files.append(path)
    return files, warnings


def console_errors(path: Path, limit: int = CONSOLE_LINES) -> list[str]:
    """Return the last console errors and warnings in a saved ``console.json``, one per line."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if isinstance(entries, dict):  # {"task_id", "entries": [...], "dropped"}
        entries = entries.get("entries")
    if not isinstance(entries, list):
        return []
    lines = [
        f"{entry.get('type')}: {shorten(str(entry.get('text', '')), CONSOLE_WIDTH)}"
        for entry in entries
        if isinstance(entry, dict) and entry.get("type") in ("error", "warning")
    ]
    return lines[-limit:]
